// PINNs and Lagrangian PINNs (emulators/pinn.hpp, emulators/pinn_impl.hpp).
#include "emulators/pinn.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <utility>

#include "emulators/array_model_impl.hpp"
#include "emulators/device_impl.hpp"  // detail::ThreadScope
#include "emulators/model_archive.hpp"
#include "emulators/param_text.hpp"
#include "emulators/pinn_impl.hpp"
#include "grids/error.hpp"
#include "grids/progress.hpp"

namespace aeolus::emulators {

using torch::indexing::None;
using torch::indexing::Slice;

namespace {

constexpr const char* kFormatName = "aeolus.pinn";
// Bumped whenever the saved layout or the meaning of a saved value changes.
constexpr std::int64_t kFormatVersion = 1;
constexpr double kPi = 3.14159265358979323846;

// network.features (as pinn_params.cpp's check_pinn_params lists them).
const std::vector<std::string> kFeatures = {"none", "periodic", "fourier"};

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}
using detail::bad_value;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

torch::Dtype dtype_of(const std::string& precision) {
  return precision == "float32" ? torch::kFloat32 : torch::kFloat64;
}

torch::Tensor col(const torch::Tensor& X, std::int64_t j) {
  return X.index({Slice(), Slice(j, j + 1)});
}

// ---------------------------------------------------------------------------------------------
// The problems.

// u_t + beta u_x = nu u_xx on [0, 2 pi) x [0, t_end], u0 = sin x (nu = 0: pure convection).
class ConvectionProblem : public PinnProblem {
 public:
  explicit ConvectionProblem(const PinnPdeParams& p) : beta_(p.beta), nu_(p.nu), t_end_(p.t_end) {}
  std::array<double, 2> lower() const override { return {0.0, 0.0}; }
  std::array<double, 2> upper() const override { return {2.0 * kPi, t_end_}; }
  bool periodic() const override { return true; }
  bool dirichlet() const override { return false; }
  bool time_dependent() const override { return true; }
  bool second_order() const override { return nu_ > 0.0; }
  double nu() const override { return nu_; }
  torch::Tensor residual(const torch::Tensor& X, const torch::Tensor& u) const override {
    const torch::Tensor g = input_gradient(u, X);
    torch::Tensor r = col(g, 1) + beta_ * col(g, 0);
    if (nu_ > 0.0) r = r - nu_ * col(input_gradient(col(g, 0), X), 0);
    return r;
  }
  torch::Tensor initial(const torch::Tensor& x) const override { return torch::sin(x); }
  double reference(double x, double t) const override {
    return std::exp(-nu_ * t) * std::sin(x - beta_ * t);
  }
  bool lagrangian() const override { return true; }
  torch::Tensor speed(const torch::Tensor& u) const override { return torch::full_like(u, beta_); }
  double speed_scale() const override { return std::max(std::abs(beta_), 1.0); }

 private:
  double beta_, nu_, t_end_;
};

// u_t + u u_x = nu u_xx on [-1, 1] x [0, t_end], u(+-1, t) = 0, u0 = -sin(pi x).
class BurgersProblem : public PinnProblem {
 public:
  explicit BurgersProblem(const PinnPdeParams& p) : nu_(p.nu), t_end_(p.t_end) {}
  std::array<double, 2> lower() const override { return {-1.0, 0.0}; }
  std::array<double, 2> upper() const override { return {1.0, t_end_}; }
  bool periodic() const override { return true; }
  bool dirichlet() const override { return true; }
  bool time_dependent() const override { return true; }
  bool second_order() const override { return true; }
  double nu() const override { return nu_; }
  torch::Tensor residual(const torch::Tensor& X, const torch::Tensor& u) const override {
    const torch::Tensor g = input_gradient(u, X);
    const torch::Tensor u_x = col(g, 0);
    return col(g, 1) + u * u_x - nu_ * col(input_gradient(u_x, X), 0);
  }
  torch::Tensor initial(const torch::Tensor& x) const override { return -torch::sin(kPi * x); }
  torch::Tensor boundary_value(const torch::Tensor& X) const override {
    return torch::zeros({X.size(0), 1}, X.options().requires_grad(false));
  }
  double reference(double x, double t) const override { return burgers_cole_hopf(x, t, nu_); }
  bool lagrangian() const override { return true; }
  torch::Tensor speed(const torch::Tensor& u) const override { return u; }
  double speed_scale() const override { return 1.0; }

