// The help texts of aeolus (see cli_help.hpp). Plain strings: this file links nothing heavy.
#include "tools/app/cli_help.hpp"

#include <map>
#include <string>
#include <vector>

namespace aeolus::app {

namespace {

const char* const kMainHelp =
    R"(aeolus - classical PDE solvers and neural emulators in one time-stepping loop

usage: aeolus SUBCOMMAND [options] CASE_DIR [PETSc options]
       aeolus --help | --version
       aeolus SUBCOMMAND --help

subcommands:
  run      run a case (classical or emulator stepper); writes output/, checkpoints/, logs/
  check    validate CASE_DIR/case.yaml and print the resolved configuration
  dataset  generate a training dataset (seeded random trajectories) under CASE_DIR/data/
  train    train the case's emulator on CASE_DIR/data/; saves CASE_DIR/models/
  eval     run classical and emulator steppers from the same held-out initial states and
           write R^2, RMSE and mass error per output time to CASE_DIR/eval/

Every subcommand works under MPI (mpirun -n N aeolus ...). dataset, train and eval print a
progress line (phase, item/total, loss or time, elapsed, ETA) at least every 10 s, also to
CASE_DIR/logs/{dataset,train,eval}.log. Options that start with a single
dash (e.g. -log_view) go to PETSc. Errors print one line naming what was wrong and exit 1.
)";

const std::map<std::string, std::string> kHelp = {
    {"run", R"(usage: aeolus run CASE_DIR [--stepper NAME | --solver NAME] [--restart | --overwrite]
                  [--quiet] [PETSc options]

Runs the case in CASE_DIR (case.yaml) from its initial condition to time.t_end; an elliptic
case (physics.equation: elliptic) is solved once instead (see below).
  --stepper NAME  classical | emulator (default: stepper.type in case.yaml)
  --solver NAME   elliptic cases: ksp | fft | dcdm (default: solver.type in case.yaml);
                  PETSc options on the command line (-ksp_type cg -pc_type hypre ...)
                  override solver.ksp.options
  --restart       continue from the newest complete checkpoint in CASE_DIR/checkpoints/;
                  the final state is bitwise identical to an uninterrupted run
  --overwrite     replace output/ and checkpoints/ left by an earlier run (without it, a run
                  refuses to touch them)
  --quiet         no progress lines on the terminal (CASE_DIR/logs/run.log still gets them)
  --stop-after-steps N
                  stop cleanly after N steps, with a checkpoint, leaving output/FILE.nc.part
                  to be continued by --restart (splits a run over batch jobs)
Writes:
  output/FILE.nc     CF-1.8 NetCDF-4, one file for any rank count, frames every
                     output.interval (written as FILE.nc.part, renamed when complete)
  checkpoints/       ckpt_<step>.nc every checkpoint.every_steps steps and at the end
  logs/run.log       progress: step, time, dt, CFL, total mass, wall time, ETA
  logs/run.json      provenance: version, git hash, config hash, ranks, start/end time, status
  logs/config.resolved.yaml   the configuration with every default filled in
A NaN or Inf in the state stops the run with an error; the last good checkpoint stays intact.
Elliptic cases write output/FILE.nc (u, f, k, and u_exact and the error for manufactured
solutions) and the solver's iterations, residual, times and error norms to logs/run.json.
)"},
    {"check", R"(usage: aeolus check CASE_DIR

Validates CASE_DIR/case.yaml against the schema without running: unknown keys (with the
closest valid key), wrong types and out-of-range values are reported with file:line.
On success prints the resolved configuration (all defaults filled in) and exits 0.
)"},
    {"dataset", R"(usage: aeolus dataset CASE_DIR [--overwrite]

Generates data/train.nc, data/valid.nc and data/test.nc: dataset.train/valid/test
trajectories of dataset.frames frames spaced dataset.dt_frame apart, from random-blob initial
conditions (dataset.blobs_min/max, radius_min/max, amplitude_min/max) and velocities (dataset.velocity:
'case' or 'random_constant' with |u| in [dataset.speed_min, dataset.speed_max]), computed by the
classical stepper; seeds are dataset.seed + index (+100000 valid, +200000 test).
Refuses to replace existing files unless --overwrite.
Elliptic cases: data/dcdm_train.nc, the DCDM training right-hand sides built from Ritz vectors
of the case's operator on dcdm.train_n (dcdm.dataset: ritz, samples, valid, low_weight, seed).
Progress lines (trajectory/sample/year ... item/total, elapsed, ETA) at least every 10 s, to the
terminal and logs/dataset.log.
)"},
    {"train", R"(usage: aeolus train CASE_DIR [--overwrite]

Trains the emulator described in the 'emulator' section on data/train.nc (validation on
data/valid.nc) and saves it to emulator.model (default models/emulator.pt) together with its
normalisation statistics, architecture and time step, plus a per-epoch CSV log next to it and
logs/train.json. Uses emulator.threads threads on rank 0.
Elliptic cases: trains the DCDM network (dcdm: channels, blocks, training) on
data/dcdm_train.nc and saves it to solver.dcdm.model (default models/dcdm.pt).
Progress lines (batch, epoch, adam, lbfgs or iteration: item/total, loss, elapsed, ETA) at least
every 10 s, to the terminal and logs/train.log.
)"},
    {"eval", R"(usage: aeolus eval CASE_DIR [--overwrite]

Runs the classical and the emulator steppers side by side from eval.trajectories held-out
initial conditions (the test split's seeds) for eval.steps emulator steps, and writes
eval/metrics.json and eval/metrics.nc: R^2 (coefficient of determination), RMSE and the
relative total-mass error at every step.
Progress lines (steps done/total, elapsed, ETA) at least every 10 s, to the terminal and
logs/eval.log.
)"},
};

}  // namespace

const char* main_help() { return kMainHelp; }

const char* subcommand_help(const std::string& name) {
  const auto it = kHelp.find(name);
  return it == kHelp.end() ? nullptr : it->second.c_str();
}

std::vector<std::string> subcommand_names() {
  std::vector<std::string> names;
  for (auto& kv : kHelp) names.push_back(kv.first);
  return names;
}

}  // namespace aeolus::app
