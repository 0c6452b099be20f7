#include "grids/progress.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

#include "grids/format.hpp"

namespace aeolus {

std::string human_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 120) return fmt("%.1fs", s);
  if (s < 7200) return fmt("%.1fmin", s / 60);
  return fmt("%.2fh", s / 3600);
}

std::string format_sci(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", digits, v);
  return buf;
}

ProgressMeter::ProgressMeter(ProgressSink sink, std::string phase, long long total,
                             double interval_s, long long first_done, Clock clock)
    : sink_(std::move(sink)),
      phase_(std::move(phase)),
      total_(total),
      interval_(interval_s),
      first_done_(first_done),
      clock_(std::move(clock)) {
  start_ = now();
  last_line_ = start_;
  now_ = start_;
}

double ProgressMeter::now() const {
  if (clock_) return clock_();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool ProgressMeter::due(long long done) {
  if (!sink_) return false;
  now_ = now();
  return !emitted_ || (total_ > 0 && done >= total_ && !final_emitted_) ||
         now_ - last_line_ >= interval_;
}

bool ProgressMeter::update(long long done, const std::string& detail) {
  if (!due(done)) return false;
  emit(done, detail);
  return true;
}

void ProgressMeter::emit(long long done, const std::string& detail) {
  if (!sink_) return;
  now_ = now();
  last_line_ = now_;
  emitted_ = true;
  if (total_ > 0 && done >= total_) final_emitted_ = true;
  sink_(format(done, detail, now_ - start_));
}

std::string ProgressMeter::format(long long done, const std::string& detail,
                                  double elapsed) const {
  std::string s = phase_ + ' ' + std::to_string(done);
  if (total_ > 0) s += '/' + std::to_string(total_);
  if (!detail.empty()) s += "  " + detail;
  s += "  elapsed " + human_seconds(elapsed);
  if (total_ > 0) {
    const long long since = done - first_done_;
    const double eta = done >= total_ ? 0.0
                       : since > 0    ? elapsed * double(total_ - done) / double(since)
                                      : -1.0;
    s += "  ETA " + human_seconds(eta);
  }
  return s;
}

}  // namespace aeolus
