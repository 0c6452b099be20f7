#pragma once
// An ensemble of sample paths of an SDE dX = f(t, X) dt + g(t, X) dW behind the Stepper seam,
// solved by solvers/sde.hpp, for State = std::vector<double> (a classical SDE) or torch::Tensor
// (a neural SDE, emulators/). The state is the time loop's small-state form: a Field of the
// ensemble's values (small_state_grid; TimeSteppingCase::steps_on_root), whose layout is the
// system's (e.g. [x_0, y_0, x_1, y_1, ...] for paths of 2 components).
//
// One loop step solves the output interval [t, t + dt] asked for, with fixed steps (at most
// SdeFixedParams::dt, equal in the interval) or adaptively, on a Brownian path of its own: seeded
// from (seed, k) for the interval k = round(t / interval), with interval the loop's output
// interval. Brownian increments over disjoint intervals are independent, so the paths are sample
// paths of the SDE, and the noise of an interval depends on the seed and the interval alone: a
// run stopped and continued with --restart draws the same noise and gives the same samples,
// bitwise.
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "grids/field.hpp"
#include "grids/random.hpp"
#include "solvers/sde.hpp"
#include "solvers/stepper.hpp"

namespace aeolus {

template <class State>
class SdeEnsembleStepper final : public Stepper {
 public:
  struct Solver {
    bool adaptive = false;
    SdeFixedParams fixed;
    SdeAdaptiveParams adaptive_params;
  };
  // name: the registry name; what: for the run log; like: a state of the ensemble's kind and
  // shape (StateOps<State>::from_values' template); noise_dim: the Brownian path's dimension
  // (the state's size for diagonal noise); interval: the loop's output interval.
  SdeEnsembleStepper(std::string name, std::string what, SdeSystem<State> system, State like,
                     std::size_t noise_dim, Solver solver, std::uint64_t seed, real_t interval)
      : name_(std::move(name)),
        what_(std::move(what)),
        system_(std::move(system)),
        like_(std::move(like)),
        noise_dim_(noise_dim),
        solver_(solver),
        seed_(seed),
        interval_(interval) {}

  std::string name() const override { return name_; }
  std::string describe() const override {
    const SdeMethod m = solver_.adaptive ? solver_.adaptive_params.method : solver_.fixed.method;
    char buf[96];
    if (solver_.adaptive) {
      std::snprintf(buf, sizeof buf, ", %s adaptive rtol %g atol %g", sde_method_name(m).c_str(),
                    solver_.adaptive_params.rtol, solver_.adaptive_params.atol);
    } else {
      std::snprintf(buf, sizeof buf, ", %s dt %g", sde_method_name(m).c_str(), solver_.fixed.dt);
    }
    return what_ + buf;
  }
  // The interval to the next output time (the loop asks for no more).
  real_t max_dt(const Field&, real_t) const override { return std::numeric_limits<real_t>::max(); }
  void step(Field& q, real_t& t, real_t& dt) override {
    const std::size_t n = std::size_t(q.grid().local_cells());
    values_.assign(q.data(), q.data() + n);
    const State x0 = StateOps<State>::from_values(values_, like_);
    const auto k = std::uint64_t(std::llround(t / interval_));
    BrownianPath path(noise_dim_, stream_seed(seed_, k), t);
    const std::vector<double> span{t, t + dt};
    const SdeSolution<State> sol =
        solver_.adaptive ? solve_sde_adaptive(system_, span, x0, solver_.adaptive_params, path)
                         : solve_sde_fixed(system_, span, x0, solver_.fixed, path);
    values_ = StateOps<State>::to_values(sol.x.back());
    if (values_.size() != n) {
      throw std::logic_error(name_ + ": the system's state has " + std::to_string(values_.size()) +
                             " values, the field " + std::to_string(n));
    }
    std::copy(values_.begin(), values_.end(), q.data());
    stats_.accepted += sol.stats.accepted;
    stats_.rejected += sol.stats.rejected;
    stats_.nf += sol.stats.nf;
    stats_.ng += sol.stats.ng;
    t += dt;
  }
  real_t courant(real_t, real_t) const override { return 0; }
  std::map<std::string, double> counters() const override {
    return {{"drift_evaluations", double(stats_.nf)},
            {"diffusion_evaluations", double(stats_.ng)},
            {"internal_steps", double(stats_.accepted + stats_.rejected)},
            {"rejected_steps", double(stats_.rejected)}};
  }

 private:
  std::string name_, what_;
  SdeSystem<State> system_;
  State like_;
  std::size_t noise_dim_;
  Solver solver_;
  std::uint64_t seed_;
  real_t interval_;
  SdeStats stats_;
  std::vector<double> values_;
};

}  // namespace aeolus
