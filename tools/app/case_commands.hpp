#pragma once
// The case-type registry, command side: what `aeolus run`, `dataset`, `train` and `eval` do for
// each case type. A case type registers one CaseCommands under the name of its CaseReader
// (tools/app/case_type.hpp), in its own NAME_case.cpp, with AEOLUS_REGISTER_CASE_COMMANDS; the
// subcommands look it up by CaseConfig::type and never compare type strings.
//
// A case that advances a state in time derives from TimeSteppingCase: its `run` is the common
// time loop (time_loop.cpp: step choice, landing on output and event times, finiteness checks,
// progress lines, outputs, checkpoints, restart), given the case's grid, stepper and model. A
// case whose work is one solve or a training overrides `run` (or leaves the default, which
// says the case has nothing to run) and says so in its header.
//
// All functions are collective over `comm`; files are written by rank 0 only.
#include <mpi.h>

#include <functional>
#include <memory>
#include <string>

#include "solvers/stepper.hpp"
#include "tools/app/case_type.hpp"

namespace aeolus::app {

class CaseModel;

struct RunOptions {
  std::string stepper;     // overrides stepper.type when not empty
  std::string solver;      // elliptic and Hamiltonian cases: overrides the solver/integrator
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

class CaseCommands {
 public:
  virtual ~CaseCommands() = default;
  // aeolus run. Default: a ConfigError saying the case has nothing to run.
  virtual RunResult run(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) const;
  // aeolus dataset / train / eval. Default: a ConfigError saying the case type has none.
  virtual void dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) const;
  virtual void train(MPI_Comm comm, const CaseConfig& c, bool overwrite) const;
  virtual void eval(MPI_Comm comm, const CaseConfig& c, bool overwrite) const;
  // Checks of the case that need more than the reader has (e.g. that a CUDA device named by
  // the case exists in this LibTorch), run before every command, `aeolus check` included.
  virtual void validate(const CaseConfig& c) const { (void)c; }
};

// A case that advances fields in time through a Stepper: `run` is the common time loop.
class TimeSteppingCase : public CaseCommands {
 public:
  RunResult run(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) const override;
  // The decomposition of the case, with the halo its classical scheme needs.
  virtual std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) const = 0;
  // The built-in steppers of the case type ("classical", "emulator", ...): ConfigError naming
  // the case file if the case type has none of that name.
  virtual std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                                const CartesianGrid& grid) const = 0;
  // What is stepped, written and diagnosed.
  virtual std::unique_ptr<CaseModel> make_model(const CaseConfig& c,
                                                const CartesianGrid& grid) const = 0;
  // True where the state is a few numbers (an ODE system: particles, a neural ODE's state), as
  // PETSc's TS holds an ODE in a Vec of a few entries on one process: rank 0 alone runs the
  // loop, on a grid of MPI_COMM_SELF, and the other ranks wait for its result (or its error).
  // The run directory, run.json and the rank count it records are those of the whole job.
  virtual bool steps_on_root() const { return false; }
};

// Adds the commands of case type `name` (at static initialisation, through the macro).
bool register_case_commands(const std::string& name, std::unique_ptr<CaseCommands> commands);
// The commands of the case's type (std::logic_error if the type registered none).
const CaseCommands& case_commands(const CaseConfig& c);
// The case's commands as a TimeSteppingCase; ConfigError naming the case if it does not step.
const TimeSteppingCase& time_stepping_case(const CaseConfig& c);

// Stepper registry for tests and coupled codes: a stepper registered here under a name is
// used by every time-stepping case for that name, before the case type's built-in steppers.
using StepperFactory =
    std::function<std::unique_ptr<Stepper>(const CaseConfig&, const CartesianGrid&)>;
void register_stepper(const std::string& name, StepperFactory factory);
// The registered factory of `name`, else the case type's built-in stepper.
std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                      const CartesianGrid& grid);
// The case's decomposition and model (its case type's).
std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c);

// The subcommands, dispatched through the registry.
RunResult run_case(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt);
void generate_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite);
void train_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);
void evaluate_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);

}  // namespace aeolus::app

// In the case type's own NAME_case.cpp, inside namespace aeolus::app:
//   AEOLUS_REGISTER_CASE_COMMANDS("NAME", Type)
#define AEOLUS_REGISTER_CASE_COMMANDS(name, Type)                            \
  namespace {                                                                \
  const bool aeolus_case_commands_registered_##Type =                        \
      ::aeolus::app::register_case_commands(name, std::make_unique<Type>()); \
  }
