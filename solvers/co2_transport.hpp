#pragma once
// The classical CO2 transport (physics.equation: co2_transport), operator-split: the synthetic
// meteorology (physics/co2_met.hpp) drives the 3D Lin-Rood transport with its own air mass and
// the hybrid vertical closure (solvers/sphere_transport_3d.hpp); after every transport sub-step
// the surface fluxes (physics/co2_fluxes.hpp) enter the lowest layer and the sub-grid vertical
// mixing relaxes the column. One step() is at most one interval (the data set's sample
// interval, 6 h), taken in equal sub-steps of at most max_substep and the transport's max_dt.
//
// The same object serves `aeolus run` (step / step_all through the common time loop), `aeolus
// dataset` (advance with the flux integrals the files store) and the CO2 emulator steppers
// (emulators/co2_stepper.hpp: the air mass, and the hybrid mode's classical copy, advance here).
#include <memory>
#include <string>
#include <vector>

#include "grids/cartesian_grid.hpp"
#include "grids/field.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/co2_fluxes.hpp"
#include "physics/co2_met.hpp"
#include "solvers/sphere_scheme.hpp"
#include "solvers/sphere_transport_3d.hpp"
#include "solvers/stepper.hpp"

namespace aeolus {

struct Co2TransportParams {
  physics::Co2MetParams met;        // the circulation
  physics::Co2FluxParams fluxes;    // the surface sources
  physics::Co2MixingParams mixing;  // sub-grid vertical mixing of the CO2
  SphereSchemeParams scheme;        // horizontal reconstruction and limiter
  real_t cfl = 0.5;                 // meridional and vertical Courant limit of a sub-step
  real_t max_substep = 3600.0;      // s: the flow is evaluated once per sub-step
  real_t interval = 21600.0;        // s: the largest step() (the data set's sample interval)
};

// Time integrals of the three surface fluxes over an interval for the owned columns (index
// jl * nlon + i), kg CO2 m^-2.
struct Co2FluxSums {
  std::vector<real_t> anthro, land, ocean;
  void reset(size_t n) {
    anthro.assign(n, 0.0);
    land.assign(n, 0.0);
    ocean.assign(n, 0.0);
  }
};

class Co2TransportStepper : public Stepper {
 public:
  // decomposition: the 3D sphere DMDA (SphereGrid::decomposition_params, halo >=
  // sphere_halo_width(p.scheme), whole columns on every rank); it must outlive the stepper.
  // The air mass starts on the hybrid coordinate of the meteorology's surface pressure at t0.
  // Throws ConfigError for bad parameters (those of the meteorology, fluxes and transport).
  // Collective.
  Co2TransportStepper(const CartesianGrid& decomposition, real_t radius,
                      const Co2TransportParams& p, real_t t0 = 0);
  ~Co2TransportStepper() override;

  std::string name() const override { return "classical"; }
  real_t max_dt(const Field&, real_t) const override { return p_.interval; }
  // The transport's Courant number of one sub-step of the step dt.
  real_t courant(real_t t, real_t dt) const override;
  // One step of at most `interval` (NumericsError otherwise): advance() of the field(s).
  void step(Field& q, real_t& t, real_t& dt) override;
  void step_all(const std::vector<Field*>& qs, real_t& t, real_t& dt) override;
  // The air mass (dp, Pa), the state a bitwise restart needs besides the tracers.
  std::vector<Field*> state_fields() override { return {&air_mass()}; }

  // Advances the air mass and `tracers` (mixing ratios, kg/kg) over [t, t + interval] in equal
  // sub-steps (each at most max_substep and the transport's max_dt at t): per sub-step the
  // transport, then the surface flux at the sub-step's midpoint into the lowest layer, then the
  // sub-grid vertical mixing (boundary layer and convection; column-conservative). `sums`
  // (optional, sized to the owned columns) accumulates the flux integrals. Returns the
  // sub-step count and the CO2 mass the fluxes added per tracer (kg). Collective.
  struct Interval {
    int substeps = 0;
    real_t source_kg = 0;
  };
  Interval advance(const std::vector<Field*>& tracers, real_t t, real_t interval,
                   Co2FluxSums* sums);

  const SphereGrid& grid() const { return grid_; }
  const Co2TransportParams& params() const { return p_; }
  const physics::SyntheticMeteorology& met() const { return met_; }
  // The air mass dp (Pa) of every cell (kg = dp area / g); writable for restarts.
  Field& air_mass() { return transport_->air_mass(); }
  const Field& air_mass() const { return transport_->air_mass(); }
  // Largest residual of the hybrid closure in the last transport sub-step (Pa).
  real_t last_closure_residual() const { return transport_->last_closure_residual(); }

 private:
  SphereGrid grid_;
  Co2TransportParams p_;
  physics::SyntheticMeteorology met_;
  physics::Co2SurfaceFluxes fluxes_;
  std::unique_ptr<SphereTransport3dStepper> transport_;
  std::vector<real_t> fa_, fl_, fo_, total_, blh_;  // per sub-step work (owned columns)
};

}  // namespace aeolus
