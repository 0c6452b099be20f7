#pragma once
// Elliptic problems as cases (physics.equation: elliptic): -div(k grad u) + c u = f on a
// Cartesian box, solved once by PETSc KSP, the FFT solver or DCDM. `aeolus run` solves and
// writes output/solution.nc and the solver's statistics to logs/run.json; `aeolus dataset` and
// `aeolus train` produce the DCDM model of the case (trained on the same problem at
// dcdm.train_n).
#include <mpi.h>

#include "io/yaml_schema.hpp"
#include "tools/app/case_config.hpp"
#include "tools/app/driver.hpp"

namespace aeolus::app {

// True if the case file's physics.equation is elliptic (read without consuming the key).
bool is_elliptic_case(io::Section& root);
// Reads every section of an elliptic case (grid, physics, solver, output, log, dcdm) and
// rejects unknown keys; fills c.elliptic and c.output.
void load_elliptic_case(io::Section& root, CaseConfig& c);

// The case's problem with its boundary functions (from the manufactured solution or the
// configured constants); on dcdm.train_n panels if `training_grid`.
EllipticProblem elliptic_problem(const CaseConfig& c, bool training_grid = false);

RunResult run_elliptic_case(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt);
void generate_elliptic_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite);
void train_elliptic_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);

}  // namespace aeolus::app
