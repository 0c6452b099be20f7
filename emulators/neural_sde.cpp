// The spiral neural SDE (emulators/neural_sde.hpp): data from the true SDE on std::vector
// states, the learned SDE on batched tensors, training through solvers/sde.hpp, saving and
// prediction.
#include "emulators/neural_sde.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulators/array_model_impl.hpp"
#include "emulators/device_impl.hpp"  // detail::ThreadScope
#include "emulators/model_archive.hpp"
#include "emulators/neural_sde_impl.hpp"
#include "grids/error.hpp"
#include "solvers/sde_stepper.hpp"

namespace aeolus::emulators {

namespace {

constexpr const char* kFormatName = "aeolus.neural_sde_spiral";
// Bumped whenever the saved layout or the meaning of a saved value changes (2: adaptive solves
// resume the planned step after each observation time, see sde_adaptive_params).
constexpr std::int64_t kFormatVersion = 2;
// Paths per BrownianPath when generating the data: the path keeps every increment it sampled,
// 2 * dim doubles per step, so one path for 10^4 paths over 500 steps would hold 160 MB.
constexpr int kDataChunk = 1000;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

torch::Dtype dtype_from_name(const std::string& name, const std::string& key) {
  if (name == "float32") return torch::kFloat32;
  if (name == "float64") return torch::kFloat64;
  throw_unknown_choice(key, name, {"float32", "float64"});
}

// The noise is multiplicative, so the SRA methods (additive noise only) are wrong for it.
void check_method(SdeMethod m, bool adaptive, const std::string& key) {
  if (sde_method_needs_additive_noise(m))
    throw ConfigError(key + " = '" + sde_method_name(m) +
                      "' needs additive noise; the spiral SDE's noise is multiplicative (use "
                      "euler_maruyama, milstein, rk_milstein or sriw1)");
  if (adaptive && !sde_method_is_adaptive(m))
    throw ConfigError(key + " = '" + sde_method_name(m) +
                      "' has no error estimate for adaptive stepping; use sriw1");
}

void check_spiral(const SpiralSdeParams& p) {
  if (!(p.t_end > 0.0))
    throw ConfigError("spiral_sde.t_end = " + std::to_string(p.t_end) + " must be > 0");
  if (p.observations < 2)
    throw ConfigError("spiral_sde.observations = " + std::to_string(p.observations) +
                      " must be >= 2");
  if (p.paths < 2)
    throw ConfigError("spiral_sde.paths = " + std::to_string(p.paths) +
                      " must be >= 2 (a variance needs two paths)");
  if (!(p.dt > 0.0)) throw ConfigError("spiral_sde.dt = " + std::to_string(p.dt) + " must be > 0");
  for (int i = 0; i < 2; ++i)
    if (!(p.sigma[i] >= 0.0))
      throw ConfigError("spiral_sde.sigma[" + std::to_string(i) +
                        "] = " + std::to_string(p.sigma[i]) + " must be >= 0");
  check_method(p.method, false, "spiral_sde.method");
}

void check_training(const NeuralSdeTrainingParams& t) {
  const auto positive = [](int v, const char* key) {
    if (v < 1) throw ConfigError(std::string(key) + " = " + std::to_string(v) + " must be >= 1");
  };
  positive(t.drift_hidden, "neural_sde.drift_hidden");
  positive(t.diffusion_hidden, "neural_sde.diffusion_hidden");
  positive(t.threads, "neural_sde.threads");
  if (t.iterations < 0)
    throw ConfigError("neural_sde.iterations = " + std::to_string(t.iterations) + " must be >= 0");
  if (t.batch_paths < 2)
    throw ConfigError("neural_sde.batch_paths = " + std::to_string(t.batch_paths) +
                      " must be >= 2 (a variance needs two paths)");
  if (t.eval_paths < 2)
    throw ConfigError("neural_sde.eval_paths = " + std::to_string(t.eval_paths) + " must be >= 2");
  if (!(t.learning_rate > 0.0))
    throw ConfigError("neural_sde.learning_rate = " + std::to_string(t.learning_rate) +
                      " must be > 0");
  if (!t.adaptive && !(t.dt > 0.0))
    throw ConfigError("neural_sde.dt = " + std::to_string(t.dt) + " must be > 0");
  if (t.adaptive && !(t.rtol >= 0.0 && t.atol >= 0.0 && t.rtol + t.atol > 0.0))
    throw ConfigError("neural_sde.rtol, atol = " + std::to_string(t.rtol) + ", " +
                      std::to_string(t.atol) + ": need both >= 0 and not both 0");
  check_method(t.method, t.adaptive, "neural_sde.method");
  dtype_from_name(t.dtype, "neural_sde.dtype");
  const OdeRegulariser reg = ode_regulariser_from_name(t.regulariser, "neural_sde.regulariser");
  if (reg != OdeRegulariser::none && !t.adaptive)
    throw ConfigError("neural_sde.regulariser = '" + t.regulariser +
                      "' needs neural_sde.adaptive = true (it regularises the adaptive solver's "
                      "error estimate or stiffness estimate); got adaptive = false");
  if (!(t.lambda0 >= 0.0))
    throw ConfigError("neural_sde.lambda0 = " + std::to_string(t.lambda0) + " must be >= 0");
  if (!(t.lambda_decay > 0.0 && t.lambda_decay <= 1.0))
    throw ConfigError("neural_sde.lambda_decay = " + std::to_string(t.lambda_decay) +
                      " must be in (0, 1]");
}

SpiralMoments to_moments(const std::vector<double>& t, const MomentTensors& m) {
  SpiralMoments out;
  out.t = t;
  const torch::Tensor mean = m.mean.detach().to(torch::kFloat64).contiguous();
  const torch::Tensor var = m.variance.detach().to(torch::kFloat64).contiguous();
  for (std::size_t k = 0; k < t.size(); ++k) {
    const auto kk = static_cast<std::int64_t>(k);
    out.mean.push_back({mean[kk][0].item<double>(), mean[kk][1].item<double>()});
    out.variance.push_back({var[kk][0].item<double>(), var[kk][1].item<double>()});
  }
  return out;
}

std::vector<double> flatten(const std::vector<std::array<double, 2>>& v) {
  std::vector<double> out;
  for (const auto& a : v) out.insert(out.end(), a.begin(), a.end());
  return out;
}

std::vector<std::array<double, 2>> unflatten(const std::vector<double>& v) {
  std::vector<std::array<double, 2>> out;
  for (std::size_t i = 0; i + 1 < v.size(); i += 2) out.push_back({v[i], v[i + 1]});
  return out;
}

MomentTensors moment_tensors(const SpiralMoments& m, torch::Dtype dtype) {
  const auto n = static_cast<std::int64_t>(m.t.size());
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  return {torch::tensor(flatten(m.mean), opts).reshape({n, 2}).to(dtype),
          torch::tensor(flatten(m.variance), opts).reshape({n, 2}).to(dtype)};
}

// Everything a saved model holds besides the weights. The regulariser settings are provenance
// only (not read back: the model runs the same whatever trained it).
struct ModelSpec {
  SpiralSdeNetOptions net;
  NeuralSdeSolver solver;
  std::string dtype;
  std::array<double, 2> y0{};
  SpiralMoments data;
  std::string regulariser = "none";
  double lambda0 = 0.0, lambda_decay = 1.0;
};

void save_model(const std::string& path, SpiralSdeNet& net, const ModelSpec& s) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  archive.write("meta.format", c10::IValue(std::string(kFormatName)));
  archive.write("meta.version", c10::IValue(kFormatVersion));
  archive.write("meta.drift_hidden", c10::IValue(std::int64_t(s.net.drift_hidden)));
  archive.write("meta.diffusion_hidden", c10::IValue(std::int64_t(s.net.diffusion_hidden)));
  archive.write("meta.dtype", c10::IValue(s.dtype));
  archive.write("meta.method", c10::IValue(sde_method_name(s.solver.method)));
  archive.write("meta.adaptive", c10::IValue(s.solver.adaptive));
  archive.write("meta.dt", c10::IValue(s.solver.dt));
  archive.write("meta.rtol", c10::IValue(s.solver.rtol));
  archive.write("meta.atol", c10::IValue(s.solver.atol));
  archive.write("meta.y0", c10::IValue(std::vector<double>(s.y0.begin(), s.y0.end())));
  archive.write("meta.t_obs", c10::IValue(s.data.t));
  archive.write("meta.data_mean", c10::IValue(flatten(s.data.mean)));
  archive.write("meta.data_variance", c10::IValue(flatten(s.data.variance)));
  archive.write("meta.regulariser", c10::IValue(s.regulariser));
  archive.write("meta.lambda0", c10::IValue(s.lambda0));
  archive.write("meta.lambda_decay", c10::IValue(s.lambda_decay));
  detail::save_model_archive(archive, path);
}

struct LoadedModel {
  SpiralSdeNet net{nullptr};
  ModelSpec spec;
};

LoadedModel load_model(const std::string& path) {
  detail::ModelArchive file(path, kFormatName, "Aeolus spiral neural SDE model");
  const auto read = [&](const std::string& key) { return file.read(key); };
  LoadedModel m;
  ModelSpec& s = m.spec;
  file.check_version(kFormatVersion);
  file.parse_metadata([&] {
    s.net.drift_hidden = int(read("meta.drift_hidden").toInt());
    s.net.diffusion_hidden = int(read("meta.diffusion_hidden").toInt());
    s.dtype = read("meta.dtype").toStringRef();
    s.solver.method = sde_method_from_name(read("meta.method").toStringRef(), "meta.method");
    s.solver.adaptive = read("meta.adaptive").toBool();
    s.solver.dt = read("meta.dt").toDouble();
    s.solver.rtol = read("meta.rtol").toDouble();
    s.solver.atol = read("meta.atol").toDouble();
    const auto y0 = read("meta.y0").toDoubleVector();
    s.data.t = read("meta.t_obs").toDoubleVector();
    s.data.mean = unflatten(read("meta.data_mean").toDoubleVector());
    s.data.variance = unflatten(read("meta.data_variance").toDoubleVector());
    if (y0.size() != 2 || s.data.t.size() < 2 || s.data.mean.size() != s.data.t.size() ||
        s.data.variance.size() != s.data.t.size())
      throw ModelError("y0, t_obs, data_mean, data_variance have inconsistent sizes");
    s.y0 = {y0[0], y0[1]};
    if (s.net.drift_hidden < 1 || s.net.diffusion_hidden < 1)
      throw ModelError("drift_hidden " + std::to_string(s.net.drift_hidden) +
                       ", diffusion_hidden " + std::to_string(s.net.diffusion_hidden));
    dtype_from_name(s.dtype, "meta.dtype");
  });
  m.net = SpiralSdeNet(s.net);
  file.load_weights(*m.net);
  m.net->to(dtype_from_name(s.dtype, "meta.dtype"));
  m.net->eval();
  return m;
}

struct Evaluation {
  MomentTensors moments;
  torch::Tensor loss;
  SdeStats stats;
};

Evaluation evaluate(SpiralSdeNet& net, const ModelSpec& s, const MomentTensors& data, int paths,
                    std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  const SdeSystem<torch::Tensor> system = neural_sde_system(net);
  const SdeSolution<torch::Tensor> sol =
      solve_spiral_paths(system, s.data.t, s.y0, paths, sde_stream_seed(seed, 0), s.solver,
                         dtype_from_name(s.dtype, "dtype"));
  Evaluation e;
  e.moments = ensemble_moments(sol.x);
  e.loss = moment_loss(e.moments, data);
  e.stats = sol.stats;
  return e;
}

// The C API's view of a spiral neural SDE archive (emulators/array_model.hpp): the learned
// coefficients of dY = f(Y) dt + g(Y) dW (diagonal noise), in [N, 2] states y -> out [N, 4] =
// (f_1, f_2, g_1, g_2): the drift f(y) = net(y^3) then the diagonal diffusion g(y), in the
// archive's dtype.
class SpiralSdeArrayModel : public ArchiveArrayModel {
 public:
  SpiralSdeArrayModel(const std::string& path, LoadedModel m)
      : ArchiveArrayModel(path,
                          "Aeolus neural SDE (spiral) archive (" + std::string(kFormatName) + ")",
                          "[N, 2] y -> [N, 4] (drift f_1, f_2, diffusion g_1, g_2)",
                          m.spec.dtype == "float32" ? DType::float32 : DType::float64),
        net_(m.net) {}

