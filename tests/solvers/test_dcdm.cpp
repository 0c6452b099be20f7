// The DCDM iteration, its PCSHELL form and Lanczos (solvers/dcdm.hpp), at 1 and 2 ranks, on
// EllipticOperator matrices. With the identity as the direction model DCDM is CG: iteration
// counts and solutions are compared with PETSc's KSPCG. Lanczos is checked against the
// analytic spectra of the 1D and 2D Dirichlet Laplacians (the same check at every rank count)
// and, for a partial run, against the same operator on one rank.
#include <gtest/gtest.h>
#include <petscdmda.h>
#include <petscksp.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <vector>

#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"
#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"

namespace {

using aeolus::DcdmParams;
using aeolus::IdentityDirection;
using aeolus::SolveStats;

constexpr double kPi = 3.14159265358979323846;

// -div grad u on the unit box through EllipticOperator: `kind` on every face of the `dim`
// used dimensions. Vertex-centred Dirichlet is the plain 5-point (3-point) Laplacian on the
// interior vertices, with eigenvalues sum_d (2 - 2 cos(k_d pi / n_d)) / h_d^2, k_d = 1..n_d-1.
struct Poisson {
  aeolus::EllipticProblem p;
  std::unique_ptr<aeolus::CartesianGrid> grid;
  std::unique_ptr<aeolus::EllipticOperator> op;
  Mat A = nullptr;
  Poisson(int dim, int nx, int ny, aeolus::BoundaryKind kind, aeolus::Centering centering,
          MPI_Comm comm = PETSC_COMM_WORLD) {
    p.dim = dim;
    p.panels = {nx, dim >= 2 ? ny : 1, 1};
    p.centering = centering;
    for (int d = 0; d < dim; ++d)
      for (int side = 0; side < 2; ++side) p.boundary[size_t(d)][size_t(side)].kind = kind;
    grid = aeolus::make_elliptic_grid(comm, p);
    op = std::make_unique<aeolus::EllipticOperator>(*grid, p);
    A = op->matrix();
  }
  Vec vec() const { return op->create_vector(); }
  // A rough right-hand side with many modes, defined in natural order (rank-count
  // independent); mean removed for a singular operator (b in the range).
  Vec rhs() const {
    aeolus::Field f(*grid, "f");
    std::vector<double> values;
    if (grid->rank() == 0) {
      for (aeolus::index_t g = 0; g < grid->global_cells(); ++g) {
        const double x = double(g % grid->n(0)) / double(grid->n(0));
        const double y = double(g / grid->n(0)) / double(grid->n(1));
        values.push_back(std::sin(2.3 * kPi * x + 0.4) * std::cos(1.7 * kPi * y) +
                         0.3 * double((g * 7919) % 13) / 13.0);
      }
    }
    f.scatter_from_root(values);
    Vec b = vec();
    op->to_vec(f, b);
    if (op->singular()) {
      PetscScalar sum;
      VecSum(b, &sum);
      PetscInt n;
      VecGetSize(b, &n);
      VecShift(b, -sum / double(n));
    }
    return b;
  }
  // Vertex-centred Dirichlet eigenvalue for mode numbers k (1-based).
  double eigenvalue(int kx, int ky) const {
    double lambda = 0;
    const int k[2] = {kx, ky};
    for (int d = 0; d < p.dim; ++d) {
      const double h = p.spacing(d);
      lambda += (2 - 2 * std::cos(k[d] * kPi / double(p.panels[size_t(d)]))) / (h * h);
    }
    return lambda;
  }
};

aeolus::BoundaryKind dirichlet = aeolus::BoundaryKind::dirichlet;
aeolus::BoundaryKind neumann = aeolus::BoundaryKind::neumann;
aeolus::Centering cell = aeolus::Centering::cell;
aeolus::Centering vertex = aeolus::Centering::vertex;

// PETSc CG without preconditioner on the unpreconditioned residual: the reference for DCDM.
int ksp_iterations(Mat A, Vec b, Vec x, KSPType type, aeolus::DirectionModel* shell, double rtol) {
  KSP ksp;
  KSPCreate(PETSC_COMM_WORLD, &ksp);
  KSPSetOperators(ksp, A, A);
  KSPSetType(ksp, type);
  if (shell) {
    aeolus::set_dcdm_preconditioner(ksp, *shell);
  } else {
    PC pc;
    KSPGetPC(ksp, &pc);
    PCSetType(pc, PCNONE);
  }
  KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED);
  KSPSetTolerances(ksp, rtol, 0.0, PETSC_DEFAULT, 10000);
  KSPSetInitialGuessNonzero(ksp, PETSC_FALSE);
  AEOLUS_PETSC(KSPSolve(ksp, b, x));
  KSPConvergedReason reason;
  KSPGetConvergedReason(ksp, &reason);
  EXPECT_GT(reason, 0) << "KSP " << type << " did not converge";
  PetscInt its;
  KSPGetIterationNumber(ksp, &its);
  KSPDestroy(&ksp);
  return int(its);
}

