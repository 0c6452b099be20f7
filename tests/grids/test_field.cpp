// Grid decomposition, halo exchange (periodic wrap, corners) and gather/scatter in natural
// order, run at 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "common/error_of.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"

using namespace aeolus;

namespace {
real_t code(index_t i, index_t j, index_t k) { return real_t(i + 1000 * j + 1000000 * k); }

// Owned cells get the code of their global index.
void fill_owned(Field& f) {
  const CartesianGrid& grid = f.grid();
  auto v = f.view();
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i)
        v(i, j, k) = code(grid.start(0) + i, grid.start(1) + j, grid.start(2) + k);
}

// Every cell of f's ghosted block holds scale * the code of the global cell it stands for
// (wrapped along periodic dimensions); cells beyond a non-periodic edge hold `outside`, or are
// not checked when `outside` is NaN.
void expect_ghosted(const Field& f, real_t scale, real_t outside, const std::string& what) {
  const CartesianGrid& grid = f.grid();
  const auto v = f.view();
  for (index_t k = -v.hz; k < v.nz + v.hz; ++k)
    for (index_t j = -v.hy; j < v.ny + v.hy; ++j)
      for (index_t i = -v.hx; i < v.nx + v.hx; ++i) {
        index_t at[3] = {grid.start(0) + i, grid.start(1) + j, grid.start(2) + k};
        bool inside = true;
        for (int d = 0; d < grid.dim(); ++d) {
          if (grid.periodic(d)) {
            at[d] = ((at[d] % grid.n(d)) + grid.n(d)) % grid.n(d);
          } else if (at[d] < 0 || at[d] >= grid.n(d)) {
            inside = false;
          }
        }
        if (!inside && std::isnan(outside)) continue;
        const real_t expect = inside ? scale * code(at[0], at[1], at[2]) : outside;
        ASSERT_EQ(v(i, j, k), expect) << what << " at local " << i << "," << j << "," << k;
      }
}

CartesianGridParams params(int dim, index_t n0, index_t n1, index_t n2, int halo) {
  CartesianGridParams p;
  p.dim = dim;
  p.n = {n0, n1, n2};
  p.halo = halo;
  return p;
}
}  // namespace

class FieldDims : public ::testing::TestWithParam<int> {};

TEST_P(FieldDims, PeriodicHaloExchangeFillsWrappedNeighboursAndCorners) {
  const int dim = GetParam();
  CartesianGrid grid(PETSC_COMM_WORLD, params(dim, 12, dim > 1 ? 10 : 1, dim > 2 ? 8 : 1, 2));
  Field f(grid, "q");
  fill_owned(f);
  f.exchange_halos();
  expect_ghosted(f, 1.0, NAN, "periodic");
}

TEST_P(FieldDims, GatherScatterRoundTripInNaturalOrder) {
  const int dim = GetParam();
  CartesianGrid grid(PETSC_COMM_WORLD, params(dim, 9, dim > 1 ? 7 : 1, dim > 2 ? 5 : 1, 1));
  Field f(grid, "q");
  auto v = f.view();
  fill_owned(f);
  std::vector<real_t> all = f.gather_to_root();
  if (grid.rank() == 0) {
    ASSERT_EQ(index_t(all.size()), grid.global_cells());
    size_t idx = 0;
    for (index_t k = 0; k < grid.n(2); ++k)
      for (index_t j = 0; j < grid.n(1); ++j)
        for (index_t i = 0; i < grid.n(0); ++i) ASSERT_EQ(all[idx++], code(i, j, k));
    for (auto& x : all) x = -x;
  }
  f.scatter_from_root(all);
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i)
        ASSERT_EQ(v(i, j, k), -code(grid.start(0) + i, grid.start(1) + j, grid.start(2) + k));
}

// Halo exchange where the halo is wider than some rank's subdomain (multi-hop: ghosts from
// ranks further away; along x, n = 2 < halo = 3 wraps more than once even on one rank), and
// where it is not (the DMDA's own exchange): every ghost holds its owner's value, ghosts beyond
// a non-periodic edge keep what they held, and gather/scatter still round-trip.
TEST_P(FieldDims, HalosWiderThanASubdomainComeFromRanksFurtherAway) {
  const int dim = GetParam();
  for (const bool narrow : {true, false}) {
    auto p = narrow ? params(dim, 2, dim > 1 ? 5 : 1, dim > 2 ? 4 : 1, 3)
                    : params(dim, 24, dim > 1 ? 24 : 1, dim > 2 ? 24 : 1, 3);
    p.periodic = {true, false, true};
    CartesianGrid grid(PETSC_COMM_WORLD, p);
    if (narrow) {
      EXPECT_NE(grid.halo_scatter(), nullptr);
      EXPECT_LT(grid.dm_stencil_width(), 3);
    }
    Field f(grid, "q");
    f.fill(-1.0);
    fill_owned(f);
    f.exchange_halos();
    expect_ghosted(f, 1.0, -1.0, narrow ? "narrow" : "wide");
    std::vector<real_t> all = f.gather_to_root();
    for (auto& x : all) x = 2 * x;
    f.scatter_from_root(all);
    expect_ghosted(f, 2.0, -1.0, narrow ? "narrow, scattered" : "wide, scattered");
  }
}

