// Rank independence of the elliptic operator and KSP solves: the same problem solved on
// PETSC_COMM_WORLD (distributed) and on PETSC_COMM_SELF (every rank alone) must give the same
// discrete solution to the solver tolerance (the Krylov iterates differ in round-off and the
// preconditioners with the decomposition, so not bitwise). Also: the matrix itself is the same
// (bitwise), and hypre and block Jacobi + ICC converge in parallel. Run at 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/elliptic_problems.hpp"
#include "solvers/elliptic.hpp"

using namespace aeolus;

namespace {

using BK = BoundaryKind;

struct ProblemSetup {
  EllipticProblem p;
  physics::ManufacturedSolution m;
  bool variable_k = false;  // lognormal random permeability instead of k = 1
};

ProblemSetup make_setup(int dim, index_t n, Centering c,
                        const std::array<std::array<BK, 2>, 3>& kinds, real_t helmholtz,
                        bool variable_k) {
  ProblemSetup s;
  s.p.dim = dim;
  s.p.centering = c;
  s.p.helmholtz = helmholtz;
  s.p.lo = {0.0, -1.0, 0.0};
  s.p.hi = {1.0, 1.0, 0.5};
  for (int d = 0; d < 3; ++d) s.p.panels[size_t(d)] = d < dim ? n + 2 * d : 1;
  s.m.params.type = "mixed";
  s.m.dim = dim;
  s.m.lo = s.p.lo;
  s.m.hi = s.p.hi;
  s.variable_k = variable_k;
  for (int d = 0; d < dim; ++d)
    for (int side = 0; side < 2; ++side)
      s.p.boundary[size_t(d)][size_t(side)].kind = kinds[size_t(d)][size_t(side)];
  set_boundary_data(s.p, s.m);
  return s;
}

void fill(Field& f, const std::function<real_t(real_t, real_t, real_t)>& fn) {
  physics::fill_at_points(f, fn);
}

struct Solved {
  std::vector<real_t> u;  // gathered on rank 0 of the communicator
  SolveStats st;
  std::string described;
  std::string sub_pc;  // block Jacobi's sub-PC type on rank 0 of comm, if any
};

Solved solve_on(MPI_Comm comm, const ProblemSetup& s, const std::string& options,
                real_t rtol = 1e-12) {
  auto grid = make_elliptic_grid(comm, s.p);
  Field f(*grid, "f"), u(*grid, "u"), k(*grid, "k");
  const auto& m = s.m;
  // f from the k = 1 manufactured solution: with a random k the solution is not known, which
  // does not matter for comparing decompositions.
  fill(f, [&](real_t x, real_t y, real_t z) {
    return -m.laplacian(x, y, z) + s.p.helmholtz * m.u(x, y, z);
  });
  if (s.variable_k) {
    physics::DarcyPermeabilityParams kp;
    kp.type = "lognormal_grf";
    kp.sigma = 0.5;
    kp.seed = 7;
    physics::fill_permeability(kp, k);
  }
  EllipticOperator op(*grid, s.p, s.variable_k ? &k : nullptr);
  KspParams params;
  params.options = options;
  params.rtol = rtol;
  KspSolver ksp(op, params);
  u.fill(0.0);
  Solved out;
  out.st = ksp.solve(f, u);
  out.described = ksp.describe();
  PC pc = nullptr;
  KSPGetPC(ksp.ksp(), &pc);
  PetscBool bj = PETSC_FALSE;
  PetscObjectTypeCompare((PetscObject)pc, PCBJACOBI, &bj);
  if (bj) {
    KSP* sub = nullptr;
    PetscInt nsub = 0;
    PCBJacobiGetSubKSP(pc, &nsub, nullptr, &sub);
    PC subpc = nullptr;
    KSPGetPC(sub[0], &subpc);
    PCType t = nullptr;
    PCGetType(subpc, &t);
    out.sub_pc = t ? t : "";
  }
  out.u = u.gather_to_root();
  return out;
}

// max |a - b| / max |b| (on rank 0; 0 elsewhere).
real_t relative_difference(const std::vector<real_t>& a, const std::vector<real_t>& b) {
  if (a.size() != b.size()) return 1e300;
  real_t d = 0, m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::abs(a[i] - b[i]));
    m = std::max(m, std::abs(b[i]));
  }
  return m > 0 ? d / m : d;
}

void expect_rank_independent(const std::string& what, const ProblemSetup& s) {
  const Solved world = solve_on(PETSC_COMM_WORLD, s, "-ksp_type cg -pc_type gamg");
  const Solved self = solve_on(PETSC_COMM_SELF, s, "-ksp_type cg -pc_type gamg");
  EXPECT_TRUE(world.st.converged) << what << ": " << world.st.reason;
  EXPECT_TRUE(self.st.converged) << what << ": " << self.st.reason;
  EXPECT_LT(world.st.relative_residual(), 1e-11) << what;
  if (comm_rank(PETSC_COMM_WORLD) != 0) return;
  ASSERT_EQ(world.u.size(), self.u.size());
  const real_t d = relative_difference(world.u, self.u);
  std::printf("  %-40s %d ranks: %d its (1 rank: %d), max relative difference %.2e\n", what.c_str(),
              comm_size(PETSC_COMM_WORLD), world.st.iterations, self.st.iterations, d);
  EXPECT_LT(d, 1e-10) << what;
}

const std::array<std::array<BK, 2>, 3> mixed_kinds{
    {{BK::dirichlet, BK::neumann}, {BK::neumann, BK::dirichlet}, {BK::dirichlet, BK::neumann}}};
