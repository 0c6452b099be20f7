#include "io/checkpoint.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"
#include "io/grid_layout.hpp"
#include "io/netcdf_file.hpp"

namespace aeolus::io {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrefix = "ckpt_";
constexpr const char* kSuffix = ".nc";
constexpr const char* kComplete = "complete";
constexpr const char* kExtraPrefix = "extra_";

std::string checkpoint_name(long long step) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "ckpt_%09lld.nc", step);
  return buf;
}

// Step of "ckpt_<digits>.nc"; false for anything else (.part files included).
bool parse_checkpoint_name(const std::string& name, long long& step) {
  const std::string prefix = kPrefix, suffix = kSuffix;
  if (name.size() <= prefix.size() + suffix.size()) return false;
  if (name.compare(0, prefix.size(), prefix) != 0) return false;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  const std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(),
                                         [](unsigned char c) { return std::isdigit(c) != 0; }))
    return false;
  step = std::stoll(digits);
  return true;
}

// Checkpoint files in dir, newest step first.
std::vector<std::pair<long long, fs::path>> list_checkpoints(const std::string& dir) {
  std::vector<std::pair<long long, fs::path>> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    long long step = 0;
    if (entry.is_regular_file() && parse_checkpoint_name(entry.path().filename().string(), step)) {
      found.emplace_back(step, entry.path());
    }
  }
  std::sort(found.begin(), found.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  return found;
}

bool is_complete(const fs::path& path) {
  // A file that cannot be opened or lacks the flag is as good as absent: it is skipped, not an
  // error, because the point is to find a checkpoint that works.
  try {
    NetcdfFile f(path.string(), NetcdfFile::Mode::read);
    return f.has_att("", kComplete) && f.get_att_int64("", kComplete) == 1;
  } catch (const Error&) {
    return false;
  }
}

MPI_Comm comm_of(const std::vector<const Field*>& fields) {
  return fields.empty() ? PETSC_COMM_WORLD : fields.front()->grid().comm();
}

// Deterministic argument checks, run on every rank so all ranks throw alike.
void check_fields(const std::string& where, const std::vector<const Field*>& fields) {
  std::set<std::string> names{"x", "y", "z"};
  for (const Field* f : fields) {
    if (!f) throw IoError(where + ": null field");
    if (f->name().empty() || !names.insert(f->name()).second) {
      throw IoError(where + ": field name '" + f->name() +
                    "' is empty or used twice (x, y and z are taken)");
    }
    if (detail::spatial_shape(f->grid()) != detail::spatial_shape(fields.front()->grid())) {
      throw IoError(where + ": field '" + f->name() + "' has shape " +
                    detail::shape_string(detail::spatial_shape(f->grid())) + ", field '" +
                    fields.front()->name() + "' has " +
                    detail::shape_string(detail::spatial_shape(fields.front()->grid())));
    }
  }
}

void define_checkpoint(NetcdfFile& f, const CheckpointInfo& info,
                       const std::vector<const Field*>& fields) {
  f.put_att("", "Conventions", "CF-1.8");
  f.put_att("", kComplete, 0);
  f.put_att("", "step", info.step);
  f.put_att("", "t", info.t);
  f.put_att("", "dt", info.dt);
  f.put_att("", "output_frames", info.output_frames);
  f.put_att("", "next_output_time", info.next_output_time);
  f.put_att("", "stepper", info.stepper);
  f.put_att("", "config_hash", info.config_hash);
  for (const auto& [name, value] : info.extra) f.put_att("", kExtraPrefix + name, value);
  if (fields.empty()) return;
  const CartesianGrid& grid = fields.front()->grid();
  detail::define_grid(f, grid, cartesian_axes());
  for (const Field* field : fields) {
    f.def_var(field->name(), "double", detail::spatial_dims(grid.dim()));
    // Checkpoints hold state, not diagnostics; the units live in the run's output file.
    f.put_att(field->name(), "long_name", "checkpointed state of field " + field->name());
  }
  f.end_def();
  detail::write_coordinates(f, grid, cartesian_axes());
}

void prune(const std::string& dir, int keep) {
  const auto found = list_checkpoints(dir);
  for (size_t i = size_t(keep); i < found.size(); ++i) {
    std::error_code ec;
    fs::remove(found[i].second, ec);
    if (ec) {
      throw IoError(found[i].second.string() + ": cannot remove old checkpoint (" + ec.message() +
                    ")");
    }
  }
}

CheckpointInfo read_info(const NetcdfFile& f) {
  CheckpointInfo info;
  info.step = f.get_att_int64("", "step");
  info.t = f.get_att_double("", "t");
  info.dt = f.get_att_double("", "dt");
  info.output_frames = f.get_att_int64("", "output_frames");
  info.next_output_time = f.get_att_double("", "next_output_time");
  info.stepper = f.get_att_string("", "stepper");
  info.config_hash = f.get_att_string("", "config_hash");
  const std::string prefix = kExtraPrefix;
  for (const auto& name : f.att_names("")) {
    if (name.compare(0, prefix.size(), prefix) == 0) {
      info.extra[name.substr(prefix.size())] = f.get_att_double("", name);
    }
  }
  return info;
}