 protected:
  std::vector<std::int64_t> shape_for(const std::vector<std::int64_t>& s) const override {
    if (s.size() != 2 || s[1] != 2) refuse(s);
    return {s[0], 4};
  }
  torch::Tensor compute(const torch::Tensor& x) const override {
    SpiralSdeNet& net = const_cast<SpiralSdeNet&>(net_);  // forward is const in meaning
    return torch::cat({net->drift(x), net->diffusion(x)}, 1);
  }

 private:
  SpiralSdeNet net_;
};

std::unique_ptr<ArrayModel> load_spiral_sde_array_model(const std::string& path) {
  return std::make_unique<SpiralSdeArrayModel>(path, load_model(path));
}

[[maybe_unused]] const bool kArrayModelRegistered =
    register_archive_model(kFormatName, &load_spiral_sde_array_model);

}  // namespace

// ---------------------------------------------------------------------------------------------
// Networks and systems.

SpiralSdeNetImpl::SpiralSdeNetImpl(const SpiralSdeNetOptions& options) : options_(options) {
  drift_in_ = register_module("drift_in", torch::nn::Linear(2, options.drift_hidden));
  drift_out_ = register_module("drift_out", torch::nn::Linear(options.drift_hidden, 2));
  const std::int64_t k = options.diffusion_hidden;
  diff_w_ = register_parameter("diffusion_w", torch::empty({2, k}));
  diff_c_ = register_parameter("diffusion_c", torch::empty({2, k}));
  diff_v_ = register_parameter("diffusion_v", torch::empty({2, k}));
  diff_d_ = register_parameter("diffusion_d", torch::empty({2}));
  torch::NoGradGuard no_grad;
  // The drift as in the ODE demo (small weights: the untrained flow is slow). The diffusion
  // starts near a constant softplus(d) = 0.1, a small noise, with O(1) slopes in X_i.
  for (auto* lin : {&drift_in_, &drift_out_}) {
    (*lin)->weight.normal_(0.0, 0.1);
    (*lin)->bias.zero_();
  }
  diff_w_.normal_(0.0, 1.0);
  diff_c_.normal_(0.0, 0.5);
  diff_v_.normal_(0.0, 0.1);
  diff_d_.fill_(std::log(std::expm1(0.1)));
}

