// Lin-Rood flux-form semi-Lagrangian transport on the latitude-longitude sphere: uniform-field
// preservation, mass conservation, the Williamson et al. (1992) case 1 cosine bell (with flow
// over the poles), convergence order on a smooth hill, the monotone limiter, and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "grids/error.hpp"
#include "solvers/sphere_kernels.hpp"
#include "solvers/sphere_transport.hpp"
#include "tests/common/error_of.hpp"

using namespace aeolus;

namespace {

constexpr real_t kPi = 3.14159265358979323846;
constexpr real_t kRadius = 6.37122e6;
constexpr real_t kPeriod = 12 * 86400.0;  // one revolution (s)
constexpr real_t kU0 = 2 * kPi * kRadius / kPeriod;

// Swept areas of a step from a stream function psi(column, edge row) at the face corners:
// exact corner differences times dt, zero on the pole edges.
template <class Psi>
void swept_from_psi(const SphereGrid& g, real_t dt, const Psi& psi, SphereFaceFluxes& out) {
  const index_t nx = g.nlon(), ny = g.nlat(), nj = g.lat_count(), j0 = g.lat_start();
  const index_t h = g.halo();
  for (index_t r = -h; r < nj + h; ++r) {
    const index_t j = j0 + r;
    if (j < 0 || j >= ny) continue;
    for (index_t i = 0; i < nx; ++i)
      out.xa[size_t((r + h) * nx + i)] = dt * (psi(i, j) - psi(i, j + 1));
  }
  for (index_t r = 0; r <= nj; ++r) {
    const index_t j = j0 + r;
    for (index_t i = 0; i < nx; ++i)
      out.ya[size_t(r * nx + i)] = (j == 0 || j == ny) ? 0.0 : dt * (psi(i + 1, j) - psi(i, j));
  }
}

// Williamson case 1 solid-body rotation, psi = -u0 a (sin lat cos alpha - cos lon cos lat
// sin alpha). Swept areas of a step are exact corner differences times dt (zero on the pole
// edges, where cos lat = 0 exactly).
// The flow is steady: the swept areas of the last dt are kept and reused.
SweptAreaFunction solid_body(const SphereGrid& g, real_t alpha) {
  auto cache = std::make_shared<std::pair<real_t, SphereFaceFluxes>>();
  cache->first = -1;
  return [&g, alpha, cache](real_t /*t*/, real_t dt, SphereFaceFluxes& out) {
    if (cache->first == dt) {
      out = cache->second;
      return;
    }
    out.resize(g);
    const index_t nx = g.nlon();
    const real_t ca = std::cos(alpha), sa = std::sin(alpha);
    auto psi = [&](index_t i, index_t je) {
      const real_t lon = g.lon_edge(((i % nx) + nx) % nx);
      return -kU0 * kRadius * (g.sin_lat_edge(je) * ca - std::cos(lon) * g.cos_lat_edge(je) * sa);
    };
    swept_from_psi(g, dt, psi, out);
    cache->first = dt;
    cache->second = out;
  };
}

SphereGridParams grid_params(index_t nlon, index_t nlat) {
  SphereGridParams p;
  p.nlon = nlon;
  p.nlat = nlat;
  p.radius = kRadius;
  p.halo = 3;
  return p;
}

// Cell averages of h(lon, lat) by 3x3 Gauss-Legendre quadrature in (lon, sin lat), which is
// exact area weighting on the sphere.
void set_cell_averages(const SphereGrid& g, Field& q,
                       const std::function<real_t(real_t, real_t)>& h) {
  const real_t x[3] = {-std::sqrt(0.6), 0.0, std::sqrt(0.6)};
  const real_t wq[3] = {5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0};
  auto v = q.view();
  for (index_t j = 0; j < v.ny; ++j) {
    const index_t jg = g.lat_start() + j;
    const real_t s0 = g.sin_lat_edge(jg), s1 = g.sin_lat_edge(jg + 1);
    for (index_t i = 0; i < v.nx; ++i) {
      const real_t l0 = g.lon_edge(i), l1 = l0 + g.dlon();
      real_t sum = 0;
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
          const real_t lon = 0.5 * (l0 + l1) + 0.5 * (l1 - l0) * x[a];
          const real_t mu = 0.5 * (s0 + s1) + 0.5 * (s1 - s0) * x[b];
          sum += wq[a] * wq[b] * h(lon, std::asin(mu));
        }
      v(i, j) = sum;
    }
  }
}

