// Prescribed spherical flows (stream functions, swept areas), initial tracers and the transport
// diagnostics. Runs at 1, 2 and 4 ranks: swept areas, tracer fields and diagnostics must not
// depend on the decomposition (compared bitwise with a whole-grid copy on MPI_COMM_SELF).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/sphere_diagnostics.hpp"
#include "physics/sphere_flow.hpp"
#include "physics/sphere_tracers.hpp"

using namespace aeolus;
using namespace aeolus::physics;

namespace {
constexpr real_t pi = 3.14159265358979323846;
constexpr real_t a_earth = 6.37122e6;
constexpr real_t day = 86400.0;

SphereGridParams grid_params(index_t nlon = 64, index_t nlat = 32, int halo = 2) {
  SphereGridParams p;
  p.nlon = nlon;
  p.nlat = nlat;
  p.halo = halo;
  return p;
}

SphereFlowParams flow(const std::string& type, int nl_case = 1, real_t alpha = 0.0) {
  SphereFlowParams p;
  p.type = type;
  p.nl_case = nl_case;
  p.alpha = alpha;
  p.period = 12 * day;
  return p;
}

std::vector<SphereFlowParams> nondivergent_flows() {
  return {flow("williamson", 1, 0.0),
          flow("williamson", 1, 0.05),
          flow("williamson", 1, pi / 2 - 0.05),
          flow("williamson", 1, pi / 2),
          flow("nair_lauritzen", 1),
          flow("nair_lauritzen", 2),
          flow("nair_lauritzen", 4),
          flow("lauritzen_nondivergent")};
}

std::vector<SphereFlowParams> divergent_flows() {
  return {flow("nair_lauritzen", 3), flow("lauritzen_divergent")};
}

std::string label(const SphereFlowParams& p) {
  return p.type + " case " + std::to_string(p.nl_case) + " alpha " + std::to_string(p.alpha);
}

int world_rank() { return comm_rank(PETSC_COMM_WORLD); }

real_t allreduce(real_t x, MPI_Op op) {
  real_t y = 0;
  MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, op, PETSC_COMM_WORLD);
  return y;
}

// Divergence (m^2 per step) of cell (i, jl) of the rank's rows from the swept areas.
real_t cell_divergence(const SphereGrid& g, const SphereFaceFluxes& f, index_t i, index_t jl) {
  const index_t nx = g.nlon(), h = g.halo();
  const real_t* xa = f.xa.data() + (jl + h) * nx;
  return xa[(i + 1) % nx] - xa[i] + f.ya[size_t((jl + 1) * nx + i)] - f.ya[size_t(jl * nx + i)];
}
real_t cell_flux_scale(const SphereGrid& g, const SphereFaceFluxes& f, index_t i, index_t jl) {
  const index_t nx = g.nlon(), h = g.halo();
  const real_t* xa = f.xa.data() + (jl + h) * nx;
  return std::abs(xa[(i + 1) % nx]) + std::abs(xa[i]) + std::abs(f.ya[size_t((jl + 1) * nx + i)]) +
         std::abs(f.ya[size_t(jl * nx + i)]);
}

// Brute-force normalised distance to the curve -0.8 x^2 + 0.9, x in [0.1, 1].
real_t brute_force_distance(real_t q1, real_t q2) {
  auto d2 = [&](real_t x) {
    const real_t a = (q1 - x) / 0.9, b = (q2 - (-0.8 * x * x + 0.9)) / 0.792;
    return a * a + b * b;
  };
  const int n = 20000;
  real_t best_x = 0.1, best = d2(0.1);
  for (int k = 1; k <= n; ++k) {
    const real_t x = 0.1 + 0.9 * real_t(k) / n;
    if (d2(x) < best) {
      best = d2(x);
      best_x = x;
    }
  }
  // Golden-section refinement around the best sample.
  real_t lo = std::max(0.1, best_x - 0.9 / n), hi = std::min(1.0, best_x + 0.9 / n);
  const real_t gr = 0.5 * (std::sqrt(5.0) - 1);
  for (int it = 0; it < 200; ++it) {
    const real_t x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
    if (d2(x1) < d2(x2)) {
      hi = x2;
    } else {
      lo = x1;
    }
  }
  return std::sqrt(std::min(best, d2(0.5 * (lo + hi))));
}

// Fill the owned cells of q with f(global i, global j).
void fill_by_index(const SphereGrid& g, Field& q,
                   const std::function<real_t(index_t, index_t)>& f) {
  auto v = q.view();
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) v(i, j, k) = f(i, g.lat_start() + j);
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Flows

