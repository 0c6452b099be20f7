#pragma once
// Progress lines for long loops (dataset generation, training, evaluation): a meter that is
// told after every iteration how far the loop is, and passes a line to its sink at most once
// per interval of wall time (and always for the first and the last item):
//
//   adam 1200/5000  loss 1.234e-03  elapsed 25.1s  ETA 1.3min
//
// One clock read per update() and nothing else unless a line is due, so it can sit in any
// loop whose iteration is not per cell. Torch-free and MPI-free: the caller's sink decides
// where the line goes (tools/app's RunLog prints on rank 0 and appends to the case's log).
#include <functional>
#include <string>

namespace aeolus {

// Where progress lines go; an empty sink makes a meter silent.
using ProgressSink = std::function<void(const std::string&)>;

// A duration for a log line: "12.3s", "4.5min", "2.25h"; "?" for a negative or non-finite value.
std::string human_seconds(double seconds);
// A number in scientific notation for a progress line: format_sci(1.2345e-3) = "1.234e-03".
std::string format_sci(double v, int digits = 3);

class ProgressMeter {
 public:
  // Seconds from an arbitrary origin; tests pass a fake clock.
  using Clock = std::function<double()>;

  // `phase` starts every line ("adam", "epoch", "trajectory"); `total` items are expected
  // (<= 0: unknown, no ETA). `first_done`: items already done when the meter starts (a resumed
  // run); the ETA uses only the rate since then. Default clock: std::chrono::steady_clock.
  ProgressMeter(ProgressSink sink, std::string phase, long long total, double interval_s = 10.0,
                long long first_done = 0, Clock clock = {});

  // True if update(done, ...) would emit a line: the first update, the first time the last
  // item is reached (done >= total), or `interval` seconds since the last line. Reads the
  // clock once.
  bool due(long long done);
  // Reports that `done` of `total` items are complete; emits a line if due(done). `detail`
  // (e.g. "loss 1.23e-03") goes between the count and the times. Returns whether it emitted.
  bool update(long long done, const std::string& detail = "");
  // Emits a line now, due or not.
  void emit(long long done, const std::string& detail = "");
  // The line for `done` items at `elapsed` seconds since the meter started.
  std::string format(long long done, const std::string& detail, double elapsed) const;

  double elapsed() const { return now() - start_; }
  long long total() const { return total_; }
  bool active() const { return static_cast<bool>(sink_); }

 private:
  double now() const;

  ProgressSink sink_;
  std::string phase_;
  long long total_;
  double interval_;
  long long first_done_;
  Clock clock_;
  double start_ = 0;
  double last_line_ = 0;  // clock reading of the last line
  double now_ = 0;        // clock reading of the last due() call
  bool emitted_ = false;
  bool final_emitted_ = false;  // a line for done >= total was emitted
};

}  // namespace aeolus
