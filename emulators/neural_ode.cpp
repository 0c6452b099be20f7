// Neural ODEs: odeint with backprop and adjoint gradients, the ERNODE/SRNODE regularisers
// (emulators/neural_ode_impl.hpp) and the spiral ODE case (emulators/neural_ode.hpp).
#include "emulators/neural_ode.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include "emulators/array_model_impl.hpp"
#include "emulators/device_impl.hpp"  // detail::ThreadScope
#include "emulators/model_archive.hpp"
#include "emulators/neural_ode_impl.hpp"
#include "emulators/param_text.hpp"
#include "grids/error.hpp"
#include "grids/random.hpp"
#include "physics/spiral_ode.hpp"
#include "solvers/ode_stepper.hpp"

namespace aeolus::emulators {

using torch::indexing::Slice;

// ---------------------------------------------------------------------------------------------
// Mlp.

namespace {

torch::Tensor activate(const std::string& name, const torch::Tensor& x) {
  if (name == "tanh") return torch::tanh(x);
  if (name == "relu") return torch::relu(x);
  if (name == "softplus") return torch::softplus(x);
  return torch::silu(x);
}

}  // namespace

MlpImpl::MlpImpl(const MlpOptions& options) : options_(options) {
  check_activation_name(options.activation, "activation");
  if (options.widths.size() < 2)
    throw ConfigError("Mlp: widths needs at least an input and an output width, got " +
                      std::to_string(options.widths.size()));
  for (std::size_t i = 0; i + 1 < options.widths.size(); ++i) {
    auto layer = register_module(
        "linear" + std::to_string(i),
        torch::nn::Linear(torch::nn::LinearOptions(options.widths[i], options.widths[i + 1])));
    if (options.init_std > 0.0) {
      torch::NoGradGuard no_grad;
      layer->weight.normal_(0.0, options.init_std);
      layer->bias.zero_();
    }
    layers_.push_back(layer);
  }
  to(options.dtype);
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 < layers_.size()) h = activate(options_.activation, h);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// Regularisers.

namespace {

// sqrt with a floor under its argument: sqrt'(0) is infinite, and a step with a zero error
// estimate (a linear right-hand side, say) would otherwise poison the gradient with NaN.
torch::Tensor safe_sqrt(const torch::Tensor& x) { return torch::sqrt(x.clamp_min(1e-30)); }

}  // namespace

torch::Tensor hairer_norm(const torch::Tensor& err, const torch::Tensor& y0,
                          const torch::Tensor& y1, double atol, double rtol) {
  const torch::Tensor sk = atol + rtol * torch::max(y0.abs(), y1.abs());
  return safe_sqrt((err / sk).pow(2).mean());
}

torch::Tensor ernode_term(const AcceptedStep<torch::Tensor>& s, double atol, double rtol) {
  return std::abs(s.h) * hairer_norm(s.err, s.y0, s.y1, atol, rtol);
}

double stability_boundary(RkMethod method) {
  switch (method) {
    case RkMethod::bs3:
      return 2.5;
    case RkMethod::dopri5:
      return 3.25;
    case RkMethod::tsit5:
      return 3.5;
    case RkMethod::dop853:
      return 6.1;
  }
  return 3.25;
}

torch::Tensor srnode_term(const AcceptedStep<torch::Tensor>& s, RkMethod method) {
  if (!s.k_last || !s.k_prev || !s.y_prev_stage)
    throw NumericsError("srnode_term: the step hook did not pass the stage states");
  const torch::Tensor den = safe_sqrt((s.y1 - *s.y_prev_stage).pow(2).mean());
  // The solver's own estimate is 0 where y1 == Y_{s-1}; so is this term then.
  if (den.item<double>() <= 1e-15) return torch::zeros({}, s.y1.options());
  const torch::Tensor num = safe_sqrt((*s.k_last - *s.k_prev).pow(2).mean());
  return (std::abs(s.h) / stability_boundary(method)) * num / den;
}

double regulariser_weight(double lambda0, double decay, long iteration) {
  return lambda0 * std::pow(decay, static_cast<double>(iteration));
}

// ---------------------------------------------------------------------------------------------
// odeint: backprop.

namespace {

OdeintResult odeint_backprop(const OdeFunction& f, const torch::Tensor& y0,
                             const std::vector<double>& t_out, const AdaptiveParams& params,
                             const OdeintOptions& options) {
  OdeintResult r;
  r.backward_stats = std::make_shared<OdeStats>();
  const auto zero = torch::zeros({}, y0.options());
  r.error_reg = zero;
  r.stiffness_reg = zero;
  StepHook<torch::Tensor> hook;
  if (options.error_reg || options.stiffness_reg) {
    hook = [&](const AcceptedStep<torch::Tensor>& s) {
      if (options.error_reg) r.error_reg = r.error_reg + ernode_term(s, params.atol, params.rtol);
      if (options.stiffness_reg) r.stiffness_reg = r.stiffness_reg + srnode_term(s, params.method);
    };
  }
  auto sol = solve_adaptive(f, t_out, y0, params, hook);
  r.stats = sol.stats;
  r.y = torch::stack(sol.y);
  return r;
}

// ---------------------------------------------------------------------------------------------
// odeint: adjoint.

// What backward() needs besides saved tensors; lives in the autograd context as a capsule.
struct AdjointProblem : torch::CustomClassHolder {
  OdeFunction f;
  std::vector<double> t_out;
  AdaptiveParams forward_params, backward_params;
  bool seminorm = false;
  std::vector<torch::Tensor> theta;  // the parameters, as passed to apply()
  OdeStats forward_stats;
  std::shared_ptr<OdeStats> backward_stats;
};

torch::Tensor flat_or_zeros(const torch::Tensor& g, const torch::Tensor& like) {
  return g.defined() ? g.reshape({-1}) : torch::zeros({like.numel()}, like.options());
}

void add_stats(OdeStats& into, const OdeStats& s) {
  into.nfev += s.nfev;
  into.steps += s.steps;
  into.accepted += s.accepted;
  into.rejected += s.rejected;
}

// The augmented system of the adjoint method on the flat state z = [y, a, a_theta]:
//   y' = f(t, y),  a' = -a^T df/dy,  a_theta' = -a^T df/dtheta,
// integrated backwards in time; one f call and one vector-Jacobian product per evaluation.
class AugmentedRhs {
 public:
  AugmentedRhs(const AdjointProblem& prob, std::vector<std::int64_t> y_shape)
      : prob_(prob), y_shape_(std::move(y_shape)) {
    ny_ = 1;
    for (auto d : y_shape_) ny_ *= d;
  }
  torch::Tensor operator()(double t, const torch::Tensor& z) const {
    const torch::Tensor y = z.narrow(0, 0, ny_).view(y_shape_).detach().requires_grad_(true);
    const torch::Tensor a = z.narrow(0, ny_, ny_).view(y_shape_);
    torch::Tensor fy;
    std::vector<torch::Tensor> inputs{y}, grads;
    {
      torch::AutoGradMode enable(true);
      fy = prob_.f(t, y);
      for (const auto& p : prob_.theta)
        if (p.requires_grad()) inputs.push_back(p);
      if (fy.requires_grad())
        grads = torch::autograd::grad({fy}, inputs, {a}, /*retain_graph=*/false,
                                      /*create_graph=*/false, /*allow_unused=*/true);
    }
    std::vector<torch::Tensor> parts;
    parts.reserve(2 + prob_.theta.size());
    parts.push_back(fy.detach().reshape({-1}));
    parts.push_back(grads.empty() ? torch::zeros({ny_}, z.options()) : -flat_or_zeros(grads[0], y));
    std::size_t j = 1;
    for (const auto& p : prob_.theta) {
      if (p.requires_grad() && !grads.empty())
        parts.push_back(-flat_or_zeros(grads[j++], p));
      else
        parts.push_back(torch::zeros({p.numel()}, z.options()));
    }
    return torch::cat(parts);
  }

