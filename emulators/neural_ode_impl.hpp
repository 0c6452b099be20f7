#pragma once
// Neural ODEs in LibTorch (internal to emulators/: includes torch). The adaptive Runge-Kutta
// solvers of solvers/ode_adaptive.hpp integrate torch::Tensor states (emulators/torch_state.hpp),
// so a network right-hand side runs through the same code as the classical problems. Here:
//   - Mlp, a plain multilayer perceptron for right-hand sides;
//   - odeint, with two ways to get gradients:
//       backprop  autograd records every stage of every accepted and rejected step
//                 (discretise-then-optimise: the exact gradient of the computed solution, with
//                 the step sequence held fixed, as in torchdiffeq);
//       adjoint   the forward solve keeps no graph; backward() integrates the adjoint system
//                 [y, a, a_theta] from t_N back to t_0 (optimise-then-discretise: memory
//                 independent of the number of steps, gradient accurate to the tolerance);
//                 optionally with the seminorm of Kidger, Chen & Lyons (2021), which leaves
//                 a_theta out of the backward step control;
//   - the regularisers of Pal, Ma, Shah & Rackauckas (2021), "Opening the Blackbox":
//       ERNODE  R_E = sum over accepted steps of |h| * ||local error estimate|| (Hairer norm),
//       SRNODE  R_S = sum over accepted steps of h |lambda| / (the method's stability boundary),
//                 with Hairer's estimate h |lambda| = |h| ||k_s - k_{s-1}|| / ||y1 - Y_{s-1}||,
//     both differentiable in the network parameters (the step sizes are held fixed).
// The torch-free case API (the spiral ODE) is emulators/neural_ode.hpp.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "emulators/neural_ode_names.hpp"
#include "emulators/torch_state.hpp"
#include "solvers/ode_adaptive.hpp"

namespace aeolus::emulators {

// ---------------------------------------------------------------------------------------------
// The network.

struct MlpOptions {
  std::vector<std::int64_t> widths = {2, 50, 2};  // input, hidden..., output
  std::string activation = "tanh";                // tanh | relu | softplus | silu
  torch::Dtype dtype = torch::kFloat64;
  // Weights ~ N(0, init_std^2), biases 0 (torchdiffeq's ode_demo); <= 0: torch's default init.
  double init_std = 0.1;
};

// Linear layers with the activation between them (none after the last).
class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const MlpOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  const MlpOptions& options() const { return options_; }

 private:
  MlpOptions options_;
  std::vector<torch::nn::Linear> layers_;
};
TORCH_MODULE(Mlp);

// ---------------------------------------------------------------------------------------------
// odeint.

// dy/dt = f(t, y); y has the shape of y0 (any shape: a batch is just more components, solved
// with one step sequence for the whole batch, as torchdiffeq does).
using OdeFunction = std::function<torch::Tensor(double t, const torch::Tensor& y)>;

struct OdeintOptions {
  OdeGradient gradient = OdeGradient::backprop;
  // Adjoint: the tensors to return gradients for besides y0 (usually module->parameters(); they
  // must be what f uses). Gradients reach nothing else that f uses. Ignored by backprop.
  std::vector<torch::Tensor> adjoint_params;
  // Adjoint: leave the a_theta block out of the backward solve's error norm.
  bool adjoint_seminorm = false;
  // Adjoint: tolerances of the backward solve; <= 0: the forward solve's.
  double adjoint_rtol = 0.0;
  double adjoint_atol = 0.0;
  // Accumulate R_E / R_S (OdeintResult::error_reg / stiffness_reg). Backprop only: with the
  // adjoint the forward solve keeps no graph (ConfigError).
  bool error_reg = false;
  bool stiffness_reg = false;
};

struct OdeintResult {
  torch::Tensor y;  // [t_out.size(), y0.sizes()...]: the state at each output time
  OdeStats stats;   // of the forward solve
  // Adjoint: the backward solves' counts (one solve per output interval; nfev counts
  // evaluations of the augmented right-hand side, each one f call plus one vector-Jacobian
  // product), filled when backward() runs. Backprop: stays zero.
  std::shared_ptr<OdeStats> backward_stats;
  // Scalar tensors (0 unless requested), differentiable in what f depends on.
  torch::Tensor error_reg;
  torch::Tensor stiffness_reg;
};

// Solves y' = f(t, y), y(t_out[0]) = y0 through t_out (monotone, as solve_adaptive), with the
// gradient mode of `options`. Throws as solve_adaptive; ConfigError for regularisers with the
// adjoint.
OdeintResult odeint(const OdeFunction& f, const torch::Tensor& y0, const std::vector<double>& t_out,
                    const AdaptiveParams& params, const OdeintOptions& options = {});

// ---------------------------------------------------------------------------------------------
// The regularisers' per-step terms (odeint sums them; public for tests and other callers).

// ||err|| in Hairer's norm with the scale atol + rtol max(|y0|, |y1|), differentiable in err,
// y0 and y1 (dop853: its 5th-order estimator only).
torch::Tensor hairer_norm(const torch::Tensor& err, const torch::Tensor& y0,
                          const torch::Tensor& y1, double atol, double rtol);
// ERNODE term |h| * hairer_norm(err).
torch::Tensor ernode_term(const AcceptedStep<torch::Tensor>& s, double atol, double rtol);
// SRNODE term |h| rms(k_s - k_{s-1}) / rms(y1 - Y_{s-1}) / stability_boundary(method).
torch::Tensor srnode_term(const AcceptedStep<torch::Tensor>& s, RkMethod method);
// Where the method's stability region meets the negative real axis, roughly (dopri5: 3.25 and
// dop853: 6.1 as Hairer's stiffness tests; bs3: 2.5; tsit5: 3.5): the scale of SRNODE's term.
double stability_boundary(RkMethod method);

// The annealed regulariser weight lambda(iteration) = lambda0 * decay^iteration (decay in
// (0, 1]; 1 keeps it constant). Pal et al. decay the weight so that late training fits the data.
double regulariser_weight(double lambda0, double decay, long iteration);

}  // namespace aeolus::emulators
