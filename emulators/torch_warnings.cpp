#include "emulators/torch_warnings.hpp"

#include <c10/util/Exception.h>

#include <atomic>
#include <deque>

namespace aeolus::emulators {
namespace {

std::atomic<int> mode{int(WarningMode::capture)};

// This thread's warnings (the latest kCapturedWarnings), how many older ones were dropped, and
// the text captured_warnings() last gave.
thread_local std::deque<std::string> kept;
thread_local long long dropped = 0;
thread_local std::string text;

// Stateless: one object for every thread, never destroyed (a warning raised while the process
// ends still finds it).
class CapturingHandler : public c10::WarningHandler {
 public:
  void process(const c10::SourceLocation& where, const std::string& msg,
               const bool /*verbatim*/) override {
    try {
      std::string w = msg.size() > kWarningLength ? msg.substr(0, kWarningLength) + "..." : msg;
      if (where.file && *where.file) {
        w += " [" + std::string(where.file) + ":" + std::to_string(where.line) + "]";
      }
      if (kept.size() == size_t(kCapturedWarnings)) {
        kept.pop_front();
        ++dropped;
      }
      kept.push_back(std::move(w));
    } catch (...) {
      // No memory for the text: the warning is lost, the call goes on.
    }
  }
};

CapturingHandler* const capturing = new CapturingHandler;

}  // namespace

void set_warning_mode(WarningMode m) noexcept { mode.store(int(m), std::memory_order_relaxed); }

WarningMode warning_mode() noexcept { return WarningMode(mode.load(std::memory_order_relaxed)); }

WarningCapture::WarningCapture() noexcept {
  if (mode.load(std::memory_order_relaxed) != int(WarningMode::capture)) return;
  previous_ = c10::Warning::get_warning_handler();
  c10::Warning::set_warning_handler(capturing);
  installed_ = true;
}

WarningCapture::~WarningCapture() {
  if (installed_) c10::Warning::set_warning_handler(static_cast<c10::WarningHandler*>(previous_));
}

const std::string& captured_warnings() {
  text.clear();
  if (dropped > 0) text = "(" + std::to_string(dropped) + " earlier warning(s) dropped)";
  for (const std::string& w : kept) {
    if (!text.empty()) text += '\n';
    text += w;
  }
  return text;
}

void clear_warnings() noexcept {
  kept.clear();
  dropped = 0;
  text.clear();
}

}  // namespace aeolus::emulators