 private:
  const AdjointProblem& prob_;
  std::vector<std::int64_t> y_shape_;
  std::int64_t ny_ = 0;
};

struct OdeAdjointFunction : public torch::autograd::Function<OdeAdjointFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               c10::intrusive_ptr<AdjointProblem> prob, torch::Tensor y0,
                               torch::TensorList theta) {
    (void)theta;  // an input only so that autograd routes the parameters' gradients here
    auto sol = solve_adaptive(prob->f, prob->t_out, y0.detach(), prob->forward_params);
    prob->forward_stats = sol.stats;
    torch::Tensor ys = torch::stack(sol.y);
    ctx->saved_data["problem"] = c10::IValue::make_capsule(prob);
    ctx->save_for_backward({ys});
    return ys;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    using Ops = StateOps<torch::Tensor>;
    torch::NoGradGuard no_grad;
    const auto prob =
        c10::static_intrusive_pointer_cast<AdjointProblem>(ctx->saved_data["problem"].toCapsule());
    const torch::Tensor ys = ctx->get_saved_variables()[0];
    torch::Tensor g = grad_outputs[0];
    if (!g.defined()) g = torch::zeros_like(ys);
    const std::vector<std::int64_t> y_shape(ys.sizes().begin() + 1, ys.sizes().end());
    const std::int64_t ny = ys[0].numel();
    const AugmentedRhs rhs(*prob, y_shape);
    ErrorNorm<torch::Tensor> norm;
    if (prob->seminorm) {
      // Kidger, Chen & Lyons (2021): a_theta is an integral the solution never feeds back
      // into, so its error need not limit the step.
      norm = [ny](const torch::Tensor& e, const torch::Tensor& y0, const torch::Tensor& y1,
                  double atol, double rtol) {
        return Ops::error_norm(e.narrow(0, 0, 2 * ny), y0.narrow(0, 0, 2 * ny),
                               y1.narrow(0, 0, 2 * ny), atol, rtol);
      };
    }
    std::int64_t ntheta = 0;
    for (const auto& p : prob->theta) ntheta += p.numel();

    const auto& t = prob->t_out;
    const std::size_t nt = t.size();
    torch::Tensor a = g[nt - 1].reshape({-1});
    torch::Tensor a_theta = torch::zeros({ntheta}, ys.options());
    for (std::size_t i = nt - 1; i > 0; --i) {
      if (t[i] != t[i - 1]) {
        const torch::Tensor z0 = torch::cat({ys[i].reshape({-1}), a, a_theta});
        auto sol = solve_adaptive(rhs, {t[i], t[i - 1]}, z0, prob->backward_params, {}, norm);
        add_stats(*prob->backward_stats, sol.stats);
        const torch::Tensor& z1 = sol.y.back();
        a = z1.narrow(0, ny, ny);
        a_theta = z1.narrow(0, 2 * ny, ntheta);
      }
      // The backward solve's own y(t_{i-1}) drifts from the forward one by the tolerance;
      // restarting each interval from the forward state (as torchdiffeq) keeps the two
      // integrations consistent.
      a = a + g[i - 1].reshape({-1});
    }
    torch::autograd::variable_list out;
    out.reserve(2 + prob->theta.size());
    out.emplace_back();  // the problem capsule
    out.push_back(a.view(y_shape));
    std::int64_t off = 0;
    for (const auto& p : prob->theta) {
      out.push_back(a_theta.narrow(0, off, p.numel()).view(p.sizes()));
      off += p.numel();
    }
    return out;
  }
};

