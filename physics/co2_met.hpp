#pragma once
// Synthetic meteorology for the CO2 transport dataset (issue 7, a CarbonBench-like set generated
// without downloads): a seeded, time-varying global circulation on the latitude-longitude grid
// with hybrid sigma-pressure levels, given to SphereTransport3dStepper as air-mass fluxes, plus
// the diagnostics CarbonBench carries (u, v, omega, boundary-layer height, TOA incident solar
// radiation, surface pressure).
//
// Conventions (as physics/sphere_flow_3d.hpp): level k = 0 (model top) .. nlev-1 (surface), interface kf
// = 0 .. nlev, p_kf = a_kf p0 + b_kf ps; winds in m/s, omega = Dp/Dt in Pa/s positive DOWNWARD;
// the air mass of a cell is its pressure thickness dp (Pa; kg = dp area / g). Time t is in
// seconds since 00:00 UTC on 1 January of year 0 of a 365-day calendar (no leap days, so a year
// is exactly 1460 samples of 6 h); longitude 0 is Greenwich, so local solar time is
// t (mod 1 day) + lon / (2 pi) days (the equation of time is ignored).
//
// The circulation (all parts seeded or seasonal, none periodic as a whole):
//  1. zonal-mean zonal wind, non-divergent: a westerly jet per hemisphere,
//       u = U_h(t) J(sigma) exp(-((lat - lat_h(t)) / 12 deg)^2),
//     J(sigma) = 0.15 + 0.85 exp(-ln^2(sigma / 0.25) / (2 * 0.55^2)) (core at 250 hPa, 7 m/s
//     surface westerlies under a 40 m/s jet), U_N = jet_speed (1 - 0.3 s), lat_N = 42 + 5 s deg,
//     U_S = jet_speed (1 + 0.2 s), lat_S = -45 + 5 s deg, s(t) = cos(2 pi (t - 196 d) / year)
//     (+1 mid-July, -1 mid-January), each core latitude wobbling by a seeded +-2.5 deg with a
//     seeded period of 20-60 days; trade easterlies -trade_wind_speed L(sigma) at lat_itcz +- 15
//     deg (width 10 deg), L = max(0, (sigma - 0.5) / 0.5); lat_itcz(t) = 2 + 5 s deg.
//     Climatology after Peixoto & Oort (1992, Physics of Climate, ch. 7): jet cores 30-45 m/s
//     near 200-250 hPa at 30-45 deg in winter, weaker and poleward in summer.
//  2. travelling waves, non-divergent: wave_count waves, alternating hemispheres, stream function
//       psi_n = a V_n A_n(t) W(sigma) cos(lat) exp(-((lat - lat_n) / w_n)^2)
//               cos(m_n (lon - Omega_n t) - theta_n),
//     W(sigma) = 0.4 + 0.6 exp(-ln^2(sigma / 0.3) / (2 * 0.7^2)) (equivalent barotropic);
//     waves n with n / 2 even are planetary (m = 1-3, lat_n = U(45, 65) deg, phase speed
//     U(-4, 4) m/s at lat_n, peak meridional wind V_n m_n = U(0.4, 0.8) wave_speed), the others
//     synoptic (m = 4-7, lat_n = U(38, 58) deg, U(6, 14) m/s eastward, V_n m_n = U(0.7, 1.3)
//     wave_speed); w_n = U(10, 16) deg; amplitude A_n(t) = (1 + 0.25 winter_h(t)) (0.6 + 0.4 sin(2
//     pi t / P_n + phi_n)), P_n = U(15, 45) days; phases U(0, 2 pi). Seeded (mt19937_64,
//     grids/random.hpp), so the waves' periods are incommensurate and the flow never repeats.
//  3. Hadley and Ferrel overturning, divergent: a meridional mass stream function (kg/s around
//     the whole circle)
//       Psi = hadley_strength G(sigma) cos(lat) sum_c s_c(t) exp(-((lat - lat_c(t)) / w_c)^2),
//     G = sin(pi x^2.5), x = (sigma - 0.15) / 0.85 (0 at 150 hPa and the surface, maximum near
//     800 hPa: a shallow strong lower branch, a deep return flow); cells: NH Hadley at lat_itcz
//     + 13 deg (w 9 deg, s = 1 - 0.6 s(t)), SH Hadley at lat_itcz - 13 deg (s = -(1 + 0.6 s)),
//     Ferrel cells at lat_N + 3 deg and lat_S - 3 deg (w 10 deg, -0.35 and +0.35 times the
//     Hadley strengths of their hemisphere); zonally modulated by 1 + 0.4 cos(lon - lon_m(t)),
//     lon_m = 100 deg E + 20 deg s (Asian monsoon / warm pool). The layer k mass flux through a
//     latitude segment [lon_i, lon_i+1] is (Psi(sigma_k+1) - Psi(sigma_k)) / (2 pi) times the
//     integral of the modulation (closed form); Peixoto & Oort give 1-2e11 kg/s for the winter
//     cell. Vertical motion is not prescribed: the transport's hybrid closure derives it
//     (SphereTransport3dStepper::set_vertical_closure), so it is consistent with the discrete
//     horizontal divergence of every layer.
//  4. surface pressure ps_a(lon, lat, t) = mean_surface_pressure + zonal part (subtropical highs
//     +900 Pa at +-32 deg, subpolar lows -1200 Pa (-1560 Pa in the SH) at +-62 deg, an
//     interhemispheric seasonal mass shift -150 s(t) sin(lat) Pa; minus its discrete area mean)
//     + the geostrophic surface pressure of the waves rho0 f_n psi_n(sigma = 1) (rho0 = 1.2
//     kg/m^3, f_n = 2 Omega sin(lat_n): lows under cyclonic flow) + the semidiurnal tide
//     tide_amplitude cos^3(lat) cos(2 h + pi / 3) (h the local solar hour angle: maxima at 10 and
//     22 local time; S2 after Dai & Wang 1999, J. Climate 12). The transported ps stays
//     within 93.9-102.0 kPa over a year at 32 x 64 x 10 (1 h steps), within 170 Pa of ps_a: the
//     band of sea-level pressure (95-105 kPa) shifted by the 2.6 kPa that the mean without
//     topography lies below the mean sea-level pressure.
//  5. surface-pressure balancing (the TM5 / GEOS-Chem idea of adjusting offline mass fluxes to
//     the analysed surface pressure): the flow of [t, t + dt] adds one barotropic divergent
//     correction so that the column mass tendency it predicts (layer air-mass fluxes = swept
//     area times the mean of the two cells' dp on the hybrid coordinate of the current ps)
//     equals ps_a(t + dt) - ps_a(t) + (1 - exp(-dt / tau)) (ps_a(t) - ps(t)), tau =
//     ps_relaxation_time. ps is the transport's own column mass when the flow is given the
//     stepper's air mass (closed loop: the transported ps follows ps_a, errors relax in tau),
//     ps_a otherwise. The correction flux is -grad(chi) on the grid (5-point Laplacian with face
//     lengths over centre distances), solved on every rank for the whole globe: zonal-mean part by
//     integration from the south pole, the rest by a DFT in longitude and a tridiagonal solve in
//     latitude per wavenumber; it is distributed over the levels as a uniform swept area
//     (flux / (ps_face - p_top)). Without it, prescribed velocities make ps unstable where the
//     low-level flow converges (the mass flux grows with ps: e-folding in days in the ITCZ).
// Swept areas: non-divergent parts as exact stream-function differences between face corners
// (psi at the poles is independent of longitude: every non-zonal part carries cos(lat), taken
// from SphereGrid::cos_lat_edge, exactly 0 there), the overturning and the correction as closed
// forms; all at t + dt / 2 (the flow varies on scales >= 12 h; use sub-steps <= 1 h). The layer
// swept area of a mass flux is mass flux / dp_ref_k, dp_ref at mean_surface_pressure.
// Magnitudes (defaults, a year sampled every 10 days): |u| <= 56 m/s, |v| <= 23 m/s, |omega| <=
// 0.06 Pa/s (no synoptic-scale divergence beyond the balancing: weak vertical motion, so the
// tracer needs the sub-grid mixing of physics/co2_fluxes.hpp); with 1 h steps the largest
// meridional / zonal / vertical Courant numbers are 0.19 / 0.45 / 0.033 at 32 x 64 x 10 and
// 0.39 / 1.0 / 0.035 at 64 x 128 x 20, max_dt (cfl 0.9) 4.6-12.7 h and 2.3-6.5 h.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "grids/field.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/sphere_flow_3d.hpp"