 private:
  double nu_, t_end_;
};

// -(u_xx + u_yy) = f on [0, 1]^2 with the data of u = sin(pi x) sin(2 pi y) + x^2 - y^2 (the
// harmonic part makes the boundary data non-zero).
class Poisson2dProblem : public PinnProblem {
 public:
  explicit Poisson2dProblem(const PinnPdeParams&) {}
  std::array<double, 2> lower() const override { return {0.0, 0.0}; }
  std::array<double, 2> upper() const override { return {1.0, 1.0}; }
  bool periodic() const override { return false; }
  bool dirichlet() const override { return true; }
  bool time_dependent() const override { return false; }
  bool second_order() const override { return true; }
  torch::Tensor residual(const torch::Tensor& X, const torch::Tensor& u) const override {
    const torch::Tensor g = input_gradient(u, X);
    const torch::Tensor u_xx = col(input_gradient(col(g, 0), X), 0);
    const torch::Tensor u_yy = col(input_gradient(col(g, 1), X), 1);
    const torch::Tensor x = col(X, 0).detach(), y = col(X, 1).detach();
    const torch::Tensor f = 5.0 * kPi * kPi * torch::sin(kPi * x) * torch::sin(2.0 * kPi * y);
    return -(u_xx + u_yy) - f;
  }
  torch::Tensor boundary_value(const torch::Tensor& X) const override {
    const torch::Tensor x = col(X, 0).detach(), y = col(X, 1).detach();
    return torch::sin(kPi * x) * torch::sin(2.0 * kPi * y) + x * x - y * y;
  }
  double reference(double x, double y) const override {
    return std::sin(kPi * x) * std::sin(2.0 * kPi * y) + x * x - y * y;
  }
};

using ProblemFactory = std::function<std::unique_ptr<PinnProblem>(const PinnPdeParams&)>;

const std::map<std::string, ProblemFactory>& problem_registry() {
  static const std::map<std::string, ProblemFactory> registry = {
      {"convection",
       [](const PinnPdeParams& p) {
         PinnPdeParams q = p;
         q.nu = 0.0;  // pure convection whatever nu says
         return std::unique_ptr<PinnProblem>(new ConvectionProblem(q));
       }},
      {"convection_diffusion",
       [](const PinnPdeParams& p) {
         return std::unique_ptr<PinnProblem>(new ConvectionProblem(p));
       }},
      {"burgers",
       [](const PinnPdeParams& p) { return std::unique_ptr<PinnProblem>(new BurgersProblem(p)); }},
      {"poisson2d",
       [](const PinnPdeParams& p) {
         return std::unique_ptr<PinnProblem>(new Poisson2dProblem(p));
       }},
  };
  return registry;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Derivatives, problems, network.

torch::Tensor input_gradient(const torch::Tensor& y, const torch::Tensor& x) {
  return torch::autograd::grad({y}, {x}, {torch::ones_like(y)}, /*retain_graph=*/true,
                               /*create_graph=*/true)[0];
}

torch::Tensor PinnProblem::initial(const torch::Tensor& x) const {
  (void)x;
  throw ModelError("PinnProblem: this PDE has no initial condition");
}
torch::Tensor PinnProblem::boundary_value(const torch::Tensor& X) const {
  (void)X;
  throw ModelError("PinnProblem: this PDE has no Dirichlet data");
}
torch::Tensor PinnProblem::speed(const torch::Tensor& u) const {
  (void)u;
  throw ModelError("PinnProblem: this PDE has no Lagrangian form");
}

std::unique_ptr<PinnProblem> make_pinn_problem(const PinnPdeParams& p) {
  const auto& registry = problem_registry();
  const auto it = registry.find(p.type);
  if (it == registry.end()) throw_unknown_choice("pde.type", p.type, pinn_problem_names());
  return it->second(p);
}

std::array<torch::Tensor, 2> lagrangian_residuals(const PinnProblem& problem,
                                                  const torch::Tensor& X0, const torch::Tensor& x_l,
                                                  const torch::Tensor& u) {
  const torch::Tensor gx = input_gradient(x_l, X0);
  const torch::Tensor gu = input_gradient(u, X0);
  torch::Tensor r_state = col(gu, 1);
  if (problem.nu() > 0.0) {
    const torch::Tensor jacobian = col(gx, 0);  // dx_L/dx0
    const torch::Tensor u_x = col(gu, 0) / jacobian;
    const torch::Tensor u_xx = col(input_gradient(u_x, X0), 0) / jacobian;
    r_state = r_state - problem.nu() * u_xx;
  }
  return {col(gx, 1) - problem.speed(u), r_state};
}

PinnNetImpl::PinnNetImpl(const PinnNetOptions& options) : options_(options) {
  const auto n = static_cast<std::size_t>(options.inputs);
  if (options.lower.size() != n || options.upper.size() != n)
    throw ModelError("PinnNet: lower/upper need " + str(n) + " values");
  const auto to = torch::TensorOptions().dtype(options.dtype);
  lower_ = torch::tensor(options.lower, torch::kFloat64).to(to);
  std::vector<double> scale(n);
  for (std::size_t i = 0; i < n; ++i) scale[i] = 2.0 / (options.upper[i] - options.lower[i]);
  scale_ = torch::tensor(scale, torch::kFloat64).to(to);

  std::int64_t in = options.inputs;
  if (options.features == "periodic") {
    in = 2 * options.periodic_modes + options.inputs - 1;
  } else if (options.features == "fourier") {
    in = 2 * options.fourier_features;
    fourier_b_ =
        register_buffer("fourier_b", torch::randn({options.fourier_features, options.inputs}, to) *
                                         options.fourier_scale);
  } else if (options.features != "none") {
    throw_unknown_choice("network.features", options.features, kFeatures);
  }
  for (int i = 0; i <= options.depth; ++i) {
    const std::int64_t out = i == options.depth ? 1 : options.width;
    auto layer =
        register_module("linear" + str(i), torch::nn::Linear(torch::nn::LinearOptions(in, out)));
    layer->to(options.dtype);
    // Glorot normal weights and zero biases, as the PINN references do (tanh keeps its
    // pre-activations of order one through the depth).
    torch::NoGradGuard no_grad;
    torch::nn::init::xavier_normal_(layer->weight);
    layer->bias.zero_();
    layers_.push_back(layer);
    in = out;
  }
}

torch::Tensor PinnNetImpl::features(const torch::Tensor& x) const {
  if (options_.features == "periodic") {
    // Coordinate 0 through its angle; 2 pi (x - lower) / L = pi * (scaled x + 1).
    const torch::Tensor theta = kPi * (col(x, 0) - options_.lower[0]) * scale_[0];
    std::vector<torch::Tensor> parts;
    for (int m = 1; m <= options_.periodic_modes; ++m) {
      parts.push_back(torch::cos(m * theta));
      parts.push_back(torch::sin(m * theta));
    }
    parts.push_back((x.index({Slice(), Slice(1, None)}) - lower_.index({Slice(1, None)})) *
                        scale_.index({Slice(1, None)}) -
                    1.0);
    return torch::cat(parts, 1);
  }
  const torch::Tensor v = (x - lower_) * scale_ - 1.0;
  if (options_.features == "fourier") {
    const torch::Tensor proj = 2.0 * kPi * torch::matmul(v, fourier_b_.t());
    return torch::cat({torch::cos(proj), torch::sin(proj)}, 1);
  }
  return v;
}

void PinnNetImpl::zero_output() {
  torch::NoGradGuard no_grad;
  layers_.back()->weight.zero_();
  layers_.back()->bias.zero_();
}

torch::Tensor PinnNetImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = features(x);
  for (std::size_t i = 0; i + 1 < layers_.size(); ++i) h = torch::tanh(layers_[i]->forward(h));
  return layers_.back()->forward(h);
}

PinnModelImpl::PinnModelImpl(const PinnParams& params, const PinnProblem& problem)
    : lagrangian_(params.formulation == "lpinn") {
  const auto lo = problem.lower(), hi = problem.upper();
  t0_ = lo[1];
  t1_ = hi[1];
  PinnNetOptions o;
  o.inputs = 2;
  o.width = params.network.width;
  o.depth = params.network.depth;
  o.features = params.network.features;
  o.lower = {lo[0], lo[1]};
  o.upper = {hi[0], hi[1]};
  o.periodic_modes = params.network.periodic_modes;
  o.fourier_features = params.network.fourier_features;
  o.fourier_scale = params.network.fourier_scale;
  o.dtype = dtype_of(params.training.precision);
  state_ = register_module("state", PinnNet(o));
  if (lagrangian_) {
    characteristic_ = register_module("characteristic", PinnNet(o));
    // Start from characteristics at rest, x_L = x0. A random start scaled by s has dx_L/dx0
    // crossing zero for s of ten or more, and u_xx divides by it (the residual starts at 1e13).
    characteristic_->zero_output();
    s_ = problem.speed_scale() * (t1_ - t0_);
  }
}

torch::Tensor PinnModelImpl::u(const torch::Tensor& X) { return state_->forward(X); }

torch::Tensor PinnModelImpl::x_l(const torch::Tensor& X0) {
  if (!lagrangian_) throw ModelError("PinnModel: x_l of a model that is not an lpinn");
  const torch::Tensor tau = (col(X0, 1) - t0_) / (t1_ - t0_);
  return col(X0, 0) + tau * s_ * characteristic_->forward(X0);
}

// ---------------------------------------------------------------------------------------------
// Collocation and the loss.

namespace {

// n values in [a, b]: random uniform, or a grid (cell-centred if `centred`, else evenly spaced
// with or without the end point).
torch::Tensor line_points(std::int64_t n, double a, double b, bool random, bool centred,
                          bool endpoint, torch::Dtype dtype) {
  const auto to = torch::TensorOptions().dtype(dtype);
  if (random) return a + (b - a) * torch::rand({n, 1}, to);
  torch::Tensor i = torch::arange(n, to).unsqueeze(1);
  if (centred) return a + (b - a) * (i + 0.5) / double(n);
  const double den = endpoint ? std::max<double>(n - 1, 1) : double(n);
  return a + (b - a) * i / den;
}

torch::Tensor pair_points(const torch::Tensor& x, const torch::Tensor& y) {
  return torch::cat({x, y}, 1).contiguous();
}

}  // namespace

PinnPoints sample_pinn_points(const PinnProblem& problem, const PinnCollocationParams& c,
                              bool lagrangian, torch::Dtype dtype) {
  const auto lo = problem.lower(), hi = problem.upper();
  const bool random = c.sampling == "random";
  PinnPoints p;
  if (random) {
    p.residual = pair_points(line_points(c.n_residual, lo[0], hi[0], true, false, false, dtype),
                             line_points(c.n_residual, lo[1], hi[1], true, false, false, dtype));
  } else {
    const auto n0 = std::max<std::int64_t>(1, std::llround(std::sqrt(double(c.n_residual))));
    const auto n1 = (c.n_residual + n0 - 1) / n0;
    const torch::Tensor x = line_points(n0, lo[0], hi[0], false, true, false, dtype);
    const torch::Tensor y = line_points(n1, lo[1], hi[1], false, true, false, dtype);
    const auto mesh = torch::meshgrid({x.squeeze(1), y.squeeze(1)}, "ij");
    p.residual = pair_points(mesh[0].reshape({-1, 1}), mesh[1].reshape({-1, 1}));
  }
  p.residual.requires_grad_(true);

  if (problem.time_dependent() && c.n_initial > 0) {
    const torch::Tensor x = line_points(c.n_initial, lo[0], hi[0], random, false,
                                        !problem.periodic() || problem.dirichlet(), dtype);
    p.initial = pair_points(x, torch::full_like(x, lo[1]));
  }

  // The Lagrangian form is periodic by construction: no boundary points.
  if (!lagrangian && c.n_boundary > 0) {
    if (!problem.dirichlet()) {
      const torch::Tensor t = line_points(c.n_boundary, lo[1], hi[1], random, true, false, dtype);
      p.boundary = pair_points(torch::full_like(t, lo[0]), t);
    } else if (problem.time_dependent()) {
      const std::int64_t half = std::max<std::int64_t>(1, c.n_boundary / 2);
      const torch::Tensor t = line_points(half, lo[1], hi[1], random, true, false, dtype);
      p.boundary = torch::cat(
          {pair_points(torch::full_like(t, lo[0]), t), pair_points(torch::full_like(t, hi[0]), t)},
          0);
    } else {
      const std::int64_t q = std::max<std::int64_t>(1, c.n_boundary / 4);
      const torch::Tensor sx = line_points(q, lo[0], hi[0], random, false, true, dtype);
      const torch::Tensor sy = line_points(q, lo[1], hi[1], random, false, true, dtype);
      p.boundary = torch::cat({pair_points(sx, torch::full_like(sx, lo[1])),
                               pair_points(sx, torch::full_like(sx, hi[1])),
                               pair_points(torch::full_like(sy, lo[0]), sy),
                               pair_points(torch::full_like(sy, hi[0]), sy)},
                              0);
    }
    p.boundary.requires_grad_(true);
  }
  return p;
}

PinnLoss pinn_loss(PinnModel& model, const PinnProblem& problem, const PinnPoints& points,
                   const PinnTrainingParams& t) {
  PinnLoss out;
  torch::Tensor residual;
  if (model->lagrangian()) {
    const torch::Tensor& X0 = points.residual;
    const auto r = lagrangian_residuals(problem, X0, model->x_l(X0), model->u(X0));
    residual = r[0].square().mean() + r[1].square().mean();
  } else {
    const torch::Tensor& X = points.residual;
    residual = problem.residual(X, model->u(X)).square().mean();
  }
  out.residual = residual.item<double>();
  torch::Tensor total = t.weight_residual * residual;

  if (points.initial.defined() && points.initial.size(0) > 0) {
    const torch::Tensor& Xi = points.initial;
    const torch::Tensor mis = (model->u(Xi) - problem.initial(col(Xi, 0))).square().mean();
    out.initial = mis.item<double>();
    total = total + t.weight_initial * mis;
  }
  if (points.boundary.defined() && points.boundary.size(0) > 0) {
    const torch::Tensor& Xb = points.boundary;
    torch::Tensor mis;
    if (!problem.dirichlet()) {
      const auto hi = problem.upper()[0];
      const torch::Tensor Xh =
          torch::cat({torch::full_like(col(Xb, 0), hi).detach(), col(Xb, 1).detach()}, 1)
              .requires_grad_(true);
      const torch::Tensor u_lo = model->u(Xb), u_hi = model->u(Xh);
      mis = (u_lo - u_hi).square().mean();
      if (problem.second_order()) {
        mis = mis +
              (col(input_gradient(u_lo, Xb), 0) - col(input_gradient(u_hi, Xh), 0)).square().mean();
      }
    } else {
      mis = (model->u(Xb) - problem.boundary_value(Xb)).square().mean();
    }
    out.boundary = mis.item<double>();
    total = total + t.weight_boundary * mis;
  }
  out.total = total;
  return out;
}

// ---------------------------------------------------------------------------------------------
// L-BFGS.

LbfgsRun run_lbfgs(const std::vector<torch::Tensor>& parameters,
                   const std::function<torch::Tensor()>& closure, const LbfgsOptions& options,
                   const std::function<bool(int, double)>& on_chunk) {
  LbfgsRun run;
  if (options.max_iterations <= 0) return run;
  torch::optim::LBFGS opt(parameters, torch::optim::LBFGSOptions(1.0)
                                          .max_iter(options.chunk)
                                          .history_size(options.history)
                                          .tolerance_grad(options.tolerance_grad)
                                          .tolerance_change(options.tolerance_change)
                                          .line_search_fn("strong_wolfe"));
  auto& group_options = static_cast<torch::optim::LBFGSOptions&>(opt.param_groups()[0].options());
  // The optimizer's own iteration count: step() stops early when a tolerance is met.
  const auto iterations_done = [&]() -> int {
    for (const auto& [key, state] : opt.state())
      return static_cast<int>(static_cast<torch::optim::LBFGSParamState&>(*state).n_iter());
    return 0;
  };
  int before = 0;  // iterations_done() when the current chunk started
  const auto counted = [&]() {
    ++run.evaluations;
    torch::Tensor loss = closure();
    const double value = loss.item<double>();
    if (!std::isfinite(value))
      throw NumericsError("L-BFGS: loss is " + str(value) + " after " + str(run.iterations) +
                          " iterations");
    if (options.on_evaluation)
      options.on_evaluation(run.iterations + std::max(0, iterations_done() - before), value);
    return loss;
  };
  while (run.iterations < options.max_iterations) {
    const int n = std::min(options.chunk, options.max_iterations - run.iterations);
    // Evaluations are bounded by the iterations, not the other way round (strong Wolfe may
    // need several per iteration).
    group_options.max_iter(n).max_eval(25 * n + 25);
    before = iterations_done();
    opt.step(counted);
    const int did = iterations_done() - before;
    run.iterations += did;
    before = iterations_done();
    run.loss = counted().item<double>();
    if (did < n) {
      run.converged = true;
      break;
    }
    if (on_chunk && !on_chunk(run.iterations, run.loss)) break;
  }
  return run;
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

namespace {

// Linear interpolation of samples (pos, val) of a function with period `period` that starts at
// `lo`, at the points `at`. Samples in any order; positions are wrapped into [lo, lo + period).
std::vector<double> periodic_interpolate(std::vector<double> pos, std::vector<double> val,
                                         double lo, double period, const std::vector<double>& at) {
  const std::size_t n = pos.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  for (double& p : pos) {
    p = lo + std::fmod(p - lo, period);
    if (p < lo) p += period;
  }
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return pos[a] < pos[b]; });
  // Sorted samples with one periodic ghost on each side.
  std::vector<double> xs, vs;
  xs.reserve(n + 2);
  vs.reserve(n + 2);
  xs.push_back(pos[order.back()] - period);
  vs.push_back(val[order.back()]);
  for (std::size_t k : order) {
    xs.push_back(pos[k]);
    vs.push_back(val[k]);
  }
  xs.push_back(pos[order.front()] + period);
  vs.push_back(val[order.front()]);
  std::vector<double> out(at.size());
  for (std::size_t i = 0; i < at.size(); ++i) {
    double x = lo + std::fmod(at[i] - lo, period);
    if (x < lo) x += period;
    auto it = std::upper_bound(xs.begin() + 1, xs.end() - 1, x);
    const std::size_t j = static_cast<std::size_t>(it - xs.begin());
    const double x0 = xs[j - 1], x1 = xs[j];
    const double w = x1 > x0 ? (x - x0) / (x1 - x0) : 0.5;
    out[i] = (1.0 - w) * vs[j - 1] + w * vs[j];
  }
  return out;
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat64).contiguous().view(-1);
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

PinnEvaluation evaluate_model(PinnModel& model, const PinnProblem& problem, const PinnParams& p,
                              const PinnEvaluationParams& e) {
  detail::ThreadScope threads(e.threads);
  torch::NoGradGuard no_grad;
  const torch::Dtype dtype = dtype_of(p.training.precision);
  const auto lo = problem.lower(), hi = problem.upper();
  const bool periodic_grid = problem.periodic() && !problem.dirichlet();
  PinnEvaluation out;
  out.pde_type = p.pde.type;
  out.formulation = p.formulation;
  out.nx = e.nx;
  out.nt = e.nt;
  out.x = to_vector(line_points(e.nx, lo[0], hi[0], false, false, !periodic_grid, torch::kFloat64));
  out.t = to_vector(line_points(e.nt, lo[1], hi[1], false, false, true, torch::kFloat64));
  const auto start = Clock::now();
  out.u_pred.resize(std::size_t(e.nx) * e.nt);
  if (!model->lagrangian()) {
    const torch::Tensor x = torch::tensor(out.x, torch::kFloat64).to(dtype);
    const torch::Tensor t = torch::tensor(out.t, torch::kFloat64).to(dtype);
    const auto mesh = torch::meshgrid({t, x}, "ij");  // [nt, nx]: time slowest
    out.u_pred =
        to_vector(model->u(pair_points(mesh[1].reshape({-1, 1}), mesh[0].reshape({-1, 1}))));
  } else {
    const double period = hi[0] - lo[0];
    const std::int64_t m = std::int64_t(e.nx) * e.lagrangian_refine;
    const torch::Tensor x0 = line_points(m, lo[0], hi[0], false, false, false, dtype);
    for (int j = 0; j < e.nt; ++j) {
      const torch::Tensor X0 = pair_points(x0, torch::full_like(x0, out.t[j]));
      const auto u = periodic_interpolate(to_vector(model->x_l(X0)), to_vector(model->u(X0)), lo[0],
                                          period, out.x);
      std::copy(u.begin(), u.end(), out.u_pred.begin() + std::ptrdiff_t(j) * e.nx);
    }
  }
  out.seconds = seconds_since(start);
  out.u_ref.resize(out.u_pred.size());
  double num = 0, den = 0;
  for (int j = 0; j < e.nt; ++j)
    for (int i = 0; i < e.nx; ++i) {
      const std::size_t k = std::size_t(j) * e.nx + i;
      out.u_ref[k] = problem.reference(out.x[i], out.t[j]);
      const double d = out.u_pred[k] - out.u_ref[k];
      num += d * d;
      den += out.u_ref[k] * out.u_ref[k];
      out.max_error = std::max(out.max_error, std::abs(d));
    }
  out.relative_l2 = std::sqrt(num / std::max(den, 1e-300));
  if (!std::isfinite(out.relative_l2))
    throw NumericsError("PINN evaluation: the prediction is not finite");
  return out;
}

void save_pinn_model(PinnModel& model, const PinnParams& p, const PinnTrainReport& r,
                     const std::string& path) {
  torch::serialize::OutputArchive archive;
  model->save(archive);
  const auto w = [&](const std::string& key, c10::IValue v) { archive.write("meta." + key, v); };
  w("format", std::string(kFormatName));
  w("version", kFormatVersion);
  w("pde.type", p.pde.type);
  w("pde.beta", p.pde.beta);
  w("pde.nu", p.pde.nu);
  w("pde.t_end", p.pde.t_end);
  w("formulation", p.formulation);
  w("network.width", std::int64_t(p.network.width));
  w("network.depth", std::int64_t(p.network.depth));
  w("network.features", p.network.features);
  w("network.periodic_modes", std::int64_t(p.network.periodic_modes));
  w("network.fourier_features", std::int64_t(p.network.fourier_features));
  w("network.fourier_scale", p.network.fourier_scale);
  w("training.precision", p.training.precision);
  w("training.seconds", r.seconds);
  w("training.final_loss", r.final_loss);
  w("training.adam_iterations", std::int64_t(r.adam_iterations));
  w("training.lbfgs_iterations", std::int64_t(r.lbfgs_iterations));
  detail::save_model_archive(archive, path);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Training.

PinnTrainReport train_pinn(const PinnParams& p, const std::string& model_path,
                           const ProgressSink& progress) {
  check_pinn_params(p);
  const auto& tr = p.training;
  detail::ThreadScope threads(tr.threads);
  torch::manual_seed(tr.seed);
  const torch::Dtype dtype = dtype_of(tr.precision);
  const auto problem = make_pinn_problem(p.pde);
  PinnModel model(p, *problem);
  const bool lagrangian = model->lagrangian();

  PinnTrainReport report;
  report.threads = tr.threads;
  for (const auto& q : model->parameters()) report.parameters += q.numel();

  std::ofstream csv(model_path + ".csv");
  if (!csv) throw IoError("cannot write " + model_path + ".csv");
  csv << "phase,iteration,loss,residual,initial,boundary,seconds\n";
  const auto start = Clock::now();
  const auto log = [&](const char* phase, int it, const PinnLoss& l) {
    csv << phase << ',' << it << ',' << l.total.item<double>() << ',' << l.residual << ','
        << l.initial << ',' << l.boundary << ',' << seconds_since(start) << '\n';
  };
  const auto out_of_time = [&]() {
    return tr.max_seconds > 0.0 && seconds_since(start) >= tr.max_seconds;
  };
  const auto progress_loss = [](const PinnLoss& l) {
    return "loss " + format_sci(l.total.item<double>()) + " (residual " + format_sci(l.residual) +
           ", initial " + format_sci(l.initial) + ")";
  };
  const auto check_finite = [&](const PinnLoss& l, const char* phase, int it) {
    const double v = l.total.item<double>();
    if (!std::isfinite(v))
      throw NumericsError(std::string("PINN training: loss is ") + str(v) + " at " + phase +
                          " iteration " + str(it));
  };

  PinnPoints points = sample_pinn_points(*problem, p.collocation, lagrangian, dtype);
  {
    const PinnLoss l0 = pinn_loss(model, *problem, points, tr);
    report.initial_loss = l0.total.item<double>();
    log("start", 0, l0);
  }

  const bool resample = p.collocation.sampling == "random" && p.collocation.resample_every > 0;
  if (tr.adam_iterations > 0) {
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(tr.learning_rate));
    ProgressMeter meter(progress, "adam", tr.adam_iterations);
    for (int it = 1; it <= tr.adam_iterations; ++it) {
      if (resample && it > 1 && (it - 1) % p.collocation.resample_every == 0)
        points = sample_pinn_points(*problem, p.collocation, lagrangian, dtype);
      adam.zero_grad();
      const PinnLoss l = pinn_loss(model, *problem, points, tr);
      check_finite(l, "adam", it);
      l.total.backward();
      adam.step();
      report.adam_iterations = it;
      if (it % tr.log_every == 0 || it == tr.adam_iterations) log("adam", it, l);
      if (meter.due(it)) meter.emit(it, progress_loss(l));
      if (out_of_time()) break;
    }
  }
  report.adam_seconds = seconds_since(start);

  if (tr.lbfgs_iterations > 0 && !out_of_time()) {
    LbfgsOptions lo;
    lo.max_iterations = tr.lbfgs_iterations;
    lo.history = tr.lbfgs_history;
    lo.chunk = tr.log_every;
    ProgressMeter meter(progress, "lbfgs", tr.lbfgs_iterations);
    if (meter.active()) {
      lo.on_evaluation = [&](int it, double loss) {
        if (meter.due(it)) meter.emit(it, "loss " + format_sci(loss));
      };
    }
    if (tr.precision == "float32") {
      lo.tolerance_grad = 1e-9;
      lo.tolerance_change = 1e-12;
    }
    const auto closure = [&]() {
      model->zero_grad();
      const PinnLoss l = pinn_loss(model, *problem, points, tr);
      l.total.backward();
      return l.total;
    };
    const auto run = run_lbfgs(model->parameters(), closure, lo, [&](int it, double) {
      const PinnLoss l = pinn_loss(model, *problem, points, tr);
      log("lbfgs", it, l);
      if (meter.due(it)) meter.emit(it, progress_loss(l));
      return !out_of_time();
    });
    if (run.converged) meter.emit(run.iterations, "converged, loss " + format_sci(run.loss));
    report.lbfgs_iterations = run.iterations;
    report.lbfgs_evaluations = run.evaluations;
  }
  report.seconds = seconds_since(start);
  report.lbfgs_seconds = report.seconds - report.adam_seconds;

  const PinnLoss final_loss = pinn_loss(model, *problem, points, tr);
  check_finite(final_loss, "final", report.lbfgs_iterations);
  report.final_loss = final_loss.total.item<double>();
  report.final_residual = final_loss.residual;
  report.final_initial = final_loss.initial;
  report.final_boundary = final_loss.boundary;
  log("final", report.adam_iterations + report.lbfgs_iterations, final_loss);
  csv.close();

  save_pinn_model(model, p, report, model_path);
  report.relative_l2 = evaluate_model(model, *problem, p, p.evaluation).relative_l2;
  return report;
}

namespace {

// A saved model with its parameters and problem, in eval mode.
struct LoadedPinn {
  PinnParams params;
  std::unique_ptr<PinnProblem> problem;
  PinnModel model{nullptr};
};

LoadedPinn load_pinn(const std::string& model_path) {
  detail::ModelArchive file(model_path, kFormatName, "Aeolus PINN model");
  const std::int64_t version = file.read("meta.version").toInt();
  if (version != kFormatVersion)
    throw ModelError("model " + model_path + " has PINN format version " + str(version) +
                     "; this build reads version " + str(kFormatVersion));
  LoadedPinn m;
  PinnParams& p = m.params;
  try {
    p.pde.type = file.read("meta.pde.type").toStringRef();
    p.pde.beta = file.read("meta.pde.beta").toDouble();
    p.pde.nu = file.read("meta.pde.nu").toDouble();
    p.pde.t_end = file.read("meta.pde.t_end").toDouble();
    p.formulation = file.read("meta.formulation").toStringRef();
    p.network.width = int(file.read("meta.network.width").toInt());
    p.network.depth = int(file.read("meta.network.depth").toInt());
    p.network.features = file.read("meta.network.features").toStringRef();
    p.network.periodic_modes = int(file.read("meta.network.periodic_modes").toInt());
    p.network.fourier_features = int(file.read("meta.network.fourier_features").toInt());
    p.network.fourier_scale = file.read("meta.network.fourier_scale").toDouble();
    p.training.precision = file.read("meta.training.precision").toStringRef();
  } catch (const c10::Error& err) {
    throw ModelError("model " + model_path +
                     " has malformed PINN metadata: " + err.what_without_backtrace());
  }
  try {
    check_pinn_params(p);
  } catch (const ConfigError& err) {
    throw ModelError("model " + model_path + ": " + err.what());
  }
  m.problem = make_pinn_problem(p.pde);
  m.model = PinnModel(p, *m.problem);
  try {
    m.model->load(file.archive());
  } catch (const c10::Error& err) {
    throw ModelError("model " + model_path +
                     " does not match its PINN metadata: " + err.what_without_backtrace());
  }
  m.model->eval();
  return m;
}

// The C API's view of a PINN archive (emulators/array_model.hpp): the network's own function
// on raw coordinates. pinn: [N, 2] (x, t) (poisson2d: (x, y)) -> [N, 1] u. lpinn: [N, 2]
// (x0, t) -> [N, 2] (x_L(x0, t), u(x0, t)), the characteristic's position and the state
// along it (the Eulerian u needs the interpolation evaluate_pinn does).
class PinnArrayModel : public ArchiveArrayModel {
 public:
  PinnArrayModel(const std::string& path, LoadedPinn m)
      : ArchiveArrayModel(
            path, "Aeolus PINN archive (" + std::string(kFormatName) + ")", contract_of(m.params),
            m.params.training.precision == "float32" ? DType::float32 : DType::float64),
        m_(std::move(m)) {}

