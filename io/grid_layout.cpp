#include "io/grid_layout.hpp"

#include "grids/error.hpp"

namespace aeolus::io::detail {

namespace {
const std::array<const char*, 3> kDimNames{"x", "y", "z"};
const std::array<const char*, 3> kAxis{"X", "Y", "Z"};
}  // namespace

std::vector<std::string> spatial_dims(int dim) {
  std::vector<std::string> dims;
  for (int d = dim - 1; d >= 0; --d) dims.emplace_back(kDimNames[size_t(d)]);
  return dims;
}

std::vector<size_t> spatial_shape(const CartesianGrid& grid) {
  std::vector<size_t> shape;
  for (int d = grid.dim() - 1; d >= 0; --d) shape.push_back(size_t(grid.n(d)));
  return shape;
}

std::string shape_string(const std::vector<size_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string names_string(const std::vector<std::string>& names) {
  std::string s = "(";
  for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + names[i];
  return s + ")";
}

void define_grid(NetcdfFile& file, const CartesianGrid& grid,
                 const std::vector<std::string>& axis_units) {
  for (int d = grid.dim() - 1; d >= 0; --d) {
    const std::string name = kDimNames[size_t(d)];
    file.def_dim(name, size_t(grid.n(d)));
    file.def_var(name, "double", {name});
    file.put_att(name, "units", size_t(d) < axis_units.size() ? axis_units[size_t(d)] : "m");
    file.put_att(name, "axis", kAxis[size_t(d)]);
    file.put_att(name, "standard_name", "projection_" + name + "_coordinate");
    file.put_att(name, "long_name", name + " coordinate of cell centre");
  }
}

void write_coordinates(NetcdfFile& file, const CartesianGrid& grid) {
  for (int d = 0; d < grid.dim(); ++d) {
    std::vector<double> centres(size_t(grid.n(d)));
    for (index_t i = 0; i < grid.n(d); ++i) centres[size_t(i)] = grid.center(d, i);
    file.put(kDimNames[size_t(d)], {}, {}, centres.data());
  }
}

void check_grid(const NetcdfFile& file, const CartesianGrid& grid) {
  for (int d = 0; d < 3; ++d) {
    const std::string name = kDimNames[size_t(d)];
    const bool used = d < grid.dim();
    const bool present = file.has_var(name);
    if (used != present) {
      throw IoError(file.path() + ": dimension '" + name + "' is " +
                    (present ? "present" : "missing") + " but the grid is " +
                    std::to_string(grid.dim()) + "D");
    }
    if (used && file.dim_len(name) != size_t(grid.n(d))) {
      throw IoError(file.path() + ": dimension '" + name + "' has length " +
                    std::to_string(file.dim_len(name)) + ", grid has " + std::to_string(grid.n(d)));
    }
  }
}

}  // namespace aeolus::io::detail
