#pragma once
// An ODE system y' = f(t, y) behind the Stepper seam, integrated by the adaptive Runge-Kutta
// solvers of solvers/ode_adaptive.hpp, for State = std::vector<double> (a classical right-hand
// side) or torch::Tensor (a neural ODE, emulators/).
//
// The state is the time loop's small-state form (a Field of n cells on one process without halo,
// small_state_grid; TimeSteppingCase::steps_on_root). One loop step integrates to the time the
// loop asks for (the next output time: max_dt is unbounded unless AdaptiveParams::hmax caps it)
// in as many internal steps as the error control needs, starting with the step the controller
// proposed at the end of the previous call (solve_adaptive's h_next), so that the internal step
// sequence goes on across output times. It lands exactly on each output time (no dense output):
// the solution differs from one uninterrupted solve_adaptive over all output times by the
// tolerance, not more. A --restart starts the controller afresh (Hairer's initial-step rule), so
// a restarted run agrees with an uninterrupted one to the tolerance, not bitwise.
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "grids/field.hpp"
#include "solvers/ode_adaptive.hpp"
#include "solvers/stepper.hpp"

namespace aeolus {

template <class State>
class AdaptiveOdeStepper final : public Stepper {
 public:
  using Rhs = std::function<State(double t, const State& y)>;
  // name: the registry name ("classical", "emulator"); what: for the run log; like: a state of
  // the right kind (StateOps<State>::from_values' template: dtype, device, shape).
  AdaptiveOdeStepper(std::string name, std::string what, Rhs f, State like, AdaptiveParams params)
      : name_(std::move(name)),
        what_(std::move(what)),
        f_(std::move(f)),
        like_(std::move(like)),
        params_(params) {}

  std::string name() const override { return name_; }
  std::string describe() const override {
    return what_ + ", " + rk_method_name(params_.method) + " rtol " + fmt_g(params_.rtol) +
           " atol " + fmt_g(params_.atol);
  }
  real_t max_dt(const Field&, real_t) const override {
    return params_.hmax > 0 ? params_.hmax : std::numeric_limits<real_t>::max();
  }
  void step(Field& q, real_t& t, real_t& dt) override {
    const size_t n = size_t(q.grid().local_cells());
    values_.assign(q.data(), q.data() + n);
    const State y0 = StateOps<State>::from_values(values_, like_);
    AdaptiveParams p = params_;
    if (h_next_ > 0) p.h0 = std::min(h_next_, dt);
    const auto sol = solve_adaptive(f_, {t, t + dt}, y0, p);
    values_ = StateOps<State>::to_values(sol.y.back());
    if (values_.size() != n) {
      throw std::logic_error(name_ + ": the right-hand side's state has " +
                             std::to_string(values_.size()) + " values, the field " +
                             std::to_string(n));
    }
    std::copy(values_.begin(), values_.end(), q.data());
    if (sol.h_next > 0) h_next_ = sol.h_next;
    stats_.nfev += sol.stats.nfev;
    stats_.steps += sol.stats.steps;
    stats_.accepted += sol.stats.accepted;
    stats_.rejected += sol.stats.rejected;
    t += dt;
  }
  real_t courant(real_t, real_t) const override { return 0; }
  // rhs_evaluations, internal_steps (attempted), rejected.
  std::map<std::string, double> counters() const override {
    return {{"rhs_evaluations", double(stats_.nfev)},
            {"internal_steps", double(stats_.steps)},
            {"rejected_steps", double(stats_.rejected)}};
  }

 private:
  static std::string fmt_g(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
  }
  std::string name_, what_;
  Rhs f_;
  State like_;
  AdaptiveParams params_;
  double h_next_ = 0;
  OdeStats stats_;
  std::vector<double> values_;
};

}  // namespace aeolus
