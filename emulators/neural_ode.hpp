#pragma once
// The spiral ODE case (cases/spiral-ode): torchdiffeq's ode_demo with our solvers. The truth is
// dy/dt = (y^3) A, A = [[-0.1, 2.0], [-2.0, -0.1]] (y a row vector, y^3 elementwise), from
// y0 = (2, 0); a neural ODE dy/dt = net(y^3) is trained on short windows of the trajectory,
// optionally with the ERNODE or SRNODE regulariser of Pal et al. (2021), and evaluated by a
// rollout over the whole interval. No torch type appears here (the network side is
// emulators/neural_ode_impl.hpp).
//
// Test error (NeuralOdePrediction::relative_l2): ||y_pred - y_true|| / ||y_true|| over all
// points of a rollout from the initial state alone over [0, t_end]. From y0 this is a
// long-horizon test of a model trained on windows of batch_time points (what ode_demo shows);
// from y0_test (held out: never seen in training) it tests generalisation to a trajectory
// that stays inside the region the training data covers.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grids/progress.hpp"

namespace aeolus {
class Stepper;  // solvers/stepper.hpp (not included: this header is light)
}

namespace aeolus::emulators {

struct SpiralOdeParams {
  int points = 1000;  // output times, evenly spaced in [0, t_end] (t_0 = 0)
  double t_end = 25.0;
  std::array<double, 2> y0 = {2.0, 0.0};
  std::array<double, 2> y0_test = {0.0, 1.5};  // held-out start
  double noise = 0.0;      // std of Gaussian noise added to the training observations
  std::uint64_t seed = 0;  // of the noise
  double rtol = 1e-10;     // dopri5 tolerances of the truth
  double atol = 1e-12;
};

struct SpiralOdeData {
  std::vector<double> t;        // [points]
  std::vector<double> y;        // [points][2], row-major: the training observations (noisy)
  std::vector<double> y_clean;  // [points][2]: the truth from y0
  std::vector<double> y_test;   // [points][2]: the truth from y0_test
  std::array<double, 2> y0 = {0, 0}, y0_test = {0, 0};
};

// ConfigError naming the key (spiral.points, ...) for values out of range.
void check_spiral_ode_params(const SpiralOdeParams& p);
// The truth, integrated with our dopri5 at the tolerances of p; the noise is seeded.
SpiralOdeData make_spiral_ode_data(const SpiralOdeParams& p);

// The network and the solver it runs with: saved with the model, so a saved model runs as
// trained.
struct NeuralOdeModelParams {
  std::vector<int> hidden = {50};   // hidden widths (ode_demo: 2-50-2)
  std::string activation = "tanh";  // tanh | relu | softplus | silu
  bool cube_input = true;           // net(y^3), as ode_demo; false: net(y)
  std::string method = "dopri5";    // bs3 | dopri5 | tsit5 | dop853
  double rtol = 1e-7;               // torchdiffeq's defaults, used by ode_demo
  double atol = 1e-9;
};

struct NeuralOdeTrainingParams {
  int iterations = 2000;
  int batch_time = 10;                // points per window (window length (batch_time - 1) dt)
  int batch_size = 20;                // windows per minibatch, starts drawn uniformly
  std::string optimizer = "rmsprop";  // rmsprop | adam
  double learning_rate = 1e-3;
  std::string gradient = "backprop";  // backprop | adjoint
  bool adjoint_seminorm = false;
  // Loss = mean |y_pred - y_data| + lambda(k) * R on iteration k, lambda(k) = lambda0 * decay^k.
  std::string regulariser = "none";  // none | ernode | srnode (backprop only)
  double lambda0 = 0.1;
  double lambda_decay = 0.999;
  std::uint64_t seed = 1;
  int threads = 1;     // torch intra-op threads (the tensors are tiny: 1 is fastest)
  int log_every = 10;  // CSV row every this many iterations (and the last)
};

// ConfigError naming the key (model.activation, training.batch_time, ...), before any work.
void check_neural_ode_params(const NeuralOdeModelParams& model,
                             const NeuralOdeTrainingParams& training,
                             const SpiralOdeParams& spiral);

struct NeuralOdeTrainReport {
  int iterations = 0;
  double seconds = 0;  // training wall time (data generation excluded)
  double seconds_per_iteration = 0;
  double initial_loss = 0;       // data loss of the first minibatch, untrained network
  double final_loss = 0;         // mean data loss over the last min(50, iterations) iterations
  double final_reg = 0;          // mean regulariser value R over the same iterations
  double mean_nfe = 0;           // forward NFE per iteration
  double mean_backward_nfe = 0;  // adjoint: backward NFE per iteration
  long long parameters = 0;
};

// Trains on data.y and saves the model (architecture, solver settings, the data's time step
// and the case's y0) to model_path atomically; a CSV next to it (model_path + ".csv": iteration,
// loss, reg, lambda, nfe, nfe_backward, seconds).
// progress: lines "iteration K/N  loss ..." with elapsed time and ETA, at most every 10 s.
NeuralOdeTrainReport train_spiral_ode(const SpiralOdeData& data, const NeuralOdeModelParams& model,
                                      const NeuralOdeTrainingParams& training,
                                      const std::string& model_path,
                                      const ProgressSink& progress = {});

struct NeuralOdePredictParams {
  bool held_out = false;  // start from data.y0_test and compare with data.y_test
  int threads = 1;
  int repeats = 5;    // timed rollouts; seconds is their minimum (the first warms up caches)
  double rtol = 0.0;  // > 0: in place of the saved model's tolerances
  double atol = 0.0;
};

struct NeuralOdePrediction {
  std::vector<double> t;       // [points]
  std::vector<double> y_true;  // [points][2]
  std::vector<double> y_pred;  // [points][2]
  long nfe = 0, steps = 0, rejected = 0;
  double seconds = 0;      // wall time of one rollout (no autograd)
  double relative_l2 = 0;  // ||y_pred - y_true|| / ||y_true|| over all points
};

// A rollout of a saved model over data.t from the case's initial state (or the held-out one).
// IoError / ModelError for a missing or foreign file.
NeuralOdePrediction predict_spiral_ode(const std::string& model_path, const SpiralOdeData& data,
                                       const NeuralOdePredictParams& p = {});

// The trained spiral model at model_path behind the Stepper seam (name "emulator"): the network
// integrated by solvers/ode_stepper.hpp with the saved method and tolerances (p.rtol, p.atol > 0
// replace them), without autograd. The state is the 2 numbers of y (small_state_grid(2)).
// IoError / ModelError as predict_spiral_ode for a missing or foreign file.
std::unique_ptr<Stepper> make_neural_ode_stepper(const std::string& model_path,
                                                 const NeuralOdePredictParams& p = {});

}  // namespace aeolus::emulators
