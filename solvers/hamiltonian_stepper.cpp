#include "solvers/hamiltonian_stepper.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/format.hpp"

namespace aeolus {

CartesianGridParams hamiltonian_state_grid(int dim) { return small_state_grid(2 * index_t(dim)); }

namespace {

// The state field must be the whole (q, p) of a dim-dimensional system on one process.
void check_state(const Field& state, int dim) {
  const auto& g = state.grid();
  if (g.dim() != 1 || g.halo() != 0 || g.local_cells() != 2 * index_t(dim) ||
      g.global_cells() != 2 * index_t(dim)) {
    throw std::logic_error("Hamiltonian state '" + state.name() + "': expected " +
                           std::to_string(2 * dim) +
                           " cells on one process without halo (hamiltonian_state_grid)");
  }
}

}  // namespace

void pack_hamiltonian_state(const std::vector<real_t>& q, const std::vector<real_t>& p,
                            Field& state) {
  check_state(state, int(q.size()));
  if (p.size() != q.size()) throw std::logic_error("pack_hamiltonian_state: |p| != |q|");
  std::copy(q.begin(), q.end(), state.data());
  std::copy(p.begin(), p.end(), state.data() + q.size());
}

HamiltonianStepper::HamiltonianStepper(std::shared_ptr<const physics::SeparableHamiltonian> h,
                                       SymplecticMethod method, real_t dt)
    : h_(std::move(h)), method_(method), dt_(dt), ws_(h_->dim()) {
  if (!(dt > 0) || !std::isfinite(dt)) {
    throw ConfigError("Hamiltonian stepper: dt = " + fmt("%.6g", dt) + ", expected > 0");
  }
}

std::string HamiltonianStepper::describe() const {
  return symplectic_method_name(method_) +
         (is_symplectic(method_) ? " (symplectic, order " : " (not symplectic, order ") +
         std::to_string(order(method_)) + "), dt " + fmt("%.6g", dt_);
}

real_t HamiltonianStepper::max_dt(const Field& q, real_t) const {
  check_state(q, h_->dim());
  return dt_;
}

void HamiltonianStepper::step(Field& state, real_t& t, real_t& dt) {
  const int d = h_->dim();
  check_state(state, d);
  real_t* q = state.data();
  hamiltonian_step(*h_, method_, dt_, q, q + d, ws_);
  t = (std::round(t / dt_) + 1) * dt_;
  dt = dt_;
}

std::map<std::string, double> HamiltonianStepper::counters() const {
  return {{"force_evaluations", double(ws_.stats.force_evals)}};
}

}  // namespace aeolus