  static std::string contract_of(const PinnParams& p) {
    if (p.formulation == "lpinn") return "[N, 2] (x0, t) -> [N, 2] (x_L, u)";
    if (p.pde.type == "poisson2d") return "[N, 2] (x, y) -> [N, 1] u";
    return "[N, 2] (x, t) -> [N, 1] u";
  }

 protected:
  std::vector<std::int64_t> shape_for(const std::vector<std::int64_t>& s) const override {
    if (s.size() != 2 || s[1] != 2) refuse(s);
    return {s[0], m_.model->lagrangian() ? 2 : 1};
  }
  torch::Tensor compute(const torch::Tensor& x) const override {
    PinnModel& model = const_cast<PinnModel&>(m_.model);  // forward is const in meaning
    if (!model->lagrangian()) return model->u(x);
    return torch::cat({model->x_l(x), model->u(x)}, 1);
  }

 private:
  LoadedPinn m_;
};

std::unique_ptr<ArrayModel> load_pinn_array_model(const std::string& path) {
  return std::make_unique<PinnArrayModel>(path, load_pinn(path));
}

[[maybe_unused]] const bool kArrayModelRegistered =
    register_archive_model(kFormatName, &load_pinn_array_model);

}  // namespace

PinnEvaluation evaluate_pinn(const std::string& model_path, const PinnEvaluationParams& e) {
  LoadedPinn m = load_pinn(model_path);
  m.params.evaluation = e;
  try {
    check_pinn_params(m.params);
  } catch (const ConfigError& err) {
    throw ModelError("model " + model_path + ": " + err.what());
  }
  return evaluate_model(m.model, *m.problem, m.params, e);
}

// ---------------------------------------------------------------------------------------------
// Burgers by Cole-Hopf.

// With s = 2 sqrt(nu t) z the heat kernel becomes exp(-z^2), and both integrals are over z of
// exp(E(z)) times 1 or -sin(pi y), E = -cos(pi y) / (2 pi nu) - z^2, y = x - s. The exponent
// spans about 1 / (pi nu) (e^100 at nu = 0.01 / pi), which a fixed Gauss-Hermite rule resolves
// only with many nodes; the trapezoid rule on the whole line, after subtracting max E, is
// spectrally accurate for this smooth, rapidly decaying integrand, and the step is chosen from
// the width of the narrowest peak of exp(E).
double burgers_cole_hopf(double x, double t, double nu) {
  if (t <= 0.0) return -std::sin(kPi * x);
  const double a = 2.0 * std::sqrt(nu * t);
  const double k = 1.0 / (2.0 * kPi * nu);
  // exp(E) is below e^-40 of its peak beyond z^2 = 2k + 40; the peaks are at least
  // 1 / sqrt(2 (1 + k pi^2 a^2)) wide.
  const double z_max = std::sqrt(2.0 * k + 40.0);
  const double width = 1.0 / std::sqrt(2.0 * (1.0 + k * kPi * kPi * a * a));
  const int n = static_cast<int>(std::ceil(2.0 * z_max / (width / 16.0)));
  const double h = 2.0 * z_max / n;
  std::vector<double> e(n + 1), s(n + 1);
  double e_max = -std::numeric_limits<double>::infinity();
  for (int i = 0; i <= n; ++i) {
    const double z = -z_max + i * h;
    const double y = kPi * (x - a * z);
    e[i] = -k * std::cos(y) - z * z;
    s[i] = std::sin(y);
    e_max = std::max(e_max, e[i]);
  }
  double num = 0, den = 0;
  for (int i = 0; i <= n; ++i) {
    const double w = std::exp(e[i] - e_max);
    num += w * s[i];
    den += w;
  }
  return -num / den;
}

}  // namespace aeolus::emulators
