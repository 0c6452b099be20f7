// DCMIP 2012 tests 1-1 and 1-2: the analytic flows are non-divergent in 3D (pressure
// coordinates), the discrete fluxes close the air-mass budget of every cell, the vertical grid
// is the reference driver's, and the tracer initial conditions have the documented values.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/error_of.hpp"
#include "grids/error.hpp"
#include "physics/dcmip.hpp"

using namespace aeolus;
using namespace aeolus::physics;

namespace {
constexpr real_t pi = 3.14159265358979323846;

SphereGridParams grid_params(index_t nlon, index_t nlat, index_t nlev) {
  SphereGridParams p;
  p.nlon = nlon;
  p.nlat = nlat;
  p.nlev = nlev;
  return p;
}

// 4th-order central difference of f at x with step h.
template <class F>
real_t d4(F&& f, real_t x, real_t h) {
  return (8.0 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12.0 * h);
}

// Largest |div| / scale over random points, where div = (1/(a cos)) (du/dlon + d(v cos)/dlat)
// + domega/dp and scale = the largest of the three terms' magnitudes.
real_t max_relative_divergence(DcmipTest test, unsigned seed) {
  const real_t a = 6.37122e6;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<real_t> ulon(0, 2 * pi), ulat(-1.4, 1.4),
      ut(0, dcmip_period(test));
  std::uniform_real_distribution<real_t> up(dcmip::p_top() + 100, dcmip::kP0 - 100);
  real_t worst = 0;
  for (int n = 0; n < 200; ++n) {
    const real_t lon = ulon(rng), lat = ulat(rng), p = up(rng), t = ut(rng);
    auto u_of = [&](real_t x) {
      real_t u, v;
      dcmip_wind(test, a, x, lat, p, t, u, v);
      return u;
    };
    auto vc_of = [&](real_t y) {
      real_t u, v;
      dcmip_wind(test, a, lon, y, p, t, u, v);
      return v * std::cos(y);
    };
    auto w_of = [&](real_t q) { return dcmip_omega(test, lon, lat, q, t); };
    const real_t tx = d4(u_of, lon, 2e-4) / (a * std::cos(lat));
    const real_t ty = d4(vc_of, lat, 2e-4) / (a * std::cos(lat));
    const real_t tp = d4(w_of, p, 10.0);
    const real_t scale = std::max({std::abs(tx), std::abs(ty), std::abs(tp)});
    if (scale > 0) worst = std::max(worst, std::abs(tx + ty + tp) / scale);
  }
  return worst;
}
}  // namespace

TEST(Dcmip, NamesAndErrors) {
  EXPECT_EQ(dcmip_test_from_name("1-1"), DcmipTest::deformation_1_1);
  EXPECT_EQ(dcmip_test_from_name("1-2"), DcmipTest::hadley_1_2);
  EXPECT_NE(test::error_of<ConfigError>([] { dcmip_test_from_name("1-3"); }).find("'1-3'"),
            std::string::npos);
  EXPECT_NE(test::error_of<ConfigError>([] {
              dcmip_tracer(DcmipTest::hadley_1_2, 2, 0, 0, 5e4);
            }).find("index 2"),
            std::string::npos);
  EXPECT_NE(test::error_of<ConfigError>([] { dcmip_vertical_coordinate(0); }).find("nlev = 0"),
            std::string::npos);
  EXPECT_EQ(dcmip_period(DcmipTest::deformation_1_1), 12 * 86400.0);
  EXPECT_EQ(dcmip_period(DcmipTest::hadley_1_2), 86400.0);
}

