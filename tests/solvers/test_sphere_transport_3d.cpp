// 3D sphere transport with its own air mass under the DCMIP 2012 flows 1-1 and 1-2: tracer and
// air-mass conservation, tracer/air-mass consistency (a uniform mixing ratio stays uniform), the
// vertical PPM kernel, DCMIP 1-2 (and 1-1) accuracy after a full period, and bitwise rank
// independence. Runs at 1 and 2 ranks.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>

#include "common/error_of.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/dcmip.hpp"
#include "physics/sphere_flow.hpp"
#include "physics/sphere_tracers.hpp"
#include "solvers/sphere_transport_3d.hpp"

using namespace aeolus;
using namespace aeolus::physics;

namespace {

SphereGridParams grid_params(index_t nlon, index_t nlat, index_t nlev) {
  SphereGridParams p;
  p.nlon = nlon;
  p.nlat = nlat;
  p.nlev = nlev;
  p.halo = 3;
  return p;
}

// A DCMIP case on grid g: vertical coordinate, reference air mass, flow and stepper.
struct Case {
  Case(const SphereGrid& g, DcmipTest test, real_t cfl = 0.9,
       Sphere3dSplitting split = Sphere3dSplitting::hv)
      : coord(dcmip_vertical_coordinate(g.nlev())), dp(g.grid(), "dp") {
    dcmip_air_mass(g, coord, dp);
    stepper = std::make_unique<SphereTransport3dStepper>(g, dcmip_flow_function(test, g, coord),
                                                         SphereSchemeParams{}, cfl, dp, split);
  }
  HybridCoordinate coord;
  Field dp;  // reference air mass
  std::unique_ptr<SphereTransport3dStepper> stepper;
};

// Runs to t_end with steps of at most max_dt, the last one shortened to land on t_end.
int run(SphereTransport3dStepper& s, const std::vector<Field*>& qs, real_t t_end,
        real_t dt_max = 1e300) {
  real_t t = 0;
  int steps = 0;
  while (t < t_end * (1 - 1e-14)) {
    real_t dt = std::min({s.max_dt(*qs[0], t), t_end - t, dt_max});
    s.step_all(qs, t, dt);
    ++steps;
  }
  return steps;
}

// sum over cells of a * b * area (collective).
real_t weighted_sum(const SphereGrid& g, const Field& a, const Field& b) {
  Field ab(a);
  auto v = ab.view();
  const auto w = b.view();
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) v(i, j, k) *= w(i, j, k);
  return g.integral(ab);
}

// Air-mass-weighted normalised l2 error sqrt(sum (q - q0)^2 m / sum q0^2 m), m the reference
// air mass (DCMIP's normalised l2 with mass weights).
real_t l2_error(const SphereGrid& g, const Field& q, const Field& q0, const Field& m) {
  Field d(q), q2(q0);
  auto dv = d.view();
  auto qv = q2.view();
  const auto rv = q0.view();
  for (index_t k = 0; k < dv.nz; ++k)
    for (index_t j = 0; j < dv.ny; ++j)
      for (index_t i = 0; i < dv.nx; ++i) {
        const real_t e = dv(i, j, k) - rv(i, j, k);
        dv(i, j, k) = e * e;
        qv(i, j, k) = rv(i, j, k) * rv(i, j, k);
      }
  return std::sqrt(weighted_sum(g, d, m) / weighted_sum(g, q2, m));
}