torch::Tensor SpiralSdeNetImpl::drift(const torch::Tensor& y) {
  return drift_out_(torch::tanh(drift_in_(y * y * y)));
}

torch::Tensor SpiralSdeNetImpl::diffusion(const torch::Tensor& y) {
  // [P, 2, 1] * [2, K] + [2, K] -> [P, 2, K]: component i sees only y_i.
  const torch::Tensor h = torch::tanh(torch::addcmul(diff_c_, y.unsqueeze(-1), diff_w_));
  return torch::nn::functional::softplus((h * diff_v_).sum(-1) + diff_d_);
}

SdeSystem<std::vector<double>> spiral_sde_system(const SpiralSdeParams& p) {
  using V = std::vector<double>;
  SdeSystem<V> sys;
  const std::array<double, 4> a = p.a;
  const std::array<double, 2> sigma = p.sigma;
  sys.drift = [a](double, const V& x) {
    V out(x.size());
    for (std::size_t j = 0; j + 1 < x.size(); j += 2) {
      const double u = x[j] * x[j] * x[j], v = x[j + 1] * x[j + 1] * x[j + 1];
      out[j] = u * a[0] + v * a[2];
      out[j + 1] = u * a[1] + v * a[3];
    }
    return out;
  };
  sys.diffusion = [sigma](double, const V& x) {
    V out(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) out[j] = sigma[j % 2] * x[j];
    return out;
  };
  sys.diffusion_dx = [sigma](double, const V& x) {
    V out(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) out[j] = sigma[j % 2];
    return out;
  };
  sys.noise = NoiseType::diagonal;
  return sys;
}

