#include "solvers/elliptic.hpp"

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus {

namespace {

const char* kAxis[3] = {"x", "y", "z"};

bool is_periodic(const EllipticProblem& p, int d) {
  return p.boundary[size_t(d)][0].kind == BoundaryKind::periodic;
}
BoundaryKind kind(const EllipticProblem& p, int d, int side) {
  return p.boundary[size_t(d)][size_t(side)].kind;
}

// Unknowns along d and the vertex index of unknown 0 (vertex-centred: 1 after a Dirichlet
// vertex, else 0; cell-centred: 0).
struct AxisLayout {
  index_t n = 1;
  index_t first = 0;
};

AxisLayout axis_layout(const EllipticProblem& p, int d) {
  AxisLayout a;
  if (d >= p.dim) return a;
  const index_t panels = p.panels[size_t(d)];
  if (p.centering == Centering::cell || is_periodic(p, d)) {
    a.n = panels;  // cells, or vertices 0..panels-1 (vertex `panels` is vertex 0)
    return a;
  }
  a.first = kind(p, d, 0) == BoundaryKind::dirichlet ? 1 : 0;
  const index_t last = kind(p, d, 1) == BoundaryKind::dirichlet ? panels - 1 : panels;
  a.n = last - a.first + 1;
  return a;
}

// Position of unknown i along d (0 for unused dimensions).
real_t unknown_coord(const EllipticProblem& p, const AxisLayout& a, int d, index_t i) {
  if (d >= p.dim) return 0.0;
  const real_t h = p.spacing(d);
  if (p.centering == Centering::cell) return p.lo[size_t(d)] + (real_t(i) + 0.5) * h;
  return p.lo[size_t(d)] + real_t(i + a.first) * h;
}

real_t harmonic(real_t a, real_t b) { return 2.0 * a * b / (a + b); }

real_t eval(const BoundaryCondition& bc, const std::array<real_t, 3>& x) {
  return bc.value ? bc.value(x[0], x[1], x[2]) : 0.0;
}

// Destroys a vector on scope exit (a throw between create and destroy leaks nothing).
struct VecGuard {
  Vec v = nullptr;
  ~VecGuard() {
    if (v) VecDestroy(&v);
  }
};

// Options of KspParams::options as (name with prefix, value) pairs; value empty for a flag.
std::vector<std::pair<std::string, std::string>> parse_options(const std::string& options,
                                                               const std::string& prefix) {
  std::istringstream is(options);
  std::vector<std::string> tokens;
  for (std::string t; is >> t;) tokens.push_back(t);
  const auto is_number = [](const std::string& t) {
    char* end = nullptr;
    std::strtod(t.c_str(), &end);
    return end && *end == '\0' && end != t.c_str();
  };
  const auto is_name = [&](const std::string& t) {
    return t.size() > 1 && t[0] == '-' && !is_number(t);
  };
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!is_name(tokens[i])) {
      throw ConfigError("ksp options '" + options + "': expected an option name starting with " +
                        "'-' at '" + tokens[i] + "'");
    }
    std::string name = "-" + prefix + tokens[i].substr(1);
    std::string value;
    if (i + 1 < tokens.size() && !is_name(tokens[i + 1])) value = tokens[++i];
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

// Puts the solver's own options into PETSc's global database for the lifetime of the object,
// skipping every name already there (the command line, or the caller, wins), and takes out
// exactly the ones it put in. Scoped rather than permanent so that two solvers with the same
// prefix and different options do not see each other's values.
class ScopedOptions {
 public:
  explicit ScopedOptions(const std::vector<std::pair<std::string, std::string>>& opts) {
    for (const auto& [name, value] : opts) {
      PetscBool present = PETSC_FALSE;
      AEOLUS_PETSC(PetscOptionsHasName(nullptr, nullptr, name.c_str(), &present));
      if (present) continue;
      AEOLUS_PETSC(
          PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str()));
      inserted_.push_back(name);
    }
  }
  ~ScopedOptions() {
    for (const auto& name : inserted_) PetscOptionsClearValue(nullptr, name.c_str());
  }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  std::vector<std::string> inserted_;
};

// An AIJ matrix with the layout of the grid's DMDA, preallocated for the 3/5/7-point star.
// The grid's DMDA has a box stencil (for the explicit schemes), which would preallocate 9 or 27
// entries per row; a star DMDA with the same sizes and ownership ranges numbers the unknowns
// identically, so the matrix works with the grid's vectors and with MatSetValuesStencil.
Mat create_star_matrix(const CartesianGrid& grid) {
  DM dm = grid.dm(), star = nullptr;
  PetscInt M = 1, N = 1, P = 1, m = 1, n = 1, p = 1;
  DMBoundaryType bx = DM_BOUNDARY_NONE, by = DM_BOUNDARY_NONE, bz = DM_BOUNDARY_NONE;
  AEOLUS_PETSC(
      DMDAGetInfo(dm, nullptr, &M, &N, &P, &m, &n, &p, nullptr, nullptr, &bx, &by, &bz, nullptr));
  const PetscInt *lx = nullptr, *ly = nullptr, *lz = nullptr;
  AEOLUS_PETSC(DMDAGetOwnershipRanges(dm, &lx, &ly, &lz));
  const MPI_Comm comm = grid.comm();
  if (grid.dim() == 1) {
    AEOLUS_PETSC(DMDACreate1d(comm, bx, M, 1, 1, lx, &star));
  } else if (grid.dim() == 2) {
    AEOLUS_PETSC(DMDACreate2d(comm, bx, by, DMDA_STENCIL_STAR, M, N, m, n, 1, 1, lx, ly, &star));
  } else {
    AEOLUS_PETSC(DMDACreate3d(comm, bx, by, bz, DMDA_STENCIL_STAR, M, N, P, m, n, p, 1, 1, lx, ly,
                              lz, &star));
  }
  Mat A = nullptr;
  try {
    AEOLUS_PETSC(DMSetUp(star));
    AEOLUS_PETSC(DMCreateMatrix(star, &A));  // the matrix keeps its own reference to `star`
  } catch (...) {
    DMDestroy(&star);
    throw;
  }
  DMDestroy(&star);
  return A;
}

}  // namespace

