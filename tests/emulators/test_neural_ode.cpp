// Tests of emulators/neural_ode_impl.hpp and emulators/neural_ode.hpp: odeint against an exact
// solution; backprop and adjoint gradients against central finite differences (float64, a tiny
// MLP) and against each other, with and without the adjoint seminorm; the ERNODE/SRNODE terms
// against the solver's own estimates and their gradients against finite differences; a short
// spiral ODE training run, its saved model and a prediction.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "emulators/device_impl.hpp"  // detail::ThreadScope
#include "emulators/neural_ode.hpp"
#include "emulators/neural_ode_impl.hpp"
#include "grids/error.hpp"

using namespace aeolus;
using namespace aeolus::emulators;
using torch::Tensor;

namespace {

Mlp tiny_mlp() {
  torch::manual_seed(3);
  MlpOptions o;
  o.widths = {2, 6, 2};
  o.init_std = 0.6;  // strong enough dynamics that every parameter matters
  return Mlp(o);
}

OdeFunction as_function(Mlp net) {
  return [net](double, const Tensor& y) mutable { return net->forward(y); };
}

Tensor batch_y0() {
  return torch::tensor({0.5, -0.3, -0.4, 0.8, 1.0, 0.2}, torch::kFloat64).view({3, 2});
}

const std::vector<double> kTimes = {0.0, 0.3, 0.8, 1.2, 2.0};

AdaptiveParams tight(double tol) {
  AdaptiveParams p;
  p.rtol = tol;
  p.atol = tol;
  return p;
}

AdaptiveParams fixed_step(double h) {
  AdaptiveParams p;
  p.adaptive = false;
  p.h0 = h;
  p.rtol = 1e-6;
  p.atol = 1e-6;
  return p;
}

// A smooth scalar of the whole trajectory that weighs every output time differently.
Tensor trajectory_loss(const Tensor& y) {
  const Tensor w = torch::linspace(0.5, 1.5, y.numel(), y.options()).view(y.sizes());
  return (w * y).sum() + 0.5 * (y * y).sum();
}

std::vector<double> flat_grad(const std::vector<Tensor>& params) {
  std::vector<double> g;
  for (const auto& p : params) {
    const auto v =
        StateOps<Tensor>::to_values(p.grad().defined() ? p.grad() : torch::zeros_like(p));
    g.insert(g.end(), v.begin(), v.end());
  }
  return g;
}

// Central differences of `value` in every parameter component.
template <class F>
std::vector<double> finite_difference(std::vector<Tensor> params, F value, double eps) {
  std::vector<double> g;
  torch::NoGradGuard no_grad;
  for (auto& p : params) {
    Tensor flat = p.view({-1});
    for (std::int64_t j = 0; j < flat.numel(); ++j) {
      const double x = flat[j].item<double>();
      flat[j] = x + eps;
      const double up = value();
      flat[j] = x - eps;
      const double down = value();
      flat[j] = x;
      g.push_back((up - down) / (2 * eps));
    }
  }
  return g;
}

double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

// The gradient of trajectory_loss with the given options; fills `stats` if given.
std::vector<double> gradient(Mlp net, const AdaptiveParams& p, OdeintOptions o,
                             OdeStats* backward = nullptr) {
  net->zero_grad();
  o.adjoint_params = net->parameters();
  const OdeintResult r = odeint(as_function(net), batch_y0(), kTimes, p, o);
  trajectory_loss(r.y).backward();
  if (backward) *backward = *r.backward_stats;
  return flat_grad(net->parameters());
}

class NeuralOde : public ::testing::Test {
 protected:
  emulators::detail::ThreadScope threads_{1};
};

}  // namespace

