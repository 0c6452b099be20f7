// The elliptic test problems: manufactured solutions (derivatives against finite differences,
// the boundary properties each type promises), FISHPACK's HWSCRT data, and the Darcy
// permeability fields (values, balance, determinism, and the same field on every rank count).
// Run at 1 and 2 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/elliptic_problems.hpp"

using namespace aeolus;
using namespace aeolus::physics;

namespace {

constexpr real_t pi = 3.14159265358979323846;

ManufacturedSolution solution(const std::string& type, int dim, int m = 1) {
  ManufacturedSolution s;
  s.params.type = type;
  s.params.wavenumber = m;
  s.dim = dim;
  s.lo = {-0.5, 0.0, 1.0};
  s.hi = {1.0, 2.0, 1.75};
  return s;
}

using P3 = std::array<real_t, 3>;

real_t u_at(const ManufacturedSolution& s, const P3& x) { return s.u(x[0], x[1], x[2]); }

// Central differences: first derivative O(h^2) with h = 1e-5, second with h = 2e-4 (the
// round-off of u / h^2 stays below 1e-8 there, the truncation h^2 u / 12 below 1e-3).
real_t fd_du(const ManufacturedSolution& s, int d, P3 x) {
  const real_t h = 1e-5;
  P3 a = x, b = x;
  a[size_t(d)] += h;
  b[size_t(d)] -= h;
  return (u_at(s, a) - u_at(s, b)) / (2 * h);
}

real_t fd_laplacian(const ManufacturedSolution& s, P3 x) {
  const real_t h = 2e-4;
  real_t lap = 0;
  for (int d = 0; d < s.dim; ++d) {
    P3 a = x, b = x;
    a[size_t(d)] += h;
    b[size_t(d)] -= h;
    lap += (u_at(s, a) - 2 * u_at(s, x) + u_at(s, b)) / (h * h);
  }
  return lap;
}

const std::vector<P3> sample_points{
    {0.1, 0.3, 1.2}, {-0.4, 1.9, 1.7}, {0.77, 1.1, 1.33}, {0.0, 0.5, 1.5}, {0.95, 0.05, 1.05}};

}  // namespace

TEST(ManufacturedSolution, DerivativesMatchFiniteDifferences) {
  for (const char* type : {"sine", "cosine", "periodic", "mixed"}) {
    for (int dim = 1; dim <= 3; ++dim) {
      for (int m : {1, 2}) {
        const ManufacturedSolution s = solution(type, dim, m);
        for (const P3& x : sample_points) {
          const std::string where = std::string(type) + " dim " + std::to_string(dim) + " m " +
                                    std::to_string(m) + " at (" + std::to_string(x[0]) + ", " +
                                    std::to_string(x[1]) + ", " + std::to_string(x[2]) + ")";
          // Scale: |u| <= e^(1/2) and each derivative brings at most 2 pi m / L_min.
          const real_t w = 2 * pi * m / 0.75;
          for (int d = 0; d < 3; ++d) {
            if (d < dim) {
              EXPECT_NEAR(s.du(d, x[0], x[1], x[2]), fd_du(s, d, x), 1e-8 * w)
                  << where << " d " << d;
            } else {
              EXPECT_EQ(s.du(d, x[0], x[1], x[2]), 0.0) << where;
            }
          }
          const real_t fd = fd_laplacian(s, x);
          EXPECT_NEAR(s.laplacian(x[0], x[1], x[2]), fd, 2e-6 * (std::abs(fd) + w * w)) << where;
        }
      }
    }
  }
}

