#pragma once
// Flux-form semi-Lagrangian (FFSL) tracer transport on the latitude-longitude sphere, after
// Lin & Rood (1996, MWR 124) as in GEOS-Chem TPCORE and FV3: directionally split 1D flux
// operators combined with advective-form inner operators that cancel the splitting error,
//   q^{n+1} = q^n + F_x(q^n + 1/2 f_y(q^n)) + F_y(q^n + 1/2 f_x(q^n)),
// where F_d is the conservative (flux-divergence) update along d and f_d the advective-form
// update f_d(q) = F_d(q) - q * D_d (D_d: divergence of the swept areas), which keeps a uniform
// field uniform. Fluxes are swept areas (m^2 per step, given by the flow) times the mean of the
// reconstructed tracer over the swept region.
//
// Zonal Courant numbers may exceed 1 (near the poles): the flux through a face is then the sum
// of the whole cells swept plus the fractional integral of the next one (integer shift plus
// fractional flux), so the time step is set by the meridional Courant number only. Meridional
// Courant numbers must stay below 1. The flux through a pole edge is zero; flow over a pole
// happens through the polar rows, whose cross-pole ghost rows (SphereGrid::fill_polar_halos)
// let the meridional reconstruction see the other side of the pole.
//
// Reconstructions: PPM (Colella & Woodward 1984) and van Leer (piecewise linear); limiters:
// monotone (CW84 for PPM, monotonised slopes for van Leer: no new extrema in 1D), none
// (unlimited: the smooth-flow setting for convergence studies).
#include <string>
#include <vector>

#include "grids/sphere_grid.hpp"
#include "solvers/stepper.hpp"

namespace aeolus {

struct SphereSchemeParams {
  std::string reconstruction = "ppm";  // ppm | van_leer
  std::string limiter = "monotone";    // monotone | none
};

// Halo rows the scheme needs (3 for both reconstructions).
int sphere_halo_width(const SphereSchemeParams& p);

class SphereTransportStepper : public Stepper {
 public:
  // cfl: largest meridional Courant number max_dt() allows (< 1). The zonal one is not
  // limited: the zonal sweep shifts by whole cells plus a fractional flux.
  SphereTransportStepper(const SphereGrid& grid, SweptAreaFunction flow,
                         const SphereSchemeParams& scheme, real_t cfl);
  std::string name() const override { return "classical"; }
  real_t max_dt(const Field& q, real_t t) const override;
  void step(Field& q, real_t& t, real_t& dt) override;
  // Largest meridional Courant number of a step dt at t (the zonal one may exceed 1).
  real_t courant(real_t t, real_t dt) const override;
  // Largest zonal Courant number of a step dt at t (diagnostic).
  real_t zonal_courant(real_t t, real_t dt) const;

 private:
  real_t courant_rate(real_t t) const;
  struct Work;
  const SphereGrid& grid_;
  SweptAreaFunction flow_;
  SphereSchemeParams scheme_;
  real_t cfl_;
  std::shared_ptr<Work> work_;
};

}  // namespace aeolus
