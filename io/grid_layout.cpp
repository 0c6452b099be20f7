#include "io/grid_layout.hpp"

#include "grids/error.hpp"

namespace aeolus::io {

std::vector<AxisMeta> cartesian_axes(const std::vector<std::string>& units) {
  std::vector<AxisMeta> axes;
  for (const char* n : {"x", "y", "z"}) {
    AxisMeta a;
    a.name = n;
    a.units = axes.size() < units.size() ? units[axes.size()] : "m";
    a.standard_name = std::string("projection_") + n + "_coordinate";
    a.long_name = std::string(n) + " coordinate of cell centre";
    axes.push_back(a);
  }
  return axes;
}

std::vector<AxisMeta> latlon_axes() {
  std::vector<AxisMeta> axes(3);
  axes[0].name = "lon";
  axes[0].units = "degrees_east";
  axes[0].standard_name = "longitude";
  axes[0].long_name = "longitude of cell centre";
  axes[0].bounds = true;
  axes[1].name = "lat";
  axes[1].units = "degrees_north";
  axes[1].standard_name = "latitude";
  axes[1].long_name = "latitude of cell centre";
  axes[1].bounds = true;
  axes[2].name = "lev";
  axes[2].units = "1";
  axes[2].long_name = "model level index (0 = model top)";
  axes[2].positive = "down";
  return axes;
}

}  // namespace aeolus::io

namespace aeolus::io::detail {

namespace {
const std::array<const char*, 3> kAxis{"X", "Y", "Z"};

const AxisMeta& axis(const std::vector<AxisMeta>& axes, int d) {
  if (size_t(d) >= axes.size()) {
    throw IoError("output: no axis description for dimension " + std::to_string(d));
  }
  return axes[size_t(d)];
}
}  // namespace

std::vector<std::string> spatial_dims(const std::vector<AxisMeta>& axes, int dim) {
  std::vector<std::string> dims;
  for (int d = dim - 1; d >= 0; --d) dims.push_back(axis(axes, d).name);
  return dims;
}

std::vector<std::string> spatial_dims(int dim) { return spatial_dims(cartesian_axes(), dim); }

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

void define_grid(NetcdfFile& file, const CartesianGrid& grid, const std::vector<AxisMeta>& axes) {
  bool any_bounds = false;
  for (int d = grid.dim() - 1; d >= 0; --d) {
    const AxisMeta& a = axis(axes, d);
    file.def_dim(a.name, size_t(grid.n(d)));
    file.def_var(a.name, "double", {a.name});
    file.put_att(a.name, "units", a.units);
    file.put_att(a.name, "axis", kAxis[size_t(d)]);
    if (!a.standard_name.empty()) file.put_att(a.name, "standard_name", a.standard_name);
    file.put_att(a.name, "long_name", a.long_name);
    if (!a.positive.empty()) file.put_att(a.name, "positive", a.positive);
    for (const auto& [key, value] : a.attributes) file.put_att(a.name, key, value);
    if (a.bounds) {
      if (!any_bounds) file.def_dim("nv", 2);
      any_bounds = true;
      const std::string b = a.name + "_bnds";
      file.put_att(a.name, "bounds", b);
      file.def_var(b, "double", {a.name, "nv"});
      for (const auto& [key, value] : a.bounds_attributes) file.put_att(b, key, value);
    }
  }
}

void write_coordinates(NetcdfFile& file, const CartesianGrid& grid,
                       const std::vector<AxisMeta>& axes) {
  for (int d = 0; d < grid.dim(); ++d) {
    const AxisMeta& a = axis(axes, d);
    const size_t n = size_t(grid.n(d));
    std::vector<double> centres(n), bounds(2 * n);
    if ((!a.values.empty() && a.values.size() != n) ||
        (!a.edges.empty() && a.edges.size() != n + 1)) {
      throw IoError(file.path() + ": axis '" + a.name + "' has " + std::to_string(a.values.size()) +
                    " values and " + std::to_string(a.edges.size()) + " edges for " +
                    std::to_string(n) + " cells");
    }
    for (index_t i = 0; i < grid.n(d); ++i) {
      const size_t k = size_t(i);
      centres[k] = a.values.empty() ? grid.center(d, i) : a.values[k];
      if (a.edges.empty()) {
        bounds[2 * k] = grid.lo(d) + real_t(i) * grid.dx(d);
        bounds[2 * k + 1] =
            i + 1 == grid.n(d) ? grid.hi(d) : grid.lo(d) + real_t(i + 1) * grid.dx(d);
      } else {
        bounds[2 * k] = a.edges[k];
        bounds[2 * k + 1] = a.edges[k + 1];
      }
    }
    file.put(a.name, {}, {}, centres.data());
    if (a.bounds) file.put(a.name + "_bnds", {}, {}, bounds.data());
  }
}

void check_grid(const NetcdfFile& file, const CartesianGrid& grid,
                const std::vector<AxisMeta>& axes) {
  for (int d = 0; d < 3 && size_t(d) < axes.size(); ++d) {
    const std::string name = axes[size_t(d)].name;
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
