#include "solvers/fft_solver.hpp"

#include <fftw3-mpi.h>
#include <fftw3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <sstream>
#include <vector>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus {

namespace {

constexpr real_t pi = 3.14159265358979323846;

// fftw_mpi_init must run once per process, after MPI_Init (PETSc has done that by the time an
// operator exists). fftw_mpi_cleanup is never called: it would invalidate every live plan.
void ensure_fftw_mpi_initialised() {
  static bool initialised = false;
  if (!initialised) {
    fftw_mpi_init();
    initialised = true;
  }
}

// The 1D transform pair that diagonalises the 1D operator of one dimension. With unknowns
// u_0..u_{n-1}, the operator's eigenvector for mode j is the transform's basis function, and
// its eigenvalue is (4 k0 / h^2) sin^2(theta_j) with theta_j = pi (a j + b) / denominator.
// forward followed by backward multiplies by logical_size (FFTW r2r is unnormalised).
struct Transform1d {
  fftw_r2r_kind forward = FFTW_R2HC, backward = FFTW_HC2R;
  real_t logical_size = 1;
  real_t a = 1, b = 0, denominator = 1;
  bool has_zero_mode = false;  // theta_0 == 0 (periodic, Neumann-Neumann)
};

Transform1d transform_for(BoundaryKind lo, BoundaryKind hi, Centering c, index_t n) {
  using BK = BoundaryKind;
  const real_t nr = real_t(n);
  Transform1d t;
  if (lo == BK::periodic) {
    // The separable half-complex DFT: index j holds the real (j <= n/2) or imaginary part of
    // wave number min(j, n - j); sin^2(pi j / n) is the same for both, so index j itself works.
    t = {FFTW_R2HC, FFTW_HC2R, nr, 1, 0, nr, true};
    return t;
  }
  const bool dlo = lo == BK::dirichlet, dhi = hi == BK::dirichlet;
  if (c == Centering::cell) {
    // Faces half a cell outside the first / last unknown: Dirichlet = odd, Neumann = even
    // reflection about the face (the "10"/"11" kinds).
    if (dlo && dhi) t = {FFTW_RODFT10, FFTW_RODFT01, 2 * nr, 1, 1, 2 * nr, false};
    if (!dlo && !dhi) t = {FFTW_REDFT10, FFTW_REDFT01, 2 * nr, 1, 0, 2 * nr, true};
    if (dlo && !dhi) t = {FFTW_RODFT11, FFTW_RODFT11, 2 * nr, 2, 1, 4 * nr, false};
    if (!dlo && dhi) t = {FFTW_REDFT11, FFTW_REDFT11, 2 * nr, 2, 1, 4 * nr, false};
    return t;
  }
  // Vertex-centred: a Dirichlet vertex is not an unknown (odd reflection about the point one
  // spacing outside), a Neumann vertex is (even reflection about the unknown itself).
  if (dlo && dhi) t = {FFTW_RODFT00, FFTW_RODFT00, 2 * (nr + 1), 1, 1, 2 * (nr + 1), false};
  if (!dlo && !dhi) t = {FFTW_REDFT00, FFTW_REDFT00, 2 * (nr - 1), 1, 0, 2 * (nr - 1), true};
  // Mixed: the eigenvectors are sin / cos(pi (i+1|i) (j + 1/2) / n); synthesis is the "10"
  // kind (output index = grid index), so the analysis (forward) is its inverse, the "01" kind.
  if (dlo && !dhi) t = {FFTW_RODFT01, FFTW_RODFT10, 2 * nr, 2, 1, 4 * nr, false};
  if (!dlo && dhi) t = {FFTW_REDFT01, FFTW_REDFT10, 2 * nr, 2, 1, 4 * nr, false};
  return t;
}

// Number of unknowns along a dimension for the problem (must match the operator's grid).
index_t unknowns_along(const EllipticProblem& p, int d) {
  const index_t panels = p.panels[d];
  if (p.centering == Centering::cell) return panels;
  const BoundaryKind lo = p.boundary[d][0].kind, hi = p.boundary[d][1].kind;
  if (lo == BoundaryKind::periodic) return panels;
  return panels + 1 - (lo == BoundaryKind::dirichlet) - (hi == BoundaryKind::dirichlet);
}

struct FftwFree {
  void operator()(double* p) const { fftw_free(p); }
};
struct PlanDestroy {
  void operator()(fftw_plan_s* p) const { fftw_destroy_plan(p); }
};
using FftwBuffer = std::unique_ptr<double, FftwFree>;
using FftwPlan = std::unique_ptr<fftw_plan_s, PlanDestroy>;

// PETSc handles destroyed with their owner, also when a constructor throws half-way.
template <class T, PetscErrorCode (*destroy)(T*)>
struct PetscHandle {
  T h = nullptr;
  PetscHandle() = default;
  explicit PetscHandle(T x) : h(x) {}
  ~PetscHandle() {
    if (h) destroy(&h);
  }
  PetscHandle(const PetscHandle&) = delete;
  PetscHandle& operator=(const PetscHandle&) = delete;
  operator T() const { return h; }  // NOLINT(google-explicit-constructor)
  T* out() { return &h; }
};
using OwnedVec = PetscHandle<Vec, VecDestroy>;
using OwnedScatter = PetscHandle<VecScatter, VecScatterDestroy>;
using OwnedIs = PetscHandle<IS, ISDestroy>;

}  // namespace

