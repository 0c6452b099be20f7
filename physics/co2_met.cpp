#include "physics/co2_met.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/random.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;
constexpr real_t kDeg = kPi / 180.0;
constexpr real_t kP0 = 101300.0;  // Pa, reference pressure of the coordinate (CT's 1013 hPa)
constexpr real_t kRho0 = 1.2;     // kg m^-3, surface air density of the geostrophic ps waves

real_t gauss(real_t x, real_t c, real_t w) {
  const real_t d = (x - c) / w;
  return std::exp(-d * d);
}
// Antiderivative of gauss(x, c, w) in x.
real_t gauss_int(real_t x, real_t c, real_t w) {
  return 0.5 * std::sqrt(kPi) * w * std::erf((x - c) / w);
}
real_t uniform(std::mt19937_64& rng, real_t lo, real_t hi) {
  return lo + (hi - lo) * uniform01(rng);
}

// +1 in mid-July, -1 in mid-January (seasonal phase of the circulation, ~4 weeks after the
// solstices).
real_t season(real_t t) { return std::cos(2.0 * kPi * (t - 196.0 * co2::kDay) / co2::kYear); }

// Vertical profiles of the parts of the flow (see co2_met.hpp).
real_t jet_profile(real_t sigma) {
  const real_t l = std::log(std::max(sigma, 1e-6) / 0.25);
  return 0.15 + 0.85 * std::exp(-l * l / (2.0 * 0.55 * 0.55));
}
real_t trade_profile(real_t sigma) { return std::max(0.0, (sigma - 0.5) / 0.5); }
real_t wave_profile(real_t sigma) {
  const real_t l = std::log(std::max(sigma, 1e-6) / 0.3);
  return 0.4 + 0.6 * std::exp(-l * l / (2.0 * 0.7 * 0.7));
}
real_t overturning_profile(real_t sigma) {
  if (sigma <= 0.15) return 0.0;
  const real_t x = std::min((sigma - 0.15) / 0.85, 1.0);
  return std::sin(kPi * std::pow(x, 2.5));
}

// Zonal surface-pressure part without its mean: static highs and lows, and the shape of the
// seasonal interhemispheric shift (multiplied by -150 s(t) Pa).
real_t ps_zonal_static(real_t lat) {
  return 900.0 * (gauss(lat, 32.0 * kDeg, 12.0 * kDeg) + gauss(lat, -32.0 * kDeg, 12.0 * kDeg)) -
         1200.0 *
             (gauss(lat, 62.0 * kDeg, 10.0 * kDeg) + 1.3 * gauss(lat, -62.0 * kDeg, 10.0 * kDeg));
}

struct Ellipse {
  real_t lon, lat, alon, alat;  // degrees
};
// Continents (centre and half-axes in degrees of longitude and latitude).
const Ellipse kLand[] = {
    {-100, 50, 28, 14}, {-85, 37, 12, 8},  {-115, 38, 10, 8}, {-102, 24, 9, 7},  {-152, 64, 12, 5},
    {-95, 70, 25, 5},   {-72, 57, 8, 6},   {-41, 73, 12, 9},  {-60, -5, 17, 12}, {-48, -15, 10, 10},
    {-64, -28, 9, 12},  {-70, -45, 4, 8},  {-72, 5, 6, 6},    {10, 49, 14, 7},   {-4, 40, 6, 4},
    {16, 63, 8, 7},     {35, 55, 15, 10},  {12, 20, 28, 11},  {22, 3, 14, 9},    {27, -17, 12, 14},
    {40, 7, 7, 6},      {47, -19, 2.5, 6}, {95, 60, 45, 12},  {150, 65, 20, 6},  {75, 45, 20, 8},
    {100, 35, 20, 10},  {115, 30, 8, 8},   {78, 21, 8, 10},   {47, 24, 9, 7},    {53, 32, 8, 5},
    {103, 15, 6, 8},    {110, 0, 8, 3},    {138, 37, 3, 4},   {40, 37, 8, 3},    {134, -25, 17, 10},
    {142, -5, 6, 2.5},
};

real_t wrap_degrees(real_t d) {
  d = std::fmod(d + 180.0, 360.0);
  if (d < 0) d += 360.0;
  return d - 180.0;
}

// Closed-form integral of max(0, A + B cos h) over [h1, h2] (B >= 0).
real_t clipped_cos_integral(real_t A, real_t B, real_t h1, real_t h2) {
  auto full = [&](real_t lo, real_t hi) {
    return A * (hi - lo) + B * (std::sin(hi) - std::sin(lo));
  };
  if (A >= B) return full(h1, h2);
  if (A <= -B) return 0.0;
  const real_t h0 = std::acos(-A / B);  // positive for |h - 2 pi n| < h0
  const real_t k = std::round(h1 / (2.0 * kPi));
  real_t sum = 0;
  for (int n = -1; n <= 2; ++n) {
    const real_t c = 2.0 * kPi * (k + n);
    const real_t lo = std::max(h1, c - h0), hi = std::min(h2, c + h0);
    if (hi > lo) sum += full(lo, hi);
  }
  return sum;
}

}  // namespace