OdeintResult odeint_adjoint(const OdeFunction& f, const torch::Tensor& y0,
                            const std::vector<double>& t_out, const AdaptiveParams& params,
                            const OdeintOptions& options) {
  if (options.error_reg || options.stiffness_reg)
    throw ConfigError(
        "odeint: the ERNODE/SRNODE regularisers need gradient = backprop (the adjoint's forward "
        "solve keeps no graph to differentiate them through)");
  auto prob = c10::make_intrusive<AdjointProblem>();
  prob->f = f;
  prob->t_out = t_out;
  prob->forward_params = params;
  prob->backward_params = params;
  if (options.adjoint_rtol > 0.0) prob->backward_params.rtol = options.adjoint_rtol;
  if (options.adjoint_atol > 0.0) prob->backward_params.atol = options.adjoint_atol;
  // The backward solve starts afresh on each interval: the forward solve's first step means
  // nothing there.
  prob->backward_params.h0 = params.adaptive ? 0.0 : params.h0;
  prob->seminorm = options.adjoint_seminorm;
  prob->theta = options.adjoint_params;
  prob->backward_stats = std::make_shared<OdeStats>();

  OdeintResult r;
  r.backward_stats = prob->backward_stats;
  r.y = OdeAdjointFunction::apply(prob, y0, torch::TensorList(options.adjoint_params));
  r.stats = prob->forward_stats;
  r.error_reg = torch::zeros({}, y0.options());
  r.stiffness_reg = r.error_reg;
  return r;
}

}  // namespace

