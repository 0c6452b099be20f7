// The aeolus command line in the application library (see cli.hpp): parse the arguments,
// dispatch the subcommand, and one catch that prints a single line and returns non-zero.
//
//   aeolus run cases/advection-2d
//   mpirun -n 4 aeolus run cases/advection-2d --overwrite
//   aeolus dataset cases/advection-2d && aeolus train cases/advection-2d
//   aeolus run cases/advection-2d --stepper emulator --overwrite && aeolus eval cases/advection-2d
#include "tools/app/cli.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/yaml_schema.hpp"
#include "tools/app/cli_help.hpp"
#include "tools/app/driver.hpp"
#include "tools/app/version.hpp"

namespace {

using aeolus::app::main_help;
using aeolus::app::subcommand_help;
using aeolus::app::subcommand_names;

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
    if (is_root()) std::cout << main_help();
    return a.help ? 0 : 2;
  }
  if (!subcommand_help(a.command)) {
    const std::string hint = aeolus::io::did_you_mean(a.command, subcommand_names());
    throw aeolus::ConfigError("unknown subcommand '" + a.command + "'" +
                              (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                              "; see aeolus --help");
  }
  if (a.help) {
    if (is_root()) std::cout << subcommand_help(a.command);
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
    case_commands(c).validate(c);
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

// The launcher has set OMP_WAIT_POLICY (unless the user did) before it loaded this library, and
// so before libgomp loaded: no re-execution is needed here.
extern "C" int aeolus_app_main(int argc, char** argv) {
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
