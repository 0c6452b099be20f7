#pragma once
// The torch side of emulators/pinn.hpp (internal to emulators/: includes torch): the network
// with its input features, the PDE problems with their autograd residuals (a registry keyed by
// pde.type), collocation sampling, the loss of each formulation and the L-BFGS driver. Exposed
// for tests; the case API is emulators/pinn.hpp.
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "emulators/pinn.hpp"

namespace aeolus::emulators {

// ---------------------------------------------------------------------------------------------
// Derivatives.

// d(sum y)/dx, with a graph so that it can be differentiated again (second derivatives, and the
// parameter gradient of a loss built from it). y must depend on x, which requires grad.
torch::Tensor input_gradient(const torch::Tensor& y, const torch::Tensor& x);

// ---------------------------------------------------------------------------------------------
// The network.

struct PinnNetOptions {
  int inputs = 2;  // coordinates (x, t), (x, y) or (x0, t)
  int width = 50;
  int depth = 4;
  std::string features = "none";  // none | periodic | fourier (see PinnNetworkParams)
  // The box the coordinates live in: each is mapped affinely to [-1, 1] (periodic: coordinate
  // 0 enters through cos / sin of 2 pi (x - lower) / (upper - lower) instead).
  std::vector<double> lower = {0.0, 0.0};
  std::vector<double> upper = {1.0, 1.0};
  int periodic_modes = 1;
  int fourier_features = 64;
  double fourier_scale = 1.0;
  torch::Dtype dtype = torch::kFloat64;
};

// tanh MLP on the features of its inputs: [N, inputs] -> [N, 1]. The Fourier matrix is a buffer,
// saved with the weights.
class PinnNetImpl : public torch::nn::Module {
 public:
  explicit PinnNetImpl(const PinnNetOptions& options);
  torch::Tensor forward(const torch::Tensor& x);
  const PinnNetOptions& options() const { return options_; }
  // Zero output weights: the network starts as the zero function (with non-zero gradients).
  void zero_output();

 private:
  torch::Tensor features(const torch::Tensor& x) const;
  PinnNetOptions options_;
  std::vector<torch::nn::Linear> layers_;
  torch::Tensor fourier_b_, lower_, scale_;
};
TORCH_MODULE(PinnNet);

// ---------------------------------------------------------------------------------------------
// The PDE problems.

// One PDE with its domain, data, reference and residuals. Coordinates are columns of an [N, 2]
// tensor: (x, t) for time-dependent PDEs, (x, y) for poisson2d, (x0, t) for the Lagrangian form.
class PinnProblem {
 public:
  virtual ~PinnProblem() = default;
  // The box [lower, upper] in both coordinates.
  virtual std::array<double, 2> lower() const = 0;
  virtual std::array<double, 2> upper() const = 0;
  // The solution is periodic in x with period upper[0] - lower[0] (Burgers: by its symmetry).
  virtual bool periodic() const = 0;
  // Dirichlet data on the boundary (else: periodic boundary conditions in x).
  virtual bool dirichlet() const = 0;
  virtual bool time_dependent() const = 0;  // false: coordinate 1 is y and there is no u0
  virtual bool second_order() const = 0;    // u_xx appears (periodic boundary matches u_x too)
  virtual double nu() const { return 0.0; }
  // Eulerian residual at X given u = u(X) [N, 1] computed from X (which requires grad).
  virtual torch::Tensor residual(const torch::Tensor& X, const torch::Tensor& u) const = 0;
  // u0(x) for x [N, 1] (time-dependent PDEs).
  virtual torch::Tensor initial(const torch::Tensor& x) const;
  // Dirichlet data at boundary points X [N, 2] (non-periodic PDEs).
  virtual torch::Tensor boundary_value(const torch::Tensor& X) const;
  // The reference solution at one point.
  virtual double reference(double x, double t) const = 0;
  // Lagrangian form: true if the PDE has one (u_t + c(u) u_x = nu u_xx), with the
  // characteristic speed c and its scale max(|c|) over the data.
  virtual bool lagrangian() const { return false; }
  virtual torch::Tensor speed(const torch::Tensor& u) const;
  virtual double speed_scale() const { return 1.0; }
};

// The problem of p.type (a registry of the known types, pinn_problem_names()); ConfigError
// naming pde.type otherwise.
std::unique_ptr<PinnProblem> make_pinn_problem(const PinnPdeParams& p);

// Lagrangian residuals at X0 = (x0, t) [N, 2] (requires grad) for the characteristic x_l [N, 1]
// and the state u [N, 1], both computed from X0: {dx_L/dt - c(u), du/dt - nu u_xx}, with
// u_x = u_x0 / x_L,x0 and u_xx = (u_x)_x0 / x_L,x0 (the map x0 -> x_L taken as invertible).
std::array<torch::Tensor, 2> lagrangian_residuals(const PinnProblem& problem,
                                                  const torch::Tensor& X0, const torch::Tensor& x_l,
                                                  const torch::Tensor& u);

// ---------------------------------------------------------------------------------------------
// The model: the state network, and for an lpinn the characteristic network.

class PinnModelImpl : public torch::nn::Module {
 public:
  PinnModelImpl(const PinnParams& params, const PinnProblem& problem);
  bool lagrangian() const { return lagrangian_; }
  // u at X [N, 2] (lpinn: along the characteristic from x0 = X[:, 0]).
  torch::Tensor u(const torch::Tensor& X);
  // lpinn: x_L(x0, t) = x0 + (t - t0) / (t1 - t0) * s * net_x(x0, t) [N, 1].
  torch::Tensor x_l(const torch::Tensor& X0);