HybridCoordinate co2_vertical_coordinate(index_t nlev) {
  if (nlev < 2) {
    throw ConfigError("co2_vertical_coordinate: nlev = " + std::to_string(nlev) +
                      ", expected >= 2");
  }
  std::vector<real_t> sigma(size_t(nlev) + 1);
  if (nlev == 10) {
    static const real_t hpa[11] = {0, 73, 243, 441, 642, 843, 943, 971, 995, 1005, 1013};
    for (index_t kf = 0; kf <= nlev; ++kf) sigma[size_t(kf)] = hpa[kf] / 1013.0;
  } else {
    for (index_t kf = 0; kf <= nlev; ++kf) {
      const real_t x = real_t(nlev - kf) / real_t(nlev);
      sigma[size_t(kf)] = 1.0 - x + 0.7 * std::sin(2.0 * kPi * x) / (2.0 * kPi);
    }
  }
  sigma.front() = 0.0;
  sigma.back() = 1.0;
  HybridCoordinate c;
  c.p0 = kP0;
  c.a.resize(size_t(nlev) + 1);
  c.b.resize(size_t(nlev) + 1);
  for (index_t kf = 0; kf <= nlev; ++kf) {
    const real_t s = sigma[size_t(kf)];
    const real_t b = s > 0.1 ? std::pow((s - 0.1) / 0.9, 1.2) : 0.0;
    c.b[size_t(kf)] = b;
    c.a[size_t(kf)] = s - b;
  }
  c.b.back() = 1.0;
  c.a.back() = 0.0;
  for (const real_t ps : {5.0e4, 1.1e5})
    for (index_t k = 0; k < nlev; ++k)
      if (!(c.dp(k, ps) > 0)) {
        std::ostringstream os;
        os << "co2_vertical_coordinate(" << nlev << "): layer " << k << " has dp = " << c.dp(k, ps)
           << " Pa at ps = " << ps << " Pa";
        throw Error(os.str());
      }
  return c;
}

bool co2_is_land(real_t lon, real_t lat) {
  const real_t lond = lon / kDeg, latd = lat / kDeg;
  if (latd < -70.0) return true;
  for (const Ellipse& e : kLand) {
    const real_t x = wrap_degrees(lond - e.lon) / e.alon, y = (latd - e.lat) / e.alat;
    if (x * x + y * y <= 1.0) return true;
  }
  return false;
}

real_t co2_land_fraction(const SphereGrid& g, index_t i, index_t j) {
  int n = 0;
  const real_t lat0 = g.lat_edge(j), lat1 = g.lat_edge(j + 1);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) {
      const real_t lon = g.lon_edge(i) + (a + 0.5) / 4.0 * g.dlon();
      const real_t lat = lat0 + (b + 0.5) / 4.0 * (lat1 - lat0);
      n += co2_is_land(lon, lat);
    }
  return n / 16.0;
}

real_t co2_solar_declination(real_t t) {
  return std::asin(std::sin(23.44 * kDeg) *
                   std::sin(2.0 * kPi * (t - 79.0 * co2::kDay) / co2::kYear));
}

real_t co2_sun_distance(real_t t) {
  return 1.0 - 0.01671 * std::cos(2.0 * kPi * (t - 3.0 * co2::kDay) / co2::kYear);
}

namespace {
// Local solar hour angle (0 at local noon).
real_t hour_angle(real_t lon, real_t t) { return 2.0 * kPi * t / co2::kDay - kPi + lon; }
}  // namespace

real_t co2_cos_zenith(real_t lon, real_t lat, real_t t) {
  const real_t d = co2_solar_declination(t);
  return std::sin(lat) * std::sin(d) + std::cos(lat) * std::cos(d) * std::cos(hour_angle(lon, t));
}

// ---------------------------------------------------------------------------------------------

struct SyntheticMeteorology::Impl {
  struct Wave {
    int m = 1;
    real_t lat = 0, width = 0, v = 0, omega = 0, theta = 0, period = 0, mod_phase = 0;
    real_t hemi = 1, f = 0;  // hemisphere sign, Coriolis parameter at lat
  };
  struct Wobble {
    real_t period = 0, phase = 0;
  };
  // The time-dependent scalars of the circulation at one time.
  struct Now {
    real_t s = 0, u_n = 0, lat_n = 0, u_s = 0, lat_s = 0, itcz = 0, lon_m = 0;
    real_t had_n = 0, had_s = 0;     // Hadley strength factors (positive)
    std::vector<real_t> amp, phase;  // per wave: a V_n A_n(t), m Omega t + theta
  };

  Impl(const SphereGrid& grid, const Co2MetParams& params);

  Now at(real_t t) const;
  real_t zonal_mean_offset(const Now& n) const { return mean_static + (-150.0 * n.s) * mean_sin; }
  // ps_a point value (without the mean offset) at the time of n.
  real_t ps_point(const Now& n, real_t lon, real_t lat, real_t t) const;
  // ps_a of cells in global rows [j0, j1), all columns, into out (row-major from j0).
  void ps_rows(real_t t, index_t j0, index_t j1, real_t* out, real_t* wave_out = nullptr) const;
  // Overturning: sum over cells of s_c gauss (the latitude shape without cos(lat)).
  real_t overturning_shape(const Now& n, real_t lat) const;
  // Integral over [lon_a, lon_b] of the zonal modulation 1 + eps cos(lon - lon_m).
  real_t modulation_integral(const Now& n, real_t lon_a, real_t lon_b) const {
    return (lon_b - lon_a) + kEps * (std::sin(lon_b - n.lon_m) - std::sin(lon_a - n.lon_m));
  }
  // Cell-centre winds of global row j, all columns and levels: u, v at (k * nx + i).
  void row_winds(const Now& n, index_t j, std::vector<real_t>& u, std::vector<real_t>& v) const;

  // Fluxes of [t, t + dt]; air: the transport's air mass or nullptr (open loop).
  void fluxes(real_t t, real_t dt, const Field* air, SphereFluxes3d& out);
  void solve_correction();  // R_glob -> chi, f0

  static constexpr real_t kEps = 0.4;  // zonal modulation of the overturning

