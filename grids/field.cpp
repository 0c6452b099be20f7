#include "grids/field.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus {

Field::Field(const CartesianGrid& grid, std::string name)
    : grid_(&grid), name_(std::move(name)), data_(size_t(grid.ghosted_size()), 0.0) {
  AEOLUS_PETSC(DMCreateGlobalVector(grid_->dm(), &global_));
  if (grid_->halo_scatter()) {
    // Multi-hop halos: the DMDA's local vectors are narrower than this grid's ghosted array.
    AEOLUS_PETSC(VecCreateSeq(PETSC_COMM_SELF, PetscInt(grid_->ghosted_size()), &local_));
  } else {
    AEOLUS_PETSC(DMCreateLocalVector(grid_->dm(), &local_));
  }
  PetscInt n = 0;
  AEOLUS_PETSC(VecGetLocalSize(local_, &n));
  if (index_t(n) != grid_->ghosted_size()) {
    throw LibraryError("Field " + name_ + ": DMDA local size " + std::to_string(n) +
                       " differs from the expected ghosted size " +
                       std::to_string(grid_->ghosted_size()));
  }
}

Field::~Field() {
  if (global_) VecDestroy(&global_);
  if (local_) VecDestroy(&local_);
}

Field::Field(const Field& other) : Field(*other.grid_, other.name_) { data_ = other.data_; }

Field& Field::operator=(const Field& other) {
  if (this == &other) return *this;
  if (other.data_.size() != data_.size()) {
    throw Error("Field " + name_ + ": assignment from field " + other.name_ +
                " on a different grid");
  }
  data_ = other.data_;
  return *this;
}

FieldView Field::view() {
  FieldView v;
  v.nx = grid_->count(0);
  v.ny = grid_->count(1);
  v.nz = grid_->count(2);
  v.hx = grid_->halo(0);
  v.hy = grid_->halo(1);
  v.hz = grid_->halo(2);
  v.sy = grid_->ghosted_count(0);
  v.sz = grid_->ghosted_count(0) * grid_->ghosted_count(1);
  v.origin = data_.data() + v.hx + v.hy * v.sy + v.hz * v.sz;
  return v;
}

ConstFieldView Field::view() const {
  FieldView v = const_cast<Field*>(this)->view();
  ConstFieldView c;
  c.origin = v.origin;
  c.nx = v.nx;
  c.ny = v.ny;
  c.nz = v.nz;
  c.hx = v.hx;
  c.hy = v.hy;
  c.hz = v.hz;
  c.sy = v.sy;
  c.sz = v.sz;
  return c;
}

// The local part of a DMDA global vector is the owned box, x fastest. (DMLocalToGlobal with
// INSERT_VALUES is not supported by PETSc for periodic DMDAs, so we copy by hand.)
void Field::copy_owned_to_global() const {
  PetscScalar* g = nullptr;
  AEOLUS_PETSC(VecGetArray(global_, &g));
  auto v = view();
  index_t n = 0;
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) g[n++] = v(i, j, k);
  AEOLUS_PETSC(VecRestoreArray(global_, &g));
}

// The inverse of copy_owned_to_global.
void Field::copy_global_to_owned() {
  const PetscScalar* g = nullptr;
  AEOLUS_PETSC(VecGetArrayRead(global_, &g));
  auto v = view();
  index_t n = 0;
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) v(i, j, k) = g[n++];
  AEOLUS_PETSC(VecRestoreArrayRead(global_, &g));
}

void Field::exchange_halos() {
  if (grid_->size() == 1) {
    wrap_halos_locally();
    return;
  }
  copy_owned_to_global();
  global_to_ghosted();
}

// One rank: every ghost inside the domain (after the periodic wrap) is a copy of an owned cell
// of this array, so no PETSc vector is needed; ghosts beyond a non-periodic edge are left alone,
// as the DMDA leaves them. Same values as the DMDA exchange, without the two copies of every
// owned cell through PETSc's global vector.
void Field::wrap_halos_locally() {
  auto v = view();
  const CartesianGrid& g = *grid_;
  const index_t n[3] = {g.n(0), g.n(1), g.n(2)};
  const index_t own[3] = {v.nx, v.ny, v.nz};
  const index_t h[3] = {v.hx, v.hy, v.hz};
  // The owned cell a ghost index stands for along d, or -1 beyond a non-periodic edge.
  auto source = [&](int d, index_t i) -> index_t {
    if (i >= 0 && i < own[d]) return i;
    if (!g.periodic(d) || d >= g.dim()) return -1;
    return ((i % n[d]) + n[d]) % n[d];
  };
  for (index_t k = -h[2]; k < own[2] + h[2]; ++k) {
    const index_t sk = source(2, k);
    if (sk < 0) continue;
    for (index_t j = -h[1]; j < own[1] + h[1]; ++j) {
      const index_t sj = source(1, j);
      if (sj < 0) continue;
      const bool inner = k == sk && j == sj;  // an owned row: only its x ghosts
      for (index_t i = -h[0]; i < own[0] + h[0]; ++i) {
        if (inner && i == 0) i = own[0];
        if (i >= own[0] + h[0]) break;
        const index_t si = source(0, i);
        if (si >= 0) v(i, j, k) = v(si, sj, sk);
      }
    }
  }
}

void Field::global_to_ghosted() {
  AEOLUS_PETSC(VecPlaceArray(local_, data_.data()));
  if (VecScatter s = grid_->halo_scatter()) {
    AEOLUS_PETSC(VecScatterBegin(s, global_, local_, INSERT_VALUES, SCATTER_FORWARD));
    AEOLUS_PETSC(VecScatterEnd(s, global_, local_, INSERT_VALUES, SCATTER_FORWARD));
    // The scatter fills ghosts only; the owned cells are in global_ (the copy of this array
    // that DMGlobalToLocal would write back) and already here.
  } else {
    AEOLUS_PETSC(DMGlobalToLocal(grid_->dm(), global_, INSERT_VALUES, local_));
  }
  AEOLUS_PETSC(VecResetArray(local_));
}