TEST(SphereFlow, StreamFunctionsMatchWindsByFiniteDifferences) {
  const real_t h = 1e-5;
  const real_t lons[] = {0.3, 1.9, 3.5, 5.2};
  const real_t lats[] = {-1.2, -0.4, 0.1, 0.9, 1.4};
  const real_t times[] = {0.0, 2.3 * day, 7.9 * day};
  for (const auto& p : nondivergent_flows()) {
    real_t umax = 0, max_err = 0;
    for (real_t t : times)
      for (real_t lon : lons)
        for (real_t lat : lats) {
          real_t u = 0, v = 0;
          sphere_wind(p, a_earth, lon, lat, t, u, v);
          const real_t dpsi_dlat = (stream_function(p, a_earth, lon, lat + h, t) -
                                    stream_function(p, a_earth, lon, lat - h, t)) /
                                   (2 * h);
          const real_t dpsi_dlon = (stream_function(p, a_earth, lon + h, lat, t) -
                                    stream_function(p, a_earth, lon - h, lat, t)) /
                                   (2 * h);
          const real_t u_fd = -dpsi_dlat / a_earth;
          const real_t v_fd = dpsi_dlon / (a_earth * std::cos(lat));
          umax = std::max({umax, std::abs(u), std::abs(v)});
          max_err = std::max({max_err, std::abs(u - u_fd), std::abs(v - v_fd)});
        }
    EXPECT_GT(umax, 1.0) << label(p);
    EXPECT_LT(max_err, 1e-6 * umax) << label(p);
  }
}

TEST(SphereFlow, DimensionalScalingMatchesThePapers) {
  const real_t T = 12 * day, s = 5.0 / T;
  real_t u = 0, v = 0;
  // Williamson: u0 = 2 pi a / 12 days at the equator for alpha = 0.
  sphere_wind(flow("williamson"), a_earth, 1.0, 0.0, 0.0, u, v);
  EXPECT_NEAR(u, 2 * pi * a_earth / T, 1e-12 * u);
  EXPECT_EQ(v, 0.0);
  // NL case 2 at (pi/4, pi/6), t = 0: u_unit = 2 sin^2(pi/4) sin(pi/3), v_unit = 2 cos(pi/6).
  sphere_wind(flow("nair_lauritzen", 2), a_earth, pi / 4, pi / 6, 0.0, u, v);
  EXPECT_NEAR(u, a_earth * s * 2 * 0.5 * std::sin(pi / 3), 1e-12 * std::abs(u));
  EXPECT_NEAR(v, a_earth * s * 2 * std::cos(pi / 6), 1e-12 * std::abs(v));
  // Lauritzen et al. (2012) dimensional forms, written out as in the paper.
  const real_t lon = 2.1, lat = 0.6, t = 3.7 * day;
  const real_t lp = lon - 2 * pi * t / T, c = std::cos(pi * t / T);
  sphere_wind(flow("lauritzen_nondivergent"), a_earth, lon, lat, t, u, v);
  EXPECT_NEAR(u,
              a_earth / T *
                  (10 * std::pow(std::sin(lp), 2) * std::sin(2 * lat) * c + 2 * pi * std::cos(lat)),
              1e-12 * a_earth / T);
  EXPECT_NEAR(v, a_earth / T * 10 * std::sin(2 * lp) * std::cos(lat) * c, 1e-12 * a_earth / T);
  sphere_wind(flow("lauritzen_divergent"), a_earth, lon, lat, t, u, v);
  EXPECT_NEAR(
      u,
      a_earth / T *
          (-5 * std::pow(std::sin(lp / 2), 2) * std::sin(2 * lat) * std::pow(std::cos(lat), 2) * c +
           2 * pi * std::cos(lat)),
      1e-12 * a_earth / T);
  EXPECT_NEAR(v, a_earth / T * 2.5 * std::sin(lp) * std::pow(std::cos(lat), 3) * c,
              1e-12 * a_earth / T);
  // NL case 3 has no background rotation: u_unit = -sin^2(lambda/2) sin 2theta cos^2 theta.
  sphere_wind(flow("nair_lauritzen", 3), a_earth, lon, lat, 0.0, u, v);
  EXPECT_NEAR(u,
              -a_earth * s * std::pow(std::sin(lon / 2), 2) * std::sin(2 * lat) *
                  std::pow(std::cos(lat), 2),
              1e-12 * a_earth * s);
  // lauritzen_nondivergent is NL2010 case 4 with T = period.
  real_t u4 = 0, v4 = 0;
  sphere_wind(flow("nair_lauritzen", 4), a_earth, lon, lat, t, u4, v4);
  sphere_wind(flow("lauritzen_nondivergent"), a_earth, lon, lat, t, u, v);
  EXPECT_EQ(u, u4);
  EXPECT_EQ(v, v4);
}

