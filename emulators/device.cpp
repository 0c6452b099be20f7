// Where a network runs (emulators/device.hpp, emulators/device_impl.hpp).
#include "emulators/device.hpp"

#include "emulators/device_impl.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

namespace detail {

torch::Device torch_device(const std::string& name, const std::string& key) {
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

// Changing torch's thread count rebuilds its pool (costly per step): only change it when needed.
ThreadScope::ThreadScope(int threads) : previous_(torch::get_num_threads()) {
  if (threads != previous_) torch::set_num_threads(threads);
}
ThreadScope::~ThreadScope() {
  if (torch::get_num_threads() != previous_) torch::set_num_threads(previous_);
}

}  // namespace detail

void check_torch_device(const std::string& device, const std::string& key) {
  detail::torch_device(device, key);
}

bool cuda_available() { return torch::cuda::is_available(); }

}  // namespace aeolus::emulators
