#pragma once
// Elliptic problems as cases (physics.equation: elliptic): -div(k grad u) + c u = f on a
// Cartesian box, solved once by PETSc KSP, the FFT solver or DCDM. elliptic_config.cpp reads
// the case; elliptic_case.cpp registers its commands. `aeolus run` solves (one solve, outside
// the time loop) and writes output/solution.nc and the solver's statistics to logs/run.json;
// `aeolus dataset` and `aeolus train` produce the DCDM model of the case (trained on the same
// problem at dcdm.train_n).
#include "solvers/elliptic.hpp"
#include "tools/app/elliptic_config.hpp"

namespace aeolus::app {

// The case's problem with its boundary functions (from the manufactured solution or the
// configured constants); on dcdm.train_n panels if `training_grid`.
EllipticProblem elliptic_problem(const CaseConfig& c, bool training_grid = false);

}  // namespace aeolus::app