// Largest |q - c| over owned cells (collective).
real_t max_deviation(const Field& q, real_t c) { return std::max(q.max() - c, c - q.min()); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// Vertical kernel on random columns: uniform q gives exactly W q, each column's tracer and air
// mass are conserved, and the monotone PPM creates no new extrema in the column.
TEST(SphereTransport3d, VerticalPpmKernel) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(8, 8, 12));
  Field dp(g.grid(), "dp"), q(g.grid(), "q"), qm(g.grid(), "qm"), one(g.grid(), "one");
  std::mt19937_64 rng(7 + unsigned(g.lat_start()));
  std::uniform_real_distribution<real_t> ud(500, 5000), uq(0, 1), uc(-0.9, 0.9);
  auto dv = dp.view(), qv = q.view(), mv = qm.view(), ov = one.view();
  const index_t nx = dv.nx, ny = dv.ny, nz = dv.nz;
  for (index_t k = 0; k < nz; ++k)
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i) {
        dv(i, j, k) = ud(rng);
        qv(i, j, k) = k % 4 < 2 ? uq(rng) : 0.0;  // rough profile with plateaus
      }
  // Fluxes: swept fraction in (-0.9, 0.9) of the upwind layer, at most 0.45 of each layer out
  // through each face (so no layer empties).
  std::vector<real_t> w(size_t((nz + 1) * ny * nx), 0.0);
  for (index_t kf = 1; kf < nz; ++kf)
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i) {
        const real_t c = uc(rng) * 0.5;
        w[size_t((kf * ny + j) * nx + i)] = c > 0 ? c * dv(i, j, kf - 1) : c * dv(i, j, kf);
      }
  std::vector<real_t> work(vertical_ppm_work_size(nx, nz));
  EXPECT_LT(vertical_courant_local(dp.view(), w.data(), 1.0).max_c, 0.5);
  for (index_t k = 0; k < nz; ++k)
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i) {
        mv(i, j, k) = dv(i, j, k) * qv(i, j, k);
        ov(i, j, k) = 0.7;
      }
  Field qm0(qm), dp_new(dp), uniform_mass(dp);
  auto um = uniform_mass.view();
  for (index_t k = 0; k < nz; ++k)
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i) um(i, j, k) *= 0.7;
  vertical_ppm_tracer_update(dp.view(), q.view(), w.data(), 1.0, qm.view(), work.data());
  vertical_ppm_tracer_update(dp.view(), one.view(), w.data(), 1.0, uniform_mass.view(),
                             work.data());
  vertical_air_mass_update(dp_new.view(), w.data(), 1.0);
  const auto nv = dp_new.view(), m0 = qm0.view();
  const auto d0 = dp.view();
  real_t col_err = 0, air_err = 0, uni_err = 0, lo = 0, hi = 0;
  for (index_t j = 0; j < ny; ++j)
    for (index_t i = 0; i < nx; ++i) {
      real_t s0 = 0, s1 = 0, a0 = 0, a1 = 0, qmin = 1e300, qmax = -1e300;
      for (index_t k = 0; k < nz; ++k) {
        s0 += m0(i, j, k);
        s1 += mv(i, j, k);
        a0 += d0(i, j, k);
        a1 += nv(i, j, k);
        qmin = std::min(qmin, qv(i, j, k));
        qmax = std::max(qmax, qv(i, j, k));
        uni_err = std::max(uni_err, std::abs(um(i, j, k) / nv(i, j, k) - 0.7));
      }
      col_err = std::max(col_err, std::abs(s1 - s0) / s0);
      air_err = std::max(air_err, std::abs(a1 - a0) / a0);
      for (index_t k = 0; k < nz; ++k) {
        const real_t qn = mv(i, j, k) / nv(i, j, k);
        lo = std::max(lo, qmin - qn);
        hi = std::max(hi, qn - qmax);
      }
    }
  EXPECT_LT(col_err, 1e-14);
  EXPECT_LT(air_err, 1e-14);
  EXPECT_LT(uni_err, 1e-15);
  EXPECT_LT(lo, 1e-14);
  EXPECT_LT(hi, 1e-14);
}

TEST(SphereTransport3d, RejectsBadParametersAndTooLargeSteps) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(32, 16, 6));
  const auto c = dcmip_vertical_coordinate(g.nlev());
  Field dp(g.grid(), "dp");
  dcmip_air_mass(g, c, dp);
  auto flow = dcmip_flow_function(DcmipTest::hadley_1_2, g, c);
  EXPECT_NE(test::error_of<ConfigError>([&] {
              SphereTransport3dStepper s(g, flow, SphereSchemeParams{}, 1.0, dp);
            }).find("cfl = 1"),
            std::string::npos);
  Field bad(dp);
  bad.fill(0.0);
  EXPECT_NE(test::error_of<ConfigError>([&] {
              SphereTransport3dStepper s(g, flow, SphereSchemeParams{}, 0.5, bad);
            }).find("minimum 0"),
            std::string::npos);
  SphereTransport3dStepper s(g, flow, SphereSchemeParams{}, 0.5, dp);
  Field q(g.grid(), "q");
  q.fill(1.0);
  real_t t = 0, dt = 10 * s.max_dt(q, 0.0);
  const std::string msg = test::error_of<NumericsError>([&] { s.step(q, t, dt); });
  EXPECT_NE(msg.find(">= 1"), std::string::npos) << msg;
  EXPECT_EQ(t, 0.0);
}

