// Benchmark: symplectic Verlet and Forest-Ruth, ours against PETSc TSBASICSYMPLECTIC, on Kepler
//
//   tools/bench symplectic [steps] [steps_per_period]
//   build/bin/bench_symplectic 100000 200
//
// Problem: Kepler two-body problem e = 0.6, GM = 1, a = 1 (period 2 pi), from pericentre, with
// dt = 2 pi / steps_per_period (default 200) for `steps` steps (default 100000, 500 periods).
// Same dt, same steps, same process, one rank. For each integrator: the largest energy error
// |H - H0| over every step (a separate, untimed run with a monitor), the time per step (best of
// 5 timed runs without monitor), force evaluations per step, and the ratios ours / PETSc.
// Which Verlet? PETSc's tables are (c, d) = (0, 1), (1/2, 1/2) for "2" and Forest & Ruth's for
// "4", but the order of the two sub-steps in a stage changed between releases: PETSc 3.18 (the
// installed one) kicks with c_i and then drifts with d_i, so its "2" is drift-kick-drift
// (position) Verlet with one force per step and its "4" is the kick-drift-kick triple jump
// (= our forest_ruth, but with 4 force evaluations per step: no reuse of the end force); newer
// releases drift with c_i first, which makes "2" kick-drift-kick. The bench therefore also runs
// the drift-kick-drift forms through our splitting loop, finds the form each PETSc type
// reproduces from the final states (agreement to round-off), and reports the ratios both for
// that same method and for our registered method of the same name.
#include "solvers/symplectic.hpp"

#include <petscts.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/hamiltonian.hpp"

using namespace aeolus;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int kRepeats = 5;

struct Result {
  std::string name;
  double max_de = 0;
  double sec_per_step = 0;
  double force_per_step = 0;
  std::vector<double> final_state;  // q then p
};

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// ---- ours ----

Result run_ours(const std::string& label, const physics::Kepler& k, double dt, long steps,
                const SplittingTable& table) {
  Result r;
  r.name = label;
  std::vector<double> q0, p0;
  k.initial_state(q0, p0);
  const double e0 = k.energy(q0.data(), p0.data());
  {
    auto q = q0, p = p0;
    SymplecticWorkspace ws(k.dim());
    for (long s = 0; s < steps; ++s) {
      splitting_step(k, table, dt, q.data(), p.data(), ws);
      r.max_de = std::max(r.max_de, std::abs(k.energy(q.data(), p.data()) - e0));
    }
    r.final_state = q;
    r.final_state.insert(r.final_state.end(), p.begin(), p.end());
    r.force_per_step = static_cast<double>(ws.stats.force_evals) / steps;
  }
  r.sec_per_step = 1e300;
  for (int rep = 0; rep < kRepeats; ++rep) {
    auto q = q0, p = p0;
    SymplecticWorkspace ws(k.dim());
    const auto t0 = clock_type::now();
    for (long s = 0; s < steps; ++s) splitting_step(k, table, dt, q.data(), p.data(), ws);
    r.sec_per_step = std::min(r.sec_per_step, seconds_since(t0) / steps);
    if (!std::isfinite(q[0])) throw NumericsError("bench: non-finite state");
  }
  return r;
}

// ---- PETSc ----

struct PetscCtx {
  const physics::Kepler* k;
  double e0 = 0, max_de = 0;
  long position_evals = 0, momentum_evals = 0;
};

// dq/dt = dT/dp = p / m, called by PETSc with the momentum sub-vector.
PetscErrorCode rhs_position(TS, PetscReal, Vec p, Vec qdot, void* vctx) {
  auto* ctx = static_cast<PetscCtx*>(vctx);
  const PetscScalar* pa;
  PetscScalar* qd;
  PetscCall(VecGetArrayRead(p, &pa));
  PetscCall(VecGetArray(qdot, &qd));
  const auto& m = ctx->k->masses();
  for (int i = 0; i < 2; ++i) qd[i] = pa[i] / m[i];
  PetscCall(VecRestoreArray(qdot, &qd));
  PetscCall(VecRestoreArrayRead(p, &pa));
  ++ctx->position_evals;
  return 0;
}