const std::array<std::array<BK, 2>, 3> dirichlet_periodic{
    {{BK::dirichlet, BK::neumann}, {BK::periodic, BK::periodic}, {BK::periodic, BK::periodic}}};
const std::array<std::array<BK, 2>, 3> all_neumann{
    {{BK::neumann, BK::neumann}, {BK::neumann, BK::neumann}, {BK::neumann, BK::neumann}}};

class RankIndependence : public ::testing::TestWithParam<Centering> {};

}  // namespace

TEST_P(RankIndependence, Mixed2dHelmholtz) {
  expect_rank_independent(std::string("2D mixed, c = 2, ") + centering_name(GetParam()),
                          make_setup(2, 40, GetParam(), mixed_kinds, 2.0, false));
}

TEST_P(RankIndependence, PeriodicY2dVariableK) {
  expect_rank_independent(
      std::string("2D D-N x periodic y, random k, ") + centering_name(GetParam()),
      make_setup(2, 40, GetParam(), dirichlet_periodic, 0.0, true));
}

TEST_P(RankIndependence, Neumann2dSingular) {
  expect_rank_independent(std::string("2D Neumann (singular), ") + centering_name(GetParam()),
                          make_setup(2, 32, GetParam(), all_neumann, 0.0, false));
}

TEST_P(RankIndependence, Mixed3d) {
  expect_rank_independent(std::string("3D mixed, c = 2, ") + centering_name(GetParam()),
                          make_setup(3, 16, GetParam(), mixed_kinds, 2.0, false));
}

TEST_P(RankIndependence, PeriodicYz3dVariableK) {
  expect_rank_independent(std::string("3D periodic y z, random k, ") + centering_name(GetParam()),
                          make_setup(3, 16, GetParam(), dirichlet_periodic, 0.0, true));
}

INSTANTIATE_TEST_SUITE_P(Elliptic, RankIndependence,
                         ::testing::Values(Centering::cell, Centering::vertex),
                         [](const auto& info) { return std::string(centering_name(info.param)); });

// The assembled matrix does not depend on the decomposition: A x for the same x (in natural
// order) agrees to round-off on every rank count (not bitwise: a parallel MatMult adds the
// off-process columns after the local ones).
TEST(EllipticMpi, OperatorIsRankIndependent) {
  for (Centering c : {Centering::cell, Centering::vertex}) {
    const ProblemSetup s = make_setup(2, 24, c, dirichlet_periodic, 1.5, true);
    std::vector<std::vector<real_t>> out;
    for (MPI_Comm comm : {PETSC_COMM_WORLD, PETSC_COMM_SELF}) {
      auto grid = make_elliptic_grid(comm, s.p);
      Field u(*grid, "u"), au(*grid, "Au"), k(*grid, "k");
      fill(u, [](real_t x, real_t y, real_t) { return std::sin(3 * x) * std::cos(2 * y) + x; });
      physics::DarcyPermeabilityParams kp;
      kp.seed = 3;
      physics::fill_permeability(kp, k);
      EllipticOperator op(*grid, s.p, &k);
      op.apply(u, au);
      out.push_back(au.gather_to_root());
    }
    if (comm_rank(PETSC_COMM_WORLD) == 0) {
      const real_t d = relative_difference(out[0], out[1]);
      EXPECT_LT(d, 1e-14) << centering_name(c);
    }
  }
}

// Other parallel preconditioners converge to the same solution.
TEST(EllipticMpi, HypreAndBlockJacobiIccConverge) {
  const ProblemSetup s = make_setup(2, 40, Centering::cell, mixed_kinds, 0.0, true);
  const Solved ref = solve_on(PETSC_COMM_SELF, s, "-ksp_type cg -pc_type gamg");
  const Solved hypre = solve_on(PETSC_COMM_WORLD, s, "-ksp_type cg -pc_type hypre", 1e-10);
  const Solved bjicc =
      solve_on(PETSC_COMM_WORLD, s, "-ksp_type cg -pc_type bjacobi -sub_pc_type icc", 1e-10);
  EXPECT_EQ(hypre.described, "cg + hypre");
  EXPECT_EQ(bjicc.described, "cg + bjacobi");
  EXPECT_EQ(bjicc.sub_pc, "icc");  // the sub-solver's option reached it through the prefix
  for (const Solved* r : {&hypre, &bjicc}) {
    EXPECT_TRUE(r->st.converged) << r->described << ": " << r->st.reason;
    EXPECT_LT(r->st.relative_residual(), 1e-10) << r->described;
    if (comm_rank(PETSC_COMM_WORLD) == 0) {
      const real_t d = relative_difference(r->u, ref.u);
      std::printf("  %-16s %d ranks: %d its, relative residual %.2e, difference to gamg %.2e\n",
                  r->described.c_str(), comm_size(PETSC_COMM_WORLD), r->st.iterations,
                  r->st.relative_residual(), d);
      EXPECT_LT(d, 1e-7) << r->described;
    }
  }
}

TEST(EllipticMpi, ProcessGridIsHonoured) {
  const int size = comm_size(PETSC_COMM_WORLD);
  ProblemSetup s = make_setup(2, 16, Centering::vertex, mixed_kinds, 0.0, false);
  s.p.procs = {1, size, 0};
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, s.p);
  EXPECT_EQ(grid->count(0), grid->n(0));  // one process along x
  const Solved r = solve_on(PETSC_COMM_WORLD, s, "-ksp_type cg -pc_type gamg");
  EXPECT_TRUE(r.st.converged);
}
