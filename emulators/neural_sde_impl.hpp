#pragma once
// The torch side of emulators/neural_sde.hpp (internal to emulators/ and its tests: includes
// torch): the networks, the true and the learned SDE as SdeSystem<torch::Tensor> on batched
// states [paths, 2], the moment-matching loss, and the regularisers' per-step terms.
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "emulators/neural_ode_impl.hpp"  // OdeRegulariser, hairer_norm, regulariser_weight
#include "emulators/neural_sde.hpp"
#include "emulators/torch_state.hpp"
#include "solvers/sde.hpp"

namespace aeolus::emulators {

struct SpiralSdeNetOptions {
  int drift_hidden = 50;
  int diffusion_hidden = 16;
};

// Drift f(y^3) (2-H-2, tanh) and diffusion g_i = softplus(v_i . tanh(y_i w_i + c_i) + d_i),
// the two component networks held as [2, K] parameter rows so that one broadcast evaluates
// both. Inputs and outputs are [paths, 2].
class SpiralSdeNetImpl : public torch::nn::Module {
 public:
  explicit SpiralSdeNetImpl(const SpiralSdeNetOptions& options);
  torch::Tensor drift(const torch::Tensor& y);
  torch::Tensor diffusion(const torch::Tensor& y);
  const SpiralSdeNetOptions& options() const { return options_; }

 private:
  SpiralSdeNetOptions options_;
  torch::nn::Linear drift_in_{nullptr}, drift_out_{nullptr};
  torch::Tensor diff_w_, diff_c_, diff_v_, diff_d_;
};
TORCH_MODULE(SpiralSdeNet);

// The true SDE of p on states [paths, 2] (the same arithmetic as spiral_sde_system, so the
// two agree to rounding on the same BrownianPath).
SdeSystem<torch::Tensor> spiral_sde_system_tensor(const SpiralSdeParams& p);
// The learned SDE; keeps a reference to the module (which must outlive the system).
SdeSystem<torch::Tensor> neural_sde_system(SpiralSdeNet& net);

// Per-component mean and unbiased variance over the paths of each state: [T, 2] each.
struct MomentTensors {
  torch::Tensor mean, variance;
};
MomentTensors ensemble_moments(const std::vector<torch::Tensor>& states);
// sum over times and components of the squared mean and variance errors.
torch::Tensor moment_loss(const MomentTensors& model, const MomentTensors& data);

// An independent seed for stream `stream` of a run seeded with `seed` (splitmix64 mixing):
// stream 0 is the evaluation path, stream k >= 1 the path of training iteration k.
std::uint64_t sde_stream_seed(std::uint64_t seed, std::uint64_t stream);

// Solver settings of a learned SDE (from NeuralSdeTrainingParams or a saved model).
struct NeuralSdeSolver {
  SdeMethod method = SdeMethod::sriw1;
  bool adaptive = false;
  double dt = 0.01, rtol = 1e-2, atol = 1e-2;
};
// The adaptive solver's parameters for `solver`: method, rtol, atol, resume_planned_step on (the
// steps after an observation time do not restart from the sliver that landed on it); the rest
// default.
SdeAdaptiveParams sde_adaptive_params(const NeuralSdeSolver& solver);
// Solves `system` for `paths` copies of y0 through t_obs on a BrownianPath of dimension
// 2 * paths seeded with `seed`, with autograd when enabled by the caller. `hook` (adaptive
// solver only, ConfigError otherwise) sees every accepted step.
SdeSolution<torch::Tensor> solve_spiral_paths(const SdeSystem<torch::Tensor>& system,
                                              const std::vector<double>& t_obs,
                                              const std::array<double, 2>& y0, int paths,
                                              std::uint64_t seed, const NeuralSdeSolver& solver,
                                              torch::Dtype dtype,
                                              const SdeStepHook<torch::Tensor>& hook = {});

// The regularisers' terms for one accepted step of an adaptive solve with parameters p, scalar
// tensors differentiable in everything the step computed (the step size is a constant):
//   error      |h| (p.delta hairer_norm(E_D) + hairer_norm(E_N)) with the scale atol + rtol
//              max(|x0|, |x1|): the autograd twin of SdeAcceptedStep::err_norm, times |h|;
//   stiffness  |h| rms(f_last - f_prev) / rms(H0_last - H0_prev) / sde_stability_boundary:
//              the autograd twin of SdeAcceptedStep::stiffness over the boundary (0 where the
//              stages coincide, as there).
torch::Tensor sde_error_term(const SdeAcceptedStep<torch::Tensor>& s, const SdeAdaptiveParams& p);
torch::Tensor sde_stiffness_term(const SdeAcceptedStep<torch::Tensor>& s, SdeMethod method);
// A hook that adds the term of `kind` (ernode: error, srnode: stiffness) of every accepted step
// to *total (a scalar tensor the caller owns and initialises; it must outlive the solve).
// ConfigError for kind none.
SdeStepHook<torch::Tensor> sde_regulariser_hook(OdeRegulariser kind, const SdeAdaptiveParams& p,
                                                torch::Tensor* total);

}  // namespace aeolus::emulators