// dp/dt = -dV/dq, called with the position sub-vector.
PetscErrorCode rhs_momentum(TS, PetscReal, Vec q, Vec pdot, void* vctx) {
  auto* ctx = static_cast<PetscCtx*>(vctx);
  const PetscScalar* qa;
  PetscScalar* pd;
  PetscCall(VecGetArrayRead(q, &qa));
  PetscCall(VecGetArray(pdot, &pd));
  double g[2];
  ctx->k->grad_potential(qa, g);
  pd[0] = -g[0];
  pd[1] = -g[1];
  PetscCall(VecRestoreArray(pdot, &pd));
  PetscCall(VecRestoreArrayRead(q, &qa));
  ++ctx->momentum_evals;
  return 0;
}

PetscErrorCode energy_monitor(TS, PetscInt, PetscReal, Vec u, void* vctx) {
  auto* ctx = static_cast<PetscCtx*>(vctx);
  const PetscScalar* ua;
  PetscCall(VecGetArrayRead(u, &ua));
  ctx->max_de = std::max(ctx->max_de, std::abs(ctx->k->energy(ua, ua + 2) - ctx->e0));
  PetscCall(VecRestoreArrayRead(u, &ua));
  return 0;
}

// Owns a TS set up as TSBASICSYMPLECTIC of `type` for the 4-vector (q0, q1, p0, p1).
class PetscSymplectic {
 public:
  PetscSymplectic(const char* type, PetscCtx* ctx, double dt, long steps, bool monitor) {
    AEOLUS_PETSC(TSCreate(PETSC_COMM_SELF, &ts_));
    AEOLUS_PETSC(TSSetType(ts_, TSBASICSYMPLECTIC));
    AEOLUS_PETSC(TSBasicSymplecticSetType(ts_, type));
    AEOLUS_PETSC(VecCreateSeq(PETSC_COMM_SELF, 4, &u_));
    AEOLUS_PETSC(ISCreateStride(PETSC_COMM_SELF, 2, 0, 1, &is_q_));
    AEOLUS_PETSC(ISCreateStride(PETSC_COMM_SELF, 2, 2, 1, &is_p_));
    AEOLUS_PETSC(TSRHSSplitSetIS(ts_, "position", is_q_));
    AEOLUS_PETSC(TSRHSSplitSetIS(ts_, "momentum", is_p_));
    AEOLUS_PETSC(TSRHSSplitSetRHSFunction(ts_, "position", nullptr, rhs_position, ctx));
    AEOLUS_PETSC(TSRHSSplitSetRHSFunction(ts_, "momentum", nullptr, rhs_momentum, ctx));
    AEOLUS_PETSC(TSSetTime(ts_, 0.0));
    AEOLUS_PETSC(TSSetTimeStep(ts_, dt));
    AEOLUS_PETSC(TSSetMaxSteps(ts_, steps));
    // Stop on the step count alone: the summed time may land a hair short of steps * dt.
    AEOLUS_PETSC(TSSetMaxTime(ts_, 2.0 * steps * dt));
    AEOLUS_PETSC(TSSetExactFinalTime(ts_, TS_EXACTFINALTIME_STEPOVER));
    if (monitor) AEOLUS_PETSC(TSMonitorSet(ts_, energy_monitor, ctx, nullptr));
  }
  ~PetscSymplectic() {
    ISDestroy(&is_p_);
    ISDestroy(&is_q_);
    VecDestroy(&u_);
    TSDestroy(&ts_);
  }
  PetscSymplectic(const PetscSymplectic&) = delete;
  PetscSymplectic& operator=(const PetscSymplectic&) = delete;