namespace aeolus::physics {

// Physical constants of the CO2 dataset (one definition for the whole pipeline).
namespace co2 {
constexpr real_t kGravity = 9.80665;          // m s^-2, standard gravity (kg of air = dp area / g)
constexpr real_t kDay = 86400.0;              // s
constexpr real_t kYear = 365.0 * kDay;        // s, the dataset's 365-day calendar year
constexpr real_t kEarthRotation = 7.292e-5;   // rad/s, Omega (sidereal)
constexpr real_t kMolarMassAir = 28.9647e-3;  // kg/mol, dry air (US Standard Atmosphere 1976)
constexpr real_t kMolarMassCo2 = 44.0095e-3;  // kg/mol (IUPAC)
constexpr real_t kMolarMassC = 12.0107e-3;    // kg/mol (IUPAC)
// CarbonBench (neural_transport/tools/conversion.py) uses 44.009 / 28.9652: 2e-5 relative.
// 1 ppmv (umol/mol) of CO2 as a mass mixing ratio, kg/kg: 1e-6 * 44.0095 / 28.9647 = 1.51942e-6.
constexpr real_t kMassMixingPerPpmv = 1e-6 * kMolarMassCo2 / kMolarMassAir;
constexpr real_t kKgCo2PerKgC = kMolarMassCo2 / kMolarMassC;  // 3.66420
constexpr real_t kSolarConstant = 1361.0;  // W m^-2 (Kopp & Lean 2011; GraphCast/CarbonBench TSI)
}  // namespace co2

// Vertical coordinate of the dataset, p0 = 101300 Pa, model top p = 0 (as TM5 / CarbonTracker).
//  nlev = 10: CarbonBench's "l10" layers (neural_transport CARBONTRACKER_LEVEL_AGG: CT2022's
//    TM5 levels aggregated), interface pressures at ps = 1013 hPa, surface to top: 1013, 1005,
//    995, 971, 943, 843, 642, 441, 243, 73, 0 hPa (the layers' bottoms are CarbonBench's level
//    coordinates).
//  other nlev >= 2: a smooth analytic set with thin layers at the surface and at the top,
//    sigma(x) = 1 - x + 0.7 sin(2 pi x) / (2 pi), x = (nlev - kf) / nlev (thickness 0.3x the
//    mean at both ends, 1.7x in the middle; nlev = 20 gives a 15 hPa surface layer).
// Hybrid split of the reference sigma = p_ref / p0: b = ((sigma - 0.1) / 0.9)^1.2 above sigma =
// 0.1, else 0 (pure pressure above 101 hPa, sigma at the surface: b_nlev = 1), a = sigma - b.
// Layers stay positive for ps in [50, 110] kPa (checked). Throws ConfigError for nlev < 2.
HybridCoordinate co2_vertical_coordinate(index_t nlev);

struct Co2MetParams {
  std::uint64_t seed = 2024;
  real_t mean_surface_pressure = 98550.0;  // Pa (Trenberth & Smith 2005, J. Climate 18: 985.50 hPa)
  real_t jet_speed = 35.0;                 // m/s, annual-mean jet core (see 1. above)
  real_t trade_wind_speed = 7.0;           // m/s
  int wave_count = 8;                      // travelling waves, 0..32
  real_t wave_speed = 10.0;                // m/s, meridional wind scale of the waves
  real_t hadley_strength = 1.0e11;         // kg/s, annual-mean Hadley cell maximum
  real_t tide_amplitude = 110.0;           // Pa, S2 tide at the equator
  real_t ps_relaxation_time = 21600.0;     // s, tau of the surface-pressure balancing
};
// Throws ConfigError naming the key, the value and the valid range.
void validate(const Co2MetParams& p);

// Geography and sun, shared by the meteorology and the surface fluxes.
// Land fraction of the point (lon, lat) (radians): 1 inside any of 36 ellipses in (lon, lat)
// degrees that outline the continents (North and South America, Greenland, Europe, Africa,
// Asia, the Arabian and Indian peninsulas, South-East Asia, Australia; Antarctica south of 70 S),
// else 0. Coarse by design (5.6 deg cells), analytic and not seeded.
bool co2_is_land(real_t lon, real_t lat);
// Land fraction of cell (i, j): the mean of co2_is_land over 4 x 4 points in the cell.
real_t co2_land_fraction(const SphereGrid& g, index_t i, index_t j);
// Solar declination (rad) at t: asin(sin(23.44 deg) sin(2 pi (t - 79 d) / year)) (equinox on
// day 79 = 20 March), and the Earth-Sun distance in AU, 1 - 0.01671 cos(2 pi (t - 3 d) / year)
// (perihelion 4 January): sinusoidal approximations, within ~1 deg and ~1e-3 AU.
real_t co2_solar_declination(real_t t);
real_t co2_sun_distance(real_t t);
// Cosine of the solar zenith angle at (lon, lat) and t (may be negative: night).
real_t co2_cos_zenith(real_t lon, real_t lat, real_t t);

class SyntheticMeteorology {
 public:
  // g: 3D sphere grid (nlev >= 2, whole columns on every rank; it must outlive this object
  // and every flow() it returns). Throws ConfigError for bad params or such a grid. Collective.
  SyntheticMeteorology(const SphereGrid& g, const Co2MetParams& p);
  ~SyntheticMeteorology();