void set_boundary_data(EllipticProblem& p, const physics::ManufacturedSolution& exact) {
  for (int d = 0; d < p.dim; ++d) {
    for (int side = 0; side < 2; ++side) {
      auto& bc = p.boundary[size_t(d)][size_t(side)];
      if (bc.kind == BoundaryKind::dirichlet) {
        bc.value = [exact](real_t x, real_t y, real_t z) { return exact.u(x, y, z); };
      } else if (bc.kind == BoundaryKind::neumann) {
        const real_t sign = side == 0 ? -1.0 : 1.0;  // outward normal
        bc.value = [exact, d, sign](real_t x, real_t y, real_t z) {
          return sign * exact.du(d, x, y, z);
        };
      }
    }
  }
}

std::unique_ptr<CartesianGrid> make_elliptic_grid(MPI_Comm comm, const EllipticProblem& p) {
  p.validate();
  CartesianGridParams gp;
  gp.dim = p.dim;
  gp.halo = 1;
  gp.procs = p.procs;
  for (int d = 0; d < p.dim; ++d) {
    const size_t u = size_t(d);
    const AxisLayout a = axis_layout(p, d);
    const real_t h = p.spacing(d);
    gp.n[u] = a.n;
    gp.periodic[u] = is_periodic(p, d);
    if (p.centering == Centering::cell) {
      gp.lo[u] = p.lo[u];
      gp.hi[u] = p.hi[u];
    } else {
      // Cells of width h centred on the unknown vertices: center(d, i) = lo + (i + first) h.
      gp.lo[u] = p.lo[u] + (real_t(a.first) - 0.5) * h;
      gp.hi[u] = gp.lo[u] + real_t(a.n) * h;
    }
  }
  return std::make_unique<CartesianGrid>(comm, gp);
}

