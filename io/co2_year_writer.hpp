#pragma once
// One year file of the CO2 data set (io/co2_dataset_format.hpp describes the layout): defines
// the dimensions, coordinates, variables and metadata, writes the static coordinates, then
// takes one sample at a time. The file is written as PATH.part and renamed to PATH by finish(),
// so a file under its final name is complete. Serial: the dataset command calls it on rank 0
// with gathered fields.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "grids/sphere_grid.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::io {

// What a year file records besides its samples.
struct Co2YearFileInfo {
  // Hybrid coefficients at the interfaces kf = 0 (model top) .. nlev (surface), p = a p0 + b ps,
  // and p0 (Pa): the files' hyai / hybi and, with ps = p0, the reference levels.
  std::vector<double> hyai, hybi;
  double p0 = 1.0e5;
  double sample_interval = 21600.0;  // s: dt_sample, the fluxes' averaging interval
  int deflate = 4;                   // 0..9
  std::string source;                // global attribute `source` (the generating program)
  std::string case_name, config_hash, split;
  long long year = 0, meteorology_seed = 0, flux_seed = 0, ranks = 1;
};

class Co2YearWriter {
 public:
  // Creates path.part (and its directory) for the grid g (its global sizes and metrics; any
  // decomposition) and writes the static coordinates. Throws IoError for file errors.
  Co2YearWriter(const std::string& path, const SphereGrid& g, const Co2YearFileInfo& info);
  ~Co2YearWriter();

  // Sample n: its time (hours since the start, and the interval the fluxes average over).
  void put_time(size_t n, double hours, double interval_hours);
  // Sample n of a 3D (level, lat, lon) or 2D (lat, lon) variable, global fields in C order.
  void put3(const char* var, size_t n, const std::vector<double>& v);
  void put2(const char* var, size_t n, const std::vector<double>& v);
  // Marks the file complete (aeolus_complete = 1), closes it and renames it to its path.
  void finish();

 private:
  void define(const Co2YearFileInfo& info);
  void put_coordinates(const SphereGrid& g, const Co2YearFileInfo& info);
  std::string path_, part_;
  size_t nlev_ = 0, nlat_ = 0, nlon_ = 0;
  std::unique_ptr<NetcdfFile> f_;
};

}  // namespace aeolus::io