TEST_F(NeuralOde, LinearNetworkMatchesExactSolution) {
  // y' = y W^T with W = [[0, 1], [-1, 0]]: y(t) = (cos t, -sin t) from (1, 0).
  torch::nn::Linear lin(torch::nn::LinearOptions(2, 2).bias(false));
  lin->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    lin->weight.copy_(torch::tensor({0.0, 1.0, -1.0, 0.0}, torch::kFloat64).view({2, 2}));
  }
  const OdeFunction f = [lin](double, const Tensor& y) mutable { return lin->forward(y); };
  const std::vector<double> t = {0.0, 0.5, 1.0, 2.5, 5.0};
  const Tensor y0 = torch::tensor({1.0, 0.0}, torch::kFloat64).view({1, 2});
  for (OdeGradient g : {OdeGradient::backprop, OdeGradient::adjoint}) {
    OdeintOptions o;
    o.gradient = g;
    o.adjoint_params = lin->parameters();
    const OdeintResult r = odeint(f, y0, t, tight(1e-11), o);
    ASSERT_EQ(r.y.sizes(), (std::vector<std::int64_t>{5, 1, 2}));
    double err = 0;
    for (std::size_t i = 0; i < t.size(); ++i) {
      err = std::max(err, std::abs(r.y[i][0][0].item<double>() - std::cos(t[i])));
      err = std::max(err, std::abs(r.y[i][0][1].item<double>() + std::sin(t[i])));
    }
    EXPECT_LT(err, 1e-9) << ode_gradient_name(g);
    EXPECT_GT(r.stats.nfev, 0);
  }
}

TEST_F(NeuralOde, BackpropGradientMatchesFiniteDifferences) {
  Mlp net = tiny_mlp();
  const auto value_at = [&](const AdaptiveParams& p) {
    return [&net, p] {
      return trajectory_loss(odeint(as_function(net), batch_y0(), kTimes, p).y).item<double>();
    };
  };
  // Fixed steps: the computed solution is a smooth function of the parameters, and backprop is
  // its exact gradient.
  const AdaptiveParams fixed = fixed_step(0.05);
  const double e_fixed = relative_error(
      gradient(net, fixed, {}), finite_difference(net->parameters(), value_at(fixed), 1e-6));
  // Adaptive: the step sequence moves with the parameters, which backprop does not see; at
  // tight tolerance that costs only about the tolerance.
  const AdaptiveParams adaptive = tight(1e-11);
  const double e_adaptive = relative_error(
      gradient(net, adaptive, {}), finite_difference(net->parameters(), value_at(adaptive), 1e-6));
  std::printf("backprop vs central differences: fixed step %.2e, adaptive (tol 1e-11) %.2e\n",
              e_fixed, e_adaptive);
  EXPECT_LT(e_fixed, 1e-7);
  EXPECT_LT(e_adaptive, 1e-5);
}

TEST_F(NeuralOde, AdjointGradientMatchesBackpropAndSeminormSavesWork) {
  Mlp net = tiny_mlp();
  const AdaptiveParams p = tight(1e-10);
  const std::vector<double> bp = gradient(net, p, {});
  const auto fd = finite_difference(
      net->parameters(),
      [&] {
        return trajectory_loss(odeint(as_function(net), batch_y0(), kTimes, p).y).item<double>();
      },
      1e-6);
  OdeintOptions o;
  o.gradient = OdeGradient::adjoint;
  OdeStats full, semi;
  const std::vector<double> adj = gradient(net, p, o, &full);
  o.adjoint_seminorm = true;
  const std::vector<double> adj_semi = gradient(net, p, o, &semi);
  const double e_bp = relative_error(adj, bp), e_fd = relative_error(adj, fd);
  const double e_semi_bp = relative_error(adj_semi, bp), e_semi_fd = relative_error(adj_semi, fd);
  std::printf(
      "adjoint vs backprop %.2e, vs FD %.2e; seminorm adjoint vs backprop %.2e, vs FD %.2e\n", e_bp,
      e_fd, e_semi_bp, e_semi_fd);
  std::printf(
      "backward NFE: full norm %ld (%ld steps, %ld rejected), seminorm %ld (%ld steps, "
      "%ld rejected): %.0f%% fewer\n",
      full.nfev, full.steps, full.rejected, semi.nfev, semi.steps, semi.rejected,
      100.0 * (1.0 - double(semi.nfev) / double(full.nfev)));
  EXPECT_LT(e_bp, 1e-5);
  EXPECT_LT(e_fd, 1e-5);
  EXPECT_LT(e_semi_bp, 1e-5);
  EXPECT_LT(e_semi_fd, 1e-5);
  EXPECT_LT(semi.nfev, full.nfev);

  // The gradient with respect to the initial state too.
  const Tensor y0 = batch_y0().requires_grad_(true);
  o.adjoint_params = net->parameters();
  trajectory_loss(odeint(as_function(net), y0, kTimes, p, o).y).backward();
  const Tensor g_adj = y0.grad().clone();
  y0.grad().zero_();
  trajectory_loss(odeint(as_function(net), y0, kTimes, p).y).backward();
  EXPECT_LT((g_adj - y0.grad()).norm().item<double>() / y0.grad().norm().item<double>(), 1e-6);
}

