// Benchmark: start-up of the aeolus program (--version, --help, check) against exec of /bin/true
//
//   tools/bench startup [runs] [AEOLUS]
//   build/bin/bench_startup 20 /tmp/old/bin/aeolus      (another build of the program)
//
// Each command is started `runs` times (default 20) with fork + execv from this process, its
// stdout and stderr going to /dev/null, and timed from fork to the end of waitpid; the table
// gives the median and the largest wall time, and the median over that of /bin/true (the cost
// of starting any program here, measured in the same process, the reference). The commands:
// `aeolus --version`, `aeolus --help` and `aeolus check` of cases/advection-2d and
// cases/williamson-tc1 (cases without a neural network; the launcher answers them itself, see
// tools/aeolus_main.cpp), with OMP_WAIT_POLICY as this process has it. A command that exits with
// another code than it should is reported and fails the benchmark.
// Goals (issue 18): --help and --version under 0.1 s, check under 0.3 s (medians). Timings
// depend on the load of the machine (other builds): `uptime` is printed with them.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifndef AEOLUS_PROGRAM
#error "AEOLUS_PROGRAM (the path of the built aeolus) must be defined"
#endif
#ifndef AEOLUS_SOURCE_DIR
#error "AEOLUS_SOURCE_DIR must be defined"
#endif

using clock_type = std::chrono::steady_clock;

namespace {

struct Command {
  std::string label;
  std::vector<std::string> argv;
  int expected_rc = 0;
  double goal_s = 0.0;  // 0: no goal (the reference)
};

// Runs argv once with stdout and stderr on /dev/null; returns the wall time in seconds, and the
// exit code (or 128 + signal) in *rc.
double time_once(const std::vector<std::string>& argv, int* rc) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto t0 = clock_type::now();
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("bench_startup: fork");
    std::exit(1);
  }
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return s;
}

struct Row {
  double median = 0.0, max = 0.0;
  int bad_rc = -1;  // the first unexpected exit code, -1 if none
};

Row measure(const Command& c, int runs) {
  std::vector<double> t;
  Row r;
  int rc = 0;
  time_once(c.argv, &rc);  // warm-up: page cache, dynamic loader cache
  for (int i = 0; i < runs; ++i) {
    t.push_back(time_once(c.argv, &rc));
    if (rc != c.expected_rc && r.bad_rc < 0) r.bad_rc = rc;
  }
  std::sort(t.begin(), t.end());
  const std::size_t n = t.size();
  r.median = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  r.max = t.back();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  const std::string aeolus = argc > 2 ? argv[2] : AEOLUS_PROGRAM;
  if (runs < 1) {
    std::fprintf(stderr, "usage: bench_startup [runs >= 1] [path of aeolus]\n");
    return 2;
  }
  const std::string cases = std::string(AEOLUS_SOURCE_DIR) + "/cases/";
  const std::vector<Command> commands = {
      {"/bin/true (reference)", {"/bin/true"}, 0, 0.0},
      {"aeolus --version", {aeolus, "--version"}, 0, 0.1},
      {"aeolus --help", {aeolus, "--help"}, 0, 0.1},
      {"aeolus check advection-2d", {aeolus, "check", cases + "advection-2d"}, 0, 0.3},
      {"aeolus check williamson-tc1", {aeolus, "check", cases + "williamson-tc1"}, 0, 0.3},
  };
  std::printf("start-up of %s, %d runs each after one warm-up\n", aeolus.c_str(), runs);
  std::fflush(stdout);
  if (std::system("uptime") != 0) std::printf("(uptime not available)\n");
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("OMP_WAIT_POLICY %s\n\n", policy ? policy : "unset");
  std::printf("  %-28s %10s %10s %10s %8s  %s\n", "command", "median s", "max s", "/ true",
              "goal s", "met");
  double reference = 0.0;
  bool ok = true;
  for (const auto& c : commands) {
    const Row r = measure(c, runs);
    if (reference == 0.0) reference = r.median;
    std::printf("  %-28s %10.4f %10.4f %10.1f", c.label.c_str(), r.median, r.max,
                r.median / reference);
    if (c.goal_s > 0.0) {
      std::printf(" %8.2f  %s", c.goal_s, r.median < c.goal_s ? "yes" : "NO");
    }
    if (r.bad_rc >= 0) {
      std::printf("  (exit code %d, expected %d)", r.bad_rc, c.expected_rc);
      ok = false;
    }
    std::printf("\n");
  }
  return ok ? 0 : 1;
}
