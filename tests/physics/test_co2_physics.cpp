// The physics of the synthetic CO2 dataset (issue 7): vertical coordinate, exact surface-flux
// totals, sun and boundary layer, the surface-pressure balancing of the synthetic meteorology,
// and discrete continuity of the transport with the hybrid vertical closure (uniform mixing
// ratio stays uniform, layers on the coordinate, air mass and CO2 budget to round-off, surface
// pressure in a realistic band, bitwise the same result for any rank count). Runs at 1 and 2
// ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/co2_fluxes.hpp"
#include "physics/co2_met.hpp"
#include "solvers/sphere_transport_3d.hpp"

using namespace aeolus;
using namespace aeolus::physics;

namespace {

constexpr real_t kPi = 3.14159265358979323846;

SphereGridParams grid_params(index_t nlat, index_t nlev) {
  SphereGridParams p;
  p.nlat = nlat;
  p.nlon = 2 * nlat;
  p.nlev = nlev;
  p.halo = 3;
  return p;
}

real_t global_max(MPI_Comm comm, real_t v) {
  real_t g = 0;
  MPI_Allreduce(&v, &g, 1, MPI_DOUBLE, MPI_MAX, comm);
  return g;
}
real_t global_min(MPI_Comm comm, real_t v) {
  real_t g = 0;
  MPI_Allreduce(&v, &g, 1, MPI_DOUBLE, MPI_MIN, comm);
  return g;
}

// Column pressures p_top + sum_k dp_k of the owned columns (index j * nx + i).
std::vector<real_t> column_ps(const HybridCoordinate& c, const Field& dp) {
  const ConstFieldView v = dp.view();
  std::vector<real_t> ps(size_t(v.nx * v.ny));
  for (index_t j = 0; j < v.ny; ++j)
    for (index_t i = 0; i < v.nx; ++i) {
      real_t s = c.p_interface(0, 0.0);
      for (index_t k = 0; k < v.nz; ++k) s += v(i, j, k);
      ps[size_t(j * v.nx + i)] = s;
    }
  return ps;
}

}  // namespace

TEST(Co2Physics, VerticalCoordinate) {
  const HybridCoordinate c10 = co2_vertical_coordinate(10);
  ASSERT_EQ(c10.nlev(), 10);
  // CarbonBench's l10 layer bottoms at ps = 1013 hPa, top at 0.
  const real_t hpa[11] = {0, 73, 243, 441, 642, 843, 943, 971, 995, 1005, 1013};
  for (index_t kf = 0; kf <= 10; ++kf)
    EXPECT_NEAR(c10.p_interface(kf, c10.p0), 100.0 * hpa[kf], 1e-9) << kf;
  for (const index_t n : {2, 7, 10, 20, 34}) {
    const HybridCoordinate c = co2_vertical_coordinate(n);
    EXPECT_EQ(c.b.front(), 0.0);
    EXPECT_EQ(c.b.back(), 1.0);
    EXPECT_EQ(c.a.back(), 0.0);
    EXPECT_EQ(c.p_interface(0, 9e4), 0.0);  // model top at p = 0
    for (const real_t ps : {9.0e4, 9.855e4, 1.05e5}) {
      real_t sum = 0;
      for (index_t k = 0; k < n; ++k) {
        EXPECT_GT(c.dp(k, ps), 0.0) << "nlev " << n << " k " << k;
        sum += c.dp(k, ps);
      }
      EXPECT_NEAR(sum, ps, 1e-9 * ps);
    }
    // Pure pressure above 101 hPa.
    for (index_t kf = 0; kf <= n; ++kf) {
      if (c.p_interface(kf, c.p0) < 0.1 * c.p0) {
        EXPECT_EQ(c.b[size_t(kf)], 0.0);
      }
    }
  }
  // nlev = 20: thin layers at the surface and the top.
  const HybridCoordinate c20 = co2_vertical_coordinate(20);
  EXPECT_LT(c20.dp(19, c20.p0), 2000.0);
  EXPECT_LT(c20.dp(0, c20.p0), 2000.0);
  EXPECT_THROW(co2_vertical_coordinate(1), ConfigError);
}