INSTANTIATE_TEST_SUITE_P(Dims, FieldDims, ::testing::Values(1, 2, 3));

TEST(Field, ReductionsAreGlobal) {
  CartesianGrid grid(PETSC_COMM_WORLD, params(2, 16, 8, 1, 2));
  Field f(grid, "q");
  f.fill(0.25);
  EXPECT_DOUBLE_EQ(f.sum(), 0.25 * 128);
  EXPECT_DOUBLE_EQ(f.integral(), 0.25);  // unit square
  auto v = f.view();
  if (grid.start(0) == 0 && grid.start(1) == 0) v(0, 0) = -3.0;
  EXPECT_EQ(f.min(), -3.0);
  EXPECT_EQ(f.max(), 0.25);
  EXPECT_TRUE(f.all_finite());
  if (grid.rank() == grid.size() - 1) v(v.nx - 1, v.ny - 1) = std::nan("");
  EXPECT_EQ(f.count_nonfinite(), 1);
}

TEST(Grid, WithHaloKeepsDecomposition) {
  CartesianGrid grid(PETSC_COMM_WORLD, params(2, 20, 12, 1, 2));
  auto wide = grid.with_halo(4);
  for (int d = 0; d < 3; ++d) {
    EXPECT_EQ(wide->start(d), grid.start(d));
    EXPECT_EQ(wide->count(d), grid.count(d));
  }
  EXPECT_EQ(wide->halo(), 4);
  EXPECT_EQ(wide->ghosted_count(0), grid.count(0) + 8);
}

TEST(Grid, RejectsBadParameters) {
  auto p = params(2, -4, 8, 1, 2);
  EXPECT_THROW(CartesianGrid(PETSC_COMM_WORLD, p), ConfigError);
  p = params(4, 4, 8, 1, 2);
  EXPECT_THROW(CartesianGrid(PETSC_COMM_WORLD, p), ConfigError);
}

// A decomposition given by the caller (a host code's own, through the C API): uneven columns
// along x (one-cell subdomains on all ranks but the last, so the halo of 2 needs the multi-hop
// scatter), or rows along y; each rank owns the box of its place in the tensor product.
TEST(Grid, TakesTheCallersOwnershipRanges) {
  const int size = comm_size(PETSC_COMM_WORLD);
  const int rank = comm_rank(PETSC_COMM_WORLD);
  for (const int along : {0, 1}) {
    std::array<std::vector<PetscInt>, 3> own;
    own[0] = {10};
    own[1] = {9};
    // 10 and 9 cells leave at least one for each of up to 8 ranks.
    std::vector<PetscInt> split(size_t(size), 1);
    split.back() = PetscInt(along == 0 ? 10 : 9) - (size - 1);
    own[size_t(along)] = split;
    CartesianGrid grid(PETSC_COMM_WORLD, params(2, 10, 9, 1, 2), own);
    EXPECT_EQ(grid.start(along), rank);
    EXPECT_EQ(grid.count(along), rank == size - 1 ? split.back() : 1);
    EXPECT_EQ(grid.start(1 - along), 0);
    EXPECT_EQ(grid.count(1 - along), along == 0 ? 9 : 10);
    EXPECT_EQ(grid.ownership(along), split);
    Field f(grid, "q");
    fill_owned(f);
    f.exchange_halos();
    expect_ghosted(f, 1.0, NAN, along == 0 ? "columns" : "rows");
  }
}

TEST(Grid, RefusesOwnershipRangesThatDoNotFit) {
  const int size = comm_size(PETSC_COMM_WORLD);
  const auto p = params(2, 10, 7, 1, 1);
  std::array<std::vector<PetscInt>, 3> own{std::vector<PetscInt>(size_t(size), 1),
                                           std::vector<PetscInt>{7}, std::vector<PetscInt>{}};
  own[0].back() = PetscInt(10 - size);  // one cell short of n[0]
  EXPECT_EQ(test::error_of<ConfigError>([&] { CartesianGrid(PETSC_COMM_WORLD, p, own); }),
            "grid: ownership[0] sums to 9 cells; expected n[0] = 10");
  own[0].back() += 1;
  own[1] = {7, 0};
  EXPECT_EQ(test::error_of<ConfigError>([&] { CartesianGrid(PETSC_COMM_WORLD, p, own); }),
            "grid: ownership[1][1] = 0; expected >= 1 cell");
  own[1] = {3, 4};
  EXPECT_EQ(test::error_of<ConfigError>([&] { CartesianGrid(PETSC_COMM_WORLD, p, own); }),
            "grid: the ownership ranges make " + std::to_string(2 * size) +
                " process boxes; expected the communicator's size, " + std::to_string(size));
  own[1] = {7};
  own[2] = {1};
  EXPECT_EQ(test::error_of<ConfigError>([&] { CartesianGrid(PETSC_COMM_WORLD, p, own); }),
            "grid: ownership[2] has 1 entries for an unused dimension (dim = 2); expected none");
}