// Tracer/air-mass consistency: a uniform mixing ratio stays uniform to round-off under both
// flows (the air mass itself is far from uniform and changes every step).
TEST(SphereTransport3d, UniformMixingRatioStaysUniform) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32, 12));
  for (auto split : {Sphere3dSplitting::hv, Sphere3dSplitting::strang})
    for (auto test : {DcmipTest::deformation_1_1, DcmipTest::hadley_1_2}) {
      Case k(g, test, 0.9, split);
      Field q(g.grid(), "q"), r(g.grid(), "r");
      q.fill(0.7);
      r.fill(1.0);
      const real_t t_end = 0.25 * dcmip_period(test);
      const int steps = run(*k.stepper, {&q, &r}, t_end, dcmip_period(test) / 24);
      const real_t dq = max_deviation(q, 0.7) / 0.7, dr = max_deviation(r, 1.0);
      // How far the air mass moved from the reference (to round-off with hv, by the splitting
      // error with strang).
      Field diff(k.stepper->air_mass());
      auto dv = diff.view();
      const auto rv = k.dp.view();
      for (index_t kk = 0; kk < dv.nz; ++kk)
        for (index_t j = 0; j < dv.ny; ++j)
          for (index_t i = 0; i < dv.nx; ++i) dv(i, j, kk) = dv(i, j, kk) / rv(i, j, kk) - 1.0;
      const real_t air_change = std::max(diff.max(), -diff.min());
      if (g.grid().rank() == 0)
        std::printf(
            "%s %s: %d steps to %.0f s, uniform q deviation %.2e / %.2e, air mass vs "
            "reference %.2e\n",
            split == Sphere3dSplitting::hv ? "hv" : "strang",
            test == DcmipTest::deformation_1_1 ? "1-1" : "1-2", steps, t_end, dq, dr, air_change);
      EXPECT_LT(dq, 1e-13);
      EXPECT_LT(dr, 1e-13);
      if (split == Sphere3dSplitting::hv) {
        EXPECT_LT(air_change, 1e-13);
      }
    }
}

// Conservation over a short 1-2 run at 64 x 32 x 20: tracer mass sum(q m area) and air mass,
// with both splittings.
TEST(SphereTransport3d, Dcmip12ConservesTracerAndAirMass) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32, 20));
  for (auto split : {Sphere3dSplitting::hv, Sphere3dSplitting::strang}) {
    Case k(g, DcmipTest::hadley_1_2, 0.9, split);
    Field q(g.grid(), "q1");
    dcmip_tracer_init(DcmipTest::hadley_1_2, 1, g, k.coord, q);
    const real_t mass0 = weighted_sum(g, q, k.stepper->air_mass());
    const real_t air0 = g.integral(k.stepper->air_mass());
    const int steps = run(*k.stepper, {&q}, 6 * 3600.0, 1800.0);
    const real_t mass1 = weighted_sum(g, q, k.stepper->air_mass());
    const real_t air1 = g.integral(k.stepper->air_mass());
    const real_t dm = std::abs(mass1 / mass0 - 1), da = std::abs(air1 / air0 - 1);
    if (g.grid().rank() == 0)
      std::printf("1-2 %s, 6 h, %d steps: tracer mass change %.2e, air mass change %.2e\n",
                  split == Sphere3dSplitting::hv ? "hv" : "strang", steps, dm, da);
    EXPECT_LT(dm, 1e-13);
    EXPECT_LT(da, 1e-13);
    EXPECT_GE(q.min(), 0.0);
  }
}

