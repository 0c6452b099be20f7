#pragma once
// How a CartesianGrid is laid out in our NetCDF files (internal to io/): only the used
// dimensions, slowest first (1D: x; 2D: y, x; 3D: z, y, x), which is the natural order of
// Field::gather_to_root (x fastest), plus CF coordinate variables of the cell centres.
#include <array>
#include <string>
#include <vector>

#include "grids/cartesian_grid.hpp"
#include "io/netcdf_file.hpp"
#include "io/output_writer.hpp"

namespace aeolus::io::detail {

// Axis names of the used dimensions, slowest first, e.g. {"y", "x"} or {"lat", "lon"}.
std::vector<std::string> spatial_dims(const std::vector<AxisMeta>& axes, int dim);
std::vector<std::string> spatial_dims(int dim);                   // default names {"y", "x"}
std::vector<size_t> spatial_shape(const CartesianGrid& grid);     // e.g. {ny, nx}
std::string shape_string(const std::vector<size_t>& shape);       // "[ny, nx]"
std::string names_string(const std::vector<std::string>& names);  // "(time, y, x)"

// Define mode: dimensions and CF coordinate variables x[, y[, z]].
void define_grid(NetcdfFile& file, const CartesianGrid& grid, const std::vector<AxisMeta>& axes);
// Data mode: cell centres (and bounds) into the coordinate variables.
void write_coordinates(NetcdfFile& file, const CartesianGrid& grid,
                       const std::vector<AxisMeta>& axes);
// Throws IoError naming the file and dimension when the file's dimensions differ from the grid.
void check_grid(const NetcdfFile& file, const CartesianGrid& grid,
                const std::vector<AxisMeta>& axes);

}  // namespace aeolus::io::detail