struct FftSolver::Impl {
  const EllipticOperator* op = nullptr;
  MPI_Comm comm = MPI_COMM_NULL;
  int dim = 2;
  bool singular = false;
  index_t global_size = 0;
  // FFTW's dimensions, slowest first: fdim f is the problem's dimension dim - 1 - f.
  std::array<ptrdiff_t, 3> nf{1, 1, 1};
  // Slab of the physical layout (rows [start0, start0 + local0) of fdim 0) and of the
  // spectral layout (transposed: rows [start1, start1 + local1) of fdim 1, then fdim 0, 2).
  ptrdiff_t local0 = 0, start0 = 0, local1 = 0, start1 = 0;
  FftwBuffer buffer;
  FftwPlan forward, backward;
  // 1 / row_scale at the slab's points (empty when every row scale is 1).
  std::vector<real_t> inverse_row_scale;
  // 1 / (logical size * (eigenvalue + c)) at the spectral layout's points (0 for the zero mode
  // of a singular problem): the whole solve in spectral space is one multiplication.
  std::vector<real_t> inverse_eigenvalue;
  // Declared after the buffer: destroyed before it.
  OwnedVec slab;         // wraps `buffer` (physical layout); natural order = global order
  OwnedScatter to_slab;  // operator layout -> slab
  OwnedVec work;         // residual
  double setup_seconds = 0;

  explicit Impl(const EllipticOperator& o);
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ptrdiff_t slab_count() const { return local0 * nf[1] * nf[2]; }
  void make_plans(const std::array<Transform1d, 3>& t);
  void fill_row_scale();
  void fill_eigenvalues(const std::array<Transform1d, 3>& t);
  void make_scatter();
};

FftSolver::Impl::Impl(const EllipticOperator& o) : op(&o) {
  const double t0 = MPI_Wtime();
  const EllipticProblem& p = op->problem();
  const CartesianGrid& grid = op->grid();
  if (!op->constant_coefficient()) {
    throw ConfigError(
        "fft solver: the coefficient k is not constant; the FFT solver needs constant k (use a "
        "Krylov solver for the variable-coefficient (Darcy) problem)");
  }
  comm = grid.comm();
  dim = p.dim;
  singular = p.singular();
  std::array<Transform1d, 3> t;  // per problem dimension
  for (int d = 0; d < dim; ++d) {
    const index_t n = unknowns_along(p, d);
    if (n != grid.n(d)) {
      std::ostringstream os;
      os << "fft solver: the operator's grid has " << grid.n(d) << " unknowns along dimension " << d
         << ", the problem implies " << n;
      throw Error(os.str());
    }
    t[d] = transform_for(p.boundary[d][0].kind, p.boundary[d][1].kind, p.centering, n);
    nf[dim - 1 - d] = ptrdiff_t(n);
  }
  global_size = index_t(nf[0] * nf[1] * nf[2]);
  make_plans(t);
  fill_row_scale();
  fill_eigenvalues(t);
  make_scatter();
  *work.out() = op->create_vector();
  setup_seconds = MPI_Wtime() - t0;
}

