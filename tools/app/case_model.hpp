#pragma once
// What a case solves, apart from the stepping: its fields, their initial state, the per-frame
// diagnostics written to the output, the diagnostics due at given times, and the final ones.
// The time loop (time_loop.cpp) is the same for every case; a CaseModel is what differs between a
// Cartesian advection case and a tracer-transport case on the sphere.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "io/output_writer.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// The output file of a run, written a frame at a time by the time loop.
class FrameOutput {
 public:
  virtual ~FrameOutput() = default;
  // Collective: append the frame of time t (the model's state as it is now).
  virtual void write_frame(real_t t) = 0;
  virtual size_t frames_written() const = 0;
  // Collective: make every frame written so far durable on disk; the loop calls it before each
  // checkpoint, which records frames_written() for --restart. Default: nothing (a writer that
  // syncs each frame).
  virtual void flush() {}
  // Collective: mark the file complete (PATH.part renamed to PATH).
  virtual void finalize() = 0;
};

class CaseModel {
 public:
  virtual ~CaseModel() = default;

  // The stepper's own state (Stepper::state_fields(), e.g. the air mass of 3D transport), given
  // once after both exist, for diagnostics that need it (mass-weighted integrals).
  virtual void bind_stepper_state(const std::vector<Field*>& state) { (void)state; }
  // The fields the stepper advances (tracers), in output order.
  virtual std::vector<Field*> fields() = 0;
  // The fields written at each frame, in the order of describe_output's fields: by default the
  // stepped fields; a model may add state of the stepper (e.g. the air mass).
  virtual std::vector<const Field*> output_fields() {
    const auto f = fields();
    return std::vector<const Field*>(f.begin(), f.end());
  }
  // Output description: field and per-frame scalar metadata, axes, static fields, attributes.
  virtual void describe_output(io::OutputSpec& spec) = 0;
  // Collective: the run's output file, new (resume = false) or reopened from the .part file of
  // an interrupted run to continue at frame `next_frame`. The default writes output_fields()
  // and frame_scalars() on the grid through io::OutputWriter, as describe_output says; a model
  // whose state is not a field on a grid (the few numbers of an ODE system) writes its own file.
  virtual std::unique_ptr<FrameOutput> open_output(const CartesianGrid& grid,
                                                   const io::OutputSpec& spec, bool resume,
                                                   size_t next_frame);
  // Collective: initial state of every field (also records what later diagnostics compare to).
  virtual void initialise() = 0;
  // Collective: the per-frame scalars, in the order of describe_output's scalars.
  virtual std::vector<double> frame_scalars(real_t t) = 0;
  // Collective: total amount of the first field (for progress lines and run.json), or the
  // conserved quantity that total_name() names.
  virtual real_t mass() = 0;
  // What mass() measures: "mass" (run.json: mass_initial, mass_final, ...), "energy" for a
  // Hamiltonian system.
  virtual std::string total_name() const { return "mass"; }
  // Times the loop must land on exactly, besides output times and t_end (diagnostic times).
  virtual std::vector<real_t> event_times() const { return {}; }
  // Collective: called when the loop lands on an event time, and at the end of the run (with
  // last = true), to compute the case's diagnostics into `out` (name -> value).
  virtual void diagnose(real_t t, bool last, std::map<std::string, double>& out) {
    (void)t, (void)last, (void)out;
  }
  // Rank 0: writes the diagnostics of a finished run to `path` (NetCDF; the driver refuses to
  // start over an existing one without --overwrite); returns false if the case writes none.
  virtual bool write_diagnostics(const std::string& path,
                                 const std::map<std::string, double>& diag) {
    (void)path, (void)diag;
    return false;
  }
};

// Fill q from variable `var` of the NetCDF file `path`: shape = the grid's (z, y, x), units =
// `units`, all values finite; otherwise IoError naming the file, the variable (and `key`, the
// case.yaml key that named it) and what was expected. Collective. (Initial conditions from
// files, for any case model.)
void read_initial_field(const std::string& path, const std::string& var, const std::string& units,
                        const std::string& key, Field& q);

}  // namespace aeolus::app
