#pragma once
// Typed exceptions. Every always-on check throws one of these with the file, key or variable
// and the offending value; main() catches once and prints a single line.
#include <stdexcept>
#include <string>
#include <vector>

namespace aeolus {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Bad case.yaml: missing, malformed, unknown key, wrong type or range.
class ConfigError : public Error {
 public:
  using Error::Error;
};
// Files: NetCDF, checkpoints, output directories, models on disk.
class IoError : public Error {
 public:
  using Error::Error;
};
// Numerical failure during a run (NaN/Inf, instability).
class NumericsError : public Error {
 public:
  using Error::Error;
};
// A saved model that does not fit the case, or a model-side failure.
class ModelError : public Error {
 public:
  using Error::Error;
};
// A library call (PETSc, MPI, NetCDF, FFTW) returned an error code.
class LibraryError : public Error {
 public:
  using Error::Error;
};

// "a, b, c" for messages that list the valid choices.
inline std::string comma_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

// ConfigError for a name that is not one of `names` (key = what was being chosen).
[[noreturn]] inline void throw_unknown_choice(const std::string& key, const std::string& value,
                                              const std::vector<std::string>& names) {
  throw ConfigError(key + " = '" + value + "' is unknown; expected one of: " + comma_list(names));
}

}  // namespace aeolus
