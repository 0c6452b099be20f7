#pragma once
// CF-1.8 NetCDF-4 output of a run: one file per run whatever the rank count, with an unlimited
// time dimension.
//
// Fields are gathered to rank 0, which alone writes (serial NetCDF-4 from one rank). Why not
// parallel NetCDF-4: Debian's libnetcdf is built without parallel HDF5 I/O, and at the sizes a
// case writes per frame the gather costs less than one time step; the gather goes through the
// DMDA natural ordering, so the file is identical for every rank count.
//
// Safety: the file is written as PATH.part with global attribute aeolus_complete = 0; close()
// sets it to 1 and renames to PATH. A killed run leaves only a .part file, never a truncated
// PATH that looks complete.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grids/field.hpp"

namespace aeolus::io {

struct VariableMeta {
  std::string name;
  std::string units;
  std::string long_name;
  std::string standard_name;  // empty where CF defines none
};

// A spatial axis as the file names and describes it (CF coordinate variable of cell centres).
struct AxisMeta {
  std::string name;  // dimension and coordinate variable name
  std::string units;
  std::string standard_name;  // empty where CF defines none
  std::string long_name;
  std::string positive;  // "up"/"down" for vertical axes, else empty
  bool bounds = false;   // also write NAME_bnds(NAME, nv) with the cell edges
  // Coordinate values and cell edges (n + 1) when they are not the grid's own (e.g. pressure
  // levels); empty: the grid's cell centres and edges.
  std::vector<double> values, edges;
  // Further attributes of the coordinate variable and of its bounds variable (e.g. CF
  // formula_terms of a parametric vertical coordinate, which both must carry).
  std::map<std::string, std::string> attributes, bounds_attributes;
};
// x, y, z in the given units (projection coordinates of an idealised box).
std::vector<AxisMeta> cartesian_axes(const std::vector<std::string>& units = {"m", "m", "m"});
// lon (degrees_east), lat (degrees_north) with bounds, lev (model level index from the top).
std::vector<AxisMeta> latlon_axes();

struct OutputSpec {
  std::string path;                               // final path, e.g. case/output/advection.nc
  std::vector<VariableMeta> fields;               // one per Field passed to write_frame, in order
  std::vector<VariableMeta> scalars;              // per-frame diagnostics (time series)
  std::map<std::string, std::string> attributes;  // global attributes (title, source, ...)
  // CF 4.4 wants a reference time; idealised runs count from an arbitrary epoch.
  std::string time_units = "seconds since 2000-01-01 00:00:00";
  std::string calendar = "proleptic_gregorian";
  std::vector<AxisMeta> axes = cartesian_axes();  // one per grid dimension, x first
  // Time-independent fields written once at creation (e.g. cell_area), and the CF
  // cell_measures attribute given to every field ("area: cell_area"; empty for none).
  std::vector<std::pair<VariableMeta, const Field*>> static_fields;
  std::string cell_measures;
  // Time-independent arrays on the file's dimensions (axis names, "nv"; none: a scalar), given
  // on every rank and written once by rank 0: e.g. the coefficients of a hybrid coordinate.
  struct StaticArray {
    VariableMeta meta;
    std::vector<std::string> dims;
    std::vector<double> values;  // row-major over dims
  };
  std::vector<StaticArray> static_arrays;
  // Per-frame 2D variables (time, y, x) of a 3D grid: offset + scale * the column sum over z
  // of the output field named `of` (one of `fields`), formed on rank 0 from its gathered frame.
  // E.g. surface pressure = p_top + sum of the layer thicknesses dp.
  struct ColumnSum {
    VariableMeta meta;
    std::string of;
    double offset = 0, scale = 1;
  };
  std::vector<ColumnSum> column_sums;
};

// Writes a CF hybrid sigma-pressure vertical coordinate (CF-1.8 appendix D,
// atmosphere_hybrid_sigma_pressure_coordinate: p(n,k,j,i) = a(k) p0 + b(k) ps(n,j,i)) into a
// 3D spec whose z axis holds the levels (k = 0 at the top): `lev` becomes the dimensionless
// a + b at the layer mid points (a, b at mid points are the means of the interface values),
// with bounds from the interfaces; a, b, a_bnds, b_bnds, p0 are static arrays, and ps is the
// column sum of the output field `thickness` (the layers' pressure thickness, Pa), so the
// interfaces that the formula gives close each column to round-off. a_iface, b_iface: nlev + 1
// interface values from the top; b must change across the column.
void describe_hybrid_sigma_pressure(OutputSpec& spec, const std::vector<double>& a_iface,
                                    const std::vector<double>& b_iface, double p0,
                                    const std::string& thickness);

class OutputWriter {
 public:
  // Collective. Starts a new file (PATH.part). Throws IoError if PATH exists (callers check
  // --overwrite first and remove it), or if PATH.part cannot be created.
  OutputWriter(const CartesianGrid& grid, OutputSpec spec);
  // Collective. Reopens PATH.part of an interrupted run to continue at frame `next_frame`
  // (frames from there on are overwritten). Throws IoError if it is missing or does not match.
  static std::unique_ptr<OutputWriter> resume(const CartesianGrid& grid, OutputSpec spec,
                                              size_t next_frame);
  ~OutputWriter();  // closes without marking complete (an exception or kill leaves .part)

  // Collective: append one frame at time t. `fields` and `scalars` match the spec's order.
  void write_frame(double t, const std::vector<const Field*>& fields,
                   const std::vector<double>& scalars);
  size_t frames_written() const { return frames_; }
  // Collective: mark complete and rename PATH.part -> PATH.
  void finalize();

 private:
  OutputWriter(const CartesianGrid& grid, OutputSpec spec, bool resume, size_t next_frame);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t frames_ = 0;
};

}  // namespace aeolus::io
