#include "physics/sde_problems.hpp"

#include <cmath>
#include <string>

#include "grids/error.hpp"

namespace aeolus::physics {

namespace {

void check_same_length(const char* what, const std::vector<double>& a, const char* name_a,
                       const std::vector<double>& b, const char* name_b) {
  if (a.empty())
    throw ConfigError(std::string(what) + ": " + name_a +
                      " is empty; need one value per component");
  if (a.size() != b.size())
    throw ConfigError(std::string(what) + ": " + name_a + " has " + std::to_string(a.size()) +
                      " values but " + name_b + " has " + std::to_string(b.size()));
}

void check_nonnegative(const char* what, const char* name, const std::vector<double>& v) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!(v[i] >= 0.0))
      throw ConfigError(std::string(what) + ": " + name + "[" + std::to_string(i) +
                        "] = " + std::to_string(v[i]) + " must be >= 0");
}

// Which Wiener component drives state component i.
std::size_t wiener_index(bool scalar_noise, std::size_t i) { return scalar_noise ? 0 : i; }

void check_wiener_length(const char* what, const std::vector<double>& w, std::size_t expected) {
  if (w.size() != expected)
    throw ConfigError(std::string(what) + ": Brownian values have " + std::to_string(w.size()) +
                      " components, expected wiener_dim() = " + std::to_string(expected));
}

}  // namespace

GeometricBrownianMotion::GeometricBrownianMotion(std::vector<double> mu_in,
                                                 std::vector<double> sigma_in, bool scalar)
    : mu(std::move(mu_in)), sigma(std::move(sigma_in)), scalar_noise(scalar) {
  check_same_length("GeometricBrownianMotion", mu, "mu", sigma, "sigma");
  check_nonnegative("GeometricBrownianMotion", "sigma", sigma);
}

std::vector<double> GeometricBrownianMotion::drift(double, const std::vector<double>& x) const {
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = mu[i] * x[i];
  return out;
}

std::vector<double> GeometricBrownianMotion::diffusion(double, const std::vector<double>& x) const {
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = sigma[i] * x[i];
  return out;
}

std::vector<double> GeometricBrownianMotion::diffusion_dx(double,
                                                          const std::vector<double>& x) const {
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = sigma[i];
  return out;
}

std::vector<double> GeometricBrownianMotion::exact(double t, const std::vector<double>& x0,
                                                   const std::vector<double>& w) const {
  check_wiener_length("GeometricBrownianMotion::exact", w, wiener_dim());
  std::vector<double> out(size());
  for (std::size_t i = 0; i < size(); ++i) {
    const double s = sigma[i];
    out[i] = x0[i] * std::exp((mu[i] - 0.5 * s * s) * t + s * w[wiener_index(scalar_noise, i)]);
  }
  return out;
}

std::vector<double> GeometricBrownianMotion::mean(double t, const std::vector<double>& x0) const {
  std::vector<double> out(size());
  for (std::size_t i = 0; i < size(); ++i) out[i] = x0[i] * std::exp(mu[i] * t);
  return out;
}

std::vector<double> GeometricBrownianMotion::second_moment(double t,
                                                           const std::vector<double>& x0) const {
  std::vector<double> out(size());
  for (std::size_t i = 0; i < size(); ++i)
    out[i] = x0[i] * x0[i] * std::exp((2.0 * mu[i] + sigma[i] * sigma[i]) * t);
  return out;
}

OrnsteinUhlenbeck::OrnsteinUhlenbeck(std::vector<double> theta_in, std::vector<double> mu_in,
                                     std::vector<double> sigma_in, bool scalar)
    : theta(std::move(theta_in)),
      mu(std::move(mu_in)),
      sigma(std::move(sigma_in)),
      scalar_noise(scalar) {
  check_same_length("OrnsteinUhlenbeck", theta, "theta", mu, "mu");
  check_same_length("OrnsteinUhlenbeck", theta, "theta", sigma, "sigma");
  check_nonnegative("OrnsteinUhlenbeck", "sigma", sigma);
  for (std::size_t i = 0; i < theta.size(); ++i)
    if (!(theta[i] > 0.0))
      throw ConfigError("OrnsteinUhlenbeck: theta[" + std::to_string(i) +
                        "] = " + std::to_string(theta[i]) + " must be > 0");
}