TEST(SphereFlow, ConfigurationErrorsNameTheValue) {
  EXPECT_TRUE(is_divergent(flow("nair_lauritzen", 3)));
  EXPECT_TRUE(is_divergent(flow("lauritzen_divergent")));
  EXPECT_FALSE(is_divergent(flow("nair_lauritzen", 4)));
  EXPECT_THROW(stream_function(flow("lauritzen_divergent"), a_earth, 0, 0, 0), ConfigError);
  try {
    validate(flow("nair_lauritzen", 5));
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nl_case = 5"), std::string::npos) << e.what();
  }
  try {
    validate(flow("williamsen"));
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'williamsen'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("williamson"), std::string::npos) << e.what();
  }
  auto bad = flow("williamson");
  bad.period = -1;
  EXPECT_THROW(validate(bad), ConfigError);
}

// ---------------------------------------------------------------------------------------------
// Swept areas

TEST(SphereSweptAreas, NonDivergentFlowsAreDiscretelyDivergenceFree) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  const index_t nx = g.nlon(), h = g.halo(), nj = g.lat_count(), j0 = g.lat_start();
  for (const auto& p : nondivergent_flows()) {
    SphereFaceFluxes f;  // empty: must be resized
    sphere_swept_areas(p, g, 1.3 * day, 1800.0, f);
    ASSERT_EQ(f.xa.size(), size_t((nj + 2 * h) * nx));
    ASSERT_EQ(f.ya.size(), size_t((nj + 1) * nx));
    real_t worst = 0, scale = 0;
    for (index_t jl = 0; jl < nj; ++jl)
      for (index_t i = 0; i < nx; ++i) {
        const real_t s = cell_flux_scale(g, f, i, jl);
        scale = std::max(scale, s);
        worst = std::max(worst, std::abs(cell_divergence(g, f, i, jl)) / s);
      }
    EXPECT_GT(scale, 0.0) << label(p);
    EXPECT_LT(worst, 1e-13) << label(p);
    // Pole edges exactly zero; rows beyond a pole are zero.
    for (index_t i = 0; i < nx; ++i) {
      if (j0 == 0) {
        EXPECT_EQ(f.ya[size_t(i)], 0.0) << label(p);
        for (index_t r = 0; r < h; ++r) EXPECT_EQ(f.xa[size_t(r * nx + i)], 0.0);
      }
      if (j0 + nj == g.nlat()) {
        EXPECT_EQ(f.ya[size_t(nj * nx + i)], 0.0) << label(p);
        for (index_t r = nj + h; r < nj + 2 * h; ++r) EXPECT_EQ(f.xa[size_t(r * nx + i)], 0.0);
      }
    }
  }
}

TEST(SphereSweptAreas, StreamFunctionDifferencesAtTheMidTime) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  const auto p = flow("nair_lauritzen", 4);
  const real_t t = 2.0 * day, dt = 3600.0, th = t + dt / 2;
  SphereFaceFluxes f;
  sphere_swept_areas(p, g, t, dt, f);
  const index_t nx = g.nlon(), h = g.halo(), j0 = g.lat_start();
  const index_t jl = g.lat_count() / 2, jg = j0 + jl, i = 7;
  const real_t a = g.radius();
  const real_t xa = dt * (stream_function(p, a, g.lon_edge(i), g.lat_edge(jg), th) -
                          stream_function(p, a, g.lon_edge(i), g.lat_edge(jg + 1), th));
  const real_t ya = dt * (stream_function(p, a, g.lon_edge(i + 1), g.lat_edge(jg), th) -
                          stream_function(p, a, g.lon_edge(i), g.lat_edge(jg), th));
  const real_t psi_scale = dt * a * a * 5.0 / p.period * 2 * pi;
  EXPECT_NEAR(f.xa[size_t((jl + h) * nx + i)], xa, 1e-13 * psi_scale);
  EXPECT_NEAR(f.ya[size_t(jl * nx + i)], ya, 1e-13 * psi_scale);
  // Consistent with the normal wind times the edge length (second order in the edge length).
  real_t u = 0, v = 0;
  sphere_wind(p, a, g.lon_edge(i), g.lat_center(jg), th, u, v);
  EXPECT_NEAR(f.xa[size_t((jl + h) * nx + i)], dt * u * g.x_edge_length(),
              2e-2 * dt * 60 * g.x_edge_length());
  // The flow function is the same operation.
  SphereFaceFluxes f2;
  sphere_flow_function(p, g)(t, dt, f2);
  EXPECT_EQ(f2.xa, f.xa);
  EXPECT_EQ(f2.ya, f.ya);
}