void FftSolver::Impl::make_plans(const std::array<Transform1d, 3>& t) {
  std::array<fftw_r2r_kind, 3> fwd{}, bwd{};
  for (int f = 0; f < dim; ++f) {
    fwd[f] = t[dim - 1 - f].forward;
    bwd[f] = t[dim - 1 - f].backward;
  }
  if (dim == 1) {
    // fftw-mpi has no parallel 1D r2r transform: rank 0 holds the whole (small) line.
    const bool root = comm_rank(comm) == 0;
    local0 = root ? nf[0] : 0;
    local1 = local0;
    buffer.reset(fftw_alloc_real(size_t(std::max<ptrdiff_t>(local0, 1))));
    if (root) {
      const int n = int(nf[0]);
      forward.reset(fftw_plan_r2r_1d(n, buffer.get(), buffer.get(), fwd[0], FFTW_ESTIMATE));
      backward.reset(fftw_plan_r2r_1d(n, buffer.get(), buffer.get(), bwd[0], FFTW_ESTIMATE));
      if (!forward || !backward) throw LibraryError("fft solver: FFTW could not plan a 1D r2r");
    }
    return;
  }
  ensure_fftw_mpi_initialised();
  // Transposed spectral layout: the forward transform ends without its last global transpose
  // and the backward one starts without its first, which saves two all-to-alls per solve.
  const ptrdiff_t alloc =
      fftw_mpi_local_size_transposed(dim, nf.data(), comm, &local0, &start0, &local1, &start1);
  buffer.reset(fftw_alloc_real(size_t(std::max<ptrdiff_t>(alloc, 1))));
  // FFTW_ESTIMATE: the plan (hence the rounding of the result) must not depend on timings.
  forward.reset(fftw_mpi_plan_r2r(dim, nf.data(), buffer.get(), buffer.get(), comm, fwd.data(),
                                  FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_OUT));
  backward.reset(fftw_mpi_plan_r2r(dim, nf.data(), buffer.get(), buffer.get(), comm, bwd.data(),
                                   FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_IN));
  if (!forward || !backward) throw LibraryError("fft solver: FFTW could not plan an MPI r2r");
}

void FftSolver::Impl::fill_row_scale() {
  // EllipticOperator scales a vertex-centred row by 1/2 per Neumann face through the vertex;
  // the transforms diagonalise the unscaled difference operator, so b is divided by the scale.
  const EllipticProblem& p = op->problem();
  if (p.centering != Centering::vertex) return;
  bool any = false;
  for (int d = 0; d < dim; ++d) {
    for (int s = 0; s < 2; ++s) any = any || p.boundary[d][s].kind == BoundaryKind::neumann;
  }
  if (!any) return;
  // Factor along problem dimension d at index i: 2 on a Neumann end, 1 elsewhere.
  const auto factor = [&](int d, ptrdiff_t i) -> real_t {
    const ptrdiff_t n = nf[dim - 1 - d];
    real_t f = 1;
    if (i == 0 && p.boundary[d][0].kind == BoundaryKind::neumann) f *= 2;
    if (i == n - 1 && p.boundary[d][1].kind == BoundaryKind::neumann) f *= 2;
    return f;
  };
  inverse_row_scale.resize(size_t(slab_count()));
  size_t m = 0;
  for (ptrdiff_t i0 = 0; i0 < local0; ++i0) {
    for (ptrdiff_t i1 = 0; i1 < nf[1]; ++i1) {
      for (ptrdiff_t i2 = 0; i2 < nf[2]; ++i2) {
        const std::array<ptrdiff_t, 3> fi{start0 + i0, i1, i2};
        real_t f = 1;
        for (int d = 0; d < dim; ++d) f *= factor(d, fi[dim - 1 - d]);
        inverse_row_scale[m++] = f;
      }
    }
  }
}

