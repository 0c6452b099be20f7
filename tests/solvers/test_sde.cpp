// Convergence of the SDE solvers against exact solutions driven by the same Brownian path:
// strong orders (E|X_T - X(T)| over the step size) of Euler-Maruyama, Milstein and Roessler's
// SRI/SRA methods on geometric Brownian motion and Ornstein-Uhlenbeck, weak order of
// Euler-Maruyama, the adaptive methods and their step hook, the drift parts' stability
// boundaries, and the Brownian path's bridge (rejected steps must not bias it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "physics/sde_problems.hpp"
#include "solvers/sde.hpp"

namespace aeolus {
namespace {

using Vec = std::vector<double>;
using physics::GeometricBrownianMotion;
using physics::OrnsteinUhlenbeck;

template <class Problem>
SdeSystem<Vec> system_of(const Problem& p, bool with_dx = true) {
  SdeSystem<Vec> s;
  s.drift = [&p](double t, const Vec& x) { return p.drift(t, x); };
  s.diffusion = [&p](double t, const Vec& x) { return p.diffusion(t, x); };
  if (with_dx) s.diffusion_dx = [&p](double t, const Vec& x) { return p.diffusion_dx(t, x); };
  s.noise = p.scalar_noise ? NoiseType::scalar : NoiseType::diagonal;
  return s;
}

// Least-squares slope of log(err) against log(dt).
double fitted_order(const Vec& dt, const Vec& err) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = double(dt.size());
  for (std::size_t i = 0; i < dt.size(); ++i) {
    const double x = std::log(dt[i]), y = std::log(err[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

void print_table(const char* label, const Vec& dt, const Vec& err, double order) {
  std::printf("%s\n", label);
  for (std::size_t i = 0; i < dt.size(); ++i)
    std::printf("  dt = %-10.6g err = %.4e\n", dt[i], err[i]);
  std::printf("  measured order %.3f\n", order);
}

double max_abs_diff(const Vec& a, const Vec& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// Mean over paths of max_i |X_i(T) - X_i^exact(T)| for each step count, GBM (exact from W(T)).
Vec gbm_strong_errors(const GeometricBrownianMotion& p, SdeMethod method,
                      const std::vector<int>& steps, int paths, bool with_dx, std::uint64_t seed0) {
  const double T = 1.0;
  const Vec x0(p.size(), 1.0);
  const SdeSystem<Vec> sys = system_of(p, with_dx);
  Vec err(steps.size(), 0.0);
  for (int m = 0; m < paths; ++m) {
    BrownianPath path(p.wiener_dim(), seed0 + std::uint64_t(m));
    const Vec exact = p.exact(T, x0, path.w_at(T));
    for (std::size_t k = 0; k < steps.size(); ++k) {
      SdeFixedParams fp;
      fp.method = method;
      fp.dt = T / steps[k];
      const auto sol = solve_sde_fixed(sys, {0.0, T}, x0, fp, path);
      err[k] += max_abs_diff(sol.x.back(), exact) / paths;
    }
  }
  return err;
}

// OU pathwise reference on a uniform grid of n_ref steps from the path's increments.
Vec ou_reference(const OrnsteinUhlenbeck& p, const Vec& x0, double T, int n_ref,
                 BrownianPath& path) {
  Vec x = x0;
  const double h = T / n_ref;
  for (int j = 0; j < n_ref; ++j) {
    const double a = j * h, b = (j + 1 == n_ref) ? T : (j + 1) * h;
    const auto inc = path.increment(a, b);
    x = p.exact_step(b - a, x, inc.dw, inc.dz);
  }
  return x;
}

Vec ou_strong_errors(const OrnsteinUhlenbeck& p, SdeMethod method, const std::vector<int>& steps,
                     int paths, std::uint64_t seed0) {
  const double T = 1.0;
  const Vec x0(p.size(), 1.5);
  const SdeSystem<Vec> sys = system_of(p);
  Vec err(steps.size(), 0.0);
  for (int m = 0; m < paths; ++m) {
    BrownianPath path(p.wiener_dim(), seed0 + std::uint64_t(m));
    const Vec exact = ou_reference(p, x0, T, 2048, path);
    for (std::size_t k = 0; k < steps.size(); ++k) {
      SdeFixedParams fp;
      fp.method = method;
      fp.dt = T / steps[k];
      const auto sol = solve_sde_fixed(sys, {0.0, T}, x0, fp, path);
      err[k] += max_abs_diff(sol.x.back(), exact) / paths;
    }
  }
  return err;
}

Vec dts_of(const std::vector<int>& steps) {
  Vec dt;
  for (int n : steps) dt.push_back(1.0 / n);
  return dt;
}

TEST(SdeNames, RoundTripAndUnknown) {
  for (const auto& name : sde_method_names())
    EXPECT_EQ(sde_method_name(sde_method_from_name(name)), name);
  EXPECT_EQ(noise_type_from_name("scalar"), NoiseType::scalar);
  try {
    sde_method_from_name("heun", "sde.method");
    FAIL() << "no throw";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("heun"), std::string::npos);
    EXPECT_NE(msg.find("sriw1"), std::string::npos);
  }
  EXPECT_THROW(noise_type_from_name("full"), ConfigError);
  EXPECT_TRUE(sde_method_is_adaptive(SdeMethod::sra3));
  EXPECT_FALSE(sde_method_is_adaptive(SdeMethod::milstein));
}

TEST(SdeArguments, BadCallsThrow) {
  const GeometricBrownianMotion gbm({1.0, 1.0}, {0.5, 0.5});
  const SdeSystem<Vec> sys = system_of(gbm);
  BrownianPath wrong_dim(1, 1);
  EXPECT_THROW(solve_sde_fixed(sys, {0.0, 1.0}, Vec{1.0, 1.0}, SdeFixedParams{}, wrong_dim),
               ConfigError);
  BrownianPath path(2, 1);
  SdeAdaptiveParams ap;
  ap.method = SdeMethod::euler_maruyama;
  EXPECT_THROW(solve_sde_adaptive(sys, {0.0, 1.0}, Vec{1.0, 1.0}, ap, path), ConfigError);
  EXPECT_THROW(path.increment(0.5, 0.25), ConfigError);
  EXPECT_THROW(path.increment(-1.0, 0.25), ConfigError);
  EXPECT_THROW(GeometricBrownianMotion({1.0}, {0.5, 0.5}), ConfigError);
  EXPECT_THROW(OrnsteinUhlenbeck({0.0}, {0.0}, {1.0}), ConfigError);
}

// Splitting a stored interval and summing the pieces gives back the stored (dW, dZ).
TEST(BrownianPath, BridgeIsConsistentAndDeterministic) {
  BrownianPath path(3, 42);
  const auto whole = path.increment(0.0, 1.0);
  const auto left = path.increment(0.0, 0.3);
  const auto right = path.increment(0.3, 1.0);
  const auto inner = path.increment(0.1, 0.7);  // splits both halves again
  const auto whole_again = path.increment(0.0, 1.0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(left.dw[i] + right.dw[i], whole.dw[i], 1e-15);
    EXPECT_NEAR(left.dz[i] + right.dz[i] + 0.7 * left.dw[i], whole.dz[i], 1e-15);
    EXPECT_NEAR(whole_again.dw[i], whole.dw[i], 1e-15);
    EXPECT_NEAR(whole_again.dz[i], whole.dz[i], 1e-15);
    (void)inner;
  }
  EXPECT_EQ(path.num_intervals(), 4u);
  BrownianPath same(3, 42);
  EXPECT_EQ(same.increment(0.0, 1.0).dw, whole.dw);
  EXPECT_EQ(same.increment(0.0, 0.3).dz, left.dz);
}

// The bridge has the right law: sample (W(1), Z(0,1)) first, then split at s = 0.3; over many
// seeds the pieces must have the unconditional Brownian covariances.
TEST(BrownianPath, BridgeHasBrownianCovariances) {
  const int n = 20000;
  const double s = 0.3;
  double sw1 = 0, sw1w1 = 0, sz1z1 = 0, sw1z1 = 0, sw2w2 = 0, sw1w2 = 0, sz2z2 = 0;
  for (int m = 0; m < n; ++m) {
    BrownianPath path(1, 1000 + m);
    path.increment(0.0, 1.0);
    const auto a = path.increment(0.0, s);
    const auto b = path.increment(s, 1.0);
    sw1 += a.dw[0];
    sw1w1 += a.dw[0] * a.dw[0];
    sz1z1 += a.dz[0] * a.dz[0];
    sw1z1 += a.dw[0] * a.dz[0];
    sw2w2 += b.dw[0] * b.dw[0];
    sw1w2 += a.dw[0] * b.dw[0];
    sz2z2 += b.dz[0] * b.dz[0];
  }
  const double q = 1.0 - s;
  std::printf(
      "bridge at s=0.3 over %d seeds: E W1 %.4f, Var W1 %.4f (%.4f), Var Z1 %.5f (%.5f), "
      "Cov(W1,Z1) %.5f (%.5f), Var W2 %.4f (%.4f), Cov(W1,W2) %.4f, Var Z2 %.5f (%.5f)\n",
      n, sw1 / n, sw1w1 / n, s, sz1z1 / n, s * s * s / 3, sw1z1 / n, s * s / 2, sw2w2 / n, q,
      sw1w2 / n, sz2z2 / n, q * q * q / 3);
  // Relative tolerances of ~5 standard errors (sqrt(2/n) ~ 1% for a variance).
  EXPECT_NEAR(sw1 / n, 0.0, 5 * std::sqrt(s / n));
  EXPECT_NEAR(sw1w1 / n / s, 1.0, 0.05);
  EXPECT_NEAR(sz1z1 / n / (s * s * s / 3), 1.0, 0.05);
  EXPECT_NEAR(sw1z1 / n / (s * s / 2), 1.0, 0.05);
  EXPECT_NEAR(sw2w2 / n / q, 1.0, 0.05);
  EXPECT_NEAR(sw1w2 / n / std::sqrt(s * q), 0.0, 0.04);
  EXPECT_NEAR(sz2z2 / n / (q * q * q / 3), 1.0, 0.05);
}

TEST(SdeStrongOrder, EulerMaruyamaGbm) {
  const GeometricBrownianMotion gbm({1.0}, {0.5});
  const std::vector<int> steps = {16, 32, 64, 128, 256};
  const Vec err = gbm_strong_errors(gbm, SdeMethod::euler_maruyama, steps, 1000, false, 100);
  const double order = fitted_order(dts_of(steps), err);
  print_table("strong error, euler_maruyama, GBM mu=1 sigma=0.5 (1000 paths)", dts_of(steps), err,
              order);
  EXPECT_NEAR(order, 0.5, 0.12);
}

TEST(SdeStrongOrder, MilsteinGbm) {
  const GeometricBrownianMotion gbm({1.0}, {0.5});
  const std::vector<int> steps = {8, 16, 32, 64, 128};
  const Vec err = gbm_strong_errors(gbm, SdeMethod::milstein, steps, 1000, true, 200);
  const double order = fitted_order(dts_of(steps), err);
  print_table("strong error, milstein (dg/dx given), GBM (1000 paths)", dts_of(steps), err, order);
  EXPECT_NEAR(order, 1.0, 0.15);
  const Vec err_rk = gbm_strong_errors(gbm, SdeMethod::rk_milstein, steps, 1000, false, 200);
  const double order_rk = fitted_order(dts_of(steps), err_rk);
  print_table("strong error, rk_milstein (derivative-free), GBM (1000 paths)", dts_of(steps),
              err_rk, order_rk);
  EXPECT_NEAR(order_rk, 1.0, 0.15);
}

TEST(SdeStrongOrder, Sriw1Gbm) {
  const GeometricBrownianMotion gbm({1.0}, {0.5});
  const std::vector<int> steps = {4, 8, 16, 32, 64};
  const Vec err = gbm_strong_errors(gbm, SdeMethod::sriw1, steps, 1000, false, 300);
  const double order = fitted_order(dts_of(steps), err);
  print_table("strong error, sriw1 fixed step, GBM (1000 paths)", dts_of(steps), err, order);
  EXPECT_NEAR(order, 1.5, 0.2);
}

// Diagonal (3 Wiener processes) and scalar (1 Wiener process for 3 components) noise.
TEST(SdeStrongOrder, MultiDimensionalNoise) {
  const std::vector<int> steps = {8, 16, 32, 64};
  for (bool scalar : {false, true}) {
    const GeometricBrownianMotion gbm({1.0, 0.5, -0.5}, {0.5, 0.8, 0.3}, scalar);
    const Vec e_mil = gbm_strong_errors(gbm, SdeMethod::rk_milstein, steps, 300, false, 400);
    const Vec e_sri = gbm_strong_errors(gbm, SdeMethod::sriw1, steps, 300, false, 400);
    const double o_mil = fitted_order(dts_of(steps), e_mil);
    const double o_sri = fitted_order(dts_of(steps), e_sri);
    std::printf("3-d GBM, %s noise: rk_milstein order %.3f, sriw1 order %.3f\n",
                scalar ? "scalar" : "diagonal", o_mil, o_sri);
    print_table(scalar ? "  sriw1, scalar noise" : "  sriw1, diagonal noise", dts_of(steps), e_sri,
                o_sri);
    EXPECT_NEAR(o_mil, 1.0, 0.2);
    EXPECT_NEAR(o_sri, 1.5, 0.25);
  }
}

// Additive noise: Euler-Maruyama is already strong order 1, SRA 1.5 (or better on this linear
// problem, where the deterministic order shows).
TEST(SdeStrongOrder, OrnsteinUhlenbeckAdditive) {
  const OrnsteinUhlenbeck ou({2.0}, {0.5}, {0.8});
  const std::vector<int> steps = {4, 8, 16, 32, 64};
  const Vec e_em = ou_strong_errors(ou, SdeMethod::euler_maruyama, steps, 300, 500);
  const Vec e_sra1 = ou_strong_errors(ou, SdeMethod::sra1, steps, 300, 500);
  const Vec e_sra3 = ou_strong_errors(ou, SdeMethod::sra3, steps, 300, 500);
  const Vec dt = dts_of(steps);
  const double o_em = fitted_order(dt, e_em), o1 = fitted_order(dt, e_sra1),
               o3 = fitted_order(dt, e_sra3);
  print_table("strong error, euler_maruyama, OU theta=2 mu=0.5 sigma=0.8 (300 paths)", dt, e_em,
              o_em);
  print_table("strong error, sra1, OU", dt, e_sra1, o1);
  print_table("strong error, sra3, OU", dt, e_sra3, o3);
  EXPECT_NEAR(o_em, 1.0, 0.15);
  EXPECT_GT(o1, 1.35);
  EXPECT_GT(o3, 1.35);
}

// Two OU components driven by one Wiener process (the reference uses the same W for both).
TEST(SdeStrongOrder, OrnsteinUhlenbeckScalarNoise) {
  const OrnsteinUhlenbeck ou({2.0, 0.5}, {0.5, -1.0}, {0.8, 0.4}, true);
  const std::vector<int> steps = {8, 16, 32, 64};
  const Vec e_sra1 = ou_strong_errors(ou, SdeMethod::sra1, steps, 100, 600);
  const Vec e_sri = ou_strong_errors(ou, SdeMethod::sriw1, steps, 100, 600);
  const double o1 = fitted_order(dts_of(steps), e_sra1), o2 = fitted_order(dts_of(steps), e_sri);
  print_table("strong error, sra1, 2-d OU with scalar noise (100 paths)", dts_of(steps), e_sra1,
              o1);
  print_table("strong error, sriw1, 2-d OU with scalar noise (100 paths)", dts_of(steps), e_sri,
              o2);
  EXPECT_GT(o1, 1.35);
  EXPECT_GT(o2, 1.35);
}

// Weak error of Euler-Maruyama in E[X_T] and E[X_T^2]. The estimator is mean(phi(X^h) -
// phi(X_exact)) over paths with the exact solution on the same path: its expectation is the
// weak error E[phi(X^h)] - E[phi(X)] exactly, and its Monte Carlo error scales with the strong
// error (~sqrt(h)) instead of the spread of X, so the O(h) bias dominates.
TEST(SdeWeakOrder, EulerMaruyamaGbmAndOu) {
  const std::vector<int> steps = {8, 16, 32, 64};
  const Vec dt = dts_of(steps);
  const int paths = 6000;
  const double T = 1.0;
  {
    const GeometricBrownianMotion gbm({1.0}, {0.5});
    const SdeSystem<Vec> sys = system_of(gbm);
    const Vec x0{1.0};
    Vec e1(steps.size(), 0.0), e2(steps.size(), 0.0), plain1(steps.size(), 0.0);
    for (int m = 0; m < paths; ++m) {
      BrownianPath path(1, 7000 + m);
      const double xe = gbm.exact(T, x0, path.w_at(T))[0];
      for (std::size_t k = 0; k < steps.size(); ++k) {
        SdeFixedParams fp;
        fp.dt = dt[k];
        const double x = solve_sde_fixed(sys, {0.0, T}, x0, fp, path).x.back()[0];
        e1[k] += (x - xe) / paths;
        e2[k] += (x * x - xe * xe) / paths;
        plain1[k] += x / paths;
      }
    }
    for (std::size_t k = 0; k < steps.size(); ++k) {
      std::printf("GBM weak, dt = %-8.5g E[X] err %.4e (plain MC %.4e)  E[X^2] err %.4e\n", dt[k],
                  e1[k], plain1[k] - gbm.mean(T, x0)[0], e2[k]);
      e1[k] = std::abs(e1[k]);
      e2[k] = std::abs(e2[k]);
    }
    const double o1 = fitted_order(dt, e1), o2 = fitted_order(dt, e2);
    std::printf("  GBM weak order: first moment %.3f, second moment %.3f\n", o1, o2);
    EXPECT_NEAR(o1, 1.0, 0.15);
    EXPECT_NEAR(o2, 1.0, 0.15);
  }
  {
    const OrnsteinUhlenbeck ou({2.0}, {0.5}, {0.8});
    const SdeSystem<Vec> sys = system_of(ou);
    const Vec x0{1.5};
    Vec e1(steps.size(), 0.0), e2(steps.size(), 0.0);
    for (int m = 0; m < paths; ++m) {
      BrownianPath path(1, 9000 + m);
      // Reference on the finest grid: its mean is exact and its second moment is off by
      // O(theta^4 h^4) only (see OrnsteinUhlenbeck::exact_step).
      const double xe = ou_reference(ou, x0, T, steps.back(), path)[0];
      for (std::size_t k = 0; k < steps.size(); ++k) {
        SdeFixedParams fp;
        fp.dt = dt[k];
        const double x = solve_sde_fixed(sys, {0.0, T}, x0, fp, path).x.back()[0];
        e1[k] += (x - xe) / paths;
        e2[k] += (x * x - xe * xe) / paths;
      }
    }
    for (std::size_t k = 0; k < steps.size(); ++k) {
      std::printf("OU weak, dt = %-8.5g E[X] err %.4e  E[X^2] err %.4e\n", dt[k], e1[k], e2[k]);
      e1[k] = std::abs(e1[k]);
      e2[k] = std::abs(e2[k]);
    }
    const double o1 = fitted_order(dt, e1), o2 = fitted_order(dt, e2);
    std::printf("  OU weak order: first moment %.3f, second moment %.3f\n", o1, o2);
    EXPECT_NEAR(o1, 1.0, 0.15);
    EXPECT_NEAR(o2, 1.0, 0.15);
  }
}

// Tighter tolerances give smaller pathwise errors on the same paths (each path is shared by
// all tolerances, so every run sees one Brownian realisation).
TEST(SdeAdaptive, ErrorFollowsToleranceSriw1Gbm) {
  const GeometricBrownianMotion gbm({1.0}, {0.5});
  const SdeSystem<Vec> sys = system_of(gbm);
  const Vec tols = {1e-2, 1e-3, 1e-4, 1e-5};
  const int paths = 200;
  const double T = 1.0;
  Vec err(tols.size(), 0.0), acc(tols.size(), 0.0), rej(tols.size(), 0.0);
  for (int m = 0; m < paths; ++m) {
    BrownianPath path(1, 20000 + m);
    for (std::size_t k = 0; k < tols.size(); ++k) {
      SdeAdaptiveParams ap;
      ap.method = SdeMethod::sriw1;
      ap.rtol = ap.atol = tols[k];
      const auto sol = solve_sde_adaptive(sys, {0.0, T}, Vec{1.0}, ap, path);
      const double xe = gbm.exact(T, {1.0}, path.w_at(T))[0];
      err[k] += std::abs(sol.x.back()[0] - xe) / paths;
      acc[k] += double(sol.stats.accepted) / paths;
      rej[k] += double(sol.stats.rejected) / paths;
    }
  }
  for (std::size_t k = 0; k < tols.size(); ++k)
    std::printf("adaptive sriw1 GBM tol %.0e: mean |err| %.3e, accepted %.1f, rejected %.1f\n",
                tols[k], err[k], acc[k], rej[k]);
  for (std::size_t k = 1; k < tols.size(); ++k) EXPECT_LT(err[k], 0.6 * err[k - 1]);
  EXPECT_LT(err.back(), 0.02 * err.front());
}

TEST(SdeAdaptive, ErrorFollowsToleranceSraOu) {
  const OrnsteinUhlenbeck ou({2.0, 1.0}, {0.5, -0.5}, {0.8, 0.3});
  const SdeSystem<Vec> sys = system_of(ou);
  const Vec tols = {1e-2, 1e-3, 1e-4, 1e-5};
  const int paths = 100;
  const double T = 1.0;
  const Vec x0{1.5, 1.5};
  for (SdeMethod method : {SdeMethod::sra1, SdeMethod::sra3}) {
    Vec err(tols.size(), 0.0), acc(tols.size(), 0.0), rej(tols.size(), 0.0);
    for (int m = 0; m < paths; ++m) {
      BrownianPath path(2, 30000 + m);
      std::vector<Vec> xs;
      for (std::size_t k = 0; k < tols.size(); ++k) {
        SdeAdaptiveParams ap;
        ap.method = method;
        ap.rtol = ap.atol = tols[k];
        const auto sol = solve_sde_adaptive(sys, {0.0, T}, x0, ap, path);
        xs.push_back(sol.x.back());
        acc[k] += double(sol.stats.accepted) / paths;
        rej[k] += double(sol.stats.rejected) / paths;
      }
      // Reference after the solves: it bridges into the intervals they sampled.
      const Vec exact = ou_reference(ou, x0, T, 4096, path);
      for (std::size_t k = 0; k < tols.size(); ++k) err[k] += max_abs_diff(xs[k], exact) / paths;
    }
    for (std::size_t k = 0; k < tols.size(); ++k)
      std::printf("adaptive %s OU tol %.0e: mean |err| %.3e, accepted %.1f, rejected %.1f\n",
                  sde_method_name(method).c_str(), tols[k], err[k], acc[k], rej[k]);
    for (std::size_t k = 1; k < tols.size(); ++k) EXPECT_LT(err[k], err[k - 1]);
    EXPECT_LT(err.back(), 0.01 * err.front());
  }
}

// Rejections must not bias the Brownian path: with a generous growth factor a large share of
// the attempts is rejected all along the path, yet W(T) and W(T/2) over many seeds have the
// Brownian law, the increments over the two halves are uncorrelated, and the GBM endpoint has
// the exact lognormal mean. (Drawing fresh increments after each rejection would keep mostly
// small ones and shrink Var W(T).)
TEST(SdeAdaptive, RejectionsDoNotBiasThePath) {
  const GeometricBrownianMotion gbm({1.0}, {0.5});
  const SdeSystem<Vec> sys = system_of(gbm);
  const int n = 2000;
  const double T = 1.0;
  double sw = 0, sww = 0, sab = 0, saa = 0, sbb = 0, sx = 0, sxx = 0, sxe = 0;
  long accepted = 0, rejected = 0;
  for (int m = 0; m < n; ++m) {
    BrownianPath path(1, 50000 + m);
    SdeAdaptiveParams ap;
    ap.method = SdeMethod::sriw1;
    ap.rtol = ap.atol = 1e-4;
    ap.h0 = 0.05 * T;
    ap.fac_max = 4.0;
    const auto sol = solve_sde_adaptive(sys, {0.0, T}, Vec{1.0}, ap, path);
    accepted += sol.stats.accepted;
    rejected += sol.stats.rejected;
    const double w = path.w_at(T)[0];
    const double wa = path.w_at(0.5 * T)[0];
    const double wb = w - wa;
    sw += w;
    sww += w * w;
    sab += wa * wb;
    saa += wa * wa;
    sbb += wb * wb;
    const double x = sol.x.back()[0];
    sx += x;
    sxx += x * x;
    sxe += gbm.exact(T, {1.0}, {w})[0];
  }
  const double mean_w = sw / n, var_w = sww / n - mean_w * mean_w, var_wa = saa / n;
  const double corr = sab / std::sqrt(saa * sbb);
  const double mean_x = sx / n, var_x = sxx / n - mean_x * mean_x;
  const double exact_mean = gbm.mean(T, {1.0})[0];
  std::printf(
      "rejection test over %d seeds: accepted %.1f, rejected %.1f per path; E W(T) %.4f, "
      "Var W(T) %.4f (T = 1), Var W(T/2) %.4f, corr(halves) %.4f, E X_T %.4f (exact "
      "%.4f, SE %.4f), mean of exact-from-W %.4f\n",
      n, double(accepted) / n, double(rejected) / n, mean_w, var_w, var_wa, corr, mean_x,
      exact_mean, std::sqrt(var_x / n), sxe / n);
  EXPECT_GT(rejected, accepted / 4);
  EXPECT_NEAR(mean_w, 0.0, 4.0 * std::sqrt(T / n));
  EXPECT_NEAR(var_w, T, 4.0 * T * std::sqrt(2.0 / n));
  EXPECT_NEAR(var_wa, 0.5 * T, 4.0 * 0.5 * T * std::sqrt(2.0 / n));
  EXPECT_NEAR(corr, 0.0, 4.0 / std::sqrt(double(n)));
  EXPECT_NEAR(mean_x, exact_mean, 4.0 * std::sqrt(var_x / n));
}

// The adaptive solver lands on every output time and agrees with a fixed-step run there.
TEST(SdeAdaptive, HitsOutputTimes) {
  const GeometricBrownianMotion gbm({0.5, -0.2}, {0.3, 0.6});
  const SdeSystem<Vec> sys = system_of(gbm);
  BrownianPath path(2, 77);
  SdeAdaptiveParams ap;
  ap.rtol = ap.atol = 1e-6;
  const Vec t_out = {0.0, 0.25, 0.5, 1.0};
  const auto sol = solve_sde_adaptive(sys, t_out, Vec{1.0, 2.0}, ap, path);
  ASSERT_EQ(sol.x.size(), t_out.size());
  for (std::size_t k = 0; k < t_out.size(); ++k) {
    const Vec exact = gbm.exact(t_out[k], {1.0, 2.0}, path.w_at(t_out[k]));
    EXPECT_LT(max_abs_diff(sol.x[k], exact), 1e-3) << "t = " << t_out[k];
  }
  EXPECT_GT(sol.stats.nf, 0);
  EXPECT_EQ(sol.stats.ng, 4 * (sol.stats.accepted + sol.stats.rejected));
}

// The step hook: one call per accepted step, in order, tiling [t0, T]; what it reports is the
// step the solver took; and solving with it changes nothing (same path seed, bitwise equal
// states and counters). On a drift f = mu X with the same mu in every component the
// difference quotient of the stiffness estimate is exactly |mu|, so stiffness = h |mu|.
TEST(SdeAdaptive, StepHookReportsAcceptedStepsAndChangesNothing) {
  const GeometricBrownianMotion gbm({-3.0, -3.0}, {0.5, 0.8});
  const SdeSystem<Vec> sys = system_of(gbm, false);
  const Vec t_out = {0.0, 0.3, 1.0};
  SdeAdaptiveParams ap;
  ap.rtol = ap.atol = 1e-4;
  BrownianPath plain_path(2, 123), hooked_path(2, 123), empty_path(2, 123);
  const auto plain = solve_sde_adaptive(sys, t_out, Vec{1.0, 2.0}, ap, plain_path);
  struct Seen {
    double t, h, err_norm, stiffness, norm_again, x1_0;
  };
  std::vector<Seen> seen;
  const SdeStepHook<Vec> hook = [&](const SdeAcceptedStep<Vec>& s) {
    const double again =
        ap.delta * StateOps<Vec>::error_norm(s.err.drift, s.x0, s.x1, ap.atol, ap.rtol) +
        StateOps<Vec>::error_norm(s.err.noise, s.x0, s.x1, ap.atol, ap.rtol);
    seen.push_back({s.t, s.h, s.err_norm, s.stiffness, again, s.x1[0]});
  };
  const auto hooked = solve_sde_adaptive(sys, t_out, Vec{1.0, 2.0}, ap, hooked_path, hook);
  const auto empty = solve_sde_adaptive(sys, t_out, Vec{1.0, 2.0}, ap, empty_path, {});
  for (const auto* sol : {&hooked, &empty}) {
    ASSERT_EQ(sol->x.size(), plain.x.size());
    for (std::size_t k = 0; k < plain.x.size(); ++k) EXPECT_EQ(sol->x[k], plain.x[k]) << k;
    EXPECT_EQ(sol->stats.accepted, plain.stats.accepted);
    EXPECT_EQ(sol->stats.rejected, plain.stats.rejected);
    EXPECT_EQ(sol->stats.nf, plain.stats.nf);
    EXPECT_EQ(sol->stats.ng, plain.stats.ng);
  }
  EXPECT_EQ(hooked_path.num_intervals(), plain_path.num_intervals());
  ASSERT_EQ(long(seen.size()), plain.stats.accepted);
  EXPECT_GT(plain.stats.rejected, 0);
  std::printf("step hook: %zu accepted steps, %ld rejected; first h %.4g, stiffness/h %.15g\n",
              seen.size(), plain.stats.rejected, seen[0].h, seen[0].stiffness / seen[0].h);
  EXPECT_EQ(seen.front().t, 0.0);
  for (std::size_t k = 0; k < seen.size(); ++k) {
    EXPECT_GT(seen[k].h, 0.0);
    if (k + 1 < seen.size()) {
      EXPECT_NEAR(seen[k].t + seen[k].h, seen[k + 1].t, 1e-14);
    }
    EXPECT_LE(seen[k].err_norm, 1.0);
    EXPECT_GT(seen[k].err_norm, 0.0);
    EXPECT_EQ(seen[k].norm_again, seen[k].err_norm);
    EXPECT_NEAR(seen[k].stiffness, 3.0 * seen[k].h, 1e-12 * seen[k].h);
  }
  EXPECT_NEAR(seen.back().t + seen.back().h, 1.0, 1e-14);
  EXPECT_EQ(seen.back().x1_0, plain.x.back()[0]);
}

// The SRA methods report their last two drift stages too (SRA3: its second and third); on OU
// (f = theta (mu - X), theta equal in both components) the estimate is h theta.
TEST(SdeAdaptive, StepHookStiffnessSra) {
  const OrnsteinUhlenbeck ou({4.0, 4.0}, {0.5, -0.5}, {0.8, 0.3});
  const SdeSystem<Vec> sys = system_of(ou);
  for (SdeMethod method : {SdeMethod::sra1, SdeMethod::sra3, SdeMethod::sriw1}) {
    SdeAdaptiveParams ap;
    ap.method = method;
    ap.rtol = ap.atol = 1e-4;
    BrownianPath path(2, 321);
    long calls = 0;
    double worst = 0.0;
    const SdeStepHook<Vec> hook = [&](const SdeAcceptedStep<Vec>& s) {
      ++calls;
      worst = std::max(worst, std::abs(s.stiffness / s.h - 4.0));
    };
    const auto sol = solve_sde_adaptive(sys, {0.0, 1.0}, Vec{1.5, 1.5}, ap, path, hook);
    EXPECT_EQ(calls, sol.stats.accepted) << sde_method_name(method);
    EXPECT_LT(worst, 1e-10) << sde_method_name(method);
  }
}

// With many output times the default controller restarts after each one from the step that
// was shortened to land on it; resume_planned_step keeps the planned step instead: far fewer
// steps for the same tolerance, and the pathwise error stays of the tolerance's size.
TEST(SdeAdaptive, ResumePlannedStepAfterOutputTimes) {
  const GeometricBrownianMotion gbm({1.0}, {0.5});
  const SdeSystem<Vec> sys = system_of(gbm);
  Vec t_out;
  for (int k = 0; k <= 29; ++k) t_out.push_back(k / 29.0);
  const int paths = 100;
  double steps[2] = {0, 0}, err[2] = {0, 0};
  for (int resume = 0; resume < 2; ++resume) {
    for (int m = 0; m < paths; ++m) {
      BrownianPath path(1, 60000 + m);
      SdeAdaptiveParams ap;
      ap.rtol = ap.atol = 1e-3;
      ap.resume_planned_step = resume == 1;
      const auto sol = solve_sde_adaptive(sys, t_out, Vec{1.0}, ap, path);
      steps[resume] += double(sol.stats.accepted + sol.stats.rejected) / paths;
      for (std::size_t k = 1; k < t_out.size(); ++k)
        err[resume] =
            std::max(err[resume],
                     std::abs(sol.x[k][0] - gbm.exact(t_out[k], {1.0}, path.w_at(t_out[k]))[0]));
    }
  }
  std::printf(
      "30 output times, tol 1e-3: %.1f steps per path (max error %.2e) restarting, %.1f "
      "(%.2e) resuming the planned step\n",
      steps[0], err[0], steps[1], err[1]);
  EXPECT_LT(steps[1], 0.6 * steps[0]);
  EXPECT_GE(steps[1], 29.0);
  // Max over 100 paths and 29 times; with one output time the mean error at 1e-3 is 1.6e-3
  // (ErrorFollowsToleranceSriw1Gbm). Restarting over-resolves: its error is smaller.
  EXPECT_LT(err[1], 5e-3);
  EXPECT_LT(err[0], err[1]);
}

// sde_stability_boundary is where the drift part's stability polynomial reaches |R| = 1: one
// noiseless step of dX = -X dt with h = boundary returns |X| = 1, a step 5 % longer |X| > 1
// and 5 % shorter |X| < 1.
TEST(SdeStability, BoundaryOfTheDriftPart) {
  const OrnsteinUhlenbeck decay({1.0}, {0.0}, {0.0});
  const SdeSystem<Vec> sys = system_of(decay);
  for (SdeMethod method : {SdeMethod::euler_maruyama, SdeMethod::milstein, SdeMethod::sriw1,
                           SdeMethod::sra1, SdeMethod::sra3}) {
    const double b = sde_stability_boundary(method);
    const auto one_step = [&](double h) {
      BrownianPath path(1, 5);
      return solve_sde_fixed(sys, {0.0, h}, Vec{1.0}, SdeFixedParams{method, h}, path).x.back()[0];
    };
    EXPECT_NEAR(std::abs(one_step(b)), 1.0, 1e-12) << sde_method_name(method);
    EXPECT_GT(std::abs(one_step(1.05 * b)), 1.0) << sde_method_name(method);
    EXPECT_LT(std::abs(one_step(0.95 * b)), 1.0) << sde_method_name(method);
  }
}

}  // namespace
}  // namespace aeolus