  const HybridCoordinate& coordinate() const;
  const Co2MetParams& params() const;

  // The flow as a stepper input: swept areas of [t, t + dt] for the rank's rows (all parts 1-5
  // above) and, in `vertical`, the hybrid-closure estimate from the same fluxes (column mass
  // change distributed as db_k, assuming dp on the coordinate of the current ps). `air_mass`
  // gives the transport's current air mass for the balancing (e.g. [&] { return
  // &stepper->air_mass(); }, evaluated at every call; may return nullptr before the stepper
  // exists); without it the balancing uses ps_a. Collective (two allgathers of a 2D field).
  SphereFlow3dFunction flow(std::function<const Field*()> air_mass = {}) const;

  // Owned cells of dp (3D field on g) = dp_k(ps_a(t0)) on the hybrid coordinate.
  void initial_air_mass(real_t t0, Field& dp) const;
  // ps_a at t for the owned columns, index jl * nlon + i (Pa).
  void surface_pressure(real_t t, std::vector<real_t>& ps) const;
  // Point value of ps_a (Pa), without the grid-dependent removal of the zonal part's mean.
  real_t surface_pressure_at(real_t lon, real_t lat, real_t t) const;

  // Diagnostics of the owned cells at t (3D fields on g, values at the cell centres):
  // u, v (m/s): the prescribed parts 1-3 (point values of 1-2 at the layer's reference mid
  // sigma, layer means of 3; the balancing correction, typically < 1 m/s, is not included).
  void winds(real_t t, Field& u, Field& v) const;
  // omega (Pa/s, positive down) of the open-loop flow at t: the mean over each layer's two
  // interfaces of omega_kf = W_kf + b_kf (dps/dt + v.grad ps_a), W the hybrid-closure mass flux
  // rate (Pa/s, positive down) of the instantaneous fluxes, dps/dt the column tendency they
  // give. Collective. For output consistent with a run, prefer the stepper's
  // last_vertical_fluxes() / dt plus the same b_kf terms.
  void omega(real_t t, Field& omega) const;
  // Boundary-layer height (m) of the owned columns (index jl * nlon + i): land f * (200 + 1300
  // max(0, mu)^0.8) + (1 - f) * (500 + 300 cos^2 lat), mu = cos zenith 2.5 h earlier (peak in
  // the afternoon), f the land fraction, times 1 - 0.2 tanh(ps' / 1000 Pa) (deeper under lows;
  // ps' the wave part of ps_a). Typical ranges after Seidel et al. (2012, JGR 117).
  void boundary_layer_height(real_t t, std::vector<real_t>& blh) const;
  // TOA incident solar radiation (J m^-2) of the owned columns: the flux S0 / r^2 max(0, mu)
  // integrated in closed form over the hour ending at t (the ERA5 `tisr` accumulation that
  // CarbonBench computes with GraphCast's solar_radiation.py; declination fixed over the hour).
  void toa_incident_solar_radiation(real_t t, std::vector<real_t>& tisr) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace aeolus::physics