OdeintResult odeint(const OdeFunction& f, const torch::Tensor& y0, const std::vector<double>& t_out,
                    const AdaptiveParams& params, const OdeintOptions& options) {
  return options.gradient == OdeGradient::backprop ? odeint_backprop(f, y0, t_out, params, options)
                                                   : odeint_adjoint(f, y0, t_out, params, options);
}

// ---------------------------------------------------------------------------------------------
// The spiral ODE case.

namespace {

constexpr const char* kFormatName = "aeolus.neural_ode_spiral";
// Bumped whenever the saved layout or the meaning of a saved value changes.
constexpr std::int64_t kFormatVersion = 1;

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}
using detail::bad_value;

std::vector<double> spiral_truth(const std::array<double, 2>& y0, const std::vector<double>& t,
                                 double rtol, double atol) {
  const auto rhs = [](double, const std::vector<double>& y) {
    std::vector<double> dydt(2);
    physics::spiral_rhs(y.data(), dydt.data());
    return dydt;
  };
  AdaptiveParams p;
  p.rtol = rtol;
  p.atol = atol;
  const auto sol = solve_adaptive(rhs, t, std::vector<double>{y0[0], y0[1]}, p);
  std::vector<double> out;
  out.reserve(2 * t.size());
  for (const auto& y : sol.y) out.insert(out.end(), y.begin(), y.end());
  return out;
}

AdaptiveParams solver_params(const NeuralOdeModelParams& m) {
  AdaptiveParams p;
  p.method = rk_method_from_name(m.method, "model.method");
  p.rtol = m.rtol;
  p.atol = m.atol;
  // A network that has drifted into stiff dynamics should fail fast, not crawl.
  p.max_steps = 20000;
  return p;
}

Mlp make_spiral_net(const NeuralOdeModelParams& m, double init_std) {
  MlpOptions o;
  o.widths = {2};
  for (int w : m.hidden) o.widths.push_back(w);
  o.widths.push_back(2);
  o.activation = m.activation;
  o.dtype = torch::kFloat64;
  o.init_std = init_std;
  return Mlp(o);
}

OdeFunction spiral_function(Mlp net, bool cube_input) {
  return [net, cube_input](double, const torch::Tensor& y) mutable {
    return net->forward(cube_input ? y.pow(3) : y);
  };
}

torch::Tensor as_tensor(const std::vector<double>& v, std::int64_t rows) {
  return torch::from_blob(const_cast<double*>(v.data()), {rows, 2}, torch::kFloat64).clone();
}

void save_spiral_model(const std::string& path, Mlp& net, const NeuralOdeModelParams& m,
                       const NeuralOdeTrainingParams& tr, const SpiralOdeData& data,
                       double final_loss) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  archive.write("meta.format", c10::IValue(std::string(kFormatName)));
  archive.write("meta.version", c10::IValue(kFormatVersion));
  archive.write("meta.hidden",
                c10::IValue(std::vector<std::int64_t>(m.hidden.begin(), m.hidden.end())));
  archive.write("meta.activation", c10::IValue(m.activation));
  archive.write("meta.cube_input", c10::IValue(m.cube_input));
  archive.write("meta.method", c10::IValue(m.method));
  archive.write("meta.rtol", c10::IValue(m.rtol));
  archive.write("meta.atol", c10::IValue(m.atol));
  archive.write("meta.y0", c10::IValue(std::vector<double>(data.y0.begin(), data.y0.end())));
  archive.write("meta.t_end", c10::IValue(data.t.back()));
  archive.write("meta.points", c10::IValue(std::int64_t(data.t.size())));
  archive.write("meta.iterations", c10::IValue(std::int64_t(tr.iterations)));
  archive.write("meta.gradient", c10::IValue(tr.gradient));
  archive.write("meta.regulariser", c10::IValue(tr.regulariser));
  archive.write("meta.lambda0", c10::IValue(tr.lambda0));
  archive.write("meta.lambda_decay", c10::IValue(tr.lambda_decay));
  archive.write("meta.final_loss", c10::IValue(final_loss));
  detail::save_model_archive(archive, path);
}