TEST(Co2Physics, RejectsBadParameters) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(16, 4));
  Co2MetParams mp;
  mp.jet_speed = -1;
  EXPECT_THROW(SyntheticMeteorology(g, mp), ConfigError);
  mp = Co2MetParams{};
  mp.ps_relaxation_time = 0;
  EXPECT_THROW(validate(mp), ConfigError);
  Co2FluxParams fp;
  fp.fossil_gtc_per_year = -3;
  EXPECT_THROW(Co2SurfaceFluxes(g, fp), ConfigError);
  SphereGrid g2(PETSC_COMM_WORLD, grid_params(16, 1));
  EXPECT_THROW(SyntheticMeteorology(g2, Co2MetParams{}), ConfigError);
  Field dp(g.grid(), "dp"), q(g.grid(), "q");
  dp.fill(1e4);
  EXPECT_THROW(co2_add_surface_flux(g, dp, std::vector<real_t>(3, 0.0), 1.0, q), ConfigError);
}

// Fossil and ocean totals over a year are the parameters, the biosphere's annual mean is zero:
// 6-hourly sums over the 1460 samples of a 365-day year (exact for the harmonics of the year and
// the day the fluxes are made of).
TEST(Co2Physics, FluxTotalsExact) {
  for (const index_t nlat : {32, 64}) {
    SphereGrid g(PETSC_COMM_WORLD, grid_params(nlat, 1));
    Co2FluxParams p;
    p.fossil_gtc_per_year = 9.3;
    Co2SurfaceFluxes f(g, p);
    std::vector<real_t> an, la, oc;
    // Rank-local sums (one reduction at the end): fossil, land, ocean, |land|, July, January.
    real_t sums[6] = {0, 0, 0, 0, 0, 0};
    const real_t dt = 6 * 3600.0;
    for (int n = 0; n < 1460; ++n) {
      const real_t t = 3 * co2::kYear + n * dt;  // any whole year
      f.fluxes(t, an, la, oc);
      real_t s[4] = {0, 0, 0, 0};
      for (index_t jl = 0; jl < g.lat_count(); ++jl) {
        real_t row[4] = {0, 0, 0, 0};
        for (index_t i = 0; i < g.nlon(); ++i) {
          const size_t c = size_t(jl * g.nlon() + i);
          row[0] += an[c];
          row[1] += la[c];
          row[2] += oc[c];
          row[3] += std::abs(la[c]);
        }
        for (int q = 0; q < 4; ++q) s[q] += row[q] * g.area(g.lat_start() + jl) * dt;
      }
      for (int q = 0; q < 4; ++q) sums[q] += s[q];
      const int day = n / 4;
      if (day >= 181 && day < 212) sums[4] += s[1];
      if (day < 31) sums[5] += s[1];
    }
    real_t total[6];
    MPI_Allreduce(sums, total, 6, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD);
    const real_t s_an = total[0], s_la = total[1], s_oc = total[2], s_abs = total[3];
    const real_t july = total[4], january = total[5];
    const real_t to_gtc = 1.0 / (1e12 * co2::kKgCo2PerKgC);
    EXPECT_NEAR(s_an * to_gtc, 9.3, 1e-12 * 9.3) << nlat;
    EXPECT_NEAR(s_oc * to_gtc, -2.5, 1e-12 * 2.5) << nlat;
    EXPECT_LT(std::abs(s_la), 1e-13 * s_abs) << nlat;
    // NH-dominated biosphere: net uptake in July, release in January (a few GtC per month).
    EXPECT_LT(july * to_gtc, -1.0);
    EXPECT_GT(january * to_gtc, 0.5);
    const real_t land = co2_surface_integral(g, f.land_fraction()) / g.total_area();
    EXPECT_GT(land, 0.2);
    EXPECT_LT(land, 0.35);
  }
  EXPECT_NEAR(co2_kg_per_second(1.0) * co2::kYear, 1e12 * 44.0095 / 12.0107, 1e-3);
}