// Great-circle distance from (lon, lat) to (lon_c, lat_c) on the unit sphere.
real_t distance(real_t lon, real_t lat, real_t lon_c, real_t lat_c) {
  const real_t c =
      std::sin(lat_c) * std::sin(lat) + std::cos(lat_c) * std::cos(lat) * std::cos(lon - lon_c);
  return std::acos(std::clamp(c, -1.0, 1.0));
}

real_t cosine_bell(real_t lon, real_t lat) {
  const real_t r = distance(lon, lat, 1.5 * kPi, 0.0), big_r = 1.0 / 3.0;
  return r < big_r ? 500.0 * (1.0 + std::cos(kPi * r / big_r)) : 0.0;
}

// Williamson et al. (1992) normalised errors, area weighted.
struct Norms {
  real_t l1 = 0, l2 = 0, linf = 0;
};
Norms williamson_norms(const SphereGrid& g, const Field& q, const Field& exact) {
  auto a = q.view();
  auto b = exact.view();
  real_t s1 = 0, s2 = 0, e1 = 0, e2 = 0, mx = 0, emx = 0;
  for (index_t j = 0; j < a.ny; ++j) {
    const real_t area = g.area(g.lat_start() + j);
    for (index_t i = 0; i < a.nx; ++i) {
      const real_t d = a(i, j) - b(i, j), t = b(i, j);
      e1 += std::abs(d) * area;
      e2 += d * d * area;
      emx = std::max(emx, std::abs(d));
      s1 += std::abs(t) * area;
      s2 += t * t * area;
      mx = std::max(mx, std::abs(t));
    }
  }
  return {e1 / s1, std::sqrt(e2 / s2), emx / mx};
}

SphereSchemeParams scheme(const std::string& r, const std::string& l) {
  SphereSchemeParams s;
  s.reconstruction = r;
  s.limiter = l;
  return s;
}

// Steps of one revolution at meridional Courant number <= cfl: set by the flow over the poles
// (alpha = pi/2), the same for every alpha so that the runs are comparable.
int steps_per_revolution(const SphereGrid& g, real_t cfl) {
  SphereTransportStepper probe(g, solid_body(g, 0.5 * kPi), SphereSchemeParams{}, cfl);
  Field dummy(g.grid(), "dummy");
  return int(std::ceil(kPeriod / probe.max_dt(dummy, 0.0) - 1e-9));
}

void run(SphereTransportStepper& s, Field& q, int steps, real_t dt_each) {
  real_t t = 0;
  for (int n = 0; n < steps; ++n) {
    real_t dt = dt_each;
    s.step(q, t, dt);
  }
}

const char* kSchemes[5][2] = {{"ppm", "monotone"},
                              {"ppm", "extremum_preserving"},
                              {"ppm", "none"},
                              {"van_leer", "monotone"},
                              {"van_leer", "none"}};

// Lauritzen et al. (2012) non-divergent deformational flow (their case 4, k = 2.4 for a = 1 and
// T = 5, so k = 12 a / T here), psi = k a sin^2(lon') cos^2(lat) cos(pi t / T) - 2 pi a^2 / T
// sin(lat), lon' = lon - 2 pi t / T, evaluated at the middle of the step: swept areas are exact
// corner differences (a discretely non-divergent flow), zero on the pole edges.
SweptAreaFunction deformational(const SphereGrid& g) {
  return [&g](real_t t, real_t dt, SphereFaceFluxes& out) {
    out.resize(g);
    const index_t nx = g.nlon();
    const real_t tm = t + 0.5 * dt, k = 12.0 * kRadius / kPeriod;
    auto psi = [&](index_t i, index_t je) {
      const real_t lon = g.lon_edge(((i % nx) + nx) % nx) - 2 * kPi * tm / kPeriod;
      const real_t s = std::sin(lon), c = g.cos_lat_edge(je);
      return k * kRadius * s * s * c * c * std::cos(kPi * tm / kPeriod) -
             2 * kPi * kRadius * kRadius / kPeriod * g.sin_lat_edge(je);
    };
    swept_from_psi(g, dt, psi, out);
  };
}