// Rank 0's info on every rank, bit for bit (doubles travel as MPI_DOUBLE, no text).
void broadcast_info(MPI_Comm comm, CheckpointInfo& info) {
  long long ints[3] = {info.step, info.output_frames, (long long)info.extra.size()};
  double reals[3] = {info.t, info.dt, info.next_output_time};
  AEOLUS_MPI(MPI_Bcast(ints, 3, MPI_LONG_LONG, 0, comm));
  AEOLUS_MPI(MPI_Bcast(reals, 3, MPI_DOUBLE, 0, comm));
  info.step = ints[0];
  info.output_frames = ints[1];
  info.t = reals[0];
  info.dt = reals[1];
  info.next_output_time = reals[2];
  info.stepper = broadcast_string(comm, info.stepper);
  info.config_hash = broadcast_string(comm, info.config_hash);
  std::vector<std::string> names;
  std::vector<double> values;
  for (const auto& [name, value] : info.extra) {
    names.push_back(name);
    values.push_back(value);
  }
  names.resize(size_t(ints[2]));
  values.resize(size_t(ints[2]));
  if (!values.empty())
    AEOLUS_MPI(MPI_Bcast(values.data(), int(values.size()), MPI_DOUBLE, 0, comm));
  info.extra.clear();
  for (size_t i = 0; i < names.size(); ++i) {
    info.extra[broadcast_string(comm, names[i])] = values[i];
  }
}

}  // namespace

std::string write_checkpoint(const std::string& dir, const CheckpointInfo& info,
                             const std::vector<const Field*>& fields, int keep) {
  const MPI_Comm comm = comm_of(fields);
  const std::string path = (fs::path(dir) / checkpoint_name(info.step)).string();
  const std::string part = path + ".part";
  if (keep < 1)
    throw IoError(dir + ": checkpoint keep = " + std::to_string(keep) + ", must be >= 1");
  if (info.step < 0) throw IoError(path + ": negative step " + std::to_string(info.step));
  check_fields(path, fields);

  // Rank 0 writes; errors are collected and shared after the last gather, so that every rank
  // runs the same sequence of collective calls whatever happens on rank 0.
  const bool root = comm_rank(comm) == 0;
  std::string error;
  std::unique_ptr<NetcdfFile> file;
  if (root) {
    try {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) throw IoError(dir + ": cannot create directory (" + ec.message() + ")");
      // A .part is a write that never finished; it holds nothing worth keeping.
      fs::remove(part, ec);
      file = std::make_unique<NetcdfFile>(part, NetcdfFile::Mode::create);
      define_checkpoint(*file, info, fields);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  for (const Field* field : fields) {
    const std::vector<real_t> values = field->gather_to_root();
    if (!root || !error.empty()) continue;
    try {
      file->put(field->name(), {}, {}, values.data());
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  if (root) {
    try {
      if (error.empty()) {
        file->put_att("", kComplete, 1);
        file->close();
        std::error_code ec;
        fs::rename(part, path, ec);
        if (ec) throw IoError(part + ": cannot rename to " + path + " (" + ec.message() + ")");
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) {
      file.reset();
      std::error_code ignored;
      fs::remove(part, ignored);
    }
  }
  broadcast_error(comm, error);
  on_root(comm, [&] { prune(dir, keep); });
  return path;
}

std::string latest_checkpoint(const std::string& dir) {
  return latest_checkpoint(dir, PETSC_COMM_WORLD);
}

std::string latest_checkpoint(const std::string& dir, MPI_Comm comm) {
  std::string found;
  on_root(comm, [&] {
    for (const auto& [step, path] : list_checkpoints(dir)) {
      if (is_complete(path)) {
        found = path.string();
        return;
      }
    }
  });
  return broadcast_string(comm, found);
}

CheckpointInfo read_checkpoint(const std::string& path, const std::vector<Field*>& fields) {
  const std::vector<const Field*> cfields(fields.begin(), fields.end());
  const MPI_Comm comm = comm_of(cfields);
  check_fields(path, cfields);
  const bool root = comm_rank(comm) == 0;

  CheckpointInfo info;
  std::unique_ptr<NetcdfFile> file;
  on_root(comm, [&] {
    file = std::make_unique<NetcdfFile>(path, NetcdfFile::Mode::read);
    if (!file->has_att("", kComplete) || file->get_att_int64("", kComplete) != 1) {
      throw IoError(path + ": checkpoint is incomplete (global attribute complete != 1)");
    }
    info = read_info(*file);
    // Check every field before any data moves, so a mismatch leaves the fields untouched.
    for (const Field* field : cfields) {
      const std::string& name = field->name();
      if (!file->has_var(name)) {
        throw IoError(path + ": variable '" + name + "' not found (the checkpoint has " +
                      detail::names_string(file->var_names()) + ")");
      }
      const auto have = file->var_shape(name);
      const auto want = detail::spatial_shape(field->grid());
      if (have != want) {
        throw IoError(path + ": variable '" + name + "' has shape " + detail::shape_string(have) +
                      ", the grid expects " + detail::shape_string(want));
      }
    }
  });
  broadcast_info(comm, info);

  std::string error;
  for (Field* field : fields) {
    std::vector<real_t> values;
    if (root) {
      // Right-sized even after an error: rank 0 must still feed the scatter the others wait in.
      values.assign(size_t(field->grid().global_cells()), 0.0);
      if (error.empty()) {
        try {
          file->get(field->name(), {}, {}, values.data());
        } catch (const std::exception& e) {
          error = e.what();
        }
      }
    }
    field->scatter_from_root(values);
  }
  broadcast_error(comm, error);
  return info;
}

}  // namespace aeolus::io
