#pragma once
// Where a network runs (internal to emulators/: includes torch). Case files name the device
// ("cpu", "cuda", "cuda:N"); the same model file runs on either (saved weights are read onto
// the CPU and moved).
#include <torch/torch.h>

#include <string>

#include "grids/error.hpp"

namespace aeolus::emulators::detail {

// ConfigError naming `key` for an unknown device, or for CUDA where this LibTorch has none
// (Debian's LibTorch is CPU-only: a GPU preset needs a CUDA build of LibTorch).
inline torch::Device torch_device(const std::string& name, const std::string& key) {
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available()) {
      throw ConfigError(key + " = '" + name +
                        "', but this LibTorch build sees no CUDA device "
                        "(torch::cuda::is_available() is false); use cpu, or build Aeolus "
                        "against a CUDA LibTorch on a GPU machine");
    }
    try {
      const torch::Device d(name);
      if (d.has_index() && d.index() >= int(torch::cuda::device_count())) {
        throw ConfigError(key + " = '" + name + "', but only " +
                          std::to_string(torch::cuda::device_count()) + " CUDA devices exist");
      }
      return d;
    } catch (const c10::Error&) {
      throw ConfigError(key + " = '" + name + "' is not a device name (cpu, cuda, cuda:N)");
    }
  }
  throw ConfigError(key + " = '" + name + "' is unknown; expected one of: cpu, cuda, cuda:N");
}

}  // namespace aeolus::emulators::detail
