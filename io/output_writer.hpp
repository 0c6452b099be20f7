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
};

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
