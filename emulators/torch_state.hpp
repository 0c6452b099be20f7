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

  static S lincomb(const S& y, double h, const double* c, const S* const* k, int n) {
    S acc;
    bool any = false;
    for (int j = 0; j < n; ++j) {
      if (c[j] == 0.0) continue;
      acc = any ? acc + (*k[j]) * c[j] : (*k[j]) * c[j];
      any = true;
    }
    return any ? y + acc * h : y;
  }
  static S scaled_sum(double h, const double* c, const S* const* k, int n, const S& like) {
    S acc;
    bool any = false;
    for (int j = 0; j < n; ++j) {
      if (c[j] == 0.0) continue;
      acc = any ? acc + (*k[j]) * c[j] : (*k[j]) * c[j];
      any = true;
    }
    return any ? acc * h : torch::zeros_like(like);
  }
  static S mul(const S& a, const S& b) { return a * b; }
  static S add(const S& a, const S& b) { return a + b; }
  static S sub(const S& a, const S& b) { return a - b; }
  static S scale(double a, const S& x) { return x * a; }
  static double error_norm(const S& err, const S& y0, const S& y1, double atol, double rtol) {
    if (err.numel() == 0) return 0.0;
    torch::NoGradGuard no_grad;
    const S sk = atol + rtol * torch::max(y0.detach().abs(), y1.detach().abs());
    return std::sqrt((err.detach() / sk).pow(2).mean().item<double>());
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
