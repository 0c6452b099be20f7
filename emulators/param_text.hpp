#pragma once
// Text of parameter checks shared by the emulators' validators: a value as it appears in an
// error message, and the one wording of an out-of-range error.
#include <sstream>
#include <string>

#include "grids/error.hpp"

namespace aeolus::emulators::detail {

// v as text with `precision` significant digits (10 shows every digit a user types).
template <class T>
std::string param_str(const T& v, int precision = 10) {
  std::ostringstream s;
  s.precision(precision);
  s << v;
  return s.str();
}

// ConfigError "KEY = VALUE is out of range; expected EXPECTED".
[[noreturn]] inline void bad_value(const std::string& key, const std::string& value,
                                   const std::string& expected) {
  throw ConfigError(key + " = " + value + " is out of range; expected " + expected);
}

}  // namespace aeolus::emulators::detail
