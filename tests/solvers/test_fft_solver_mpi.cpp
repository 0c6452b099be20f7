// FftSolver across ranks: the data move between the operator's DMDA decomposition and FFTW's
// slabs must be exact for any rank count and any process grid, so the solution gathered to
// rank 0 equals the one-rank answer (computed on PETSC_COMM_SELF inside the test) to round-off
// (FFTW may split the 1D transforms differently per slab, so not bitwise), and the true
// residual is at round-off level. Grid sizes leave uneven slabs; in 1D all ranks but 0 are empty.
// Run at 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "grids/petsc_util.hpp"
#include "solvers/fft_solver.hpp"

using namespace aeolus;

namespace {

using BK = BoundaryKind;
constexpr BK P = BK::periodic, D = BK::dirichlet, N = BK::neumann;

EllipticProblem make_problem(int dim, Centering centering, const std::array<index_t, 3>& panels,
                             const std::array<std::array<BK, 2>, 3>& kinds, real_t c) {
  EllipticProblem p;
  p.dim = dim;
  p.centering = centering;
  p.helmholtz = c;
  p.panels = panels;
  p.lo = {0.0, -1.0, 0.5};
  p.hi = {2.0, 0.5, 1.5};
  for (int d = 0; d < 3; ++d) {
    for (int s = 0; s < 2; ++s) p.boundary[d][s].kind = d < dim ? kinds[d][s] : P;
  }
  return p;
}

std::string describe(const EllipticProblem& p) {
  std::string s = std::to_string(p.dim) + "D " + centering_name(p.centering) + " [";
  for (int d = 0; d < p.dim; ++d) {
    s += std::string(d ? " " : "") + boundary_kind_name(p.boundary[d][0].kind) + "/" +
         boundary_kind_name(p.boundary[d][1].kind);
  }
  s += "] c=" + std::to_string(p.helmholtz) + " procs {";
  for (int d = 0; d < 3; ++d) s += std::to_string(p.procs[d]) + (d < 2 ? "," : "}");
  return s;
}

// Seeded right side in natural order, the same on every rank and every decomposition.
std::vector<real_t> random_values(index_t n, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<real_t> u(-1.0, 1.0);
  std::vector<real_t> v(static_cast<size_t>(n));
  for (real_t& x : v) x = u(gen);
  return v;
}

struct Result {
  std::vector<real_t> x;  // natural order, on rank 0 of the communicator
  real_t relative_residual = 0;
  real_t mean = 0;               // of x
  bool repeat_identical = true;  // a second solve with the same plans gives the same bits
};

Result solve(MPI_Comm comm, const EllipticProblem& p, unsigned seed) {
  auto grid = make_elliptic_grid(comm, p);
  EllipticOperator op(*grid, p);
  Field f(*grid, "b"), u(*grid, "x");
  {
    const std::vector<real_t> values = random_values(grid->global_cells(), seed);
    FieldView v = f.view();
    for (index_t k = 0; k < grid->count(2); ++k) {
      for (index_t j = 0; j < grid->count(1); ++j) {
        for (index_t i = 0; i < grid->count(0); ++i) {
          const index_t m = (grid->start(0) + i) +
                            grid->n(0) * ((grid->start(1) + j) + grid->n(1) * (grid->start(2) + k));
          v(i, j, k) = values[size_t(m)];
        }
      }
    }
  }
  Vec b = op.create_vector(), x = nullptr, x2 = nullptr, other = nullptr;
  AEOLUS_PETSC(VecDuplicate(b, &x));
  AEOLUS_PETSC(VecDuplicate(b, &x2));
  AEOLUS_PETSC(VecDuplicate(b, &other));
  op.to_vec(f, b);
  if (op.singular()) {
    PetscScalar sum = 0;
    AEOLUS_PETSC(VecSum(b, &sum));
    AEOLUS_PETSC(VecShift(b, -sum / PetscScalar(grid->global_cells())));
  }
  FftSolver fft(op);
  Result r;
  r.relative_residual = fft.solve(b, x).relative_residual();
  // Another right side in between, then the first again: plans and buffers are reusable.
  AEOLUS_PETSC(VecCopy(b, other));
  AEOLUS_PETSC(VecScale(other, -3.0));
  fft.solve(other, x2);
  fft.solve(b, x2);
  PetscBool equal = PETSC_FALSE;
  AEOLUS_PETSC(VecEqual(x, x2, &equal));
  r.repeat_identical = equal == PETSC_TRUE;
  PetscScalar sum = 0;
  AEOLUS_PETSC(VecSum(x, &sum));
  r.mean = sum / real_t(grid->global_cells());
  op.from_vec(x, u);
  r.x = u.gather_to_root();
  VecDestroy(&other);
  VecDestroy(&x2);
  VecDestroy(&x);
  VecDestroy(&b);
  return r;
}

void expect_matches_one_rank(const EllipticProblem& p) {
  SCOPED_TRACE(describe(p));
  const unsigned seed = 2024;
  const Result world = solve(PETSC_COMM_WORLD, p, seed);
  EXPECT_LT(world.relative_residual, 1e-11);
  EXPECT_TRUE(world.repeat_identical);
  if (comm_rank(PETSC_COMM_WORLD) != 0) return;
  EllipticProblem one_rank = p;
  one_rank.procs = {0, 0, 0};  // a process grid for the world would not fit one rank
  const Result self = solve(PETSC_COMM_SELF, one_rank, seed);
  ASSERT_EQ(world.x.size(), self.x.size());
  real_t scale = 0, diff = 0;
  for (size_t m = 0; m < self.x.size(); ++m) {
    scale = std::max(scale, std::abs(self.x[m]));
    diff = std::max(diff, std::abs(world.x[m] - self.x[m]));
  }
  EXPECT_GT(scale, 0.0);
  EXPECT_LE(diff, 1e-12 * scale);
  if (p.singular()) {
    EXPECT_LE(std::abs(world.mean), 1e-13 * scale);
  }
}

// Process grids to try at the current rank count: PETSc's choice and every slab-like split.
std::vector<std::array<int, 3>> process_grids(int dim) {
  const int size = comm_size(PETSC_COMM_WORLD);
  std::vector<std::array<int, 3>> out{{0, 0, 0}};
  if (size == 1) return out;
  for (int d = 0; d < dim; ++d) {
    std::array<int, 3> g{1, 1, 1};
    g[size_t(d)] = size;
    for (int e = dim; e < 3; ++e) g[size_t(e)] = 1;
    out.push_back(g);
  }
  if (size == 4 && dim == 3) {
    out.push_back({2, 2, 1});
    out.push_back({1, 2, 2});
  }
  return out;
}

void run_all_process_grids(EllipticProblem p) {
  for (const auto& procs : process_grids(p.dim)) {
    p.procs = procs;
    expect_matches_one_rank(p);
  }
}

}  // namespace

