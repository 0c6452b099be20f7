// The sphere tracers' names and parameter checks (physics/sphere_tracers.hpp): light, no PETSc
// or MPI calls, so that the aeolus launcher checks a case file without loading them. The shapes
// on a grid are in sphere_tracers.cpp.
#include <cmath>
#include <string>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "physics/sphere_tracers.hpp"
#include "physics/sphere_tracers_impl.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;

using detail::Kind;

Kind kind_of(const std::string& type) {
  if (type == "cosine_bell") return Kind::cosine_bell;
  if (type == "gaussian_hills") return Kind::gaussian_hills;
  if (type == "cosine_bells") return Kind::cosine_bells;
  if (type == "slotted_cylinders") return Kind::slotted_cylinders;
  if (type == "correlated_cosine_bells") return Kind::correlated;
  if (type == "constant") return Kind::constant;
  std::string names;
  for (const auto& n : sphere_tracer_names()) names += (names.empty() ? "" : ", ") + n;
  throw ConfigError("tracer: unknown type '" + type + "', expected one of: " + names);
}

}  // namespace

namespace detail {

Tracer resolve(const SphereTracerParams& p) {
  Tracer t;
  t.kind = kind_of(p.type);
  t.p = p;
  if (p.quadrature < 1 || p.quadrature > 5) {
    throw ConfigError("tracer: quadrature = " + std::to_string(p.quadrature) +
                      ", expected 1..5 Gauss points per direction");
  }
  if (t.kind == Kind::cosine_bell && !(p.bell_radius > 0)) {
    throw ConfigError("tracer: bell_radius = " + fmt("%g", p.bell_radius) +
                      ", expected > 0 (R / a)");
  }
  if ((t.kind == Kind::cosine_bells || t.kind == Kind::slotted_cylinders ||
       t.kind == Kind::correlated) &&
      !(p.r > 0)) {
    throw ConfigError("tracer: r = " + fmt("%g", p.r) + ", expected > 0 (rad)");
  }
  t.ll = p.centers;
  if (t.ll.empty()) {
    if (t.kind == Kind::cosine_bell) {
      t.ll = {{1.5 * kPi, 0.0}};
    } else {
      t.ll = {{5 * kPi / 6, 0.0}, {7 * kPi / 6, 0.0}};
    }
  }
  if (t.kind == Kind::cosine_bell && t.ll.size() != 1) {
    throw ConfigError("tracer: cosine_bell takes exactly one centre, got " +
                      std::to_string(t.ll.size()));
  }
  for (const auto& c : t.ll) {
    t.xyz.push_back(
        {std::cos(c[1]) * std::cos(c[0]), std::cos(c[1]) * std::sin(c[0]), std::sin(c[1])});
  }
  return t;
}

}  // namespace detail

const std::vector<std::string>& sphere_tracer_names() {
  static const std::vector<std::string> names = {
      "cosine_bell",       "gaussian_hills",          "cosine_bells",
      "slotted_cylinders", "correlated_cosine_bells", "constant"};
  return names;
}

void validate(const SphereTracerParams& p) { detail::resolve(p); }

std::vector<std::array<real_t, 2>> nair_lauritzen_centers(int nl_case) {
  switch (nl_case) {
    case 1:
      return {{kPi, kPi / 3}, {kPi, -kPi / 3}};
    case 2:
    case 4:
      return {{5 * kPi / 6, 0.0}, {7 * kPi / 6, 0.0}};
    case 3:
      return {{3 * kPi / 4, 0.0}, {5 * kPi / 4, 0.0}};
    default:
      throw ConfigError("tracer: nl_case = " + std::to_string(nl_case) + ", expected 1..4");
  }
}

}  // namespace aeolus::physics
