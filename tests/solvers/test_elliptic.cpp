// The elliptic operator and the KSP solver, serially: second-order convergence to manufactured
// solutions (both centrings, every boundary kind, Helmholtz term, variable coefficient, 2D and
// 3D), FISHPACK's HWSCRT reference error, symmetry, the singular (pure Neumann) case, options
// pass-through and precedence, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "common/error_of.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/elliptic_problems.hpp"
#include "solvers/elliptic.hpp"

using namespace aeolus;

namespace {

constexpr real_t pi = 3.14159265358979323846;
using BK = BoundaryKind;
using Fn = std::function<real_t(real_t, real_t, real_t)>;

// A variable coefficient with its gradient (for the manufactured f = -k lap u - grad k . grad u).
struct Coefficient {
  Fn k;
  std::array<Fn, 3> dk;
};

struct Case {
  EllipticProblem p;
  physics::ManufacturedSolution m;
  const Coefficient* coef = nullptr;  // nullptr: k = 1
};

// The box [lo, hi] with kinds[d] = {low, high}; boundary data from the manufactured solution.
Case make_case(int dim, index_t n, Centering c, const std::array<std::array<BK, 2>, 3>& kinds,
               const std::string& type, real_t helmholtz = 0.0) {
  Case k;
  EllipticProblem& p = k.p;
  p.dim = dim;
  p.centering = c;
  p.helmholtz = helmholtz;
  p.lo = {0.0, -0.5, 0.25};
  p.hi = {1.0, 1.0, 1.5};
  for (int d = 0; d < 3; ++d) p.panels[size_t(d)] = d < dim ? n : 1;
  k.m.params.type = type;
  k.m.dim = dim;
  k.m.lo = p.lo;
  k.m.hi = p.hi;
  for (int d = 0; d < dim; ++d)
    for (int side = 0; side < 2; ++side)
      p.boundary[size_t(d)][size_t(side)].kind = kinds[size_t(d)][size_t(side)];
  set_boundary_data(p, k.m);
  return k;
}

void fill(Field& f, const Fn& fn) { physics::fill_at_points(f, fn); }

struct Errors {
  real_t max = 0, l2 = 0;
  SolveStats st;
  real_t compatibility = 0;
};

KspParams tight(const std::string& options = "-ksp_type cg -pc_type gamg") {
  KspParams kp;
  kp.options = options;
  kp.rtol = 1e-12;
  return kp;
}

// Solves the case and measures u - u_exact at the unknowns (singular: means removed).
Errors solve_case(const Case& c, const KspParams& kp = tight()) {
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, c.p);
  Field f(*grid, "f"), u(*grid, "u"), exact(*grid, "exact"), k(*grid, "k");
  const auto& m = c.m;
  const real_t c0 = c.p.helmholtz;
  if (c.coef) {
    const Coefficient& q = *c.coef;
    fill(k, q.k);
    fill(f, [&](real_t x, real_t y, real_t z) {
      real_t gk = 0;
      for (int d = 0; d < c.p.dim; ++d) gk += q.dk[size_t(d)](x, y, z) * m.du(d, x, y, z);
      return -q.k(x, y, z) * m.laplacian(x, y, z) - gk + c0 * m.u(x, y, z);
    });
  } else {
    fill(f,
         [&](real_t x, real_t y, real_t z) { return -m.laplacian(x, y, z) + c0 * m.u(x, y, z); });
  }
  fill(exact, [&](real_t x, real_t y, real_t z) { return m.u(x, y, z); });
  EllipticOperator op(*grid, c.p, c.coef ? &k : nullptr);
  Errors e;
  Vec b = op.create_vector(), x = op.create_vector();
  op.rhs(f, b, &e.compatibility);
  VecSet(x, 0.0);
  KspSolver ksp(op, kp);
  e.st = ksp.solve(b, x);
  op.from_vec(x, u);
  VecDestroy(&b);
  VecDestroy(&x);
  auto uv = u.view();
  const auto ev = exact.view();
  for (index_t l = 0; l < grid->count(2); ++l)
    for (index_t j = 0; j < grid->count(1); ++j)
      for (index_t i = 0; i < grid->count(0); ++i) uv(i, j, l) -= ev(i, j, l);
  const real_t n = real_t(grid->global_cells());
  const real_t mean = c.p.singular() ? u.sum() / n : 0.0;
  real_t s2 = 0, mx = 0;
  for (index_t l = 0; l < grid->count(2); ++l)
    for (index_t j = 0; j < grid->count(1); ++j)
      for (index_t i = 0; i < grid->count(0); ++i) {
        const real_t d = uv(i, j, l) - mean;
        s2 += d * d;
        mx = std::max(mx, std::abs(d));
      }
  MPI_Allreduce(MPI_IN_PLACE, &s2, 1, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD);
  e.max = mx;
  e.l2 = std::sqrt(s2 / n);
  return e;
}