double norm(Vec v) {
  PetscReal n;
  VecNorm(v, NORM_2, &n);
  return n;
}

double difference(Vec a, Vec b) {
  Vec d;
  VecDuplicate(a, &d);
  VecWAXPY(d, -1.0, b, a);
  const double n = norm(d);
  VecDestroy(&d);
  return n;
}

TEST(Dcdm, IdentityDirectionIsCg) {
  Poisson lap(2, 24, 20, dirichlet, cell);
  Vec b = lap.rhs(), x_cg = lap.vec(), x = lap.vec();
  const double rtol = 1e-10;
  const int cg_its = ksp_iterations(lap.A, b, x_cg, KSPCG, nullptr, rtol);
  IdentityDirection identity;
  DcdmParams params;
  params.rtol = rtol;
  params.record_history = true;
  VecSet(x, 0.0);
  const SolveStats st = aeolus::dcdm_solve(lap.A, b, x, identity, params);
  EXPECT_TRUE(st.converged) << st.reason;
  EXPECT_NEAR(st.iterations, cg_its, 1) << "dcdm " << st.iterations << ", cg " << cg_its;
  EXPECT_EQ(st.history.size(), size_t(st.iterations));
  EXPECT_LE(st.relative_residual(), rtol);
  EXPECT_NEAR(st.rhs_norm, norm(b), 1e-14 * norm(b));
  // Residual reported = true residual.
  Vec r = lap.vec();
  MatMult(lap.A, x, r);
  VecAYPX(r, -1.0, b);
  EXPECT_NEAR(norm(r), st.residual_norm, 1e-12 * norm(b));
  const double relative_difference = difference(x, x_cg) / norm(x_cg);  // collective
  EXPECT_LE(relative_difference, 1e-10);
  if (aeolus::comm_rank(PETSC_COMM_WORLD) == 0) {
    std::printf("[dcdm] identity: %d iterations, KSPCG %d, |x - x_cg| / |x| = %.2e\n",
                st.iterations, cg_its, relative_difference);
  }
  VecDestroy(&r);
  VecDestroy(&b);
  VecDestroy(&x);
  VecDestroy(&x_cg);
}

// Progress lines: none for a solve shorter than progress_seconds; with a tiny interval, one per
// iteration, each naming the iteration and the relative residual (the history's value).
TEST(Dcdm, ProgressLinesNameTheIterationAndResidual) {
  Poisson lap(2, 24, 20, dirichlet, cell);
  Vec b = lap.rhs(), x = lap.vec();
  IdentityDirection identity;
  std::vector<std::string> lines;
  DcdmParams params;
  params.rtol = 1e-8;
  params.record_history = true;
  params.progress = [&](const std::string& l) { lines.push_back(l); };
  VecSet(x, 0.0);
  aeolus::dcdm_solve(lap.A, b, x, identity, params);
  EXPECT_TRUE(lines.empty()) << lines.front();  // far below the default 10 s
  params.progress_seconds = 1e-9;
  VecSet(x, 0.0);
  const SolveStats st = aeolus::dcdm_solve(lap.A, b, x, identity, params);
  ASSERT_EQ(lines.size(), size_t(st.iterations));
  EXPECT_EQ(lines[0].rfind("dcdm iteration 0  residual 1.000e+00 (relative)", 0), 0u) << lines[0];
  char want[64];
  std::snprintf(want, sizeof want, "dcdm iteration 5  residual %.3e", st.history[4]);
  EXPECT_EQ(lines[5].rfind(want, 0), 0u) << lines[5] << " vs " << want;
  VecDestroy(&b);
  VecDestroy(&x);
}