 private:
  bool lagrangian_;
  double t0_ = 0, t1_ = 1, s_ = 1;
  PinnNet state_{nullptr}, characteristic_{nullptr};
};
TORCH_MODULE(PinnModel);

// ---------------------------------------------------------------------------------------------
// Collocation points and the loss.

struct PinnPoints {
  torch::Tensor residual;  // [n_residual, 2]
  torch::Tensor initial;   // [n_initial, 2] on t = t0 (empty for poisson2d and unused)
  torch::Tensor boundary;  // [n_boundary, 2]: periodic (lo, t); otherwise Dirichlet points
};

// Points for the problem's domain (torch's global generator for random ones).
PinnPoints sample_pinn_points(const PinnProblem& problem, const PinnCollocationParams& c,
                              bool lagrangian, torch::Dtype dtype);

struct PinnLoss {
  torch::Tensor total;                             // weighted, with a graph to the parameters
  double residual = 0, initial = 0, boundary = 0;  // unweighted mean squares
};

PinnLoss pinn_loss(PinnModel& model, const PinnProblem& problem, const PinnPoints& points,
                   const PinnTrainingParams& t);

// ---------------------------------------------------------------------------------------------
// L-BFGS.

struct LbfgsRun {
  int iterations = 0;
  int evaluations = 0;
  double loss = 0;
  bool converged = false;  // gradient or change tolerance met before max_iterations
};

struct LbfgsOptions {
  int max_iterations = 1000;
  int history = 50;
  double tolerance_grad = 1e-12;
  double tolerance_change = 1e-15;
  int chunk = 100;  // iterations per optimizer step: between steps, on_chunk may log or stop
  // Called after every loss evaluation (line search included) with the iterations done so far
  // (the current chunk's counted as the optimizer goes) and the loss: progress inside a chunk.
  std::function<void(int, double)> on_evaluation;
};

// Full-batch L-BFGS with strong Wolfe line search on `parameters`. closure: zero the gradients,
// compute the loss, backward, return the loss. on_chunk(iterations so far, loss) returns false to
// stop early. NumericsError if the loss is not finite.
LbfgsRun run_lbfgs(const std::vector<torch::Tensor>& parameters,
                   const std::function<torch::Tensor()>& closure, const LbfgsOptions& options,
                   const std::function<bool(int, double)>& on_chunk = {});

}  // namespace aeolus::emulators