// DCMIP 1-2 for the full day (dt = 30 min): the flow brings q1 back to its initial layer at
// t = 1 day, so the mass-weighted normalised l2 error against the initial condition measures the
// scheme. Measured (hv): 64x32x20 0.459, 64x32x40 0.387, 128x64x20 0.368, 128x64x40 0.260 (dt
// 15 min at 128x64): it falls with both the horizontal and the vertical resolution (the layer
// of 3 km spans 5 levels at 600 m; the 5-cell overturning at 5.6 deg spans ~6 rows per cell).
// Bounds: 10 % above the measured values (regression), and the 40-level error at least 10 %
// below the 20-level one. The scheme is monotone: no value above the initial maximum or below 0.
TEST(SphereTransport3d, Dcmip12FullDay) {
  real_t l2[2] = {0, 0};
  const index_t levels[2] = {20, 40};
  for (int n = 0; n < 2; ++n) {
    SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32, levels[n]));
    Case k(g, DcmipTest::hadley_1_2);
    Field q(g.grid(), "q1");
    dcmip_tracer_init(DcmipTest::hadley_1_2, 1, g, k.coord, q);
    const Field q0(q);
    const auto t0 = std::chrono::steady_clock::now();
    const int steps = run(*k.stepper, {&q}, dcmip_period(DcmipTest::hadley_1_2), 1800.0);
    const double secs = seconds_since(t0);
    l2[n] = l2_error(g, q, q0, k.dp);
    const real_t hi = q.max(), hi0 = q0.max(), lo = q.min();  // collective: on every rank
    if (g.grid().rank() == 0)
      std::printf(
          "1-2 full day 64x32x%d: %d steps, %.2f s, l2 %.4f, max %.4f (initial %.4f), "
          "min %.2e\n",
          int(levels[n]), steps, secs, l2[n], hi, hi0, lo);
    EXPECT_LE(hi, hi0);
    EXPECT_GE(lo, 0.0);
  }
  EXPECT_LT(l2[0], 0.50);
  EXPECT_LT(l2[1], 0.43);
  EXPECT_LT(l2[1], 0.9 * l2[0]);
}

// DCMIP 1-1 for the full 12 days at 5.6 deg x 20 levels (dt = 1 h, largest Courant number
// 0.35), all four tracers stepped together. Measured l2: q1 0.797, q2 0.033, q3 0.329, q4 0.022
// (128x64x20 at 30 min: 0.650, 0.029, 0.302, 0.019). The cosine bells (half-width 1 km = 1.7
// levels, 0.5 rad = 5 cells) are barely resolved here, hence q1's large error. Bounds: 10 %
// above the measured values. No new extrema at any step: q1 >= 0, q3 in [0.1, 1] (the larger
// Courant numbers: Dcmip11NoNewExtremaAtLargeCourant).
TEST(SphereTransport3d, Dcmip11TwelveDays) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32, 20));
  Case k(g, DcmipTest::deformation_1_1);
  std::vector<Field> q, q0;
  for (int n = 1; n <= 4; ++n) {
    q.emplace_back(g.grid(), "q" + std::to_string(n));
    dcmip_tracer_init(DcmipTest::deformation_1_1, n, g, k.coord, q.back());
  }
  q0 = q;
  const std::vector<Field*> qs{&q[0], &q[1], &q[2], &q[3]};
  const real_t t_end = dcmip_period(DcmipTest::deformation_1_1);
  const auto t0 = std::chrono::steady_clock::now();
  real_t t = 0, courant = 0, under1 = 0, under3 = 0, over3 = 0;
  int steps = 0;
  while (t < t_end * (1 - 1e-14)) {
    real_t dt = std::min({k.stepper->max_dt(q[0], t), t_end - t, 3600.0});
    courant = std::max(courant, k.stepper->courant(t, dt));
    k.stepper->step_all(qs, t, dt);
    ++steps;
    under1 = std::max(under1, -q[0].min());
    under3 = std::max(under3, 0.1 - q[2].min());
    over3 = std::max(over3, q[2].max() - 1.0);
  }
  const double secs = seconds_since(t0);
  real_t l2[4];
  for (int n = 0; n < 4; ++n) l2[n] = l2_error(g, q[size_t(n)], q0[size_t(n)], k.dp);
  if (g.grid().rank() == 0)
    std::printf(
        "1-1 12 days 64x32x20: %d steps, %.2f s, Courant %.2f, l2 q1 %.4f q2 %.4f q3 %.4f "
        "q4 %.4f; worst undershoot q1 %.1e q3 %.1e\n",
        steps, secs, courant, l2[0], l2[1], l2[2], l2[3], under1, under3);
  EXPECT_LT(l2[0], 0.88);
  EXPECT_LT(l2[1], 0.037);
  EXPECT_LT(l2[2], 0.37);
  EXPECT_LT(l2[3], 0.025);
  EXPECT_LE(under1, 1e-14);
  EXPECT_LE(under3, 1e-14);
  EXPECT_LE(over3, 1e-14);
}

