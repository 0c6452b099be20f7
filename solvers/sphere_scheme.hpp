#pragma once
// The horizontal scheme options of the sphere transport as a case file spells them
// (stepper.scheme). A header of its own so that the kernels (solvers/sphere_kernels.hpp) and the
// steppers above them (solvers/sphere_transport.hpp, sphere_transport_3d.hpp) share the type
// without the kernels including the Stepper interface. Defined in solvers/sphere_scheme.cpp
// (light: no PETSc or MPI calls).
#include <string>

namespace aeolus {

struct SphereSchemeParams {
  std::string reconstruction = "ppm";  // ppm | van_leer
  std::string limiter = "monotone";    // monotone | extremum_preserving | bounded (both ppm only)
                                       // | none
};

// Halo rows the scheme needs (3 for both reconstructions). Throws ConfigError for unknown names.
int sphere_halo_width(const SphereSchemeParams& p);

}  // namespace aeolus
