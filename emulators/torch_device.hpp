#pragma once
// Checking device names of case files without torch headers (emulators/device.hpp is the torch
// side). Device names: cpu | cuda | cuda:N.
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