TEST(FftSolverMpi, TwoDimensional) {
  const std::array<index_t, 3> panels{64, 48, 1};
  run_all_process_grids(make_problem(2, Centering::cell, panels, {{{P, P}, {D, D}}}, 0.0));
  run_all_process_grids(make_problem(2, Centering::cell, panels, {{{N, D}, {D, N}}}, 2.0));
  run_all_process_grids(make_problem(2, Centering::cell, panels, {{{N, N}, {N, N}}}, 0.0));
  run_all_process_grids(make_problem(2, Centering::vertex, panels, {{{D, N}, {N, N}}}, 0.0));
  run_all_process_grids(make_problem(2, Centering::vertex, panels, {{{D, D}, {P, P}}}, 2.0));
  run_all_process_grids(make_problem(2, Centering::vertex, panels, {{{P, P}, {P, P}}}, 0.0));
  // Cell counts that no rank count divides.
  run_all_process_grids(make_problem(2, Centering::cell, {61, 45, 1}, {{{D, D}, {P, P}}}, 0.0));
  run_all_process_grids(make_problem(2, Centering::vertex, {61, 45, 1}, {{{N, D}, {D, N}}}, 2.0));
}

TEST(FftSolverMpi, ThreeDimensional) {
  const std::array<index_t, 3> panels{16, 12, 20};
  run_all_process_grids(make_problem(3, Centering::cell, panels, {{{P, P}, {D, D}, {N, N}}}, 0.0));
  run_all_process_grids(make_problem(3, Centering::cell, panels, {{{D, N}, {N, D}, {P, P}}}, 2.0));
  run_all_process_grids(
      make_problem(3, Centering::vertex, panels, {{{D, N}, {P, P}, {N, D}}}, 2.0));
  run_all_process_grids(
      make_problem(3, Centering::vertex, panels, {{{N, N}, {N, N}, {N, N}}}, 0.0));
  run_all_process_grids(
      make_problem(3, Centering::vertex, panels, {{{D, D}, {D, D}, {D, D}}}, 0.0));
}

// One dimension: rank 0 does the (serial) transform; the others only send and receive.
TEST(FftSolverMpi, OneDimensional) {
  run_all_process_grids(make_problem(1, Centering::cell, {50, 1, 1}, {{{D, N}}}, 0.0));
  run_all_process_grids(make_problem(1, Centering::vertex, {50, 1, 1}, {{{P, P}}}, 0.0));
  run_all_process_grids(make_problem(1, Centering::vertex, {50, 1, 1}, {{{N, N}}}, 2.0));
}