// Lauritzen et al. (2012) cosine bells (background 0.1, height 0.9) and slotted cylinders.
real_t lauritzen_bells(real_t lon, real_t lat) {
  real_t q = 0.1;
  for (real_t lc : {5 * kPi / 6, 7 * kPi / 6}) {
    const real_t r = distance(lon, lat, lc, 0.0);
    if (r < 0.5) q += 0.45 * (1 + std::cos(2 * kPi * r));
  }
  return q;
}
real_t slotted_cylinders(real_t lon, real_t lat) {
  const real_t r1 = distance(lon, lat, 5 * kPi / 6, 0.0), r2 = distance(lon, lat, 7 * kPi / 6, 0.0);
  if (r1 <= 0.5 && std::abs(lon - 5 * kPi / 6) >= 0.5 / 6) return 1.0;
  if (r2 <= 0.5 && std::abs(lon - 7 * kPi / 6) >= 0.5 / 6) return 1.0;
  if (r1 <= 0.5 && lat - 0.0 < -5.0 / 12 * 0.5) return 1.0;
  if (r2 <= 0.5 && lat - 0.0 > 5.0 / 12 * 0.5) return 1.0;
  return 0.1;
}

}  // namespace

TEST(SphereTransport, UniformFieldStaysUniformWithFlowOverThePoles) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32));
  const int steps = steps_per_revolution(g, 0.9);
  for (auto& sc : kSchemes) {
    SphereTransportStepper s(g, solid_body(g, 0.5 * kPi), scheme(sc[0], sc[1]), 0.9);
    Field q(g.grid(), "q");
    q.fill(1.7);
    run(s, q, steps, kPeriod / steps);  // one revolution, twice over each pole
    const real_t dev = std::max(q.max() - 1.7, 1.7 - q.min()) / 1.7;
    std::printf("[ uniform  ] %s/%s: %d steps, max relative deviation %.3g\n", sc[0], sc[1], steps,
                dev);
    EXPECT_LT(dev, 1e-14) << sc[0] << "/" << sc[1];
  }
}

TEST(SphereTransport, MassIsConservedOverOneRevolution) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32));
  const int steps = steps_per_revolution(g, 0.9);
  for (auto& sc : kSchemes) {
    SphereTransportStepper s(g, solid_body(g, 0.5 * kPi - 0.05), scheme(sc[0], sc[1]), 0.9);
    Field q(g.grid(), "q");
    set_cell_averages(g, q, cosine_bell);
    const real_t m0 = g.integral(q);
    run(s, q, steps, kPeriod / steps);
    const real_t drift = std::abs(g.integral(q) - m0) / m0;
    std::printf("[ mass     ] %s/%s: %d steps, relative mass change %.3g\n", sc[0], sc[1], steps,
                drift);
    EXPECT_LT(drift, 1e-13) << sc[0] << "/" << sc[1];
  }
}

TEST(SphereTransport, CourantNumbersAndErrors) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(64, 32));
  SphereTransportStepper s(g, solid_body(g, 0.5 * kPi), SphereSchemeParams{}, 0.5);
  Field q(g.grid(), "q");
  q.fill(1.0);
  const real_t dt = s.max_dt(q, 0.0);
  EXPECT_NEAR(s.courant(0.0, dt), 0.5, 1e-12);
  // Polar rows: a zonal Courant number far above 1 at a meridional 0.5.
  EXPECT_GT(s.zonal_courant(0.0, dt), 4.0);
  real_t t = 0, big = 2.1 * dt;
  const std::string msg = test::error_of<NumericsError>([&] { s.step(q, t, big); });
  EXPECT_NE(msg.find("meridional Courant number 1.0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("latitude row"), std::string::npos) << msg;
  EXPECT_EQ(t, 0.0);
  EXPECT_NE(test::error_of<ConfigError>([&] {
              SphereTransportStepper(g, solid_body(g, 0), scheme("weno", "none"), 0.5);
            }).find("'weno'"),
            std::string::npos);
  EXPECT_NE(test::error_of<ConfigError>([&] {
              SphereTransportStepper(g, solid_body(g, 0), scheme("ppm", "minmod"), 0.5);
            }).find("'minmod'"),
            std::string::npos);
  EXPECT_NE(test::error_of<ConfigError>([&] {
              SphereTransportStepper(g, solid_body(g, 0), scheme("van_leer", "extremum_preserving"),
                                     0.5);
            }).find("needs scheme.reconstruction = 'ppm'"),
            std::string::npos);
  EXPECT_NE(test::error_of<ConfigError>([&] {
              SphereTransportStepper(g, solid_body(g, 0), scheme("van_leer", "bounded"), 0.5);
            }).find("needs scheme.reconstruction = 'ppm'"),
            std::string::npos);
  EXPECT_NE(test::error_of<ConfigError>([&] {
              SphereTransportStepper(g, solid_body(g, 0), SphereSchemeParams{}, 1.2);
            }).find("1.2"),
            std::string::npos);
}

// Williamson et al. (1992) case 1 at 2.8125 deg with monotone PPM, one revolution, 512 equal
// steps (meridional Courant number 0.5 at the polar cap for alpha = pi/2; about 0.25 elsewhere).
// Measured (this code): l2 = 0.120, 0.122, 0.113, 0.114 for alpha = 0, 0.05, pi/2 - 0.05, pi/2
// (l1 0.12-0.13, linf 0.14-0.16); unlimited PPM gives l2 = 0.068 (alpha = 0) and 0.104
// (alpha = pi/2); monotone van Leer 0.26. Reference: the task brief quotes Lin & Rood (1996) at
// l2 ~ 0.05-0.1 for similar settings; a search of the reference corpus (pages, docs) did not
// turn up their table, so we could not check which limiter and Courant number that refers to.
// Our unlimited PPM falls in that range; the CW84 limiter clips the peak (linf 0.14) and costs
// about a factor 1.8 in l2. The bound 0.135 is the measured value plus 10%, so a regression in
// the limiter or the pole treatment fails the test.
TEST(SphereTransport, CosineBellOneRevolution) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(128, 64));
  const int steps = steps_per_revolution(g, 0.5);
  EXPECT_EQ(steps, 512);
  Field exact(g.grid(), "exact");
  set_cell_averages(g, exact, cosine_bell);
  const real_t alphas[4] = {0.0, 0.05, 0.5 * kPi - 0.05, 0.5 * kPi};
  Norms n[4];
  for (int a = 0; a < 4; ++a) {
    SphereTransportStepper s(g, solid_body(g, alphas[a]), SphereSchemeParams{}, 0.5);
    Field q(exact);
    run(s, q, steps, kPeriod / steps);
    n[a] = williamson_norms(g, q, exact);
    std::printf("[ bell     ] alpha = %.4f: %d steps, l1 = %.4f l2 = %.4f linf = %.4f\n", alphas[a],
                steps, n[a].l1, n[a].l2, n[a].linf);
    EXPECT_LT(n[a].l2, 0.135) << "alpha = " << alphas[a];
  }
  // Over the poles is not much worse than along the equator.
  EXPECT_LT(n[3].l2, 1.2 * n[0].l2);
  EXPECT_LT(n[2].l2, 1.2 * n[0].l2);
}

