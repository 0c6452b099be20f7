#pragma once
// Prescribed flows and tracer fields on the sphere for the standard transport tests, and the
// diagnostics that define them. Longitude lambda, latitude theta in radians; a = sphere radius.
//
// Flows (winds in m/s; periods in s):
//  williamson       Williamson et al. (1992) case 1: solid-body rotation about an axis tilted by
//                   alpha, u0 = 2 pi a / period (period = 12 days by default).
//  nair_lauritzen   Nair & Lauritzen (2010) deformational cases 1-4 (nl_case), scaled from the
//                   unit sphere with T = 5 to radius a and `period`: u = (a / period) * 5 *
//                   u_unit(lambda, theta, 5 t / period); case 3 is divergent, case 4 adds a
//                   background zonal rotation.
//  lauritzen_nondivergent / lauritzen_divergent: Lauritzen et al. (2012) dimensional flows
//                   (= NL2010 cases 4 and 3 with their 2012 coefficients), T = period.
#include <string>
#include <vector>

#include "grids/sphere_grid.hpp"

namespace aeolus::physics {

struct SphereFlowParams {
  std::string type = "williamson";
  real_t alpha = 0.0;         // williamson: tilt of the rotation axis (rad)
  int nl_case = 1;            // nair_lauritzen: 1..4
  real_t period = 1036800.0;  // s (12 days)
};

const std::vector<std::string>& sphere_flow_names();
bool is_divergent(const SphereFlowParams& p);

// Wind (m/s) at a point and time.
void sphere_wind(const SphereFlowParams& p, real_t a, real_t lon, real_t lat, real_t t, real_t& u,
                 real_t& v);
// Stream function (m^2/s) with u = -(1/a) dpsi/dlat, v = (1/(a cos lat)) dpsi/dlon; throws
// ConfigError for a divergent flow.
real_t stream_function(const SphereFlowParams& p, real_t a, real_t lon, real_t lat, real_t t);

// Swept areas of the step [t, t + dt] for the rank's faces (layout: SphereFaceFluxes), from
// winds at t + dt/2: non-divergent flows as exact stream-function differences between face
// corners (discretely non-divergent to round-off, zero on pole edges); divergent flows as
// Gauss-Legendre integrals of the normal wind along each edge.
void sphere_swept_areas(const SphereFlowParams& p, const SphereGrid& g, real_t t, real_t dt,
                        SphereFaceFluxes& out);

// The flow as a stepper input.
SweptAreaFunction sphere_flow_function(const SphereFlowParams& p, const SphereGrid& g);

}  // namespace aeolus::physics
