#pragma once
// A neural SDE on the spiral: the stochastic counterpart of the classic neural-ODE demo, as in
// the DiffEqFlux neural-SDE example that Pal et al. (ICML 2021, "Opening the blackbox") use for
// their SDE experiment. The data are the moments of an ensemble of sample paths of a known SDE;
// the model has a learned drift and a learned diffusion and is trained by backpropagating
// through our SDE solvers (solvers/sde.hpp on torch::Tensor states: discretise-then-optimise)
// so that the mean and variance of its own sample paths match the data's at the observation
// times. No torch type appears here; the networks live in neural_sde.cpp.
//
// The true SDE (Ito, diagonal multiplicative noise; X a row vector, X^3 elementwise):
//   dX = (X^3) A dt + diag(sigma) X dW,   X(0) = y0,   W two independent Wiener processes.
// The model (same noise structure, diagonal):
//   dX = f(X^3) dt + diag(g(X)) dW,
//   f: Linear(2, H) - tanh - Linear(H, 2) on X^3 (the ODE demo's drift),
//   g_i = softplus(v_i . tanh(X_i w_i + c_i) + d_i), one 1-K-1 network per component,
// so g_i depends on X_i only (what diagonal noise needs for Milstein and SRIW1 to keep their
// order) and is positive. The true g_i = sigma_i X_i changes sign, but the law of an Ito SDE
// depends on g only through g g^T = diag(g_i^2), so g_i = sigma_i |X_i| is an equivalent target.
//
// Loss (moment matching, the DiffEqFlux/Pal et al. form): over the observation times t_k and
// components i,
//   L = sum_k sum_i (mean_ki(model) - mean_ki(data))^2 + (var_ki(model) - var_ki(data))^2,
// where the model's moments are estimated from batch_paths sample paths solved together as
// one [batch_paths, 2] state (path p's component i driven by Wiener component 2p + i of one
// BrownianPath of dimension 2 * batch_paths), with a fresh path each iteration; variances are
// unbiased (divide by paths - 1).
//
// Optionally (training through the adaptive SRIW1 solver only) the loss gets the regulariser of
// Pal, Ma, Shah & Rackauckas (2021) summed over the accepted steps of the iteration's solve,
// with the annealed weight of the neural ODE (emulators/neural_ode.hpp):
//   ernode  R_E = sum |h| (delta ||E_D|| + ||E_N||), the solver's own error estimate (Hairer's
//           norm; what their SDE experiment regularises: EEst * dt per step);
//   srnode  R_S = sum |h| rms(f(H0_2) - f(H0_1)) / rms(H0_2 - H0_1) / 2, the drift's stiffness
//           estimate from SRIW1's two drift stages over the boundary of its drift part's
//           stability region (R(z) = 1 + z + z^2/2: 2 on the negative real axis).
// Both are differentiable in the network parameters (the step sizes are held fixed, as for the
// ODE). The names are the neural ODE's, so a case file uses the same keys for both.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grids/progress.hpp"
#include "solvers/sde.hpp"

namespace aeolus {
class Stepper;  // solvers/stepper.hpp (not included: this header is light)
}

