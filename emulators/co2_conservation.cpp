// The double-precision conservation layer of the CO2 emulators (emulators/co2_conservation.hpp).
#include "emulators/co2_conservation.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "grids/error.hpp"

namespace aeolus::emulators {

namespace {

// Neumaier's variant of Kahan summation: exact to about one rounding of the result for sums of
// terms of any sign.
class CompensatedSum {
 public:
  void add(double x) {
    const double t = sum_ + x;
    if (std::abs(sum_) >= std::abs(x)) {
      c_ += (sum_ - t) + x;
    } else {
      c_ += (x - t) + sum_;
    }
    sum_ = t;
  }
  double value() const { return sum_ + c_; }

 private:
  double sum_ = 0.0, c_ = 0.0;
};

std::string str(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

}  // namespace

double co2_mass(const Co2Shape& s, const double* q, const double* airmass) {
  CompensatedSum sum;
  const std::size_t n = s.cells3d();
  for (std::size_t c = 0; c < n; ++c) sum.add(q[c] * airmass[c]);
  return sum.value();
}

double co2_surface_source_mass(const Co2Shape& s, const double* flux_total, const double* cell_area,
                               double dt) {
  CompensatedSum sum;
  for (int j = 0; j < s.nlat; ++j)
    for (int i = 0; i < s.nlon; ++i)
      sum.add(flux_total[std::size_t(j) * s.nlon + i] * cell_area[j] * dt);
  return sum.value();
}

void co2_add_surface_flux(const Co2Shape& s, const double* flux_total, const double* cell_area,
                          const double* airmass_next, double dt, double* q) {
  const std::size_t bottom = std::size_t(s.nlev - 1) * s.cells2d();
  for (int j = 0; j < s.nlat; ++j)
    for (int i = 0; i < s.nlon; ++i) {
      const std::size_t c2 = std::size_t(j) * s.nlon + i;
      q[bottom + c2] += flux_total[c2] * cell_area[j] * dt / airmass_next[bottom + c2];
    }
}

double co2_fix_mass_scale(const Co2Shape& s, const double* airmass_next, double target_mass,
                          double* q) {
  const double mass = co2_mass(s, q, airmass_next);
  if (!(mass > 0.0) || !std::isfinite(mass)) {
    throw NumericsError("CO2 mass fixer 'scale': the predicted CO2 mass is " + str(mass) +
                        " kg (target " + str(target_mass) +
                        "); expected a positive, finite mass to rescale");
  }
  const double factor = target_mass / mass;
  const std::size_t n = s.cells3d();
  for (std::size_t c = 0; c < n; ++c) q[c] *= factor;
  return factor;
}

double co2_fix_mass_shift(const Co2Shape& s, const double* airmass_next, double target_mass,
                          double* q) {
  const double mass = co2_mass(s, q, airmass_next);
  CompensatedSum air;
  const std::size_t n = s.cells3d();
  for (std::size_t c = 0; c < n; ++c) air.add(airmass_next[c]);
  if (!std::isfinite(mass) || !(air.value() > 0.0)) {
    throw NumericsError("CO2 mass fixer 'shift': predicted CO2 mass " + str(mass) +
                        " kg, total air mass " + str(air.value()) +
                        " kg; expected finite values and a positive air mass");
  }
  const double offset = (target_mass - mass) / air.value();
  for (std::size_t c = 0; c < n; ++c) q[c] += offset;
  return offset;
}

void co2_flux_form_update(const Co2Shape& s, const double* q, const double* airmass,
                          const double* airmass_next, const double* fx, const double* fy,
                          const double* fz, double* q_new) {
  const std::size_t plane = s.cells2d();
  for (int k = 0; k < s.nlev; ++k)
    for (int j = 0; j < s.nlat; ++j)
      for (int i = 0; i < s.nlon; ++i) {
        const std::size_t c = std::size_t(k) * plane + std::size_t(j) * s.nlon + i;
        const std::size_t west = c - i + (i == 0 ? s.nlon - 1 : i - 1);
        double div = fx[west] - fx[c];
        if (j > 0) div += fy[c - s.nlon];
        if (j < s.nlat - 1) div -= fy[c];
        if (k > 0) div += fz[c - plane];
        if (k < s.nlev - 1) div -= fz[c];
        q_new[c] = (q[c] * airmass[c] + div) / airmass_next[c];
      }
}

}  // namespace aeolus::emulators
