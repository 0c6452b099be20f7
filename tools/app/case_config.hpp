#pragma once
// The part of a case's configuration every case type shares: where the case lives, the time,
// output, checkpoint and log sections, and the provenance of case.yaml. What only one case type
// reads is that case type's own struct (tools/app/NAME_config.hpp, derived from CaseSettings),
// held by CaseConfig::settings. Defaults are the initial values of these structs (and of the
// component Params structs they hold: physics/, solvers/, emulators/): the reader takes them as
// the defaults of the keys, so they live in one place; `aeolus check` prints the fully resolved
// configuration.
//
// This header and the readers (tools/app/case_type.hpp, NAME_config.cpp) are light: they link
// neither MPI, PETSc nor LibTorch, so that `aeolus check` answers without loading them.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "grids/cartesian_grid.hpp"
#include "grids/types.hpp"

namespace aeolus::io {
class Section;
}

namespace aeolus::app {

struct TimeParams {
  real_t t_end = 1.0;
  real_t cfl = 0.5;
  real_t dt_max = 0.0;  // 0: no cap beyond the CFL
  // A run whose remaining steps at the current step size, plus those taken, exceed this stops
  // with an error (checked every step): no sensible case comes near it, a runaway one does.
  long long max_steps = 10000000;
};

struct OutputParams {
  real_t interval = 0.1;           // simulated time between frames (frame 0 is the initial state)
  std::string file = "fields.nc";  // under CASE/output/
};

struct CheckpointParams {
  long long every_steps = 200;  // also one at the end of the run
  int keep = 2;
};

// What one case type alone reads (its sections and keys): each case type derives its own.
struct CaseSettings {
  virtual ~CaseSettings() = default;
};

struct CaseConfig {
  std::string dir;   // case directory
  std::string name;  // directory name
  std::string file;  // path of case.yaml
  std::string description;
  std::string type;      // the case type that read the file (tools/app/case_type.hpp registry)
  std::string equation;  // physics.equation as the case type names it (for messages)
  // The decomposition (for latlon: x = longitude, y = latitude in degrees, z = level).
  CartesianGridParams grid;
  std::string stepper = "classical";  // stepper.type (time-stepping cases)
  TimeParams time;
  OutputParams output;
  CheckpointParams checkpoint;
  long long progress_every = 50;   // steps between progress lines (log.progress_every)
  double progress_seconds = 10.0;  // and at most this much wall time between them
  // The case's trained network, relative to the case (emulator.model, ...; each case type
  // that has one sets its default).
  std::string model = "models/emulator.pt";
  // The case type's own settings (NAME_config.hpp); settings_as<T>() reads them.
  std::shared_ptr<const CaseSettings> settings;

  std::string resolved_yaml;  // everything read, defaults included
  std::string config_hash;    // FNV-1a 64 of case.yaml's bytes, hex

  std::string path(const std::string& rel) const;  // rel resolved against the case dir

  // The settings of case type T; std::logic_error if the case is of another type (a
  // programming error: commands are looked up by the type that read the case).
  template <class T>
  const T& settings_as() const {
    const T* p = dynamic_cast<const T*>(settings.get());
    if (!p) {
      throw std::logic_error(file + ": the settings of this " + type + " case are not " +
                             typeid(T).name());
    }
    return *p;
  }
};

// grid.dim, n (each >= min_n), lo, hi (> lo) and procs of a box: the keys every Cartesian case
// shares (advection adds periodic; elliptic cases add centering). Does not call finish().
void read_box(io::Section& s, CartesianGridParams& g, long long min_n);

// The sections output (interval, file), checkpoint (every_steps, keep) and log
// (progress_every, progress_seconds) of a time-stepping case, with the given defaults for the
// numbers.
void read_run_sections(io::Section& root, CaseConfig& c, real_t interval, long long every_steps,
                       long long progress_every);

// output.file (default: c.output.file): a plain file name, written under output/.
void read_output_file(io::Section& output, CaseConfig& c);

// The log section alone (progress_every, progress_seconds): cases without output frames.
void read_log_section(io::Section& root, CaseConfig& c, long long progress_every);

std::string fnv1a64_hex(const std::string& bytes);

}  // namespace aeolus::app