  const SphereGrid& g;
  Co2MetParams p;
  HybridCoordinate coord;
  index_t nx = 0, ny = 0, nl = 0, nj = 0, j0 = 0, h = 0;
  real_t a = 0, p_top = 0;
  std::vector<real_t> sig_mid, dp_ref, da_p0, db, jet_k, trade_k, wave_k, over_k;
  std::vector<Wave> waves;
  Wobble wob_lat_n, wob_lat_s, wob_u_n, wob_u_s;
  real_t mean_static = 0, mean_sin = 0;
  std::vector<real_t> land;  // owned columns
  // Decomposition and the global solve.
  std::vector<int> counts, displs;
  std::vector<real_t> cos_tab, sin_tab, cx, cy;
  // Work arrays.
  std::vector<real_t> ps_own, ps_glob, r_own, r_glob, chi, f0, fa, fb, tri_c, tri_d;
  std::vector<real_t> psi_j, psi_t, psi_w, cosw, cw;  // stream-function parts
  std::vector<real_t> col_tendency;                   // last fluxes(): -sum_k D_k per column
};

SyntheticMeteorology::Impl::Impl(const SphereGrid& grid, const Co2MetParams& params)
    : g(grid), p(params) {
  validate(p);
  if (g.nlev() < 2) {
    throw ConfigError("SyntheticMeteorology: grid nlev = " + std::to_string(g.nlev()) +
                      ", expected >= 2 levels");
  }
  if (g.lev_count() != g.nlev()) {
    throw ConfigError("SyntheticMeteorology: the rank owns " + std::to_string(g.lev_count()) +
                      " of " + std::to_string(g.nlev()) +
                      " levels; whole columns per rank are required (column pressures)");
  }
  coord = co2_vertical_coordinate(g.nlev());
  nx = g.nlon();
  ny = g.nlat();
  nl = g.nlev();
  nj = g.lat_count();
  j0 = g.lat_start();
  h = g.halo();
  a = g.radius();
  p_top = coord.p_interface(0, p.mean_surface_pressure);
  for (index_t k = 0; k < nl; ++k) {
    const real_t s0 = coord.p_interface(k, coord.p0) / coord.p0;
    const real_t s1 = coord.p_interface(k + 1, coord.p0) / coord.p0;
    sig_mid.push_back(0.5 * (s0 + s1));
    dp_ref.push_back(coord.dp(k, p.mean_surface_pressure));
    da_p0.push_back((coord.a[size_t(k) + 1] - coord.a[size_t(k)]) * coord.p0);
    db.push_back(coord.b[size_t(k) + 1] - coord.b[size_t(k)]);
    jet_k.push_back(jet_profile(sig_mid.back()));
    trade_k.push_back(trade_profile(sig_mid.back()));
    wave_k.push_back(wave_profile(sig_mid.back()));
    over_k.push_back(overturning_profile(s1) - overturning_profile(s0));
  }

  std::mt19937_64 rng(p.seed);
  for (int n = 0; n < p.wave_count; ++n) {
    Wave w;
    w.hemi = n % 2 == 0 ? 1.0 : -1.0;
    const bool planetary = (n / 2) % 2 == 0;
    w.m = planetary ? 1 + int(3.0 * uniform01(rng)) : 4 + int(4.0 * uniform01(rng));
    w.lat = w.hemi * (planetary ? uniform(rng, 45, 65) : uniform(rng, 38, 58)) * kDeg;
    w.width = uniform(rng, 10, 16) * kDeg;
    const real_t c = planetary ? uniform(rng, -4, 4) : uniform(rng, 6, 14);
    w.omega = c / (a * std::cos(w.lat));
    w.v = (planetary ? uniform(rng, 0.4, 0.8) : uniform(rng, 0.7, 1.3)) * p.wave_speed / w.m;
    w.theta = uniform(rng, 0, 2.0 * kPi);
    w.period = uniform(rng, 15, 45) * co2::kDay;
    w.mod_phase = uniform(rng, 0, 2.0 * kPi);
    w.f = 2.0 * co2::kEarthRotation * std::sin(w.lat);
    waves.push_back(w);
  }
  for (Wobble* w : {&wob_lat_n, &wob_lat_s, &wob_u_n, &wob_u_s}) {
    w->period = uniform(rng, 20, 60) * co2::kDay;
    w->phase = uniform(rng, 0, 2.0 * kPi);
  }

  // Discrete area means of the zonal surface-pressure parts (every rank over all rows).
  real_t area = 0;
  for (index_t j = 0; j < ny; ++j) {
    area += g.area(j);
    mean_static += g.area(j) * ps_zonal_static(g.lat_center(j));
    mean_sin += g.area(j) * std::sin(g.lat_center(j));
  }
  mean_static /= area;
  mean_sin /= area;

  for (index_t jl = 0; jl < nj; ++jl)
    for (index_t i = 0; i < nx; ++i) land.push_back(co2_land_fraction(g, i, j0 + jl));

  int size = 1;
  MPI_Comm comm = g.grid().comm();
  AEOLUS_MPI(MPI_Comm_size(comm, &size));
  counts.resize(size_t(size));
  displs.resize(size_t(size));
  const int mine[2] = {int(j0 * nx), int(nj * nx)};
  std::vector<int> all(2 * size_t(size));
  AEOLUS_MPI(MPI_Allgather(mine, 2, MPI_INT, all.data(), 2, MPI_INT, comm));
  for (int r = 0; r < size; ++r) {
    displs[size_t(r)] = all[2 * size_t(r)];
    counts[size_t(r)] = all[2 * size_t(r) + 1];
  }

  // DFT tables and the Laplacian's face coefficients (face length over centre distance).
  cos_tab.resize(size_t(nx));
  sin_tab.resize(size_t(nx));
  for (index_t q = 0; q < nx; ++q) {
    cos_tab[size_t(q)] = std::cos(2.0 * kPi * real_t(q) / real_t(nx));
    sin_tab[size_t(q)] = std::sin(2.0 * kPi * real_t(q) / real_t(nx));
  }
  cx.resize(size_t(ny));
  cy.assign(size_t(ny) + 1, 0.0);
  for (index_t j = 0; j < ny; ++j)
    cx[size_t(j)] = g.dlat() / (std::cos(g.lat_center(j)) * g.dlon());
  for (index_t j = 1; j < ny; ++j) cy[size_t(j)] = g.cos_lat_edge(j) * g.dlon() / g.dlat();

  ps_own.resize(size_t(nj * nx));
  r_own.resize(size_t(nj * nx));
  ps_glob.resize(size_t(ny * nx));
  r_glob.resize(size_t(ny * nx));
  chi.resize(size_t(ny * nx));
  f0.resize(size_t(ny) + 1);
  col_tendency.resize(size_t(nj * nx));
}

