#pragma once
// Checkpoints: the full state needed to continue a run bit for bit, in NetCDF-4, gathered to
// rank 0 in natural order (so a checkpoint can restart on another rank count).
//
// Files are checkpoints/ckpt_<step, 9 digits>.nc, written as .part and renamed, so the newest
// complete checkpoint is always intact; older ones beyond `keep` are removed after a new one
// is complete.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "grids/field.hpp"

namespace aeolus::io {

struct CheckpointInfo {
  long long step = 0;           // steps taken
  double t = 0.0;               // simulated time
  double dt = 0.0;              // last step size
  long long output_frames = 0;  // frames written to the output file so far
  double next_output_time = 0.0;
  std::string stepper;                  // stepper name
  std::string config_hash;              // hash of case.yaml it came from
  std::map<std::string, double> extra;  // stepper-specific scalars (e.g. initial mass)
};

// Collective. Writes dir/ckpt_<step>.nc atomically and prunes all but the newest `keep`.
std::string write_checkpoint(const std::string& dir, const CheckpointInfo& info,
                             const std::vector<const Field*>& fields, int keep);

// Newest complete checkpoint in dir ("" if none). Same answer on every rank.
// Collective over PETSC_COMM_WORLD, or over `comm` in the second form.
std::string latest_checkpoint(const std::string& dir);
std::string latest_checkpoint(const std::string& dir, MPI_Comm comm);

// Collective. Reads info and fields (by Field::name()); throws IoError naming the file and
// variable when a field is missing or its shape differs from the grid.
CheckpointInfo read_checkpoint(const std::string& path, const std::vector<Field*>& fields);

}  // namespace aeolus::io