TEST(SphereSweptAreas, SharedFacesAreBitwiseIdenticalAcrossRanks) {
  // Every rank compares its faces (halo rows included) with a whole-grid evaluation of its own.
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  SphereGrid whole(PETSC_COMM_SELF, grid_params());
  const index_t nx = g.nlon(), h = g.halo(), nj = g.lat_count(), j0 = g.lat_start();
  std::vector<SphereFlowParams> flows = nondivergent_flows();
  for (const auto& p : divergent_flows()) flows.push_back(p);
  for (const auto& p : flows) {
    SphereFaceFluxes f, w;
    sphere_swept_areas(p, g, 0.7 * day, 900.0, f);
    sphere_swept_areas(p, whole, 0.7 * day, 900.0, w);
    long mismatches = 0;
    for (index_t jl = -h; jl < nj + h; ++jl) {
      const index_t jg = j0 + jl;
      if (jg < 0 || jg >= g.nlat()) continue;
      for (index_t i = 0; i < nx; ++i)
        mismatches += f.xa[size_t((jl + h) * nx + i)] != w.xa[size_t((jg + h) * nx + i)];
    }
    for (index_t e = 0; e <= nj; ++e)
      for (index_t i = 0; i < nx; ++i)
        mismatches += f.ya[size_t(e * nx + i)] != w.ya[size_t((j0 + e) * nx + i)];
    EXPECT_EQ(mismatches, 0) << label(p);
  }
}

TEST(SphereSweptAreas, DivergentFlowsIntegrateTheNormalWindAlongEachEdge) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  const index_t nx = g.nlon(), h = g.halo(), nj = g.lat_count(), j0 = g.lat_start();
  const real_t a = g.radius(), t = 1.1 * day, dt = 1200.0, th = t + dt / 2;
  // Composite Simpson reference of int f over [x0, x1].
  const auto simpson = [](const std::function<real_t(real_t)>& f, real_t x0, real_t x1) {
    const int n = 200;
    real_t s = 0;
    for (int k = 0; k <= n; ++k)
      s += f(x0 + (x1 - x0) * k / n) * ((k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2));
    return s * (x1 - x0) / n / 3;
  };
  for (const auto& p : divergent_flows()) {
    SphereFaceFluxes f;
    sphere_swept_areas(p, g, t, dt, f);
    const real_t scale = dt * a * g.dlat() * 60.0;  // a 60 m/s wind through a meridional edge
    real_t worst = 0;
    for (index_t jl = 0; jl < nj; jl += 3)
      for (index_t i = 0; i < nx; i += 5) {
        const index_t jg = j0 + jl;
        const real_t lon = g.lon_edge(i), lat = g.lat_edge(jg);
        const real_t xa = dt * a *
                          simpson(
                              [&](real_t th_) {
                                real_t u = 0, v = 0;
                                sphere_wind(p, a, lon, th_, th, u, v);
                                return u;
                              },
                              g.lat_edge(jg), g.lat_edge(jg + 1));
        const real_t ya = jg == 0 ? 0.0
                                  : dt * a * std::cos(lat) *
                                        simpson(
                                            [&](real_t l) {
                                              real_t u = 0, v = 0;
                                              sphere_wind(p, a, l, lat, th, u, v);
                                              return v;
                                            },
                                            lon, lon + g.dlon());
        worst = std::max(worst, std::abs(f.xa[size_t((jl + h) * nx + i)] - xa) / scale);
        worst = std::max(worst, std::abs(f.ya[size_t(jl * nx + i)] - ya) / scale);
      }
    EXPECT_LT(worst, 1e-9) << label(p);
  }
}