// Observed l2 order of the unlimited schemes on a smooth hill, alpha = pi/4, one revolution,
// 5.625 -> 2.8125 -> 1.40625 deg. Measured (2026-12-07): PPM l2 = 1.781e-2, 2.374e-3, 4.573e-4
// (orders 2.91, 2.38); van Leer 8.588e-2, 1.979e-2, 4.577e-3 (2.12, 2.11), the figures
// docs/sphere-transport.md states. Plain double arithmetic in a fixed order: another CPU moves
// them by ~1e-12 at most; +-0.05 fails on a scheme change that moves a stated order.
TEST(SphereTransport, ConvergenceOnASmoothHill) {
  const real_t xc[3] = {std::cos(0.5 * kPi), std::sin(0.5 * kPi), 0.0};  // lon pi/2, lat 0
  auto hill = [&](real_t lon, real_t lat) {
    const real_t x = std::cos(lat) * std::cos(lon) - xc[0],
                 y = std::cos(lat) * std::sin(lon) - xc[1], z = std::sin(lat) - xc[2];
    return std::exp(-5.0 * (x * x + y * y + z * z));
  };
  const struct {
    const char* reconstruction;
    double order[2];
  } cases[] = {{"ppm", {2.91, 2.38}}, {"van_leer", {2.12, 2.11}}};
  for (const auto& c : cases) {
    const char* r = c.reconstruction;
    real_t l2[3];
    for (int level = 0; level < 3; ++level) {
      const index_t nlat = 32 << level;
      SphereGrid g(PETSC_COMM_WORLD, grid_params(2 * nlat, nlat));
      const int steps = steps_per_revolution(g, 0.5);
      Field exact(g.grid(), "exact");
      set_cell_averages(g, exact, hill);
      SphereTransportStepper s(g, solid_body(g, 0.25 * kPi), scheme(r, "none"), 0.5);
      Field q(exact);
      run(s, q, steps, kPeriod / steps);
      l2[level] = williamson_norms(g, q, exact).l2;
      std::printf("[ converge ] %s/none %lldx%lld: %d steps, l2 = %.3e%s", r, (long long)(2 * nlat),
                  (long long)nlat, steps, l2[level], level ? "" : "\n");
      if (level) std::printf(", order %.2f\n", std::log2(l2[level - 1] / l2[level]));
    }
    EXPECT_NEAR(std::log2(l2[0] / l2[1]), c.order[0], 0.05) << r;
    EXPECT_NEAR(std::log2(l2[1] / l2[2]), c.order[1], 0.05) << r;
  }
}