SyntheticMeteorology::Impl::Now SyntheticMeteorology::Impl::at(real_t t) const {
  Now n;
  n.s = season(t);
  auto wob = [&](const Wobble& w) { return std::sin(2.0 * kPi * t / w.period + w.phase); };
  n.u_n = p.jet_speed * (1.0 - 0.3 * n.s) * (1.0 + 0.1 * wob(wob_u_n));
  n.u_s = p.jet_speed * (1.0 + 0.2 * n.s) * (1.0 + 0.1 * wob(wob_u_s));
  n.lat_n = (42.0 + 5.0 * n.s + 2.5 * wob(wob_lat_n)) * kDeg;
  n.lat_s = (-45.0 + 5.0 * n.s + 2.5 * wob(wob_lat_s)) * kDeg;
  n.itcz = (2.0 + 5.0 * n.s) * kDeg;
  n.lon_m = (100.0 + 20.0 * n.s) * kDeg;
  n.had_n = 1.0 - 0.6 * n.s;
  n.had_s = 1.0 + 0.6 * n.s;
  for (const Wave& w : waves) {
    const real_t winter = -w.hemi * n.s;
    const real_t mod = 0.6 + 0.4 * std::sin(2.0 * kPi * t / w.period + w.mod_phase);
    n.amp.push_back(a * w.v * (1.0 + 0.25 * winter) * mod);
    n.phase.push_back(w.m * w.omega * t + w.theta);
  }
  return n;
}

real_t SyntheticMeteorology::Impl::overturning_shape(const Now& n, real_t lat) const {
  return n.had_n * gauss(lat, n.itcz + 13.0 * kDeg, 9.0 * kDeg) -
         n.had_s * gauss(lat, n.itcz - 13.0 * kDeg, 9.0 * kDeg) -
         0.35 * n.had_n * gauss(lat, n.lat_n + 3.0 * kDeg, 10.0 * kDeg) +
         0.35 * n.had_s * gauss(lat, n.lat_s - 3.0 * kDeg, 10.0 * kDeg);
}

real_t SyntheticMeteorology::Impl::ps_point(const Now& n, real_t lon, real_t lat, real_t t) const {
  real_t wave = 0;
  for (size_t q = 0; q < waves.size(); ++q) {
    const Wave& w = waves[q];
    wave += kRho0 * w.f * n.amp[q] * wave_profile(1.0) * std::cos(lat) *
            gauss(lat, w.lat, w.width) * std::cos(w.m * lon - n.phase[q]);
  }
  const real_t cl = std::cos(lat);
  return p.mean_surface_pressure + ps_zonal_static(lat) - 150.0 * n.s * std::sin(lat) + wave +
         p.tide_amplitude * cl * cl * cl * std::cos(2.0 * hour_angle(lon, t) + kPi / 3.0);
}

void SyntheticMeteorology::Impl::ps_rows(real_t t, index_t ja, index_t jb, real_t* out,
                                         real_t* wave_out) const {
  const Now n = at(t);
  const real_t offset = zonal_mean_offset(n);
  const size_t nw = waves.size();
  std::vector<real_t> cw(nw * size_t(nx)), tide(static_cast<size_t>(nx));
  for (size_t q = 0; q < nw; ++q)
    for (index_t i = 0; i < nx; ++i)
      cw[q * size_t(nx) + size_t(i)] = std::cos(waves[q].m * g.lon_center(i) - n.phase[q]);
  for (index_t i = 0; i < nx; ++i)
    tide[size_t(i)] = std::cos(2.0 * hour_angle(g.lon_center(i), t) + kPi / 3.0);
  const real_t w1 = wave_profile(1.0);
  for (index_t j = ja; j < jb; ++j) {
    const real_t lat = g.lat_center(j), cl = std::cos(lat);
    const real_t zonal =
        p.mean_surface_pressure + ps_zonal_static(lat) - 150.0 * n.s * std::sin(lat) - offset;
    std::vector<real_t> cn(nw);
    for (size_t q = 0; q < nw; ++q)
      cn[q] = kRho0 * waves[q].f * n.amp[q] * w1 * cl * gauss(lat, waves[q].lat, waves[q].width);
    real_t* row = out + (j - ja) * nx;
    for (index_t i = 0; i < nx; ++i) {
      real_t wave = 0;
      for (size_t q = 0; q < nw; ++q) wave += cn[q] * cw[q * size_t(nx) + size_t(i)];
      row[i] = zonal + wave + p.tide_amplitude * cl * cl * cl * tide[size_t(i)];
      if (wave_out) wave_out[(j - ja) * nx + i] = wave;
    }
  }
}

