// aeolus: the command-line program. One catch here prints a single line and exits non-zero.
//
//   aeolus run cases/advection-2d
//   mpirun -n 4 aeolus run cases/advection-2d --overwrite
//   aeolus dataset cases/advection-2d && aeolus train cases/advection-2d
//   aeolus run cases/advection-2d --stepper emulator --overwrite && aeolus eval cases/advection-2d
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/yaml_schema.hpp"
#include "tools/app/driver.hpp"
#include "tools/app/version.hpp"

namespace {

const char* kMainHelp =
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

struct Args {
  std::string command;
  std::string case_dir;
  aeolus::app::RunOptions run;
  bool help = false;
};

bool is_root() { return aeolus::comm_rank(PETSC_COMM_WORLD) == 0; }

// Until the case is loaded no rank has communicated, and every rank parses the same arguments
// and the same case.yaml, so an error there is the same on all ranks: they can all return
// without aborting the job.
bool setup_done = false;

Args parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> positional;
  const std::vector<std::string> flags{"--stepper", "--restart",          "--overwrite", "--quiet",
                                       "--solver",  "--stop-after-steps", "--help"};
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      a.help = true;
    } else if (s == "--stepper") {
      if (i + 1 >= argc)
        throw aeolus::ConfigError("--stepper needs a value (classical or emulator)");
      a.run.stepper = argv[++i];
    } else if (s == "--solver") {
      if (i + 1 >= argc) throw aeolus::ConfigError("--solver needs a value (ksp, fft or dcdm)");
      a.run.solver = argv[++i];
    } else if (s.rfind("--solver=", 0) == 0) {
      a.run.solver = s.substr(9);
    } else if (s.rfind("--stepper=", 0) == 0) {
      a.run.stepper = s.substr(10);
    } else if (s == "--stop-after-steps") {
      if (i + 1 >= argc) throw aeolus::ConfigError("--stop-after-steps needs a step count");
      const std::string v = argv[++i];
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (!end || *end || n < 1) {
        throw aeolus::ConfigError("--stop-after-steps " + v + ": expected a positive integer");
      }
      a.run.stop_after_steps = n;
    } else if (s == "--restart") {
      a.run.restart = true;
    } else if (s == "--overwrite") {
      a.run.overwrite = true;
    } else if (s == "--quiet") {
      a.run.quiet = true;
    } else if (s.rfind("--", 0) == 0) {
      const std::string hint = aeolus::io::did_you_mean(s, flags);
      throw aeolus::ConfigError("unknown option '" + s + "'" +
                                (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                "; see aeolus --help");
    } else if (s.size() > 1 && s[0] == '-') {
      // A PETSc option; skip its value if the next word is not an option.
      if (i + 1 < argc && argv[i + 1][0] != '-') ++i;
    } else {
      positional.push_back(s);
    }
  }
  if (!positional.empty()) a.command = positional[0];
  if (positional.size() > 1) a.case_dir = positional[1];
  if (positional.size() > 2) {
    throw aeolus::ConfigError("unexpected argument '" + positional[2] + "'; see aeolus --help");
  }
  return a;
}

int dispatch(const Args& a) {
  using namespace aeolus::app;
  if (a.command.empty()) {
    if (is_root()) std::cout << kMainHelp;
    return a.help ? 0 : 2;
  }
  if (!kHelp.count(a.command)) {
    std::vector<std::string> names;
    for (auto& kv : kHelp) names.push_back(kv.first);
    const std::string hint = aeolus::io::did_you_mean(a.command, names);
    throw aeolus::ConfigError("unknown subcommand '" + a.command + "'" +
                              (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                              "; see aeolus --help");
  }
  if (a.help) {
    if (is_root()) std::cout << kHelp.at(a.command);
    return 0;
  }
  if (a.case_dir.empty()) {
    throw aeolus::ConfigError("aeolus " + a.command + " needs a CASE_DIR; see aeolus " + a.command +
                              " --help");
  }
  if (a.command != "run" && (!a.run.stepper.empty() || !a.run.solver.empty() || a.run.restart ||
                             a.run.quiet || a.run.stop_after_steps > 0)) {
    throw aeolus::ConfigError(
        "--stepper, --solver, --restart, --quiet and --stop-after-steps apply to 'aeolus run' "
        "only");
  }
  const CaseConfig c = load_case(a.case_dir);
  MPI_Comm comm = PETSC_COMM_WORLD;
  check_rank_count(c, aeolus::comm_size(comm));
  setup_done = true;
  if (a.command == "check") {
    if (is_root()) {
      std::cout << "# " << c.file << ": valid (config hash " << c.config_hash << ")\n"
                << c.resolved_yaml << std::endl;
    }
  } else if (a.command == "run") {
    run_case(comm, c, a.run);
  } else if (a.command == "dataset") {
    generate_dataset(comm, c, a.run.overwrite);
  } else if (a.command == "train") {
    train_case(comm, c, a.run.overwrite);
  } else if (a.command == "eval") {
    evaluate_case(comm, c, a.run.overwrite);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // GNU OpenMP (torch's thread pool) spins while its threads wait; on a machine shared with
  // other jobs (or MPI ranks) two spinning threads train ~10x slower than one. libgomp reads
  // OMP_WAIT_POLICY only when it loads, so set it and start again, before MPI is initialised;
  // an explicit setting is respected.
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("aeolus %s (%s)\n", AEOLUS_VERSION, AEOLUS_GIT_HASH);
      return 0;
    }
  }
  int rc = 0;
  try {
    aeolus::PetscSession session(&argc, &argv);
    try {
      rc = dispatch(parse(argc, argv));
    } catch (const std::exception& e) {
      // Collective errors are thrown on every rank with the same text: rank 0 speaks.
      if (is_root()) std::fprintf(stderr, "aeolus: error: %s\n", e.what());
      rc = 1;
      if (aeolus::comm_size(PETSC_COMM_WORLD) > 1 && setup_done) {
        // An error seen by one rank only would leave the others waiting in a collective call:
        // end them all rather than hang a batch job.
        // Other ranks wait briefly so that, when rank 0 has the same error, its abort ends them
        // before they repeat the message; a rank with an error of its own still reports it.
        if (!is_root()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
          std::fprintf(stderr, "aeolus: error (rank %d): %s\n", aeolus::comm_rank(PETSC_COMM_WORLD),
                       e.what());
        }
        std::fflush(stderr);
        MPI_Abort(PETSC_COMM_WORLD, rc);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aeolus: error: %s\n", e.what());
    rc = 1;
  }
  return rc;
}
