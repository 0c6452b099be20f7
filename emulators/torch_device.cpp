// Device-name checks (emulators/torch_device.hpp).
#include "emulators/torch_device.hpp"

#include "emulators/device.hpp"

namespace aeolus::emulators {

void check_torch_device(const std::string& device, const std::string& key) {
  detail::torch_device(device, key);
}

void check_device_name(const std::string& device, const std::string& key) {
  if (device == "cpu" || device == "cuda") return;
  const std::string digits = device.rfind("cuda:", 0) == 0 ? device.substr(5) : "";
  if (!digits.empty() && digits.size() < 6 &&
      digits.find_first_not_of("0123456789") == std::string::npos)
    return;
  throw ConfigError(key + " = '" + device + "' is not a device name; expected cpu, cuda or cuda:N");
}

bool cuda_available() { return torch::cuda::is_available(); }

}  // namespace aeolus::emulators