// Observed orders in the max and L2 norms between n and 2n; both solves must converge.
void expect_second_order(const std::string& what, const std::function<Case(index_t)>& make,
                         index_t n, real_t min_order = 1.95) {
  const Errors a = solve_case(make(n)), b = solve_case(make(2 * n));
  EXPECT_TRUE(a.st.converged) << what << ": " << a.st.reason;
  EXPECT_TRUE(b.st.converged) << what << ": " << b.st.reason;
  EXPECT_LT(a.st.relative_residual(), 1e-11) << what;
  EXPECT_LT(b.st.relative_residual(), 1e-11) << what;
  const real_t order_max = std::log2(a.max / b.max), order_l2 = std::log2(a.l2 / b.l2);
  std::printf(
      "  %-44s n=%3d: max %.3e L2 %.3e | 2n: max %.3e L2 %.3e | order max %.3f L2 %.3f"
      " (%d, %d its)\n",
      what.c_str(), int(n), a.max, a.l2, b.max, b.l2, order_max, order_l2, a.st.iterations,
      b.st.iterations);
  EXPECT_GE(std::max(order_max, order_l2), min_order) << what;
  EXPECT_GE(order_l2, min_order - 0.1) << what;
  EXPECT_GE(order_max, min_order - 0.1) << what;
}

const std::array<std::array<BK, 2>, 3> all_dirichlet{{{BK::dirichlet, BK::dirichlet},
                                                      {BK::dirichlet, BK::dirichlet},
                                                      {BK::dirichlet, BK::dirichlet}}};
const std::array<std::array<BK, 2>, 3> all_neumann{
    {{BK::neumann, BK::neumann}, {BK::neumann, BK::neumann}, {BK::neumann, BK::neumann}}};
const std::array<std::array<BK, 2>, 3> all_periodic{
    {{BK::periodic, BK::periodic}, {BK::periodic, BK::periodic}, {BK::periodic, BK::periodic}}};
// Every combination on one face pair or another: D-N along x, N-D along y, D-D along z.
const std::array<std::array<BK, 2>, 3> mixed_kinds{
    {{BK::dirichlet, BK::neumann}, {BK::neumann, BK::dirichlet}, {BK::dirichlet, BK::dirichlet}}};

class Centred : public ::testing::TestWithParam<Centering> {};

std::string name(const std::string& what) {
  return what + " (" + centering_name(::testing::TestWithParam<Centering>::GetParam()) + ")";
}

}  // namespace

TEST_P(Centred, DirichletSine2d) {
  const Centering c = GetParam();
  expect_second_order(
      name("2D Dirichlet, sine"),
      [&](index_t n) { return make_case(2, n, c, all_dirichlet, "sine"); }, 32);
}

TEST_P(Centred, NeumannCosine2dSingular) {
  const Centering c = GetParam();
  expect_second_order(
      name("2D Neumann, cosine (singular)"),
      [&](index_t n) { return make_case(2, n, c, all_neumann, "cosine"); }, 32);
}

TEST_P(Centred, Periodic2d) {
  const Centering c = GetParam();
  // Periodic and singular: a Helmholtz term keeps one case definite, the other is singular.
  expect_second_order(
      name("2D periodic (singular)"),
      [&](index_t n) { return make_case(2, n, c, all_periodic, "periodic"); }, 32);
  expect_second_order(
      name("2D periodic, c = 1"),
      [&](index_t n) { return make_case(2, n, c, all_periodic, "periodic", 1.0); }, 32);
}

TEST_P(Centred, MixedHelmholtz2d) {
  const Centering c = GetParam();
  expect_second_order(
      name("2D mixed D/N data, c = 2"),
      [&](index_t n) { return make_case(2, n, c, mixed_kinds, "mixed", 2.0); }, 32);
}

TEST_P(Centred, MixedNeumannOnlyData2d) {
  // Neumann on three faces and Dirichlet on one: most of the solution is fixed by flux data.
  const Centering c = GetParam();
  const std::array<std::array<BK, 2>, 3> kinds{
      {{BK::neumann, BK::neumann}, {BK::dirichlet, BK::neumann}, {BK::neumann, BK::neumann}}};
  expect_second_order(
      name("2D three Neumann faces, mixed"),
      [&](index_t n) { return make_case(2, n, c, kinds, "mixed"); }, 32);
}

TEST_P(Centred, Mixed3d) {
  const Centering c = GetParam();
  expect_second_order(
      name("3D mixed D/N data, c = 2"),
      [&](index_t n) { return make_case(3, n, c, mixed_kinds, "mixed", 2.0); }, 16);
}

TEST_P(Centred, Dirichlet1d) {
  const Centering c = GetParam();
  expect_second_order(
      name("1D D-N, mixed"), [&](index_t n) { return make_case(1, n, c, mixed_kinds, "mixed"); },
      32);
}