void Field::fill(real_t value) { std::fill(data_.begin(), data_.end(), value); }

void Field::copy_owned_from(const Field& other) {
  for (int d = 0; d < 3; ++d) {
    if (other.grid().count(d) != grid_->count(d) || other.grid().start(d) != grid_->start(d)) {
      throw Error("Field " + name_ + ": copy from field " + other.name_ +
                  " with a different decomposition");
    }
  }
  auto dst = view();
  auto src = other.view();
  for (index_t k = 0; k < dst.nz; ++k)
    for (index_t j = 0; j < dst.ny; ++j)
      for (index_t i = 0; i < dst.nx; ++i) dst(i, j, k) = src(i, j, k);
}

namespace {
template <class Op>
real_t reduce_owned(const Field& f, real_t init, Op op, MPI_Op mpi_op) {
  auto v = f.view();
  real_t acc = init;
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) acc = op(acc, v(i, j, k));
  real_t out = acc;
  AEOLUS_MPI(MPI_Allreduce(&acc, &out, 1, MPI_DOUBLE, mpi_op, f.grid().comm()));
  return out;
}
}  // namespace

real_t Field::sum() const {
  return reduce_owned(
      *this, 0.0, [](real_t a, real_t b) { return a + b; }, MPI_SUM);
}
real_t Field::min() const {
  return reduce_owned(
      *this, std::numeric_limits<real_t>::infinity(),
      [](real_t a, real_t b) { return std::min(a, b); }, MPI_MIN);
}
real_t Field::max() const {
  return reduce_owned(
      *this, -std::numeric_limits<real_t>::infinity(),
      [](real_t a, real_t b) { return std::max(a, b); }, MPI_MAX);
}
index_t Field::count_nonfinite() const {
  auto v = view();
  long long bad = 0;
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) bad += std::isfinite(v(i, j, k)) ? 0 : 1;
  long long total = 0;
  AEOLUS_MPI(MPI_Allreduce(&bad, &total, 1, MPI_LONG_LONG, MPI_SUM, grid_->comm()));
  return index_t(total);
}
bool Field::all_finite() const { return count_nonfinite() == 0; }

std::vector<real_t> Field::gather_to_root() const {
  DM dm = grid_->dm();
  // Owned values -> global vector (PETSc ordering) -> natural ordering -> rank 0.
  copy_owned_to_global();
  Vec natural = nullptr, root = nullptr;
  VecScatter to_zero = nullptr;
  AEOLUS_PETSC(DMDACreateNaturalVector(dm, &natural));
  AEOLUS_PETSC(DMDAGlobalToNaturalBegin(dm, global_, INSERT_VALUES, natural));
  AEOLUS_PETSC(DMDAGlobalToNaturalEnd(dm, global_, INSERT_VALUES, natural));
  AEOLUS_PETSC(VecScatterCreateToZero(natural, &to_zero, &root));
  AEOLUS_PETSC(VecScatterBegin(to_zero, natural, root, INSERT_VALUES, SCATTER_FORWARD));
  AEOLUS_PETSC(VecScatterEnd(to_zero, natural, root, INSERT_VALUES, SCATTER_FORWARD));
  std::vector<real_t> out;
  if (grid_->rank() == 0) {
    PetscInt n = 0;
    const PetscScalar* a = nullptr;
    AEOLUS_PETSC(VecGetLocalSize(root, &n));
    AEOLUS_PETSC(VecGetArrayRead(root, &a));
    out.assign(a, a + n);
    AEOLUS_PETSC(VecRestoreArrayRead(root, &a));
  }
  VecScatterDestroy(&to_zero);
  VecDestroy(&root);
  VecDestroy(&natural);
  return out;
}

void Field::scatter_from_root(const std::vector<real_t>& global_values) {
  DM dm = grid_->dm();
  Vec natural = nullptr, root = nullptr;
  VecScatter to_zero = nullptr;
  AEOLUS_PETSC(DMDACreateNaturalVector(dm, &natural));
  AEOLUS_PETSC(VecScatterCreateToZero(natural, &to_zero, &root));
  if (grid_->rank() == 0) {
    PetscInt n = 0;
    AEOLUS_PETSC(VecGetLocalSize(root, &n));
    if (index_t(global_values.size()) != index_t(n)) {
      // Other ranks would hang in the scatter below; abort the communicator with the reason.
      throw Error("Field " + name_ + ": scatter of " + std::to_string(global_values.size()) +
                  " values, expected " + std::to_string(n));
    }
    PetscScalar* a = nullptr;
    AEOLUS_PETSC(VecGetArray(root, &a));
    std::copy(global_values.begin(), global_values.end(), a);
    AEOLUS_PETSC(VecRestoreArray(root, &a));
  }
  AEOLUS_PETSC(VecScatterBegin(to_zero, root, natural, INSERT_VALUES, SCATTER_REVERSE));
  AEOLUS_PETSC(VecScatterEnd(to_zero, root, natural, INSERT_VALUES, SCATTER_REVERSE));
  AEOLUS_PETSC(DMDANaturalToGlobalBegin(dm, natural, INSERT_VALUES, global_));
  AEOLUS_PETSC(DMDANaturalToGlobalEnd(dm, natural, INSERT_VALUES, global_));
  // The owned cells from global_, then the ghosts.
  copy_global_to_owned();
  global_to_ghosted();
  VecScatterDestroy(&to_zero);
  VecDestroy(&root);
  VecDestroy(&natural);
}

}  // namespace aeolus
