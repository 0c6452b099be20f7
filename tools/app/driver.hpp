#pragma once
// The time-stepping loop shared by every stepper, and the other subcommands of `aeolus`.
// All functions are collective over `comm`; files are written by rank 0 only.
#include <mpi.h>

#include <functional>
#include <memory>
#include <string>

#include "solvers/stepper.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

struct RunOptions {
  std::string stepper;     // overrides stepper.type when not empty
  std::string solver;      // elliptic cases: overrides solver.type when not empty
  bool restart = false;    // continue from the newest checkpoint
  bool overwrite = false;  // replace output/ and checkpoints/ of an earlier run
  bool quiet = false;      // no progress lines on the terminal (logs still written)
  // Stop cleanly after this many steps of this invocation (0: run to t_end), leaving a
  // checkpoint and the unfinished output to continue with --restart: splits a long run over
  // several batch jobs, and is how the restart tests interrupt a run.
  long long stop_after_steps = 0;
};

struct RunResult {
  long long steps = 0;
  real_t t = 0;
  real_t mass_initial = 0, mass_final = 0;
  std::string output_path;
};

// Stepper registry: name -> factory. Built in: classical, emulator. Tests and coupled codes
// may register their own before loading a case (the schema accepts every registered name).
using StepperFactory =
    std::function<std::unique_ptr<Stepper>(const CaseConfig&, const CartesianGrid&)>;
void register_stepper(const std::string& name, StepperFactory factory);
std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                      const CartesianGrid& grid);

// The grid of the case with the halo the classical scheme needs.
std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c);

// Fill q with the case's initial condition (analytic or from a NetCDF file).
void set_initial_condition(const CaseConfig& c, Field& q);
// Fill q from variable `var` of the NetCDF file `path`: shape = the grid's (z, y, x), units =
// `units`, all values finite; otherwise IoError naming the file, the variable (and `key`, the
// case.yaml key that named it) and what was expected. Collective.
void read_initial_field(const std::string& path, const std::string& var, const std::string& units,
                        const std::string& key, Field& q);

RunResult run_case(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt);
void generate_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite);
void train_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);
void evaluate_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);

}  // namespace aeolus::app
