#pragma once
// How a CartesianGrid is laid out in our NetCDF files (internal to io/): only the used
// dimensions, slowest first (1D: x; 2D: y, x; 3D: z, y, x), which is the natural order of
// Field::gather_to_root (x fastest), plus CF coordinate variables of the cell centres.
#include <array>
#include <string>
#include <vector>

#include "grids/cartesian_grid.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::io::detail {

std::vector<std::string> spatial_dims(int dim);                   // e.g. {"y", "x"}
std::vector<size_t> spatial_shape(const CartesianGrid& grid);     // e.g. {ny, nx}
std::string shape_string(const std::vector<size_t>& shape);       // "[ny, nx]"
std::string names_string(const std::vector<std::string>& names);  // "(time, y, x)"

// Define mode: dimensions and CF coordinate variables x[, y[, z]].
void define_grid(NetcdfFile& file, const CartesianGrid& grid,
                 const std::vector<std::string>& axis_units);
// Data mode: cell centres into the coordinate variables.
void write_coordinates(NetcdfFile& file, const CartesianGrid& grid);
// Throws IoError naming the file and dimension when the file's dimensions differ from the grid.
void check_grid(const NetcdfFile& file, const CartesianGrid& grid);

}  // namespace aeolus::io::detail