TEST_P(Centred, VariableCoefficient2d) {
  const Centering c = GetParam();
  // k = 1 + 0.5 sin(2 pi x) cos(pi y): smooth, between 1/2 and 3/2, not separable.
  Coefficient q;
  q.k = [](real_t x, real_t y, real_t) {
    return 1.0 + 0.5 * std::sin(2 * pi * x) * std::cos(pi * y);
  };
  q.dk[0] = [](real_t x, real_t y, real_t) { return pi * std::cos(2 * pi * x) * std::cos(pi * y); };
  q.dk[1] = [](real_t x, real_t y, real_t) {
    return -0.5 * pi * std::sin(2 * pi * x) * std::sin(pi * y);
  };
  q.dk[2] = [](real_t, real_t, real_t) { return 0.0; };
  expect_second_order(
      name("2D variable k, Dirichlet, sine"),
      [&](index_t n) {
        Case k = make_case(2, n, c, all_dirichlet, "sine");
        k.coef = &q;
        return k;
      },
      32);
  // Zero-flux Neumann faces (the face value of k does not enter), singular.
  expect_second_order(
      name("2D variable k, Neumann, cosine"),
      [&](index_t n) {
        Case k = make_case(2, n, c, all_neumann, "cosine");
        k.coef = &q;
        return k;
      },
      32);
  // Nonzero Neumann data: the flux k du/dn needs k on the face. Vertex-centred it is the
  // vertex's own value; cell-centred it comes from BoundaryCondition::face_k (without it the
  // cell's value half a cell away is an O(h) flux error: first order, see elliptic.hpp).
  expect_second_order(
      name("2D variable k, mixed D/N, c = 2"),
      [&](index_t n) {
        Case k = make_case(2, n, c, mixed_kinds, "mixed", 2.0);
        k.coef = &q;
        if (c == Centering::cell)
          for (auto& axis : k.p.boundary)
            for (auto& bc : axis)
              if (bc.kind == BK::neumann) bc.face_k = q.k;
        return k;
      },
      32);
}

INSTANTIATE_TEST_SUITE_P(Elliptic, Centred, ::testing::Values(Centering::cell, Centering::vertex),
                         [](const auto& info) { return std::string(centering_name(info.param)); });

// FISHPACK's thwscrt.f: HWSCRT solves u_xx + u_yy - 4 u = g with the 5-point scheme and a
// mirror ghost at the Neumann face; thwscrt prints a max discretisation error of 5.36508e-4.
// The same discrete problem (vertex-centred, Dirichlet x = 0, Neumann x = 2, periodic y,
// 40 x 80 panels, k = 1, c = 4, f = -g) must give the same error.
TEST(Elliptic, FishpackHwscrt) {
  using physics::FishpackHwscrt;
  EllipticProblem p;
  p.dim = 2;
  p.panels = {40, 80, 1};
  p.lo = {0.0, -1.0, 0.0};
  p.hi = {2.0, 3.0, 1.0};
  p.centering = Centering::vertex;
  p.helmholtz = -FishpackHwscrt::lambda;
  p.boundary[0][0] = {
      BK::dirichlet, [](real_t x, real_t y, real_t) { return FishpackHwscrt::exact(x, y); }, {}};
  p.boundary[0][1] = {
      BK::neumann, [](real_t, real_t y, real_t) { return FishpackHwscrt::neumann_x2(y); }, {}};
  p.boundary[1][0] = {BK::periodic, {}, {}};
  p.boundary[1][1] = {BK::periodic, {}, {}};
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, p);
  EXPECT_EQ(grid->n(0), 40);  // x = 0.05 .. 2 (x = 0 is the Dirichlet vertex)
  EXPECT_EQ(grid->n(1), 80);  // y = -1 .. 2.95 (y = 3 is y = -1)
  EXPECT_NEAR(grid->center(0, 0), 0.05, 1e-14);
  EXPECT_NEAR(grid->center(0, 39), 2.0, 1e-14);
  EXPECT_NEAR(grid->center(1, 0), -1.0, 1e-14);
  Field f(*grid, "f"), u(*grid, "u");
  fill(f, [](real_t x, real_t y, real_t) { return -FishpackHwscrt::source(x, y); });
  EllipticOperator op(*grid, p);
  KspSolver ksp(op, tight());
  u.fill(0.0);
  const SolveStats st = ksp.solve(f, u);
  EXPECT_TRUE(st.converged) << st.reason;
  real_t err = 0;
  const auto uv = u.view();
  for (index_t j = 0; j < grid->count(1); ++j)
    for (index_t i = 0; i < grid->count(0); ++i) {
      const real_t x = grid->center(0, grid->start(0) + i), y = grid->center(1, grid->start(1) + j);
      err = std::max(err, std::abs(uv(i, j) - FishpackHwscrt::exact(x, y)));
    }
  std::printf("  FISHPACK HWSCRT: max error %.6e (FISHPACK: %.6e), %d iterations (%s)\n", err,
              FishpackHwscrt::documented_error, st.iterations, ksp.describe().c_str());
  EXPECT_NEAR(err, FishpackHwscrt::documented_error, 0.01 * FishpackHwscrt::documented_error);
}

