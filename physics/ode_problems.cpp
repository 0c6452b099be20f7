#include "physics/ode_problems.hpp"

#include <cmath>

namespace aeolus::physics {

std::vector<double> Arenstorf::operator()(double /*t*/, const std::vector<double>& y) const {
  // Same operation order as Hairer's FAREN (dr_dopri5.f), so that step sequences compare.
  const double amu = mu, amup = 1.0 - mu;
  double r1 = (y[0] + amu) * (y[0] + amu) + y[1] * y[1];
  r1 = r1 * std::sqrt(r1);
  double r2 = (y[0] - amup) * (y[0] - amup) + y[1] * y[1];
  r2 = r2 * std::sqrt(r2);
  return {y[2], y[3], y[0] + 2 * y[3] - amup * (y[0] + amu) / r1 - amu * (y[0] - amup) / r2,
          y[1] - 2 * y[2] - amup * y[1] / r1 - amu * y[1] / r2};
}
std::vector<double> Arenstorf::y0() { return {0.994, 0.0, 0.0, -2.00158510637908252240537862224}; }
double Arenstorf::period() { return 17.0652165601579625588917206249; }

std::vector<double> VanDerPol::operator()(double /*t*/, const std::vector<double>& y) const {
  return {y[1], ((1 - y[0] * y[0]) * y[1] - y[0]) / eps};
}
std::vector<double> VanDerPol::y0() { return {2.0, 0.0}; }

std::vector<double> ExactTestProblem::operator()(double t, const std::vector<double>& y) const {
  const double c = std::cos(t);
  return {y[0] * c, -y[1] * y[1] * c, -w * y[3], w * y[2]};
}
std::vector<double> ExactTestProblem::exact(double t) const {
  return {a * std::exp(std::sin(t)), 1.0 / (1.0 / b + std::sin(t)), std::cos(w * t),
          std::sin(w * t)};
}

}  // namespace aeolus::physics
