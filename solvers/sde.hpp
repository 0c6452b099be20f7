#pragma once
// Strong solvers for Ito SDEs  dX = f(t, X) dt + g(t, X) dW  with diagonal noise (g elementwise,
// one Wiener process per component, g_i depending on X only through X_i) or scalar noise (one
// Wiener process for all components, g arbitrary), and the additive special case (g independent
// of X):
//   euler_maruyama  strong order 0.5 (1.0 for additive noise), weak order 1
//   milstein        strong order 1.0; uses the elementwise dg_i/dx_i when the system supplies
//                   it, otherwise the derivative-free Runge-Kutta form (Kloeden & Platen 11.1.5)
//   rk_milstein     the derivative-free form always
//   sriw1           Roessler (2010) SRI method SRI1 ("SRIW1" of Rackauckas & Nie), strong order
//                   1.5 for scalar / commutative diagonal noise, with an embedded error estimate
//   sra1, sra3      Roessler (2010) SRA methods for additive noise, strong order 1.5, embedded
//                   error estimates (deterministic orders 2 and 3)
// Adaptive stepping (sriw1, sra1, sra3) uses the natural-embedding error estimate of Rackauckas
// & Nie (2017): err = delta * |E_D| + |E_N| with the drift part E_D = h (f(H0_2) - f(H0_1)) (the
// difference between the drift quadrature of the method and that of its embedded order-1
// scheme) and the noise part E_N = sum_i (beta3_i I10/h + beta4_i I111/h) g(H1_i) (the terms
// whose omission gives the embedded scheme); |.| is Hairer's norm, so the two parts cannot
// cancel each other. Rejected steps do not bias the Brownian path: every increment comes from a
// BrownianPath, which keeps all values it has sampled and samples any new time from the exact
// conditional (bridge) distribution given its neighbours, so a retry with a smaller step sees
// the same path (the RSwM "memory", kept as a tree of intervals).
//
// An optional hook sees every accepted adaptive step (SdeAcceptedStep): its size, the two
// unscaled parts of the error estimate as states (so a torch caller can differentiate them: the
// ERNODE-type regulariser of Pal et al. 2021), and the last two drift stages with their inputs,
// from which |h lambda| of the drift Jacobian is estimated as for Hairer's ODE stiffness test
// (the SRNODE-type regulariser; sde_stability_boundary gives the scale).
//
// The solvers are templates over the state (StateOps<State>, solvers/ode_state.hpp) and never
// index a state, so the same code integrates std::vector<double> and torch::Tensor states (with
// autograd through every stage). Brownian increments are sampled as std::vector<double> and
// converted with StateOps::from_values.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "grids/error.hpp"
#include "grids/random.hpp"
#include "solvers/ode_state.hpp"

