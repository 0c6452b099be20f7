#pragma once
// Surface CO2 fluxes, the initial CO2 field and the surface source of the synthetic CO2 dataset
// (issue 7). Units as CarbonBench: fluxes in kg CO2 m^-2 s^-1, positive upward (into the
// atmosphere). CarbonBench's co2flux_land / _ocean / _anthro are CarbonTracker CT2022's
// bio_flux_opt, ocn_flux_opt and fossil_flux_imp + fire_flux_imp (mol m^-2 s^-1) times M_CO2 =
// 44.009e-3 kg/mol (vitusbenson/neural_transport, datasets/carbontracker.py and
// tools/conversion.py): kg of CO2, not of carbon. The tracer is the CO2 mass mixing ratio q
// (kg/kg; CarbonBench's co2massmix is q * 1e6) on the air mass dp of the transport (Pa), so a
// cell holds q dp area / g kg of CO2 (g = co2::kGravity).
//
// Fluxes (owned columns of the grid; t as in physics/co2_met.hpp, 365-day years):
//  anthro  F = r_f P_f(x) (1 + fossil_seasonal tanh(lat / 10 deg) cos(2 pi (t - 15 d) / year))
//              (1 + fossil_diurnal cos(h - h_14)), h the local solar hour angle, h_14 that of
//          14 local time. P_f: 14 Gaussian hot spots (centre, e-folding width in degrees of
//          distance, share), after the 2019 regional shares of fossil CO2 (Global Carbon
//          Project 2020, rounded): eastern China (116E 34N, 6, 0.26), Korea/Japan (130E 37N, 4,
//          0.05), India (79E 24N, 6, 0.07), eastern US (82W 39N, 6, 0.10), Texas (96W 32N, 4,
//          0.025), California (118W 36N, 4, 0.025), western Europe (6E 50N, 6, 0.07), western
//          Russia (37E 55N, 7, 0.05), Persian Gulf / Iran (50E 28N, 5, 0.06), South-East Asia
//          (105E 10N, 6, 0.03), Mexico (99W 20N, 3, 0.012), south-east Brazil (46W 23S, 4,
//          0.013), South Africa (28E 26S, 3, 0.013), south-east Australia (149E 34S, 3, 0.012),
//          and 0.22 spread over land between 60 S and 60 N (land fraction times a
//          gauss(lat, 25 N, 25 deg)); centres jittered by U(-1, 1) deg and shares by U(0.9, 1.1)
//          from the seed. Each blob is normalised by its own grid integral, and r_f so that the
//          grid integral of r_f P_f is fossil_gtc_per_year (converted to kg CO2 per s).
//  ocean   F = r_o P_o(x) (1 + ocean_seasonal tanh(lat / 10 deg) cos(2 pi (t - 15 d) / year)),
//          P_o = (1 - land fraction) (-0.8 gauss(lat, 45 N, 10) - 1.0 gauss(lat, 45 S, 10) +
//          0.6 gauss(lat, 0, 8) (1 + cos(lon - 240 deg)) / 2): uptake in the mid-latitude
//          oceans (stronger in winter), outgassing in the eastern equatorial Pacific (Takahashi
//          et al. 2009, Deep-Sea Res. II 56, qualitatively); r_o so that its grid integral is
//          ocean_gtc_per_year.
//  land    F = -biosphere_amplitude A_s(x) [w_N S(t - t_N) + (1 - w_N) S(t - t_S)]
//              -biosphere_diurnal_amplitude A_d(x) [w_N G(t - t_N) + (1 - w_N) G(t - t_S)]
//               cos(h - h_13),
//          S(tau) = cos(w tau) + 0.5 cos(2 w tau) (net uptake peaking at tau = 0, release in
//          winter), G(tau) = (1 + cos(w tau)) / 2 (growing-season strength of the diurnal cycle:
//          uptake around 13 local time, respiration at night), w = 2 pi / year, t_N = 196 d
//          (mid-July) + 5 d sin(lon - lon_seed), t_S = t_N - 181 d, w_N = (1 + tanh(lat / 10
//          deg)) / 2; A_s = v(x) (gauss(lat, 50 N, 15) + 0.25 gauss(lat, 0, 15) + 0.4
//          gauss(lat, 30 S, 12)), A_d = v(x) (0.6 gauss(lat, 50 N, 15) + gauss(lat, 0, 15) + 0.6
//          gauss(lat, 25 S, 15)), v the vegetated fraction (land, not desert: Sahara, Arabia,
//          Gobi, inner Australia, south-western US; not north of 70 N or south of 60 S). A sum
//          of harmonics of the year and the day in t for every cell, so its annual mean is
//          exactly zero (and a 6-hourly sum over a whole year too). Defaults: peak NEE ~1.5e-7
//          (seasonal) and ~2.5e-7 kg CO2 m^-2 s^-1 (diurnal), i.e. 3-6 umol m^-2 s^-1 (eddy-
//          covariance magnitudes), ~3 GtC per month drawn down by the NH in summer.
// Every part except the biosphere is a fixed pattern times (1 + zero-mean harmonics of the year
// and day), so the fossil and ocean totals over any whole year are exactly the parameters (to
// round-off, on the grid in use).
//
// Budget arithmetic with the defaults (mean surface pressure 98550 Pa, a = 6.37122e6 m): the
// atmosphere holds ps 4 pi a^2 / g = 5.126e18 kg of air = 1.770e20 mol, so 1 ppmv of CO2 =
// 1.770e14 mol = 2.126 GtC (the real atmosphere's 2.12 GtC/ppm). The global mean therefore
// rises by (10 - 2.5) / 2.126 = 3.53 ppmv per year, not the "roughly 2 ppm/yr": with a
// zero-mean biosphere that needs fossil + ocean = 4.25 GtC/yr (e.g. fossil_gtc_per_year = 6.75
// with the ocean at -2.5). The real world's ~2.4 ppmv/yr comes with fossil ~10, ocean ~-2.9 and
// a net land sink of ~-2 GtC/yr (Friedlingstein et al. 2022, ESSD 14, Global Carbon Budget).
#include <cstdint>
#include <vector>