// Monotone limiters, alpha = pi/2 - 0.05, one revolution at 2.8125 deg, Courant 0.5: a cosine
// bell (smooth, minimum 0 on most of the sphere) and a spherical cap (a jump from 0.1 to 1).
// No new extrema beyond round-off at any step, for PPM and van Leer. The outer update is the
// mean of the two orders of 1D sweeps over deformed cells (sphere_kernels.hpp), a convex
// combination of means of monotone 1D reconstructions. (The former LR96 advective inner form
// q + f/2 made van Leer undershoot by 1.1e-5 of the range at the foot of the cap.)
TEST(SphereTransport, MonotoneLimitersMakeNoNewExtrema) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(128, 64));
  const int steps = steps_per_revolution(g, 0.5);
  auto cap = [](real_t lon, real_t lat) {
    return distance(lon, lat, 1.5 * kPi, 0.0) < 1.0 / 3.0 ? 1.0 : 0.1;
  };
  const std::function<real_t(real_t, real_t)> fields[2] = {cosine_bell, cap};
  const char* names[2] = {"bell", "cap"};
  const std::pair<const char*, const char*> schemes[3] = {
      {"ppm", "monotone"}, {"van_leer", "monotone"}, {"ppm", "bounded"}};
  for (const auto& [r, l] : schemes) {
    for (int f = 0; f < 2; ++f) {
      Field q(g.grid(), "q");
      set_cell_averages(g, q, fields[f]);
      const real_t lo = q.min(), hi = q.max(), range = hi - lo;
      SphereTransportStepper s(g, solid_body(g, 0.5 * kPi - 0.05), scheme(r, l), 0.5);
      real_t t = 0, under = 0, over = 0;
      for (int n = 0; n < steps; ++n) {
        real_t dt = kPeriod / steps;
        s.step(q, t, dt);
        under = std::max(under, (lo - q.min()) / range);
        over = std::max(over, (q.max() - hi) / range);
      }
      const real_t final_under = std::max(0.0, (lo - q.min()) / range);
      const real_t final_over = std::max(0.0, (q.max() - hi) / range);
      std::printf(
          "[ monotone ] %s/%s %s: after one revolution undershoot %.3g overshoot "
          "%.3g of the range; worst at any step %.3g / %.3g\n",
          r, l, names[f], final_under, final_over, under, over);
      EXPECT_LE(final_under, 1e-14) << r << "/" << l << " " << names[f];
      EXPECT_LE(final_over, 1e-14) << r << "/" << l << " " << names[f];
      EXPECT_LE(under, 1e-14) << r << "/" << l << " " << names[f];
      EXPECT_LE(over, 1e-14) << r << "/" << l << " " << names[f];
    }
  }
}

