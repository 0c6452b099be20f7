#pragma once
// The CO2 transport dataset written by `aeolus dataset` on a co2_transport case and read by the
// CO2 emulators (training, evaluation, the emulator stepper). Variable names and units follow
// CarbonBench (Benson et al. 2024; vitusbenson/neural_transport, datasets/carbontracker.py):
// co2massmix in 1e-6 kg/kg, airmass in Pg, p_bottom/p_top in hPa, fluxes in kg CO2 m-2 s-1.
//
// Files: CASE/data/<split>/co2_year<NNNN>.nc, one per simulated year (365-day "noleap" years
// from 2000-01-01), split = train | valid | test. CF-1.8, NetCDF-4, every time-dependent variable
// chunked one time step per chunk and deflated.
//
// dimensions: time (unlimited), level (nlev), lat (nlat), lon (nlon), ilev (nlev + 1), nv (2)
// coordinates:
//   time(time)            hours since 2000-01-01 00:00:00, calendar noleap (sample times)
//   level(level)          reference pressure of the layer (Pa, positive down), bounds level_bnds
//   lat(lat), lon(lon)    cell centres (degrees), bounds lat_bnds / lon_bnds
//   hyai(ilev), hybi(ilev) hybrid coefficients of the interfaces: p = hyai p0 + hybi ps
//   cell_area(lat, lon)   m^2 (exact spherical cell areas)
// state and meteorology at the sample time t (instantaneous):
//   co2massmix(time, level, lat, lon)  double  1e-6 kg/kg  CO2 mass mixing ratio
//   airmass(time, level, lat, lon)     double  Pg          air mass of the cell
//   p_bottom, p_top(time, level, lat, lon)  float  hPa     pressure at the layer's lower/upper edge
//   u, v(time, level, lat, lon)        float   m s-1       eastward / northward wind
//   omega(time, level, lat, lon)       float   Pa s-1      vertical (pressure) velocity
//   blh(time, lat, lon)                float   m           boundary-layer height
//   tisr(time, lat, lon)               float   W m-2       TOA incident solar radiation
// fluxes: the MEAN over [t, t + dt_sample] of what the solver applied (cell_methods "time: mean"),
// so that the dataset closes the CO2 budget exactly:
//   co2flux_land, co2flux_ocean, co2flux_anthro(time, lat, lon)  double  kg m-2 s-1 (CO2)
//   sum_cells (co2massmix airmass)(t + dt) - (...)(t) = sum_cells F_total cell_area dt_sample
//   to round-off (in kg, after the unit factors 1e-6 and 1e12).
// Level k = 0 is the model top, k = nlev-1 the lowest layer (CarbonBench stores the surface
// first; we keep the solver's order and say so in the level coordinate's `positive` = "down").
// global attributes: Conventions = "CF-1.8", aeolus_complete = 1 (written last), dt_sample (s),
// year (0-based), split, case_name, config_hash, and the generator's seeds.
namespace aeolus::io::co2 {
inline constexpr const char* kCo2 = "co2massmix";
inline constexpr const char* kAirmass = "airmass";
inline constexpr const char* kPBottom = "p_bottom";
inline constexpr const char* kPTop = "p_top";
inline constexpr const char* kU = "u";
inline constexpr const char* kV = "v";
inline constexpr const char* kOmega = "omega";
inline constexpr const char* kBlh = "blh";
inline constexpr const char* kTisr = "tisr";
inline constexpr const char* kFluxLand = "co2flux_land";
inline constexpr const char* kFluxOcean = "co2flux_ocean";
inline constexpr const char* kFluxAnthro = "co2flux_anthro";
inline constexpr const char* kCellArea = "cell_area";
inline constexpr const char* kDtSample = "dt_sample";
// Unit factors between the file and SI: co2massmix_file = q * 1e6, airmass_file = kg * 1e-12,
// p_file = Pa * 1e-2.
inline constexpr double kCo2FileScale = 1e6;
inline constexpr double kAirmassFileScale = 1e-12;
inline constexpr double kPressureFileScale = 1e-2;
}  // namespace aeolus::io::co2
