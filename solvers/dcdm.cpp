#include "solvers/dcdm.hpp"

#include <petscdmda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "grids/petsc_util.hpp"
#include "grids/random.hpp"

namespace aeolus {

namespace {

// Destroys a set of PETSc vectors on scope exit, so that a throw mid-solve leaks nothing.
// Handles are returned by value: callers may swap them among themselves, the set owned here
// stays the same.
class OwnedVecs {
 public:
  OwnedVecs() = default;
  ~OwnedVecs() {
    for (Vec& v : vecs_)
      if (v) VecDestroy(&v);
  }
  OwnedVecs(const OwnedVecs&) = delete;
  OwnedVecs& operator=(const OwnedVecs&) = delete;
  Vec add(Vec like) {
    Vec v = nullptr;
    AEOLUS_PETSC(VecDuplicate(like, &v));
    return adopt(v);
  }
  Vec adopt(Vec v) {
    vecs_.push_back(v);
    return v;
  }
  std::vector<Vec>& all() { return vecs_; }

 private:
  std::vector<Vec> vecs_;
};

// v = independent N(0, 1) values, drawn in the natural order of `dm` (a DMDA) when given, else
// in v's own global order: entry g of the natural ordering is the g-th draw on every rank, so
// the vector is the same however the grid is split.
void random_start(Vec v, DM dm, std::uint64_t seed) {
  PetscBool is_da = PETSC_FALSE;
  if (dm) AEOLUS_PETSC(PetscObjectTypeCompare(reinterpret_cast<PetscObject>(dm), DMDA, &is_da));
  Vec natural = v;
  if (is_da) AEOLUS_PETSC(DMDACreateNaturalVector(dm, &natural));
  PetscInt lo = 0, hi = 0;
  AEOLUS_PETSC(VecGetOwnershipRange(natural, &lo, &hi));
  PetscScalar* a = nullptr;
  AEOLUS_PETSC(VecGetArray(natural, &a));
  NormalStream draws(seed);
  // Every rank draws the values before its own block too (O(global size), fine for the
  // training-sized operators Lanczos is run on).
  for (PetscInt g = 0; g < hi; ++g) {
    const double value = draws.next();
    if (g >= lo) a[g - lo] = value;
  }
  AEOLUS_PETSC(VecRestoreArray(natural, &a));
  if (is_da) {
    AEOLUS_PETSC(DMDANaturalToGlobalBegin(dm, natural, INSERT_VALUES, v));
    AEOLUS_PETSC(DMDANaturalToGlobalEnd(dm, natural, INSERT_VALUES, v));
    AEOLUS_PETSC(VecDestroy(&natural));
  }
}

// Eigenvalues (ascending, in d) and orthonormal eigenvectors (columns of z, column-major) of the
// symmetric tridiagonal matrix with diagonal d and off-diagonal e (size d.size() - 1), by the
// implicit QL method with Wilkinson shifts (EISPACK tql2, as in the public-domain JAMA). A
// local routine: LAPACK's steqr is not exported by the PETSc we link, and Eigen is not on the
// include path of this library.
void tridiagonal_eigen(std::vector<double>& d, std::vector<double> e, std::vector<double>& z) {
  const int n = int(d.size());
  z.assign(size_t(n) * size_t(n), 0.0);
  for (int i = 0; i < n; ++i) z[size_t(i) * size_t(n) + size_t(i)] = 1.0;
  const auto at = [&](int row, int col) -> double& {
    return z[size_t(col) * size_t(n) + size_t(row)];
  };
  e.resize(size_t(n), 0.0);  // e[i] couples i and i + 1; e[n - 1] = 0 ends every search
  const double eps = std::numeric_limits<double>::epsilon();
  double f = 0, tst1 = 0;
  for (int l = 0; l < n; ++l) {
    tst1 = std::max(tst1, std::abs(d[size_t(l)]) + std::abs(e[size_t(l)]));
    int m = l;
    while (m < n - 1 && std::abs(e[size_t(m)]) > eps * tst1) ++m;
    if (m > l) {
      int sweeps = 0;
      do {
        if (++sweeps > 60) {
          throw NumericsError(
              "lanczos_ritz: the tridiagonal QL iteration did not converge for "
              "eigenvalue " +
              std::to_string(l) + " of " + std::to_string(n));
        }
        // Wilkinson shift from the leading 2 x 2 block.
        double g = d[size_t(l)];
        double p = (d[size_t(l + 1)] - g) / (2.0 * e[size_t(l)]);
        double r = std::hypot(p, 1.0);
        if (p < 0) r = -r;
        d[size_t(l)] = e[size_t(l)] / (p + r);
        d[size_t(l + 1)] = e[size_t(l)] * (p + r);
        const double dl1 = d[size_t(l + 1)];
        double h = g - d[size_t(l)];
        for (int i = l + 2; i < n; ++i) d[size_t(i)] -= h;
        f += h;
        // Implicit QL sweep from m up to l, rotations accumulated into z.
        p = d[size_t(m)];
        double c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        const double el1 = e[size_t(l + 1)];
        for (int i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[size_t(i)];
          h = c * p;
          r = std::hypot(p, e[size_t(i)]);
          e[size_t(i + 1)] = s * r;
          s = e[size_t(i)] / r;
          c = p / r;
          p = c * d[size_t(i)] - s * g;
          d[size_t(i + 1)] = h + s * (c * g + s * d[size_t(i)]);
          for (int row = 0; row < n; ++row) {
            h = at(row, i + 1);
            at(row, i + 1) = s * at(row, i) + c * h;
            at(row, i) = c * at(row, i) - s * h;
          }
        }
        p = -s * s2 * c3 * el1 * e[size_t(l)] / dl1;
        e[size_t(l)] = s * p;
        d[size_t(l)] = c * p;
      } while (std::abs(e[size_t(l)]) > eps * tst1);
    }
    d[size_t(l)] += f;
    e[size_t(l)] = 0;
  }
  // Ascending order (selection sort: n is the Lanczos step count).
  for (int i = 0; i + 1 < n; ++i) {
    int smallest = i;
    for (int j = i + 1; j < n; ++j)
      if (d[size_t(j)] < d[size_t(smallest)]) smallest = j;
    if (smallest != i) {
      std::swap(d[size_t(i)], d[size_t(smallest)]);
      for (int row = 0; row < n; ++row) std::swap(at(row, i), at(row, smallest));
    }
  }
}

}  // namespace

void IdentityDirection::direction(Vec r, Vec q) { AEOLUS_PETSC(VecCopy(r, q)); }

SolveStats dcdm_solve(Mat A, Vec b, Vec x, DirectionModel& model, const DcdmParams& params) {
  if (!(params.rtol >= 0) || params.max_it < 0 || params.orthogonalise < 0) {
    throw ConfigError(
        "dcdm: rtol = " + fmt("%.6g", params.rtol) + ", max_it = " + std::to_string(params.max_it) +
        ", orthogonalise = " + std::to_string(params.orthogonalise) + "; expected all >= 0");
  }
  const auto start = std::chrono::steady_clock::now();
  MatNullSpace null_space = nullptr;
  AEOLUS_PETSC(MatGetNullSpace(A, &null_space));

  OwnedVecs work;
  const Vec r = work.add(b);
  const Vec r_unit = work.add(b);
  Vec q = work.add(b);
  Vec aq = work.add(b);
  // Ring buffers of the last m directions p_j and their products A p_j, with p_j^T A p_j.
  const int m = params.orthogonalise;
  std::vector<Vec> p(size_t(m), nullptr), ap(size_t(m), nullptr);
  for (int j = 0; j < m; ++j) {
    p[size_t(j)] = work.add(b);
    ap[size_t(j)] = work.add(b);
  }
  std::vector<PetscScalar> p_ap(size_t(m), 0.0), dots(size_t(m), 0.0);
  int stored = 0, next = 0;

  SolveStats stats;
  PetscReal b_norm = 0, r_norm = 0;
  AEOLUS_PETSC(VecNorm(b, NORM_2, &b_norm));
  stats.rhs_norm = b_norm;
  if (b_norm == 0) {
    // A x = 0 has the solution 0 (plus the null space, which is not wanted); iterating towards
    // rtol * 0 would never stop.
    AEOLUS_PETSC(VecSet(x, 0.0));
    stats.converged = true;
    stats.reason = "zero right-hand side: x = 0";
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return stats;
  }
  AEOLUS_PETSC(MatMult(A, x, r));
  AEOLUS_PETSC(VecAYPX(r, -1.0, b));
  AEOLUS_PETSC(VecNorm(r, NORM_2, &r_norm));
  const double tolerance = params.rtol * b_norm;
  if (!std::isfinite(r_norm)) {
    throw NumericsError(
        "dcdm: the initial residual is not finite (||b - A x0|| = " + fmt("%.6g", r_norm) + ")");
  }

  int k = 0;
  ProgressMeter meter(params.progress, "dcdm iteration", 0, params.progress_seconds);  // no ETA
  while (r_norm > tolerance && k < params.max_it) {
    if (meter.active() && meter.elapsed() >= params.progress_seconds && meter.due(k))
      meter.emit(k, "residual " + format_sci(r_norm / b_norm) + " (relative)");
    ++k;
    AEOLUS_PETSC(VecCopy(r, r_unit));
    AEOLUS_PETSC(VecScale(r_unit, 1.0 / r_norm));
    model.direction(r_unit, q);
    PetscReal q_norm = 0;
    AEOLUS_PETSC(VecNorm(q, NORM_2, &q_norm));
    if (!std::isfinite(q_norm)) {
      throw NumericsError(
          "dcdm: iteration " + std::to_string(k) +
          ": the model returned a non-finite direction (||q|| = " + fmt("%.6g", q_norm) + ")");
    }
    // The model knows nothing of the null space; a component along it is harmless for the
    // residual but would make x drift and q^T A q meaningless for it.
    if (null_space) AEOLUS_PETSC(MatNullSpaceRemove(null_space, q));
    if (stored > 0) {
      // Classical Gram-Schmidt in the A inner product (all coefficients from one VecMDot, one
      // reduction), applied twice ("twice is enough"): one pass loses A-orthogonality when the
      // model's direction lies nearly in the span of the stored ones, and with it the
      // conjugate-direction minimisation (a barely trained network on an 8 x 8 Neumann
      // problem with orthogonalise = 64 stalled at 6e-4 after 200 iterations with one pass, and
      // terminated after the 63 range directions with two).
      for (int pass = 0; pass < 2; ++pass) {
        AEOLUS_PETSC(VecMDot(q, stored, ap.data(), dots.data()));
        for (int j = 0; j < stored; ++j) dots[size_t(j)] = -dots[size_t(j)] / p_ap[size_t(j)];
        AEOLUS_PETSC(VecMAXPY(q, stored, dots.data(), p.data()));
      }
    }
    AEOLUS_PETSC(MatMult(A, q, aq));
    PetscScalar q_aq = 0, q_r = 0;
    AEOLUS_PETSC(VecDot(q, aq, &q_aq));
    if (!(q_aq > 0) || !std::isfinite(q_aq)) {
      throw NumericsError("dcdm: iteration " + std::to_string(k) +
                          ": q^T A q = " + fmt("%.6g", q_aq) +
                          " is not positive (the direction vanished after A-orthogonalisation, "
                          "or A is not positive definite on it)");
    }
    AEOLUS_PETSC(VecDot(q, r, &q_r));
    AEOLUS_PETSC(VecAXPY(x, q_r / q_aq, q));
    // The true residual, not the recurrence r - alpha A q: the directions of a nonlinear model
    // are not those of CG, and the recurrence would drift from b - A x without notice.
    AEOLUS_PETSC(MatMult(A, x, r));
    AEOLUS_PETSC(VecAYPX(r, -1.0, b));
    AEOLUS_PETSC(VecNorm(r, NORM_2, &r_norm));
    if (!std::isfinite(r_norm)) {
      throw NumericsError("dcdm: iteration " + std::to_string(k) + ": residual norm " +
                          fmt("%.6g", r_norm));
    }
    if (params.record_history) stats.history.push_back(r_norm / b_norm);
    if (m > 0) {
      // Keep q and A q by swapping handles: no copies.
      std::swap(p[size_t(next)], q);
      std::swap(ap[size_t(next)], aq);
      p_ap[size_t(next)] = q_aq;
      next = (next + 1) % m;
      stored = std::min(stored + 1, m);
    }
  }
  // Same convention as KspSolver: x of a singular problem has no null-space component.
  if (null_space) AEOLUS_PETSC(MatNullSpaceRemove(null_space, x));
  stats.iterations = k;
  stats.residual_norm = r_norm;
  stats.converged = r_norm <= tolerance;
  stats.reason =
      stats.converged
          ? "converged: ||b - A x|| <= rtol ||b|| (rtol " + fmt("%.6g", params.rtol) + ")"
          : "not converged: max_it = " + std::to_string(params.max_it) + " reached";
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

namespace {

struct ShellContext {
  DirectionModel* model = nullptr;
  Vec unit = nullptr;  // the normalised residual
};

PetscErrorCode shell_apply(PC pc, Vec x, Vec y) {
  PetscFunctionBeginUser;
  void* raw = nullptr;
  PetscCall(PCShellGetContext(pc, &raw));
  auto* ctx = static_cast<ShellContext*>(raw);
  PetscReal norm = 0;
  PetscCall(VecNorm(x, NORM_2, &norm));
  if (norm == 0) {
    PetscCall(VecSet(y, 0.0));
    PetscFunctionReturn(0);
  }
  if (!ctx->unit) PetscCall(VecDuplicate(x, &ctx->unit));
  PetscCall(VecCopy(x, ctx->unit));
  PetscCall(VecScale(ctx->unit, 1.0 / norm));
  // Exceptions must not unwind through PETSc's C frames: report them as a PETSc error.
  try {
    ctx->model->direction(ctx->unit, y);
  } catch (const std::exception& e) {
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_LIB,
            "dcdm preconditioner: %s", e.what());
  }
  PetscReal y_norm = 0;
  PetscCall(VecNorm(y, NORM_2, &y_norm));
  if (!std::isfinite(y_norm)) {
    SETERRQ(PetscObjectComm(reinterpret_cast<PetscObject>(pc)), PETSC_ERR_FP,
            "dcdm preconditioner: the model returned a non-finite direction");
  }
  // The model sees a unit residual (what it was trained on) and its output scale is
  // arbitrary. Scaling back by ||r|| makes the preconditioner homogeneous of degree one,
  // B(s r) = s B(r), like a linear one: flexible CG/GCR are invariant to the scale of each
  // direction, but their preconditioned-norm convergence tests and truncation use ||B r||,
  // which must shrink with ||r|| for the tests to mean anything.
  PetscCall(VecScale(y, norm));
  PetscFunctionReturn(0);
}

PetscErrorCode shell_destroy(PC pc) {
  PetscFunctionBeginUser;
  void* raw = nullptr;
  PetscCall(PCShellGetContext(pc, &raw));
  auto* ctx = static_cast<ShellContext*>(raw);
  if (ctx) {
    if (ctx->unit) PetscCall(VecDestroy(&ctx->unit));
    delete ctx;
  }
  PetscFunctionReturn(0);
}

}  // namespace

void set_dcdm_preconditioner(KSP ksp, DirectionModel& model) {
  PC pc = nullptr;
  AEOLUS_PETSC(KSPGetPC(ksp, &pc));
  AEOLUS_PETSC(PCSetType(pc, PCSHELL));
  auto* ctx = new ShellContext;
  ctx->model = &model;
  AEOLUS_PETSC(PCShellSetContext(pc, ctx));
  AEOLUS_PETSC(PCShellSetApply(pc, shell_apply));
  AEOLUS_PETSC(PCShellSetDestroy(pc, shell_destroy));
  AEOLUS_PETSC(PCShellSetName(pc, "dcdm"));
}

RitzPairs lanczos_ritz(Mat A, int m, std::uint64_t seed, DM dm, const ProgressSink& progress) {
  if (m < 1) throw ConfigError("lanczos_ritz: m = " + std::to_string(m) + ", expected >= 1");
  PetscInt rows = 0, cols = 0;
  AEOLUS_PETSC(MatGetSize(A, &rows, &cols));
  if (rows != cols) {
    throw ConfigError("lanczos_ritz: the matrix is " + std::to_string(rows) + " x " +
                      std::to_string(cols) + ", expected square");
  }
  m = int(std::min<PetscInt>(m, rows));
  if (!dm) AEOLUS_PETSC(MatGetDM(A, &dm));
  MatNullSpace null_space = nullptr;
  AEOLUS_PETSC(MatGetNullSpace(A, &null_space));

  OwnedVecs basis;  // the Lanczos vectors V (destroyed on exit, also on a throw)
  OwnedVecs scratch;
  Vec start = nullptr;
  AEOLUS_PETSC(MatCreateVecs(A, &start, nullptr));
  scratch.adopt(start);
  const Vec w = scratch.add(start);
  random_start(start, dm, seed);
  if (null_space) AEOLUS_PETSC(MatNullSpaceRemove(null_space, start));
  PetscReal norm = 0;
  AEOLUS_PETSC(VecNorm(start, NORM_2, &norm));
  if (!(norm > 0)) throw NumericsError("lanczos_ritz: the random start vector is zero");
  AEOLUS_PETSC(VecScale(start, 1.0 / norm));
  AEOLUS_PETSC(VecCopy(start, basis.add(start)));

  std::vector<PetscScalar> alpha, beta;
  std::vector<PetscScalar> h(static_cast<size_t>(m));
  double a_norm = 0;  // running estimate of ||T|| for the invariance test
  ProgressMeter lanczos(progress, "lanczos", m);
  for (int j = 0; j < m; ++j) {
    std::vector<Vec>& v = basis.all();
    AEOLUS_PETSC(MatMult(A, v[size_t(j)], w));
    if (null_space) AEOLUS_PETSC(MatNullSpaceRemove(null_space, w));
    // Full reorthogonalisation by classical Gram-Schmidt, twice ("twice is enough"): the
    // first pass also yields alpha_j = v_j^T A v_j and the three-term coefficients; the second
    // removes what round-off left. Without it, converged Ritz values reappear as ghosts.
    double a_j = 0;
    for (int pass = 0; pass < 2; ++pass) {
      AEOLUS_PETSC(VecMDot(w, j + 1, v.data(), h.data()));
      a_j += h[size_t(j)];
      for (int i = 0; i <= j; ++i) h[size_t(i)] = -h[size_t(i)];
      AEOLUS_PETSC(VecMAXPY(w, j + 1, h.data(), v.data()));
    }
    alpha.push_back(a_j);
    PetscReal b_j = 0;
    AEOLUS_PETSC(VecNorm(w, NORM_2, &b_j));
    beta.push_back(b_j);
    if (lanczos.due(j + 1)) lanczos.emit(j + 1, "steps, beta " + format_sci(b_j));
    a_norm = std::max(a_norm, std::abs(a_j) + b_j + (j > 0 ? beta[size_t(j - 1)] : 0.0));
    if (j + 1 == m) break;
    // beta ~ 0: the Krylov space is invariant (to this relative accuracy, which bounds the
    // Ritz residuals); a further vector would be round-off noise, which reorthogonalisation
    // turns into an arbitrary direction, e.g. the null vector of a singular A (seen at
    // beta ~ 4e-14 ||T||, so the threshold is well above round-off).
    if (b_j <= 1e-10 * a_norm) break;
    AEOLUS_PETSC(VecScale(w, 1.0 / b_j));
    AEOLUS_PETSC(VecCopy(w, basis.add(w)));
  }

  // Eigenpairs of the k x k tridiagonal T = tridiag(beta, alpha, beta): eigenvalues ascending,
  // eigenvectors in the columns of z (column-major).
  const int k = int(alpha.size());
  std::vector<double> d(alpha.begin(), alpha.end());
  std::vector<double> e(beta.begin(), beta.begin() + (k - 1));
  std::vector<double> z;
  tridiagonal_eigen(d, e, z);
  RitzPairs pairs;
  try {
    const double last_beta = beta.back();
    std::vector<Vec>& v = basis.all();
    ProgressMeter assemble(progress, "ritz vectors", k);
    for (int i = 0; i < k; ++i) {
      Vec y = nullptr;
      AEOLUS_PETSC(VecDuplicate(v[0], &y));
      pairs.vectors.push_back(y);
      AEOLUS_PETSC(VecSet(y, 0.0));
      AEOLUS_PETSC(VecMAXPY(y, k, &z[size_t(i) * size_t(k)], v.data()));
      pairs.values.push_back(d[size_t(i)]);
      pairs.residuals.push_back(last_beta * std::abs(z[size_t(i) * size_t(k) + size_t(k - 1)]));
      if (assemble.due(i + 1)) assemble.emit(i + 1);
    }
  } catch (...) {
    destroy(pairs);
    throw;
  }
  return pairs;
}

void destroy(RitzPairs& pairs) {
  for (Vec& v : pairs.vectors)
    if (v) VecDestroy(&v);
  pairs.vectors.clear();
  pairs.values.clear();
  pairs.residuals.clear();
}

}  // namespace aeolus
