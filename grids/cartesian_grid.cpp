#include "grids/cartesian_grid.hpp"

#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus {

namespace {
void validate(const CartesianGridParams& p) {
  if (p.dim < 1 || p.dim > 3) {
    throw ConfigError("grid: dim = " + std::to_string(p.dim) + ", expected 1, 2 or 3");
  }
  for (int d = 0; d < 3; ++d) {
    if (d < p.dim && p.n[d] < 1) {
      throw ConfigError("grid: n[" + std::to_string(d) + "] = " + std::to_string(p.n[d]) +
                        ", expected >= 1");
    }
    if (d < p.dim && !(p.hi[d] > p.lo[d])) {
      std::ostringstream os;
      os << "grid: extent along dimension " << d << " is [" << p.lo[d] << ", " << p.hi[d]
         << "], expected hi > lo";
      throw ConfigError(os.str());
    }
  }
  if (p.halo < 0) throw ConfigError("grid: halo = " + std::to_string(p.halo) + ", expected >= 0");
}
}  // namespace

CartesianGrid::CartesianGrid(MPI_Comm comm, const CartesianGridParams& params)
    : CartesianGrid(comm, params, nullptr) {}

CartesianGrid::CartesianGrid(MPI_Comm comm, const CartesianGridParams& params,
                             const std::array<std::vector<PetscInt>, 3>* ownership)
    : comm_(comm), params_(params) {
  for (int d = params_.dim; d < 3; ++d) {
    params_.n[d] = 1;
    params_.lo[d] = 0.0;
    params_.hi[d] = 1.0;
  }
  validate(params_);
  create(ownership);
}

void CartesianGrid::create(const std::array<std::vector<PetscInt>, 3>* ownership) {
  rank_ = comm_rank(comm_);
  size_ = comm_size(comm_);
  const auto bt = [&](int d) {
    return params_.periodic[d] ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED;
  };
  const PetscInt sw = params_.halo;
  const auto lx = [&](int d) -> const PetscInt* {
    return ownership ? (*ownership)[d].data() : nullptr;
  };
  const auto procs = [&](int d) -> PetscInt {
    if (ownership) return PetscInt((*ownership)[d].size());
    return params_.procs[d] > 0 ? params_.procs[d] : PETSC_DECIDE;
  };
  // A box stencil so that corner ghosts are valid (needed by unsplit schemes and CNNs).
  if (params_.dim == 1) {
    AEOLUS_PETSC(DMDACreate1d(comm_, bt(0), PetscInt(params_.n[0]), 1, sw, lx(0), &dm_));
  } else if (params_.dim == 2) {
    AEOLUS_PETSC(DMDACreate2d(comm_, bt(0), bt(1), DMDA_STENCIL_BOX, PetscInt(params_.n[0]),
                              PetscInt(params_.n[1]), procs(0), procs(1), 1, sw, lx(0), lx(1),
                              &dm_));
  } else {
    AEOLUS_PETSC(DMDACreate3d(comm_, bt(0), bt(1), bt(2), DMDA_STENCIL_BOX, PetscInt(params_.n[0]),
                              PetscInt(params_.n[1]), PetscInt(params_.n[2]), procs(0), procs(1),
                              procs(2), 1, sw, lx(0), lx(1), lx(2), &dm_));
  }
  AEOLUS_PETSC(DMSetFromOptions(dm_));
  AEOLUS_PETSC(DMSetUp(dm_));
  PetscInt xs, ys, zs, xm, ym, zm;
  AEOLUS_PETSC(DMDAGetCorners(dm_, &xs, &ys, &zs, &xm, &ym, &zm));
  start_ = {xs, ys, zs};
  count_ = {xm, ym, zm};
  for (int d = 0; d < 3; ++d) {
    if (d >= params_.dim) {
      start_[d] = 0;
      count_[d] = 1;
    }
  }
  const PetscInt *ox = nullptr, *oy = nullptr, *oz = nullptr;
  PetscInt px = 1, py = 1, pz = 1;
  AEOLUS_PETSC(DMDAGetInfo(dm_, nullptr, nullptr, nullptr, nullptr, &px, &py, &pz, nullptr, nullptr,
                           nullptr, nullptr, nullptr, nullptr));
  AEOLUS_PETSC(DMDAGetOwnershipRanges(dm_, &ox, &oy, &oz));
  ownership_[0].assign(ox, ox + px);
  if (params_.dim >= 2) ownership_[1].assign(oy, oy + py);
  if (params_.dim >= 3) ownership_[2].assign(oz, oz + pz);
  // A rank needs at least `halo` owned cells per dimension for a single-hop halo exchange.
  for (int d = 0; d < params_.dim; ++d) {
    for (PetscInt c : ownership_[d]) {
      if (c < params_.halo && size_ > 1) {
        std::ostringstream os;
        os << "grid: " << size_ << " ranks leave a subdomain of " << c << " cells along dimension "
           << d << ", fewer than the halo width " << params_.halo
           << "; use fewer ranks or a finer grid";
        throw ConfigError(os.str());
      }
    }
  }
}

CartesianGrid::~CartesianGrid() {
  if (dm_) DMDestroy(&dm_);
}

std::unique_ptr<CartesianGrid> CartesianGrid::with_halo(int halo) const {
  CartesianGridParams p = params_;
  p.halo = halo;
  return std::unique_ptr<CartesianGrid>(new CartesianGrid(comm_, p, &ownership_));
}

real_t CartesianGrid::cell_volume() const {
  real_t v = 1.0;
  for (int d = 0; d < params_.dim; ++d) v *= dx(d);
  return v;
}

}  // namespace aeolus
