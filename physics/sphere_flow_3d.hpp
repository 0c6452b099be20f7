#pragma once
// The generic 3D flow on the latitude-longitude sphere in pressure-based coordinates: the
// air-mass fluxes of a step (what a 3D transport stepper consumes), the flow as a stepper input,
// and the hybrid sigma-pressure vertical coordinate. Flows that provide it: the DCMIP 2012 tests
// (physics/dcmip.hpp) and the synthetic CO2 meteorology (physics/co2_met.hpp); the consumer is
// solvers/sphere_transport_3d.hpp.
//
// Conventions (shared by all of them).
//  - Level k = 0 .. nlev-1 is the DMDA z index, ordered from the model TOP (k = 0) to the
//    surface (k = nlev-1). Interface kf = 0 .. nlev is the top edge of layer kf (interface
//    kf = nlev is the surface), so layer k lies between interfaces k (above) and k + 1 (below)
//    and dp_k = p_{k+1} - p_k > 0.
//  - Pressure p in Pa, omega = Dp/Dt in Pa/s (positive DOWNWARD, towards larger k).
//  - The state's air mass is the pressure thickness dp (Pa) of each cell; its mass in kg is
//    dp * area(j) / g.
#include <functional>
#include <vector>

#include "grids/sphere_grid.hpp"
#include "grids/types.hpp"

namespace aeolus {

// Air-mass fluxes of one 3D step [t, t + dt] on the sphere (the 3D counterpart of
// SphereFaceFluxes, which it reuses per level).
//  horizontal[k]: swept areas of level k (m^2 per step, SphereFaceFluxes layout), defined as
//     the layer's horizontal air-mass flux divided by the layer's reference thickness dp_k, so
//     that a transport of dp_k (uniform on the level) reproduces that mass flux exactly.
//  vertical: air-mass flux through the interfaces of the rank's owned columns, as a pressure
//     thickness per step (Pa; kg per step = value * area(j) / g), positive DOWNWARD (from
//     layer kf - 1 into layer kf); index (kf * lat_count + jl) * nlon + i, kf = 0 .. nlev.
//     Entries kf = 0 (model top) and kf = nlev (surface) are zero.
struct SphereFluxes3d {
  std::vector<SphereFaceFluxes> horizontal;
  std::vector<real_t> vertical;
  void resize(const SphereGrid& g);  // sizes everything for g (values unspecified)
  real_t& w(const SphereGrid& g, index_t kf, index_t jl, index_t i) {
    return vertical[size_t((kf * g.lat_count() + jl) * g.nlon() + i)];
  }
  real_t w(const SphereGrid& g, index_t kf, index_t jl, index_t i) const {
    return vertical[size_t((kf * g.lat_count() + jl) * g.nlon() + i)];
  }
};

// The 3D flow as a stepper input: fills the fluxes of [t, t + dt] for the rank's own rows.
using SphereFlow3dFunction = std::function<void(real_t t, real_t dt, SphereFluxes3d& out)>;

// Hybrid sigma-pressure coordinate at interfaces kf = 0 (top) .. nlev (surface):
// p_kf = a_kf p0 + b_kf ps.
struct HybridCoordinate {
  std::vector<real_t> a, b;
  real_t p0 = 1.0e5;  // Pa
  index_t nlev() const { return index_t(a.size()) - 1; }
  real_t p_interface(index_t kf, real_t ps) const {
    return a[size_t(kf)] * p0 + b[size_t(kf)] * ps;
  }
  real_t dp(index_t k, real_t ps) const { return p_interface(k + 1, ps) - p_interface(k, ps); }
};

// Reference air-mass divergence closure: fills f.vertical from f.horizontal so that each cell's
// net air-mass flux vanishes for the reference thicknesses dp_ref[k] (Pa, uniform on each
// level, as for a uniform surface pressure): starting from zero at the model top,
//   w_{k+1} = w_k - dp_ref[k] * (xa_E - xa_W + ya_N - ya_S) / area_j.
// The surface flux is then a round-off residual (zero for a column-consistent flow); it is
// set to exactly zero and the largest |residual| over the rank's columns (Pa per step) is
// returned (local, not reduced).
real_t vertical_flux_from_divergence(const SphereGrid& g, const std::vector<real_t>& dp_ref,
                                     SphereFluxes3d& f);

}  // namespace aeolus