TEST(SphereSweptAreas, DivergentFlowsDivergeButTheSphereIsClosed) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  const index_t nx = g.nlon(), nj = g.lat_count(), j0 = g.lat_start();
  for (const auto& p : divergent_flows()) {
    SphereFaceFluxes f;
    sphere_swept_areas(p, g, 0.5 * day, 1800.0, f);
    real_t worst = 0, sum = 0, sum_abs = 0;
    for (index_t jl = 0; jl < nj; ++jl)
      for (index_t i = 0; i < nx; ++i) {
        const real_t d = cell_divergence(g, f, i, jl);
        worst = std::max(worst, std::abs(d) / cell_flux_scale(g, f, i, jl));
        sum += d;
        sum_abs += std::abs(d);
      }
    worst = allreduce(worst, MPI_MAX);
    sum = allreduce(sum, MPI_SUM);
    sum_abs = allreduce(sum_abs, MPI_SUM);
    EXPECT_GT(worst, 1e-3) << label(p);
    EXPECT_LT(std::abs(sum), 1e-12 * sum_abs) << label(p);
    for (index_t i = 0; i < nx; ++i) {
      if (j0 == 0) {
        EXPECT_EQ(f.ya[size_t(i)], 0.0);
      }
      if (j0 + nj == g.nlat()) {
        EXPECT_EQ(f.ya[size_t(nj * nx + i)], 0.0);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Tracers

TEST(SphereTracers, CosineBellIntegralAndMaximumConverge) {
  SphereTracerParams p;  // Williamson cosine bell, h0 = 1000 m, R = a/3
  // Exact integral: a^2 int_0^R' (h0/2)(1 + cos(pi rho / R')) 2 pi sin(rho) drho, R' = 1/3.
  const real_t rp = 1.0 / 3;
  const int n = 4000;
  real_t simpson = 0;
  for (int k = 0; k <= n; ++k) {
    const real_t rho = rp * k / n;
    const real_t f = 0.5 * p.h0 * (1 + std::cos(pi * rho / rp)) * 2 * pi * std::sin(rho);
    simpson += f * ((k == 0 || k == n) ? 1 : (k % 2 ? 4 : 2));
  }
  const real_t exact = a_earth * a_earth * simpson * rp / n / 3;
  real_t prev_gap = 0, prev_err = 0;
  for (index_t nlat : {32, 64}) {
    SphereGrid g(PETSC_COMM_WORLD, grid_params(2 * nlat, nlat));
    Field q(g.grid(), "bell");
    fill_sphere_tracer(p, g, q);
    const real_t err = std::abs(total_mass(g, q) - exact) / exact;
    const real_t gap = p.h0 - q.max();
    EXPECT_GT(gap, 0.0);
    EXPECT_GE(q.min(), 0.0);
    EXPECT_LT(err, 1e-3) << nlat;
    if (nlat == 64) {
      EXPECT_LT(gap, 0.5 * prev_gap);
      EXPECT_LT(err, prev_err);
    }
    prev_gap = gap;
    prev_err = err;
  }
  EXPECT_NEAR(sphere_tracer_point(p, 1.5 * pi, 0.0), p.h0, 1e-9);
  EXPECT_EQ(sphere_tracer_point(p, 1.5 * pi, 0.34), 0.0);  // beyond R = 1/3 rad
}

TEST(SphereTracers, ConstantFieldIntegratesToValueTimesSphereArea) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  SphereTracerParams p;
  p.type = "constant";
  p.value = 2.5;
  Field q(g.grid(), "c");
  fill_sphere_tracer(p, g, q);
  EXPECT_EQ(q.min(), 2.5);
  EXPECT_EQ(q.max(), 2.5);
  EXPECT_NEAR(total_mass(g, q), 2.5 * 4 * pi * a_earth * a_earth,
              1e-13 * 2.5 * 4 * pi * a_earth * a_earth);
}

TEST(SphereTracers, LauritzenFieldsAtKnownPoints) {
  SphereTracerParams p;
  const real_t l1 = 5 * pi / 6, l2 = 7 * pi / 6;
  // Gaussian hills: at a centre, 0.95 (1 + exp(-5 |x1 - x2|^2)), |x1 - x2|^2 = 2 - 2 cos(pi/3).
  p.type = "gaussian_hills";
  EXPECT_NEAR(sphere_tracer_point(p, l1, 0.0), 0.95 * (1 + std::exp(-5.0)), 1e-14);
  // Cosine bells: b + c at a centre, b far away, b + c/2 at r_i = r/2.
  p.type = "cosine_bells";
  EXPECT_NEAR(sphere_tracer_point(p, l2, 0.0), 1.0, 1e-14);
  EXPECT_EQ(sphere_tracer_point(p, 0.0, 0.0), 0.1);
  EXPECT_NEAR(sphere_tracer_point(p, l1, 0.25), 0.1 + 0.45, 1e-12);
  // Slotted cylinders (r = 1/2, slot half-width r/6 = 0.0833, slot end 5r/12 = 0.2083).
  p.type = "slotted_cylinders";
  EXPECT_EQ(sphere_tracer_point(p, l1, 0.0), 0.1);   // centre is inside the slot
  EXPECT_EQ(sphere_tracer_point(p, l1, 0.3), 0.1);   // slot of cylinder 1 opens northward
  EXPECT_EQ(sphere_tracer_point(p, l1, -0.3), 1.0);  // solid end of cylinder 1
  EXPECT_EQ(sphere_tracer_point(p, l1 + 0.2, 0.0), 1.0);
  EXPECT_EQ(sphere_tracer_point(p, l2, -0.3), 0.1);  // slot of cylinder 2 opens southward
  EXPECT_EQ(sphere_tracer_point(p, l2, 0.3), 1.0);
  EXPECT_EQ(sphere_tracer_point(p, l2, 0.55), 0.1);  // outside r = 1/2
  EXPECT_EQ(sphere_tracer_point(p, 0.0, 0.0), 0.1);
  // Correlated tracer: the relation holds for point values everywhere.
  SphereTracerParams bells, corr;
  bells.type = "cosine_bells";
  corr.type = "correlated_cosine_bells";
  for (real_t lon = 0.05; lon < 2 * pi; lon += 0.21)
    for (real_t lat = -1.5; lat < 1.5; lat += 0.17) {
      const real_t q1 = sphere_tracer_point(bells, lon, lat);
      EXPECT_EQ(sphere_tracer_point(corr, lon, lat), -0.8 * q1 * q1 + 0.9);
    }
  // Nair & Lauritzen (2010) centres and overrides.
  const auto c1 = nair_lauritzen_centers(1);
  ASSERT_EQ(c1.size(), 2u);
  EXPECT_EQ(c1[0][0], pi);
  EXPECT_EQ(c1[0][1], pi / 3);
  EXPECT_EQ(c1[1][1], -pi / 3);
  p.type = "cosine_bells";
  p.centers = c1;
  EXPECT_NEAR(sphere_tracer_point(p, pi, -pi / 3), 1.0, 1e-14);
  EXPECT_THROW(nair_lauritzen_centers(0), ConfigError);
  SphereTracerParams two_bells;
  two_bells.centers = c1;  // cosine_bell takes one centre
  EXPECT_THROW(validate(two_bells), ConfigError);
  SphereTracerParams unknown;
  unknown.type = "cosine_bel";
  EXPECT_THROW(validate(unknown), ConfigError);
}

TEST(SphereTracers, CellAveragesDoNotDependOnTheRankCount) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  for (const auto& type : sphere_tracer_names()) {
    SphereTracerParams p;
    p.type = type;
    Field q(g.grid(), type);
    q.fill(-7.0);
    fill_sphere_tracer(p, g, q);
    // Halos untouched.
    const auto v = q.view();
    EXPECT_EQ(v(-1, 0), -7.0);
    EXPECT_EQ(v(0, -1), -7.0);
    const auto all = q.gather_to_root();
    if (world_rank() == 0) {
      SphereGrid whole(PETSC_COMM_SELF, grid_params());
      Field w(whole.grid(), type);
      fill_sphere_tracer(p, whole, w);
      const auto ref = w.gather_to_root();
      EXPECT_EQ(all, ref) << type;
    }
  }
}

TEST(SphereTracers, CorrelatedCellAveragesLieOnTheCurve) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  SphereTracerParams p1, p2;
  p1.type = "cosine_bells";
  p2.type = "correlated_cosine_bells";
  Field q1(g.grid(), "q1"), q2(g.grid(), "q2");
  fill_sphere_tracer(p1, g, q1);
  fill_sphere_tracer(p2, g, q2);
  const auto a = q1.view();
  const auto b = q2.view();
  long off = 0;
  for (index_t j = 0; j < a.ny; ++j)
    for (index_t i = 0; i < a.nx; ++i) off += b(i, j) != -0.8 * a(i, j) * a(i, j) + 0.9;
  EXPECT_EQ(off, 0);
  const auto m = mixing_diagnostics(g, q1, q2);
  EXPECT_EQ(m.real_mixing, 0.0);
  EXPECT_EQ(m.range_preserving_unmixing, 0.0);
  EXPECT_EQ(m.overshooting, 0.0);
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

TEST(SphereDiagnostics, ErrorNormsAndExtremaHaveTheirAnalyticValues) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  const index_t half = g.nlat() / 2;
  Field exact(g.grid(), "exact"), q(g.grid(), "q");
  SphereTracerParams p;
  p.type = "cosine_bells";
  fill_sphere_tracer(p, g, exact);
  const auto zero = error_norms(g, exact, exact);
  EXPECT_EQ(zero.l1, 0.0);
  EXPECT_EQ(zero.l2, 0.0);
  EXPECT_EQ(zero.linf, 0.0);
  // q = 1.5 exact: every norm is 0.5.
  fill_by_index(g, q, [&](index_t, index_t) { return 0.0; });
  q = exact;
  {
    auto v = q.view();
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) v(i, j) *= 1.5;
  }
  const auto n1 = error_norms(g, q, exact);
  EXPECT_NEAR(n1.l1, 0.5, 1e-14);
  EXPECT_NEAR(n1.l2, 0.5, 1e-14);
  EXPECT_NEAR(n1.linf, 0.5, 1e-14);
  // exact = 2, q = 2 + 0.1 on the northern hemisphere: l1 = 0.1/4, l2 = 0.1/(2 sqrt 2),
  // linf = 0.05 (the hemispheres have equal areas).
  fill_by_index(g, exact, [](index_t, index_t) { return 2.0; });
  fill_by_index(g, q, [&](index_t, index_t j) { return j >= half ? 2.1 : 2.0; });
  const auto n2 = error_norms(g, q, exact);
  EXPECT_NEAR(n2.l1, 0.1 / 4, 1e-14);
  EXPECT_NEAR(n2.l2, 0.1 / (2 * std::sqrt(2.0)), 1e-14);
  EXPECT_NEAR(n2.linf, 0.05, 1e-14);
  EXPECT_THROW(extrema_diagnostics(g, q, exact), NumericsError);  // constant exact field
  // Extrema: exact in [0.5, 1.5] by hemisphere, q shifted by -0.1 in the south, +0.2 in the north.
  fill_by_index(g, exact, [&](index_t, index_t j) { return j >= half ? 1.5 : 0.5; });
  fill_by_index(g, q, [&](index_t, index_t j) { return j >= half ? 1.7 : 0.4; });
  const auto e = extrema_diagnostics(g, q, exact);
  EXPECT_NEAR(e.phi_min, -0.1, 1e-14);
  EXPECT_NEAR(e.phi_max, 0.2, 1e-14);
  fill_by_index(g, exact, [](index_t, index_t) { return 0.0; });
  EXPECT_THROW(error_norms(g, q, exact), NumericsError);
}

