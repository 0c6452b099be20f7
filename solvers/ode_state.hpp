#pragma once
// What the ODE and SDE solvers need from a state type. The solvers (solvers/ode_adaptive.hpp,
// solvers/sde.hpp) are templates over the state; StateOps<State> is the one place that knows
// how to combine states. This file specialises it for std::vector<double>; emulators/
// specialises it for torch::Tensor (so a neural right-hand side runs through the same solvers,
// and autograd sees every operation). A new state type (an Eigen vector, a PETSc Vec wrapper, a
// CUDA array) needs only its own specialisation.
//
// Contract of a specialisation StateOps<S> (all functions static, none keeps references):
//   S lincomb(const S& y, double h, const double* c, const S* const* k, int n)
//       y + h * sum_{j<n} c[j] * (*k[j]); terms with c[j] == 0 are skipped (k[j] may be null
//       there). The result is a new state; y and k are not modified.
//   S scaled_sum(double h, const double* c, const S* const* k, int n, const S& like)
//       h * sum_j c[j] * (*k[j]), same skipping rule; `like` gives the shape when all c are 0.
//   S mul(const S& a, const S& b)          elementwise product (diagonal noise terms).
//   S add(const S& a, const S& b), S sub(const S& a, const S& b), S scale(double a, const S& x)
//   double error_norm(const S& err, const S& y0, const S& y1, double atol, double rtol)
//       Hairer's norm: sqrt(mean_i (err_i / (atol + rtol * max(|y0_i|, |y1_i|)))^2).
//   double rms(const S& x)                 sqrt(mean_i x_i^2).
//   bool all_finite(const S& x)
//   std::size_t size(const S& x)           number of scalar components.
//   S from_values(const std::vector<double>& v, const S& like)  same shape/device/dtype as like.
//   std::vector<double> to_values(const S& x)
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace aeolus {

template <class State>
struct StateOps;  // specialise for each state type

template <>
struct StateOps<std::vector<double>> {
  using S = std::vector<double>;

  static S lincomb(const S& y, double h, const double* c, const S* const* k, int n) {
    S out(y);
    for (int j = 0; j < n; ++j) {
      if (c[j] == 0.0) continue;
      const double a = h * c[j];
      const double* kj = k[j]->data();
      for (std::size_t i = 0; i < out.size(); ++i) out[i] += a * kj[i];
    }
    return out;
  }
  static S scaled_sum(double h, const double* c, const S* const* k, int n, const S& like) {
    S out(like.size(), 0.0);
    for (int j = 0; j < n; ++j) {
      if (c[j] == 0.0) continue;
      const double a = h * c[j];
      const double* kj = k[j]->data();
      for (std::size_t i = 0; i < out.size(); ++i) out[i] += a * kj[i];
    }
    return out;
  }
  static S mul(const S& a, const S& b) {
    S out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] * b[i];
    return out;
  }
  static S add(const S& a, const S& b) {
    S out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
    return out;
  }
  static S sub(const S& a, const S& b) {
    S out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] - b[i];
    return out;
  }
  static S scale(double a, const S& x) {
    S out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) out[i] = a * x[i];
    return out;
  }
  static double error_norm(const S& err, const S& y0, const S& y1, double atol, double rtol) {
    if (err.empty()) return 0.0;
    double sum = 0.0;
    for (std::size_t i = 0; i < err.size(); ++i) {
      const double sk = atol + rtol * std::max(std::abs(y0[i]), std::abs(y1[i]));
      const double r = err[i] / sk;
      sum += r * r;
    }
    return std::sqrt(sum / static_cast<double>(err.size()));
  }
  static double rms(const S& x) {
    if (x.empty()) return 0.0;
    double sum = 0.0;
    for (double v : x) sum += v * v;
    return std::sqrt(sum / static_cast<double>(x.size()));
  }
  static bool all_finite(const S& x) {
    for (double v : x)
      if (!std::isfinite(v)) return false;
    return true;
  }
  static std::size_t size(const S& x) { return x.size(); }
  static S from_values(const std::vector<double>& v, const S& /*like*/) { return v; }
  static std::vector<double> to_values(const S& x) { return x; }
};

}  // namespace aeolus