SdeSystem<torch::Tensor> spiral_sde_system_tensor(const SpiralSdeParams& p) {
  using T = torch::Tensor;
  SdeSystem<T> sys;
  const std::array<double, 4> a = p.a;
  const std::array<double, 2> sigma = p.sigma;
  // Column by column with the same products and sums as the std::vector version (a matmul
  // might fuse them differently).
  sys.drift = [a](double, const T& x) {
    const T c = x * x * x;
    const T u = c.select(1, 0), v = c.select(1, 1);
    return torch::stack({u * a[0] + v * a[2], u * a[1] + v * a[3]}, 1);
  };
  sys.diffusion = [sigma](double, const T& x) {
    return x * torch::tensor({sigma[0], sigma[1]}, x.options());
  };
  sys.diffusion_dx = [sigma](double, const T& x) {
    return torch::tensor({sigma[0], sigma[1]}, x.options()).expand_as(x);
  };
  sys.noise = NoiseType::diagonal;
  return sys;
}

SdeSystem<torch::Tensor> neural_sde_system(SpiralSdeNet& net) {
  using T = torch::Tensor;
  SdeSystem<T> sys;
  SpiralSdeNetImpl* impl = net.get();
  sys.drift = [impl](double, const T& x) { return impl->drift(x); };
  sys.diffusion = [impl](double, const T& x) { return impl->diffusion(x); };
  sys.noise = NoiseType::diagonal;
  return sys;
}