TEST(Dcdm, SingularNeumannWithNullSpace) {
  Poisson lap(2, 20, 16, neumann, cell);
  Vec b = lap.rhs(), x = lap.vec();
  VecSet(x, 1.0);  // an initial guess with a null-space component: removed on exit
  IdentityDirection identity;
  DcdmParams params;
  params.rtol = 1e-9;
  const SolveStats st = aeolus::dcdm_solve(lap.A, b, x, identity, params);
  EXPECT_TRUE(st.converged) << st.reason;
  EXPECT_LE(st.relative_residual(), 1e-9);
  PetscScalar sum;
  VecSum(x, &sum);
  EXPECT_NEAR(sum, 0.0, 1e-9 * norm(x));
  if (aeolus::comm_rank(PETSC_COMM_WORLD) == 0) {
    std::printf("[dcdm] neumann: %d iterations, relative residual %.2e\n", st.iterations,
                st.relative_residual());
  }
  VecDestroy(&b);
  VecDestroy(&x);
}

TEST(Dcdm, ZeroRightHandSide) {
  Poisson lap(1, 16, 1, dirichlet, cell);
  Vec b = lap.vec(), x = lap.vec();
  VecSet(b, 0.0);
  VecSet(x, 3.0);
  IdentityDirection identity;
  const SolveStats st = aeolus::dcdm_solve(lap.A, b, x, identity, DcdmParams{});
  EXPECT_TRUE(st.converged);
  EXPECT_EQ(st.iterations, 0);
  EXPECT_EQ(norm(x), 0.0);
  VecDestroy(&b);
  VecDestroy(&x);
}

TEST(Dcdm, MaxItReportsNotConverged) {
  Poisson lap(2, 16, 16, dirichlet, cell);
  Vec b = lap.rhs(), x = lap.vec();
  VecSet(x, 0.0);
  IdentityDirection identity;
  DcdmParams params;
  params.max_it = 3;
  const SolveStats st = aeolus::dcdm_solve(lap.A, b, x, identity, params);
  EXPECT_FALSE(st.converged);
  EXPECT_EQ(st.iterations, 3);
  VecDestroy(&b);
  VecDestroy(&x);
}

// Returns NaN in every entry on every rank.
class NanDirection : public aeolus::DirectionModel {
 public:
  void direction(Vec, Vec q) override { VecSet(q, std::nan("")); }
};

TEST(Dcdm, NonFiniteDirectionThrows) {
  Poisson lap(2, 12, 12, dirichlet, cell);
  Vec b = lap.rhs(), x = lap.vec();
  VecSet(x, 0.0);
  NanDirection bad;
  try {
    aeolus::dcdm_solve(lap.A, b, x, bad, DcdmParams{});
    ADD_FAILURE() << "expected NumericsError";
  } catch (const aeolus::NumericsError& e) {
    EXPECT_NE(std::string(e.what()).find("iteration 1"), std::string::npos) << e.what();
  }
  VecDestroy(&b);
  VecDestroy(&x);
}

TEST(Dcdm, ShellPreconditionerUnderFcgIsCg) {
  Poisson lap(2, 24, 20, dirichlet, cell);
  Vec b = lap.rhs(), x = lap.vec();
  const double rtol = 1e-10;
  const int cg_its = ksp_iterations(lap.A, b, x, KSPCG, nullptr, rtol);
  IdentityDirection identity;
  const int fcg_its = ksp_iterations(lap.A, b, x, KSPFCG, &identity, rtol);
  EXPECT_NEAR(fcg_its, cg_its, 1) << "fcg " << fcg_its << ", cg " << cg_its;
  Vec r = lap.vec();
  MatMult(lap.A, x, r);
  VecAYPX(r, -1.0, b);
  EXPECT_LE(norm(r), 1.0001 * rtol * norm(b));
  VecDestroy(&r);
  VecDestroy(&b);
  VecDestroy(&x);
}