struct LoadedSpiralModel {
  Mlp net{nullptr};
  NeuralOdeModelParams params;
};

LoadedSpiralModel load_spiral_model(const std::string& path) {
  detail::ModelArchive file(path, kFormatName, "Aeolus neural ODE (spiral) model");
  file.check_version(kFormatVersion);
  LoadedSpiralModel m;
  file.parse_metadata([&] {
    const auto hidden = file.read("meta.hidden").toIntVector();
    m.params.hidden.assign(hidden.begin(), hidden.end());
    m.params.activation = file.read("meta.activation").toStringRef();
    m.params.cube_input = file.read("meta.cube_input").toBool();
    m.params.method = file.read("meta.method").toStringRef();
    m.params.rtol = file.read("meta.rtol").toDouble();
    m.params.atol = file.read("meta.atol").toDouble();
    m.net = make_spiral_net(m.params, 0.0);
  });
  file.load_weights(*m.net);
  return m;
}

// The C API's view of a spiral neural ODE archive (emulators/array_model.hpp): the learned
// vector field, [N, 2] states y -> [N, 2] dy/dt = net(y^3) (net(y) without cube_input), in
// float64 as trained.
class SpiralOdeArrayModel : public ArchiveArrayModel {
 public:
  SpiralOdeArrayModel(const std::string& path, LoadedSpiralModel m)
      : ArchiveArrayModel(path,
                          "Aeolus neural ODE (spiral) archive (" + std::string(kFormatName) + ")",
                          m.params.cube_input ? "[N, 2] y -> [N, 2] dy/dt = net(y^3)"
                                              : "[N, 2] y -> [N, 2] dy/dt = net(y)",
                          DType::float64),
        f_(spiral_function(m.net, m.params.cube_input)) {}

 protected:
  std::vector<std::int64_t> shape_for(const std::vector<std::int64_t>& s) const override {
    if (s.size() != 2 || s[1] != 2) refuse(s);
    return s;
  }
  torch::Tensor compute(const torch::Tensor& x) const override { return f_(0.0, x); }

 private:
  OdeFunction f_;
};

std::unique_ptr<ArrayModel> load_spiral_ode_array_model(const std::string& path) {
  return std::make_unique<SpiralOdeArrayModel>(path, load_spiral_model(path));
}

[[maybe_unused]] const bool kArrayModelRegistered =
    register_archive_model(kFormatName, &load_spiral_ode_array_model);

}  // namespace

SpiralOdeData make_spiral_ode_data(const SpiralOdeParams& p) {
  check_spiral_ode_params(p);
  SpiralOdeData d;
  d.y0 = p.y0;
  d.y0_test = p.y0_test;
  d.t.resize(p.points);
  for (int i = 0; i < p.points; ++i) d.t[i] = p.t_end * i / (p.points - 1);
  d.y_clean = spiral_truth(p.y0, d.t, p.rtol, p.atol);
  d.y_test = spiral_truth(p.y0_test, d.t, p.rtol, p.atol);
  d.y = d.y_clean;
  if (p.noise > 0.0) {
    NormalStream normal(p.seed);
    for (double& v : d.y) v += p.noise * normal.next();
  }
  return d;
}