  void set_state(const std::vector<double>& q, const std::vector<double>& p) {
    PetscScalar* ua;
    AEOLUS_PETSC(VecGetArray(u_, &ua));
    ua[0] = q[0];
    ua[1] = q[1];
    ua[2] = p[0];
    ua[3] = p[1];
    AEOLUS_PETSC(VecRestoreArray(u_, &ua));
  }
  void solve() { AEOLUS_PETSC(TSSolve(ts_, u_)); }
  std::vector<double> state() const {
    const PetscScalar* ua;
    AEOLUS_PETSC(VecGetArrayRead(u_, &ua));
    std::vector<double> s(ua, ua + 4);
    AEOLUS_PETSC(VecRestoreArrayRead(u_, &ua));
    return s;
  }
  long steps_taken() const {
    PetscInt n;
    AEOLUS_PETSC(TSGetStepNumber(ts_, &n));
    return n;
  }

 private:
  TS ts_ = nullptr;
  Vec u_ = nullptr;
  IS is_q_ = nullptr, is_p_ = nullptr;
};

Result run_petsc(const char* type, const physics::Kepler& k, double dt, long steps) {
  Result r;
  r.name = std::string("PETSc \"") + type + "\"";
  std::vector<double> q0, p0;
  k.initial_state(q0, p0);
  PetscCtx ctx{&k};
  ctx.e0 = k.energy(q0.data(), p0.data());
  {
    PetscSymplectic ts(type, &ctx, dt, steps, true);
    ts.set_state(q0, p0);
    ts.solve();
    if (ts.steps_taken() != steps)
      throw NumericsError("PETSc took " + std::to_string(ts.steps_taken()) + " steps, not " +
                          std::to_string(steps));
    r.max_de = ctx.max_de;
    r.final_state = ts.state();
    r.force_per_step = static_cast<double>(ctx.momentum_evals) / steps;
  }
  r.sec_per_step = 1e300;
  for (int rep = 0; rep < kRepeats; ++rep) {
    PetscSymplectic ts(type, &ctx, dt, steps, false);
    ts.set_state(q0, p0);
    const auto t0 = clock_type::now();
    ts.solve();
    r.sec_per_step = std::min(r.sec_per_step, seconds_since(t0) / steps);
  }
  return r;
}

double state_diff(const Result& a, const Result& b) {
  double d = 0;
  for (size_t i = 0; i < a.final_state.size(); ++i)
    d = std::max(d, std::abs(a.final_state[i] - b.final_state[i]));
  return d;
}

void print_row(const Result& r) {
  std::printf("  %-24s %12.3e %12.1f %8.1f\n", r.name.c_str(), r.max_de, r.sec_per_step * 1e9,
              r.force_per_step);
}

// A composition of drift-kick-drift Verlet steps with weights w: the mirror image of
// verlet_composition (which merges kick-drift-kick steps), as a drift-first table.
SplittingTable dkd_composition(const std::vector<double>& w) {
  SplittingTable t;
  for (size_t j = 0; j < w.size(); ++j) {
    t.drift.push_back(0.5 * (w[j] + (j > 0 ? w[j - 1] : 0.0)));
    t.kick.push_back(w[j]);
  }
  t.drift.push_back(0.5 * w.back());
  t.kick.push_back(0.0);
  return t;
}

// Which of our two forms PETSc's type reproduces (its stage order changed between releases).
const char* matching_form(const Result& petsc, const Result& kdk, const Result& dkd) {
  const double a = state_diff(petsc, kdk), b = state_diff(petsc, dkd);
  if (a < 1e-6 && a < b) return "kick-drift-kick";
  if (b < 1e-6) return "drift-kick-drift";
  return "neither form (check the coefficients)";
}