// Bitwise rank independence: the world run (1 or 2 ranks) against a run on MPI_COMM_SELF on
// rank 0, under the 1-1 flow (zonal Courant numbers above 1 near the poles, vertical motion).
TEST(SphereTransport3d, BitwiseRankIndependent) {
  const SphereGridParams gp = grid_params(32, 16, 8);
  auto simulate = [&](MPI_Comm comm) {
    SphereGrid g(comm, gp);
    Case k(g, DcmipTest::deformation_1_1);
    Field q1(g.grid(), "q1"), q3(g.grid(), "q3");
    dcmip_tracer_init(DcmipTest::deformation_1_1, 1, g, k.coord, q1);
    dcmip_tracer_init(DcmipTest::deformation_1_1, 3, g, k.coord, q3);
    real_t t = 0;
    for (int n = 0; n < 6; ++n) {
      real_t dt = 0.8 * k.stepper->max_dt(q1, t);
      k.stepper->step_all({&q1, &q3}, t, dt);
    }
    return std::vector<std::vector<real_t>>{q1.gather_to_root(), q3.gather_to_root(),
                                            k.stepper->air_mass().gather_to_root()};
  };
  const auto world = simulate(PETSC_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) {
    const auto self = simulate(PETSC_COMM_SELF);
    for (size_t f = 0; f < world.size(); ++f) {
      ASSERT_EQ(world[f].size(), self[f].size());
      size_t differ = 0;
      for (size_t n = 0; n < world[f].size(); ++n) differ += world[f][n] != self[f][n];
      EXPECT_EQ(differ, 0u) << "field " << f;
    }
  }
}

// The mixing-ratio form of the horizontal step (lin_rood_tracer_step_2d) makes no new extrema in
// each level's strongly divergent flow: DCMIP 1-1 for 12 days at 5.6 deg x 20 levels with the
// largest step max_dt allows (cfl 0.9; with tracer mass and air mass transported separately,
// undershoots of 5e-3 at Courant 0.71). Every tracer stays within its initial range at every
// step, and the accuracy is that of the 1 h steps (Dcmip11TwelveDays) or better.
TEST(SphereTransport3d, Dcmip11NoNewExtremaAtLargeCourant) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32, 20));
  Case k(g, DcmipTest::deformation_1_1, 0.9);
  std::vector<Field> q, q0;
  for (int n = 1; n <= 4; ++n) {
    q.emplace_back(g.grid(), "q" + std::to_string(n));
    dcmip_tracer_init(DcmipTest::deformation_1_1, n, g, k.coord, q.back());
  }
  q0 = q;
  real_t lo[4], hi[4];
  for (int n = 0; n < 4; ++n) {
    lo[n] = q0[size_t(n)].min();
    hi[n] = q0[size_t(n)].max();
  }
  const std::vector<Field*> qs{&q[0], &q[1], &q[2], &q[3]};
  const real_t t_end = dcmip_period(DcmipTest::deformation_1_1);
  real_t t = 0, courant = 0, worst = 0;
  int steps = 0;
  while (t < t_end * (1 - 1e-14)) {
    real_t dt = std::min(k.stepper->max_dt(q[0], t), t_end - t);
    courant = std::max(courant, k.stepper->courant(t, dt));
    k.stepper->step_all(qs, t, dt);
    ++steps;
    for (int n = 0; n < 4; ++n)
      worst = std::max({worst, lo[n] - q[size_t(n)].min(), q[size_t(n)].max() - hi[n]});
  }
  real_t l2[4];
  for (int n = 0; n < 4; ++n) l2[n] = l2_error(g, q[size_t(n)], q0[size_t(n)], k.dp);
  if (g.grid().rank() == 0)
    std::printf(
        "1-1 12 days 64x32x20, cfl 0.9: %d steps, Courant %.2f, l2 q1 %.4f q2 %.4f q3 %.4f "
        "q4 %.4f; largest excursion beyond the initial ranges %.1e\n",
        steps, courant, l2[0], l2[1], l2[2], l2[3], worst);
  EXPECT_GT(courant, 0.85);
  EXPECT_LE(worst, 1e-14);
}

