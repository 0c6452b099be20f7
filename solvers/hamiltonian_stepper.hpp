#pragma once
// A separable Hamiltonian system (physics/hamiltonian.hpp) behind the Stepper seam, so that a
// Hamiltonian case runs through the same time loop (outputs, checkpoints, restart, progress) as a
// field case, and a learned Hamiltonian (issue 24) can take its place.
//
// The state is the time loop's small-state form: a Field of 2 dim cells on a one-dimensional
// grid of one process without halo (TimeSteppingCase::steps_on_root), q in cells [0, dim) and p
// in [dim, 2 dim) — as PETSc's TS holds an ODE's state in a Vec of a few entries. One step is one
// step of a splitting method (or RK4) of fixed size dt (solvers/symplectic.hpp).
#include <memory>
#include <vector>

#include "physics/hamiltonian.hpp"
#include "solvers/stepper.hpp"
#include "solvers/symplectic.hpp"

namespace aeolus {

// The grid of the state of an h.dim()-dimensional system: 2 dim cells, no halo, on `comm`
// (MPI_COMM_SELF: the state is not decomposed).
CartesianGridParams hamiltonian_state_grid(int dim);
// (q, p) into / out of the state field (cells [0, dim) and [dim, 2 dim)).
void pack_hamiltonian_state(const std::vector<real_t>& q, const std::vector<real_t>& p,
                            Field& state);

class HamiltonianStepper final : public Stepper {
 public:
  HamiltonianStepper(std::shared_ptr<const physics::SeparableHamiltonian> h,
                     SymplecticMethod method, real_t dt);

  std::string name() const override { return "classical"; }
  // "forest_ruth (symplectic, order 4), dt 0.01"
  std::string describe() const override;
  real_t max_dt(const Field& q, real_t t) const override;
  // One step of dt (== max_dt). t becomes (k + 1) dt where t ~ k dt: a product, not a sum, so
  // that t carries no summed round-off over long runs (as solvers/symplectic.hpp's integrate,
  // whose samples a run reproduces bitwise).
  void step(Field& q, real_t& t, real_t& dt) override;
  real_t courant(real_t, real_t) const override { return 0; }
  bool fixed_step() const override { return true; }
  // force_evaluations: calls of grad_potential (RK4: 4 per step; a splitting method reuses the
  // last force of a step as the first of the next).
  std::map<std::string, double> counters() const override;

 private:
  std::shared_ptr<const physics::SeparableHamiltonian> h_;
  SymplecticMethod method_;
  real_t dt_;
  SymplecticWorkspace ws_;
};

}  // namespace aeolus
