#pragma once
// StateOps for torch::Tensor (internal to emulators/: includes torch): the ODE and SDE solvers
// of solvers/ (ode_adaptive.hpp, sde.hpp) then integrate tensors, and every state operation is
// a differentiable torch op, so backpropagation through the solver works (discretise-then-
// optimise). Step-size control reads the error norm as a double (no gradient flows through
// the choice of steps, as in torchdiffeq).
#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "solvers/ode_state.hpp"

namespace aeolus {

template <>
struct StateOps<torch::Tensor> {
  using S = torch::Tensor;

  // One fused multiply-add per term (torch::add with alpha): the spiral demo's states are
  // tiny, so the cost is per-op overhead; this also sums in the order of the std::vector
  // specialisation, (y + h c_0 k_0) + h c_1 k_1 + ...
  static S lincomb(const S& y, double h, const double* c, const S* const* k, int n) {
    S acc = y;
    for (int j = 0; j < n; ++j) {
      if (c[j] == 0.0) continue;
      acc = torch::add(acc, *k[j], h * c[j]);
    }
    return acc;
  }
  static S scaled_sum(double h, const double* c, const S* const* k, int n, const S& like) {
    S acc;
    bool any = false;
    for (int j = 0; j < n; ++j) {
      if (c[j] == 0.0) continue;
      acc = any ? torch::add(acc, *k[j], h * c[j]) : (*k[j]) * (h * c[j]);
      any = true;
    }
    return any ? acc : torch::zeros_like(like);
  }
  static S mul(const S& a, const S& b) { return a * b; }
  static S add(const S& a, const S& b) { return a + b; }
  static S sub(const S& a, const S& b) { return a - b; }
  static S scale(double a, const S& x) { return x * a; }
  static double error_norm(const S& err, const S& y0, const S& y1, double atol, double rtol) {
    if (err.numel() == 0) return 0.0;
    torch::NoGradGuard no_grad;
    S sk = torch::max(y0.detach().abs(), y1.detach().abs());
    sk.mul_(rtol).add_(atol);
    S r = err.detach() / sk;
    r.mul_(r);
    return std::sqrt(r.mean().item<double>());
  }
  static double rms(const S& x) {
    if (x.numel() == 0) return 0.0;
    torch::NoGradGuard no_grad;
    return std::sqrt(x.detach().pow(2).mean().item<double>());
  }
  static bool all_finite(const S& x) {
    torch::NoGradGuard no_grad;
    return torch::isfinite(x.detach()).all().item<bool>();
  }
  static std::size_t size(const S& x) { return static_cast<std::size_t>(x.numel()); }
  static S from_values(const std::vector<double>& v, const S& like) {
    return torch::tensor(v, torch::TensorOptions().dtype(torch::kFloat64))
        .reshape(like.sizes())
        .to(like.options());
  }
  static std::vector<double> to_values(const S& x) {
    const S c = x.detach().to(torch::kCPU, torch::kFloat64).contiguous().reshape({-1});
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  }
};

}  // namespace aeolus
