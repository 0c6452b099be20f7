#pragma once
// Ito SDEs with known solutions, for the convergence tests of the SDE solvers
// (solvers/sde.hpp): geometric Brownian motion and Ornstein-Uhlenbeck, componentwise in n
// dimensions. Each component i has its own parameters; the noise is either diagonal (component i
// driven by its own Wiener process W_i, wiener_dim() == n) or scalar (one W drives every
// component, wiener_dim() == 1). Plain functions of std::vector<double>; the solvers and the
// Brownian path live in solvers/.
#include <cstddef>
#include <vector>

namespace aeolus::physics {

// dX_i = mu_i X_i dt + sigma_i X_i dW_{k(i)}, k(i) = i (diagonal) or 0 (scalar noise).
// Pathwise solution X_i(t) = X_i(0) exp((mu_i - sigma_i^2 / 2) t + sigma_i W_{k(i)}(t)), so the
// exact value at t needs only W(t) from the same path the solver used.
// Throws ConfigError when mu and sigma differ in length, are empty, or a sigma is negative.
struct GeometricBrownianMotion {
  GeometricBrownianMotion(std::vector<double> mu, std::vector<double> sigma,
                          bool scalar_noise = false);

  std::vector<double> mu, sigma;
  bool scalar_noise = false;

  std::size_t size() const { return mu.size(); }
  std::size_t wiener_dim() const { return scalar_noise ? 1 : mu.size(); }

  std::vector<double> drift(double t, const std::vector<double>& x) const;
  std::vector<double> diffusion(double t, const std::vector<double>& x) const;
  // d g_i / d x_i (what the Milstein correction needs).
  std::vector<double> diffusion_dx(double t, const std::vector<double>& x) const;

  // X(t) given X(0) = x0 and w = W(t) - W(0) (length wiener_dim()).
  std::vector<double> exact(double t, const std::vector<double>& x0,
                            const std::vector<double>& w) const;
  // E[X_i(t)] = x0_i e^{mu_i t} and E[X_i(t)^2] = x0_i^2 e^{(2 mu_i + sigma_i^2) t}.
  std::vector<double> mean(double t, const std::vector<double>& x0) const;
  std::vector<double> second_moment(double t, const std::vector<double>& x0) const;
};

// dX_i = theta_i (mu_i - X_i) dt + sigma_i dW_{k(i)}: additive noise (g does not depend on X).
// X(t+h) = mu + (X(t) - mu) e^{-theta h} + sigma xi, xi = int_t^{t+h} e^{-theta (t+h-s)} dW(s).
// Throws ConfigError for mismatched lengths, theta <= 0 or sigma < 0.
struct OrnsteinUhlenbeck {
  OrnsteinUhlenbeck(std::vector<double> theta, std::vector<double> mu, std::vector<double> sigma,
                    bool scalar_noise = false);

  std::vector<double> theta, mu, sigma;
  bool scalar_noise = false;

  std::size_t size() const { return theta.size(); }
  std::size_t wiener_dim() const { return scalar_noise ? 1 : theta.size(); }

  std::vector<double> drift(double t, const std::vector<double>& x) const;
  std::vector<double> diffusion(double t, const std::vector<double>& x) const;
  std::vector<double> diffusion_dx(double t, const std::vector<double>& x) const;  // zeros

  // Exact moments of X_i(t) given X(0) = x0 (weak tests): mean mu + (x0 - mu) e^{-theta t},
  // variance sigma^2 (1 - e^{-2 theta t}) / (2 theta), second moment = variance + mean^2.
  std::vector<double> mean(double t, const std::vector<double>& x0) const;
  std::vector<double> variance(double t) const;
  std::vector<double> second_moment(double t, const std::vector<double>& x0) const;

  // One step of the pathwise reference for strong tests: X(t+h) from X(t) = x given the
  // Brownian increments of that step, dw = W(t+h) - W(t) and dz = int_t^{t+h} (W(s) - W(t)) ds
  // (length wiener_dim()). xi is replaced by its conditional mean given (dw, dz),
  // E[xi | dw, dz] = a dw + b dz (exact Gaussian regression, see the .cpp). The remainder is
  // independent of the path's increments with standard deviation O(theta^2 h^{5/2}), so
  // chaining these steps on a grid of width h gives X(T) to O(theta^2 sqrt(T) h^2) in L2 on that
  // path: run the reference on a grid much finer than the solver's steps.
  std::vector<double> exact_step(double h, const std::vector<double>& x,
                                 const std::vector<double>& dw,
                                 const std::vector<double>& dz) const;
};

// The regression coefficients (a, b) of E[xi | dw, dz] = a dw + b dz for
// xi = int_0^h e^{-theta (h-s)} dW(s) (see OrnsteinUhlenbeck::exact_step); a -> 1 and
// b -> -theta as theta h -> 0.
void ou_bridge_coefficients(double theta, double h, double& a, double& b);

}  // namespace aeolus::physics