// TOA radiation: the 24 hourly accumulations of a day add up to the daily insolation
// (S0 / pi) (1 / r^2) (h0 sin(lat) sin(d) + cos(lat) cos(d) sin(h0)) * 1 day, cos h0 = -tan(lat)
// tan(d); boundary-layer heights in a realistic range with a diurnal cycle over land.
TEST(Co2Physics, SolarRadiationAndBoundaryLayer) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(32, 10));
  SyntheticMeteorology met(g, Co2MetParams{});
  const real_t day0 = 170 * co2::kDay;
  std::vector<real_t> tisr, sum(size_t(g.lat_count() * g.nlon()), 0.0);
  for (int hr = 1; hr <= 24; ++hr) {
    met.toa_incident_solar_radiation(day0 + hr * 3600.0, tisr);
    for (size_t c = 0; c < sum.size(); ++c) sum[c] += tisr[c];
  }
  const real_t d = co2_solar_declination(day0 + 0.5 * co2::kDay), r = co2_sun_distance(day0);
  real_t worst = 0;
  for (index_t jl = 0; jl < g.lat_count(); ++jl) {
    const real_t lat = g.lat_center(g.lat_start() + jl);
    const real_t x = std::clamp(-std::tan(lat) * std::tan(d), -1.0, 1.0), h0 = std::acos(x);
    const real_t q =
        co2::kSolarConstant / kPi / (r * r) *
        (h0 * std::sin(lat) * std::sin(d) + std::cos(lat) * std::cos(d) * std::sin(h0)) * co2::kDay;
    for (index_t i = 0; i < g.nlon(); ++i)
      worst = std::max(worst, std::abs(sum[size_t(jl * g.nlon() + i)] - q) / 4.2e7);
  }
  EXPECT_LT(global_max(PETSC_COMM_WORLD, worst), 1e-3);
  std::vector<real_t> blh;
  real_t lo = 1e9, hi = 0;
  for (int hr = 0; hr < 24; hr += 3) {
    met.boundary_layer_height(day0 + hr * 3600.0, blh);
    lo = std::min(lo, *std::min_element(blh.begin(), blh.end()));
    hi = std::max(hi, *std::max_element(blh.begin(), blh.end()));
  }
  EXPECT_GT(global_min(PETSC_COMM_WORLD, lo), 100.0);
  EXPECT_LT(global_max(PETSC_COMM_WORLD, hi), 2500.0);
  EXPECT_GT(global_max(PETSC_COMM_WORLD, hi), 1000.0);  // afternoon over land
}