// Lauritzen et al. (2012) deformational flow, 12 days at 2.8125 deg (128 x 64), meridional
// Courant number 0.9 (zonal ones above 1 near the poles): cosine bells and slotted cylinders.
// The monotone limiters make no new extrema at any step (round-off only), in a flow whose 1D
// swept areas have divergence (the case the LR96 advective inner form broke: mixing
// overshooting 5.4e-5 in the 10 deg case of test_sphere_case). Norms at T (Williamson l2)
// measured with this code, bounds = measured + 5%:
//   bells  ppm/monotone 0.327, ppm/extremum_preserving 0.276, ppm/none 0.227, van_leer 0.390,
//          ppm/bounded 0.277
//   cyl.   ppm/monotone 0.387, ppm/extremum_preserving 0.371, ppm/bounded 0.373
// extremum_preserving keeps smooth extrema and is not strictly bounded: new extrema of 0.6%
// (bells) and 8.7% (cylinders, at the jumps) of the range, asserted with a factor-2 margin;
// unlimited PPM: 10%. bounded (extremum-preserving parabolas scaled into the range) makes none.
TEST(SphereTransport, DeformationalFlowMonotoneMakesNoNewExtrema) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params(128, 64));
  struct Expect {
    const char *r, *l;
    real_t l2_bells, l2_cyl, new_extrema;
  };
  const Expect cases[5] = {{"ppm", "monotone", 0.327, 0.387, 1e-14},
                           {"ppm", "extremum_preserving", 0.276, 0.371, 0.18},
                           {"ppm", "bounded", 0.277, 0.373, 1e-14},
                           {"ppm", "none", 0.227, 0.0, 1.0},
                           {"van_leer", "monotone", 0.390, 0.0, 1e-14}};
  const std::function<real_t(real_t, real_t)> fields[2] = {lauritzen_bells, slotted_cylinders};
  for (const Expect& e : cases) {
    for (int f = 0; f < 2; ++f) {
      const real_t bound = f == 0 ? e.l2_bells : e.l2_cyl;
      if (bound == 0) continue;
      SphereTransportStepper s(g, deformational(g), scheme(e.r, e.l), 0.9);
      Field exact(g.grid(), "exact");
      set_cell_averages(g, exact, fields[f]);
      Field q(exact);
      const real_t lo = q.min(), hi = q.max(), range = hi - lo;
      real_t t = 0, worst = 0;
      int steps = 0;
      while (t < kPeriod * (1 - 1e-12)) {
        real_t dt = std::min(s.max_dt(q, t), kPeriod - t);
        s.step(q, t, dt);
        worst = std::max({worst, (lo - q.min()) / range, (q.max() - hi) / range});
        ++steps;
      }
      const real_t l2 = williamson_norms(g, q, exact).l2;
      std::printf("[ deform   ] %s/%s %s: %d steps, l2 = %.4f, new extrema %.3g of the range\n",
                  e.r, e.l, f ? "cylinders" : "bells", steps, l2, worst);
      EXPECT_LT(l2, 1.05 * bound) << e.r << "/" << e.l << " field " << f;
      EXPECT_GT(l2, 0.9 * bound) << e.r << "/" << e.l << " field " << f;
      EXPECT_LE(worst, e.new_extrema) << e.r << "/" << e.l << " field " << f;
    }
  }
}

// The kernel on level views of a 3D field gives bitwise the 2D result, in place or not.
TEST(SphereTransport, KernelOnLevelViewsMatches2DInPlaceOrNot) {
  SphereGridParams p3 = grid_params(32, 16);
  p3.nlev = 3;
  SphereGrid g3(PETSC_COMM_WORLD, p3);
  SphereGrid g2(PETSC_COMM_WORLD, grid_params(32, 16));
  SphereFaceFluxes f;
  const real_t dt = 2 * 3600.0;
  solid_body(g2, 1.0)(0.0, dt, f);
  const SphereScheme sc = sphere_scheme_from_params(SphereSchemeParams{});
  SphereWork w2(g2), w3(g3);
  Field q3(g3.grid(), "q3"), out3(g3.grid(), "out3");
  auto v3 = q3.view();
  for (index_t k = 0; k < v3.nz; ++k) {
    Field q2(g2.grid(), "q2"), out2(g2.grid(), "out2");
    set_cell_averages(g2, q2, [k](real_t lon, real_t lat) {
      return std::cos(lat) * std::sin(real_t(k + 1) * lon) + real_t(k);
    });
    auto v2 = q2.view();
    for (index_t j = 0; j < v2.ny; ++j)
      for (index_t i = 0; i < v2.nx; ++i) v3(i, j, k) = v2(i, j);
    q2.exchange_halos();
    g2.fill_polar_halos(q2);
    lin_rood_step_2d(g2, sc, f, q2.view(), out2.view(), w2);
    lin_rood_step_2d(g2, sc, f, q2.view(), q2.view(), w2);  // in place
    q3.exchange_halos();
    g3.fill_polar_halos(q3);
    lin_rood_step_2d(g3, sc, f, sphere_level_view(q3.view(), k), sphere_level_view(out3.view(), k),
                     w3);
    auto o2 = out2.view();
    auto o3 = out3.view();
    index_t differing = 0;
    for (index_t j = 0; j < v2.ny; ++j)
      for (index_t i = 0; i < v2.nx; ++i)
        differing += (o2(i, j) != v2(i, j)) + (o2(i, j) != o3(i, j, k));
    EXPECT_EQ(differing, 0) << "level " << k;
  }
}