TEST(Dcdm, ShellPreconditionerReportsNonFiniteAsPetscError) {
  Poisson lap(2, 12, 12, dirichlet, cell);
  Vec b = lap.rhs(), x = lap.vec();
  KSP ksp;
  KSPCreate(PETSC_COMM_WORLD, &ksp);
  KSPSetOperators(ksp, lap.A, lap.A);
  KSPSetType(ksp, KSPFCG);
  NanDirection bad;
  aeolus::set_dcdm_preconditioner(ksp, bad);
  EXPECT_THROW(AEOLUS_PETSC(KSPSolve(ksp, b, x)), aeolus::LibraryError);
  KSPDestroy(&ksp);
  VecDestroy(&b);
  VecDestroy(&x);
}

// Ritz vectors are unit vectors; the converged ones (estimated residual below `converged`)
// satisfy ||A v - theta v|| <= tol. Returns the number of checked pairs.
int check_ritz_residuals(Mat A, const aeolus::RitzPairs& pairs, double converged, double tol) {
  Vec av;
  VecDuplicate(pairs.vectors[0], &av);
  int checked = 0;
  for (size_t i = 0; i < pairs.values.size(); ++i) {
    EXPECT_NEAR(norm(pairs.vectors[i]), 1.0, 1e-10);
    if (pairs.residuals[i] > converged) continue;
    MatMult(A, pairs.vectors[i], av);
    VecAXPY(av, -pairs.values[i], pairs.vectors[i]);
    EXPECT_LE(norm(av), tol) << "Ritz pair " << i << ", theta " << pairs.values[i];
    ++checked;
  }
  VecDestroy(&av);
  return checked;
}

TEST(Lanczos, FullSpectrumOf1dLaplacian) {
  // 48 panels, vertex-centred Dirichlet: 47 unknowns, all found (m is capped at the size).
  const int n = 47;
  Poisson lap(1, n + 1, 1, dirichlet, vertex);
  aeolus::RitzPairs pairs = aeolus::lanczos_ritz(lap.A, n + 10, 11);
  ASSERT_EQ(pairs.values.size(), size_t(n));
  const double top = lap.eigenvalue(n, 0);
  for (int k = 1; k <= n; ++k) {
    EXPECT_NEAR(pairs.values[size_t(k - 1)], lap.eigenvalue(k, 0), 1e-11 * top) << "k " << k;
  }
  EXPECT_NEAR(pairs.values[0], lap.eigenvalue(1, 0), 1e-8 * lap.eigenvalue(1, 0));
  EXPECT_EQ(check_ritz_residuals(lap.A, pairs, 1e-9 * top, 1e-8 * top), n);
  aeolus::destroy(pairs);
  EXPECT_TRUE(pairs.vectors.empty());
}

TEST(Lanczos, ExtremeRitzValuesOf2dLaplacian) {
  // 14 x 11 = 154 interior vertices, 90 Lanczos steps: the extreme (simple) eigenvalues
  // converge to round-off, the inner ones do not (a partial run).
  Poisson lap(2, 15, 12, dirichlet, vertex);
  aeolus::RitzPairs pairs = aeolus::lanczos_ritz(lap.A, 90, 3);
  ASSERT_EQ(pairs.values.size(), size_t(90));
  const double smallest = lap.eigenvalue(1, 1), largest = lap.eigenvalue(14, 11);
  EXPECT_NEAR(pairs.values.front(), smallest, 1e-8 * smallest);
  EXPECT_NEAR(pairs.values.back(), largest, 1e-8 * largest);
  EXPECT_GE(check_ritz_residuals(lap.A, pairs, 1e-9 * largest, 1e-8 * largest), 2);
  // Ritz values are ascending and inside the spectrum.
  for (size_t i = 1; i < pairs.values.size(); ++i) EXPECT_LE(pairs.values[i - 1], pairs.values[i]);
  EXPECT_GE(pairs.values.front(), smallest * (1 - 1e-12));
  if (aeolus::comm_rank(PETSC_COMM_WORLD) == 0) {
    std::printf("[lanczos] 2D: theta_min %.15g (exact %.15g), theta_max %.15g (exact %.15g)\n",
                pairs.values.front(), smallest, pairs.values.back(), largest);
  }
  aeolus::destroy(pairs);
}

