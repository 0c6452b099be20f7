// Benchmark: adaptive Runge-Kutta (bs3, dopri5, tsit5, dop853) vs PETSc TSRK 5dp on Arenstorf
//
//   tools/bench ode_peers [repeats]        (default 200 solves per method)
//
// Problem: the Arenstorf orbit (physics/ode_problems.hpp) over one period, rtol = atol = 1e-7,
// from Hairer's drivers; the exact solution returns to y0, so the end error is |y(T) - y0|.
// Ours: solve_adaptive with default parameters (PI controller, Hairer's initial step).
// Peer: PETSc's TSRK with TSRK5DP (the same Dormand-Prince pair) and TSADAPTBASIC, with
// TSSetTolerances at the same rtol/atol and its first step set to the one Hairer's rule
// gives ours; PETSc 3.18, in this process. Evaluations are counted in each right-hand side.
// Reported per method: evaluations, steps (accepted + rejected), wall time per solve (mean over
// the repeats, after one warm-up), end error; then ours / PETSc for evaluations and time.
// PETSc solves on a fresh TS each repeat and is timed around TSSolve, which so includes
// TSSetUp's allocations (ours allocates its stages inside every solve too).
// Reference on the development machine: TSRK 5dp 1387 evaluations (0.27 ms), SciPy RK45 1382.
#include <petscts.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "grids/petsc_util.hpp"
#include "physics/ode_problems.hpp"
#include "solvers/ode_adaptive.hpp"

using namespace aeolus;
using clock_type = std::chrono::steady_clock;
using Values = std::vector<double>;

namespace {

constexpr double kTol = 1e-7;

struct Row {
  std::string name;
  long nfev = 0, steps = 0, accepted = 0, rejected = 0;
  double ms = 0.0;
  double err = 0.0;
};

double return_error(const Values& y) {
  const Values y0 = physics::Arenstorf::y0();
  double e = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) e = std::max(e, std::abs(y[i] - y0[i]));
  return e;
}

Row run_ours(RkMethod m, int repeats) {
  physics::Arenstorf f;
  AdaptiveParams p;
  p.method = m;
  p.rtol = p.atol = kTol;
  const Values times = {0.0, physics::Arenstorf::period()};
  Row r;
  r.name = "aeolus " + rk_method_name(m);
  auto sol = solve_adaptive(f, times, physics::Arenstorf::y0(), p);  // warm-up
  const auto t0 = clock_type::now();
  for (int i = 0; i < repeats; ++i) sol = solve_adaptive(f, times, physics::Arenstorf::y0(), p);
  r.ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count() / repeats;
  r.nfev = sol.stats.nfev;
  r.steps = sol.stats.steps;
  r.accepted = sol.stats.accepted;
  r.rejected = sol.stats.rejected;
  r.err = return_error(sol.y.back());
  return r;
}

struct PetscCtx {
  physics::Arenstorf f;
  long nfev = 0;
};

PetscErrorCode petsc_rhs(TS, PetscReal t, ::Vec x, ::Vec out, void* ctx_ptr) {
  auto* ctx = static_cast<PetscCtx*>(ctx_ptr);
  ++ctx->nfev;
  const PetscScalar* xa;
  PetscScalar* fa;
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArray(out, &fa));
  const Values y(xa, xa + 4);
  const Values fy = ctx->f(t, y);
  for (int i = 0; i < 4; ++i) fa[i] = fy[i];
  PetscCall(VecRestoreArray(out, &fa));
  PetscCall(VecRestoreArrayRead(x, &xa));
  return 0;
}