MomentTensors ensemble_moments(const std::vector<torch::Tensor>& states) {
  const torch::Tensor x = torch::stack(states, 0);  // [T, P, 2]
  return {x.mean(1), x.var(1, /*unbiased=*/true)};
}

torch::Tensor moment_loss(const MomentTensors& model, const MomentTensors& data) {
  return (model.mean - data.mean).pow(2).sum() + (model.variance - data.variance).pow(2).sum();
}

std::uint64_t sde_stream_seed(std::uint64_t seed, std::uint64_t stream) {
  return stream_seed(seed, stream);
}

SdeAdaptiveParams sde_adaptive_params(const NeuralSdeSolver& solver) {
  SdeAdaptiveParams ap;
  ap.method = solver.method;
  ap.rtol = solver.rtol;
  ap.atol = solver.atol;
  // 30 observation times in [0, 1]: without it the steps after each one start from the sliver
  // that landed on it, and the step count is set by that, not by the tolerance or the model.
  ap.resume_planned_step = true;
  return ap;
}

SdeSolution<torch::Tensor> solve_spiral_paths(const SdeSystem<torch::Tensor>& system,
                                              const std::vector<double>& t_obs,
                                              const std::array<double, 2>& y0, int paths,
                                              std::uint64_t seed, const NeuralSdeSolver& solver,
                                              torch::Dtype dtype,
                                              const SdeStepHook<torch::Tensor>& hook) {
  const torch::Tensor x0 = torch::tensor({y0[0], y0[1]}, torch::TensorOptions().dtype(dtype))
                               .expand({paths, 2})
                               .contiguous();
  BrownianPath path(2 * static_cast<std::size_t>(paths), seed, t_obs.front());
  if (solver.adaptive)
    return solve_sde_adaptive(system, t_obs, x0, sde_adaptive_params(solver), path, hook);
  if (hook)
    throw ConfigError(
        "solve_spiral_paths: a step hook needs the adaptive solver (fixed steps "
        "have no accepted-step sequence to report)");
  return solve_sde_fixed(system, t_obs, x0, SdeFixedParams{solver.method, solver.dt}, path);
}

// ---------------------------------------------------------------------------------------------
// Regularisers.

namespace {

// sqrt with a floor under its argument (as the neural ODE's): sqrt'(0) is infinite.
torch::Tensor safe_sqrt(const torch::Tensor& x) { return torch::sqrt(x.clamp_min(1e-30)); }

}  // namespace