int run(int argc, char** argv) {
  const long steps = argc > 1 ? std::atol(argv[1]) : 100000;
  const long per_period = argc > 2 ? std::atol(argv[2]) : 200;
  if (steps <= 0 || per_period <= 0)
    throw ConfigError("usage: bench_symplectic [steps > 0] [steps_per_period > 0]");
  const physics::Kepler k;  // e = 0.6, GM = 1, a = 1
  const double dt = k.period() / per_period;
  std::printf(
      "Kepler e = 0.6, dt = 2 pi / %ld = %.6g, %ld steps (%.1f periods), PETSc %d.%d.%d\n\n",
      per_period, dt, steps, static_cast<double>(steps) / per_period, PETSC_VERSION_MAJOR,
      PETSC_VERSION_MINOR, PETSC_VERSION_SUBMINOR);

  const double x = 1.0 / (2.0 - std::cbrt(2.0));  // triple-jump weight
  const Result ours_v =
      run_ours("ours verlet (KDK)", k, dt, steps, splitting_table(SymplecticMethod::verlet));
  const Result ours_v_dkd = run_ours("ours DKD verlet", k, dt, steps, dkd_composition({1.0}));
  const Result petsc_v = run_petsc(TSBASICSYMPLECTICVELVERLET, k, dt, steps);
  const Result ours_fr = run_ours("ours forest_ruth (KDK)", k, dt, steps,
                                  splitting_table(SymplecticMethod::forest_ruth));
  const Result ours_fr_dkd =
      run_ours("ours DKD forest_ruth", k, dt, steps, dkd_composition({x, 1 - 2 * x, x}));
  const Result petsc_fr = run_petsc(TSBASICSYMPLECTIC4, k, dt, steps);

  std::printf("  %-24s %12s %12s %8s\n", "integrator", "max|dE|", "ns/step", "forces");
  for (const Result* r : {&ours_v, &ours_v_dkd, &petsc_v, &ours_fr, &ours_fr_dkd, &petsc_fr})
    print_row(*r);

  std::printf("\nfinal-state agreement (max |difference| of q, p after %ld steps)\n", steps);
  std::printf("  PETSc \"2\" vs ours verlet (KDK): %.3e, vs ours DKD verlet: %.3e\n",
              state_diff(petsc_v, ours_v), state_diff(petsc_v, ours_v_dkd));
  std::printf("  PETSc \"4\" vs ours forest_ruth (KDK): %.3e, vs ours DKD forest_ruth: %.3e\n",
              state_diff(petsc_fr, ours_fr), state_diff(petsc_fr, ours_fr_dkd));
  std::printf("  => this PETSc's \"2\" is %s, its \"4\" is %s\n",
              matching_form(petsc_v, ours_v, ours_v_dkd),
              matching_form(petsc_fr, ours_fr, ours_fr_dkd));

  // Same method: ours in the form PETSc uses; same name: our registered method.
  auto same = [](const Result& petsc, const Result& kdk, const Result& dkd) -> const Result& {
    return state_diff(petsc, kdk) <= state_diff(petsc, dkd) ? kdk : dkd;
  };
  std::printf("\nratios ours / PETSc                              max|dE|  time/step\n");
  const Result& sv = same(petsc_v, ours_v, ours_v_dkd);
  const Result& sf = same(petsc_fr, ours_fr, ours_fr_dkd);
  std::printf("  %-24s / PETSc \"2\"  %10.3f %10.4f  (same method)\n", sv.name.c_str(),
              sv.max_de / petsc_v.max_de, sv.sec_per_step / petsc_v.sec_per_step);
  std::printf("  %-24s / PETSc \"2\"  %10.3f %10.4f  (our verlet)\n", ours_v.name.c_str(),
              ours_v.max_de / petsc_v.max_de, ours_v.sec_per_step / petsc_v.sec_per_step);
  std::printf("  %-24s / PETSc \"4\"  %10.3f %10.4f  (same method)\n", sf.name.c_str(),
              sf.max_de / petsc_fr.max_de, sf.sec_per_step / petsc_fr.sec_per_step);
  std::printf("  %-24s / PETSc \"4\"  %10.3f %10.4f  (our forest_ruth)\n", ours_fr.name.c_str(),
              ours_fr.max_de / petsc_fr.max_de, ours_fr.sec_per_step / petsc_fr.sec_per_step);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv);
  try {
    return run(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_symplectic: %s\n", e.what());
    return 1;
  }
}
