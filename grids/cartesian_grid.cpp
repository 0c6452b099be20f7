#include "grids/cartesian_grid.hpp"

#include <algorithm>
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

// The caller's ownership ranges, checked here so that a mistake is named in the grid's terms
// rather than as a PETSc error code from DMDACreate.
const std::array<std::vector<PetscInt>, 3>& checked_ownership(
    MPI_Comm comm, const CartesianGridParams& p,
    const std::array<std::vector<PetscInt>, 3>& ownership) {
  validate(p);
  long long ranks = 1;
  for (int d = 0; d < 3; ++d) {
    const auto& o = ownership[size_t(d)];
    const std::string name = "grid: ownership[" + std::to_string(d) + "]";
    if (d >= p.dim) {
      if (!o.empty()) {
        throw ConfigError(name + " has " + std::to_string(o.size()) +
                          " entries for an unused dimension (dim = " + std::to_string(p.dim) +
                          "); expected none");
      }
      continue;
    }
    if (o.empty()) throw ConfigError(name + " is empty; expected one count per process column");
    long long sum = 0;
    for (size_t i = 0; i < o.size(); ++i) {
      if (o[i] < 1) {
        throw ConfigError(name + "[" + std::to_string(i) + "] = " + std::to_string(o[i]) +
                          "; expected >= 1 cell");
      }
      sum += o[i];
    }
    if (sum != p.n[size_t(d)]) {
      throw ConfigError(name + " sums to " + std::to_string(sum) + " cells; expected n[" +
                        std::to_string(d) + "] = " + std::to_string(p.n[size_t(d)]));
    }
    ranks *= static_cast<long long>(o.size());
  }
  int size = 1;
  MPI_Comm_size(comm, &size);
  if (ranks != size) {
    throw ConfigError("grid: the ownership ranges make " + std::to_string(ranks) +
                      " process boxes; expected the communicator's size, " + std::to_string(size));
  }
  return ownership;
}
}  // namespace

CartesianGrid::CartesianGrid(MPI_Comm comm, const CartesianGridParams& params)
    : CartesianGrid(comm, params, nullptr) {}

CartesianGrid::CartesianGrid(MPI_Comm comm, const CartesianGridParams& params,
                             const std::array<std::vector<PetscInt>, 3>& ownership)
    : CartesianGrid(comm, params, &checked_ownership(comm, params, ownership)) {}

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

void CartesianGrid::create_dmda(PetscInt sw,
                                const std::array<std::vector<PetscInt>, 3>* ownership) {
  const auto bt = [&](int d) {
    return params_.periodic[d] ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED;
  };
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
  const PetscInt *ox = nullptr, *oy = nullptr, *oz = nullptr;
  PetscInt px = 1, py = 1, pz = 1;
  AEOLUS_PETSC(DMDAGetInfo(dm_, nullptr, nullptr, nullptr, nullptr, &px, &py, &pz, nullptr, nullptr,
                           nullptr, nullptr, nullptr, nullptr));
  AEOLUS_PETSC(DMDAGetOwnershipRanges(dm_, &ox, &oy, &oz));
  ownership_ = {};
  ownership_[0].assign(ox, ox + px);
  if (params_.dim >= 2) ownership_[1].assign(oy, oy + py);
  if (params_.dim >= 3) ownership_[2].assign(oz, oz + pz);
}

void CartesianGrid::create(const std::array<std::vector<PetscInt>, 3>* ownership) {
  rank_ = comm_rank(comm_);
  size_ = comm_size(comm_);
  // PETSc's DMDA needs every rank to own at least `stencil width` cells along each dimension.
  // A first DMDA without a stencil learns the partition PETSc chooses (the stencil width does
  // not change it); the real one then gets the widest stencil that fits, and halos wider than
  // that go through a multi-hop scatter (halo_scatter()).
  if (!ownership) {
    create_dmda(0, nullptr);
    AEOLUS_PETSC(DMDestroy(&dm_));
    ownership = &ownership_;
  }
  const std::array<std::vector<PetscInt>, 3> layout = *ownership;
  PetscInt fits = params_.halo;
  for (int d = 0; d < params_.dim; ++d)
    for (PetscInt c : layout[d]) fits = std::min(fits, c);
  dm_stencil_width_ = int(fits);
  create_dmda(fits, &layout);
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
  if (dm_stencil_width_ < params_.halo) build_halo_scatter();
}

void CartesianGrid::build_halo_scatter() {
  // Every ghost cell of the ghosted box [start - halo, start + count + halo) that is not owned,
  // mapped to its global cell (wrapped where periodic; skipped outside a non-periodic edge),
  // in natural order, then to PETSc's global numbering through the DMDA's AO.
  std::array<index_t, 3> g0{}, gc{};
  for (int d = 0; d < 3; ++d) {
    g0[d] = start_[d] - halo(d);
    gc[d] = ghosted_count(d);
  }
  std::vector<PetscInt> from, to;
  for (index_t k = 0; k < gc[2]; ++k)
    for (index_t j = 0; j < gc[1]; ++j)
      for (index_t i = 0; i < gc[0]; ++i) {
        const std::array<index_t, 3> at{g0[0] + i, g0[1] + j, g0[2] + k};
        bool owned = true, inside = true;
        std::array<index_t, 3> cell{};
        for (int d = 0; d < 3; ++d) {
          owned = owned && at[d] >= start_[d] && at[d] < start_[d] + count_[d];
          index_t c = at[d];
          if (d < params_.dim) {
            if (params_.periodic[d]) {
              c = ((c % params_.n[d]) + params_.n[d]) % params_.n[d];
            } else if (c < 0 || c >= params_.n[d]) {
              inside = false;
            }
          }
          cell[size_t(d)] = c;
        }
        if (owned || !inside) continue;
        from.push_back(PetscInt(cell[0] + params_.n[0] * (cell[1] + params_.n[1] * cell[2])));
        to.push_back(PetscInt(i + gc[0] * (j + gc[1] * k)));
      }
  AO ao = nullptr;
  AEOLUS_PETSC(DMDAGetAO(dm_, &ao));
  AEOLUS_PETSC(AOApplicationToPetsc(ao, PetscInt(from.size()), from.data()));
  IS is_from = nullptr, is_to = nullptr;
  Vec global = nullptr, local = nullptr;
  AEOLUS_PETSC(ISCreateGeneral(PETSC_COMM_SELF, PetscInt(from.size()), from.data(),
                               PETSC_COPY_VALUES, &is_from));
  AEOLUS_PETSC(
      ISCreateGeneral(PETSC_COMM_SELF, PetscInt(to.size()), to.data(), PETSC_COPY_VALUES, &is_to));
  AEOLUS_PETSC(DMCreateGlobalVector(dm_, &global));
  AEOLUS_PETSC(VecCreateSeq(PETSC_COMM_SELF, PetscInt(ghosted_size()), &local));
  AEOLUS_PETSC(VecScatterCreate(global, is_from, local, is_to, &halo_scatter_));
  ISDestroy(&is_from);
  ISDestroy(&is_to);
  VecDestroy(&global);
  VecDestroy(&local);
}

CartesianGrid::~CartesianGrid() {
  if (halo_scatter_) VecScatterDestroy(&halo_scatter_);
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