TEST(SphereDiagnostics, FilamentThresholdsAndAreas) {
  const auto tau = filament_thresholds();
  ASSERT_EQ(tau.size(), 19u);
  EXPECT_DOUBLE_EQ(tau[0], 0.1);
  EXPECT_DOUBLE_EQ(tau[1], 0.15);
  EXPECT_DOUBLE_EQ(tau[18], 1.0);
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  const index_t half = g.nlat() / 2;
  Field q(g.grid(), "q");
  // 1.0 in the north, 0.5 in the south: thresholds up to 0.5 cover the sphere, above only half.
  fill_by_index(g, q, [&](index_t, index_t j) { return j >= half ? 1.0 : 0.5; });
  const auto area = area_above(g, q, tau);
  ASSERT_EQ(area.size(), tau.size());
  const real_t total = g.total_area();
  for (size_t k = 0; k < tau.size(); ++k) {
    const real_t expect = tau[k] <= 0.5 + 1e-12 ? total : 0.5 * total;
    EXPECT_NEAR(area[k], expect, 1e-13 * total) << tau[k];
  }
  EXPECT_NEAR(total_mass(g, q), g.integral(q), 1e-13 * std::abs(g.integral(q)));
}

TEST(SphereDiagnostics, MixingDistanceIsTheNearestPointOfTheCurve) {
  const real_t pts[][2] = {{0.55, 0.6}, {0.55, 0.3}, {0.9, 0.8},  {1.05, 0.05}, {0.05, 0.95},
                           {0.3, 0.1},  {0.7, 0.45}, {0.2, 0.85}, {0.95, 0.3},  {0.5, 0.0}};
  for (const auto& x : pts) {
    EXPECT_NEAR(mixing_distance(x[0], x[1]), brute_force_distance(x[0], x[1]), 1e-10)
        << x[0] << ", " << x[1];
  }
  // The LSPT supplement's closed form (diag.F90) where its cubic has one real root.
  const real_t q1 = 0.55, q2 = 0.6;
  const real_t c =
      std::cbrt(65340 * q1 + 12 * std::sqrt(-1687296 + 12168000 * q2 - 29250000 * q2 * q2 +
                                            23437500 * q2 * q2 * q2 + 29648025 * q1 * q1)) /
      60;
  const real_t root = std::clamp(c - (-13.0 / 75 + 5.0 / 12 * q2) / c, 0.1, 1.0);
  const real_t d_ref = std::sqrt(std::pow((root - q1) / 0.9, 2) +
                                 std::pow((-0.8 * root * root + 0.9 - q2) / 0.792, 2));
  EXPECT_NEAR(mixing_distance(q1, q2), d_ref, 1e-12);
  // Points on the curve are at distance 0; classes.
  EXPECT_EQ(mixing_distance(0.4, -0.8 * 0.4 * 0.4 + 0.9), 0.0);
  EXPECT_EQ(mixing_class(0.55, 0.6), MixingClass::real_mixing);
  EXPECT_EQ(mixing_class(0.55, 0.3), MixingClass::range_preserving_unmixing);
  EXPECT_EQ(mixing_class(0.9, 0.8), MixingClass::range_preserving_unmixing);  // above the curve
  EXPECT_EQ(mixing_class(1.05, 0.05), MixingClass::overshooting);
  EXPECT_EQ(mixing_class(0.5, 0.95), MixingClass::overshooting);
  EXPECT_EQ(mixing_class(0.1, 0.892), MixingClass::real_mixing);  // curve end point
}