namespace {
// ||A - A^T||_inf / ||A||_inf computed from an explicit transpose (MatIsSymmetric trusts the
// MAT_SYMMETRIC flag that the operator sets).
real_t asymmetry(Mat A) {
  Mat At = nullptr;
  MatTranspose(A, MAT_INITIAL_MATRIX, &At);
  MatAXPY(At, -1.0, A, DIFFERENT_NONZERO_PATTERN);
  PetscReal d = 0, a = 0;
  MatNorm(At, NORM_INFINITY, &d);
  MatNorm(A, NORM_INFINITY, &a);
  MatDestroy(&At);
  return d / a;
}
}  // namespace

TEST(Elliptic, MatrixIsSymmetricWithRowScaling) {
  for (Centering c : {Centering::cell, Centering::vertex}) {
    for (int dim : {2, 3}) {
      Case k = make_case(dim, 6, c, mixed_kinds, "mixed", 0.5);
      k.p.boundary[0][1].kind = BK::neumann;
      k.p.boundary[1][0].kind = BK::neumann;
      auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
      Field kf(*grid, "k");
      fill(kf, [](real_t x, real_t y, real_t z) { return 1.0 + x * x + 0.5 * y + 0.1 * z; });
      EllipticOperator op(*grid, k.p, &kf);
      EXPECT_FALSE(op.constant_coefficient());
      EXPECT_LT(asymmetry(op.matrix()), 1e-15) << centering_name(c) << " dim " << dim;
      PetscBool sym = PETSC_FALSE;
      MatIsSymmetric(op.matrix(), 0.0, &sym);
      EXPECT_TRUE(sym);
      // Row scaling: vertex-centred rows on Neumann faces are halved once per face.
      Field s(*grid, "scale");
      op.row_scale(s);
      if (c == Centering::cell) {
        EXPECT_EQ(s.min(), 1.0);
        EXPECT_EQ(s.max(), 1.0);
      } else {
        // x: D-N, y: N-D (z: D-D): the corner x = hi, y = lo lies on two Neumann faces.
        EXPECT_EQ(s.min(), 0.25);
        EXPECT_EQ(s.max(), 1.0);
        // 6 x 6 (x 5 in 3D) unknowns: 10 rows per z-level at 1/2, the corner at 1/4.
        const real_t nz = dim == 3 ? 5 : 1;
        EXPECT_EQ(s.sum(), real_t(grid->global_cells()) - 5.75 * nz);
      }
    }
  }
}

TEST(Elliptic, ConstantFieldCoefficientIsRecognised) {
  Case k = make_case(2, 8, Centering::cell, all_dirichlet, "sine");
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  Field kf(*grid, "k");
  kf.fill(2.5);
  EllipticOperator op(*grid, k.p, &kf);
  EXPECT_TRUE(op.constant_coefficient());
  EXPECT_EQ(op.constant_k(), 2.5);
  // 2.5 times the k = 1 matrix.
  EllipticOperator one(*grid, k.p);
  Mat d = nullptr;
  MatDuplicate(one.matrix(), MAT_COPY_VALUES, &d);
  MatAXPY(d, -1.0 / 2.5, op.matrix(), SAME_NONZERO_PATTERN);
  PetscReal nd = 0;
  MatNorm(d, NORM_INFINITY, &nd);
  MatDestroy(&d);
  EXPECT_LT(nd, 1e-12);
  kf.fill(-1.0);
  EXPECT_THROW(EllipticOperator(*grid, k.p, &kf), ConfigError);
}

TEST(Elliptic, SingularNeumannSolveHasZeroMeanAndReportsCompatibility) {
  for (Centering c : {Centering::cell, Centering::vertex}) {
    Case k = make_case(2, 32, c, all_neumann, "cosine");
    ASSERT_TRUE(k.p.singular());
    const Errors e = solve_case(k);
    EXPECT_TRUE(e.st.converged) << e.st.reason;
    // The discrete data are compatible only up to the discretisation error.
    EXPECT_LT(e.compatibility, 1e-2) << centering_name(c);
    // An incompatible right side (f + 1) is projected, reported and still solved.
    auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
    EllipticOperator op(*grid, k.p);
    EXPECT_TRUE(op.singular());
    Field f(*grid, "f"), u(*grid, "u");
    fill(f, [&](real_t x, real_t y, real_t z) { return 1.0 - k.m.laplacian(x, y, z); });
    Vec b = op.create_vector(), x = op.create_vector();
    real_t compat = 0;
    op.rhs(f, b, &compat);
    EXPECT_GT(compat, 0.1) << centering_name(c);
    PetscScalar bsum = 0;
    VecSum(b, &bsum);
    EXPECT_NEAR(bsum, 0.0, 1e-9);
    VecSet(x, 3.0);  // a nonzero initial guess with a mean
    KspSolver ksp(op, tight());
    const SolveStats st = ksp.solve(b, x);
    EXPECT_TRUE(st.converged) << st.reason;
    EXPECT_LT(st.relative_residual(), 1e-11);
    PetscScalar xsum = 0;
    PetscReal xnorm = 0;
    VecSum(x, &xsum);
    VecNorm(x, NORM_2, &xnorm);
    EXPECT_LT(std::abs(xsum), 1e-12 * xnorm * real_t(grid->global_cells()));
    VecDestroy(&b);
    VecDestroy(&x);
  }
}

