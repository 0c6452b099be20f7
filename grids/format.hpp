#pragma once
// Numbers as text for messages, log lines and files, written once for every layer: a printf
// conversion of one number, and the 17-digit form that reads back as the same double.
#include <string>

namespace aeolus {

// v as printf prints it with `format`, which holds exactly one conversion of a double
// ("%.3e", "%.1f s"): fmt("%.2f", 0.125) = "0.13". At most 63 characters (the rest is cut).
std::string fmt(const char* format, double v);

// v with 17 significant digits ("%.17g"), so that the text reads back as the same double:
// for messages about values that may differ in their last digits, and for files.
std::string fmt_exact(double v);

}  // namespace aeolus
