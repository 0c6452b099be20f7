#pragma once
// The configuration of an elliptic case (physics.equation: elliptic).

#include "emulators/dcdm_model.hpp"
#include "physics/elliptic_problems.hpp"
#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// physics.equation: elliptic (-div(k grad u) + c u = f on a Cartesian box): the problem, its
// data and the solver (tools/app/elliptic_case.cpp reads and runs it).
struct EllipticCaseConfig : CaseSettings {
  EllipticProblem problem;  // boundary kinds here; boundary functions are set at run time
  // Boundary values per face when the source is not manufactured: Dirichlet u or Neumann
  // du/dn (outward), constants.
  std::array<std::array<real_t, 2>, 3> boundary_values{};
  physics::DarcyPermeabilityParams coefficient;  // k (type constant: k = value everywhere)
  std::string source = "manufactured";           // manufactured | constant | file
  physics::ManufacturedParams manufactured;      // source manufactured: u exact, f and BCs
  real_t source_value = 1.0;                     // source constant
  std::string source_file, source_variable = "f";
  std::string solver = "ksp";  // ksp | fft | dcdm (aeolus run --solver overrides)
  KspParams ksp;               // options: the PETSc options of solver ksp
  DcdmParams dcdm;
  std::string model = "models/dcdm.pt";  // solver dcdm, relative to the case
  // DCDM training (aeolus dataset / train): the operator of the same problem on train_n.
  std::array<index_t, 3> train_n{64, 64, 1};
  emulators::DcdmNetParams net;
  emulators::DcdmDatasetParams dataset;
  emulators::DcdmTrainingParams training;
};

}  // namespace aeolus::app
