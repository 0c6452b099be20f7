#pragma once
// LibTorch's warnings (TORCH_WARN, TorchScript's warnings.warn) during the C API's calls: kept
// per thread instead of printed. Torch-free, like torchscript_model.hpp: the C API includes it.
//
// LibTorch 1.13's warning handler is thread-local (c10::Warning::set_warning_handler), so the
// capture covers the calling thread only; a warning raised on one of LibTorch's own worker
// threads (inside a parallel region) goes to that thread's handler, LibTorch's default.
#include <string>

namespace aeolus::emulators {

enum class WarningMode { capture, print };

// Process-wide: capture (the default) keeps each warning in the calling thread's list and prints
// nothing; print leaves the thread's handler as it is (LibTorch's default prints to stderr).
void set_warning_mode(WarningMode mode) noexcept;
WarningMode warning_mode() noexcept;

// While alive (capture mode), LibTorch's warnings on this thread go to the thread's list; the
// handler that was installed before is restored on destruction. Costs two pointer swaps of a
// thread-local; nothing is allocated unless a warning is raised.
class WarningCapture {
 public:
  WarningCapture() noexcept;
  ~WarningCapture();
  WarningCapture(const WarningCapture&) = delete;
  WarningCapture& operator=(const WarningCapture&) = delete;

 private:
  void* previous_ = nullptr;
  bool installed_ = false;
};

// The most recent kCapturedWarnings warnings captured on this thread since the last
// clear_warnings(), oldest first, one per line ("" if none). Each is "message [file:line]",
// the message cut at kWarningLength characters.
inline constexpr int kCapturedWarnings = 100;
inline constexpr std::size_t kWarningLength = 2000;
const std::string& captured_warnings();
void clear_warnings() noexcept;

}  // namespace aeolus::emulators
