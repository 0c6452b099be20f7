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
//                   lauritzen_nondivergent is NL2010 case 4 exactly; lauritzen_divergent is NL2010
//                   case 3 (k = 1) plus the background rotation 2 pi a cos(theta) / T in
//                   lambda' = lambda - 2 pi t / T.
//
// Stream functions of the non-divergent flows (u = -(1/a) dpsi/dtheta,
// v = (1/(a cos theta)) dpsi/dlambda; unit sphere, T = 5, c(t) = cos(pi t / T)):
//  williamson:  psi = -u0 a (sin theta cos alpha - cos lambda cos theta sin alpha)
//  NL case 1:   psi = k sin^2(lambda/2) cos^2(theta) c(t),                     k = 2.4
//  NL case 2:   psi = k sin^2(lambda) cos^2(theta) c(t),                       k = 2
//  NL case 4:   psi = k sin^2(lambda') cos^2(theta) c(t) - (2 pi / T) sin theta, k = 2
// dimensional: psi_dim(lambda, theta, t) = a^2 s psi_unit(lambda, theta, s t), s = 5 / period.
// The tests check every one against its winds by finite differences.
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
// Throws ConfigError for an unknown type, nl_case outside 1..4 or a non-positive period.
void validate(const SphereFlowParams& p);
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
// Details: psi is evaluated once per corner (using the grid's sin/cos of the edge latitudes, so
// psi at a pole is independent of longitude), so a face shared by two cells or two ranks gets
// bitwise the same value on both sides. Divergent flows use 3-point Gauss-Legendre along each
// edge: xa = dt a int u dlat, ya = dt a cos(lat) int v dlon. ya is exactly 0 on the pole edges;
// xa rows beyond a pole are 0 (unused). `out` is resized for g when its sizes differ.
void sphere_swept_areas(const SphereFlowParams& p, const SphereGrid& g, real_t t, real_t dt,
                        SphereFaceFluxes& out);

// The flow as a stepper input (captures p by value and g by reference: g must outlive it).
SweptAreaFunction sphere_flow_function(const SphereFlowParams& p, const SphereGrid& g);

}  // namespace aeolus::physics