void SyntheticMeteorology::Impl::row_winds(const Now& n, index_t j, std::vector<real_t>& u,
                                           std::vector<real_t>& v) const {
  const real_t lat = g.lat_center(j), cl = std::cos(lat), sl = std::sin(lat);
  const real_t w = 12.0 * kDeg, wt = 10.0 * kDeg;
  const real_t jet = n.u_n * gauss(lat, n.lat_n, w) + n.u_s * gauss(lat, n.lat_s, w);
  const real_t trade = p.trade_wind_speed * (gauss(lat, n.itcz + 15.0 * kDeg, wt) +
                                             gauss(lat, n.itcz - 15.0 * kDeg, wt));
  const real_t over =
      co2::kGravity * p.hadley_strength * overturning_shape(n, lat) / (2.0 * kPi * a);
  // Waves: u = -V A W dC/dlat cos(arg), v = -V A W m e sin(arg), C = cos(lat) e.
  std::vector<real_t> uw(static_cast<size_t>(nx), 0.0), vw(static_cast<size_t>(nx), 0.0);
  for (size_t q = 0; q < waves.size(); ++q) {
    const Wave& wv = waves[q];
    const real_t e = gauss(lat, wv.lat, wv.width), amp = n.amp[q] / a;
    const real_t dc = e * (-sl - cl * 2.0 * (lat - wv.lat) / (wv.width * wv.width));
    for (index_t i = 0; i < nx; ++i) {
      const real_t arg = wv.m * g.lon_center(i) - n.phase[q];
      uw[size_t(i)] -= amp * dc * std::cos(arg);
      vw[size_t(i)] -= amp * wv.m * e * std::sin(arg);
    }
  }
  u.resize(size_t(nl * nx));
  v.resize(size_t(nl * nx));
  for (index_t k = 0; k < nl; ++k) {
    const real_t uz = jet_k[size_t(k)] * jet - trade_k[size_t(k)] * trade;
    const real_t vo = over * over_k[size_t(k)] / dp_ref[size_t(k)];
    for (index_t i = 0; i < nx; ++i) {
      const real_t mod = 1.0 + kEps * std::cos(g.lon_center(i) - n.lon_m);
      u[size_t(k * nx + i)] = uz + wave_k[size_t(k)] * uw[size_t(i)];
      v[size_t(k * nx + i)] = wave_k[size_t(k)] * vw[size_t(i)] + vo * mod;
    }
  }
}

void SyntheticMeteorology::Impl::solve_correction() {
  // Remove the area-weighted global mean (a column mass change must be a redistribution).
  real_t sum = 0, area = 0;
  for (index_t j = 0; j < ny; ++j) {
    real_t row = 0;
    for (index_t i = 0; i < nx; ++i) row += r_glob[size_t(j * nx + i)];
    sum += row * g.area(j);
    area += nx * g.area(j);
  }
  const real_t mean = sum / area;
  for (real_t& r : r_glob) r -= mean;
  // Zonal-mean part: meridional flux integrated from the south pole (per segment).
  f0[0] = 0;
  for (index_t j = 0; j < ny; ++j) {
    real_t row = 0;
    for (index_t i = 0; i < nx; ++i) row += r_glob[size_t(j * nx + i)];
    f0[size_t(j) + 1] = f0[size_t(j)] - row / real_t(nx) * g.area(j);
  }
  f0[size_t(ny)] = 0;
  // Wavenumbers 1 .. nx/2: DFT in longitude, tridiagonal in latitude (Thomas; diagonally
  // dominant since the zonal coupling cx kappa_m > 0).
  std::fill(chi.begin(), chi.end(), 0.0);
  fa.resize(size_t(ny));
  fb.resize(size_t(ny));
  tri_c.resize(size_t(ny));
  tri_d.resize(size_t(ny));
  auto thomas = [&](std::vector<real_t>& rhs, real_t kappa) {
    for (index_t j = 0; j < ny; ++j) {
      const real_t lo = cy[size_t(j)], up = cy[size_t(j) + 1];
      const real_t diag = -(lo + up + cx[size_t(j)] * kappa);
      const real_t denom = j == 0 ? diag : diag - lo * tri_c[size_t(j) - 1];
      tri_c[size_t(j)] = up / denom;
      tri_d[size_t(j)] = (rhs[size_t(j)] - (j == 0 ? 0.0 : lo * tri_d[size_t(j) - 1])) / denom;
    }
    rhs[size_t(ny) - 1] = tri_d[size_t(ny) - 1];
    for (index_t j = ny - 2; j >= 0; --j)
      rhs[size_t(j)] = tri_d[size_t(j)] - tri_c[size_t(j)] * rhs[size_t(j) + 1];
  };
  for (index_t m = 1; m <= nx / 2; ++m) {
    const bool nyquist = 2 * m == nx;
    const real_t norm = nyquist ? 1.0 / real_t(nx) : 2.0 / real_t(nx);
    for (index_t j = 0; j < ny; ++j) {
      real_t sc = 0, ss = 0;
      const real_t* r = &r_glob[size_t(j * nx)];
      // q = (m i) mod nx, stepped instead of divided (an integer modulo per term was slow).
      for (index_t i = 0, q = 0; i < nx; ++i, q = q + m >= nx ? q + m - nx : q + m) {
        sc += r[i] * cos_tab[size_t(q)];
        ss += r[i] * sin_tab[size_t(q)];
      }
      fa[size_t(j)] = norm * sc * g.area(j);
      fb[size_t(j)] = nyquist ? 0.0 : norm * ss * g.area(j);
    }
    const real_t kappa = 2.0 - 2.0 * cos_tab[size_t(m)];
    thomas(fa, kappa);
    if (!nyquist) thomas(fb, kappa);
    for (index_t j = 0; j < ny; ++j) {
      real_t* c = &chi[size_t(j * nx)];
      for (index_t i = 0, q = 0; i < nx; ++i, q = q + m >= nx ? q + m - nx : q + m)
        c[i] += fa[size_t(j)] * cos_tab[size_t(q)] + fb[size_t(j)] * sin_tab[size_t(q)];
    }
  }
}