// The 32 x 32 cell-centred Dirichlet sine problem with its right side, for the solver tests.
struct SineProblem {
  Case k = make_case(2, 32, Centering::cell, all_dirichlet, "sine");
  std::unique_ptr<CartesianGrid> grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EllipticOperator op{*grid, k.p};
  Field f{*grid, "f"}, u{*grid, "u"};
  SineProblem() { fill(f, [&](real_t x, real_t y, real_t z) { return -k.m.laplacian(x, y, z); }); }
};

// Jacobi as a PCSHELL whose output changes sign on chosen applications: a deterministic
// Krylov breakdown (CG sees (r, B r) < 0: DIVERGED_INDEFINITE_PC), wherever the round-off of
// the machine would put one.
struct FlippingJacobi {
  Vec inv_diag = nullptr;
  int calls = 0;
  int flip_from = 0, flip_to = 0;  // applications [flip_from, flip_to) return -D^-1 r
  bool alternate = false;          // ... only every other one of them
  static PetscErrorCode apply(PC pc, Vec r, Vec z) {
    FlippingJacobi* self = nullptr;
    PetscCall(PCShellGetContext(pc, &self));
    PetscCall(VecPointwiseMult(z, self->inv_diag, r));
    if (self->calls >= self->flip_from && self->calls < self->flip_to &&
        (!self->alternate || (self->calls - self->flip_from) % 2 == 0))
      PetscCall(VecScale(z, -1.0));
    ++self->calls;
    return 0;
  }
};

void use_flipping_jacobi(KspSolver& ksp, const EllipticOperator& op, FlippingJacobi& fj) {
  fj.inv_diag = op.create_vector();
  ASSERT_EQ(MatGetDiagonal(op.matrix(), fj.inv_diag), 0);
  ASSERT_EQ(VecReciprocal(fj.inv_diag), 0);
  PC pc = nullptr;
  ASSERT_EQ(KSPGetPC(ksp.ksp(), &pc), 0);
  ASSERT_EQ(PCSetType(pc, PCSHELL), 0);
  ASSERT_EQ(PCShellSetContext(pc, &fj), 0);
  ASSERT_EQ(PCShellSetApply(pc, &FlippingJacobi::apply), 0);
}

