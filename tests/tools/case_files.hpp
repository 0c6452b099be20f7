#pragma once
// Helpers of the app-level tests: write a case directory, read a whole NetCDF variable, run
// options without terminal output.
#include <mpi.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/driver.hpp"

namespace aeolus::test {

// Writes DIR/NAME/case.yaml with `yaml` and returns DIR/NAME (same path on every rank).
// Collective. The barrier before the write matters when a test rewrites the same case: rank 0
// must not truncate the file while another rank is still loading the previous version (that
// race made a rank > 0 see an empty case.yaml and fail an error-message check).
inline std::string write_case(MPI_Comm comm, const TempDir& dir, const std::string& name,
                              const std::string& yaml) {
  const std::string d = dir.file(name);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Barrier(comm);
  if (rank == 0) {
    std::filesystem::create_directories(d);
    std::ofstream(d + "/case.yaml") << yaml;
  }
  MPI_Barrier(comm);
  return d;
}

// Every value of a NetCDF variable, flattened.
inline std::vector<double> read_var(const std::string& path, const std::string& var) {
  io::NetcdfFile f(path, io::NetcdfFile::Mode::read);
  size_t n = 1;
  for (size_t s : f.var_shape(var)) n *= s;
  std::vector<double> v(n);
  f.get(var, {}, {}, v.data());
  return v;
}

// A whole text file (empty if unreadable).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The number stored under "key" in a flat JSON record (logs/run.json, eval/metrics.json); NaN
// if absent.
inline double json_number(const std::string& json, const std::string& key) {
  const auto p = json.find("\"" + key + "\"");
  if (p == std::string::npos) return NAN;
  return std::atof(json.c_str() + json.find(':', p) + 1);
}

inline app::RunOptions quiet_run() {
  app::RunOptions o;
  o.quiet = true;
  return o;
}

}  // namespace aeolus::test