void SyntheticMeteorology::Impl::fluxes(real_t t, real_t dt, const Field* air,
                                        SphereFluxes3d& out) {
  out.resize(g);
  const real_t tm = t + 0.5 * dt;
  const Now n = at(tm);
  const size_t nw = waves.size();
  // Edge rows e = je0 .. je1 (global) whose corners the faces need.
  const index_t je0 = std::max<index_t>(j0 - h, 0), je1 = std::min<index_t>(j0 + nj + h, ny);
  const index_t ne = je1 - je0 + 1;
  psi_j.resize(size_t(ne));
  psi_t.resize(size_t(ne));
  psi_w.resize(size_t(ne * nx));
  cosw.resize(nw * size_t(nx));
  cw.resize(nw * size_t(ne));
  for (size_t q = 0; q < nw; ++q)
    for (index_t i = 0; i < nx; ++i)
      cosw[q * size_t(nx) + size_t(i)] = std::cos(waves[q].m * g.lon_edge(i) - n.phase[q]);
  const real_t wj = 12.0 * kDeg, wt = 10.0 * kDeg;
  for (index_t e = 0; e < ne; ++e) {
    const index_t j = je0 + e;
    const real_t lat = g.lat_edge(j), cl = g.cos_lat_edge(j);
    // psi = -a int u dlat.
    psi_j[size_t(e)] =
        -a * (n.u_n * gauss_int(lat, n.lat_n, wj) + n.u_s * gauss_int(lat, n.lat_s, wj));
    psi_t[size_t(e)] =
        a * p.trade_wind_speed *
        (gauss_int(lat, n.itcz + 15.0 * kDeg, wt) + gauss_int(lat, n.itcz - 15.0 * kDeg, wt));
    for (size_t q = 0; q < nw; ++q)
      cw[q * size_t(ne) + size_t(e)] = n.amp[q] * cl * gauss(lat, waves[q].lat, waves[q].width);
    real_t* pw = &psi_w[size_t(e * nx)];
    for (index_t i = 0; i < nx; ++i) {
      real_t s = 0;
      for (size_t q = 0; q < nw; ++q)
        s += cw[q * size_t(ne) + size_t(e)] * cosw[q * size_t(nx) + size_t(i)];
      pw[i] = s;
    }
  }
  // Prescribed swept areas (m^2 per step).
  for (index_t jl = -h; jl < nj + h; ++jl) {
    const index_t j = j0 + jl;
    for (index_t k = 0; k < nl; ++k) {
      real_t* xa = &out.horizontal[size_t(k)].xa[size_t((jl + h) * nx)];
      if (j < 0 || j >= ny) {
        std::fill(xa, xa + nx, 0.0);
        continue;
      }
      const index_t es = j - je0, en = j + 1 - je0;
      const real_t zonal = jet_k[size_t(k)] * (psi_j[size_t(es)] - psi_j[size_t(en)]) +
                           trade_k[size_t(k)] * (psi_t[size_t(es)] - psi_t[size_t(en)]);
      const real_t* ws = &psi_w[size_t(es * nx)];
      const real_t* wn = &psi_w[size_t(en * nx)];
      for (index_t i = 0; i < nx; ++i) xa[i] = dt * (zonal + wave_k[size_t(k)] * (ws[i] - wn[i]));
    }
  }
  std::vector<real_t> seg(static_cast<size_t>(nx));
  for (index_t i = 0; i < nx; ++i)
    seg[size_t(i)] = modulation_integral(n, g.lon_edge(i), g.lon_edge(i + 1));
  for (index_t jl = 0; jl <= nj; ++jl) {
    const index_t j = j0 + jl;
    for (index_t k = 0; k < nl; ++k) {
      real_t* ya = &out.horizontal[size_t(k)].ya[size_t(jl * nx)];
      if (j == 0 || j == ny) {
        std::fill(ya, ya + nx, 0.0);
        continue;
      }
      const real_t* pw = &psi_w[size_t((j - je0) * nx)];
      const real_t over = dt * co2::kGravity * p.hadley_strength * g.cos_lat_edge(j) *
                          overturning_shape(n, g.lat_edge(j)) * over_k[size_t(k)] /
                          (2.0 * kPi * dp_ref[size_t(k)]);
      for (index_t i = 0; i < nx; ++i) {
        const real_t east = pw[i + 1 == nx ? 0 : i + 1];
        ya[i] = dt * wave_k[size_t(k)] * (east - pw[i]) + over * seg[size_t(i)];
      }
    }
  }

  // Balancing. Column ps of the owned cells: the transport's, or ps_a(t).
  if (air) {
    const ConstFieldView d = air->view();
    for (index_t jl = 0; jl < nj; ++jl)
      for (index_t i = 0; i < nx; ++i) {
        real_t s = p_top;
        for (index_t k = 0; k < nl; ++k) s += d(i, jl, k);
        ps_own[size_t(jl * nx + i)] = s;
      }
  } else {
    ps_rows(t, j0, j0 + nj, ps_own.data());
  }
  MPI_Comm comm = g.grid().comm();
  AEOLUS_MPI(MPI_Allgatherv(ps_own.data(), int(nj * nx), MPI_DOUBLE, ps_glob.data(), counts.data(),
                            displs.data(), MPI_DOUBLE, comm));
  auto ps_at = [&](index_t i, index_t j) {
    return ps_glob[size_t(j * nx + (i < 0 ? i + nx : (i >= nx ? i - nx : i)))];
  };
  // Net outflow (Pa m^2 per step) of layer air masses through the faces of owned cells, dp at a
  // face = the mean of its two cells' dp on the coordinate of their ps.
  auto column_outflow = [&](std::vector<real_t>& o, std::vector<real_t>* per_level) {
    std::fill(o.begin(), o.end(), 0.0);
    std::vector<real_t> mx(static_cast<size_t>(nx + 1));
    for (index_t k = 0; k < nl; ++k) {
      const auto& fk = out.horizontal[size_t(k)];
      for (index_t jl = 0; jl < nj; ++jl) {
        const index_t j = j0 + jl;
        const real_t* xa = &fk.xa[size_t((jl + h) * nx)];
        for (index_t i = 0; i <= nx; ++i) {
          const index_t ii = i == nx ? 0 : i;
          const real_t psf = 0.5 * (ps_at(ii - 1, j) + ps_at(ii, j));
          mx[size_t(i)] = xa[ii] * (da_p0[size_t(k)] + db[size_t(k)] * psf);
        }
        const real_t* ys = &fk.ya[size_t(jl * nx)];
        const real_t* yn = &fk.ya[size_t((jl + 1) * nx)];
        for (index_t i = 0; i < nx; ++i) {
          real_t ms = 0, mn = 0;
          if (j > 0)
            ms = ys[i] * (da_p0[size_t(k)] + db[size_t(k)] * 0.5 * (ps_at(i, j - 1) + ps_at(i, j)));
          if (j + 1 < ny)
            mn = yn[i] * (da_p0[size_t(k)] + db[size_t(k)] * 0.5 * (ps_at(i, j) + ps_at(i, j + 1)));
          const real_t div = (mx[size_t(i) + 1] - mx[size_t(i)]) + (mn - ms);
          o[size_t(jl * nx + i)] += div;
          if (per_level) (*per_level)[size_t((k * nj + jl) * nx + i)] = div;
        }
      }
    }
  };
  std::vector<real_t> outflow(size_t(nj * nx));
  column_outflow(outflow, nullptr);
  std::vector<real_t> ps_a0(size_t(nj * nx)), ps_a1(size_t(nj * nx));
  ps_rows(t, j0, j0 + nj, ps_a0.data());
  ps_rows(t + dt, j0, j0 + nj, ps_a1.data());
  const real_t relax = -std::expm1(-dt / p.ps_relaxation_time);
  for (index_t jl = 0; jl < nj; ++jl)
    for (index_t i = 0; i < nx; ++i) {
      const size_t c = size_t(jl * nx + i);
      const real_t want = ps_a1[c] - ps_a0[c] + relax * (ps_a0[c] - ps_own[c]);
      r_own[c] = want + outflow[c] / g.area(j0 + jl);
    }
  AEOLUS_MPI(MPI_Allgatherv(r_own.data(), int(nj * nx), MPI_DOUBLE, r_glob.data(), counts.data(),
                            displs.data(), MPI_DOUBLE, comm));
  solve_correction();
  // Correction fluxes F (Pa m^2 per step) as a uniform swept area on every level.
  auto chi_at = [&](index_t i, index_t j) { return chi[size_t(j * nx + (i < 0 ? i + nx : i))]; };
  for (index_t jl = -h; jl < nj + h; ++jl) {
    const index_t j = j0 + jl;
    if (j < 0 || j >= ny) continue;
    for (index_t i = 0; i < nx; ++i) {
      const real_t f = cx[size_t(j)] * (chi_at(i - 1, j) - chi_at(i, j));
      const real_t sw = f / (0.5 * (ps_at(i - 1, j) + ps_at(i, j)) - p_top);
      for (index_t k = 0; k < nl; ++k)
        out.horizontal[size_t(k)].xa[size_t((jl + h) * nx + i)] += sw;
    }
  }
  for (index_t jl = 0; jl <= nj; ++jl) {
    const index_t j = j0 + jl;
    if (j == 0 || j == ny) continue;
    for (index_t i = 0; i < nx; ++i) {
      const real_t f = cy[size_t(j)] * (chi_at(i, j - 1) - chi_at(i, j)) + f0[size_t(j)];
      const real_t sw = f / (0.5 * (ps_at(i, j - 1) + ps_at(i, j)) - p_top);
      for (index_t k = 0; k < nl; ++k) out.horizontal[size_t(k)].ya[size_t(jl * nx + i)] += sw;
    }
  }
  // Vertical: the hybrid closure of the predicted layer changes, w_{k+1} = w_k - D_k + db_k S.
  std::vector<real_t> per_level(size_t(nl * nj * nx));
  column_outflow(outflow, &per_level);
  for (index_t jl = 0; jl < nj; ++jl) {
    const real_t inv_area = 1.0 / g.area(j0 + jl);
    for (index_t i = 0; i < nx; ++i) {
      const real_t S = outflow[size_t(jl * nx + i)] * inv_area;
      real_t w = 0;
      out.w(g, 0, jl, i) = 0;
      for (index_t k = 0; k < nl; ++k) {
        w += -per_level[size_t((k * nj + jl) * nx + i)] * inv_area + db[size_t(k)] * S;
        out.w(g, k + 1, jl, i) = w;
      }
      out.w(g, nl, jl, i) = 0;
      col_tendency[size_t(jl * nx + i)] = -S;
    }
  }
}