// Winds of realistic magnitude, and the balancing: with the analytic surface pressure as the
// state (open loop), the fluxes' predicted column mass change (layer air masses on the
// coordinate of each cell's ps_a, face dp the mean of the two cells) is ps_a(t + dt) - ps_a(t)
// to round-off, the non-divergent and overturning parts included. Rank-local grid (the check
// needs the neighbours' ps).
TEST(Co2Physics, MeteorologyWindsAndBalancing) {
  SphereGrid g(PETSC_COMM_SELF, grid_params(32, 10));
  SyntheticMeteorology met(g, Co2MetParams{});
  const HybridCoordinate& c = met.coordinate();
  Field u(g.grid(), "u"), v(g.grid(), "v"), om(g.grid(), "omega");
  real_t umax = 0, vmax = 0, omax = 0;
  for (const real_t t : {0.0, 95 * co2::kDay, 190 * co2::kDay, 290 * co2::kDay}) {
    met.winds(t, u, v);
    met.omega(t, om);
    umax = std::max({umax, u.max(), -u.min()});
    vmax = std::max({vmax, v.max(), -v.min()});
    omax = std::max({omax, om.max(), -om.min()});
  }
  EXPECT_GT(umax, 30.0);
  EXPECT_LT(umax, 70.0);
  EXPECT_GT(vmax, 8.0);
  EXPECT_LT(vmax, 45.0);
  EXPECT_GT(omax, 0.01);
  EXPECT_LT(omax, 1.0);

  const index_t nx = g.nlon(), ny = g.nlat(), nl = g.nlev(), h = g.halo();
  const real_t t = 40 * co2::kDay + 1234.0, dt = 1800.0;
  SphereFluxes3d f;
  met.flow()(t, dt, f);
  std::vector<real_t> ps0, ps1;
  met.surface_pressure(t, ps0);
  met.surface_pressure(t + dt, ps1);
  auto dpk = [&](index_t k, index_t i, index_t j) {
    i = (i + nx) % nx;
    return c.dp(k, ps0[size_t(j * nx + i)]);
  };
  real_t worst = 0, wsurf = 0;
  for (index_t j = 0; j < ny; ++j)
    for (index_t i = 0; i < nx; ++i) {
      real_t out = 0;
      for (index_t k = 0; k < nl; ++k) {
        const auto& fk = f.horizontal[size_t(k)];
        const index_t ie = (i + 1) % nx;
        out += fk.xa[size_t((j + h) * nx + ie)] * 0.5 * (dpk(k, i, j) + dpk(k, i + 1, j)) -
               fk.xa[size_t((j + h) * nx + i)] * 0.5 * (dpk(k, i - 1, j) + dpk(k, i, j));
        if (j + 1 < ny)
          out += fk.ya[size_t((j + 1) * nx + i)] * 0.5 * (dpk(k, i, j) + dpk(k, i, j + 1));
        if (j > 0) out -= fk.ya[size_t(j * nx + i)] * 0.5 * (dpk(k, i, j - 1) + dpk(k, i, j));
      }
      const real_t want = ps1[size_t(j * nx + i)] - ps0[size_t(j * nx + i)];
      worst = std::max(worst, std::abs(-out / g.area(j) - want));
      wsurf = std::max(wsurf, std::abs(f.w(g, nl, j, i)));
    }
  EXPECT_LT(worst, 1e-8);  // Pa per step, against changes of ~10 Pa
  EXPECT_EQ(wsurf, 0.0);
  // Pole edges carry nothing.
  for (index_t k = 0; k < nl; ++k)
    for (index_t i = 0; i < nx; ++i) {
      EXPECT_EQ(f.horizontal[size_t(k)].ya[size_t(i)], 0.0);
      EXPECT_EQ(f.horizontal[size_t(k)].ya[size_t(ny * nx + i)], 0.0);
    }
}

