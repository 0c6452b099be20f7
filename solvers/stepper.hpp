#pragma once
// The central seam of Aeolus: a classical scheme and a neural emulator implement this one
// interface, so the driver, outputs, diagnostics and checkpoints never know which one runs.
#include <map>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/types.hpp"

namespace aeolus {

// The grid of a state of n numbers that is not decomposed (an ODE system: particles, a neural
// ODE's state): n cells on one process without halo, the time loop's small-state form (on
// MPI_COMM_SELF: TimeSteppingCase::steps_on_root).
inline CartesianGridParams small_state_grid(index_t n) {
  CartesianGridParams g;
  g.dim = 1;
  g.n = {n, 1, 1};
  g.periodic = {false, false, false};
  g.halo = 0;
  return g;
}

class Stepper {
 public:
  virtual ~Stepper() = default;

  // Registry name ("classical", "emulator", ...), written to logs and outputs.
  virtual std::string name() const = 0;

  // What runs, for the first line of a run log (method, order, step): by default name().
  virtual std::string describe() const { return name(); }

  // Largest step this stepper will take from state q at time t: CFL-limited for a classical
  // scheme, the trained step for an emulator. Collective (may reduce over ranks); every rank
  // gets the same value.
  virtual real_t max_dt(const Field& q, real_t t) const = 0;

  // Advance q by one step. On entry: q holds the owned cells at time t (halos need not be
  // valid), dt > 0 is the requested step and must not exceed max_dt(q, t) (emulators require
  // it to equal their trained step). On return: q holds the owned cells at t + dt (halos
  // unspecified), t has been advanced by the step taken, and dt holds that step (steppers may
  // shorten it; none of the current ones do). Collective.
  virtual void step(Field& q, real_t& t, real_t& dt) = 0;

  // Largest Courant number sum_d |u_d| dt / dx_d of a step of size dt at time t (for progress
  // logs); 0 where the notion does not apply. Collective.
  virtual real_t courant(real_t t, real_t dt) const = 0;

  // True if the stepper takes exactly max_dt() and no other step (a trained emulator): the
  // driver then does not shorten steps to land on output times, and requires output times
  // and t_end to be multiples of the step.
  virtual bool fixed_step() const { return false; }

  // Advance several fields (tracers carried by the same flow) by one common step; the contract
  // of step() holds for each. The default steps each field with the same t and dt; a stepper
  // with state shared by the tracers (the air mass of 3D transport) overrides it to update that
  // state once per step.
  virtual void step_all(const std::vector<Field*>& qs, real_t& t, real_t& dt) {
    real_t t_out = t, dt_out = dt;
    for (Field* q : qs) {
      real_t tq = t, dtq = dt;
      step(*q, tq, dtq);
      t_out = tq;
      dt_out = dtq;
    }
    t = t_out;
    dt = dt_out;
  }

  // The stepper's own evolving state (e.g. air mass) that checkpoints must hold for a bitwise
  // restart; the driver saves and restores these fields with the tracers. Empty by default.
  virtual std::vector<Field*> state_fields() { return {}; }

  // Work this stepper has done since it was built (force or right-hand-side evaluations,
  // rejected trial steps, ...), by name, for run.json and the end of the run log; empty where
  // there is nothing to count beyond the steps. Not collective; a restarted run counts from the
  // restart.
  virtual std::map<std::string, double> counters() const { return {}; }
};

}  // namespace aeolus
