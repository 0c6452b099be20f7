// The checks of the synthetic meteorology's parameters (physics/co2_met.hpp): light, no PETSc or
// MPI calls, so that the aeolus launcher checks a case file without loading them.
#include <sstream>

#include "grids/error.hpp"
#include "physics/co2_met.hpp"

namespace aeolus::physics {

namespace {

void check_range(const char* key, real_t value, real_t lo, real_t hi, const char* unit) {
  if (!(value >= lo && value <= hi)) {
    std::ostringstream os;
    os << "co2_met." << key << " = " << value << ", expected " << lo << " <= " << key
       << " <= " << hi << " (" << unit << ")";
    throw ConfigError(os.str());
  }
}

}  // namespace

void validate(const Co2MetParams& p) {
  check_range("mean_surface_pressure", p.mean_surface_pressure, 5.0e4, 1.2e5, "Pa");
  check_range("jet_speed", p.jet_speed, 0.0, 100.0, "m/s");
  check_range("trade_wind_speed", p.trade_wind_speed, 0.0, 30.0, "m/s");
  check_range("wave_count", p.wave_count, 0, 32, "waves");
  check_range("wave_speed", p.wave_speed, 0.0, 40.0, "m/s");
  check_range("hadley_strength", p.hadley_strength, 0.0, 1.0e12, "kg/s");
  check_range("tide_amplitude", p.tide_amplitude, 0.0, 1000.0, "Pa");
  check_range("ps_relaxation_time", p.ps_relaxation_time, 60.0, 1.0e8, "s");
}

}  // namespace aeolus::physics