NeuralOdeTrainReport train_spiral_ode(const SpiralOdeData& data, const NeuralOdeModelParams& model,
                                      const NeuralOdeTrainingParams& tr,
                                      const std::string& model_path, const ProgressSink& progress) {
  SpiralOdeParams shape;
  shape.points = static_cast<int>(data.t.size());
  check_neural_ode_params(model, tr, shape);
  if (data.y.size() != 2 * data.t.size())
    throw ConfigError("train_spiral_ode: data.y has " + str(data.y.size()) +
                      " values; expected 2 per time (" + str(2 * data.t.size()) + ")");
  detail::ThreadScope threads(tr.threads);
  torch::manual_seed(tr.seed);
  const auto n = static_cast<std::int64_t>(data.t.size());
  const torch::Tensor ty = as_tensor(data.y, n);

  Mlp net = make_spiral_net(model, 0.1);
  const OdeFunction f = spiral_function(net, model.cube_input);
  const AdaptiveParams solver = solver_params(model);
  const OdeRegulariser reg = ode_regulariser_from_name(tr.regulariser, "training.regulariser");
  OdeintOptions oo;
  oo.gradient = ode_gradient_from_name(tr.gradient, "training.gradient");
  oo.adjoint_params = net->parameters();
  oo.adjoint_seminorm = tr.adjoint_seminorm;
  oo.error_reg = reg == OdeRegulariser::ernode;
  oo.stiffness_reg = reg == OdeRegulariser::srnode;

  std::unique_ptr<torch::optim::Optimizer> opt;
  if (tr.optimizer == "adam")
    opt = std::make_unique<torch::optim::Adam>(net->parameters(),
                                               torch::optim::AdamOptions(tr.learning_rate));
  else
    opt = std::make_unique<torch::optim::RMSprop>(net->parameters(),
                                                  torch::optim::RMSpropOptions(tr.learning_rate));

  // Windows all start at t = 0: the dynamics are autonomous, so only the spacing matters.
  const std::vector<double> batch_t(data.t.begin(), data.t.begin() + tr.batch_time);
  std::vector<std::int64_t> starts(n - tr.batch_time);
  std::iota(starts.begin(), starts.end(), 0);
  std::mt19937_64 rng(tr.seed);
  const torch::Tensor offsets = torch::arange(tr.batch_time, torch::kInt64).view({-1, 1});

  std::ofstream csv(model_path + ".csv");
  if (!csv) throw IoError("cannot write " + model_path + ".csv");
  csv << "iteration,loss,reg,lambda,nfe,nfe_backward,seconds\n";

  NeuralOdeTrainReport rep;
  rep.parameters = 0;
  for (const auto& p : net->parameters()) rep.parameters += p.numel();
  const int tail = std::min(50, tr.iterations);
  double tail_loss = 0, tail_reg = 0, nfe_sum = 0, bnfe_sum = 0;
  const auto start = std::chrono::steady_clock::now();
  ProgressMeter meter(progress, "iteration", tr.iterations);
  for (int k = 0; k < tr.iterations; ++k) {
    // Distinct starts, by a partial Fisher-Yates shuffle (reproducible from the seed).
    for (int i = 0; i < tr.batch_size; ++i) {
      const auto j = i + static_cast<std::int64_t>(uniform01(rng) * double(starts.size() - i));
      std::swap(starts[i], starts[j]);
    }
    const torch::Tensor idx = torch::tensor(
        std::vector<std::int64_t>(starts.begin(), starts.begin() + tr.batch_size), torch::kInt64);
    const torch::Tensor batch_y = ty.index({idx.view({1, -1}) + offsets});  // [T, M, 2]
    const torch::Tensor batch_y0 = batch_y[0];

    opt->zero_grad();
    const OdeintResult r = odeint(f, batch_y0, batch_t, solver, oo);
    const torch::Tensor data_loss = (r.y - batch_y).abs().mean();
    const double lambda =
        reg == OdeRegulariser::none ? 0.0 : regulariser_weight(tr.lambda0, tr.lambda_decay, k);
    const torch::Tensor reg_value = reg == OdeRegulariser::ernode   ? r.error_reg
                                    : reg == OdeRegulariser::srnode ? r.stiffness_reg
                                                                    : torch::zeros({});
    torch::Tensor loss = data_loss;
    if (lambda > 0.0) loss = loss + lambda * reg_value;
    loss.backward();
    opt->step();

    const double lv = data_loss.item<double>(), rv = reg_value.item<double>();
    if (!std::isfinite(lv))
      throw NumericsError("train_spiral_ode: the loss is not finite at iteration " + str(k));
    if (k == 0) rep.initial_loss = lv;
    if (k >= tr.iterations - tail) {
      tail_loss += lv;
      tail_reg += rv;
    }
    nfe_sum += double(r.stats.nfev);
    bnfe_sum += double(r.backward_stats->nfev);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (k % tr.log_every == 0 || k + 1 == tr.iterations) {
      csv << k << ',' << lv << ',' << rv << ',' << lambda << ',' << r.stats.nfev << ','
          << r.backward_stats->nfev << ',' << seconds << '\n';
      csv.flush();
    }
    if (meter.due(k + 1)) {
      meter.emit(k + 1,
                 "loss " + format_sci(lv) +
                     (reg == OdeRegulariser::none ? std::string() : ", reg " + format_sci(rv)) +
                     ", NFE " + str(r.stats.nfev));
    }
  }
  rep.iterations = tr.iterations;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rep.seconds_per_iteration = rep.seconds / tr.iterations;
  rep.final_loss = tail_loss / tail;
  rep.final_reg = tail_reg / tail;
  rep.mean_nfe = nfe_sum / tr.iterations;
  rep.mean_backward_nfe = bnfe_sum / tr.iterations;
  save_spiral_model(model_path, net, model, tr, data, rep.final_loss);
  return rep;
}

