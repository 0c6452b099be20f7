// The checks of the CO2 surface-flux and mixing parameters (physics/co2_fluxes.hpp): light, no
// PETSc or MPI calls, so that the aeolus launcher checks a case file without loading them.
#include <sstream>

#include "grids/error.hpp"
#include "physics/co2_fluxes.hpp"

namespace aeolus::physics {

namespace {

void check_range(const char* key, real_t value, real_t lo, real_t hi, const char* unit) {
  if (!(value >= lo && value <= hi)) {
    std::ostringstream os;
    os << "co2_fluxes." << key << " = " << value << ", expected " << lo << " <= " << key
       << " <= " << hi << " (" << unit << ")";
    throw ConfigError(os.str());
  }
}

}  // namespace

void validate(const Co2FluxParams& p) {
  check_range("fossil_gtc_per_year", p.fossil_gtc_per_year, 0.0, 100.0, "GtC/yr");
  check_range("ocean_gtc_per_year", p.ocean_gtc_per_year, -100.0, 100.0, "GtC/yr");
  check_range("biosphere_amplitude", p.biosphere_amplitude, 0.0, 1e-5, "kg CO2 m-2 s-1");
  check_range("biosphere_diurnal_amplitude", p.biosphere_diurnal_amplitude, 0.0, 1e-5,
              "kg CO2 m-2 s-1");
  check_range("fossil_seasonal", p.fossil_seasonal, 0.0, 1.0, "relative");
  check_range("fossil_diurnal", p.fossil_diurnal, 0.0, 1.0, "relative");
  check_range("ocean_seasonal", p.ocean_seasonal, 0.0, 1.0, "relative");
}

void validate(const Co2MixingParams& p) {
  check_range("boundary_layer_time", p.boundary_layer_time, 1.0, 1.0e7, "s");
  check_range("convective_time", p.convective_time, 0.0, 1.0e9, "s, 0 = off");
  check_range("convective_top_sigma", p.convective_top_sigma, 0.0, 1.0, "p / ps");
  check_range("scale_height", p.scale_height, 1000.0, 20000.0, "m");
}

}  // namespace aeolus::physics
