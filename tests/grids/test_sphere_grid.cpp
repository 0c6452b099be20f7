// The latitude-longitude grid: exact cell areas (total 4 pi a^2, mirror symmetric), cross-pole
// ghost rows, the area integral and the decomposition checks. Run at 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/sphere_grid.hpp"

using namespace aeolus;

namespace {
constexpr real_t kPi = 3.14159265358979323846;

SphereGridParams sphere_params(index_t nlon, index_t nlat, index_t nlev = 1) {
  SphereGridParams p;
  p.nlon = nlon;
  p.nlat = nlat;
  p.nlev = nlev;
  p.radius = 6.37122e6;
  p.halo = 3;
  return p;
}

real_t code(index_t i, index_t j, index_t k) { return real_t(i + 1000 * j + 1000000 * k); }
}  // namespace

TEST(SphereGrid, TotalAreaIsFourPiASquaredAndRowsAreMirrorSymmetric) {
  const index_t sizes[][2] = {{64, 32}, {128, 64}, {360, 180}, {144, 91}, {1440, 721}};
  for (const auto& s : sizes) {
    // Every rank holds the metrics of all rows, so the grid needs only enough rows per rank.
    if (s[1] / comm_size(PETSC_COMM_WORLD) < 3) continue;
    SphereGrid g(PETSC_COMM_WORLD, sphere_params(s[0], s[1]));
    const real_t a = g.radius(), exact = 4 * kPi * a * a;
    EXPECT_LT(std::abs(g.total_area() - exact) / exact, 1e-14) << s[0] << "x" << s[1];
    for (index_t j = 0; j < g.nlat(); ++j) {
      EXPECT_GT(g.area(j), 0.0);
      EXPECT_EQ(g.area(j), g.area(g.nlat() - 1 - j)) << "row " << j;
      EXPECT_EQ(g.lat_center(j), -g.lat_center(g.nlat() - 1 - j)) << "row " << j;
    }
    EXPECT_EQ(g.cos_lat_edge(0), 0.0);
    EXPECT_EQ(g.cos_lat_edge(g.nlat()), 0.0);
    EXPECT_EQ(g.sin_lat_edge(0), -1.0);
    EXPECT_EQ(g.sin_lat_edge(g.nlat()), 1.0);
    // The polar cap row: a^2 dlon (1 - cos dlat).
    const real_t cap = a * a * g.dlon() * (1 - std::cos(g.dlat()));
    EXPECT_NEAR(g.area(0) / cap, 1.0, 1e-12);
    // The area integral of 1 is the total area (collective).
    Field one(g.grid(), "one");
    one.fill(1.0);
    EXPECT_LT(std::abs(g.integral(one) - exact) / exact, 1e-14);
  }
}

class SpherePolarHalos : public ::testing::TestWithParam<int> {};

// After exchange_halos + fill_polar_halos every ghost cell holds the value of the global cell it
// stands for: across a pole, row -1-k is row k and row nlat+k is row nlat-1-k, both at lon + 180
// deg; elsewhere the periodic / neighbouring cell. Every level of a 3D grid likewise. With 12
// rows, 4 ranks hold 3 each (the halo width: the DMDA's own exchange); with 8 rows, 4 ranks
// hold 2 and 8 ranks 1, narrower than the halo: ghost rows then come from ranks further away
// (multi-hop) and ranks next to a polar one have cross-pole ghosts too.
TEST_P(SpherePolarHalos, GhostRowsAcrossThePolesMirrorTheOppositeMeridian) {
  const index_t nlev = GetParam();
  for (const index_t ny : {index_t(12), index_t(8)}) {
    const index_t nx = 16;
    SphereGrid g(PETSC_COMM_WORLD, sphere_params(nx, ny, nlev));
    Field f(g.grid(), "q");
    auto v = f.view();
    const index_t j0 = g.lat_start();
    for (index_t k = 0; k < v.nz; ++k)
      for (index_t j = 0; j < v.ny; ++j)
        for (index_t i = 0; i < v.nx; ++i) v(i, j, k) = code(i, j0 + j, k);
    f.exchange_halos();
    g.fill_polar_halos(f);
    const index_t h = v.hy;
    ASSERT_EQ(h, 3);
    for (index_t k = 0; k < v.nz; ++k)
      for (index_t j = -h; j < v.ny + h; ++j)
        for (index_t i = -v.hx; i < v.nx + v.hx; ++i) {
          const index_t gj = j0 + j;
          index_t si = ((i % nx) + nx) % nx, sj = gj;
          if (gj < 0 || gj >= ny) {
            sj = gj < 0 ? -1 - gj : 2 * ny - 1 - gj;
            si = (si + nx / 2) % nx;
          }
          ASSERT_EQ(v(i, j, k), code(si, sj, k))
              << "local " << i << "," << j << "," << k << " (global row " << gj << ") on rank "
              << g.grid().rank() << ", nlat " << ny;
        }
  }
}

// 2 levels: fewer than the halo width along z as well (multi-hop on any rank count > 1).
INSTANTIATE_TEST_SUITE_P(Levels, SpherePolarHalos, ::testing::Values(1, 2, 3));

TEST(SphereGrid, RejectsBadParameters) {
  auto throws_config = [](const SphereGridParams& p, const std::string& expect) {
    try {
      SphereGrid g(PETSC_COMM_WORLD, p);
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "no ConfigError for '" << expect << "'";
  };
  throws_config(sphere_params(63, 32), "nlon = 63");
  throws_config(sphere_params(64, 1), "nlat = 1");
  SphereGridParams bad_radius = sphere_params(64, 32);
  bad_radius.radius = -1;
  throws_config(bad_radius, "radius = -1");
  const int ranks = comm_size(PETSC_COMM_WORLD);
  if (ranks >= 4) throws_config(sphere_params(16, ranks - 1), "every rank needs a row");
}

// The CarbonBench / WeatherBench2 layouts without pole points: 32 x 64 at 5.625 deg has its
// first and last latitudes at -+87.1875 deg, 64 x 128 at 2.8125 deg at -+88.59375 deg.
TEST(SphereGrid, CarbonBenchLayouts) {
  const struct {
    index_t nlon, nlat;
    double first_lat_deg, dlon_deg;
  } layouts[] = {{64, 32, -87.1875, 5.625}, {128, 64, -88.59375, 2.8125}};
  for (const auto& l : layouts) {
    SphereGrid g(PETSC_COMM_WORLD, sphere_params(l.nlon, l.nlat));
    const double deg = 180.0 / kPi;
    EXPECT_NEAR(g.lat_center(0) * deg, l.first_lat_deg, 1e-12);
    EXPECT_NEAR(g.lat_center(l.nlat - 1) * deg, -l.first_lat_deg, 1e-12);
    EXPECT_NEAR(g.lon_center(0) * deg, 0.5 * l.dlon_deg, 1e-12);
    EXPECT_NEAR(g.dlon() * deg, l.dlon_deg, 1e-12);
    // The output coordinates (degrees) are the DMDA's cell centres.
    EXPECT_NEAR(g.grid().center(1, 0), l.first_lat_deg, 1e-12);
    EXPECT_NEAR(g.grid().center(0, 0), 0.5 * l.dlon_deg, 1e-12);
  }
}
