#pragma once
// Test problems for the ODE solvers (solvers/ode_adaptive.hpp): plain functions on
// std::vector<double>, with their documented parameters, initial values and, where one exists,
// the exact solution. Used by the tests and by bench/ode_peers.cpp.
#include <vector>

namespace aeolus::physics {

// Arenstorf orbit (restricted three-body problem, Hairer-Norsett-Wanner I, eq. II.0.1): a
// satellite y = (x, y, x', y') in the rotating frame of the earth (mass 1 - mu, at -mu) and
// the moon (mass mu, at 1 - mu):
//   x'' = x + 2 y' - (1 - mu) (x + mu) / r1^3 - mu (x - 1 + mu) / r2^3
//   y'' = y - 2 x' - (1 - mu) y / r1^3 - mu y / r2^3
// With mu = 0.012277471 and the initial value below the orbit is periodic with period
// arenstorf_period(): the exact solution returns to y0 (to the precision of the constants).
struct Arenstorf {
  double mu = 0.012277471;
  std::vector<double> operator()(double t, const std::vector<double>& y) const;
  static std::vector<double> y0();  // (0.994, 0, 0, -2.00158510637908252240537862224)
  static double period();           // 17.0652165601579625588917206249
};

// Van der Pol oscillator in Hairer's scaling (HNW II, eq. IV.1.5'):
//   y1' = y2,  y2' = ((1 - y1^2) y2 - y1) / eps.
// Stiff for small eps (relaxation oscillation); y0 = (2, 0) as in Hairer's drivers.
struct VanDerPol {
  double eps = 0.003;
  std::vector<double> operator()(double t, const std::vector<double>& y) const;
  static std::vector<double> y0();  // (2, 0)
};

// Non-autonomous, nonlinear problem with an exact solution, for convergence-order tests:
//   y1' = y1 cos t            y1(t) = a exp(sin t)
//   y2' = -y2^2 cos t         y2(t) = 1 / (1/b + sin t)
//   y3' = -w y4, y4' = w y3   (rotation at angular speed w: (cos w t, sin w t) from (1, 0))
// with a = 1, b = 1/2, w = 2; every stage node c_i and the nonlinear trees are exercised.
struct ExactTestProblem {
  double a = 1.0;
  double b = 0.5;
  double w = 2.0;
  std::vector<double> operator()(double t, const std::vector<double>& y) const;
  std::vector<double> exact(double t) const;
};

}  // namespace aeolus::physics
