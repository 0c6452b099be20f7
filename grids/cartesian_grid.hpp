#pragma once
// A cell-centred Cartesian grid in 1, 2 or 3 dimensions, distributed with a PETSc DMDA.
//
// Cell (i, j, k) has centre lo + (index + 1/2) * dx. Each rank owns a box of cells
// [start(d), start(d) + count(d)) and stores `halo()` ghost layers around it (box stencil, so
// corners are filled too). Unused dimensions have n = 1, count = 1 and no halo. A rank may own
// fewer cells than the halo width (down to one): its ghosts then come from ranks further away
// (halo_scatter()); every rank must own at least one cell along each dimension.
#include <petscdmda.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "grids/types.hpp"

namespace aeolus {

struct CartesianGridParams {
  int dim = 2;
  std::array<index_t, 3> n{64, 64, 1};
  std::array<real_t, 3> lo{0.0, 0.0, 0.0};
  std::array<real_t, 3> hi{1.0, 1.0, 1.0};
  std::array<bool, 3> periodic{true, true, true};
  int halo = 2;  // ghost layers a stepper needs; a stepper may ask for a wider copy
  // Optional process grid (0 = let PETSc choose) per dimension.
  std::array<int, 3> procs{0, 0, 0};
};

class CartesianGrid {
 public:
  CartesianGrid(MPI_Comm comm, const CartesianGridParams& params);
  // A grid with a decomposition chosen by the caller (a host code that has its own, coupled
  // through the C API): ownership[d] lists the cells owned along used dimension d by each
  // column of the process grid, as PETSc's lx, ly, lz (unused dimensions: empty). Rank r owns
  // the box (r % px, r / px % py, r / (px py)) of that tensor product, as in a DMDA.
  // params.procs is ignored. ConfigError if a count is < 1, the counts along d do not sum to
  // n[d], or px py pz is not the communicator's size.
  CartesianGrid(MPI_Comm comm, const CartesianGridParams& params,
                const std::array<std::vector<PetscInt>, 3>& ownership);
  ~CartesianGrid();
  CartesianGrid(const CartesianGrid&) = delete;
  CartesianGrid& operator=(const CartesianGrid&) = delete;

  // A grid with the same cells and the same decomposition but `halo` ghost layers.
  std::unique_ptr<CartesianGrid> with_halo(int halo) const;

  const CartesianGridParams& params() const { return params_; }
  int dim() const { return params_.dim; }
  index_t n(int d) const { return params_.n[d]; }
  real_t lo(int d) const { return params_.lo[d]; }
  real_t hi(int d) const { return params_.hi[d]; }
  real_t dx(int d) const { return (params_.hi[d] - params_.lo[d]) / real_t(params_.n[d]); }
  bool periodic(int d) const { return params_.periodic[d]; }
  int halo() const { return params_.halo; }
  // Halo width along d (0 for unused dimensions).
  int halo(int d) const { return d < params_.dim ? params_.halo : 0; }
  real_t cell_volume() const;
  index_t global_cells() const { return params_.n[0] * params_.n[1] * params_.n[2]; }

  // Cells owned by each rank along d (PETSc's ownership ranges; empty for unused dimensions).
  const std::vector<PetscInt>& ownership(int d) const { return ownership_[size_t(d)]; }
  // Owned box of this rank.
  index_t start(int d) const { return start_[d]; }
  index_t count(int d) const { return count_[d]; }
  index_t local_cells() const { return count_[0] * count_[1] * count_[2]; }
  // Ghosted local array extents (count + 2*halo in used dimensions).
  index_t ghosted_count(int d) const { return count_[d] + 2 * halo(d); }
  index_t ghosted_size() const { return ghosted_count(0) * ghosted_count(1) * ghosted_count(2); }

  real_t center(int d, index_t global_index) const {
    return params_.lo[d] + (real_t(global_index) + 0.5) * dx(d);
  }

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  DM dm() const { return dm_; }
  // Multi-hop halos. PETSc's DMDA exchanges ghosts with the adjacent ranks only, so it needs
  // every rank to own at least `halo` cells along each dimension. Where some rank owns fewer,
  // the DMDA is built with the stencil width that does fit (its local vectors are then NOT the
  // ghosted layout of this grid) and this scatter, from the DMDA's global vector to a ghosted
  // array of ghosted_size(), fills every ghost cell from whichever rank owns it (periodic
  // wrap included; ghosts outside a non-periodic boundary are left alone, as DMDA leaves
  // them). Null where the DMDA's own exchange serves. Field::exchange_halos uses it.
  VecScatter halo_scatter() const { return halo_scatter_; }
  // The DMDA's stencil width (== halo() unless halo_scatter() is set).
  int dm_stencil_width() const { return dm_stencil_width_; }

 private:
  CartesianGrid(MPI_Comm comm, const CartesianGridParams& params,
                const std::array<std::vector<PetscInt>, 3>* ownership);
  void create(const std::array<std::vector<PetscInt>, 3>* ownership);
  void create_dmda(PetscInt stencil_width, const std::array<std::vector<PetscInt>, 3>* ownership);
  void build_halo_scatter();

  MPI_Comm comm_;
  CartesianGridParams params_;
  DM dm_ = nullptr;
  VecScatter halo_scatter_ = nullptr;
  int dm_stencil_width_ = 0;
  int rank_ = 0, size_ = 1;
  std::array<index_t, 3> start_{0, 0, 0}, count_{1, 1, 1};
  std::array<std::vector<PetscInt>, 3> ownership_;  // cells per rank along each dimension
};

}  // namespace aeolus