// One TSRK 5dp solve on a fresh TS; returns its wall time in ms (TSSolve only).
double petsc_solve(double dt0, PetscCtx& ctx, Row& r) {
  TS ts;
  ::Vec x;
  AEOLUS_PETSC(VecCreateSeq(PETSC_COMM_SELF, 4, &x));
  const Values y0 = physics::Arenstorf::y0();
  PetscScalar* xa;
  AEOLUS_PETSC(VecGetArray(x, &xa));
  for (int i = 0; i < 4; ++i) xa[i] = y0[i];
  AEOLUS_PETSC(VecRestoreArray(x, &xa));
  AEOLUS_PETSC(TSCreate(PETSC_COMM_SELF, &ts));
  AEOLUS_PETSC(TSSetProblemType(ts, TS_NONLINEAR));
  AEOLUS_PETSC(TSSetType(ts, TSRK));
  AEOLUS_PETSC(TSRKSetType(ts, TSRK5DP));
  AEOLUS_PETSC(TSSetRHSFunction(ts, nullptr, petsc_rhs, &ctx));
  AEOLUS_PETSC(TSSetTime(ts, 0.0));
  AEOLUS_PETSC(TSSetMaxTime(ts, physics::Arenstorf::period()));
  AEOLUS_PETSC(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  AEOLUS_PETSC(TSSetMaxSteps(ts, 1000000));
  AEOLUS_PETSC(TSSetTimeStep(ts, dt0));
  AEOLUS_PETSC(TSSetTolerances(ts, kTol, nullptr, kTol, nullptr));
  TSAdapt adapt;
  AEOLUS_PETSC(TSGetAdapt(ts, &adapt));
  AEOLUS_PETSC(TSAdaptSetType(adapt, TSADAPTBASIC));
  ctx.nfev = 0;
  const auto t0 = clock_type::now();
  AEOLUS_PETSC(TSSolve(ts, x));
  const double ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  PetscInt steps, rejected;
  AEOLUS_PETSC(TSGetStepNumber(ts, &steps));
  AEOLUS_PETSC(TSGetStepRejections(ts, &rejected));
  r.nfev = ctx.nfev;
  r.accepted = steps;
  r.rejected = rejected;
  r.steps = steps + rejected;
  const PetscScalar* xr;
  AEOLUS_PETSC(VecGetArrayRead(x, &xr));
  r.err = return_error(Values(xr, xr + 4));
  AEOLUS_PETSC(VecRestoreArrayRead(x, &xr));
  AEOLUS_PETSC(TSDestroy(&ts));
  AEOLUS_PETSC(VecDestroy(&x));
  return ms;
}

Row run_petsc(int repeats) {
  // The first step Hairer's rule picks for ours (dopri5: order 5), so that both start alike.
  physics::Arenstorf f;
  const Values y0 = physics::Arenstorf::y0();
  long dummy = 0;
  const double T = physics::Arenstorf::period();
  const double dt0 = detail::hairer_initial_step(f, 0.0, y0, f(0.0, y0), 1.0, 5, T, kTol, kTol,
                                                 &StateOps<Values>::error_norm, dummy);
  PetscCtx ctx;
  Row r;
  r.name = "PETSc TSRK 5dp";
  petsc_solve(dt0, ctx, r);  // warm-up
  double total = 0.0;
  for (int i = 0; i < repeats; ++i) total += petsc_solve(dt0, ctx, r);
  r.ms = total / repeats;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv);
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 200;
  std::printf("ode_peers: Arenstorf orbit, one period, rtol = atol = %.0e, %d solves each\n\n",
              kTol, repeats);
  std::vector<Row> rows;
  for (RkMethod m : {RkMethod::bs3, RkMethod::dopri5, RkMethod::tsit5, RkMethod::dop853})
    rows.push_back(run_ours(m, repeats));
  const Row petsc = run_petsc(repeats);
  rows.push_back(petsc);
  std::printf("%-16s %7s %6s %6s %5s %10s %10s %10s %10s\n", "solver", "fevals", "steps", "acc",
              "rej", "ms/solve", "end error", "fev/PETSc", "t/PETSc");
  for (const Row& r : rows)
    std::printf("%-16s %7ld %6ld %6ld %5ld %10.4f %10.2e %10.3f %10.3f\n", r.name.c_str(), r.nfev,
                r.steps, r.accepted, r.rejected, r.ms, r.err, double(r.nfev) / double(petsc.nfev),
                r.ms / petsc.ms);
  return 0;
}