// ---------------------------------------------------------------------------------------------

SyntheticMeteorology::SyntheticMeteorology(const SphereGrid& g, const Co2MetParams& p)
    : impl_(std::make_shared<Impl>(g, p)) {}

SyntheticMeteorology::~SyntheticMeteorology() = default;

const HybridCoordinate& SyntheticMeteorology::coordinate() const { return impl_->coord; }
const Co2MetParams& SyntheticMeteorology::params() const { return impl_->p; }

SphereFlow3dFunction SyntheticMeteorology::flow(std::function<const Field*()> air_mass) const {
  std::shared_ptr<Impl> impl = impl_;
  return [impl, air_mass](real_t t, real_t dt, SphereFluxes3d& out) {
    impl->fluxes(t, dt, air_mass ? air_mass() : nullptr, out);
  };
}

void SyntheticMeteorology::initial_air_mass(real_t t0, Field& dp) const {
  const Impl& m = *impl_;
  std::vector<real_t> ps;
  surface_pressure(t0, ps);
  FieldView v = dp.view();
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i)
        v(i, j, k) = m.coord.dp(m.g.lev_start() + k, ps[size_t(j * m.nx + i)]);
}

void SyntheticMeteorology::surface_pressure(real_t t, std::vector<real_t>& ps) const {
  const Impl& m = *impl_;
  ps.resize(size_t(m.nj * m.nx));
  m.ps_rows(t, m.j0, m.j0 + m.nj, ps.data());
}