namespace aeolus::emulators {

struct SpiralSdeParams {
  std::array<double, 2> y0{2.0, 0.0};
  std::array<double, 4> a{-0.1, 2.0, -2.0, -0.1};  // A, row-major
  std::array<double, 2> sigma{0.2, 0.2};
  double t_end = 1.0;
  int observations = 30;  // equally spaced times in [0, t_end], both ends included
  int paths = 10000;      // ensemble size of the data
  // The data's solver: fixed steps. Any method for diagonal noise (not sra1/sra3: the noise is
  // multiplicative). Paths are solved in chunks of 1000, each with its own BrownianPath.
  SdeMethod method = SdeMethod::sriw1;
  double dt = 2e-3;
  std::uint64_t seed = 20210701;
};

// Per-component mean and unbiased variance over an ensemble at the observation times.
struct SpiralMoments {
  std::vector<double> t;
  std::vector<std::array<double, 2>> mean, variance;
};

// The observation times: `observations` equally spaced points in [0, t_end].
std::vector<double> spiral_observation_times(const SpiralSdeParams& p);

// The true SDE for n stacked paths (any n): state [x_0, y_0, x_1, y_1, ...], path p's
// component i at index 2p + i; diagonal noise, so its BrownianPath has dimension 2n.
SdeSystem<std::vector<double>> spiral_sde_system(const SpiralSdeParams& p);

// The data: p.paths sample paths of the true SDE solved with p.method at step p.dt from
// seeded Brownian paths (deterministic given p). ConfigError for bad parameters.
SpiralMoments spiral_sde_moments(const SpiralSdeParams& p);

// With the defaults (and SpiralSdeParams'), training takes the loss from 268 to 1.8 in 17 s
// (83 ms per iteration on a shared 2-core machine); predicted from 10^4 paths, the mean is then
// within 0.26 and the variance within 0.29 of the data's at every observation time.
struct NeuralSdeTrainingParams {
  int drift_hidden = 50;        // H of the drift network
  int diffusion_hidden = 16;    // K of each component's diffusion network
  int iterations = 200;         // Adam steps
  double learning_rate = 0.05;  // Adam
  int batch_paths = 64;         // sample paths per iteration (the model's moment estimate)
  // The training solver: fixed steps of at most dt (the observation intervals are divided
  // evenly), or adaptive (solve_sde_adaptive: sriw1 only here, tolerances rtol / atol, the
  // planned step resumed after each observation time; the step-size choice is not
  // differentiated, as for ODEs). Diagonal noise: not sra1 / sra3.
  SdeMethod method = SdeMethod::sriw1;
  bool adaptive = false;
  double dt = 0.02;
  double rtol = 1e-2;
  double atol = 1e-2;
  std::string dtype = "float32";  // float32 | float64
  // initial_loss / final_loss are the loss on eval_paths paths drawn with `seed`: exactly what
  // predict_spiral_sde(model_path, eval_paths, seed) reports for the saved model.
  int eval_paths = 1000;
  std::uint64_t seed = 1;  // weights and every Brownian path of training
  // Torch intra-op threads. The tensors are tiny ([batch_paths, 2]): more threads only add
  // synchronisation (OpenMP spin-waits took two thirds of the time with 2 on 2 busy cores).
  int threads = 1;
  // none | ernode | srnode (see the top of this file); anything but none needs adaptive = true.
  // Loss on iteration k (from 1): L + lambda0 * lambda_decay^(k-1) * R. lambda0 = 0 computes
  // and reports R without training on it.
  std::string regulariser = "none";
  double lambda0 = 1.0;
  double lambda_decay = 0.99;
};

struct NeuralSdeTrainReport {
  int iterations = 0;
  double seconds = 0;          // the training loop (data generation and evaluations excluded)
  double data_seconds = 0;     // generating the data's ensemble
  double initial_loss = 0;     // untrained network, eval_paths paths
  double final_loss = 0;       // saved network, eval_paths paths
  std::vector<double> losses;  // batch loss of each iteration (before its update)
  std::vector<double> regs;    // regulariser R of each iteration's solve (empty when none)
  double nfe_per_solve = 0;    // drift + diffusion evaluations per training solve (mean)
  long long parameters = 0;
};

// Generates the data (spiral_sde_moments(spiral)), trains, and saves the model to model_path
// atomically with everything needed to run it: the architecture, dtype, the training solver's
// settings, the observation times, y0 and the data's moments (for the errors of a
// prediction). ConfigError for bad parameters, NumericsError if a solve blows up, IoError if
// the model cannot be written.
// progress: lines "iteration K/N  loss ..." with elapsed time and ETA, at most every 10 s.
NeuralSdeTrainReport train_spiral_sde(const SpiralSdeParams& spiral,
                                      const NeuralSdeTrainingParams& training,
                                      const std::string& model_path,
                                      const ProgressSink& progress = {});

struct NeuralSdePrediction {
  SpiralMoments model;        // from `paths` sample paths of the learned SDE
  SpiralMoments data;         // the training data's moments, stored in the model
  double loss = 0;            // the training loss between the two
  double mean_error = 0;      // max over times and components of |mean(model) - mean(data)|
  double variance_error = 0;  // same for the variances
  long nf = 0, ng = 0;        // drift and diffusion evaluations of the solve
  long steps = 0, rejected = 0;
  double seconds = 0;  // the solve and the moments (loading excluded)
};

// Solves the saved model for `paths` sample paths (a BrownianPath of dimension 2 * paths
// seeded from `seed`; same seed, same paths) with its training solver and dtype, no gradient.
// IoError / ModelError for a missing or foreign file, ConfigError for paths < 2.
NeuralSdePrediction predict_spiral_sde(const std::string& model_path, int paths, std::uint64_t seed,
                                       int threads = 1);

// Behind the Stepper seam (solvers/sde_stepper.hpp), for a run through the time loop: `paths`
// sample paths of the true spiral SDE (name "classical", with p.method at step p.dt) or of the
// saved model at model_path (name "emulator", with its training solver and dtype, no gradient),
// the noise of each output interval seeded from (seed, interval index). The state is
// [x_0, y_0, x_1, y_1, ...] (small_state_grid(2 paths)). IoError / ModelError as
// predict_spiral_sde for a missing or foreign model file.
std::unique_ptr<Stepper> make_spiral_sde_stepper(const SpiralSdeParams& p, int paths,
                                                 std::uint64_t seed, double interval);
std::unique_ptr<Stepper> make_neural_sde_stepper(const std::string& model_path, int paths,
                                                 std::uint64_t seed, double interval);

}  // namespace aeolus::emulators
