#pragma once
// Flux-form semi-Lagrangian (FFSL) tracer transport on the latitude-longitude sphere, after
// Lin & Rood (1996, MWR 124) in the form of FV3's fv_tp_2d (Putman & Lin 2007): directionally
// split 1D flux operators whose inner updates are in flux form over the deformed cell,
//   q_x = (q A + Fx_i - Fx_{i+1}) / (A + xa_i - xa_{i+1})     (and q_y likewise),
// and whose outer fluxes average the fluxes of the inner-updated field and of q,
//   q^{n+1} = q + [ (Fx(q_y) + Fx(q))/2 differenced + (Fy(q_x) + Fy(q))/2 differenced ] / A,
// which cancels the leading splitting error, keeps a uniform field uniform and, for
// non-divergent flow, is the mean of the two orders of 1D sweeps over deformed cells (a convex
// combination: no new extrema with a monotone 1D operator). Details in solvers/sphere_kernels.hpp.
// Fluxes are swept areas (m^2 per step, given by the flow) times the mean of the reconstructed
// tracer over the swept region.
//
// Zonal Courant numbers may exceed 1 (near the poles): the flux through a face is then the sum
// of the whole cells swept plus the fractional integral of the next one (integer shift plus
// fractional flux), so the time step is set by the meridional Courant number only. Meridional
// Courant numbers must stay below 1. The flux through a pole edge is zero; flow over a pole
// happens through the polar rows, whose cross-pole ghost rows (SphereGrid::fill_polar_halos)
// let the meridional reconstruction see the other side of the pole.
//
// Reconstructions: PPM (Colella & Woodward 1984) and van Leer (piecewise linear); limiters:
// monotone (CW84 for PPM, monotonised slopes for van Leer: no new extrema), extremum_preserving
// (PPM only, Colella & Sekora 2008 / McCorquodale & Colella 2011: keeps smooth extrema, so it is
// more accurate, but allows small over- and undershoots), bounded (PPM only: the
// extremum-preserving reconstruction, each parabola scaled about its mean into the field's
// range at the start of the step, after Zhang & Shu 2010: no new extrema, smooth extrema kept
// where they stay inside the range), none (unlimited: the smooth-flow setting for convergence
// studies).
#include <string>
#include <vector>

#include "grids/sphere_grid.hpp"
#include "solvers/sphere_scheme.hpp"  // SphereSchemeParams, sphere_halo_width
#include "solvers/stepper.hpp"

namespace aeolus {

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
