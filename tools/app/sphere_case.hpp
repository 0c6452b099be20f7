#pragma once
// Tracer transport on the sphere as a case (grid.type: latlon; case type sphere_transport):
// sphere_config.cpp reads its sections, sphere_case.cpp registers its commands: `aeolus run`
// steps the tracers through the common time loop (Lin-Rood FFSL, 2D or 3D with the DCMIP
// flows) and computes the diagnostics of the standard test suites. No emulator yet.
#include <mpi.h>

#include <memory>

#include "grids/cartesian_grid.hpp"
#include "grids/sphere_grid.hpp"
#include "solvers/sphere_transport.hpp"

namespace aeolus::app {

// The latitude-band decomposition of a sphere grid with the halo `scheme` needs (also the CO2
// case's).
std::unique_ptr<CartesianGrid> make_sphere_decomposition(MPI_Comm comm,
                                                         const SphereGridParams& grid,
                                                         const SphereSchemeParams& scheme);

}  // namespace aeolus::app
