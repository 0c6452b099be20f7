#pragma once
// Where a network runs, for code that must not include torch (case checks, the app layer):
// device names of case files are cpu | cuda | cuda:N. The torch side, used inside emulators/
// only, is emulators/device_impl.hpp.
#include <string>

namespace aeolus::emulators {

// ConfigError naming `key` unless `device` (cpu | cuda | cuda:N) exists for this LibTorch (for
// checking case files before any work starts). Debian's LibTorch is CPU-only: there any cuda
// name is an error that says so.
void check_torch_device(const std::string& device, const std::string& key);
// ConfigError naming `key` unless `device` is spelt as a device (cpu | cuda | cuda:N); whether
// it exists is not checked (a case prepared on a CPU machine may train on a GPU one).
void check_device_name(const std::string& device, const std::string& key);
// True if this LibTorch sees a CUDA device.
bool cuda_available();

}  // namespace aeolus::emulators