// Lauritzen et al. (2012) divergent flow in 2D (one level, air density starting at 1, as
// cases/lauritzen-2012 runs it): cosine bells and slotted cylinders (both in [0.1, 1]) get no
// new extrema at any step with the monotone and the bounded limiter, uniform mixing ratios stay
// uniform, and tracer and air mass are conserved. 3 deg, 12 days, cfl 0.9.
TEST(SphereTransport3d, LauritzenDivergentMixingRatiosStayInRange) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(120, 60, 1));
  physics::SphereFlowParams fp;
  fp.type = "lauritzen_divergent";
  fp.period = 1036800.0;
  auto flow2d = physics::sphere_flow_function(fp, g);
  SphereFlow3dFunction flow = [flow2d, &g](real_t t, real_t dt, SphereFluxes3d& out) {
    out.resize(g);
    flow2d(t, dt, out.horizontal.front());
    std::fill(out.vertical.begin(), out.vertical.end(), 0.0);
  };
  for (const char* limiter : {"monotone", "bounded"}) {
    SphereSchemeParams scheme;
    scheme.limiter = limiter;
    Field air(g.grid(), "air");
    air.fill(1.0);
    SphereTransport3dStepper s(g, flow, scheme, 0.9, air);
    Field bells(g.grid(), "q1"), cyl(g.grid(), "sc"), u7(g.grid(), "u7"), u1(g.grid(), "u1");
    physics::SphereTracerParams tp;
    tp.type = "cosine_bells";
    physics::fill_sphere_tracer(tp, g, bells);
    tp.type = "slotted_cylinders";
    physics::fill_sphere_tracer(tp, g, cyl);
    u7.fill(0.7);
    u1.fill(1.0);
    const real_t mb0 = weighted_sum(g, bells, s.air_mass());
    const real_t mc0 = weighted_sum(g, cyl, s.air_mass());
    const real_t air0 = g.integral(s.air_mass());
    const real_t blo = bells.min(), bhi = bells.max(), clo = cyl.min(), chi = cyl.max();
    real_t t = 0, worst = 0, uniform = 0, air_change = 0;
    int steps = 0;
    while (t < fp.period * (1 - 1e-14)) {
      real_t dt = std::min(s.max_dt(bells, t), fp.period - t);
      s.step_all({&bells, &cyl, &u7, &u1}, t, dt);
      ++steps;
      worst =
          std::max({worst, blo - bells.min(), bells.max() - bhi, clo - cyl.min(), cyl.max() - chi});
      uniform = std::max({uniform, max_deviation(u7, 0.7) / 0.7, max_deviation(u1, 1.0)});
      air_change = std::max(air_change, max_deviation(s.air_mass(), 1.0));
    }
    const real_t db = std::abs(weighted_sum(g, bells, s.air_mass()) / mb0 - 1);
    const real_t dc = std::abs(weighted_sum(g, cyl, s.air_mass()) / mc0 - 1);
    const real_t da = std::abs(g.integral(s.air_mass()) / air0 - 1);
    const real_t bmin = bells.min(), bmax = bells.max(), cmin = cyl.min(), cmax = cyl.max();
    if (g.grid().rank() == 0)
      std::printf(
          "Lauritzen divergent 3 deg, 12 days, %s: %d steps, air density 1 +- %.2f, largest "
          "excursion %.1e (bells %.4g..%.4g, cylinders %.4g..%.4g), uniform q deviation %.1e, "
          "mass change bells %.1e cylinders %.1e air %.1e\n",
          limiter, steps, air_change, worst, bmin, bmax, cmin, cmax, uniform, db, dc, da);
    EXPECT_GT(air_change, 0.1);  // the flow is divergent indeed
    EXPECT_LE(worst, 1e-14);
    EXPECT_LT(uniform, 1e-13);
    EXPECT_LT(db, 1e-13);
    EXPECT_LT(dc, 1e-13);
    EXPECT_LT(da, 1e-13);
  }
}