TEST(ManufacturedSolution, BoundaryPropertiesOfEachType) {
  for (int dim = 1; dim <= 3; ++dim) {
    const auto sine = solution("sine", dim, 2), cosine = solution("cosine", dim, 2);
    const auto periodic = solution("periodic", dim, 1), mixed = solution("mixed", dim, 1);
    for (int d = 0; d < dim; ++d) {
      for (int side = 0; side < 2; ++side) {
        real_t mixed_u = 0, mixed_du = 0;  // largest over the sample points of the face
        for (const P3& x0 : sample_points) {
          P3 x = x0;
          x[size_t(d)] = side ? sine.hi[size_t(d)] : sine.lo[size_t(d)];
          EXPECT_NEAR(u_at(sine, x), 0.0, 1e-14);
          EXPECT_NEAR(cosine.du(d, x[0], x[1], x[2]), 0.0, 1e-13);
          mixed_u = std::max(mixed_u, std::abs(u_at(mixed, x)));
          mixed_du = std::max(mixed_du, std::abs(mixed.du(d, x[0], x[1], x[2])));
          if (side == 0) {
            P3 y = x;
            y[size_t(d)] = periodic.hi[size_t(d)];
            EXPECT_NEAR(u_at(periodic, x), u_at(periodic, y), 1e-14);
            EXPECT_NEAR(periodic.du(d, x[0], x[1], x[2]), periodic.du(d, y[0], y[1], y[2]), 1e-12);
          }
        }
        // Mixed: Dirichlet and Neumann data are not zero on any face.
        EXPECT_GT(mixed_u, 0.2) << "dim " << dim << " d " << d << " side " << side;
        EXPECT_GT(mixed_du, 0.2) << "dim " << dim << " d " << d << " side " << side;
      }
    }
  }
  // The periodic solution does not vanish on the faces (it exercises the wrap, not a wall).
  const auto periodic = solution("periodic", 2);
  EXPECT_GT(std::abs(periodic.u(-0.5, 0.0, 0.0)), 0.05);
  EXPECT_THROW(solution("quartic", 2).u(0, 0, 0), ConfigError);
  EXPECT_EQ(manufactured_type_names().size(), 5u);
}

TEST(FishpackHwscrt, DataAreConsistent) {
  // g = u_xx + u_yy + lambda u by finite differences; du/dx at x = 2; periodic in y (period 4);
  // u(0, y) = 0 (the Dirichlet data).
  const real_t h = 1e-3;
  for (real_t x : {0.3, 1.0, 1.7}) {
    for (real_t y : {-0.8, 0.4, 2.9}) {
      const auto u = FishpackHwscrt::exact;
      const real_t lap = (u(x + h, y) - 2 * u(x, y) + u(x - h, y)) / (h * h) +
                         (u(x, y + h) - 2 * u(x, y) + u(x, y - h)) / (h * h);
      EXPECT_NEAR(FishpackHwscrt::source(x, y), lap + FishpackHwscrt::lambda * u(x, y), 1e-5);
      EXPECT_NEAR(u(x, -1.0), u(x, 3.0), 1e-14);
    }
  }
  for (real_t y : {-1.0, 0.25, 2.2}) {
    const real_t d =
        (FishpackHwscrt::exact(2 + 1e-6, y) - FishpackHwscrt::exact(2 - 1e-6, y)) / 2e-6;
    EXPECT_NEAR(FishpackHwscrt::neumann_x2(y), d, 1e-7);
    EXPECT_EQ(FishpackHwscrt::exact(0.0, y), 0.0);
  }
  // The same problem through the manufactured-solution interface (as a case file selects it).
  ManufacturedSolution m = solution("fishpack_hwscrt", 2);
  for (const P3& x : sample_points) {
    EXPECT_EQ(m.u(x[0], x[1], 0), FishpackHwscrt::exact(x[0], x[1]));
    EXPECT_NEAR(m.laplacian(x[0], x[1], 0),
                FishpackHwscrt::source(x[0], x[1]) -
                    FishpackHwscrt::lambda * FishpackHwscrt::exact(x[0], x[1]),
                1e-13);
    EXPECT_NEAR(m.du(0, x[0], x[1], 0), fd_du(m, 0, x), 1e-8);
    EXPECT_NEAR(m.du(1, x[0], x[1], 0), fd_du(m, 1, x), 1e-8);
  }
  EXPECT_NEAR(m.du(0, 2.0, 0.3, 0), FishpackHwscrt::neumann_x2(0.3), 1e-14);
}

namespace {

CartesianGridParams grid_params(int dim, std::array<index_t, 3> n) {
  CartesianGridParams p;
  p.dim = dim;
  p.n = n;
  p.lo = {0.0, 0.0, 0.0};
  p.hi = {1.0, 1.0, 1.0};
  p.periodic = {false, false, false};
  p.halo = 1;
  return p;
}

std::vector<real_t> permeability(MPI_Comm comm, const CartesianGridParams& gp,
                                 const DarcyPermeabilityParams& p) {
  CartesianGrid grid(comm, gp);
  Field k(grid, "k");
  fill_permeability(p, k);
  return k.gather_to_root();
}

}  // namespace

