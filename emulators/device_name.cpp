// Device names of case files (emulators/device.hpp): light, no LibTorch call, so that the aeolus
// launcher checks a case file without loading LibTorch. Whether a device exists is device.cpp's.
#include <string>

#include "emulators/device.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

void check_device_name(const std::string& device, const std::string& key) {
  if (device == "cpu" || device == "cuda") return;
  const std::string digits = device.rfind("cuda:", 0) == 0 ? device.substr(5) : "";
  if (!digits.empty() && digits.size() < 6 &&
      digits.find_first_not_of("0123456789") == std::string::npos)
    return;
  throw ConfigError(key + " = '" + device + "' is not a device name; expected cpu, cuda or cuda:N");
}

}  // namespace aeolus::emulators
