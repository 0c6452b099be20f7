// Rank independence of the Lin-Rood sphere transport: 40 steps of solid-body rotation over the
// poles (alpha = pi/2) at 64 x 32 on PETSC_COMM_WORLD (latitude bands) must give bitwise the
// field of the same run on one rank (MPI_COMM_SELF on rank 0), for every scheme. Every face
// value is computed from identical inputs on whichever rank computes it (the halo exchange and
// the cross-pole ghost rows copy values exactly, the swept areas come from the flow on each
// rank), so nothing may differ. Run at 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "grids/petsc_util.hpp"
#include "solvers/sphere_transport.hpp"

using namespace aeolus;

namespace {

constexpr real_t kPi = 3.14159265358979323846;
constexpr real_t kRadius = 6.37122e6;
constexpr real_t kU0 = 2 * kPi * kRadius / (12 * 86400.0);

// Williamson case 1 solid-body rotation: swept areas as corner differences of dt * psi
// (psi = -u0 a (sin lat cos alpha - cos lon cos lat sin alpha)), zero on the pole edges.
SweptAreaFunction solid_body(const SphereGrid& g, real_t alpha) {
  return [&g, alpha](real_t /*t*/, real_t dt, SphereFaceFluxes& out) {
    out.resize(g);
    const index_t nx = g.nlon(), ny = g.nlat(), nj = g.lat_count(), j0 = g.lat_start();
    const index_t h = g.halo();
    auto corner = [&](index_t i, index_t je) {
      const real_t lon = g.lon_edge(((i % nx) + nx) % nx);
      return dt * -kU0 * kRadius *
             (g.sin_lat_edge(je) * std::cos(alpha) -
              std::cos(lon) * g.cos_lat_edge(je) * std::sin(alpha));
    };
    for (index_t r = -h; r < nj + h; ++r) {
      const index_t j = j0 + r;
      if (j < 0 || j >= ny) continue;
      for (index_t i = 0; i < nx; ++i)
        out.xa[size_t((r + h) * nx + i)] = corner(i, j) - corner(i, j + 1);
    }
    for (index_t r = 0; r <= nj; ++r) {
      const index_t j = j0 + r;
      for (index_t i = 0; i < nx; ++i)
        out.ya[size_t(r * nx + i)] = (j == 0 || j == ny) ? 0.0 : corner(i + 1, j) - corner(i, j);
    }
  };
}

// 40 steps of the cfl-limited step; returns the gathered field on rank 0 of comm and max_dt.
std::vector<real_t> run(MPI_Comm comm, const SphereSchemeParams& scheme, real_t& max_dt) {
  SphereGridParams p;
  p.nlon = 64;
  p.nlat = 32;
  p.radius = kRadius;
  p.halo = 3;
  SphereGrid g(comm, p);
  Field q(g.grid(), "q");
  auto v = q.view();
  for (index_t j = 0; j < v.ny; ++j) {
    const real_t lat = g.lat_center(g.lat_start() + j);
    for (index_t i = 0; i < v.nx; ++i) {
      // A bell off the equator plus a jump, so that limiters are active.
      const real_t lon = g.lon_center(i);
      const real_t c = std::cos(lat) * std::cos(lon - 1.5 * kPi);
      v(i, j) = std::exp(-4 * (1 - c)) + (lat > 0.3 && lon < kPi ? 0.5 : 0.0);
    }
  }
  SphereTransportStepper s(g, solid_body(g, 0.5 * kPi), scheme, 0.9);
  real_t t = 0;
  max_dt = s.max_dt(q, t);
  for (int n = 0; n < 40; ++n) {
    real_t dt = max_dt;
    s.step(q, t, dt);
  }
  return q.gather_to_root();
}

}  // namespace

class SphereRankIndependence
    : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(SphereRankIndependence, BitwiseEqualToOneRank) {
  SphereSchemeParams scheme;
  scheme.reconstruction = GetParam().first;
  scheme.limiter = GetParam().second;
  real_t dt_world = 0;
  const std::vector<real_t> world = run(PETSC_COMM_WORLD, scheme, dt_world);
  if (comm_rank(PETSC_COMM_WORLD) != 0) return;
  real_t dt_self = 0;
  const std::vector<real_t> self = run(PETSC_COMM_SELF, scheme, dt_self);
  EXPECT_EQ(dt_world, dt_self);
  ASSERT_EQ(world.size(), self.size());
  ASSERT_EQ(world.size(), size_t(64 * 32));
  size_t differing = 0, first = world.size();
  for (size_t n = 0; n < world.size(); ++n) {
    if (world[n] != self[n]) {
      ++differing;
      first = std::min(first, n);
    }
  }
  EXPECT_EQ(differing, 0u) << "of " << world.size() << " cells on " << comm_size(PETSC_COMM_WORLD)
                           << " ranks; first at cell " << first << " (row " << first / 64 << ")";
}

INSTANTIATE_TEST_SUITE_P(Schemes, SphereRankIndependence,
                         ::testing::Values(std::make_pair("ppm", "monotone"),
                                           std::make_pair("ppm", "bounded"),
                                           std::make_pair("ppm", "none"),
                                           std::make_pair("van_leer", "monotone"),
                                           std::make_pair("van_leer", "none")));
