#pragma once
// 3D tracer transport on the latitude-longitude sphere with its own air mass: Lin-Rood flux-form
// semi-Lagrangian steps on each level (solvers/sphere_kernels.hpp) and 1D flux-form PPM in each
// column, operator-split (Sphere3dSplitting):
//   hv (default): horizontal(dt), then vertical(dt);
//   strang:       vertical(dt/2), horizontal(dt), vertical(dt/2).
// Why hv is the default: the swept areas of a level are its air-mass fluxes divided by the
// level's reference thickness (SphereFluxes3d), so the horizontal step reproduces the intended
// air-mass fluxes exactly only while dp is that reference. With hv and a column-consistent flow
// (DCMIP: vertical fluxes from the discrete horizontal divergence) the air mass returns to the
// reference after every step to round-off (measured 3e-14). With strang the horizontal step
// sees dp already changed by the first vertical half step, and the air mass drifts by the
// commutator, O(horizontal x vertical Courant) per step: 35 % after 6 h of DCMIP 1-2 and 17 %
// after 3 days of 1-1 at Courant ~0.9 (halving with dt), with no better tracer error (1-2 l2
// 0.465 vs 0.459). Tracer/air-mass consistency and conservation hold for both.
//
// State. Levels k = 0 (model top) .. nlev-1 (surface) are the DMDA z index. The stepper holds the
// air mass of every cell as its pressure thickness dp (Pa; kg = dp * area / g), initialised from
// the caller and evolved by the same fluxes; the tracers are mixing ratios q (kg/kg).
//
// Tracer/air-mass consistency. Each sub-step moves the tracer with the air-mass fluxes of the
// same sub-step:
//  - horizontally, on each level lin_rood_step_2d moves the air mass m = dp (recording its
//    air-mass fluxes; the swept areas are per level, see SphereFluxes3d) and
//    lin_rood_tracer_step_2d the mixing ratio in FV3's mass-flux form: every tracer flux is an
//    air-mass flux times the mean of q's reconstruction over the swept fraction of the upwind
//    cell's air mass (whole cells m_k q_k where it takes more);
//  - vertically, the air-mass flux W through an interface moves W times the mean of the PPM
//    reconstruction of q over the swept air mass, so a uniform q gives exactly W q.
// The mixing ratio after the step is (m q) / m with the SAME m array that becomes the stored air
// mass: a uniform q stays uniform to round-off and sum(q m) equals the transported tracer mass.
// The air mass itself is never reset: it evolves with the discrete continuity equation (see the
// splitting above for how close it stays to the reference).
// Monotonicity: each sub-step's new q is a convex combination of means of monotone
// reconstructions of q (while the 1D sweeps leave positive air masses), so the monotone limiter
// makes no new extrema, in divergent flow too (tested: DCMIP 1-1 at Courant 0.9 and the
// Lauritzen et al. 2012 divergent flow stay within the initial ranges to 1e-14; moving m and m q
// separately with the density kernel gave undershoots of 5e-3 in 1-1 at Courant 0.71).
//
// Vertical scheme. Flux form in the air-mass coordinate: cell widths are the layer masses dp,
// interface values from Colella & Woodward (1984) eq. (1.6) for non-uniform widths with the
// limited slopes of their eqs. (1.7)-(1.8) (4-cell stencil; next to the top and the surface the
// width-weighted linear interpolation between the two neighbours), clipped to the neighbours'
// range, then the CW84 eq. (1.10) monotonicity constraints; the top and surface layers are
// constant (with no neighbour beyond, a slope would leave the mass that stays behind outside the
// neighbours' range). The flux
// through an interface is W times the mean of the upwind layer's parabola over the swept mass
// fraction c = |W| / dp_upwind, which must be < 1 (NumericsError otherwise). The vertical scheme
// is always the monotone PPM, whatever the horizontal reconstruction/limiter.
//
// Vertical closure (optional, set_vertical_closure; hv only). By default the vertical air-mass
// fluxes are the flow's (DCMIP: from the divergence with the reference dp). When the surface
// pressure varies, dp differs from any fixed reference and such fluxes let the layers drift away
// from the hybrid coordinate. With the closure the vertical fluxes of a step are computed after
// the horizontal step from the actual air masses dp_h, column by column, so that every layer
// ends on the hybrid coordinate of the column's new mass:
//   ps_new = p_top + sum_k dp_h_k,  W_0 = 0,  W_{k+1} = W_k + dp_h_k - (da_k p0 + db_k ps_new),
// (p_top = a_0 p0, b_0 = 0, b_nlev = 1, a_nlev = 0), so W_nlev = sum dp_h - (ps_new - p_top) is a
// round-off residual (last_closure_residual()) and is set to exactly 0; the tracers' vertical
// step uses these fluxes (the same monotone PPM), which keeps tracer/air-mass consistency. The
// flow's own vertical fluxes are ignored. max_dt / courant then estimate the vertical swept
// fractions with the closure applied to the predicted horizontal step dp_h = dp - D (D = dp *
// the level's swept-area divergence / area, exact for dp uniform on the level, linear in dt):
//   W_{k+1} = W_k - D_k + db_k sum_l D_l
// (this assumes dp on the coordinate, which the closure maintains), followed by the same
// upwind-outflow estimate as without the closure. The default (no closure) is unchanged.
#include <memory>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/sphere_flow_3d.hpp"
#include "solvers/sphere_scheme.hpp"
#include "solvers/sphere_vertical_kernels.hpp"
#include "solvers/stepper.hpp"