TEST_F(NeuralOde, RegulariserTermsMatchTheSolversEstimates) {
  Mlp net = tiny_mlp();
  const AdaptiveParams p = tight(1e-6);
  const OdeFunction f = as_function(net);
  double worst_err = 0, worst_stiff = 0;
  long steps = 0;
  StepHook<Tensor> hook = [&](const AcceptedStep<Tensor>& s) {
    ++steps;
    const double e = ernode_term(s, p.atol, p.rtol).item<double>() / std::abs(s.h);
    worst_err = std::max(worst_err, std::abs(e - s.err_norm) / s.err_norm);
    const double r = srnode_term(s, p.method).item<double>() * stability_boundary(p.method);
    worst_stiff = std::max(worst_stiff, std::abs(r - s.stiffness) / s.stiffness);
  };
  solve_adaptive(f, kTimes, batch_y0(), p, hook);
  EXPECT_GT(steps, 3);
  EXPECT_LT(worst_err, 1e-12);
  EXPECT_LT(worst_stiff, 1e-12);
}

TEST_F(NeuralOde, RegulariserGradientsMatchFiniteDifferences) {
  Mlp net = tiny_mlp();
  // Fixed steps, so that R is a smooth function of the parameters (with adaptive steps the
  // gradient holds the step sequence fixed, as Pal et al.'s does). A larger difference step:
  // the error estimate is a small difference of stage values, so rounding dominates below 1e-4.
  const AdaptiveParams p = fixed_step(0.1);
  for (bool stiffness : {false, true}) {
    OdeintOptions o;
    o.error_reg = !stiffness;
    o.stiffness_reg = stiffness;
    const auto reg = [&] {
      const OdeintResult r = odeint(as_function(net), batch_y0(), kTimes, p, o);
      return stiffness ? r.stiffness_reg : r.error_reg;
    };
    net->zero_grad();
    const Tensor value = reg();
    value.backward();
    const auto g = flat_grad(net->parameters());
    const auto fd = finite_difference(
        net->parameters(), [&] { return reg().item<double>(); }, 1e-4);
    const double e = relative_error(g, fd);
    std::printf("%s: R = %.4e, gradient vs central differences %.2e\n",
                stiffness ? "SRNODE" : "ERNODE", value.item<double>(), e);
    EXPECT_GT(value.item<double>(), 0.0);
    EXPECT_LT(e, 1e-6);
  }
  OdeintOptions bad;
  bad.gradient = OdeGradient::adjoint;
  bad.error_reg = true;
  EXPECT_THROW(odeint(as_function(net), batch_y0(), kTimes, p, bad), ConfigError);
  EXPECT_DOUBLE_EQ(regulariser_weight(2.0, 0.5, 3), 0.25);
}