torch::Tensor sde_error_term(const SdeAcceptedStep<torch::Tensor>& s, const SdeAdaptiveParams& p) {
  return std::abs(s.h) * (p.delta * hairer_norm(s.err.drift, s.x0, s.x1, p.atol, p.rtol) +
                          hairer_norm(s.err.noise, s.x0, s.x1, p.atol, p.rtol));
}

torch::Tensor sde_stiffness_term(const SdeAcceptedStep<torch::Tensor>& s, SdeMethod method) {
  const SdeDriftStages<torch::Tensor>& st = s.stages;
  if (!st.f_last.defined() || !st.f_prev.defined() || !st.h0_last.defined() ||
      !st.h0_prev.defined())
    throw NumericsError("sde_stiffness_term: the step hook did not pass the drift stages");
  const torch::Tensor den = safe_sqrt((st.h0_last - st.h0_prev).pow(2).mean());
  // The solver's own estimate is 0 where the two stage inputs coincide; so is this term then.
  if (den.item<double>() <= 1e-15) return torch::zeros({}, s.x1.options());
  const torch::Tensor num = safe_sqrt((st.f_last - st.f_prev).pow(2).mean());
  return (std::abs(s.h) / sde_stability_boundary(method)) * num / den;
}

SdeStepHook<torch::Tensor> sde_regulariser_hook(OdeRegulariser kind, const SdeAdaptiveParams& p,
                                                torch::Tensor* total) {
  if (kind == OdeRegulariser::none)
    throw ConfigError("sde_regulariser_hook: regulariser 'none' has no term to sum");
  if (kind == OdeRegulariser::ernode)
    return [p, total](const SdeAcceptedStep<torch::Tensor>& s) {
      *total = *total + sde_error_term(s, p);
    };
  return [method = p.method, total](const SdeAcceptedStep<torch::Tensor>& s) {
    *total = *total + sde_stiffness_term(s, method);
  };
}

// ---------------------------------------------------------------------------------------------
// Public API.

std::vector<double> spiral_observation_times(const SpiralSdeParams& p) {
  std::vector<double> t(static_cast<std::size_t>(std::max(p.observations, 0)));
  for (std::size_t k = 0; k < t.size(); ++k)
    t[k] = k + 1 == t.size() ? p.t_end : p.t_end * double(k) / double(t.size() - 1);
  return t;
}

SpiralMoments spiral_sde_moments(const SpiralSdeParams& p) {
  check_spiral(p);
  const std::vector<double> t = spiral_observation_times(p);
  const SdeSystem<std::vector<double>> sys = spiral_sde_system(p);
  const std::size_t nt = t.size();
  const auto total = static_cast<std::size_t>(p.paths);
  // values[k][2 q + i]: component i of path q at t[k]; two passes for the variance.
  std::vector<std::vector<double>> values(nt, std::vector<double>(2 * total));
  for (std::size_t first = 0, chunk = 0; first < total; first += kDataChunk, ++chunk) {
    const std::size_t m = std::min<std::size_t>(kDataChunk, total - first);
    std::vector<double> x0(2 * m);
    for (std::size_t q = 0; q < m; ++q) {
      x0[2 * q] = p.y0[0];
      x0[2 * q + 1] = p.y0[1];
    }
    BrownianPath path(2 * m, sde_stream_seed(p.seed, chunk), t.front());
    const SdeSolution<std::vector<double>> sol =
        solve_sde_fixed(sys, t, x0, SdeFixedParams{p.method, p.dt}, path);
    for (std::size_t k = 0; k < nt; ++k)
      std::copy(sol.x[k].begin(), sol.x[k].end(), values[k].begin() + std::ptrdiff_t(2 * first));
  }
  SpiralMoments out;
  out.t = t;
  for (std::size_t k = 0; k < nt; ++k) {
    std::array<double, 2> mean{0.0, 0.0}, var{0.0, 0.0};
    for (std::size_t q = 0; q < total; ++q)
      for (int i = 0; i < 2; ++i) mean[i] += values[k][2 * q + i];
    for (int i = 0; i < 2; ++i) mean[i] /= double(total);
    for (std::size_t q = 0; q < total; ++q)
      for (int i = 0; i < 2; ++i) {
        const double d = values[k][2 * q + i] - mean[i];
        var[i] += d * d;
      }
    for (int i = 0; i < 2; ++i) var[i] /= double(total - 1);
    out.mean.push_back(mean);
    out.variance.push_back(var);
  }
  return out;
}