// Reference driver's grid: equal height steps of ztop / nlev, p = p0 exp(-z/H), pure pressure
// at the top (b = 0, p = 254.94 hPa), sigma at the surface.
TEST(Dcmip, VerticalCoordinateIsEquallySpacedInHeight) {
  const index_t nlev = 60;
  const auto c = dcmip_vertical_coordinate(nlev);
  ASSERT_EQ(c.nlev(), nlev);
  // H = 287 * 300 / 9.80616 with the reference module's constants (HOMME's namelists quote
  // vtop = 0.2549944 from its own Rd = 287.04).
  EXPECT_NEAR(dcmip::kScaleHeight, 8780.195, 1e-3);
  EXPECT_NEAR(c.p_interface(0, c.p0) / c.p0, 0.2549438, 1e-7);
  EXPECT_EQ(c.b[0], 0.0);
  EXPECT_EQ(c.b[size_t(nlev)], 1.0);
  EXPECT_EQ(c.p_interface(nlev, 9.0e4), 9.0e4);  // the surface follows ps
  for (index_t kf = 0; kf <= nlev; ++kf) {
    const real_t z = dcmip::kScaleHeight * std::log(c.p0 / c.p_interface(kf, c.p0));
    EXPECT_NEAR(z, 200.0 * real_t(nlev - kf), 1e-9) << "interface " << kf;
  }
  real_t sum = 0;
  for (real_t dp : dcmip_reference_dp(c)) {
    EXPECT_GT(dp, 0);
    sum += dp;
  }
  EXPECT_NEAR(sum, dcmip::kP0 - dcmip::p_top(), 1e-9);
}

// Continuity in pressure coordinates for the point winds, by 4th-order finite differences
// (truncation below 1e-11, round-off ~1e-12 at these steps): both flows are non-divergent in 3D.
TEST(Dcmip, AnalyticFlowsAreNonDivergentInPressureCoordinates) {
  const real_t d11 = max_relative_divergence(DcmipTest::deformation_1_1, 1);
  const real_t d12 = max_relative_divergence(DcmipTest::hadley_1_2, 2);
  std::printf("max |div| / max term: 1-1 %.2e, 1-2 %.2e\n", d11, d12);
  EXPECT_LT(d11, 1e-8);
  EXPECT_LT(d12, 1e-8);
  // omega vanishes at the surface and at the model top (relative to its amplitude).
  for (auto test : {DcmipTest::deformation_1_1, DcmipTest::hadley_1_2}) {
    const real_t scale = std::abs(dcmip_omega(test, 1.0, 0.1, 5e4, 1000.0));
    EXPECT_GT(scale, 1e-3);
    EXPECT_LT(std::abs(dcmip_omega(test, 1.0, 0.1, dcmip::kP0, 1000.0)), 1e-14 * scale + 1e-300);
    EXPECT_LT(std::abs(dcmip_omega(test, 1.0, 0.1, dcmip::p_top(), 1000.0)), 1e-12 * scale);
  }
}

// Discrete fluxes: the per-cell air-mass budget closes (the surface residual of the divergence
// integrated from the top is round-off) and the derived vertical fluxes equal the cell average
// of the analytic omega times dt.
TEST(Dcmip, DiscreteFluxesCloseEveryColumn) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32, 10));
  const auto c = dcmip_vertical_coordinate(g.nlev());
  const auto dp = dcmip_reference_dp(c);
  for (auto test : {DcmipTest::deformation_1_1, DcmipTest::hadley_1_2}) {
    const real_t t = 0.1 * dcmip_period(test), dt = 600.0;
    SphereFluxes3d f;
    dcmip_fluxes(test, g, c, t, dt, f);
    std::vector<real_t> exact;
    dcmip_exact_vertical_flux(test, g, c, t, dt, exact);
    ASSERT_EQ(exact.size(), f.vertical.size());
    real_t wmax = 0, diff = 0;
    for (size_t n = 0; n < exact.size(); ++n) {
      wmax = std::max(wmax, std::abs(exact[n]));
      diff = std::max(diff, std::abs(exact[n] - f.vertical[n]));
    }
    const real_t residual = vertical_flux_from_divergence(g, dp, f);
    std::printf("test %s: max |w| %.3e Pa/step, |w - exact| %.2e, surface residual %.2e\n",
                test == DcmipTest::deformation_1_1 ? "1-1" : "1-2", wmax, diff, residual);
    EXPECT_GT(wmax, 1.0);
    EXPECT_LT(diff, 1e-11 * wmax);
    EXPECT_LT(residual, 1e-11 * wmax);
    // Pole edges carry nothing.
    for (index_t i = 0; i < g.nlon(); ++i) {
      EXPECT_EQ(f.horizontal[0].ya[size_t(i)], 0.0);
      EXPECT_EQ(f.horizontal[0].ya[size_t(g.lat_count() * g.nlon() + i)], 0.0);
    }
  }
}