// The hybrid vertical closure (set_vertical_closure) on the DCMIP flows, whose surface pressure
// stays p0: the closure's vertical fluxes, computed from the air mass after the horizontal step,
// must reproduce the flows' own column-consistent ones, so the run matches the default one to
// round-off, every column stays on the coordinate, and the surface residual is round-off.
TEST(SphereTransport3d, VerticalClosureReproducesDcmipColumns) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(32, 16, 8));
  for (const DcmipTest test : {DcmipTest::deformation_1_1, DcmipTest::hadley_1_2}) {
    Case plain(g, test), closed(g, test);
    closed.stepper->set_vertical_closure(closed.coord);
    EXPECT_TRUE(closed.stepper->has_vertical_closure());
    Field q0(g.grid(), "q0"), q1(g.grid(), "q1");
    dcmip_tracer_init(test, 1, g, plain.coord, q0);
    q1.copy_owned_from(q0);
    real_t t0 = 0, t1 = 0, residual = 0;
    for (int n = 0; n < 8; ++n) {
      real_t dt = 0.8 * plain.stepper->max_dt(q0, t0), dt1 = dt;
      plain.stepper->step(q0, t0, dt);
      closed.stepper->step(q1, t1, dt1);
      residual = std::max(residual, closed.stepper->last_closure_residual());
    }
    EXPECT_LT(residual, 1e-8) << "Pa";
    EXPECT_EQ(plain.stepper->last_closure_residual(), 0.0);
    // Same vertical fluxes, same fields.
    const auto& wp = plain.stepper->last_vertical_fluxes();
    const auto& wc = closed.stepper->last_vertical_fluxes();
    ASSERT_EQ(wp.size(), wc.size());
    real_t wmax = 0, wdiff = 0;
    for (size_t n = 0; n < wp.size(); ++n) {
      wmax = std::max(wmax, std::abs(wp[n]));
      wdiff = std::max(wdiff, std::abs(wp[n] - wc[n]));
    }
    EXPECT_GT(wmax, 1.0);
    EXPECT_LT(wdiff, 1e-11 * wmax);
    Field d(q1);
    d.copy_owned_from(q1);
    {
      auto dv = d.view();
      const auto a = q0.view();
      for (index_t k = 0; k < dv.nz; ++k)
        for (index_t j = 0; j < dv.ny; ++j)
          for (index_t i = 0; i < dv.nx; ++i) dv(i, j, k) -= a(i, j, k);
    }
    EXPECT_LT(max_deviation(d, 0.0), 1e-13);
    // Every column on the coordinate of its mass.
    const ConstFieldView dp = closed.stepper->air_mass().view();
    real_t off = 0;
    for (index_t j = 0; j < dp.ny; ++j)
      for (index_t i = 0; i < dp.nx; ++i) {
        real_t ps = closed.coord.p_interface(0, 0.0);
        for (index_t k = 0; k < dp.nz; ++k) ps += dp(i, j, k);
        for (index_t k = 0; k < dp.nz; ++k)
          off = std::max(off, std::abs(dp(i, j, k) - closed.coord.dp(k, ps)) / dp(i, j, k));
      }
    real_t off_all = 0;
    MPI_Allreduce(&off, &off_all, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
    EXPECT_LT(off_all, 1e-13);
  }
}

TEST(SphereTransport3d, VerticalClosureRejectsBadSetups) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(32, 16, 8));
  Case strang(g, DcmipTest::hadley_1_2, 0.9, Sphere3dSplitting::strang);
  EXPECT_THROW(strang.stepper->set_vertical_closure(strang.coord), ConfigError);
  Case k(g, DcmipTest::hadley_1_2);
  EXPECT_THROW(k.stepper->set_vertical_closure(dcmip_vertical_coordinate(6)), ConfigError);
  HybridCoordinate bad = k.coord;
  bad.b.back() = 0.99;
  EXPECT_THROW(k.stepper->set_vertical_closure(bad), ConfigError);
  // An air mass off the coordinate of its column mass.
  k.stepper->air_mass().view()(0, 0, 0) *= 1.01;
  EXPECT_THROW(k.stepper->set_vertical_closure(k.coord), ConfigError);
  EXPECT_FALSE(k.stepper->has_vertical_closure());
}
