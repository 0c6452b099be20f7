#include "solvers/co2_transport.hpp"

#include <algorithm>
#include <cmath>

#include "grids/error.hpp"
#include "grids/format.hpp"

namespace aeolus {

Co2TransportStepper::Co2TransportStepper(const CartesianGrid& decomposition, real_t radius,
                                         const Co2TransportParams& p, real_t t0)
    : grid_(decomposition, radius), p_(p), met_(grid_, p.met), fluxes_(grid_, p.fluxes) {
  Field dp(grid_.grid(), "dp");
  met_.initial_air_mass(t0, dp);
  // The balancing of the flow follows the transport's own air mass (closed loop).
  auto flow = met_.flow(
      [this]() -> const Field* { return transport_ ? &transport_->air_mass() : nullptr; });
  transport_ = std::make_unique<SphereTransport3dStepper>(grid_, flow, p.scheme, p.cfl, dp);
  transport_->set_vertical_closure(met_.coordinate());
}

Co2TransportStepper::~Co2TransportStepper() = default;

real_t Co2TransportStepper::courant(real_t t, real_t dt) const {
  return transport_->courant(t, std::min(dt, p_.max_substep));
}

void Co2TransportStepper::step(Field& q, real_t& t, real_t& dt) { step_all({&q}, t, dt); }

void Co2TransportStepper::step_all(const std::vector<Field*>& qs, real_t& t, real_t& dt) {
  if (!(dt > 0) || dt > p_.interval * (1 + 1e-12)) {
    throw NumericsError("co2 " + name() + " step: dt = " + fmt("%g", dt) + " s, expected at most " +
                        fmt("%g", p_.interval) + " s (dataset.sample_hours)");
  }
  advance(qs, t, dt, nullptr);
  t += dt;
}

Co2TransportStepper::Interval Co2TransportStepper::advance(const std::vector<Field*>& tracers,
                                                           real_t t, real_t interval,
                                                           Co2FluxSums* sums) {
  const real_t hmax = std::min(p_.max_substep, transport_->max_dt(transport_->air_mass(), t));
  const int n = std::max(1, int(std::ceil(interval / hmax - 1e-9)));
  const real_t h = interval / n;
  Interval r;
  r.substeps = n;
  for (int s = 0; s < n; ++s) {
    real_t ts = t + s * h, dt = h;
    transport_->step_all(tracers, ts, dt);
    fluxes_.fluxes(t + (s + 0.5) * h, fa_, fl_, fo_);
    total_.resize(fa_.size());
    for (size_t i = 0; i < fa_.size(); ++i) {
      total_[i] = fa_[i] + fl_[i] + fo_[i];
      if (sums) {
        sums->anthro[i] += fa_[i] * h;
        sums->land[i] += fl_[i] * h;
        sums->ocean[i] += fo_[i] * h;
      }
    }
    if (!tracers.empty()) met_.boundary_layer_height(t + (s + 0.5) * h, blh_);
    for (Field* q : tracers) {
      physics::co2_add_surface_flux(grid_, transport_->air_mass(), total_, h, *q);
      physics::co2_mix_vertical(grid_, met_.coordinate(), transport_->air_mass(), blh_, p_.mixing,
                                h, *q);
    }
    r.source_kg += physics::co2_surface_integral(grid_, total_) * h;
  }
  return r;
}

}  // namespace aeolus