std::vector<double> OrnsteinUhlenbeck::drift(double, const std::vector<double>& x) const {
  std::vector<double> out(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = theta[i] * (mu[i] - x[i]);
  return out;
}

std::vector<double> OrnsteinUhlenbeck::diffusion(double, const std::vector<double>&) const {
  return sigma;
}

std::vector<double> OrnsteinUhlenbeck::diffusion_dx(double, const std::vector<double>&) const {
  return std::vector<double>(size(), 0.0);
}

std::vector<double> OrnsteinUhlenbeck::mean(double t, const std::vector<double>& x0) const {
  std::vector<double> out(size());
  for (std::size_t i = 0; i < size(); ++i)
    out[i] = mu[i] + (x0[i] - mu[i]) * std::exp(-theta[i] * t);
  return out;
}

std::vector<double> OrnsteinUhlenbeck::variance(double t) const {
  std::vector<double> out(size());
  // -expm1 keeps the variance accurate for theta t << 1, where it is ~ sigma^2 t.
  for (std::size_t i = 0; i < size(); ++i)
    out[i] = sigma[i] * sigma[i] * -std::expm1(-2.0 * theta[i] * t) / (2.0 * theta[i]);
  return out;
}

std::vector<double> OrnsteinUhlenbeck::second_moment(double t,
                                                     const std::vector<double>& x0) const {
  std::vector<double> m = mean(t, x0);
  const std::vector<double> v = variance(t);
  for (std::size_t i = 0; i < size(); ++i) m[i] = v[i] + m[i] * m[i];
  return m;
}

// Regression of xi = int_0^h e^{-theta (h-s)} dW(s) on (dw, dz) = (W(h), int_0^h W(s) ds).
// Covariances (Ito isometry; dz = int_0^h (h - s) dW(s) by parts):
//   Var dw = h, Cov(dw, dz) = h^2/2, Var dz = h^3/3,
//   c1 = Cov(xi, dw) = int_0^h e^{-theta u} du   = h psi(x),  psi(x) = (1 - e^{-x}) / x,
//   c2 = Cov(xi, dz) = int_0^h u e^{-theta u} du = h^2 phi(x), phi(x) = (1 - e^{-x}(1 + x)) / x^2,
// x = theta h. Solving the 2x2 normal equations (inverse covariance 12/h^4 [[h^3/3, -h^2/2],
// [-h^2/2, h]]) gives a = 4 psi - 6 phi and b = (12 phi - 6 psi) / h. For small x both
// differences cancel, so they are summed as power series there:
//   psi = sum_k (-x)^k / (k+1)!,  phi = sum_k (-x)^k (k+1) / (k+2)!.
void ou_bridge_coefficients(double theta, double h, double& a, double& b) {
  const double x = theta * h;
  if (x < 0.5) {
    double sum_a = 0.0, sum_bh = 0.0, term = 1.0;  // term = (-x)^k / (k+1)!
    for (int k = 0; k < 30; ++k) {
      const double phi_k = term * double(k + 1) / double(k + 2);  // (-x)^k (k+1) / (k+2)!
      sum_a += 4.0 * term - 6.0 * phi_k;
      sum_bh += 12.0 * phi_k - 6.0 * term;
      term *= -x / double(k + 2);
    }
    a = sum_a;
    b = sum_bh / h;
    return;
  }
  const double e = std::exp(-x);
  const double psi = (1.0 - e) / x;
  const double phi = (1.0 - e * (1.0 + x)) / (x * x);
  a = 4.0 * psi - 6.0 * phi;
  b = (12.0 * phi - 6.0 * psi) / h;
}

std::vector<double> OrnsteinUhlenbeck::exact_step(double h, const std::vector<double>& x,
                                                  const std::vector<double>& dw,
                                                  const std::vector<double>& dz) const {
  check_wiener_length("OrnsteinUhlenbeck::exact_step", dw, wiener_dim());
  check_wiener_length("OrnsteinUhlenbeck::exact_step", dz, wiener_dim());
  std::vector<double> out(size());
  for (std::size_t i = 0; i < size(); ++i) {
    double a = 0.0, b = 0.0;
    ou_bridge_coefficients(theta[i], h, a, b);
    const std::size_t k = wiener_index(scalar_noise, i);
    const double xi = a * dw[k] + b * dz[k];
    out[i] = mu[i] + (x[i] - mu[i]) * std::exp(-theta[i] * h) + sigma[i] * xi;
  }
  return out;
}

}  // namespace aeolus::physics
