// The sphere transport scheme's names and options (solvers/sphere_scheme.hpp,
// solvers/sphere_kernels.hpp): light, no PETSc or MPI calls, so that the aeolus launcher checks a
// case file without loading them.
#include "solvers/sphere_scheme.hpp"

#include <string>
#include <vector>

#include "grids/error.hpp"
#include "solvers/sphere_kernels.hpp"

namespace aeolus {

const std::vector<std::string>& sphere_reconstruction_names() {
  static const std::vector<std::string> names{"ppm", "van_leer"};
  return names;
}

const std::vector<std::string>& sphere_limiter_names() {
  static const std::vector<std::string> names{"monotone", "extremum_preserving", "bounded", "none"};
  return names;
}

SphereScheme sphere_scheme_from_params(const SphereSchemeParams& p) {
  SphereScheme s;
  if (p.reconstruction == "ppm") {
    s.reconstruction = SphereReconstruction::ppm;
  } else if (p.reconstruction == "van_leer") {
    s.reconstruction = SphereReconstruction::van_leer;
  } else {
    throw ConfigError(
        "scheme.reconstruction = '" + p.reconstruction +
        "' is unknown; expected one of: " + comma_list(sphere_reconstruction_names()));
  }
  if (p.limiter == "monotone") {
    s.limiter = SphereLimiter::monotone;
  } else if (p.limiter == "extremum_preserving") {
    if (s.reconstruction != SphereReconstruction::ppm)
      throw ConfigError(
          "scheme.limiter = 'extremum_preserving' needs scheme.reconstruction = "
          "'ppm', not '" +
          p.reconstruction + "'");
    s.limiter = SphereLimiter::extremum_preserving;
  } else if (p.limiter == "bounded") {
    if (s.reconstruction != SphereReconstruction::ppm)
      throw ConfigError("scheme.limiter = 'bounded' needs scheme.reconstruction = 'ppm', not '" +
                        p.reconstruction + "'");
    s.limiter = SphereLimiter::bounded;
  } else if (p.limiter == "none") {
    s.limiter = SphereLimiter::none;
  } else {
    throw ConfigError("scheme.limiter = '" + p.limiter +
                      "' is unknown; expected one of: " + comma_list(sphere_limiter_names()));
  }
  return s;
}

int sphere_halo_width(const SphereSchemeParams& p) {
  sphere_scheme_from_params(p);  // validates the names
  return 3;
}

}  // namespace aeolus
