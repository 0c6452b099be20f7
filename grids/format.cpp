#include "grids/format.hpp"

#include <cstdio>

namespace aeolus {

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string fmt_exact(double v) { return fmt("%.17g", v); }

}  // namespace aeolus