// ---------------------------------------------------------------------------------------------
// EllipticOperator

EllipticOperator::EllipticOperator(const CartesianGrid& grid, const EllipticProblem& p,
                                   const Field* k)
    : grid_(&grid), problem_(p) {
  problem_.validate();
  const EllipticProblem& q = problem_;
  std::array<AxisLayout, 3> axis;
  for (int d = 0; d < 3; ++d) axis[size_t(d)] = axis_layout(q, d);
  if (grid.dim() != q.dim || grid.halo() < 1) {
    throw ConfigError("EllipticOperator: grid of dim " + std::to_string(grid.dim()) + " and halo " +
                      std::to_string(grid.halo()) + " for a problem of dim " +
                      std::to_string(q.dim) + "; use make_elliptic_grid");
  }
  for (int d = 0; d < q.dim; ++d) {
    if (grid.n(d) != axis[size_t(d)].n || grid.periodic(d) != is_periodic(q, d)) {
      throw ConfigError("EllipticOperator: grid has " + std::to_string(grid.n(d)) +
                        " points along " + kAxis[d] + ", the problem " +
                        std::to_string(axis[size_t(d)].n) +
                        " unknowns (or periodicity differs); use make_elliptic_grid");
    }
  }

  // Coefficient with valid neighbour values (halo exchange) on this grid's decomposition.
  std::unique_ptr<Field> kk;
  if (k) {
    kk = std::make_unique<Field>(grid, "k");
    kk->copy_owned_from(*k);
    kk->exchange_halos();
    const index_t bad = kk->count_nonfinite();
    const real_t kmin = bad ? 0.0 : kk->min(), kmax = bad ? 0.0 : kk->max();
    if (bad || !(kmin > 0)) {
      throw ConfigError("EllipticOperator: coefficient " + k->name() + " must be positive and " +
                        "finite; min = " + fmt("%.6g", kmin) +
                        ", non-finite values = " + std::to_string(bad));
    }
    constant_k_ = kmin == kmax;
    k0_ = kmin;
  }

  A_ = create_star_matrix(grid);
  // The destructor does not run for a constructor that throws: release A on the way out.
  struct Release {
    Mat* m;
    bool armed = true;
    ~Release() {
      if (armed && *m) MatDestroy(m);
    }
  } release{&A_};
  const bool vertex = q.centering == Centering::vertex;
  const index_t nloc = grid.local_cells();
  boundary_rhs_.assign(size_t(nloc), 0.0);
  scale_.assign(size_t(nloc), 1.0);
  ConstFieldView kv;
  if (kk) kv = kk->view();
  const auto k_at = [&](index_t i, index_t j, index_t l) { return kk ? kv(i, j, l) : 1.0; };

  std::vector<MatStencil> cols;
  std::vector<PetscScalar> vals;
  size_t n = 0;
  for (index_t l = 0; l < grid.count(2); ++l)
    for (index_t j = 0; j < grid.count(1); ++j)
      for (index_t i = 0; i < grid.count(0); ++i, ++n) {
        const std::array<index_t, 3> loc{i, j, l};
        const std::array<index_t, 3> gl{grid.start(0) + i, grid.start(1) + j, grid.start(2) + l};
        std::array<real_t, 3> x{};
        for (int d = 0; d < 3; ++d)
          x[size_t(d)] = unknown_coord(q, axis[size_t(d)], d, gl[size_t(d)]);
        const real_t kc = k_at(i, j, l);
        // Vertex-centred: the vertex lies on a Neumann face along d (lo or hi side).
        std::array<bool, 3> on_neumann{false, false, false};
        real_t s = 1.0;
        if (vertex) {
          for (int d = 0; d < q.dim; ++d) {
            if (is_periodic(q, d)) continue;
            const index_t nd = axis[size_t(d)].n;
            const bool lo_face = gl[size_t(d)] == 0 && kind(q, d, 0) == BoundaryKind::neumann;
            const bool hi_face = gl[size_t(d)] == nd - 1 && kind(q, d, 1) == BoundaryKind::neumann;
            on_neumann[size_t(d)] = lo_face || hi_face;
            if (on_neumann[size_t(d)]) s *= 0.5;
          }
        }
        cols.clear();
        vals.clear();
        MatStencil row{};
        row.i = PetscInt(gl[0]);
        row.j = PetscInt(gl[1]);
        row.k = PetscInt(gl[2]);
        real_t diag = q.helmholtz, bnd = 0.0;
        for (int d = 0; d < q.dim; ++d) {
          const real_t h = q.spacing(d), h2 = h * h;
          const index_t nd = axis[size_t(d)].n;
          for (int side = 0; side < 2; ++side) {
            const int step = side == 0 ? -1 : 1;
            const index_t gn = gl[size_t(d)] + step;
            if (is_periodic(q, d) || (gn >= 0 && gn < nd)) {
              // Neighbour unknown (periodic: the DMDA wraps index -1 / n in MatSetValuesStencil;
              // the halo holds the wrapped coefficient).
              std::array<index_t, 3> ln = loc;
              ln[size_t(d)] += step;
              const real_t kf = harmonic(kc, k_at(ln[0], ln[1], ln[2]));
              // Mirror ghost: a vertex on a Neumann face couples twice to its one neighbour
              // along d (before the 1/2 row scaling that makes A symmetric).
              const real_t w = (vertex && on_neumann[size_t(d)] ? 2.0 : 1.0) * kf / h2;
              diag += w;
              MatStencil c = row;
              (d == 0 ? c.i : d == 1 ? c.j : c.k) = PetscInt(gn);
              cols.push_back(c);
              vals.push_back(-w);
              continue;
            }
            // A boundary face beyond this unknown along d.
            const BoundaryCondition& bc = q.boundary[size_t(d)][size_t(side)];
            std::array<real_t, 3> xb = x;
            xb[size_t(d)] = side == 0 ? q.lo[size_t(d)] : q.hi[size_t(d)];
            const real_t g = eval(bc, xb);
            if (!vertex) {
              if (bc.kind == BoundaryKind::dirichlet) {
                // Face half a cell away: ghost u_g = 2 g - u, flux k (u - g) / (h/2).
                diag += 2.0 * kc / h2;
                bnd += 2.0 * kc * g / h2;
              } else {
                // Prescribed flux k du/dn through the face, with k on the face where known.
                const real_t kb = bc.face_k ? bc.face_k(xb[0], xb[1], xb[2]) : kc;
                if (!(kb > 0) || !std::isfinite(kb)) {
                  throw ConfigError("EllipticOperator: face_k on the " +
                                    std::string(side == 0 ? "low " : "high ") + kAxis[d] +
                                    " face = " + fmt("%.6g", kb) +
                                    ", expected positive and finite");
                }
                bnd += kb * g / h;
              }
            } else if (bc.kind == BoundaryKind::dirichlet) {
              // The known boundary vertex one spacing away.
              diag += kc / h2;
              bnd += kc * g / h2;
            } else {
              // This vertex is on the Neumann face: the mirror ghost u_{-1} = u_1 + 2 h g gives
              // 2 k g / h (k of the vertex itself: the flux is prescribed at the face).
              bnd += 2.0 * kc * g / h;
            }
          }
        }
        cols.push_back(row);
        vals.push_back(diag);
        for (auto& v : vals) v *= s;
        scale_[n] = s;
        boundary_rhs_[n] = s * bnd;
        AEOLUS_PETSC(MatSetValuesStencil(A_, 1, &row, PetscInt(cols.size()), cols.data(),
                                         vals.data(), ADD_VALUES));
      }
  AEOLUS_PETSC(MatAssemblyBegin(A_, MAT_FINAL_ASSEMBLY));
  AEOLUS_PETSC(MatAssemblyEnd(A_, MAT_FINAL_ASSEMBLY));
  AEOLUS_PETSC(MatSetOption(A_, MAT_SYMMETRIC, PETSC_TRUE));
  AEOLUS_PETSC(MatSetOption(A_, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  if (q.singular()) {
    // Constant null space; also as the transpose null space (A is symmetric), so that KSPSolve
    // projects a right side that was not made compatible by rhs().
    MatNullSpace ns = nullptr;
    AEOLUS_PETSC(MatNullSpaceCreate(grid.comm(), PETSC_TRUE, 0, nullptr, &ns));
    AEOLUS_PETSC(MatSetNullSpace(A_, ns));
    AEOLUS_PETSC(MatSetTransposeNullSpace(A_, ns));
    AEOLUS_PETSC(MatNullSpaceDestroy(&ns));
  }
  release.armed = false;
}

EllipticOperator::~EllipticOperator() {
  if (A_) MatDestroy(&A_);
}

Vec EllipticOperator::create_vector() const {
  Vec v = nullptr;
  AEOLUS_PETSC(DMCreateGlobalVector(grid_->dm(), &v));
  return v;
}

void EllipticOperator::rhs(const Field& f, Vec b, real_t* compatibility) const {
  PetscScalar* a = nullptr;
  AEOLUS_PETSC(VecGetArray(b, &a));
  const auto fv = f.view();
  size_t n = 0;
  for (index_t l = 0; l < grid_->count(2); ++l)
    for (index_t j = 0; j < grid_->count(1); ++j)
      for (index_t i = 0; i < grid_->count(0); ++i, ++n)
        a[n] = scale_[n] * fv(i, j, l) + boundary_rhs_[n];
  AEOLUS_PETSC(VecRestoreArray(b, &a));
  if (compatibility) *compatibility = 0.0;
  if (!singular()) return;
  // Range of the symmetric A = orthogonal complement of the constants: remove the plain mean.
  PetscScalar sum = 0;
  PetscReal norm = 0;
  PetscInt size = 0;
  AEOLUS_PETSC(VecSum(b, &sum));
  AEOLUS_PETSC(VecNorm(b, NORM_2, &norm));
  AEOLUS_PETSC(VecGetSize(b, &size));
  const real_t mean = sum / real_t(size);
  const real_t rms = norm / std::sqrt(real_t(size));
  if (compatibility) *compatibility = rms > 0 ? std::abs(mean) / rms : 0.0;
  AEOLUS_PETSC(VecShift(b, -mean));
}

void EllipticOperator::row_scale(Field& out) const {
  auto v = out.view();
  size_t n = 0;
  for (index_t l = 0; l < grid_->count(2); ++l)
    for (index_t j = 0; j < grid_->count(1); ++j)
      for (index_t i = 0; i < grid_->count(0); ++i, ++n) v(i, j, l) = scale_[n];
}

void EllipticOperator::to_vec(const Field& u, Vec v) const {
  PetscScalar* a = nullptr;
  AEOLUS_PETSC(VecGetArray(v, &a));
  const auto uv = u.view();
  size_t n = 0;
  for (index_t l = 0; l < grid_->count(2); ++l)
    for (index_t j = 0; j < grid_->count(1); ++j)
      for (index_t i = 0; i < grid_->count(0); ++i) a[n++] = uv(i, j, l);
  AEOLUS_PETSC(VecRestoreArray(v, &a));
}

void EllipticOperator::from_vec(Vec v, Field& u) const {
  const PetscScalar* a = nullptr;
  AEOLUS_PETSC(VecGetArrayRead(v, &a));
  auto uv = u.view();
  size_t n = 0;
  for (index_t l = 0; l < grid_->count(2); ++l)
    for (index_t j = 0; j < grid_->count(1); ++j)
      for (index_t i = 0; i < grid_->count(0); ++i) uv(i, j, l) = a[n++];
  AEOLUS_PETSC(VecRestoreArrayRead(v, &a));
}

void EllipticOperator::apply(const Field& u, Field& out) const {
  VecGuard x, y;
  x.v = create_vector();
  y.v = create_vector();
  to_vec(u, x.v);
  AEOLUS_PETSC(MatMult(A_, x.v, y.v));
  from_vec(y.v, out);
}

// ---------------------------------------------------------------------------------------------
// KspSolver

KspSolver::KspSolver(const EllipticOperator& op, const KspParams& params)
    : op_(&op), params_(params) {
  if (!(params.rtol >= 0) || !(params.atol >= 0) || params.max_it < 1) {
    throw ConfigError("KspSolver: rtol = " + fmt("%.6g", params.rtol) + ", atol = " +
                      fmt("%.6g", params.atol) + ", max_it = " + std::to_string(params.max_it) +
                      "; expected rtol >= 0, atol >= 0, max_it >= 1");
  }
  options_ = parse_options(params.options, params.prefix);
  if (op.singular()) {
    // A pure Neumann / periodic operator has a singular Galerkin coarse matrix. GAMG's default
    // coarse solve (an LU factorisation) then pivots on round-off, and the preconditioner is
    // indefinite along the null space: CG stops with DIVERGED_INDEFINITE_PC once the residual
    // reaches that round-off (on some BLAS kernels above rtol 1e-12, on others not). The
    // pseudo-inverse (PCSVD) of the coarse matrix, which is tiny, removes that. A default only:
    // the case file and the command line can set another coarse solver.
    const std::string name = "-" + params.prefix + "mg_coarse_pc_type";
    const bool given = std::any_of(options_.begin(), options_.end(),
                                   [&](const auto& o) { return o.first == name; });
    if (!given) options_.emplace_back(name, "svd");
  }
  AEOLUS_PETSC(KSPCreate(op.grid().comm(), &ksp_));
  // The destructor does not run for a constructor that throws: destroy the KSP here.
  try {
    AEOLUS_PETSC(KSPSetOperators(ksp_, op.matrix(), op.matrix()));
    if (!params.prefix.empty()) AEOLUS_PETSC(KSPSetOptionsPrefix(ksp_, params.prefix.c_str()));
    // Set before KSPSetFromOptions so that the options database can override them.
    AEOLUS_PETSC(KSPSetTolerances(ksp_, params.rtol, params.atol, PETSC_DEFAULT, params.max_it));
    AEOLUS_PETSC(KSPSetInitialGuessNonzero(ksp_, PETSC_TRUE));
    AEOLUS_PETSC(KSPSetNormType(ksp_, KSP_NORM_UNPRECONDITIONED));
    if (params.record_history) {
      AEOLUS_PETSC(KSPSetResidualHistory(ksp_, nullptr, PetscInt(params.max_it) + 1, PETSC_TRUE));
    }
    const double t0 = MPI_Wtime();
    {
      // The options must be present while PETSc reads them: KSPSetFromOptions reads the KSP and
      // PC ones, KSPSetUp the multigrid levels', KSPSetUpOnBlocks block Jacobi's sub-solvers'.
      ScopedOptions scoped(options_);
      AEOLUS_PETSC(KSPSetFromOptions(ksp_));
      // preonly (a direct solve through the PC) refuses an initial guess; it has no use for one.
      PetscBool preonly = PETSC_FALSE;
      AEOLUS_PETSC(PetscObjectTypeCompare((PetscObject)ksp_, KSPPREONLY, &preonly));
      if (preonly) AEOLUS_PETSC(KSPSetInitialGuessNonzero(ksp_, PETSC_FALSE));
      // Not every method supports the unpreconditioned norm (preonly, or a PC side fixed on the
      // command line): try quietly, and fall back to the method's default norm. The reported
      // residual is the true one either way.
      PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
      const PetscErrorCode ierr = KSPSetUp(ksp_);
      PetscPopErrorHandler();
      if (ierr) {
        AEOLUS_PETSC(KSPSetNormType(ksp_, KSP_NORM_DEFAULT));
        AEOLUS_PETSC(KSPSetUp(ksp_));
      }
      AEOLUS_PETSC(KSPSetUpOnBlocks(ksp_));
    }
    setup_seconds_ = MPI_Wtime() - t0;
    // After KSPSetFromOptions, which cancels earlier monitors when -ksp_monitor_cancel is given.
    if (params.progress) AEOLUS_PETSC(KSPMonitorSet(ksp_, &KspSolver::monitor, this, nullptr));
  } catch (...) {
    KSPDestroy(&ksp_);
    throw;
  }
}

PetscErrorCode KspSolver::monitor(KSP, PetscInt it, PetscReal rnorm, void* self) {
  auto* s = static_cast<KspSolver*>(self);
  if (!s->meter_) return 0;
  // No exception may cross PETSc's C frames: a failing sink only loses the line.
  try {
    // A solve shorter than the interval says nothing (the run log reports it when it ends).
    if (s->meter_->elapsed() >= s->params_.progress_seconds && s->meter_->due(it))
      s->meter_->emit(it, "residual " + format_sci(rnorm / s->meter_bnorm_) + " (relative)");
  } catch (...) {
  }
  return 0;
}

KspSolver::~KspSolver() {
  if (ksp_) KSPDestroy(&ksp_);
}

std::string KspSolver::describe() const {
  KSPType kt = nullptr;
  PC pc = nullptr;
  PCType pt = nullptr;
  AEOLUS_PETSC(KSPGetType(ksp_, &kt));
  AEOLUS_PETSC(KSPGetPC(ksp_, &pc));
  AEOLUS_PETSC(PCGetType(pc, &pt));
  return std::string(kt ? kt : "?") + " + " + (pt ? pt : "?");
}

SolveStats KspSolver::solve(Vec b, Vec x) {
  const bool singular = op_->singular();
  SolveStats st;
  st.setup_seconds = setup_seconds_;
  // The right side the residual is measured against: b itself, or its compatible part.
  VecGuard bc, r;
  Vec rhs = b;
  PetscInt size = 0;
  AEOLUS_PETSC(VecGetSize(b, &size));
  if (singular) {
    AEOLUS_PETSC(VecDuplicate(b, &bc.v));
    AEOLUS_PETSC(VecCopy(b, bc.v));
    PetscScalar sum = 0;
    AEOLUS_PETSC(VecSum(bc.v, &sum));
    AEOLUS_PETSC(VecShift(bc.v, -sum / real_t(size)));
    rhs = bc.v;
  }
  PetscReal bnorm = 0;
  AEOLUS_PETSC(VecNorm(rhs, NORM_2, &bnorm));
  st.rhs_norm = bnorm;

  KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
  PetscInt its = 0;
  AEOLUS_PETSC(VecDuplicate(b, &r.v));
  PetscReal rnorm = 0;
  const PetscReal target = std::max(PetscReal(params_.rtol) * bnorm, PetscReal(params_.atol));
  // The true residual b - A x (x with its mean removed for a singular A).
  const auto true_residual = [&] {
    if (singular) {
      PetscScalar sum = 0;
      AEOLUS_PETSC(VecSum(x, &sum));
      AEOLUS_PETSC(VecShift(x, -sum / real_t(size)));
    }
    AEOLUS_PETSC(MatMult(op_->matrix(), x, r.v));
    AEOLUS_PETSC(VecAYPX(r.v, -1.0, rhs));  // r = rhs - A x
    AEOLUS_PETSC(VecNorm(r.v, NORM_2, &rnorm));
  };
  // A Krylov breakdown (an indefinite preconditioner or matrix seen by CG, a zero inner product)
  // is often round-off near convergence rather than a wrong solver: judge it by the true
  // residual, and restart from the current iterate (a fresh Krylov space) while that keeps
  // shrinking. Only a breakdown that leaves the residual above the target is an error.
  const auto breakdown = [](KSPConvergedReason why) {
    return why == KSP_DIVERGED_INDEFINITE_PC || why == KSP_DIVERGED_INDEFINITE_MAT ||
           why == KSP_DIVERGED_BREAKDOWN || why == KSP_DIVERGED_BREAKDOWN_BICG;
  };
  const int max_restarts = 3;
  std::string broke_down;
  if (params_.progress) {
    // The number of iterations is not known in advance: no total, no ETA.
    meter_ = std::make_unique<ProgressMeter>(params_.progress, "ksp " + describe() + " iteration",
                                             0, params_.progress_seconds);
    meter_bnorm_ = bnorm > 0 ? bnorm : 1;
  }
  st.history.clear();
  for (int attempt = 0;; ++attempt) {
    {
      // Solve-time options (-ksp_view, -ksp_converged_reason, ...) are read during KSPSolve.
      ScopedOptions scoped(options_);
      const double t0 = MPI_Wtime();
      AEOLUS_PETSC(KSPSolve(ksp_, rhs, x));
      st.seconds += MPI_Wtime() - t0;
    }
    AEOLUS_PETSC(KSPGetConvergedReason(ksp_, &reason));
    AEOLUS_PETSC(KSPGetIterationNumber(ksp_, &its));
    st.iterations += int(its);
    if (params_.record_history) {
      const PetscReal* h = nullptr;
      PetscInt nh = 0;
      AEOLUS_PETSC(KSPGetResidualHistory(ksp_, &h, &nh));
      // A restart repeats its starting residual, the previous attempt's last one.
      for (PetscInt i = attempt > 0 ? 1 : 0; i < nh; ++i)
        st.history.push_back(bnorm > 0 ? h[i] / bnorm : h[i]);
    }
    const PetscReal before = rnorm;
    true_residual();
    if (!breakdown(reason)) break;
    broke_down = KSPConvergedReasons[reason];
    if (rnorm <= target) break;
    if (attempt == max_restarts || (attempt > 0 && !(rnorm < 0.5 * before))) break;
  }
  st.residual_norm = rnorm;
  st.converged = reason > 0;
  st.reason = KSPConvergedReasons[reason];
  if (breakdown(reason) && rnorm <= target) {
    st.converged = true;
    st.reason = "CONVERGED_TRUE_RESIDUAL (KSP stopped with " + broke_down +
                " with the true residual below the tolerance)";
  } else if (!broke_down.empty() && st.converged) {
    st.reason += " (after a restart on " + broke_down + ")";
  }
  if (reason < 0 && reason != KSP_DIVERGED_ITS && !st.converged) {
    throw NumericsError("KSP " + describe() + " diverged: " + st.reason + " after " +
                        std::to_string(st.iterations) + " iterations, true residual " +
                        fmt("%.6g", rnorm) + " (relative " + fmt("%.6g", st.relative_residual()) +
                        ", tolerance " + fmt("%.6g", params_.rtol) + ")" +
                        (breakdown(reason) ? "; restarts from the last iterate did not help" : ""));
  }
  return st;
}

SolveStats KspSolver::solve(const Field& f, Field& u) {
  VecGuard b, x;
  b.v = op_->create_vector();
  x.v = op_->create_vector();
  op_->rhs(f, b.v);
  op_->to_vec(u, x.v);
  SolveStats st = solve(b.v, x.v);
  op_->from_vec(x.v, u);
  return st;
}

}  // namespace aeolus