TEST(SphereDiagnostics, MixingDiagnosticsAreNormalisedByTheTotalArea) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  const index_t half = g.nlat() / 2;
  Field q1(g.grid(), "q1"), q2(g.grid(), "q2");
  // North: real mixing at (0.55, 0.6); south: unmixing at (0.55, 0.3).
  fill_by_index(g, q1, [](index_t, index_t) { return 0.55; });
  fill_by_index(g, q2, [&](index_t, index_t j) { return j >= half ? 0.6 : 0.3; });
  const auto m = mixing_diagnostics(g, q1, q2);
  EXPECT_NEAR(m.real_mixing, 0.5 * mixing_distance(0.55, 0.6), 1e-14);
  EXPECT_NEAR(m.range_preserving_unmixing, 0.5 * mixing_distance(0.55, 0.3), 1e-14);
  EXPECT_EQ(m.overshooting, 0.0);
  // Overshooting everywhere.
  fill_by_index(g, q1, [](index_t, index_t) { return 1.05; });
  fill_by_index(g, q2, [](index_t, index_t) { return 0.05; });
  const auto o = mixing_diagnostics(g, q1, q2);
  EXPECT_EQ(o.real_mixing, 0.0);
  EXPECT_EQ(o.range_preserving_unmixing, 0.0);
  EXPECT_NEAR(o.overshooting, mixing_distance(1.05, 0.05), 1e-14);
}