namespace aeolus {

enum class SdeMethod { euler_maruyama, milstein, rk_milstein, sriw1, sra1, sra3 };
enum class NoiseType { diagonal, scalar };

// Names "euler_maruyama", "milstein", "rk_milstein", "sriw1", "sra1", "sra3" and "diagonal",
// "scalar"; unknown names throw ConfigError listing the valid ones (key names the option).
const std::vector<std::string>& sde_method_names();
SdeMethod sde_method_from_name(const std::string& name, const std::string& key = "method");
std::string sde_method_name(SdeMethod m);
NoiseType noise_type_from_name(const std::string& name, const std::string& key = "noise");
std::string noise_type_name(NoiseType n);
// Strong order on the problems the method is meant for (sra*: additive noise).
double sde_strong_order(SdeMethod m);
// True for the methods with an embedded error estimate (usable by solve_sde_adaptive).
bool sde_method_is_adaptive(SdeMethod m);
// True for sra1/sra3, which are only correct when g does not depend on X.
bool sde_method_needs_additive_noise(SdeMethod m);
// Where the stability region of the method's drift part (g = 0, f = lambda X, z = h lambda)
// meets the negative real axis: |R(z)| <= 1 for z in [-boundary, 0]. The drift parts are
// explicit Runge-Kutta methods: Euler-Maruyama and both Milsteins R = 1 + z (2); SRIW1 and
// SRA1 (H0_2 = X + 3/4 h f_1, weights 1/3, 2/3) R = 1 + z + z^2/2 (2); SRA3 (Kutta's third
// order, weights 1/6, 1/6, 2/3) R = 1 + z + z^2/2 + z^3/6 (2.5127, the real root of R = -1).
// The scale of the stiffness regulariser's h |lambda| (as 3.25 is dopri5's).
double sde_stability_boundary(SdeMethod m);

// Roessler's SRI scheme for scalar noise with s stages (row-major s x s strictly lower
// triangular matrices). With chi1 = I11/sqrt(h), chi2 = I10/h, chi3 = I111/h:
//   H0_i = X + h sum_j A0_ij f(t + c0_j h, H0_j) + chi2 sum_j B0_ij g(t + c1_j h, H1_j)
//   H1_i = X + h sum_j A1_ij f(t + c0_j h, H0_j) + sqrt(h) sum_j B1_ij g(t + c1_j h, H1_j)
//   X'   = X + h sum_i alpha_i f_i + sum_i (beta1_i dW + beta2_i chi1) g_i
//            + sum_i (beta3_i chi2 + beta4_i chi3) g_i
// and the drift part of the error estimate is E_D = h sum_i e_i f_i (sum_i e_i = 0).
struct SriTableau {
  int stages = 0;
  std::vector<double> c0, c1, a0, a1, b0, b1, alpha, beta1, beta2, beta3, beta4, e;
};
// Roessler's SRA scheme for additive noise (g(t) only):
//   H0_i = X + h sum_j A0_ij f(t + c0_j h, H0_j) + chi2 sum_j B0_ij g(t + c1_j h)
//   X'   = X + h sum_i alpha_i f_i + sum_i (beta1_i dW + beta2_i chi2) g(t + c1_i h)
// with E_D = h sum_i e_i f_i and E_N = sum_i beta2_i chi2 g(t + c1_i h).
struct SraTableau {
  int stages = 0;
  std::vector<double> c0, c1, a0, b0, alpha, beta1, beta2, e;
};
// Throw ConfigError for a method without that kind of tableau.
const SriTableau& sri_tableau(SdeMethod m);
const SraTableau& sra_tableau(SdeMethod m);

// A sampled Brownian path W (dim independent components, W(t0) = 0) together with its time
// integral, stored as a tree of intervals: each interval [a, b] keeps
//   dW = W(b) - W(a)  and  dZ = int_a^b (W(s) - W(a)) ds   (= I_(1,0) of a step over [a, b]).
// Asking for a time inside a stored interval splits it with the bridge distribution of
// (W, int W) (derivation in the .cpp); asking beyond the last time extends the path with fresh
// independent increments. Nothing sampled is ever discarded, so every query is consistent with
// all earlier ones and the path is exactly a Brownian path whatever the order of the queries
// (rejected adaptive steps included). Deterministic given the seed and the sequence of queries;
// two solvers that must see the same path share one BrownianPath object. Forward in time only:
// times before t0 throw ConfigError. Times within snap_tol() of a stored time are that time.
class BrownianPath {
 public:
  struct Increment {
    std::vector<double> dw, dz;  // one value per Wiener component
  };

  BrownianPath(std::size_t dim, std::uint64_t seed, double t0 = 0.0);

  std::size_t dim() const { return dim_; }
  double t0() const { return t0_; }
  // Largest time sampled so far (t0 when nothing is).
  double t_last() const { return t_last_; }
  // Number of stored intervals.
  std::size_t num_intervals() const { return leaves_.size(); }
  double snap_tol(double t) const;

  // (W(b) - W(a), int_a^b (W(s) - W(a)) ds) for a <= b, sampling what is not yet known.
  Increment increment(double a, double b);
  // W(t) - W(t0).
  std::vector<double> w_at(double t);

