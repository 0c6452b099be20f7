#pragma once
// Internal to physics/: a tracer's parameters resolved once (kind, centres as unit vectors),
// shared by the light checks (sphere_tracer_params.cpp, which the aeolus launcher also links)
// and the shapes evaluated on a grid (sphere_tracers.cpp).
#include <array>
#include <vector>

#include "physics/sphere_tracers.hpp"

namespace aeolus::physics::detail {

enum class Kind {
  cosine_bell,
  gaussian_hills,
  cosine_bells,
  slotted_cylinders,
  correlated,
  constant
};

// Resolved parameters: centres as unit vectors plus (lon, lat).
struct Tracer {
  Kind kind = Kind::constant;
  SphereTracerParams p;
  std::vector<std::array<real_t, 2>> ll;
  std::vector<std::array<real_t, 3>> xyz;
};

// Checks p (ConfigError naming tracer.KEY) and resolves it.
Tracer resolve(const SphereTracerParams& p);

}  // namespace aeolus::physics::detail