TEST(SphereDiagnostics, ResultsAreBitwiseIndependentOfTheRankCount) {
  // Non-trivial fields: one step of swept areas is irrelevant here; use distinct tracers.
  const auto run = [](const SphereGrid& g) {
    SphereTracerParams a, b, c;
    a.type = "cosine_bells";
    b.type = "gaussian_hills";
    c.type = "slotted_cylinders";
    Field qa(g.grid(), "a"), qb(g.grid(), "b"), qc(g.grid(), "c");
    fill_sphere_tracer(a, g, qa);
    fill_sphere_tracer(b, g, qb);
    fill_sphere_tracer(c, g, qc);
    std::vector<real_t> r;
    const auto n = error_norms(g, qa, qb);
    const auto e = extrema_diagnostics(g, qa, qc);
    const auto m = mixing_diagnostics(g, qb, qc);
    r.insert(r.end(), {n.l1, n.l2, n.linf, e.phi_min, e.phi_max, m.real_mixing,
                       m.range_preserving_unmixing, m.overshooting, total_mass(g, qa)});
    const auto area = area_above(g, qa, filament_thresholds());
    r.insert(r.end(), area.begin(), area.end());
    return r;
  };
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  auto parallel = run(g);
  std::vector<real_t> serial(parallel.size(), 0.0);
  if (world_rank() == 0) {
    SphereGrid whole(PETSC_COMM_SELF, grid_params());
    serial = run(whole);
  }
  MPI_Bcast(serial.data(), int(serial.size()), MPI_DOUBLE, 0, PETSC_COMM_WORLD);
  EXPECT_EQ(parallel, serial);
  EXPECT_GT(parallel[0], 0.1);  // the fields differ: the comparison is not vacuous
  EXPECT_GT(parallel[5] + parallel[6] + parallel[7], 0.0);
}