namespace aeolus {

// Operator splitting of a step (see above).
enum class Sphere3dSplitting { hv, strang };

class SphereTransport3dStepper : public Stepper {
 public:
  // grid: 3D (or 2D, then purely horizontal) sphere grid with halo >= sphere_halo_width(scheme);
  // it must outlive the stepper. flow: fluxes of a step (SphereFluxes3d). cfl in (0, 1): the
  // largest Courant number max_dt() allows (meridional, and vertical per sub-step).
  // air_mass: initial dp (Pa, > 0) on a grid with the cells and decomposition of `grid`.
  // splitting: see Sphere3dSplitting.
  // Throws ConfigError for a bad cfl, halo, empty flow or a non-positive air mass.
  SphereTransport3dStepper(const SphereGrid& grid, SphereFlow3dFunction flow,
                           const SphereSchemeParams& scheme, real_t cfl, const Field& air_mass,
                           Sphere3dSplitting splitting = Sphere3dSplitting::hv);
  ~SphereTransport3dStepper() override;

  std::string name() const override { return "classical"; }
  // Largest dt at t with the meridional Courant number |ya| / area(upwind row) <= cfl and the
  // vertical swept fraction of each vertical sub-step <= cfl, the latter estimated from the
  // current air mass less the upwind layer's net horizontal outflow in the step (fluxes probed
  // with a 1 s step at t, t + dt/2 and t + dt of the candidate step, refined twice, because the
  // flows slow down, reverse and speed up). Collective. step() still throws at Courant >= 1.
  real_t max_dt(const Field& q, real_t t) const override;
  // The largest stable step for the flow frozen at time t (one probe; max_dt combines several).
  real_t instant_max_dt(const Field& q, real_t t) const;
  // One Strang step of q (mixing ratio) and of the air mass. Throws NumericsError (with the
  // value and the location) if dt <= 0, a meridional Courant number or a vertical swept
  // fraction reaches 1, a pole edge carries a flux, or the air mass of a cell becomes <= 0.
  // Collective. A tracer must not be stepped alone when several share the air mass: use
  // step_all, which updates the air mass once.
  void step(Field& q, real_t& t, real_t& dt) override;
  // Several tracers with one air-mass update (the same contract for each field). The fields may
  // live on any grid with the cells and decomposition of `grid` (any halo).
  void step_all(const std::vector<Field*>& qs, real_t& t, real_t& dt) override;
  // Largest of the meridional Courant number and the vertical swept fraction per sub-step of a
  // step dt at t (vertical estimated as in max_dt). Collective.
  real_t courant(real_t t, real_t dt) const override;
  // The two parts of courant() separately. Collective.
  real_t horizontal_courant(real_t t, real_t dt) const;
  real_t vertical_courant(real_t t, real_t dt) const;
  // The air mass dp (Pa) per cell, on the stepper's grid (owned cells valid). Writable for
  // restarts; it must stay > 0.
  Field& air_mass() { return air_; }
  const Field& air_mass() const { return air_; }
  std::vector<Field*> state_fields() override { return {&air_}; }

  // Enables the vertical closure (see above) on `coordinate` (copied). Requires hv splitting,
  // coordinate.nlev() == the grid's nlev with all levels on every rank, b_0 = 0, b_nlev = 1,
  // a_nlev = 0, and the current air mass on the coordinate of its column mass (|dp_k -
  // dp_k(ps)| <= 1e-10 dp_k); throws ConfigError naming the offending value otherwise.
  // Collective.
  void set_vertical_closure(const HybridCoordinate& coordinate);
  bool has_vertical_closure() const { return closure_ != nullptr; }
  // The vertical air-mass fluxes the last step applied (the flow's, or the closure's), Pa per
  // step, positive downward, SphereFluxes3d::vertical layout for the rank's columns (with
  // strang: the step's total, applied in two halves). Empty before the first step.
  const std::vector<real_t>& last_vertical_fluxes() const { return last_w_; }
  // Largest |W_nlev| of the closure before it is zeroed, over all columns and ranks, in the last
  // step (Pa); 0 without the closure.
  real_t last_closure_residual() const { return last_residual_; }

 private:
  struct Work;
  real_t courant_parts(real_t t, real_t dt, real_t* parts) const;
  // Fraction of the step's vertical fluxes applied in each vertical sub-step.
  real_t vertical_fraction() const { return splitting_ == Sphere3dSplitting::strang ? 0.5 : 1.0; }
  const SphereGrid& grid_;
  SphereFlow3dFunction flow_;
  real_t cfl_;
  Sphere3dSplitting splitting_;
  Field air_;
  std::unique_ptr<Work> work_;
  std::unique_ptr<HybridCoordinate> closure_;
  std::vector<real_t> last_w_;
  real_t last_residual_ = 0;
};

}  // namespace aeolus