void FftSolver::Impl::fill_eigenvalues(const std::array<Transform1d, 3>& t) {
  const EllipticProblem& p = op->problem();
  const real_t k0 = op->constant_k();
  // Eigenvalues of each 1D operator in fdim order; 4 sin^2 rather than 2 - 2 cos keeps the
  // small ones accurate.
  std::array<std::vector<real_t>, 3> lambda;
  real_t logical = 1;
  for (int f = 0; f < 3; ++f) {
    if (f >= dim) {
      lambda[f].assign(1, 0.0);
      continue;
    }
    const int d = dim - 1 - f;
    const Transform1d& tr = t[d];
    const real_t h = p.spacing(d);
    lambda[f].resize(size_t(nf[f]));
    for (ptrdiff_t j = 0; j < nf[f]; ++j) {
      const real_t s = std::sin(pi * (tr.a * real_t(j) + tr.b) / tr.denominator);
      lambda[f][size_t(j)] = 4 * k0 / (h * h) * s * s;
    }
    logical *= tr.logical_size;
  }
  const real_t c = p.helmholtz;
  // Spectral layout: transposed (fdim 1 slowest) for the MPI transforms, plain in 1D.
  const bool transposed = dim >= 2;
  const ptrdiff_t n_outer = transposed ? local1 : local0;
  const ptrdiff_t outer_start = transposed ? start1 : start0;
  const ptrdiff_t n_middle = transposed ? nf[0] : nf[1];
  inverse_eigenvalue.resize(size_t(n_outer * n_middle * nf[2]));
  // Largest |eigenvalue + c| bounds the scale for the resonance check below.
  real_t largest = std::abs(c);
  for (int f = 0; f < dim; ++f) largest += *std::max_element(lambda[f].begin(), lambda[f].end());
  size_t m = 0;
  for (ptrdiff_t a = 0; a < n_outer; ++a) {
    for (ptrdiff_t b = 0; b < n_middle; ++b) {
      for (ptrdiff_t e = 0; e < nf[2]; ++e) {
        const ptrdiff_t j0 = transposed ? b : outer_start + a;
        const ptrdiff_t j1 = transposed ? outer_start + a : b;
        const real_t den = lambda[0][size_t(j0)] + lambda[1][size_t(j1)] + lambda[2][size_t(e)] + c;
        const bool zero_mode = j0 == 0 && j1 == 0 && e == 0;
        if (singular && zero_mode) {
          inverse_eigenvalue[m++] = 0;  // the constant null space; its coefficient is free
          continue;
        }
        if (std::abs(den) <= 1e-13 * largest) {
          std::ostringstream os;
          os << "fft solver: the operator is singular at mode (" << j0 << ", " << j1 << ", " << e
             << ") (eigenvalue " << den << "; a Helmholtz c = " << c
             << " resonant with the grid's eigenvalues)";
          throw NumericsError(os.str());
        }
        inverse_eigenvalue[m++] = 1 / (logical * den);
      }
    }
  }
}

