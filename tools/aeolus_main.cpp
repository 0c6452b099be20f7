// aeolus: the command-line program, a small launcher. It answers --version, the help texts and
// `aeolus check CASE_DIR` (with the case readers compiled in: tools/CMakeLists.txt) itself; for
// everything else it sets OMP_WAIT_POLICY, loads the application library (libaeolus_app: the
// case types, PETSc, MPI, LibTorch and their ~340 shared libraries) with dlopen and calls
// aeolus_app_main (tools/app/cli.cpp), so that the answers that need none of it do not pay for
// loading it.
//
//   aeolus run cases/advection-2d
//   mpirun -n 4 aeolus run cases/advection-2d --overwrite
//   aeolus dataset cases/advection-2d && aeolus train cases/advection-2d
//   aeolus run cases/advection-2d --stepper emulator --overwrite && aeolus eval cases/advection-2d
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "tools/app/case_type.hpp"
#include "tools/app/cli_help.hpp"
#include "tools/app/version.hpp"

// Where the application library lies relative to this program's directory, in the build tree
// and in the install tree (compile definitions from tools/CMakeLists.txt).
#ifndef AEOLUS_APP_LIBRARY_BUILD
#error "AEOLUS_APP_LIBRARY_BUILD (e.g. ../lib/libaeolus_app.so) must be defined"
#endif
#ifndef AEOLUS_APP_LIBRARY_INSTALL
#define AEOLUS_APP_LIBRARY_INSTALL AEOLUS_APP_LIBRARY_BUILD
#endif

namespace {

// True when this process is one rank of a job started by an MPI launcher (mpirun/mpiexec of
// OpenMPI, MPICH or Intel MPI, or Slurm's srun). There the answers that depend on the job go to
// the application: help is printed by rank 0 only, and `check` checks the rank count.
bool under_mpi_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK",
                        "PMIX_RANK", "PMI_FD", "MPI_LOCALNRANKS", "SLURM_PROCID"}) {
    if (std::getenv(v)) return true;
  }
  return false;
}

bool is_help_flag(const char* s) {
  return std::strcmp(s, "--help") == 0 || std::strcmp(s, "-h") == 0;
}

// Prints what `aeolus ARGS` prints when ARGS only ask for the version or a help text, and gives
// its exit code; -1 for everything else, which the application answers. Only argument lists
// whose answer is certain are taken here (help flags with at most a known subcommand and a
// case directory): unknown options and subcommands go to the application, whose error messages
// (with their did-you-mean hints) stay the only ones.
int answer_here(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("aeolus %s (%s)\n", AEOLUS_VERSION, AEOLUS_GIT_HASH);
      return 0;
    }
  }
  if (under_mpi_launcher()) return -1;
  if (argc == 1) {
    std::fputs(aeolus::app::main_help(), stdout);
    return 2;
  }
  bool help = false;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    if (is_help_flag(argv[i])) {
      help = true;
    } else if (argv[i][0] == '-') {
      return -1;
    } else {
      positional.push_back(argv[i]);
    }
  }
  if (!help || positional.size() > 2) return -1;
  if (positional.empty()) {
    std::fputs(aeolus::app::main_help(), stdout);
    return 0;
  }
  const char* text = aeolus::app::subcommand_help(positional[0]);
  if (!text) return -1;
  std::fputs(text, stdout);
  return 0;
}

// The case directory when the arguments are exactly `check CASE_DIR`, else empty.
std::string plain_check_case(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "check") == 0 && argv[2][0] != '-') return argv[2];
  return {};
}

// The directory of this program (from /proc/self/exe, so symbolic links to it work too).
std::string program_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  buf[n] = '\0';
  std::string path(buf);
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// The application library: next to this program as the build tree places it, else as the
// install tree does (bin/ and lib/). When neither exists, the build tree's path (for the error).
std::string app_library_path() {
  const std::string dir = program_dir();
  const std::string build = dir + "/" + AEOLUS_APP_LIBRARY_BUILD;
  const std::string install = dir + "/" + AEOLUS_APP_LIBRARY_INSTALL;
  if (access(build.c_str(), F_OK) != 0 && access(install.c_str(), F_OK) == 0) return install;
  return build;
}

}  // namespace

int main(int argc, char** argv) {
  const int rc = answer_here(argc, argv);
  if (rc >= 0) return rc;

  // The check fast path: `aeolus check CASE_DIR` outside an MPI job is answered here by the
  // case readers compiled into this program (no MPI, PETSc or LibTorch), with the output, error
  // line and exit code of the application's check. A case whose check needs more (a CUDA
  // device it names, which only LibTorch can confirm) and any MPI job (the rank count) go to
  // the application library.
  if (const std::string case_dir = plain_check_case(argc, argv);
      !case_dir.empty() && !under_mpi_launcher()) {
    try {
      if (aeolus::app::check_command(case_dir)) return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "aeolus: error: %s\n", e.what());  // as aeolus_app_main's catch
      return 1;
    }
  }

  // GNU OpenMP (torch's thread pool) spins while its threads wait; on a machine shared with
  // other jobs (or MPI ranks) two spinning threads train ~10x slower than one. libgomp reads
  // OMP_WAIT_POLICY only when it loads, which is below (it comes with LibTorch): set it first.
  // An explicit setting is respected.
  setenv("OMP_WAIT_POLICY", "passive", 0);

  // RTLD_GLOBAL: OpenMPI loads its components (mca_*.so) with dlopen, and they need libmpi's
  // symbols in the global scope.
  const std::string lib = app_library_path();
  void* handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) {
    std::fprintf(stderr, "aeolus: error: cannot load %s: %s\n", lib.c_str(), dlerror());
    return 1;
  }
  using AppMain = int (*)(int, char**);
  auto app_main = reinterpret_cast<AppMain>(dlsym(handle, "aeolus_app_main"));
  if (!app_main) {
    std::fprintf(stderr, "aeolus: error: cannot load %s: %s\n", lib.c_str(), dlerror());
    return 1;
  }
  return app_main(argc, argv);
}