TEST_F(NeuralOde, SpiralTrainingLowersTheLossAndPredicts) {
  SpiralOdeParams sp;
  sp.points = 200;
  sp.t_end = 5.0;
  const SpiralOdeData data = make_spiral_ode_data(sp);
  ASSERT_EQ(data.y.size(), 400u);
  // The truth spirals inwards.
  EXPECT_LT(std::hypot(data.y[398], data.y[399]), 2.0);

  NeuralOdeModelParams model;
  model.hidden = {16};
  NeuralOdeTrainingParams tr;
  tr.iterations = 60;
  tr.learning_rate = 1e-2;
  tr.log_every = 20;
  const auto dir = std::filesystem::temp_directory_path() / "aeolus_test_neural_ode";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "spiral.pt").string();
  const NeuralOdeTrainReport rep = train_spiral_ode(data, model, tr, path);
  std::printf("spiral: loss %.4f -> %.4f in %d iterations, %.1f ms/iteration, %.0f NFE/iteration\n",
              rep.initial_loss, rep.final_loss, rep.iterations, 1e3 * rep.seconds_per_iteration,
              rep.mean_nfe);
  EXPECT_LT(rep.final_loss, 0.7 * rep.initial_loss);
  EXPECT_EQ(rep.parameters, 2 * 16 + 16 + 16 * 2 + 2);
  std::ifstream csv(path + ".csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "iteration,loss,reg,lambda,nfe,nfe_backward,seconds");

  NeuralOdePredictParams pp;
  pp.repeats = 1;
  const NeuralOdePrediction pred = predict_spiral_ode(path, data, pp);
  ASSERT_EQ(pred.y_pred.size(), data.y.size());
  EXPECT_GT(pred.nfe, 0);
  pp.held_out = true;
  const NeuralOdePrediction held = predict_spiral_ode(path, data, pp);
  EXPECT_EQ(held.y_true, data.y_test);
  // Relative L2 of a rollout against the truth over the output times t <= t_max.
  const auto error_until = [](const NeuralOdePrediction& p, double t_max) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < p.t.size() && p.t[i] <= t_max; ++i) {
      for (int c = 0; c < 2; ++c) {
        const double d = p.y_pred[2 * i + c] - p.y_true[2 * i + c];
        num += d * d;
        den += p.y_true[2 * i + c] * p.y_true[2 * i + c];
      }
    }
    return std::sqrt(num / den);
  };
  const double early = error_until(pred, 0.5), held_early = error_until(held, 1.0);
  std::printf(
      "spiral rollout: relative L2 %.3f (from y0), %.3f (held-out start), NFE %ld; "
      "t <= 0.5 from y0 %.3f, t <= 1 from the held-out start %.3f\n",
      pred.relative_l2, held.relative_l2, pred.nfe, early, held_early);
  // The reported error is the relative L2 over the whole rollout.
  EXPECT_NEAR(pred.relative_l2, error_until(pred, sp.t_end), 1e-12);
  EXPECT_NEAR(held.relative_l2, error_until(held, sp.t_end), 1e-12);
  // After 60 iterations the model has learnt the local dynamics but not the phase over the
  // whole spiral: the 5-time-unit rollout is still no better than predicting zero (relative L2
  // 0.99 here, 0.81-1.10 over training seeds 1-4; untrained 1.19-1.66), so the bounds are on
  // the early rollout, which the training windows (9 steps of 0.025) teach. Measured (seeds
  // 1-4): from y0 over t <= 0.5, 0.66 (0.56-0.66; untrained 1.18-1.31; 0.35-0.39 after 200
  // iterations); from the held-out start (0, 1.5), never trained on, over t <= 1, 0.10
  // (0.04-0.10; untrained 1.21-1.40). A model that does not learn, or a prediction that does not
  // use the trained weights, fails both.
  EXPECT_LT(early, 0.85);
  EXPECT_LT(held_early, 0.25);

  // The regularised and adjoint paths run too.
  tr.iterations = 5;
  tr.regulariser = "srnode";
  EXPECT_NO_THROW(train_spiral_ode(data, model, tr, path));
  tr.regulariser = "none";
  tr.gradient = "adjoint";
  tr.adjoint_seminorm = true;
  const auto adj = train_spiral_ode(data, model, tr, path);
  EXPECT_GT(adj.mean_backward_nfe, 0.0);

  EXPECT_THROW(predict_spiral_ode((dir / "missing.pt").string(), data), IoError);
  tr.regulariser = "ernode";
  EXPECT_THROW(check_neural_ode_params(model, tr, sp), ConfigError);
  tr.gradient = "backprop";
  tr.batch_time = 1;
  EXPECT_THROW(check_neural_ode_params(model, tr, sp), ConfigError);
  std::filesystem::remove_all(dir);
}
