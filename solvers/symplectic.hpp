#pragma once
// Symplectic splitting integrators for separable Hamiltonians H = T(p) + V(q)
// (physics/hamiltonian.hpp), with classical RK4 as the non-symplectic reference.
//
// Every splitting method is a coefficient table run by one loop: for stages i = 1..s,
//   drift  q += c_i dt M^-1 p        (exact flow of T)
//   kick   p -= d_i dt dV/dq(q)      (exact flow of V)
// Compositions of velocity Verlet (kick-drift-kick) with weights w_1..w_s are turned into such
// tables by merging adjacent half kicks (verlet_composition), so a composition of s Verlet
// steps costs s force evaluations per step: the force at the end of a step is the one the next
// step starts with, and the workspace keeps it (see SymplecticWorkspace).
//
// Methods (name: order, force evaluations per step after the first):
//   euler        1, 1   symplectic Euler (kick, then drift; Hairer-Lubich-Wanner's variant)
//   verlet       2, 1   Stormer-Verlet / velocity Verlet, kick-drift-kick (PETSc 3.18's
//                       TSBASICSYMPLECTIC "2" is the drift-kick-drift form; bench/symplectic.cpp)
//   ruth3        3, 3   Ruth (1983), c = (1, -2/3, 2/3), d = (-1/24, 3/4, 7/24)
//   forest_ruth  4, 3   triple jump of Verlet, w = (x, 1 - 2x, x), x = 1/(2 - 2^(1/3))
//                       (Forest & Ruth 1990, Yoshida 1990; alias "yoshida4")
//   suzuki4      4, 5   Suzuki's (1990) fractal 5-stage composition, w = (s, s, 1-4s, s, s),
//                       s = 1/(4 - 4^(1/3))
//   yoshida6     6, 7   Yoshida (1990) solution A, 7 Verlet stages
//   suzuki6      6, 25  Suzuki's fractal recursion applied to suzuki4, s = 1/(4 - 4^(1/5))
//   yoshida8     8, 15  Yoshida (1990) solution D, 15 Verlet stages
//   rk4          4, 4   classical Runge-Kutta (not symplectic, not symmetric)
// All but euler, ruth3 and rk4 are symmetric (time-reversible): a step of -dt undoes a step of
// dt. Splitting methods conserve the angular momentum of a rotation-invariant V exactly (each
// drift and each central-force kick does), up to round-off.
#include <functional>
#include <string>
#include <vector>

#include "grids/types.hpp"
#include "physics/hamiltonian.hpp"

namespace aeolus {

enum class SymplecticMethod {
  euler,
  verlet,
  ruth3,
  forest_ruth,
  suzuki4,
  yoshida6,
  suzuki6,
  yoshida8,
  rk4
};

// Parse/print the names above ("yoshida4" is accepted for forest_ruth); an unknown name throws
// ConfigError listing the valid ones (key names the option in messages).
SymplecticMethod symplectic_method_from_name(const std::string& name,
                                             const std::string& key = "method");
std::string symplectic_method_name(SymplecticMethod m);
// Canonical names, in order of increasing cost (without aliases).
const std::vector<std::string>& symplectic_method_names();

int order(SymplecticMethod m);
bool is_symplectic(SymplecticMethod m);
bool is_symmetric(SymplecticMethod m);
// Force evaluations per step in a sequence of steps (the first step may need one more).
int force_evaluations_per_step(SymplecticMethod m);

// Stage i: drift by drift[i] * dt, then kick by kick[i] * dt (a zero coefficient skips the
// sub-step). Consistency: sum(drift) = sum(kick) = 1.
struct SplittingTable {
  std::vector<real_t> drift;  // c_i
  std::vector<real_t> kick;   // d_i
};

// The table of a composition of kick-drift-kick Verlet steps of sizes w_j dt, adjacent half
// kicks merged: s weights give s + 1 stages.
SplittingTable verlet_composition(const std::vector<real_t>& weights);
// Weights of the symmetric composition (w_m, ..., w_1, w_0, w_1, ..., w_m) with
// w_0 = 1 - 2 sum_{j>=1} w_j, given (w_1, ..., w_m) — Yoshida's notation.
std::vector<real_t> yoshida_weights(const std::vector<real_t>& w);
// The table of a splitting method; ConfigError for rk4 (not a splitting method).
const SplittingTable& splitting_table(SymplecticMethod m);

struct SymplecticStats {
  long steps = 0;
  long force_evals = 0;  // calls of grad_potential
};

// Scratch memory and the cached force of the integrators, so that a step allocates nothing
// (after the first use with a given dimension). The cached force is tagged with the
// Hamiltonian and the exact q it was computed at, and reused only for that same q: callers may
// change q (or the Hamiltonian) between steps without invalidating anything by hand.
class SymplecticWorkspace {
 public:
  SymplecticWorkspace() = default;
  explicit SymplecticWorkspace(int dim) { resize(dim); }

  // Cumulative over all steps taken with this workspace; reset by the caller at will.
  SymplecticStats stats;

  // dV/dq at q (length dim), from the cache when q is the point of the last evaluation.
  const real_t* grad_potential(const physics::SeparableHamiltonian& h, const real_t* q);
  // Buffers for RK4 stages: 5 arrays of length dim.
  real_t* rk_buffer(int k) { return rk_.data() + static_cast<size_t>(k) * dim_; }
  // Sizes the buffers for h (allocates only when the dimension changes).
  void prepare(const physics::SeparableHamiltonian& h);

 private:
  void resize(int dim);
  int dim_ = 0;
  std::vector<real_t> force_, force_q_, rk_;
  const physics::SeparableHamiltonian* force_h_ = nullptr;
  bool force_valid_ = false;
};

// Advance (q, p) (length h.dim() each) by one step of size dt (dt < 0 steps backwards). On
// return q, p hold the state at t + dt; ws.stats counts the step and its force evaluations.
void hamiltonian_step(const physics::SeparableHamiltonian& h, SymplecticMethod m, real_t dt,
                      real_t* q, real_t* p, SymplecticWorkspace& ws);
// The same for an arbitrary splitting table (e.g. another library's coefficients).
void splitting_step(const physics::SeparableHamiltonian& h, const SplittingTable& table, real_t dt,
                    real_t* q, real_t* p, SymplecticWorkspace& ws);

// Called with the step index s, the time t0 + s dt and the state.
using SymplecticObserver =
    std::function<void(long step, real_t t, const real_t* q, const real_t* p)>;

// n_steps steps of size dt from (q, p) at time t0; (q, p) hold the final state on return. The
// observer (if any) sees step 0, every observe_every-th step (0: none in between) and the last
// step. Throws NumericsError (naming the method, step and time) as soon as the state is no
// longer finite. Returns the counts of this call alone.
SymplecticStats integrate(const physics::SeparableHamiltonian& h, SymplecticMethod m, real_t dt,
                          long n_steps, real_t* q, real_t* p, SymplecticWorkspace& ws,
                          const SymplecticObserver& observer = {}, long observe_every = 0,
                          real_t t0 = 0);

}  // namespace aeolus