// Two simulated days at 32 x 64 x 10 with 1 h steps, transport with the hybrid closure, the
// surface source and the sub-grid vertical mixing every step: (a) a uniform mixing ratio stays
// uniform, (b) every column ends on the hybrid coordinate of its mass, (c) the global air mass is
// conserved, (d) the CO2 mass change equals sum(F area dt), (e) ps stays in a realistic band and
// close to ps_a, (f) the fields are bitwise the same at any rank count (world against a one-rank
// run on rank 0).
TEST(Co2Physics, TransportWithClosureConservesAndIsRankIndependent) {
  struct Result {
    std::vector<std::vector<real_t>> fields;
  };
  auto simulate = [](MPI_Comm comm, bool checks) {
    SphereGrid g(comm, grid_params(32, 10));
    SyntheticMeteorology met(g, Co2MetParams{});
    Co2SurfaceFluxes fluxes(g, Co2FluxParams{});
    const HybridCoordinate& c = met.coordinate();
    const real_t t0 = 100 * co2::kDay;
    Field dp(g.grid(), "dp");
    met.initial_air_mass(t0, dp);
    std::unique_ptr<SphereTransport3dStepper> st;
    st = std::make_unique<SphereTransport3dStepper>(
        g, met.flow([&st] { return st ? &st->air_mass() : nullptr; }), SphereSchemeParams{}, 0.9,
        dp);
    st->set_vertical_closure(c);
    Field co2(g.grid(), "co2"), uniform(g.grid(), "uniform"), added(g.grid(), "added");
    co2_initial_mixing_ratio(g, c, 400.0, co2);
    uniform.fill(0.7);
    added.fill(0.0);
    if (checks) {
      EXPECT_GE(st->max_dt(co2, t0), 3600.0);
      EXPECT_LT(st->courant(t0, 3600.0), 0.3);
    }
    const real_t air0 = g.integral(st->air_mass());
    const real_t m0 = co2_tracer_mass(g, st->air_mass(), co2);
    real_t source = 0, source_abs = 0, residual = 0, ps_lo = 1e9, ps_hi = 0, ps_dev = 0;
    real_t t = t0;
    std::vector<real_t> flux, flux_abs, ps_a, blh;
    for (int n = 0; n < 48; ++n) {
      real_t dt = 3600.0;
      fluxes.total_flux(t, flux);
      flux_abs.resize(flux.size());
      for (size_t k = 0; k < flux.size(); ++k) flux_abs[k] = std::abs(flux[k]);
      source += co2_surface_integral(g, flux) * dt;
      source_abs += co2_surface_integral(g, flux_abs) * dt;
      co2_add_surface_flux(g, st->air_mass(), flux, dt, co2);
      co2_add_surface_flux(g, st->air_mass(), flux, dt, added);
      met.boundary_layer_height(t, blh);
      for (Field* x : {&co2, &uniform, &added})
        co2_mix_vertical(g, c, st->air_mass(), blh, Co2MixingParams{}, dt, *x);
      st->step_all({&co2, &uniform, &added}, t, dt);
      residual = std::max(residual, st->last_closure_residual());
      const auto ps = column_ps(c, st->air_mass());
      met.surface_pressure(t, ps_a);
      for (size_t k = 0; k < ps.size(); ++k) {
        ps_lo = std::min(ps_lo, ps[k]);
        ps_hi = std::max(ps_hi, ps[k]);
        ps_dev = std::max(ps_dev, std::abs(ps[k] - ps_a[k]));
      }
    }
    if (checks) {
      // (a)
      EXPECT_LT(std::max(uniform.max() - 0.7, 0.7 - uniform.min()), 1e-14);
      // (b)
      const auto ps = column_ps(c, st->air_mass());
      const ConstFieldView d = st->air_mass().view();
      real_t off = 0;
      for (index_t k = 0; k < d.nz; ++k)
        for (index_t j = 0; j < d.ny; ++j)
          for (index_t i = 0; i < d.nx; ++i)
            off = std::max(off,
                           std::abs(d(i, j, k) - c.dp(k, ps[size_t(j * d.nx + i)])) / d(i, j, k));
      EXPECT_LT(global_max(comm, off), 1e-12);
      EXPECT_LT(residual, 1e-9);  // Pa
      // (c)
      EXPECT_LT(std::abs(g.integral(st->air_mass()) - air0) / air0, 1e-13);
      // (d) the full field, and the added CO2 alone (relative to the fluxes it integrates).
      const real_t m1 = co2_tracer_mass(g, st->air_mass(), co2);
      EXPECT_LT(std::abs(m1 - m0 - source) / m0, 1e-13);
      const real_t ma = co2_tracer_mass(g, st->air_mass(), added);
      EXPECT_LT(std::abs(ma - source) / source_abs, 1e-12);
      // (e)
      EXPECT_GT(global_min(comm, ps_lo), 9.3e4);
      EXPECT_LT(global_max(comm, ps_hi), 1.06e5);
      EXPECT_LT(global_max(comm, ps_dev), 300.0);
    }
    return std::vector<std::vector<real_t>>{co2.gather_to_root(), added.gather_to_root(),
                                            st->air_mass().gather_to_root()};
  };
  const auto world = simulate(PETSC_COMM_WORLD, true);
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) {
    const auto self = simulate(PETSC_COMM_SELF, false);
    for (size_t f = 0; f < world.size(); ++f) {
      ASSERT_EQ(world[f].size(), self[f].size());
      size_t differ = 0;
      for (size_t n = 0; n < world[f].size(); ++n) differ += world[f][n] != self[f][n];
      EXPECT_EQ(differ, 0u) << "field " << f;
    }
  }
}