real_t SyntheticMeteorology::surface_pressure_at(real_t lon, real_t lat, real_t t) const {
  return impl_->ps_point(impl_->at(t), lon, lat, t);
}

void SyntheticMeteorology::winds(real_t t, Field& u, Field& v) const {
  const Impl& m = *impl_;
  const Impl::Now n = m.at(t);
  FieldView uv = u.view(), vv = v.view();
  std::vector<real_t> ur, vr;
  for (index_t j = 0; j < uv.ny; ++j) {
    m.row_winds(n, m.j0 + j, ur, vr);
    for (index_t k = 0; k < uv.nz; ++k) {
      const index_t kg = m.g.lev_start() + k;
      for (index_t i = 0; i < uv.nx; ++i) {
        uv(i, j, k) = ur[size_t(kg * m.nx + i)];
        vv(i, j, k) = vr[size_t(kg * m.nx + i)];
      }
    }
  }
}

void SyntheticMeteorology::omega(real_t t, Field& omega) const {
  Impl& m = *impl_;
  SphereFluxes3d f;
  m.fluxes(t - 0.5, 1.0, nullptr, f);  // rates at t (Pa/s)
  const Impl::Now n = m.at(t);
  const real_t d = 1e-5;  // rad, central differences of ps_a
  FieldView ov = omega.view();
  std::vector<real_t> om(size_t(m.nl) + 1), ur, vr;
  for (index_t jl = 0; jl < m.nj; ++jl) {
    const real_t lat = m.g.lat_center(m.j0 + jl), cl = std::cos(lat);
    m.row_winds(n, m.j0 + jl, ur, vr);
    for (index_t i = 0; i < m.nx; ++i) {
      const real_t lon = m.g.lon_center(i);
      const real_t dlon =
          (m.ps_point(n, lon + d, lat, t) - m.ps_point(n, lon - d, lat, t)) / (2 * d);
      const real_t dlat =
          (m.ps_point(n, lon, lat + d, t) - m.ps_point(n, lon, lat - d, t)) / (2 * d);
      for (index_t kf = 0; kf <= m.nl; ++kf) {
        const index_t ka = std::max<index_t>(kf - 1, 0), kb = std::min(kf, m.nl - 1);
        const real_t ui = 0.5 * (ur[size_t(ka * m.nx + i)] + ur[size_t(kb * m.nx + i)]);
        const real_t vi = 0.5 * (vr[size_t(ka * m.nx + i)] + vr[size_t(kb * m.nx + i)]);
        const real_t adv = ui * dlon / (m.a * cl) + vi * dlat / m.a;
        om[size_t(kf)] = f.w(m.g, kf, jl, i) +
                         m.coord.b[size_t(kf)] * (m.col_tendency[size_t(jl * m.nx + i)] + adv);
      }
      for (index_t k = 0; k < ov.nz; ++k) {
        const index_t kg = m.g.lev_start() + k;
        ov(i, jl, k) = 0.5 * (om[size_t(kg)] + om[size_t(kg) + 1]);
      }
    }
  }
}

void SyntheticMeteorology::boundary_layer_height(real_t t, std::vector<real_t>& blh) const {
  const Impl& m = *impl_;
  std::vector<real_t> ps(size_t(m.nj * m.nx)), wave(size_t(m.nj * m.nx));
  m.ps_rows(t, m.j0, m.j0 + m.nj, ps.data(), wave.data());
  blh.resize(size_t(m.nj * m.nx));
  for (index_t jl = 0; jl < m.nj; ++jl) {
    const real_t lat = m.g.lat_center(m.j0 + jl), cl = std::cos(lat);
    for (index_t i = 0; i < m.nx; ++i) {
      const size_t c = size_t(jl * m.nx + i);
      const real_t mu = co2_cos_zenith(m.g.lon_center(i), lat, t - 2.5 * 3600.0);
      const real_t f = m.land[c];
      const real_t hl = 200.0 + 1300.0 * std::pow(std::max(mu, 0.0), 0.8);
      const real_t ho = 500.0 + 300.0 * cl * cl;
      blh[c] = (f * hl + (1.0 - f) * ho) * (1.0 - 0.2 * std::tanh(wave[c] / 1000.0));
    }
  }
}

void SyntheticMeteorology::toa_incident_solar_radiation(real_t t, std::vector<real_t>& tisr) const {
  const Impl& m = *impl_;
  tisr.resize(size_t(m.nj * m.nx));
  const real_t hour = 3600.0;
  const real_t dec = co2_solar_declination(t - 0.5 * hour), r = co2_sun_distance(t - 0.5 * hour);
  const real_t s0 = co2::kSolarConstant / (r * r);
  for (index_t jl = 0; jl < m.nj; ++jl) {
    const real_t lat = m.g.lat_center(m.j0 + jl);
    const real_t A = std::sin(lat) * std::sin(dec), B = std::cos(lat) * std::cos(dec);
    for (index_t i = 0; i < m.nx; ++i) {
      const real_t h2 = hour_angle(m.g.lon_center(i), t), h1 = h2 - 2.0 * kPi * hour / co2::kDay;
      tisr[size_t(jl * m.nx + i)] =
          s0 * co2::kDay / (2.0 * kPi) * clipped_cos_integral(A, B, h1, h2);
    }
  }
}

}  // namespace aeolus::physics