 private:
  struct Leaf {
    double right;
    std::vector<double> dw, dz;
  };
  // The stored time equal to t within snap_tol (inserting t when new).
  double ensure_point(double t);
  void extend_to(double t);
  void split(std::map<double, Leaf>::iterator it, double s);

  std::size_t dim_;
  double t0_;
  double t_last_;
  NormalStream normal_;
  std::map<double, Leaf> leaves_;  // keyed by the left end of each interval
};

// Ito SDE dX = drift(t, X) dt + diffusion(t, X) dW. diffusion returns the elementwise g (same
// shape as X); diffusion_dx (optional) returns the elementwise d g_i / d X_i for milstein, which
// is the whole Milstein correction only when g_i depends on X through X_i alone (for scalar
// noise with coupled g, leave it empty or use rk_milstein: the derivative-free form is exact
// there).
// noise: diagonal (BrownianPath dim == size of X) or scalar (dim 1, the same dW for all
// components).
template <class State>
struct SdeSystem {
  std::function<State(double, const State&)> drift;
  std::function<State(double, const State&)> diffusion;
  std::function<State(double, const State&)> diffusion_dx;
  NoiseType noise = NoiseType::diagonal;
};

struct SdeStats {
  long accepted = 0;  // steps taken (all steps for fixed stepping)
  long rejected = 0;
  long nf = 0;   // drift evaluations
  long ng = 0;   // diffusion evaluations
  long ndg = 0;  // diffusion_dx evaluations
};

template <class State>
struct SdeSolution {
  std::vector<double> t;  // the requested output times
  std::vector<State> x;   // state at each output time (x.front() == x0)
  SdeStats stats;
};

// Fixed stepping: each output interval [t_k, t_{k+1}] is divided into ceil((t_{k+1} - t_k) / dt)
// equal steps, so the output times are hit exactly.
struct SdeFixedParams {
  SdeMethod method = SdeMethod::euler_maruyama;
  double dt = 1e-2;
};

struct SdeAdaptiveParams {
  SdeMethod method = SdeMethod::sriw1;  // sriw1, sra1 or sra3
  double rtol = 1e-3;
  double atol = 1e-3;
  // Weight of the drift part of the error estimate (Rackauckas & Nie: 1/6).
  double delta = 1.0 / 6.0;
  // First step; 0: 1/100 of the first output interval.
  double h0 = 0.0;
  // 0: no limit beyond the output interval.
  double hmax = 0.0;
  // Step update h * clamp(safety * err^{-1/(order + 1/2)}, fac_min, fac_max). Rackauckas & Nie
  // recommend a small growth bound (1.125) for SDEs: large increases are often rejected.
  double safety = 0.9;
  double fac_min = 0.2;
  double fac_max = 1.125;
  long max_steps = 1000000;  // attempted steps; exceeded: NumericsError naming t, h and count
  // After an accepted step that was shortened to land on an output time: false, the next step
  // grows from the shortened one (by at most fac_max per step, so a sliver before an output
  // time is followed by many small steps: with 30 output times in [0, 1] the spiral SDE then
  // takes 262 steps at any tolerance from 1e-1 to 1e-3); true, it is at least the step planned
  // before the shortening. Off by default, which keeps the step sequences measured before it
  // existed; the neural SDE (emulators/neural_sde.hpp) turns it on.
  bool resume_planned_step = false;
};

// Everything one step needs about the noise of [t, t + h], converted to states.
template <class State>
struct SdeNoiseTerms {
  State dw;    // W(t+h) - W(t)
  State chi1;  // I11 / sqrt(h) = (dW^2 - h) / (2 sqrt(h))
  State chi2;  // I10 / h       = dZ / h
  State chi3;  // I111 / h      = (dW^3 - 3 h dW) / (6 h)
};

namespace sde_detail {

// Spread the Wiener values over the state's components (scalar noise: the same value for all).
inline std::vector<double> expand(const std::vector<double>& v, std::size_t n, NoiseType noise) {
  if (noise == NoiseType::diagonal) return v;
  return std::vector<double>(n, v.empty() ? 0.0 : v[0]);
}

inline void check_dim(const BrownianPath& path, std::size_t n, NoiseType noise) {
  const std::size_t want = noise == NoiseType::diagonal ? n : 1;
  if (path.dim() != want)
    throw ConfigError("SDE solver: BrownianPath has " + std::to_string(path.dim()) +
                      " components but " + noise_type_name(noise) + " noise on a state of " +
                      std::to_string(n) + " components needs " + std::to_string(want));
}

inline void check_times(const std::vector<double>& t_out, const BrownianPath& path) {
  if (t_out.empty()) throw ConfigError("SDE solver: t_out is empty; need at least t0");
  for (std::size_t k = 1; k < t_out.size(); ++k)
    if (!(t_out[k] >= t_out[k - 1]))
      throw ConfigError("SDE solver: t_out must be increasing; t_out[" + std::to_string(k) +
                        "] = " + std::to_string(t_out[k]) + " < " + std::to_string(t_out[k - 1]));
  if (t_out.front() < path.t0())
    throw ConfigError("SDE solver: t_out[0] = " + std::to_string(t_out.front()) +
                      " is before the Brownian path's t0 = " + std::to_string(path.t0()));
}

}  // namespace sde_detail

// The noise terms of the step [t, t + h] from a BrownianPath increment.
template <class State>
SdeNoiseTerms<State> sde_noise_terms(const BrownianPath::Increment& inc, double h, NoiseType noise,
                                     const State& like) {
  using Ops = StateOps<State>;
  const std::size_t n = Ops::size(like);
  const std::vector<double> dw = sde_detail::expand(inc.dw, n, noise);
  const std::vector<double> dz = sde_detail::expand(inc.dz, n, noise);
  const double sqh = std::sqrt(h);
  std::vector<double> c1(n), c2(n), c3(n);
  for (std::size_t i = 0; i < n; ++i) {
    c1[i] = (dw[i] * dw[i] - h) / (2.0 * sqh);
    c2[i] = dz[i] / h;
    c3[i] = (dw[i] * dw[i] * dw[i] - 3.0 * h * dw[i]) / (6.0 * h);
  }
  return {Ops::from_values(dw, like), Ops::from_values(c1, like), Ops::from_values(c2, like),
          Ops::from_values(c3, like)};
}

// The two unscaled parts of the embedded error estimate of one step.
template <class State>
struct SdeErrorParts {
  State drift;  // E_D
  State noise;  // E_N
};

// The last two drift stages an SRI/SRA step evaluated (SRIW1 and SRA1: stages 1 and 2; SRA3:
// 2 and 3): f_prev = f(H0_prev), f_last = f(H0_last). ||f_last - f_prev|| / ||H0_last - H0_prev||
// is a difference quotient of the drift along H0_last - H0_prev, a lower estimate of the largest
// |eigenvalue| of df/dX (Hairer's stiffness estimate; StochasticDiffEq's SOSRI2 uses the same
// with its last two stages).
template <class State>
struct SdeDriftStages {
  State f_prev, f_last;
  State h0_prev, h0_last;
};

namespace sde_detail {

// Copy the last two evaluated drift stages (pf[j] set) and their inputs into `out`.
template <class State>
void last_drift_stages(const std::vector<State>& fk, const std::vector<State>& h0k,
                       const std::vector<const State*>& pf, SdeDriftStages<State>& out) {
  int last = -1, prev = -1;
  for (int j = 0; j < static_cast<int>(pf.size()); ++j)
    if (pf[j]) {
      prev = last;
      last = j;
    }
  if (prev < 0) return;  // every SRI/SRA tableau here has at least two drift stages
  out.f_prev = fk[prev];
  out.f_last = fk[last];
  out.h0_prev = h0k[prev];
  out.h0_last = h0k[last];
}

}  // namespace sde_detail

// One step of `method` from (t, x) over h with the given noise terms; returns X(t + h). When
// err is not null and the method has an embedded estimate, *err receives its parts; otherwise
// *err is left alone. Likewise *stages (sriw1, sra1, sra3) receives the last two drift stages.
// Neither output changes the step's arithmetic.
template <class State>
State sde_step(const SdeSystem<State>& sys, SdeMethod method, double t, double h, const State& x,
               const SdeNoiseTerms<State>& nz, SdeStats& stats, SdeErrorParts<State>* err = nullptr,
               SdeDriftStages<State>* stages = nullptr) {
  using Ops = StateOps<State>;
  switch (method) {
    case SdeMethod::euler_maruyama: {
      const State f = sys.drift(t, x);
      const State g = sys.diffusion(t, x);
      stats.nf += 1;
      stats.ng += 1;
      const double c = 1.0;
      const State* k[1] = {&f};
      return Ops::add(Ops::lincomb(x, h, &c, k, 1), Ops::mul(g, nz.dw));
    }
    case SdeMethod::milstein:
    case SdeMethod::rk_milstein: {
      const State f = sys.drift(t, x);
      const State g = sys.diffusion(t, x);
      stats.nf += 1;
      stats.ng += 1;
      const double c = 1.0;
      const State* k[1] = {&f};
      const State euler = Ops::lincomb(x, h, &c, k, 1);
      // I11 = sqrt(h) chi1 = (dW^2 - h) / 2.
      State ggp_i11;
      if (method == SdeMethod::milstein && sys.diffusion_dx) {
        const State dg = sys.diffusion_dx(t, x);
        stats.ndg += 1;
        ggp_i11 = Ops::scale(std::sqrt(h), Ops::mul(Ops::mul(g, dg), nz.chi1));
      } else {
        // (g(H) - g(X)) / sqrt(h) = g g' + O(sqrt(h)) with H = X + f h + g sqrt(h); the
        // factor 1/sqrt(h) and I11 = sqrt(h) chi1 cancel.
        const double sqh = std::sqrt(h);
        const State* kg[1] = {&g};
        const State support = Ops::lincomb(euler, sqh, &c, kg, 1);
        const State g_support = sys.diffusion(t, support);
        stats.ng += 1;
        ggp_i11 = Ops::mul(Ops::sub(g_support, g), nz.chi1);
      }
      return Ops::add(Ops::add(euler, Ops::mul(g, nz.dw)), ggp_i11);
    }
    case SdeMethod::sriw1: {
      const SriTableau& tab = sri_tableau(method);
      const int s = tab.stages;
      const double sqh = std::sqrt(h);
      // Skip the stages whose drift or diffusion value nothing uses (SRIW1: f at stages 3, 4).
      std::vector<char> need_f(s, 0), need_g(s, 0);
      for (int j = 0; j < s; ++j) {
        need_f[j] = tab.alpha[j] != 0.0 || tab.e[j] != 0.0;
        need_g[j] = tab.beta1[j] != 0.0 || tab.beta2[j] != 0.0 || tab.beta3[j] != 0.0 ||
                    tab.beta4[j] != 0.0;
        for (int i = j + 1; i < s; ++i) {
          need_f[j] = need_f[j] || tab.a0[i * s + j] != 0.0 || tab.a1[i * s + j] != 0.0;
          need_g[j] = need_g[j] || tab.b0[i * s + j] != 0.0 || tab.b1[i * s + j] != 0.0;
        }
      }
      std::vector<State> fk(s), gk(s), h0k(stages ? s : 0);
      std::vector<const State*> pf(s, nullptr), pg(s, nullptr);
      for (int i = 0; i < s; ++i) {
        const double* a0 = &tab.a0[i * s];
        const double* a1 = &tab.a1[i * s];
        const double* b0 = &tab.b0[i * s];
        const double* b1 = &tab.b1[i * s];
        bool any_b0 = false;
        for (int j = 0; j < i; ++j) any_b0 = any_b0 || b0[j] != 0.0;
        if (need_f[i]) {
          State h0 = Ops::lincomb(x, h, a0, pf.data(), i);
          if (any_b0)
            h0 = Ops::add(h0, Ops::mul(nz.chi2, Ops::scaled_sum(1.0, b0, pg.data(), i, x)));
          fk[i] = sys.drift(t + tab.c0[i] * h, h0);
          stats.nf += 1;
          pf[i] = &fk[i];
          if (stages) h0k[i] = std::move(h0);
        }
        if (need_g[i]) {
          const State h1 =
              Ops::lincomb(Ops::lincomb(x, h, a1, pf.data(), i), sqh, b1, pg.data(), i);
          gk[i] = sys.diffusion(t + tab.c1[i] * h, h1);
          stats.ng += 1;
          pg[i] = &gk[i];
        }
      }
      const State e2 =
          Ops::add(Ops::mul(nz.chi2, Ops::scaled_sum(1.0, tab.beta3.data(), pg.data(), s, x)),
                   Ops::mul(nz.chi3, Ops::scaled_sum(1.0, tab.beta4.data(), pg.data(), s, x)));
      State x1 = Ops::lincomb(x, h, tab.alpha.data(), pf.data(), s);
      x1 = Ops::add(x1, Ops::mul(nz.dw, Ops::scaled_sum(1.0, tab.beta1.data(), pg.data(), s, x)));
      x1 = Ops::add(x1, Ops::mul(nz.chi1, Ops::scaled_sum(1.0, tab.beta2.data(), pg.data(), s, x)));
      x1 = Ops::add(x1, e2);
      if (err) {
        err->drift = Ops::scaled_sum(h, tab.e.data(), pf.data(), s, x);
        err->noise = e2;
      }
      if (stages) sde_detail::last_drift_stages(fk, h0k, pf, *stages);
      return x1;
    }
    case SdeMethod::sra1:
    case SdeMethod::sra3: {
      const SraTableau& tab = sra_tableau(method);
      const int s = tab.stages;
      // Additive noise: g depends on t only, so it is evaluated at X (any argument would do).
      std::vector<State> gk(s), fk(s), h0k(stages ? s : 0);
      std::vector<const State*> pf(s, nullptr), pg(s, nullptr);
      for (int j = 0; j < s; ++j) {
        gk[j] = sys.diffusion(t + tab.c1[j] * h, x);
        stats.ng += 1;
        pg[j] = &gk[j];
      }
      for (int i = 0; i < s; ++i) {
        const double* a0 = &tab.a0[i * s];
        const double* b0 = &tab.b0[i * s];
        bool any_b0 = false;
        for (int j = 0; j < i; ++j) any_b0 = any_b0 || b0[j] != 0.0;
        State h0 = Ops::lincomb(x, h, a0, pf.data(), i);
        if (any_b0) h0 = Ops::add(h0, Ops::mul(nz.chi2, Ops::scaled_sum(1.0, b0, pg.data(), i, x)));
        fk[i] = sys.drift(t + tab.c0[i] * h, h0);
        stats.nf += 1;
        pf[i] = &fk[i];
        if (stages) h0k[i] = std::move(h0);
      }
      const State e2 = Ops::mul(nz.chi2, Ops::scaled_sum(1.0, tab.beta2.data(), pg.data(), s, x));
      State x1 = Ops::lincomb(x, h, tab.alpha.data(), pf.data(), s);
      x1 = Ops::add(x1, Ops::mul(nz.dw, Ops::scaled_sum(1.0, tab.beta1.data(), pg.data(), s, x)));
      x1 = Ops::add(x1, e2);
      if (err) {
        err->drift = Ops::scaled_sum(h, tab.e.data(), pf.data(), s, x);
        err->noise = e2;
      }
      if (stages) sde_detail::last_drift_stages(fk, h0k, pf, *stages);
      return x1;
    }
  }
  throw ConfigError("sde_step: unhandled method " + sde_method_name(method));
}

// Integrate from t_out.front() through every time in t_out (increasing) with fixed steps,
// drawing the increments from `path` (which must cover t_out.front() and match the noise: dim
// = size of x0 for diagonal, 1 for scalar). Throws ConfigError for bad arguments and
// NumericsError when the state stops being finite.
template <class State>
SdeSolution<State> solve_sde_fixed(const SdeSystem<State>& sys, const std::vector<double>& t_out,
                                   const State& x0, const SdeFixedParams& params,
                                   BrownianPath& path) {
  using Ops = StateOps<State>;
  sde_detail::check_times(t_out, path);
  sde_detail::check_dim(path, Ops::size(x0), sys.noise);
  if (!(params.dt > 0.0))
    throw ConfigError("solve_sde_fixed: dt = " + std::to_string(params.dt) + " must be > 0");
  SdeSolution<State> sol;
  sol.t = t_out;
  sol.x.reserve(t_out.size());
  sol.x.push_back(x0);
  State x = x0;
  for (std::size_t k = 1; k < t_out.size(); ++k) {
    const double ta = t_out[k - 1], tb = t_out[k];
    const double span = tb - ta;
    if (span > 0.0) {
      const long n = std::max(1L, static_cast<long>(std::ceil(span / params.dt - 1e-9)));
      const double h = span / static_cast<double>(n);
      for (long j = 0; j < n; ++j) {
        // Times from the interval ends, not accumulated, so that solvers with steps that divide
        // each other ask the path for the same points.
        const double t = ta + static_cast<double>(j) * h;
        const double t_next = (j + 1 == n) ? tb : ta + static_cast<double>(j + 1) * h;
        const BrownianPath::Increment inc = path.increment(t, t_next);
        const SdeNoiseTerms<State> nz = sde_noise_terms(inc, t_next - t, sys.noise, x);
        x = sde_step(sys, params.method, t, t_next - t, x, nz, sol.stats);
        sol.stats.accepted += 1;
        if (!Ops::all_finite(x))
          throw NumericsError("solve_sde_fixed: non-finite state at t = " + std::to_string(t_next) +
                              " (method " + sde_method_name(params.method) +
                              ", dt = " + std::to_string(h) + ")");
      }
    }
    sol.x.push_back(x);
  }
  return sol;
}

// What a step hook sees after each accepted adaptive step (for the regularisers of Pal et al.
// 2021 and for diagnostics); the references are valid only during the call.
//   err        the unscaled parts E_D, E_N of the step's error estimate, computed with StateOps
//              (so with torch states they carry the autograd graph of the step);
//   err_norm   delta ||E_D|| + ||E_N|| in Hairer's norm with the scale atol + rtol max(|x0|,
//              |x1|): the value the controller accepted (<= 1);
//   stiffness  |h| rms(f_last - f_prev) / rms(H0_last - H0_prev) from `stages` (an estimate of
//              h |lambda| of the drift, to compare with sde_stability_boundary), 0 where the
//              denominator vanishes.
template <class State>
struct SdeAcceptedStep {
  double t;  // start of the step
  double h;  // its length (> 0)
  const State& x0;
  const State& x1;
  const SdeErrorParts<State>& err;
  double err_norm;
  double stiffness;
  const SdeDriftStages<State>& stages;
};
template <class State>
using SdeStepHook = std::function<void(const SdeAcceptedStep<State>&)>;

// Adaptive stepping with rejection (sriw1, sra1, sra3). Steps are cut to land on every output
// time. A rejected step [t, t + h] is retried over [t, t + h'] with h' < h, the increments of
// which the path bridges from what it already holds; later steps reuse the values sampled
// beyond t + h'. `hook`, when set, is called after every accepted step, in order; it observes
// only (the step sequence, the path's queries and the results are those without it). Throws
// ConfigError for a method without an error estimate or bad tolerances, NumericsError when
// max_steps is exceeded or the step falls below round-off.
template <class State>
SdeSolution<State> solve_sde_adaptive(const SdeSystem<State>& sys, const std::vector<double>& t_out,
                                      const State& x0, const SdeAdaptiveParams& params,
                                      BrownianPath& path, const SdeStepHook<State>& hook = {}) {
  using Ops = StateOps<State>;
  sde_detail::check_times(t_out, path);
  sde_detail::check_dim(path, Ops::size(x0), sys.noise);
  if (!sde_method_is_adaptive(params.method))
    throw ConfigError("solve_sde_adaptive: method = '" + sde_method_name(params.method) +
                      "' has no error estimate; expected one of: sriw1, sra1, sra3");
  if (!(params.rtol >= 0.0 && params.atol >= 0.0 && params.rtol + params.atol > 0.0))
    throw ConfigError("solve_sde_adaptive: need rtol, atol >= 0 and not both 0; got rtol = " +
                      std::to_string(params.rtol) + ", atol = " + std::to_string(params.atol));
  const double exponent = 1.0 / (sde_strong_order(params.method) + 0.5);

  SdeSolution<State> sol;
  sol.t = t_out;
  sol.x.reserve(t_out.size());
  sol.x.push_back(x0);
  State x = x0;
  double t = t_out.front();
  double h = params.h0;
  if (!(h > 0.0)) {
    const double first_span = (t_out.size() > 1 ? t_out.back() - t_out.front() : 0.0);
    h = first_span > 0.0 ? 0.01 * first_span : 1.0;
  }
  long attempts = 0;
  for (std::size_t k = 1; k < t_out.size(); ++k) {
    const double tb = t_out[k];
    while (tb - t > path.snap_tol(tb)) {
      if (params.hmax > 0.0) h = std::min(h, params.hmax);
      const double h_planned = h;
      const bool last = h >= tb - t;
      const double t_next = last ? tb : t + h;
      const double hs = t_next - t;
      if (hs <= 4.0 * path.snap_tol(t))
        throw NumericsError("solve_sde_adaptive: step " + std::to_string(hs) +
                            " fell below round-off at t = " + std::to_string(t));
      if (++attempts > params.max_steps)
        throw NumericsError(
            "solve_sde_adaptive: more than max_steps = " + std::to_string(params.max_steps) +
            " attempted steps at t = " + std::to_string(t) + ", h = " + std::to_string(hs));
      const BrownianPath::Increment inc = path.increment(t, t_next);
      const SdeNoiseTerms<State> nz = sde_noise_terms(inc, hs, sys.noise, x);
      SdeErrorParts<State> err;
      SdeDriftStages<State> stages;
      State x1 =
          sde_step(sys, params.method, t, hs, x, nz, sol.stats, &err, hook ? &stages : nullptr);
      const double en =
          Ops::all_finite(x1) && Ops::all_finite(err.drift) && Ops::all_finite(err.noise)
              ? params.delta * Ops::error_norm(err.drift, x, x1, params.atol, params.rtol) +
                    Ops::error_norm(err.noise, x, x1, params.atol, params.rtol)
              : HUGE_VAL;
      if (en <= 1.0) {
        sol.stats.accepted += 1;
        if (hook) {
          const double den = Ops::rms(Ops::sub(stages.h0_last, stages.h0_prev));
          const double stiff =
              den > 0.0 ? hs * Ops::rms(Ops::sub(stages.f_last, stages.f_prev)) / den : 0.0;
          hook(SdeAcceptedStep<State>{t, hs, x, x1, err, en, stiff, stages});
        }
        x = std::move(x1);
        t = t_next;
        const double fac = en > 0.0 ? params.safety * std::pow(en, -exponent) : params.fac_max;
        h = hs * std::min(params.fac_max, std::max(params.fac_min, fac));
        if (last && params.resume_planned_step) h = std::max(h, h_planned);
      } else {
        sol.stats.rejected += 1;
        const double fac =
            std::isfinite(en) ? params.safety * std::pow(en, -exponent) : params.fac_min;
        h = hs * std::min(params.safety, std::max(params.fac_min, fac));
      }
    }
    t = tb;
    sol.x.push_back(x);
  }
  return sol;
}

}  // namespace aeolus
