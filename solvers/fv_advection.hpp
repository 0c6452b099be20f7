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

// Ghost layers the reconstruction needs (2 for MUSCL, 3 for PPM).
int fv_halo_width(const FvSchemeParams& p);
// Largest stable CFL (sum_d |u_d| dt/dx_d) we accept for this scheme.
real_t fv_max_cfl(const FvSchemeParams& p);
// Names accepted for each option (for schema errors).
const std::vector<std::string>& fv_reconstruction_names();
const std::vector<std::string>& fv_time_integrator_names();

// Kernel: rhs = -div(F) for owned cells of q (halos of q must be valid, face velocities
// given as fields filled by physics::fill_face_velocity). Plain loops, no allocation.
void fv_flux_divergence(const std::string& reconstruction, ConstFieldView q,
                        const ConstFieldView* face_velocity /* dim entries */, int dim,
                        const real_t* dx, FieldView rhs);

class FvAdvectionStepper final : public Stepper {
 public:
  // cfl: target sum_d |u_d| dt/dx_d used by max_dt (must be in (0, fv_max_cfl]).
  FvAdvectionStepper(const CartesianGrid& grid, const physics::VelocityParams& velocity,
                     const FvSchemeParams& scheme, real_t cfl);
  ~FvAdvectionStepper() override;

  std::string name() const override { return "classical"; }
  real_t max_dt(const Field& q, real_t t) const override;
  void step(Field& q, real_t& t, real_t& dt) override;
  real_t courant(real_t t, real_t dt) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aeolus