NeuralSdeTrainReport train_spiral_sde(const SpiralSdeParams& spiral,
                                      const NeuralSdeTrainingParams& training,
                                      const std::string& model_path, const ProgressSink& progress) {
  check_spiral(spiral);
  check_training(training);
  detail::ThreadScope threads(training.threads);
  NeuralSdeTrainReport report;

  const Clock::time_point data_start = Clock::now();
  ModelSpec spec;
  spec.net = {training.drift_hidden, training.diffusion_hidden};
  spec.solver = {training.method, training.adaptive, training.dt, training.rtol, training.atol};
  spec.dtype = training.dtype;
  spec.y0 = spiral.y0;
  spec.data = spiral_sde_moments(spiral);
  spec.regulariser = training.regulariser;
  spec.lambda0 = training.lambda0;
  spec.lambda_decay = training.lambda_decay;
  report.data_seconds = seconds_since(data_start);
  const OdeRegulariser reg_kind =
      ode_regulariser_from_name(training.regulariser, "neural_sde.regulariser");

  const torch::Dtype dtype = dtype_from_name(training.dtype, "neural_sde.dtype");
  const MomentTensors data = moment_tensors(spec.data, dtype);
  torch::manual_seed(training.seed);
  SpiralSdeNet net(spec.net);
  net->to(dtype);
  for (const auto& prm : net->parameters()) report.parameters += prm.numel();
  const SdeSystem<torch::Tensor> system = neural_sde_system(net);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(training.learning_rate));

  report.initial_loss =
      evaluate(net, spec, data, training.eval_paths, training.seed).loss.item<double>();
  const Clock::time_point start = Clock::now();
  double nfe = 0;
  ProgressMeter meter(progress, "iteration", training.iterations);
  for (int it = 1; it <= training.iterations; ++it) {
    torch::Tensor reg = torch::zeros({}, torch::TensorOptions().dtype(dtype));
    SdeStepHook<torch::Tensor> hook;
    if (reg_kind != OdeRegulariser::none)
      hook = sde_regulariser_hook(reg_kind, sde_adaptive_params(spec.solver), &reg);
    const SdeSolution<torch::Tensor> sol = solve_spiral_paths(
        system, spec.data.t, spec.y0, training.batch_paths,
        sde_stream_seed(training.seed, std::uint64_t(it)), spec.solver, dtype, hook);
    const torch::Tensor loss = moment_loss(ensemble_moments(sol.x), data);
    const double value = loss.item<double>();
    if (!std::isfinite(value))
      throw NumericsError("train_spiral_sde: the loss is " + std::to_string(value) +
                          " at iteration " + std::to_string(it) +
                          "; lower neural_sde.learning_rate or neural_sde.dt");
    const double lambda = reg_kind == OdeRegulariser::none
                              ? 0.0
                              : regulariser_weight(training.lambda0, training.lambda_decay, it - 1);
    opt.zero_grad();
    if (lambda > 0.0)
      (loss + lambda * reg).backward();
    else
      loss.backward();
    opt.step();
    report.losses.push_back(value);
    if (reg_kind != OdeRegulariser::none) report.regs.push_back(reg.item<double>());
    nfe += double(sol.stats.nf + sol.stats.ng);
    if (meter.due(it)) {
      meter.emit(it, "loss " + format_sci(value) +
                         (report.regs.empty() ? std::string()
                                              : ", reg " + format_sci(report.regs.back())));
    }
  }
  report.seconds = seconds_since(start);
  report.iterations = training.iterations;
  report.nfe_per_solve = training.iterations > 0 ? nfe / training.iterations : 0.0;
  net->eval();
  report.final_loss =
      evaluate(net, spec, data, training.eval_paths, training.seed).loss.item<double>();
  save_model(model_path, net, spec);
  return report;
}