TEST(Permeability, ThresholdedGrfIsTheSameOnEveryRankCount) {
  for (const auto& gp : {grid_params(2, {64, 48, 1}), grid_params(3, {20, 16, 12})}) {
    DarcyPermeabilityParams p;  // thresholded_grf, 12 / 3, alpha 2, tau 3, seed 1
    const auto world = permeability(PETSC_COMM_WORLD, gp, p);
    const auto self = permeability(PETSC_COMM_SELF, gp, p);
    if (comm_rank(PETSC_COMM_WORLD) != 0) continue;
    ASSERT_EQ(world.size(), self.size());
    size_t differing = 0, high = 0, other = 0;
    for (size_t i = 0; i < world.size(); ++i) {
      differing += world[i] != self[i];
      high += world[i] == p.high;
      other += world[i] != p.high && world[i] != p.low;
    }
    EXPECT_EQ(differing, 0u) << "dim " << gp.dim;
    EXPECT_EQ(other, 0u);
    const real_t fraction = real_t(high) / real_t(world.size());
    EXPECT_GT(fraction, 0.3) << "dim " << gp.dim;
    EXPECT_LT(fraction, 0.7) << "dim " << gp.dim;
  }
}

TEST(Permeability, DeterministicPerSeedAndDifferentAcrossSeeds) {
  const auto gp = grid_params(2, {40, 40, 1});
  DarcyPermeabilityParams p;
  const auto a = permeability(PETSC_COMM_WORLD, gp, p);
  const auto b = permeability(PETSC_COMM_WORLD, gp, p);
  p.seed = 2;
  const auto c = permeability(PETSC_COMM_WORLD, gp, p);
  if (comm_rank(PETSC_COMM_WORLD) != 0) return;
  EXPECT_EQ(a, b);
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i] != c[i];
  EXPECT_GT(differing, a.size() / 10);
  // A piecewise constant field with a few large patches, not salt and pepper: most neighbours
  // along x agree.
  size_t jumps = 0;
  for (size_t j = 0; j < 40; ++j)
    for (size_t i = 0; i + 1 < 40; ++i) jumps += a[j * 40 + i] != a[j * 40 + i + 1];
  EXPECT_LT(jumps, 40u * 39u / 5u);
}

TEST(Permeability, LognormalAndConstant) {
  const auto gp = grid_params(2, {64, 64, 1});
  DarcyPermeabilityParams p;
  p.type = "lognormal_grf";
  p.sigma = 0.8;
  const auto world = permeability(PETSC_COMM_WORLD, gp, p);
  const auto self = permeability(PETSC_COMM_SELF, gp, p);
  if (comm_rank(PETSC_COMM_WORLD) == 0) {
    EXPECT_EQ(world, self);
    real_t s = 0, s2 = 0;
    for (real_t v : world) {
      ASSERT_GT(v, 0.0);
      s += std::log(v);
      s2 += std::log(v) * std::log(v);
    }
    const real_t n = real_t(world.size()), mean = s / n;
    const real_t sd = std::sqrt(std::max(0.0, s2 / n - mean * mean));
    // One realisation of a field dominated by its longest waves: loose bounds.
    EXPECT_LT(std::abs(mean), 1.5 * p.sigma);
    EXPECT_GT(sd, 0.3 * p.sigma);
    EXPECT_LT(sd, 2.0 * p.sigma);
  }
  p.type = "constant";
  p.value = 2.5;
  CartesianGrid grid(PETSC_COMM_WORLD, gp);
  Field k(grid, "k");
  fill_permeability(p, k);
  EXPECT_EQ(k.min(), 2.5);
  EXPECT_EQ(k.max(), 2.5);
}

TEST(Permeability, HalosAreFilled) {
  auto gp = grid_params(2, {32, 24, 1});
  gp.periodic = {true, true, false};
  CartesianGrid grid(PETSC_COMM_WORLD, gp);
  Field k(grid, "k");
  DarcyPermeabilityParams p;
  fill_permeability(p, k);
  const auto v = k.view();
  // Every ghost (periodic grid: all of them are copies) holds one of the two values.
  for (index_t j = -1; j <= grid.count(1); ++j)
    for (index_t i = -1; i <= grid.count(0); ++i)
      EXPECT_TRUE(v(i, j) == p.high || v(i, j) == p.low) << i << ", " << j;
}

TEST(Permeability, BadParametersAreConfigErrors) {
  CartesianGrid grid(PETSC_COMM_WORLD, grid_params(2, {8, 8, 1}));
  Field k(grid, "k");
  DarcyPermeabilityParams p;
  p.type = "checkerboard";
  EXPECT_THROW(fill_permeability(p, k), ConfigError);
  p = {};
  p.low = 0.0;
  EXPECT_THROW(fill_permeability(p, k), ConfigError);
  p = {};
  p.alpha = -1.0;
  EXPECT_THROW(fill_permeability(p, k), ConfigError);
  p = {};
  p.type = "constant";
  p.value = 0.0;
  EXPECT_THROW(fill_permeability(p, k), ConfigError);
  EXPECT_EQ(permeability_type_names().size(), 3u);
}