TEST(Elliptic, KrylovBreakdownRestartsFromTheIterateAndIsJudgedByTheTrueResidual) {
  SineProblem sp;
  EllipticOperator& op = sp.op;
  Field &f = sp.f, &u = sp.u;
  KspParams kp = tight("-ksp_type cg");
  kp.rtol = 1e-10;
  {
    // One bad application at the 6th: CG stops early; the solver restarts from that iterate
    // (a fresh Krylov space, a good preconditioner again) and converges.
    KspSolver ksp(op, kp);
    FlippingJacobi fj;
    fj.flip_from = 5;
    fj.flip_to = 6;
    use_flipping_jacobi(ksp, op, fj);
    u.fill(0.0);
    const SolveStats st = ksp.solve(f, u);
    EXPECT_TRUE(st.converged) << st.reason;
    EXPECT_NE(st.reason.find("after a restart on DIVERGED_INDEFINITE_PC"), std::string::npos)
        << st.reason;
    EXPECT_LE(st.relative_residual(), 1e-10);
    EXPECT_GT(st.iterations, 5);  // the iterations before the breakdown are counted too
    VecDestroy(&fj.inv_diag);
  }
  {
    // A breakdown whose iterate already meets the tolerance is a converged solve. PETSc is told
    // to go on to 1e-14 (-ksp_rtol wins over KspParams::rtol = 1e-10); the preconditioner turns
    // indefinite once the residual is below 1e-12 (found from the history of a clean solve).
    KspParams kh = kp;
    kh.options = "-ksp_type cg -ksp_rtol 1e-14";
    kh.record_history = true;
    int calls_to_1e12 = 0;
    {
      KspSolver ksp(op, kh);
      FlippingJacobi fj;
      use_flipping_jacobi(ksp, op, fj);
      u.fill(0.0);
      const SolveStats st = ksp.solve(f, u);
      ASSERT_TRUE(st.converged) << st.reason;
      for (real_t h : st.history) {
        if (h < 1e-12) break;
        ++calls_to_1e12;
      }
      ASSERT_LT(calls_to_1e12 + 5, int(st.history.size()));  // converges well past 1e-12
      VecDestroy(&fj.inv_diag);
    }
    KspSolver ksp(op, kh);
    FlippingJacobi fj;
    fj.flip_from = calls_to_1e12 + 1;
    fj.flip_to = 1 << 30;
    use_flipping_jacobi(ksp, op, fj);
    u.fill(0.0);
    const SolveStats st = ksp.solve(f, u);
    EXPECT_TRUE(st.converged) << st.reason;
    EXPECT_NE(st.reason.find("CONVERGED_TRUE_RESIDUAL"), std::string::npos) << st.reason;
    EXPECT_NE(st.reason.find("DIVERGED_INDEFINITE_PC"), std::string::npos) << st.reason;
    EXPECT_LE(st.relative_residual(), 1e-11);
    EXPECT_GT(st.relative_residual(), 1e-14);
    VecDestroy(&fj.inv_diag);
  }
  {
    // A preconditioner that is indefinite for good (the sign alternates from one application
    // to the next): the restarts do not shrink the residual, and the solve fails with the
    // reason, the residual and the tolerance.
    KspSolver ksp(op, kp);
    FlippingJacobi fj;
    fj.flip_to = 1 << 30;
    fj.alternate = true;
    use_flipping_jacobi(ksp, op, fj);
    u.fill(0.0);
    const std::string msg = test::error_of<NumericsError>([&] { ksp.solve(f, u); });
    EXPECT_NE(msg.find("DIVERGED_INDEFINITE_PC"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tolerance 1e-10"), std::string::npos) << msg;
    EXPECT_NE(msg.find("restarts from the last iterate did not help"), std::string::npos) << msg;
    VecDestroy(&fj.inv_diag);
  }
}

TEST(Elliptic, SingularProblemsDefaultToAPseudoInverseCoarseSolveUnlessTold) {
  Case k = make_case(2, 32, Centering::cell, all_neumann, "cosine");
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EllipticOperator op(*grid, k.p);
  ASSERT_TRUE(op.singular());
  const auto coarse_pc = [](const KspSolver& ksp) {
    PC pc = nullptr, coarse = nullptr;
    KSP kc = nullptr;
    PCType t = nullptr;
    EXPECT_EQ(KSPGetPC(ksp.ksp(), &pc), 0);
    EXPECT_EQ(PCMGGetCoarseSolve(pc, &kc), 0);
    EXPECT_EQ(KSPGetPC(kc, &coarse), 0);
    EXPECT_EQ(PCGetType(coarse, &t), 0);
    return std::string(t ? t : "");
  };
  EXPECT_EQ(coarse_pc(KspSolver(op, tight())), "svd");
  EXPECT_EQ(coarse_pc(KspSolver(op, tight("-ksp_type cg -pc_type gamg -mg_coarse_pc_type jacobi"))),
            "jacobi");
  // A regular problem keeps GAMG's own coarse solver.
  Case d = make_case(2, 32, Centering::cell, all_dirichlet, "sine");
  auto gd = make_elliptic_grid(PETSC_COMM_WORLD, d.p);
  EllipticOperator od(*gd, d.p);
  EXPECT_NE(coarse_pc(KspSolver(od, tight())), "svd");
}

// KSP progress lines through a monitor: none for a solve shorter than progress_seconds, and with
// a tiny interval one per iteration with the relative residual of the history.
TEST(Elliptic, KspProgressLinesNameTheIterationAndResidual) {
  SineProblem sp;
  EllipticOperator& op = sp.op;
  Field &f = sp.f, &u = sp.u;
  std::vector<std::string> lines;
  KspParams kp = tight("-ksp_type cg -pc_type jacobi");
  kp.rtol = 1e-8;
  kp.record_history = true;
  kp.progress = [&](const std::string& l) { lines.push_back(l); };
  {
    KspSolver ksp(op, kp);
    u.fill(0.0);
    ksp.solve(f, u);
    EXPECT_TRUE(lines.empty()) << lines.front();  // far below the default 10 s
  }
  kp.progress_seconds = 1e-9;
  KspSolver ksp(op, kp);
  u.fill(0.0);
  const SolveStats st = ksp.solve(f, u);
  ASSERT_EQ(lines.size(), st.history.size());  // iterations 0 ... n
  EXPECT_EQ(lines[0].rfind("ksp cg + jacobi iteration 0  residual 1.000e+00 (relative)", 0), 0u)
      << lines[0];
  char want[80];
  std::snprintf(want, sizeof want, "ksp cg + jacobi iteration 7  residual %.3e", st.history[7]);
  EXPECT_EQ(lines[7].rfind(want, 0), 0u) << lines[7] << " vs " << want;
}

TEST(Elliptic, ApplyMatchesRhsForTheDiscreteSolution) {
  // A u = b for the solved u, through apply() and rhs() on Fields.
  Case k = make_case(2, 16, Centering::vertex, mixed_kinds, "mixed", 2.0);
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EllipticOperator op(*grid, k.p);
  Field f(*grid, "f"), u(*grid, "u"), au(*grid, "Au"), s(*grid, "s");
  fill(f, [&](real_t x, real_t y, real_t z) {
    return -k.m.laplacian(x, y, z) + 2.0 * k.m.u(x, y, z);
  });
  KspSolver ksp(op, tight());
  const SolveStats st = ksp.solve(f, u);
  ASSERT_TRUE(st.converged);
  op.apply(u, au);
  Vec b = op.create_vector();
  op.rhs(f, b);
  Field bf(*grid, "b");
  op.from_vec(b, bf);
  VecDestroy(&b);
  real_t d = 0, bmax = 0;
  const auto av = au.view(), bv = bf.view();
  for (index_t j = 0; j < grid->count(1); ++j)
    for (index_t i = 0; i < grid->count(0); ++i) {
      d = std::max(d, std::abs(av(i, j) - bv(i, j)));
      bmax = std::max(bmax, std::abs(bv(i, j)));
    }
  EXPECT_LT(d, 1e-9 * bmax);
}

TEST(Elliptic, KspReportsHistoryAndMaxIterations) {
  SineProblem sp;
  EllipticOperator& op = sp.op;
  Field &f = sp.f, &u = sp.u;
  {
    KspParams kp = tight("-ksp_type cg -pc_type jacobi");
    kp.rtol = 1e-8;
    kp.record_history = true;
    KspSolver ksp(op, kp);
    EXPECT_EQ(ksp.describe(), "cg + jacobi");
    KSPNormType nt;
    KSPGetNormType(ksp.ksp(), &nt);
    EXPECT_EQ(nt, KSP_NORM_UNPRECONDITIONED);
    u.fill(0.0);
    const SolveStats st = ksp.solve(f, u);
    EXPECT_TRUE(st.converged);
    ASSERT_EQ(st.history.size(), size_t(st.iterations) + 1);
    EXPECT_NEAR(st.history.front(), 1.0, 1e-12);  // x0 = 0: r0 = b
    EXPECT_LE(st.history.back(), 1e-8);
    // The recursive CG residual and the true one agree closely at this tolerance.
    EXPECT_NEAR(st.relative_residual(), st.history.back(), 1e-10);
    EXPECT_GE(st.setup_seconds, 0.0);
    EXPECT_GT(st.seconds, 0.0);
  }
  {
    KspParams kp = tight("-ksp_type cg -pc_type none");
    kp.max_it = 3;
    // Not an eigenvector (the sine is one, nearly: CG would finish in two steps).
    fill(f, [](real_t x, real_t y, real_t) { return std::exp(x) * (1.0 + y * y); });
    KspSolver ksp(op, kp);
    u.fill(0.0);
    SolveStats st;
    EXPECT_NO_THROW(st = ksp.solve(f, u));
    EXPECT_FALSE(st.converged);
    EXPECT_EQ(st.iterations, 3);
    EXPECT_EQ(st.reason, "DIVERGED_ITS");
    EXPECT_GT(st.relative_residual(), 1e-6);
  }
}

TEST(Elliptic, IndefiniteProblemWithCgThrowsNumericsError) {
  // c = -1000 makes A indefinite: CG detects negative curvature on a smooth right side.
  Case k = make_case(2, 16, Centering::cell, all_dirichlet, "sine", -1000.0);
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EllipticOperator op(*grid, k.p);
  Field f(*grid, "f"), u(*grid, "u");
  f.fill(1.0);
  KspSolver ksp(op, tight("-ksp_type cg -pc_type none"));
  try {
    ksp.solve(f, u);
    FAIL() << "expected NumericsError";
  } catch (const NumericsError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cg + none"), std::string::npos) << what;
    EXPECT_NE(what.find("DIVERGED_INDEFINITE"), std::string::npos) << what;
    EXPECT_NE(what.find("residual"), std::string::npos) << what;
  }
}

TEST(Elliptic, KspOptionsArePrefixedAndCommandLineWins) {
  Case k = make_case(2, 16, Centering::cell, all_dirichlet, "sine");
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EllipticOperator op(*grid, k.p);
  Field f(*grid, "f"), u(*grid, "u");
  fill(f, [&](real_t x, real_t y, real_t z) { return -k.m.laplacian(x, y, z); });
  const auto type_of = [](const KspSolver& s) {
    KSPType t = nullptr;
    KSPGetType(s.ksp(), &t);
    return std::string(t);
  };
  {
    KspParams kp = tight("-ksp_type bcgs -pc_type jacobi");
    kp.prefix = "t1_";
    KspSolver ksp(op, kp);
    EXPECT_EQ(type_of(ksp), "bcgs");
    EXPECT_EQ(ksp.describe(), "bcgs + jacobi");
    u.fill(0.0);
    const SolveStats st = ksp.solve(f, u);
    EXPECT_TRUE(st.converged) << st.reason;
    EXPECT_LT(st.relative_residual(), 1e-11);
  }
  // The solver's options leave the global database with it: the next solver with the same
  // prefix gets its own.
  PetscBool left = PETSC_TRUE;
  PetscOptionsHasName(nullptr, nullptr, "-t1_ksp_type", &left);
  EXPECT_FALSE(left);
  {
    KspParams kp = tight("-ksp_type gmres -pc_type jacobi");
    kp.prefix = "t1_";
    KspSolver ksp(op, kp);
    EXPECT_EQ(type_of(ksp), "gmres");
  }
  // A command-line option (set beforehand) wins over params.options with the same prefix.
  PetscOptionsSetValue(nullptr, "-t2_ksp_type", "gmres");
  {
    KspParams kp = tight("-ksp_type cg -pc_type jacobi");
    kp.prefix = "t2_";
    KspSolver ksp(op, kp);
    EXPECT_EQ(type_of(ksp), "gmres");
    u.fill(0.0);
    const SolveStats st = ksp.solve(f, u);
    EXPECT_TRUE(st.converged) << st.reason;
    // gmres supports the unpreconditioned norm with right preconditioning.
    KSPNormType nt;
    KSPGetNormType(ksp.ksp(), &nt);
    EXPECT_EQ(nt, KSP_NORM_UNPRECONDITIONED);
  }
  PetscBool still = PETSC_FALSE;
  PetscOptionsHasName(nullptr, nullptr, "-t2_ksp_type", &still);
  EXPECT_TRUE(still);  // not ours to remove
  PetscOptionsClearValue(nullptr, "-t2_ksp_type");
  // A method without the unpreconditioned norm (preonly + lu) falls back quietly.
  {
    KspParams kp = tight("-ksp_type preonly -pc_type lu");
    kp.prefix = "t3_";
    KspSolver ksp(op, kp);
    u.fill(0.0);
    const SolveStats st = ksp.solve(f, u);
    EXPECT_TRUE(st.converged) << st.reason;
    EXPECT_LT(st.relative_residual(), 1e-12);
  }
  KspParams bad = tight("ksp_type cg");
  EXPECT_THROW(KspSolver(op, bad), ConfigError);
}

TEST(Elliptic, ConfigErrors) {
  Case k = make_case(2, 8, Centering::cell, all_dirichlet, "sine");
  EllipticProblem p = k.p;
  p.boundary[1][0].kind = BK::periodic;  // periodic on one side only
  EXPECT_THROW(p.validate(), ConfigError);
  EXPECT_THROW(make_elliptic_grid(PETSC_COMM_WORLD, p), ConfigError);
  try {
    p.validate();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("periodic on one side only"), std::string::npos);
  }
  p = k.p;
  p.panels[0] = 1;
  EXPECT_THROW(p.validate(), ConfigError);
  p = k.p;
  p.hi[1] = p.lo[1];
  EXPECT_THROW(p.validate(), ConfigError);
  p = k.p;
  p.dim = 4;
  EXPECT_THROW(p.validate(), ConfigError);
  EXPECT_THROW(boundary_kind_from_name("robin"), ConfigError);
  EXPECT_THROW(centering_from_name("face"), ConfigError);
  EXPECT_EQ(boundary_kind_from_name("neumann"), BK::neumann);
  EXPECT_EQ(centering_from_name("vertex"), Centering::vertex);
  EXPECT_STREQ(boundary_kind_name(BK::periodic), "periodic");
  // A grid that does not fit the problem.
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EllipticProblem q = k.p;
  q.centering = Centering::vertex;  // Dirichlet all round: 7 unknowns per dimension, not 8
  EXPECT_THROW(EllipticOperator(*grid, q), ConfigError);
  // Singularity: no Dirichlet face and c == 0.
  EXPECT_FALSE(k.p.singular());
  p = make_case(2, 8, Centering::cell, all_neumann, "cosine").p;
  EXPECT_TRUE(p.singular());
  p.helmholtz = 1.0;
  EXPECT_FALSE(p.singular());
}

TEST(Elliptic, GridCentresAreTheUnknowns) {
  // Vertex-centred D-N along x (panels 8 on [0, 1]): vertices 1..8; N-N along y on [-0.5, 1]:
  // vertices 0..8; periodic along z on [0.25, 1.5]: vertices 0..7.
  Case k = make_case(3, 8, Centering::vertex, mixed_kinds, "mixed");
  k.p.boundary[1][0].kind = BK::neumann;
  k.p.boundary[1][1].kind = BK::neumann;
  k.p.boundary[2][0].kind = BK::periodic;
  k.p.boundary[2][1].kind = BK::periodic;
  auto grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EXPECT_EQ(grid->n(0), 8);
  EXPECT_EQ(grid->n(1), 9);
  EXPECT_EQ(grid->n(2), 8);
  EXPECT_TRUE(grid->periodic(2));
  EXPECT_FALSE(grid->periodic(0));
  EXPECT_EQ(grid->halo(), 1);
  for (index_t i = 0; i < 8; ++i) EXPECT_NEAR(grid->center(0, i), (i + 1) / 8.0, 1e-14);
  for (index_t i = 0; i < 9; ++i) EXPECT_NEAR(grid->center(1, i), -0.5 + i * 1.5 / 8, 1e-14);
  for (index_t i = 0; i < 8; ++i) EXPECT_NEAR(grid->center(2, i), 0.25 + i * 1.25 / 8, 1e-14);
  // Cell-centred: the cells of the box.
  k.p.centering = Centering::cell;
  grid = make_elliptic_grid(PETSC_COMM_WORLD, k.p);
  EXPECT_EQ(grid->n(1), 8);
  EXPECT_NEAR(grid->center(1, 0), -0.5 + 0.5 * 1.5 / 8, 1e-14);
}