// The 1D building blocks on hand-made lines.
TEST(SphereKernels, CW84EdgesFlattenExtremaAndSteepenOvershoots) {
  // Cells: a smooth monotone cell (unchanged), a maximum (flattened), a parabola whose
  // extremum lies inside near the high edge (ar moved to 3q - 2al), one with it near the low
  // edge (al moved to 3q - 2ar), and the mirror image of the third.
  const real_t q[5] = {1.0, 2.0, 1.0, 1.0, -1.0};
  const real_t lo[5] = {0.5, 1.5, 0.9, 0.5, -0.9};
  const real_t hi[5] = {1.5, 1.0, 1.5, 1.1, -1.5};
  real_t al[5], ar[5];
  ppm_edge_line(SphereLimiter::monotone, q, lo, hi, 5, al, ar);
  EXPECT_EQ(al[0], 0.5);
  EXPECT_EQ(ar[0], 1.5);
  EXPECT_EQ(al[1], 2.0);
  EXPECT_EQ(ar[1], 2.0);
  EXPECT_EQ(al[2], 0.9);
  EXPECT_DOUBLE_EQ(ar[2], 1.2);
  EXPECT_DOUBLE_EQ(al[3], 0.8);
  EXPECT_EQ(ar[3], 1.1);
  EXPECT_EQ(al[4], -0.9);
  EXPECT_DOUBLE_EQ(ar[4], -1.2);
  ppm_edge_line(SphereLimiter::none, q, lo, hi, 5, al, ar);
  EXPECT_EQ(al[2], 0.9);
}

// The bounded limiter's scaling: parabolas inside the range are left bitwise alone; the others
// keep their mean and are scaled about it just enough that their values over the whole cell
// (sampled densely) stay inside; a mean outside the range (round-off) is flattened.
TEST(SphereKernels, BoundedScalingKeepsEveryParabolaInsideTheRange) {
  const real_t lo = 0.1, hi = 1.0;
  // Means and edges: inside (untouched); an edge above hi; an interior maximum above hi with
  // both edges inside; an interior minimum below lo; a cell at the upper bound with curvature
  // (flattened to its mean); a mean above hi by round-off (flattened).
  const real_t q[6] = {0.5, 0.9, 0.98, 0.11, 1.0, 1.0 + 4e-16};
  const real_t l0[6] = {0.3, 0.8, 0.9, 0.15, 0.95, 0.99};
  const real_t r0[6] = {0.7, 1.05, 0.92, 0.16, 0.97, 1.0};
  real_t al[6], ar[6];
  std::copy(l0, l0 + 6, al);
  std::copy(r0, r0 + 6, ar);
  ppm_bound_line(q, lo, hi, 6, al, ar);
  EXPECT_EQ(al[0], 0.3);
  EXPECT_EQ(ar[0], 0.7);
  auto parabola = [](real_t c, real_t l, real_t r, real_t x) {
    return c + (r - l) * (x - 0.5) + (6 * c - 3 * (l + r)) * (x * (1 - x) - 1.0 / 6.0);
  };
  for (int i = 1; i < 6; ++i) {
    // Sampled at 20001 points: a sampled maximum above the bound is a real failure; touching
    // the bound is seen to the sampling error (~1e-8 for these curvatures).
    real_t top = -1e300, bottom = 1e300;
    const int m = 20000;
    for (int k = 0; k <= m; ++k) {
      const real_t v = parabola(q[i], al[i], ar[i], real_t(k) / m);
      top = std::max(top, v);
      bottom = std::min(bottom, v);
    }
    EXPECT_LE(top, std::max(hi, q[i]) + 1e-15) << i;
    EXPECT_GE(bottom, lo - 1e-15) << i;
    // A scaling about the mean (the mean is kept): both edges moved by the same factor.
    EXPECT_NEAR((al[i] - q[i]) * (r0[i] - q[i]), (ar[i] - q[i]) * (l0[i] - q[i]), 1e-15) << i;
    if (i <= 3) {  // scaled, not flattened: the parabola touches the bound it crossed
      EXPECT_NEAR(i == 3 ? bottom : top, i == 3 ? lo : hi, 1e-7) << i;
      EXPECT_NE(al[i], q[i]) << i;
    }
  }
  EXPECT_EQ(al[4], 1.0);  // at the upper bound with curvature: flat
  EXPECT_EQ(ar[4], 1.0);
  EXPECT_EQ(al[5], q[5]);  // mean above the range by round-off: flat
  EXPECT_EQ(ar[5], q[5]);
}