// Sub-grid vertical mixing: each column's tracer mass sum(q dp) is conserved to round-off, no
// new extrema, a uniform field stays uniform, the boundary layer is well mixed after many
// time scales and the layers above it are untouched without convection.
TEST(Co2Physics, VerticalMixingConservesColumns) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(16, 20));
  const HybridCoordinate c = co2_vertical_coordinate(20);
  Field dp(g.grid(), "dp"), q(g.grid(), "q"), q0(g.grid(), "q0"), one(g.grid(), "one");
  FieldView dv = dp.view(), qv = q.view();
  for (index_t k = 0; k < dv.nz; ++k)
    for (index_t j = 0; j < dv.ny; ++j)
      for (index_t i = 0; i < dv.nx; ++i) {
        dv(i, j, k) = c.dp(k, 9.6e4 + 100.0 * real_t(i % 7) + 300.0 * real_t(j % 5));
        qv(i, j, k) = std::sin(0.7 * real_t(k) + 0.3 * real_t(i) + real_t(j));
      }
  q0.copy_owned_from(q);
  one.fill(1.0);
  std::vector<real_t> blh(size_t(g.lat_count() * g.nlon()));
  for (size_t n = 0; n < blh.size(); ++n) blh[n] = 200.0 + 150.0 * real_t(n % 11);
  Co2MixingParams p;
  p.convective_time = 0;
  co2_mix_vertical(g, c, dp, blh, p, 1800.0, q);
  co2_mix_vertical(g, c, dp, blh, p, 1800.0, one);
  EXPECT_LT(std::max(one.max() - 1.0, 1.0 - one.min()), 1e-15);
  const ConstFieldView a = q0.view(), b = q.view();
  real_t worst = 0, above = 0, lo = 1e9, hi = -1e9, lo0 = 1e9, hi0 = -1e9;
  for (index_t j = 0; j < b.ny; ++j)
    for (index_t i = 0; i < b.nx; ++i) {
      real_t m0 = 0, m1 = 0, ps = 0;
      for (index_t k = 0; k < b.nz; ++k) {
        m0 += a(i, j, k) * dv(i, j, k);
        m1 += b(i, j, k) * dv(i, j, k);
        ps += dv(i, j, k);
        lo = std::min(lo, b(i, j, k));
        hi = std::max(hi, b(i, j, k));
        lo0 = std::min(lo0, a(i, j, k));
        hi0 = std::max(hi0, a(i, j, k));
      }
      worst = std::max(worst, std::abs(m1 - m0) / ps);
      // Layers entirely above the boundary layer keep their values.
      const real_t p_bl = ps * std::exp(-blh[size_t(j * b.nx + i)] / p.scale_height);
      real_t top = 0;
      for (index_t k = 0; k < b.nz; ++k) {
        if (top + dv(i, j, k) <= p_bl) above = std::max(above, std::abs(b(i, j, k) - a(i, j, k)));
        top += dv(i, j, k);
      }
    }
  EXPECT_LT(worst, 1e-15);
  EXPECT_EQ(above, 0.0);
  EXPECT_GE(lo, lo0);
  EXPECT_LE(hi, hi0);
  // Many time scales: the lowest two layers (inside every boundary layer here) are equal.
  for (int n = 0; n < 50; ++n) co2_mix_vertical(g, c, dp, blh, p, 3600.0, q);
  real_t spread = 0;
  for (index_t j = 0; j < b.ny; ++j)
    for (index_t i = 0; i < b.nx; ++i)
      spread = std::max(spread, std::abs(b(i, j, b.nz - 1) - b(i, j, b.nz - 2)));
  EXPECT_LT(spread, 1e-12);
  Co2MixingParams bad;
  bad.boundary_layer_time = 0;
  EXPECT_THROW(co2_mix_vertical(g, c, dp, blh, bad, 1.0, q), ConfigError);
  EXPECT_THROW(co2_mix_vertical(g, c, dp, std::vector<real_t>(2, 1.0), p, 1.0, q), ConfigError);
}