NeuralSdePrediction predict_spiral_sde(const std::string& model_path, int paths, std::uint64_t seed,
                                       int threads) {
  if (paths < 2)
    throw ConfigError("predict_spiral_sde: paths = " + std::to_string(paths) +
                      " must be >= 2 (a variance needs two paths)");
  if (threads < 1)
    throw ConfigError("predict_spiral_sde: threads = " + std::to_string(threads) + " must be >= 1");
  detail::ThreadScope scope(threads);
  LoadedModel m = load_model(model_path);
  const MomentTensors data =
      moment_tensors(m.spec.data, dtype_from_name(m.spec.dtype, "meta.dtype"));
  const Clock::time_point start = Clock::now();
  const Evaluation e = evaluate(m.net, m.spec, data, paths, seed);
  NeuralSdePrediction out;
  out.model = to_moments(m.spec.data.t, e.moments);
  out.seconds = seconds_since(start);
  out.data = m.spec.data;
  out.loss = e.loss.item<double>();
  for (std::size_t k = 0; k < out.data.t.size(); ++k)
    for (int i = 0; i < 2; ++i) {
      out.mean_error =
          std::max(out.mean_error, std::abs(out.model.mean[k][i] - out.data.mean[k][i]));
      out.variance_error = std::max(out.variance_error,
                                    std::abs(out.model.variance[k][i] - out.data.variance[k][i]));
    }
  out.nf = e.stats.nf;
  out.ng = e.stats.ng;
  out.steps = e.stats.accepted + e.stats.rejected;
  out.rejected = e.stats.rejected;
  return out;
}

std::unique_ptr<Stepper> make_spiral_sde_stepper(const SpiralSdeParams& p, int paths,
                                                 std::uint64_t seed, double interval) {
  check_spiral(p);
  SdeEnsembleStepper<std::vector<double>>::Solver solver;
  solver.fixed = SdeFixedParams{p.method, p.dt};
  return std::make_unique<SdeEnsembleStepper<std::vector<double>>>(
      "classical", std::to_string(paths) + " paths of the spiral SDE", spiral_sde_system(p),
      std::vector<double>(2 * std::size_t(paths)), 2 * std::size_t(paths), solver, seed, interval);
}

std::unique_ptr<Stepper> make_neural_sde_stepper(const std::string& model_path, int paths,
                                                 std::uint64_t seed, double interval) {
  LoadedModel m = load_model(model_path);
  // The system refers to the module: the stepper's functions share its ownership.
  auto net = std::make_shared<SpiralSdeNet>(m.net);
  const SdeSystem<torch::Tensor> learned = neural_sde_system(*net);
  SdeSystem<torch::Tensor> system = learned;
  const auto without_grad = [net](std::function<torch::Tensor(double, const torch::Tensor&)> f) {
    return std::function<torch::Tensor(double, const torch::Tensor&)>(
        [net, f](double t, const torch::Tensor& x) {
          torch::NoGradGuard no_grad;
          return f(t, x);
        });
  };
  system.drift = without_grad(learned.drift);
  system.diffusion = without_grad(learned.diffusion);
  if (learned.diffusion_dx) system.diffusion_dx = without_grad(learned.diffusion_dx);
  SdeEnsembleStepper<torch::Tensor>::Solver solver;
  solver.adaptive = m.spec.solver.adaptive;
  solver.fixed = SdeFixedParams{m.spec.solver.method, m.spec.solver.dt};
  solver.adaptive_params = sde_adaptive_params(m.spec.solver);
  const torch::Dtype dtype = dtype_from_name(m.spec.dtype, "meta.dtype");
  return std::make_unique<SdeEnsembleStepper<torch::Tensor>>(
      "emulator", std::to_string(paths) + " paths of the neural SDE " + model_path, system,
      torch::zeros({paths, 2}, torch::TensorOptions().dtype(dtype)), 2 * std::size_t(paths), solver,
      seed, interval);
}

}  // namespace aeolus::emulators
