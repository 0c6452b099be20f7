#pragma once
// Conservative finite-volume advection on Cartesian grids: dimensionally unsplit flux form,
// limited piecewise-linear (MUSCL) or PPM reconstruction of face values, upwind fluxes with
// analytic face velocities, strong-stability-preserving Runge-Kutta in time.
#include <memory>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "physics/advection.hpp"
#include "solvers/stepper.hpp"

namespace aeolus {

struct FvSchemeParams {
  // upwind (1st order) | linear (unlimited central slopes, 2nd order) | minmod | van_leer |
  // mc (monotonised central) | ppm (Colella-Woodward, 3rd order face values, monotone limiter)
  std::string reconstruction = "van_leer";
  std::string time_integrator = "ssprk3";  // euler | ssprk2 | ssprk3
};

enum class FvReconstruction { upwind, linear, minmod, van_leer, mc, ppm };
enum class FvTimeIntegrator { euler, ssprk2, ssprk3 };
// Parse the option strings; throw ConfigError naming the key, the value and the valid names.
FvReconstruction fv_reconstruction_from_name(const std::string& name);
FvTimeIntegrator fv_time_integrator_from_name(const std::string& name);

// Ghost layers the reconstruction needs (1 for upwind, 2 for MUSCL, 3 for PPM).
int fv_halo_width(const FvSchemeParams& p);
// Largest stable CFL (sum_d |u_d| dt/dx_d) we accept for this scheme, from the von Neumann
// analysis of the unlimited scheme on the time integrator's stability region:
//   upwind: 1 with every integrator.
//   linear, minmod, van_leer, mc: 1 with ssprk2/ssprk3 (linear central slopes are stable to
//     1.0 with ssprk2 and 1.17 with ssprk3); with euler 0.5 for the limited slopes (each
//     Euler stage is then a convex combination of neighbours) and 0 for linear, which is
//     unstable with euler at any CFL.
//   ppm: 1 with ssprk3 (smooth PPM faces are 4th-order central: purely imaginary spectrum,
//     stable to 1.26); 0 with euler and ssprk2, which amplify imaginary eigenvalues.
// 0 means "this combination is not accepted". The local maximum principle (no new extrema)
// of the limited schemes is guaranteed for cfl <= 0.5 with every integrator (SSP
// coefficient 1); above that it is only typical.
real_t fv_max_cfl(const FvSchemeParams& p);
// Names accepted for each option (for schema errors).
const std::vector<std::string>& fv_reconstruction_names();
const std::vector<std::string>& fv_time_integrator_names();

// Kernel: rhs = -div(F) for owned cells of q (halos of q must be valid, face velocities
// given as fields filled by physics::fill_face_velocity). Plain loops, no allocation.
// Face velocity d holds u_d on the low face of each cell and needs one ghost layer along d;
// q needs fv_halo_width ghost layers along every used dimension.
// rhs(i) = -sum_d (F_{i+1/2} - F_{i-1/2}) / dx_d with F = u (u >= 0 ? q_left : q_right).
// Each face flux is a pure function of the values around that face, so neighbouring cells
// (and ranks) compute it bitwise identically: the scheme conserves mass to round-off and the
// result does not depend on the decomposition.
void fv_flux_divergence(const std::string& reconstruction, ConstFieldView q,
                        const ConstFieldView* face_velocity /* dim entries */, int dim,
                        const real_t* dx, FieldView rhs);
void fv_flux_divergence(FvReconstruction reconstruction, ConstFieldView q,
                        const ConstFieldView* face_velocity /* dim entries */, int dim,
                        const real_t* dx, FieldView rhs);

// Fill the physical ghost layers of q on non-periodic dimensions with the nearest owned value
// (zero gradient: outflow, and inflow of the boundary value). Periodic dimensions and
// ghosts between ranks are left to Field::exchange_halos().
void fv_fill_outflow_ghosts(Field& q);

class FvAdvectionStepper final : public Stepper {
 public:
  // cfl: target sum_d |u_d| dt/dx_d used by max_dt (must be in (0, fv_max_cfl]); throws
  // ConfigError otherwise and for unknown option names. The velocity is taken as steady
  // (both velocity types are): face velocities and the CFL rate are computed once here.
  // `grid` must outlive the stepper; q passed to step() must live on a grid with its cells
  // and decomposition (any halo).
  FvAdvectionStepper(const CartesianGrid& grid, const physics::VelocityParams& velocity,
                     const FvSchemeParams& scheme, real_t cfl);
  ~FvAdvectionStepper() override;

  std::string name() const override { return "classical"; }
  // cfl / physics::max_inverse_cfl_time (infinite for a zero velocity).
  real_t max_dt(const Field& q, real_t t) const override;
  // Throws Error if dt <= 0 or dt > max_dt (beyond round-off); never shortens dt.
  void step(Field& q, real_t& t, real_t& dt) override;
  real_t courant(real_t t, real_t dt) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aeolus