#include "grids/field.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/sphere_flow_3d.hpp"

namespace aeolus::physics {

struct Co2FluxParams {
  std::uint64_t seed = 2024;
  real_t fossil_gtc_per_year = 10.0;            // GtC/yr, annual total of anthro
  real_t ocean_gtc_per_year = -2.5;             // GtC/yr, annual total of ocean (< 0: sink)
  real_t biosphere_amplitude = 1.0e-7;          // kg CO2 m^-2 s^-1 (seasonal NEE scale)
  real_t biosphere_diurnal_amplitude = 2.5e-7;  // kg CO2 m^-2 s^-1 (diurnal NEE scale)
  real_t fossil_seasonal = 0.08;                // relative, winter maximum
  real_t fossil_diurnal = 0.10;                 // relative, maximum at 14 local time
  real_t ocean_seasonal = 0.3;                  // relative, winter maximum of the uptake
};
// Throws ConfigError naming the key, the value and the valid range.
void validate(const Co2FluxParams& p);

// kg of CO2 per second of an annual total in GtC per (365-day) year.
real_t co2_kg_per_second(real_t gtc_per_year);

class Co2SurfaceFluxes {
 public:
  // g: 2D or 3D sphere grid (only its columns are used; it must outlive this object). Builds
  // the patterns and their normalisations (no communication: every rank integrates over all
  // cells in the same order). Throws ConfigError for bad params.
  Co2SurfaceFluxes(const SphereGrid& g, const Co2FluxParams& p);

  // The three fluxes at t for the owned columns (index jl * nlon + i), kg CO2 m^-2 s^-1.
  void fluxes(real_t t, std::vector<real_t>& anthro, std::vector<real_t>& land,
              std::vector<real_t>& ocean) const;
  // Their sum (the surface source of the tracer).
  void total_flux(real_t t, std::vector<real_t>& flux) const;
  // Land fraction of the owned columns (co2_land_fraction).
  const std::vector<real_t>& land_fraction() const { return land_; }
  const Co2FluxParams& params() const { return p_; }

