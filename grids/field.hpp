#pragma once
// A distributed cell-centred scalar field: owns the rank's ghosted block as one contiguous
// array (x fastest), exchanges halos through the grid's DMDA and does global reductions.
#include <petscvec.h>

#include <string>
#include <vector>

#include "grids/cartesian_grid.hpp"
#include "grids/field_view.hpp"

namespace aeolus {

class Field {
 public:
  Field(const CartesianGrid& grid, std::string name);
  ~Field();
  Field(const Field& other);
  Field& operator=(const Field& other);  // same grid required; copies values incl. halos

  const CartesianGrid& grid() const { return *grid_; }
  const std::string& name() const { return name_; }

  FieldView view();
  ConstFieldView view() const;
  real_t* data() { return data_.data(); }
  const real_t* data() const { return data_.data(); }

  // Fill ghost cells from neighbours (periodic wrap included). Non-periodic physical ghosts are
  // left to the caller's boundary condition.
  void exchange_halos();
  void fill(real_t value);  // owned and ghost cells
  // Copy owned values from a field on a grid with the same cells and decomposition (any halo).
  void copy_owned_from(const Field& other);

  // Global reductions over owned cells (collective).
  real_t sum() const;  // plain sum of values
  real_t integral() const { return sum() * grid_->cell_volume(); }
  real_t min() const;
  real_t max() const;
  bool all_finite() const;
  // Count of non-finite owned values (collective).
  index_t count_nonfinite() const;

  // Global values in natural order (x fastest) on rank 0; empty vector on other ranks.
  std::vector<real_t> gather_to_root() const;
  // Inverse: rank 0 passes all global values (natural order), other ranks pass anything.
  void scatter_from_root(const std::vector<real_t>& global_values);

 private:
  void copy_owned_to_global() const;
  void copy_global_to_owned();
  // Ghost cells (and, through the DMDA, owned cells) of data_ from global_.
  void global_to_ghosted();
  void wrap_halos_locally();  // exchange_halos on one rank
  const CartesianGrid* grid_;
  std::string name_;
  std::vector<real_t> data_;
  Vec global_ = nullptr, local_ = nullptr;  // PETSc work vectors (halo exchange, gather)
};

}  // namespace aeolus