void FftSolver::Impl::make_scatter() {
  const ptrdiff_t count = slab_count();
  AEOLUS_PETSC(VecCreateMPIWithArray(comm, 1, PetscInt(count), PetscInt(global_size), buffer.get(),
                                     slab.out()));
  // The slabs are contiguous ranges of the natural (x fastest) ordering, in rank order, so a
  // slab point's index in `slab` is its natural index; the DMDA's AO maps that to the index in
  // the operator's (PETSc-ordered) global vector. One scatter then does the whole move.
  PetscInt first = 0;
  AEOLUS_PETSC(VecGetOwnershipRange(slab, &first, nullptr));
  std::vector<PetscInt> indices(static_cast<size_t>(count));
  for (ptrdiff_t m = 0; m < count; ++m) indices[size_t(m)] = first + PetscInt(m);
  AO ao = nullptr;  // owned by the DM
  AEOLUS_PETSC(DMDAGetAO(op->grid().dm(), &ao));
  AEOLUS_PETSC(AOApplicationToPetsc(ao, PetscInt(count), indices.data()));
  OwnedIs from, to;
  AEOLUS_PETSC(
      ISCreateGeneral(comm, PetscInt(count), indices.data(), PETSC_COPY_VALUES, from.out()));
  AEOLUS_PETSC(ISCreateStride(comm, PetscInt(count), first, 1, to.out()));
  const OwnedVec layout(op->create_vector());
  AEOLUS_PETSC(VecScatterCreate(layout, from, slab, to, to_slab.out()));
}

FftSolver::FftSolver(const EllipticOperator& op) : impl_(std::make_unique<Impl>(op)) {}
FftSolver::~FftSolver() = default;

SolveStats FftSolver::solve(Vec b, Vec x) {
  Impl& s = *impl_;
  SolveStats stats;
  stats.setup_seconds = s.setup_seconds;
  const double t0 = MPI_Wtime();
  AEOLUS_PETSC(VecScatterBegin(s.to_slab, b, s.slab, INSERT_VALUES, SCATTER_FORWARD));
  AEOLUS_PETSC(VecScatterEnd(s.to_slab, b, s.slab, INSERT_VALUES, SCATTER_FORWARD));
  double* data = s.buffer.get();
  // The Vec's array is the buffer itself; Get/Restore only tells PETSc that it changes.
  PetscScalar* array = nullptr;
  AEOLUS_PETSC(VecGetArray(s.slab, &array));
  if (!s.inverse_row_scale.empty()) {
    for (size_t m = 0; m < s.inverse_row_scale.size(); ++m) data[m] *= s.inverse_row_scale[m];
  }
  if (s.forward) fftw_execute(s.forward.get());
  for (size_t m = 0; m < s.inverse_eigenvalue.size(); ++m) data[m] *= s.inverse_eigenvalue[m];
  if (s.backward) fftw_execute(s.backward.get());
  AEOLUS_PETSC(VecRestoreArray(s.slab, &array));
  AEOLUS_PETSC(VecScatterBegin(s.to_slab, s.slab, x, INSERT_VALUES, SCATTER_REVERSE));
  AEOLUS_PETSC(VecScatterEnd(s.to_slab, s.slab, x, INSERT_VALUES, SCATTER_REVERSE));
  if (s.singular) {
    // The zero mode is zero in the transform's basis, which for a vertex-centred Neumann
    // dimension is not the plain mean; remove that too, as KspSolver's answer has none.
    PetscScalar sum = 0;
    AEOLUS_PETSC(VecSum(x, &sum));
    AEOLUS_PETSC(VecShift(x, -sum / PetscScalar(s.global_size)));
  }
  stats.seconds = MPI_Wtime() - t0;
  AEOLUS_PETSC(MatMult(s.op->matrix(), x, s.work));
  AEOLUS_PETSC(VecAYPX(s.work, -1.0, b));
  AEOLUS_PETSC(VecNorm(s.work, NORM_2, &stats.residual_norm));
  AEOLUS_PETSC(VecNorm(b, NORM_2, &stats.rhs_norm));
  stats.iterations = 0;
  stats.converged = true;
  stats.reason = "direct";
  return stats;
}

SolveStats FftSolver::solve(const Field& f, Field& u) {
  const OwnedVec b(impl_->op->create_vector());
  const OwnedVec x(impl_->op->create_vector());
  impl_->op->rhs(f, b);
  SolveStats stats = solve(b, x);
  impl_->op->from_vec(x, u);
  return stats;
}

}  // namespace aeolus
