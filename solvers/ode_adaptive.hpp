#pragma once
// Adaptive embedded explicit Runge-Kutta solvers with dense output: Bogacki-Shampine 3(2),
// Dormand-Prince 5(4) (Hairer's dopri5.f), Tsitouras 5(4), DOP853 (Hairer's dop853.f); Hairer's
// error norm (or a caller's norm, see ErrorNorm); I and PI step-size controllers; Hairer's
// initial-step rule; rejection; a max-steps guard. Template over the state type
// (StateOps<State>, solvers/ode_state.hpp) so the same code integrates std::vector<double> and
// torch::Tensor states: the integrator touches states only through StateOps, never indexes them,
// never modifies one in place, and copies one only where an output needs it.
//
// Step control follows dopri5.f / dop853.f line by line, so dopri5 and dop853 reproduce Hairer's
// step sequences and counters (tests/solvers/test_ode_adaptive.cpp checks Arenstorf and Van der
// Pol against runs of dopri5.f and dop853.f, with Hairer's initial-step rule and with a first
// step of 1e-4; each method with its own default step-ratio limits, see below):
//   fac11 = err^expo1, expo1 = expo - coupling * beta       (dopri5: 0.2 - 0.75 beta)
//   fac   = max(1/fac_max, min(1/fac_min, fac11 / facold^beta / safety)),  hnew = h / fac
//   accepted: facold = max(err, 1e-4); |hnew| <= hmax; no growth right after a rejection
//   rejected: hnew = h / min(1/fac_min, fac11 / safety)
//   last step: if (t + 1.01 h - t_end) * sign > 0 then h = t_end - t
// expo = 1/(q+1) with q the order of the embedded solution (bs3: 1/3, dopri5 and tsit5: 1/5),
// except dop853, which uses Hairer's 1/8 for its combined 5th/3rd-order estimator (coupling 0.2
// there, as in dop853.f). The I controller is the same with beta = 0.
//
// Deliberate differences from Hairer's codes (none changes the step sequence):
//   - nfev counts the right-hand side calls actually made: f(t0), plus one in the initial-step
//     rule when h0 == 0. dopri5.f and dop853.f always add 2, also when the user gives the first
//     step.
//   - `rejected` counts every rejection; Hairer does not count rejections before the first
//     accepted step (so in Hairer nstep can exceed naccpt + nrejct).
//   - dop853's 3 extra dense-output stages are evaluated only for steps that contain an
//     interior output time (Hairer: on every accepted step when dense output is on); they are
//     counted in nfev.
//   - the stiffness estimate is computed for every accepted step when a hook is given (and
//     reported, never acted on); Hairer tests it every 1000 steps and may stop.
//   - fac_min/fac_max default to each code's own (dopri5.f 0.2/10, dop853.f 0.333/6; bs3 and
//     tsit5 take dopri5.f's); with 0.2/10 dop853 would take 117 steps on the Arenstorf orbit
//     at 1e-7 where dop853.f takes 116.
//   - a trial step with a non-finite state or error estimate is rejected with the step cut by
//     fac_min (NumericsError after 20 in a row); Hairer has no such test.
//   - StateOps::lincomb adds (h a_j) k_j term by term where Hairer forms h (sum_j a_j k_j):
//     results agree to rounding (1.8e-10 after the whole Arenstorf orbit), counts exactly.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "grids/error.hpp"
#include "solvers/ode_state.hpp"