NeuralOdePrediction predict_spiral_ode(const std::string& model_path, const SpiralOdeData& data,
                                       const NeuralOdePredictParams& p) {
  if (p.threads < 1) bad_value("eval.threads", str(p.threads), ">= 1");
  if (p.repeats < 1) bad_value("eval.repeats", str(p.repeats), ">= 1");
  detail::ThreadScope threads(p.threads);
  LoadedSpiralModel m = load_spiral_model(model_path);
  AdaptiveParams solver = solver_params(m.params);
  if (p.rtol > 0.0) solver.rtol = p.rtol;
  if (p.atol > 0.0) solver.atol = p.atol;
  // Prediction reports the cost of whatever the model learnt, stiff or not; training's cap is
  // there to fail fast, not to judge.
  solver.max_steps = 1000000;
  const OdeFunction f = spiral_function(m.net, m.params.cube_input);
  const auto& y0 = p.held_out ? data.y0_test : data.y0;
  torch::NoGradGuard no_grad;
  const torch::Tensor ty0 = torch::tensor({y0[0], y0[1]}, torch::kFloat64).view({1, 2});

  NeuralOdePrediction out;
  out.t = data.t;
  out.y_true = p.held_out ? data.y_test : data.y_clean;
  out.seconds = std::numeric_limits<double>::infinity();
  OdeintResult r;
  for (int rep = 0; rep < p.repeats; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    r = odeint(f, ty0, data.t, solver);
    out.seconds =
        std::min(out.seconds,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  out.y_pred = StateOps<torch::Tensor>::to_values(r.y);
  out.nfe = r.stats.nfev;
  out.steps = r.stats.steps;
  out.rejected = r.stats.rejected;
  double num = 0, den = 0;
  for (std::size_t i = 0; i < out.y_true.size(); ++i) {
    num += (out.y_pred[i] - out.y_true[i]) * (out.y_pred[i] - out.y_true[i]);
    den += out.y_true[i] * out.y_true[i];
  }
  out.relative_l2 = std::sqrt(num / den);
  return out;
}

std::unique_ptr<Stepper> make_neural_ode_stepper(const std::string& model_path,
                                                 const NeuralOdePredictParams& p) {
  LoadedSpiralModel m = load_spiral_model(model_path);
  AdaptiveParams solver = solver_params(m.params);
  if (p.rtol > 0.0) solver.rtol = p.rtol;
  if (p.atol > 0.0) solver.atol = p.atol;
  solver.max_steps = 1000000;  // as predict_spiral_ode: report the cost, do not judge it
  const OdeFunction f = spiral_function(m.net, m.params.cube_input);
  const auto rhs = [f](double t, const torch::Tensor& y) {
    torch::NoGradGuard no_grad;
    return f(t, y);
  };
  return std::make_unique<AdaptiveOdeStepper<torch::Tensor>>(
      "emulator", "neural ODE " + model_path, rhs, torch::zeros({1, 2}, torch::kFloat64), solver);
}

}  // namespace aeolus::emulators