 private:
  const SphereGrid& g_;
  Co2FluxParams p_;
  std::vector<real_t> land_, fossil_, ocean_, bio_s_, bio_d_, t_north_;  // owned columns
};

// Global integral sum(f area) over the owned columns of all ranks (collective), e.g. kg CO2/s
// for a flux.
real_t co2_surface_integral(const SphereGrid& g, const std::vector<real_t>& f);

// Initial CO2 (mass mixing ratio, kg/kg) of the owned cells of q on coordinate c: in ppmv,
//   mean_ppmv + 2 tanh(lat / 20 deg) (0.3 + 0.7 sigma) - 3 (1 - sigma)^2
//   + gauss(lat, 45 N, 15 deg) sigma^4 cos(lon - 100 deg),
// sigma = the layer's reference mid pressure / p0: an interhemispheric gradient of 4 ppm at the
// surface (north higher), 3 ppm less in the stratosphere, a continental anomaly of +-1 ppm in
// the northern boundary layer. Converted with co2::kMassMixingPerPpmv.
void co2_initial_mixing_ratio(const SphereGrid& g, const HybridCoordinate& c, real_t mean_ppmv,
                              Field& q);

// The surface source over dt: q_bottom += F dt g / dp_bottom for every owned column (F in kg
// CO2 m^-2 s^-1, index jl * nlon + i; q in kg/kg; dp the air mass, Pa), so the tracer mass
// sum(q dp area / g) changes by sum(F area dt) to round-off. Ranks that do not own the bottom
// level do nothing. Throws ConfigError for a flux vector of the wrong size.
void co2_add_surface_flux(const SphereGrid& g, const Field& dp, const std::vector<real_t>& flux,
                          real_t dt, Field& q);

// Sub-grid vertical mixing of the tracer (not in the list, but without it the surface
// source goes into the lowest layer only, 8 hPa thick with the l10 coordinate, and the hourly
// resolved vertical motion of ~0.05 Pa/s cannot carry it away: a year of 1 h steps without
// mixing gave surface values from -230 to 1700 ppmv). Two column relaxations towards the
// dp-weighted mean of a pressure range, each conserving sum_k q_k dp_k of the column to
// round-off and making no new extrema (q_k moves towards the mean by the fraction
// c_k = f_k (1 - exp(-dt / tau)), f_k the fraction of layer k inside the range):
//  boundary layer: from the surface up to p_bl = ps exp(-blh / H) (H = scale_height; the
//    hydrostatic depth of blh metres), tau = boundary_layer_time (turbulent mixing: minutes to
//    an hour; Stull 1988);
//  convection: from the surface up to convective_top_sigma ps, tau = convective_time (a crude
//    stand-in for sub-grid convection and eddies, which in CarbonTracker/TM5 mix the free
//    troposphere in days); convective_time = 0 switches it off.
struct Co2MixingParams {
  real_t boundary_layer_time = 3600.0;     // s
  real_t convective_time = 5.0 * 86400.0;  // s (0: off)
  real_t convective_top_sigma = 0.2;       // p / ps
  real_t scale_height = 8000.0;            // m, R T / g at ~273 K
};
// Throws ConfigError naming the key, the value and the valid range.
void validate(const Co2MixingParams& p);
// Applies both relaxations over dt to q (kg/kg) on the air mass dp (Pa) with the
// boundary-layer heights blh (m, owned columns jl * nlon + i; SyntheticMeteorology::
// boundary_layer_height). Needs all levels on the rank (ConfigError otherwise, or for a blh
// vector of the wrong size).
void co2_mix_vertical(const SphereGrid& g, const HybridCoordinate& c, const Field& dp,
                      const std::vector<real_t>& blh, const Co2MixingParams& p, real_t dt,
                      Field& q);

// Tracer mass sum(q dp area / g) over all cells (kg; collective).
real_t co2_tracer_mass(const SphereGrid& g, const Field& dp, const Field& q);

}  // namespace aeolus::physics