// The zonal sweep's weaker bound: only the means over the pieces between a cell's cut points
// (the departure points inside it) must be in range (checked with Simpson's rule, exact on
// parabolas). One parabola whose maximum (1.015) exceeds hi = 1, in four cells: cut once at 0.8
// (both pieces' means in range: untouched), not cut (untouched), cut at 0.3 and 0.7 (the
// middle piece's mean 1.0094: scaled until it is hi), and marked NaN (bounded whole: its
// maximum scaled to hi).
TEST(SphereKernels, BoundedCutScalingChecksOnlyThePiecesASweepTakes) {
  const real_t nan = std::numeric_limits<real_t>::quiet_NaN();
  const real_t q[4] = {0.98, 0.98, 0.98, 0.98};
  const real_t c0[4] = {0.8, 0.0, 0.3, nan}, c1[4] = {0.8, 1.0, 0.7, 1.0};
  real_t al[4] = {0.9, 0.9, 0.9, 0.9}, ar[4] = {0.92, 0.92, 0.92, 0.92};
  ppm_bound_cut_line(q, c0, c1, 0.1, 1.0, 4, al, ar);
  EXPECT_EQ(al[0], 0.9);
  EXPECT_EQ(ar[0], 0.92);
  EXPECT_EQ(al[1], 0.9);
  EXPECT_EQ(ar[1], 0.92);
  auto p = [&](int i, real_t x) {
    return q[i] + (ar[i] - al[i]) * (x - 0.5) +
           (6 * q[i] - 3 * (al[i] + ar[i])) * (x * (1 - x) - 1.0 / 6.0);
  };
  auto mean = [&](int i, real_t a, real_t b) {
    return (p(i, a) + 4 * p(i, 0.5 * (a + b)) + p(i, b)) / 6;
  };
  EXPECT_LT(mean(0, 0.0, 0.8), 1.0);
  EXPECT_LT(mean(0, 0.8, 1.0), 1.0);
  EXPECT_NEAR(mean(2, 0.3, 0.7), 1.0, 1e-14);
  EXPECT_LE(mean(2, 0.0, 0.3), 1.0);
  EXPECT_LE(mean(2, 0.7, 1.0), 1.0);
  EXPECT_NEAR((al[2] - q[2]) * (0.92 - q[2]), (ar[2] - q[2]) * (0.9 - q[2]), 1e-15);
  // Bounded whole: the parabola's maximum (at x = 1/2 + dq / (2 q6)) is hi.
  const real_t dq = ar[3] - al[3], q6 = 6 * q[3] - 3 * (al[3] + ar[3]);
  EXPECT_NEAR(p(3, 0.5 + dq / (2 * q6)), 1.0, 1e-14);
  EXPECT_GT(ar[3] - q[3], 0.92 - 0.98);  // scaled towards the mean
  EXPECT_LT(ar[3] - q[3], 0.0);
}

TEST(SphereKernels, ZonalFluxShiftsWholeCellsAroundTheCircle) {
  // Piecewise constant (van Leer with zero slopes): the flux through a face with Courant
  // number c is the sum of the floor(c) upstream cells plus the fraction of the next one,
  // wrapping around the circle; negative c takes the cells to the east.
  const index_t n = 6;
  real_t buf[n + 2], zero[n + 2] = {}, F[n + 1];
  real_t* q = buf + 1;
  for (index_t i = 0; i < n; ++i) q[i] = real_t(1 << i);
  q[-1] = q[n - 1];
  q[n] = q[0];
  const real_t area = 4.0;
  const real_t xa[n] = {2.5 * area, 0.5 * area, -3.25 * area, 7.0 * area, -0.5 * area, 0.0};
  sphere_x_flux_row(SphereReconstruction::van_leer, q, zero + 1, zero + 1, xa, area, 1 / area, n,
                    true, F);
  EXPECT_DOUBLE_EQ(F[0], area * (q[5] + q[4] + 0.5 * q[3]));
  EXPECT_DOUBLE_EQ(F[1], area * 0.5 * q[0]);
  EXPECT_DOUBLE_EQ(F[2], -area * (q[2] + q[3] + q[4] + 0.25 * q[5]));
  // 7 cells: the whole circle (63) plus cell 2 once more.
  EXPECT_DOUBLE_EQ(F[3], area * (63 + q[2]));
  EXPECT_DOUBLE_EQ(F[4], -area * 0.5 * q[4]);
  EXPECT_EQ(F[5], 0.0);
  EXPECT_EQ(F[6], F[0]);
  // With every |c| < 1 the integer-shift path and the fraction-only path agree bitwise.
  const real_t small[n] = {0.3 * area, -0.7 * area, 0.9 * area, 0.0, -0.1 * area, 0.99 * area};
  real_t G[n + 1];
  sphere_x_flux_row(SphereReconstruction::van_leer, q, zero + 1, zero + 1, small, area, 1 / area, n,
                    true, F);
  sphere_x_flux_row(SphereReconstruction::van_leer, q, zero + 1, zero + 1, small, area, 1 / area, n,
                    false, G);
  for (index_t i = 0; i <= n; ++i) EXPECT_EQ(F[i], G[i]) << "face " << i;
}