namespace aeolus {

enum class RkMethod { bs3, dopri5, tsit5, dop853 };
enum class StepController { integral, pi };

// Parse/print names "bs3", "dopri5", "tsit5", "dop853" and "i", "pi"; unknown names throw
// ConfigError listing the valid ones (key names the option in messages).
RkMethod rk_method_from_name(const std::string& name, const std::string& key = "method");
std::string rk_method_name(RkMethod m);
StepController step_controller_from_name(const std::string& name,
                                         const std::string& key = "controller");
std::string step_controller_name(StepController c);

struct AdaptiveParams {
  RkMethod method = RkMethod::dopri5;
  double rtol = 1e-6;
  double atol = 1e-9;
  StepController controller = StepController::pi;
  // 0: Hairer's initial-step rule (hinit of dopri5.f / dop853.f); > 0: this first step.
  double h0 = 0.0;
  // 0: |t_end - t0| (Hairer's default).
  double hmax = 0.0;
  double safety = 0.9;
  // The step may shrink at most to fac_min * h and grow at most to fac_max * h; 0: the
  // method's Hairer default (RkTableau::fac_min_default / fac_max_default).
  double fac_min = 0.0;
  double fac_max = 0.0;
  // PI gain beta (Hairer: 0.04 for dopri5, 0 for dop853); < 0: the method's default
  // (RkTableau::beta_default). Ignored by the I controller.
  double beta = -1.0;
  long max_steps = 100000;  // exceeded: NumericsError naming t, h and the count
  // false: constant step h0 (> 0 required), every step accepted whatever its error estimate
  // (for order tests and for a fixed-grid baseline); the last step still ends exactly at t_end
  // by the rule above, and the hook still sees err / err_norm.
  bool adaptive = true;
};

struct OdeStats {
  long nfev = 0;   // right-hand-side evaluations (see the header comment for the rules)
  long steps = 0;  // attempted steps = accepted + rejected
  long accepted = 0;
  long rejected = 0;
};

// What a step hook sees after each accepted step (for regularisers such as ERNODE/SRNODE and
// for diagnostics). `err` is the unscaled local error estimate y1 - y1_hat of the step (dop853:
// its 5th-order estimator); `err_norm` the norm the controller used (<= 1 when adaptive;
// dop853: err5^2 / sqrt(err5^2 + 0.01 err3^2) as in dop853.f); `stiffness` = |h| *
// ||k_s - k_{s-1}|| / ||y1 - Y_{s-1}|| for the last stage k_s = f(t + h, y1) and the stage
// before it (Hairer's estimate of |h lambda|; dopri5.f compares it with 3.25, dop853.f with
// 6.1), 0 where the denominator vanishes.
template <class State>
struct AcceptedStep {
  double t;  // start of the step
  double h;  // signed step
  const State& y0;
  const State& y1;
  const State& err;
  double err_norm;
  double stiffness;
  // The states behind `stiffness`, for a version of it that is differentiable in the state type
  // (SRNODE, emulators/neural_ode_impl.hpp): the last stage k_s = f(t + h, y1), the stage
  // k_{s-1} before it, and k_{s-1}'s input state Y_{s-1}. Valid only during the hook call.
  const State* k_last = nullptr;
  const State* k_prev = nullptr;
  const State* y_prev_stage = nullptr;
};
template <class State>
using StepHook = std::function<void(const AcceptedStep<State>&)>;

// A caller's error norm in place of Hairer's: norm(err, y0, y1, atol, rtol) must return the
// scaled size of the local error estimate `err` of a step from y0 to y1, with 1 meaning "just
// acceptable". Used for the error test, and by the initial-step rule as norm(x, y0, y0, ...),
// where it must scale like an rms over StateOps::size(y0) components (Hairer's hinit works
// with sums of squares; the solver multiplies by the size). An empty function means
// StateOps<State>::error_norm. Example, the adjoint's seminorm (Kidger et al. 2021) for an
// augmented state [y, a, g] that leaves the parameter-gradient block g out of step control:
//   ErrorNorm<S> semi = [](const S& e, const S& y0, const S& y1, double atol, double rtol) {
//     return StateOps<S>::error_norm(head(e), head(y0), head(y1), atol, rtol); };
template <class State>
using ErrorNorm = std::function<double(const State& err, const State& y0, const State& y1,
                                       double atol, double rtol)>;

template <class State>
struct OdeSolution {
  std::vector<double> t;  // the requested output times
  std::vector<State> y;   // state at each output time (dense output between steps)
  OdeStats stats;
  // Step the controller proposes after the last accepted step (dopri5.f's H on return), to
  // continue an integration; 0 when nothing was integrated.
  double h_next = 0.0;
};

// Integrate y' = f(t, y) from t_out.front() through every time in t_out (monotone, increasing
// or decreasing, repeats allowed; t_out.front() is the initial time and y.front() == y0) with
// dense output. Rhs: State f(double t, const State& y). The step ends exactly at
// t_out.back(); output times that coincide with a step end get that step's y1 (not an
// interpolant). Throws ConfigError for bad params or t_out, NumericsError on a non-finite
// state, a step size below rounding, or when max_steps is exceeded.
template <class State, class Rhs>
OdeSolution<State> solve_adaptive(Rhs&& f, const std::vector<double>& t_out, const State& y0,
                                  const AdaptiveParams& params, const StepHook<State>& hook = {},
                                  const ErrorNorm<State>& norm = {});

// ---------------------------------------------------------------------------------------------
// The methods' coefficients (solvers/ode_adaptive.cpp), for the solver and for tests.
// Stages are numbered from 0. Stage s-1 is always k_{s-1} = f(t + h, y1) with
// y1 = y0 + h sum_{j < s-1} b_j k_j, and becomes stage 0 of the next step (FSAL).
struct RkTableau {
  RkMethod method;
  int order;        // of y1
  int err_order;    // q, order of the embedded solution
  int dense_order;  // of the interpolant
  int stages;       // s, including the FSAL stage
  // dop853: the FSAL stage is not needed for the error estimate, so it is evaluated only after
  // the step is accepted (11 evaluations per rejected step, 12 per accepted one).
  bool fsal_after_accept;
  int dense_stages;                    // extra stages for dense output (dop853: 3), after s
  std::vector<double> c;               // stages + dense_stages nodes
  std::vector<std::vector<double>> a;  // a[i] has i entries (row 0 empty)
  std::vector<double> b;               // s weights of y1 (b[s-1] = 0)
  std::vector<double> e;               // s weights of the error estimate: err = h sum e_j k_j
  std::vector<double> e3;              // dop853: its 3rd-order estimator, otherwise empty
  double expo;                         // controller exponent with beta = 0
  double beta_coupling;                // expo1 = expo - beta_coupling * beta
  double beta_default;                 // PI gain when AdaptiveParams::beta < 0
  double fac_min_default = 0.2;        // when AdaptiveParams::fac_min == 0 (dop853.f: 0.333)
  double fac_max_default = 10.0;       // when AdaptiveParams::fac_max == 0 (dop853.f: 6)
  int hinit_order;                     // IORD of Hairer's initial-step rule
};
const RkTableau& rk_tableau(RkMethod m);
// Weights w[0..n) with y(t + theta h) = y0 + h sum_j w[j] k_j on an accepted step (k_{s-1}
// the FSAL stage, then the dense stages); returns n. w must hold stages + dense_stages values.
int rk_dense_weights(const RkTableau& tab, double theta, double* w);

// ---------------------------------------------------------------------------------------------
// Implementation.
namespace detail {

template <class State, class Rhs>
State ode_call(Rhs& f, double t, const State& y, long& nfev) {
  ++nfev;
  return f(t, y);
}

// hinit of dopri5.f / dop853.f: an Euler step of size h = 0.01 ||y0|| / ||f0|| estimates the
// second derivative, then h = min(100 |h|, (0.01 / max(||f0||, ||y''||))^(1/order), hmax).
// Hairer's "norms" here are sqrt of sums of squares (not means): rms * sqrt(n).
template <class State, class Rhs, class Norm>
double hairer_initial_step(Rhs& f, double t0, const State& y0, const State& f0, double posneg,
                           int order, double hmax, double atol, double rtol, const Norm& norm,
                           long& nfev) {
  using Ops = StateOps<State>;
  const double n = static_cast<double>(Ops::size(y0));
  const double nf = norm(f0, y0, y0, atol, rtol);
  const double ny = norm(y0, y0, y0, atol, rtol);
  const double dnf = n * nf * nf;
  const double dny = n * ny * ny;
  double h = (dnf <= 1e-10 || dny <= 1e-10) ? 1e-6 : std::sqrt(dny / dnf) * 0.01;
  h = std::min(h, hmax) * posneg;
  const double one = 1.0;
  const State* f0p = &f0;
  const State y1 = Ops::lincomb(y0, h, &one, &f0p, 1);
  const State f1 = ode_call(f, t0 + h, y1, nfev);
  const double nd = norm(Ops::sub(f1, f0), y0, y0, atol, rtol);
  const double der2 = std::sqrt(n) * nd / std::abs(h);
  const double der12 = std::max(der2, std::sqrt(dnf));
  const double h1 =
      der12 <= 1e-15 ? std::max(1e-6, std::abs(h) * 1e-3) : std::pow(0.01 / der12, 1.0 / order);
  return posneg * std::min({100.0 * std::abs(h), h1, hmax});
}

std::string ode_where(RkMethod m, double t, double h, const OdeStats& s);
void check_adaptive_params(const AdaptiveParams& p, const std::vector<double>& t_out);

}  // namespace detail

template <class State, class Rhs>
OdeSolution<State> solve_adaptive(Rhs&& f, const std::vector<double>& t_out, const State& y0,
                                  const AdaptiveParams& params, const StepHook<State>& hook,
                                  const ErrorNorm<State>& norm_in) {
  using Ops = StateOps<State>;
  detail::check_adaptive_params(params, t_out);
  const RkTableau& tab = rk_tableau(params.method);
  const ErrorNorm<State> norm = norm_in ? norm_in : ErrorNorm<State>(&Ops::error_norm);
  const double atol = params.atol, rtol = params.rtol;

  OdeSolution<State> sol;
  sol.t = t_out;
  sol.y.reserve(t_out.size());
  sol.y.push_back(y0);
  const double t0 = t_out.front(), t_end = t_out.back();
  std::size_t next_out = 1;
  while (next_out < t_out.size() && t_out[next_out] == t0) {
    sol.y.push_back(y0);
    ++next_out;
  }
  if (next_out == t_out.size()) return sol;
  if (!Ops::all_finite(y0))
    throw NumericsError(
        "solve_adaptive: the initial state is not finite (t0 = " + std::to_string(t0) + ")");

  OdeStats& st = sol.stats;
  const int s = tab.stages;
  const int n_all = s + tab.dense_stages;
  const double posneg = t_end > t0 ? 1.0 : -1.0;
  const double hmax = params.hmax > 0.0 ? params.hmax : std::abs(t_end - t0);
  const double beta = params.controller == StepController::pi
                          ? (params.beta < 0.0 ? tab.beta_default : params.beta)
                          : 0.0;
  const double expo1 = tab.expo - tab.beta_coupling * beta;
  const double fac_min = params.fac_min > 0.0 ? params.fac_min : tab.fac_min_default;
  const double fac_max = params.fac_max > 0.0 ? params.fac_max : tab.fac_max_default;
  const double facc1 = 1.0 / fac_min, facc2 = 1.0 / fac_max;
  const double safe = params.safety;
  constexpr double uround = 2.3e-16;  // dopri5.f's default
  constexpr int max_nonfinite = 20;   // consecutive non-finite trial steps before giving up

  std::vector<State> k(n_all);
  std::vector<const State*> kp(n_all);
  for (int j = 0; j < n_all; ++j) kp[j] = &k[j];
  std::vector<double> w(n_all);

  State y = y0;
  double t = t0;
  k[0] = detail::ode_call(f, t, y, st.nfev);
  double h;
  if (params.h0 > 0.0)
    h = posneg * params.h0;
  else
    h = detail::hairer_initial_step(f, t, y, k[0], posneg, tab.hinit_order, hmax, atol, rtol, norm,
                                    st.nfev);
  double facold = 1e-4;
  bool reject = false, last = false;
  int nonfinite = 0;

  for (;;) {
    if (st.steps >= params.max_steps)
      throw NumericsError(
          "solve_adaptive: more than max_steps = " + std::to_string(params.max_steps) +
          " steps needed; stopped at " + detail::ode_where(params.method, t, h, st));
    if (0.1 * std::abs(h) <= std::abs(t) * uround)
      throw NumericsError("solve_adaptive: step size too small; " +
                          detail::ode_where(params.method, t, h, st));
    if ((t + 1.01 * h - t_end) * posneg > 0.0) {
      h = t_end - t;
      last = true;
    }
    ++st.steps;

    State y_prev_stage;  // input of stage s-2, for the stiffness estimate
    for (int i = 1; i < s - 1; ++i) {
      State yi = Ops::lincomb(y, h, tab.a[i].data(), kp.data(), i);
      k[i] = detail::ode_call(f, t + tab.c[i] * h, yi, st.nfev);
      if (i == s - 2) y_prev_stage = std::move(yi);
    }
    const double t_new = last ? t_end : t + h;
    State y1 = Ops::lincomb(y, h, tab.b.data(), kp.data(), s - 1);
    if (!tab.fsal_after_accept) k[s - 1] = detail::ode_call(f, t + h, y1, st.nfev);
    State err = Ops::scaled_sum(h, tab.e.data(), kp.data(), s, y);
    double err_norm;
    if (tab.e3.empty()) {
      err_norm = norm(err, y, y1, atol, rtol);
    } else {
      const double n5 = norm(err, y, y1, atol, rtol);
      const double n3 = norm(Ops::scaled_sum(h, tab.e3.data(), kp.data(), s, y), y, y1, atol, rtol);
      double deno = n5 * n5 + 0.01 * n3 * n3;
      if (deno <= 0.0) deno = 1.0;
      err_norm = n5 * n5 / std::sqrt(deno);
    }
    const bool finite = std::isfinite(err_norm) && Ops::all_finite(y1);
    if (!finite) {
      if (!params.adaptive || ++nonfinite > max_nonfinite)
        throw NumericsError("solve_adaptive: non-finite state or error estimate; " +
                            detail::ode_where(params.method, t, h, st));
      // The trial step may have overflowed; retry with the strongest allowed reduction.
      ++st.rejected;
      reject = true;
      last = false;
      h *= fac_min;
      continue;
    }
    nonfinite = 0;

    double hnew = h;
    const double fac11 = params.adaptive ? std::pow(err_norm, expo1) : 0.0;
    if (params.adaptive) {
      double fac = fac11 / std::pow(facold, beta);
      fac = std::max(facc2, std::min(facc1, fac / safe));
      hnew = h / fac;
    }
    if (!params.adaptive || err_norm <= 1.0) {
      facold = std::max(err_norm, 1e-4);
      ++st.accepted;
      if (tab.fsal_after_accept) k[s - 1] = detail::ode_call(f, t + h, y1, st.nfev);
      if (hook) {
        double stiff = 0.0;
        const double den = Ops::rms(Ops::sub(y1, y_prev_stage));
        if (den > 0.0) stiff = std::abs(h) * Ops::rms(Ops::sub(k[s - 1], k[s - 2])) / den;
        hook(AcceptedStep<State>{t, h, y, y1, err, err_norm, stiff, &k[s - 1], &k[s - 2],
                                 &y_prev_stage});
      }
      bool dense_ready = tab.dense_stages == 0;
      while (next_out < t_out.size() && (t_out[next_out] - t_new) * posneg <= 0.0) {
        const double to = t_out[next_out];
        if (to == t_new) {
          sol.y.push_back(y1);
        } else {
          if (!dense_ready) {
            for (int i = s; i < n_all; ++i) {
              State yi = Ops::lincomb(y, h, tab.a[i].data(), kp.data(), i);
              k[i] = detail::ode_call(f, t + tab.c[i] * h, yi, st.nfev);
            }
            dense_ready = true;
          }
          const int nw = rk_dense_weights(tab, (to - t) / h, w.data());
          sol.y.push_back(Ops::lincomb(y, h, w.data(), kp.data(), nw));
        }
        ++next_out;
      }
      k[0] = std::move(k[s - 1]);
      y = std::move(y1);
      t = t_new;
      if (last) {
        sol.h_next = hnew;
        break;
      }
      if (std::abs(hnew) > hmax) hnew = posneg * hmax;
      if (reject) hnew = posneg * std::min(std::abs(hnew), std::abs(h));
      reject = false;
    } else {
      hnew = h / std::min(facc1, fac11 / safe);
      reject = true;
      ++st.rejected;
      last = false;
    }
    h = hnew;
  }
  return sol;
}

}  // namespace aeolus
