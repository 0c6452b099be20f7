#pragma once
// The CO2 transport data set (io/co2_dataset_format.hpp) in memory, for training and evaluating
// the CO2 emulators (emulators/co2_models.hpp, emulators/co2_training.hpp). No torch here.
//
// A split (train | valid | test) is a list of year files that follow each other in time. They
// are read into one timeline of states 0..times()-1, so pair i = (state i, state i + 1) is a
// training sample whatever file each state came from: the sample after the last one of a file
// is the first one of the next file. Optionally the first state of the file that follows the
// split (the next split's first year) is appended, so that the split's last sample has a
// target too (CarbonBench trains on every 6-hour pair of a year; without it a year gives
// 1459 pairs instead of 1460). That extra state is read whole, but only its q and air mass
// are ever used (as the last target and airmass_next).
//
// Storage, per state: q and air mass in double (the conservation and the budget need them to
// round-off), the three surface fluxes in double (the budget), u / v / omega / blh / tisr in
// float32 (only the float32 network reads them; the file stores them as float). p_bottom and
// p_top are not read (no model input uses them). cell_area and latitude once.
// Bytes per state = 8 (2 n3 + 3 n2) + 4 (3 n3 + 2 n2), n3 = nlev nlat nlon, n2 = nlat nlon:
// 639 kB on 10 x 32 x 64, so the real train split (4 years x 1460 states + 1) takes 3.7 GB
// and a year of valid or test 0.93 GB, per rank (every data-parallel rank holds the whole
// split: each epoch's permutation draws from all of it). Without meteorology: 377 kB a state.
#include <cstddef>
#include <string>
#include <vector>

#include "emulators/co2_conservation.hpp"
#include "emulators/co2_models.hpp"

namespace aeolus::emulators {

// The year files of one split: DATA_DIR/SPLIT/co2_yearNNNN.nc, sorted by year (other files in
// the folder are ignored). data_dir is a case's data folder (CASE/data). IoError naming the
// folder if it does not exist or holds no year file.
std::vector<std::string> co2_split_files(const std::string& data_dir, const std::string& split);

struct Co2ReadOptions {
  // Read u, v, omega, blh, tisr. false: only q, air mass, fluxes (what the budget and the
  // persistence baseline need); step_input() then leaves those fields empty.
  bool meteorology = true;
  // The grid the caller requires (a model's: nlev, nlat, nlon); 0 = whatever the first file
  // has. Files that disagree with it, or with each other, are an IoError.
  int nlev = 0, nlat = 0, nlon = 0;
};

class Co2SplitData {
 public:
  // Reads `files` (consecutive years in time order, e.g. co2_split_files(...)) and, if
  // next_file is not empty, the first state of next_file as the state after the last one.
  // IoError naming the file, the variable and what was expected for: a missing or unreadable
  // file, a file without the global attribute aeolus_complete = 1 (an unfinished write), a
  // missing variable, a variable with other dimensions or sizes, files with different grids
  // or dt_sample, and files whose times do not continue each other (t_next = t_last +
  // dt_sample). An empty `files` list is an IoError.
  static Co2SplitData read(const std::vector<std::string>& files, const std::string& next_file = "",
                           const Co2ReadOptions& options = {});

  Co2Shape shape() const { return shape_; }
  double dt() const { return dt_; }  // s between states (the file's dt_sample)
  std::size_t times() const { return times_; }
  std::size_t pairs() const { return times_ > 0 ? times_ - 1 : 0; }
  bool has_meteorology() const { return meteorology_; }
  const std::vector<std::string>& files() const { return files_; }  // next_file included
  // The first state of files()[i] (next_file included).
  std::size_t file_start(std::size_t i) const { return file_starts_.at(i); }
  const std::vector<double>& cell_area() const { return cell_area_; }  // [nlat] m^2
  const std::vector<double>& lat() const { return lat_; }              // [nlat] degrees north
  const std::vector<double>& lon() const { return lon_; }              // [nlon] degrees east
  double time_hours(std::size_t t) const { return time_hours_[t]; }    // since 2000-01-01
  std::size_t bytes() const;                                           // of the arrays held

  // Views of state t (0 <= t < times()), SI units, layout of emulators/co2_conservation.hpp.
  const double* q(std::size_t t) const { return q_.data() + t * shape_.cells3d(); }
  const double* airmass(std::size_t t) const { return airmass_.data() + t * shape_.cells3d(); }
  // kg m-2 s-1, the means over [t, t + dt].
  const double* flux_land(std::size_t t) const { return land_.data() + t * shape_.cells2d(); }
  const double* flux_ocean(std::size_t t) const { return ocean_.data() + t * shape_.cells2d(); }
  const double* flux_anthro(std::size_t t) const { return anthro_.data() + t * shape_.cells2d(); }
  // Meteorology (nullptr without it): m/s, m/s, Pa/s [n3]; m, J m-2 [n2].
  const float* u(std::size_t t) const { return met3(u_, t); }
  const float* v(std::size_t t) const { return met3(v_, t); }
  const float* omega(std::size_t t) const { return met3(omega_, t); }
  const float* blh(std::size_t t) const { return met2(blh_, t); }
  const float* tisr(std::size_t t) const { return met2(tisr_, t); }

  // Pair i (0 <= i < pairs()): everything at state i, airmass_next = air mass at i + 1,
  // dt = dt(). Meteorology only if has_meteorology() and `meteorology`.
  Co2StepInput step_input(std::size_t i, bool meteorology = true) const;
  // q at state i + 1 (the target of pair i).
  std::vector<double> q_next(std::size_t i) const;

 private:
  const float* met3(const std::vector<float>& v, std::size_t t) const {
    return meteorology_ ? v.data() + t * shape_.cells3d() : nullptr;
  }
  const float* met2(const std::vector<float>& v, std::size_t t) const {
    return meteorology_ ? v.data() + t * shape_.cells2d() : nullptr;
  }
  Co2Shape shape_;
  double dt_ = 0;
  std::size_t times_ = 0;
  bool meteorology_ = true;
  std::vector<std::string> files_;
  std::vector<std::size_t> file_starts_;
  std::vector<double> cell_area_, lat_, lon_, time_hours_;
  std::vector<double> q_, airmass_, land_, ocean_, anthro_;
  std::vector<float> u_, v_, omega_, blh_, tisr_;
};

}  // namespace aeolus::emulators