TEST(Lanczos, SingularOperatorGivesRangeOnly) {
  // The null space is projected out of every Lanczos vector: no zero Ritz value, and the
  // Ritz vectors have zero mean. Cell-centred Neumann in 1D: eigenvalues
  // (2 - 2 cos(k pi / n)) / h^2, k = 0..n-1; the Krylov space is invariant after n - 1 steps.
  const int n = 40;
  Poisson lap(1, n, 1, neumann, cell);
  aeolus::RitzPairs pairs = aeolus::lanczos_ritz(lap.A, n, 5);
  ASSERT_EQ(pairs.values.size(), size_t(n - 1));
  const double h = 1.0 / n;
  for (int k = 1; k < n; ++k) {
    const double exact = (2 - 2 * std::cos(k * kPi / n)) / (h * h);
    EXPECT_NEAR(pairs.values[size_t(k - 1)], exact, 1e-8 * exact) << "k " << k;
  }
  for (Vec v : pairs.vectors) {
    PetscScalar sum;
    VecSum(v, &sum);
    EXPECT_NEAR(sum, 0.0, 1e-10);
  }
  aeolus::destroy(pairs);
}

TEST(Lanczos, SameStartForTheSameSeed) {
  Poisson lap(2, 10, 10, dirichlet, cell);
  aeolus::RitzPairs a = aeolus::lanczos_ritz(lap.A, 8, 42);
  aeolus::RitzPairs b = aeolus::lanczos_ritz(lap.A, 8, 42);
  aeolus::RitzPairs c = aeolus::lanczos_ritz(lap.A, 8, 43);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) EXPECT_EQ(a.values[i], b.values[i]);
  EXPECT_NE(a.values.back(), c.values.back());
  aeolus::destroy(a);
  aeolus::destroy(b);
  aeolus::destroy(c);
}

TEST(Lanczos, IndependentOfTheRankCount) {
  // The same operator on this rank alone and on all ranks: with the start drawn in natural
  // order, all Ritz values of a partial run (m < n, so they depend on the start) agree.
  Poisson all(2, 16, 12, dirichlet, cell, PETSC_COMM_WORLD);
  Poisson one(2, 16, 12, dirichlet, cell, PETSC_COMM_SELF);
  aeolus::RitzPairs a = aeolus::lanczos_ritz(all.A, 25, 9);
  aeolus::RitzPairs b = aeolus::lanczos_ritz(one.A, 25, 9);
  ASSERT_EQ(a.values.size(), b.values.size());
  for (size_t i = 0; i < a.values.size(); ++i) {
    EXPECT_NEAR(a.values[i], b.values[i], 1e-11 * b.values.back()) << "Ritz value " << i;
  }
  aeolus::destroy(a);
  aeolus::destroy(b);
}

TEST(Lanczos, MatrixWithoutDmUsesItsGlobalOrder) {
  // A plain AIJ tridiagonal (no DM attached): tridiag(-1, 2, -1), n = 30, all eigenvalues.
  const int n = 30;
  Mat A;
  MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, n, n, 3, nullptr, 2, nullptr, &A);
  PetscInt lo, hi;
  MatGetOwnershipRange(A, &lo, &hi);
  for (PetscInt i = lo; i < hi; ++i) {
    if (i > 0) MatSetValue(A, i, i - 1, -1.0, INSERT_VALUES);
    MatSetValue(A, i, i, 2.0, INSERT_VALUES);
    if (i + 1 < n) MatSetValue(A, i, i + 1, -1.0, INSERT_VALUES);
  }
  MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY);
  MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY);
  aeolus::RitzPairs pairs = aeolus::lanczos_ritz(A, n, 1);
  ASSERT_EQ(pairs.values.size(), size_t(n));
  for (int k = 1; k <= n; ++k) {
    EXPECT_NEAR(pairs.values[size_t(k - 1)], 2 - 2 * std::cos(k * kPi / (n + 1)), 1e-12);
  }
  aeolus::destroy(pairs);
  MatDestroy(&A);
}

TEST(Lanczos, RejectsBadM) {
  Poisson lap(1, 8, 1, dirichlet, cell);
  EXPECT_THROW(aeolus::lanczos_ritz(lap.A, 0, 1), aeolus::ConfigError);
}

}  // namespace