TEST(Dcmip, TracerPointValues) {
  const real_t lon0 = 5 * pi / 6, lon1 = 7 * pi / 6, H = dcmip::kScaleHeight;
  const real_t p_z0 = dcmip::kP0 * std::exp(-5000.0 / H);
  const auto t11 = DcmipTest::deformation_1_1;
  EXPECT_NEAR(dcmip_tracer(t11, 1, lon0, 0, p_z0), 1.0, 1e-14);
  EXPECT_NEAR(dcmip_tracer(t11, 1, lon1, 0, p_z0), 1.0, 1e-14);
  EXPECT_NEAR(dcmip_tracer(t11, 2, lon0, 0, p_z0), 0.1, 1e-14);
  EXPECT_EQ(dcmip_tracer(t11, 3, lon0, 0, p_z0), 1.0);
  // The slot: above z0 within 1/8 rad of the equator.
  const real_t p_slot = dcmip::kP0 * std::exp(-5100.0 / H);
  EXPECT_EQ(dcmip_tracer(t11, 3, lon0, 0.05, p_slot), 0.1);
  EXPECT_EQ(dcmip_tracer(t11, 3, lon0, 0.2, p_slot), 1.0);
  EXPECT_EQ(dcmip_tracer(t11, 1, 0.0, 0.0, p_z0), 0.0);  // far from both bells
  EXPECT_NEAR(dcmip_tracer(t11, 4, 0.0, 0.0, p_z0), 1.0 - 0.3 * (0.9 + 0.1), 1e-15);
  const auto t12 = DcmipTest::hadley_1_2;
  EXPECT_NEAR(dcmip_tracer(t12, 1, 1.0, 0.3, dcmip::kP0 * std::exp(-3500.0 / H)), 1.0, 1e-12);
  EXPECT_EQ(dcmip_tracer(t12, 1, 1.0, 0.3, dcmip::kP0 * std::exp(-1900.0 / H)), 0.0);
  EXPECT_EQ(dcmip_tracer(t12, 1, 1.0, 0.3, dcmip::kP0 * std::exp(-5100.0 / H)), 0.0);
}

// Cell averages: q4 = 1 - 0.3 (q1 + q2 + q3) holds for the averages (linear, same rule), values
// stay in their ranges, and the air mass sums to (p0 - ptop) 4 pi a^2 / g.
TEST(Dcmip, CellAveragedInitialConditions) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32, 12));
  const auto c = dcmip_vertical_coordinate(g.nlev());
  std::vector<Field> q;
  for (int n = 1; n <= 4; ++n) {
    q.emplace_back(g.grid(), "q" + std::to_string(n));
    dcmip_tracer_init(DcmipTest::deformation_1_1, n, g, c, q.back(), 3);
  }
  real_t worst = 0;
  const auto v1 = q[0].view(), v2 = q[1].view(), v3 = q[2].view(), v4 = q[3].view();
  for (index_t k = 0; k < v1.nz; ++k)
    for (index_t j = 0; j < v1.ny; ++j)
      for (index_t i = 0; i < v1.nx; ++i)
        worst = std::max(
            worst, std::abs(v4(i, j, k) + 0.3 * (v1(i, j, k) + v2(i, j, k) + v3(i, j, k)) - 1.0));
  EXPECT_LT(worst, 1e-14);
  EXPECT_GE(q[0].min(), 0.0);
  EXPECT_GT(q[0].max(), 0.5);
  EXPECT_LE(q[0].max(), 1.0);
  EXPECT_GE(q[2].min(), 0.1 - 1e-15);
  EXPECT_LE(q[2].max(), 1.0 + 1e-15);

  Field h(g.grid(), "q1_12");
  dcmip_tracer_init(DcmipTest::hadley_1_2, 1, g, c, h, 4);
  EXPECT_GE(h.min(), 0.0);
  EXPECT_GT(h.max(), 0.8);
  EXPECT_LE(h.max(), 1.0);

  Field dp(g.grid(), "dp");
  dcmip_air_mass(g, c, dp);
  const real_t a = g.radius();
  EXPECT_NEAR(g.integral(dp) / ((dcmip::kP0 - dcmip::p_top()) * 4 * pi * a * a), 1.0, 1e-13);
}
