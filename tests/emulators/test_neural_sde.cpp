// The spiral neural SDE (emulators/neural_sde.hpp): the SDE solvers on batched torch states
// reproduce the std::vector solves on the same Brownian path, gradients through the solver
// match finite differences, a short training lowers the moment-matching loss, and a saved
// model predicts exactly what training measured. The regularisers: their differentiable terms
// equal the solver's own estimates, their gradients match finite differences, and a short
// regularised training lowers them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "emulators/neural_sde.hpp"
#include "emulators/neural_sde_impl.hpp"
#include "grids/error.hpp"
#include "solvers/sde.hpp"

namespace {

namespace em = aeolus::emulators;
using aeolus::BrownianPath;
using aeolus::SdeMethod;
using aeolus::SdeSolution;
using Vec = std::vector<double>;

// x0 = y0 for `paths` stacked paths, in the layout of spiral_sde_system.
Vec stacked_y0(const em::SpiralSdeParams& p, int paths) {
  Vec x;
  for (int q = 0; q < paths; ++q) x.insert(x.end(), p.y0.begin(), p.y0.end());
  return x;
}

double max_diff(const Vec& a, const Vec& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0.0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

// The tensor solve sees the increments the vector solve sampled (one BrownianPath object), and
// the state layout [paths, 2] row-major is the vector's [x_0, y_0, x_1, y_1, ...].
TEST(NeuralSde, TensorSolveMatchesVectorSolve) {
  em::SpiralSdeParams p;
  p.observations = 11;
  const Vec t = em::spiral_observation_times(p);
  const int paths = 8;
  const auto vsys = em::spiral_sde_system(p);
  const auto tsys = em::spiral_sde_system_tensor(p);
  const Vec x0 = stacked_y0(p, paths);
  const torch::Tensor tx0 =
      torch::tensor(x0, torch::TensorOptions().dtype(torch::kFloat64)).reshape({paths, 2});
  for (SdeMethod m : {SdeMethod::euler_maruyama, SdeMethod::milstein, SdeMethod::sriw1}) {
    BrownianPath path(2 * paths, 42);
    const SdeSolution<Vec> vs = solve_sde_fixed(vsys, t, x0, {m, 0.01}, path);
    const SdeSolution<torch::Tensor> ts = solve_sde_fixed(tsys, t, tx0, {m, 0.01}, path);
    ASSERT_EQ(ts.x.size(), t.size());
    double d = 0.0;
    for (std::size_t k = 0; k < t.size(); ++k)
      d = std::max(d, max_diff(vs.x[k], aeolus::StateOps<torch::Tensor>::to_values(ts.x[k])));
    EXPECT_LT(d, 1e-12) << aeolus::sde_method_name(m);
    EXPECT_EQ(vs.stats.nf, ts.stats.nf);
    EXPECT_EQ(vs.stats.ng, ts.stats.ng);
  }
  // Adaptive: the step sizes come from error norms that agree only to rounding, and the
  // controller's feedback lets the step times drift apart (about 1e-11 here), more than the
  // path's snapping tolerance (1e-13): a second solve on the same path object would then
  // bridge new points next to the first solve's. Two fresh paths with the same seed draw the
  // same normals, so the solves agree to the size of that drift.
  aeolus::SdeAdaptiveParams ap;
  ap.rtol = ap.atol = 1e-3;
  BrownianPath vpath(2 * paths, 43), tpath(2 * paths, 43);
  const SdeSolution<Vec> vs = solve_sde_adaptive(vsys, t, x0, ap, vpath);
  const SdeSolution<torch::Tensor> ts = solve_sde_adaptive(tsys, t, tx0, ap, tpath);
  EXPECT_EQ(vs.stats.accepted, ts.stats.accepted);
  EXPECT_EQ(vs.stats.rejected, ts.stats.rejected);
  EXPECT_GT(vs.stats.rejected, 0);
  EXPECT_LT(max_diff(vs.x.back(), aeolus::StateOps<torch::Tensor>::to_values(ts.x.back())), 1e-8);
}

// The data's moments: exact at t = 0, finite, spreading, and reproducible from the seed.
TEST(NeuralSde, DataMoments) {
  em::SpiralSdeParams p;
  p.paths = 1500;  // two chunks, the second partial
  p.dt = 0.01;
  const em::SpiralMoments a = em::spiral_sde_moments(p);
  ASSERT_EQ(a.t.size(), std::size_t(p.observations));
  EXPECT_EQ(a.mean[0][0], 2.0);
  EXPECT_EQ(a.variance[0][0], 0.0);
  EXPECT_GT(a.variance.back()[0], 0.01);
  const em::SpiralMoments b = em::spiral_sde_moments(p);
  EXPECT_EQ(a.mean.back()[1], b.mean.back()[1]);
  p.method = SdeMethod::sra1;
  EXPECT_THROW(em::spiral_sde_moments(p), aeolus::ConfigError);
}

// Each component's diffusion depends on that component only (diagonal noise) and is positive.
TEST(NeuralSde, DiffusionIsDiagonalAndPositive) {
  torch::manual_seed(3);
  em::SpiralSdeNet net(em::SpiralSdeNetOptions{8, 6});
  net->to(torch::kFloat64);
  const torch::Tensor y =
      torch::tensor({0.3, -1.2}, torch::TensorOptions().dtype(torch::kFloat64)).reshape({1, 2});
  const torch::Tensor yg = y.clone().requires_grad_(true);
  const torch::Tensor g = net->diffusion(yg);
  // Row i: d g_i / d y.
  const torch::Tensor jac =
      torch::stack({torch::autograd::grad({g[0][0]}, {yg}, {}, true)[0].reshape({2}),
                    torch::autograd::grad({g[0][1]}, {yg})[0].reshape({2})});
  EXPECT_EQ(jac[0][1].item<double>(), 0.0);
  EXPECT_EQ(jac[1][0].item<double>(), 0.0);
  EXPECT_NE(jac[0][0].item<double>(), 0.0);
  EXPECT_GT(net->diffusion(y).min().item<double>(), 0.0);
}

// d loss / d theta through 50 SRIW1 steps on a fixed Brownian path against central differences
// (float64; the path is rebuilt from its seed, so every evaluation sees the same noise).
TEST(NeuralSde, GradientMatchesFiniteDifferences) {
  torch::manual_seed(5);
  em::SpiralSdeNet net(em::SpiralSdeNetOptions{8, 4});
  net->to(torch::kFloat64);
  em::SpiralSdeParams p;
  p.t_end = 0.5;
  p.observations = 6;
  const Vec t = em::spiral_observation_times(p);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const em::MomentTensors data{torch::full({6, 2}, 0.5, opts), torch::full({6, 2}, 0.05, opts)};
  const em::NeuralSdeSolver solver{SdeMethod::sriw1, false, 0.01};
  const auto system = em::neural_sde_system(net);
  const auto loss = [&] {
    const auto sol = em::solve_spiral_paths(system, t, p.y0, 6, 77, solver, torch::kFloat64);
    return em::moment_loss(em::ensemble_moments(sol.x), data);
  };
  net->zero_grad();
  loss().backward();
  int checked = 0;
  for (const auto& prm : net->parameters()) {
    const torch::Tensor flat = prm.detach().view({-1});
    const torch::Tensor grad = prm.grad().view({-1});
    for (std::int64_t i : {std::int64_t(0), flat.numel() - 1}) {
      torch::NoGradGuard no_grad;
      const double eps = 1e-6, v = flat[i].item<double>();
      flat[i] = v + eps;
      const double up = loss().item<double>();
      flat[i] = v - eps;
      const double down = loss().item<double>();
      flat[i] = v;
      const double fd = (up - down) / (2 * eps);
      const double ad = grad[i].item<double>();
      EXPECT_NEAR(ad, fd, 1e-6 * std::max(1.0, std::abs(fd)));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 16);
}

em::SpiralSdeParams small_spiral() {
  em::SpiralSdeParams p;
  p.paths = 2000;
  p.dt = 0.005;
  return p;
}

em::NeuralSdeTrainingParams short_training() {
  em::NeuralSdeTrainingParams t;
  t.iterations = 40;
  t.batch_paths = 64;
  t.eval_paths = 500;
  t.dt = 0.02;
  t.learning_rate = 0.05;
  return t;
}

// A short training lowers the loss; the saved model predicts exactly the final loss training
// measured (same eval paths); the stored data are the data.
TEST(NeuralSde, TrainSaveLoad) {
  aeolus::test::TempDir dir;
  const std::string model = dir.file("spiral_sde.pt");
  const em::SpiralSdeParams spiral = small_spiral();
  const em::NeuralSdeTrainingParams training = short_training();
  const em::NeuralSdeTrainReport r = em::train_spiral_sde(spiral, training, model);
  std::printf("neural SDE: loss %.4g -> %.4g in %d iterations, %.2f s (data %.2f s), %.0f NFE\n",
              r.initial_loss, r.final_loss, r.iterations, r.seconds, r.data_seconds,
              r.nfe_per_solve);
  ASSERT_EQ(r.losses.size(), std::size_t(training.iterations));
  EXPECT_LT(r.final_loss, 0.2 * r.initial_loss);

  const em::NeuralSdePrediction pr =
      em::predict_spiral_sde(model, training.eval_paths, training.seed);
  EXPECT_EQ(pr.loss, r.final_loss);
  EXPECT_GT(pr.nf, 0);
  EXPECT_GT(pr.ng, 0);
  EXPECT_EQ(pr.model.t.size(), std::size_t(spiral.observations));
  const em::SpiralMoments data = em::spiral_sde_moments(spiral);
  EXPECT_EQ(pr.data.mean.back()[0], data.mean.back()[0]);
  EXPECT_EQ(pr.data.variance.back()[1], data.variance.back()[1]);
  std::printf("prediction: max |mean error| %.3g, max |variance error| %.3g\n", pr.mean_error,
              pr.variance_error);
  // Another seed: other paths, a loss of the same size.
  const em::NeuralSdePrediction other = em::predict_spiral_sde(model, training.eval_paths, 99);
  EXPECT_NE(other.loss, pr.loss);
  EXPECT_LT(other.loss, 3.0 * r.final_loss + 0.01);
}

// The differentiable terms are the solver's own numbers: sde_error_term = h * err_norm and
// sde_stiffness_term = stiffness / boundary on every accepted step of an adaptive solve.
TEST(NeuralSde, RegulariserTermsAreTheSolversEstimates) {
  torch::manual_seed(11);
  em::SpiralSdeNet net(em::SpiralSdeNetOptions{8, 4});
  net->to(torch::kFloat64);
  const auto system = em::neural_sde_system(net);
  em::SpiralSdeParams p;
  p.observations = 6;
  const Vec t = em::spiral_observation_times(p);
  const em::NeuralSdeSolver solver{SdeMethod::sriw1, true, 0.0, 1e-3, 1e-3};
  const aeolus::SdeAdaptiveParams ap = em::sde_adaptive_params(solver);
  long calls = 0;
  double worst_e = 0.0, worst_s = 0.0;
  const aeolus::SdeStepHook<torch::Tensor> hook =
      [&](const aeolus::SdeAcceptedStep<torch::Tensor>& s) {
        ++calls;
        const double e = em::sde_error_term(s, ap).item<double>();
        const double k = em::sde_stiffness_term(s, ap.method).item<double>();
        worst_e = std::max(worst_e, std::abs(e - s.h * s.err_norm) / (s.h * s.err_norm));
        worst_s = std::max(worst_s, std::abs(k - s.stiffness / 2.0) / (s.stiffness / 2.0));
      };
  const auto sol = em::solve_spiral_paths(system, t, p.y0, 16, 9, solver, torch::kFloat64, hook);
  std::printf("regulariser terms vs solver: %ld steps (%ld rejected), rel. diff %.2e / %.2e\n",
              calls, sol.stats.rejected, worst_e, worst_s);
  EXPECT_EQ(calls, sol.stats.accepted);
  EXPECT_GT(calls, 5);
  EXPECT_LT(worst_e, 1e-12);
  EXPECT_LT(worst_s, 1e-12);
  const em::NeuralSdeSolver fixed{SdeMethod::sriw1, false, 0.01};
  EXPECT_THROW(em::solve_spiral_paths(system, t, p.y0, 4, 9, fixed, torch::kFloat64, hook),
               aeolus::ConfigError);
}

// d R / d theta for both regularisers against central differences (float64). The controller
// is pinned (fac_min = fac_max = 1, and no step is rejected at this tolerance), so every
// evaluation takes the same 0.05 steps on the same Brownian path and the finite differences
// see only what backprop differentiates.
TEST(NeuralSde, RegulariserGradientMatchesFiniteDifferences) {
  torch::manual_seed(5);
  em::SpiralSdeNet net(em::SpiralSdeNetOptions{8, 4});
  net->to(torch::kFloat64);
  const auto system = em::neural_sde_system(net);
  const Vec t = {0.0, 0.2, 0.5};
  aeolus::SdeAdaptiveParams ap;
  ap.rtol = ap.atol = 0.01;
  ap.h0 = 0.05;
  ap.fac_min = ap.fac_max = 1.0;
  const auto x0 = torch::tensor({2.0, 0.0}, torch::kFloat64).expand({6, 2}).contiguous();
  for (auto kind : {em::OdeRegulariser::ernode, em::OdeRegulariser::srnode}) {
    long accepted = -1, rejected = -1;
    const auto reg = [&] {
      torch::Tensor total = torch::zeros({}, torch::kFloat64);
      BrownianPath path(12, 77);
      const auto sol = aeolus::solve_sde_adaptive(system, t, x0, ap, path,
                                                  em::sde_regulariser_hook(kind, ap, &total));
      accepted = sol.stats.accepted;
      rejected = sol.stats.rejected;
      return total;
    };
    net->zero_grad();
    const torch::Tensor r = reg();
    r.backward();
    EXPECT_EQ(accepted, 10);
    EXPECT_EQ(rejected, 0);
    EXPECT_GT(r.item<double>(), 0.0);
    int checked = 0;
    double worst = 0.0;
    for (const auto& prm : net->parameters()) {
      const torch::Tensor flat = prm.detach().view({-1});
      const torch::Tensor grad = prm.grad().view({-1});
      for (std::int64_t i : {std::int64_t(0), flat.numel() - 1}) {
        torch::NoGradGuard no_grad;
        const double eps = 1e-5, v = flat[i].item<double>();
        flat[i] = v + eps;
        const double up = reg().item<double>();
        flat[i] = v - eps;
        const double down = reg().item<double>();
        flat[i] = v;
        const double fd = (up - down) / (2 * eps);
        const double ad = grad[i].item<double>();
        EXPECT_TRUE(std::isfinite(ad));
        EXPECT_NE(ad, 0.0);
        // R_E sums differences of nearby drift values (E_D = h (f_2 - f_1)), so its rounding
        // error is a larger share of it than the loss's: with eps = 1e-6 the differences
        // agree to 3e-5, with 1e-7 to 4e-5, with 1e-5 (here) to 2e-6.
        const double scale = std::abs(fd) + 1e-4 * r.item<double>();
        EXPECT_NEAR(ad, fd, 2e-5 * scale) << em::ode_regulariser_name(kind);
        worst = std::max(worst, std::abs(ad - fd) / scale);
        ++checked;
      }
    }
    std::printf("%s: R = %.6g, gradient vs finite differences %.2e (relative) over %d entries\n",
                em::ode_regulariser_name(kind).c_str(), r.item<double>(), worst, checked);
    EXPECT_EQ(checked, 16);
  }
}

// A short regularised training lowers R against the same training with lambda0 = 0 (R measured,
// not trained on): same seed, data and paths.
TEST(NeuralSde, RegularisedTrainingLowersTheRegulariser) {
  aeolus::test::TempDir dir;
  em::SpiralSdeParams spiral = small_spiral();
  spiral.paths = 1000;
  for (const char* kind : {"ernode", "srnode"}) {
    em::NeuralSdeTrainingParams t = short_training();
    t.iterations = 25;
    t.batch_paths = 32;
    t.eval_paths = 64;
    t.adaptive = true;
    t.regulariser = kind;
    t.lambda0 = 0.0;
    const em::NeuralSdeTrainReport measured = em::train_spiral_sde(spiral, t, dir.file("m0.pt"));
    t.lambda0 = std::string(kind) == "ernode" ? 200.0 : 20.0;
    const em::NeuralSdeTrainReport trained = em::train_spiral_sde(spiral, t, dir.file("m1.pt"));
    ASSERT_EQ(measured.regs.size(), std::size_t(t.iterations));
    ASSERT_EQ(trained.regs.size(), std::size_t(t.iterations));
    const auto tail = [](const std::vector<double>& v) {
      double m = 0.0;
      for (std::size_t i = v.size() - 5; i < v.size(); ++i) m += v[i] / 5.0;
      return m;
    };
    std::printf(
        "%s: R %.4g -> %.4g with lambda0 = %g, %.4g -> %.4g measured only; loss %.4g / %.4g, "
        "NFE per solve %.0f / %.0f\n",
        kind, trained.regs.front(), tail(trained.regs), t.lambda0, measured.regs.front(),
        tail(measured.regs), trained.final_loss, measured.final_loss, trained.nfe_per_solve,
        measured.nfe_per_solve);
    EXPECT_EQ(trained.regs.front(), measured.regs.front());
    EXPECT_LT(tail(trained.regs), 0.8 * tail(measured.regs)) << kind;
    EXPECT_TRUE(std::isfinite(trained.final_loss));
  }
}

TEST(NeuralSde, Errors) {
  aeolus::test::TempDir dir;
  EXPECT_THROW(em::predict_spiral_sde(dir.file("missing.pt"), 10, 1), aeolus::IoError);
  const std::string junk = dir.file("junk.pt");
  std::ofstream(junk) << "not a model";
  EXPECT_THROW(em::predict_spiral_sde(junk, 10, 1), aeolus::ModelError);
  EXPECT_THROW(em::predict_spiral_sde(junk, 1, 1), aeolus::ConfigError);
  em::NeuralSdeTrainingParams t;
  t.dtype = "float16";
  EXPECT_THROW(em::train_spiral_sde(small_spiral(), t, dir.file("m.pt")), aeolus::ConfigError);
  t = {};
  t.adaptive = true;
  t.method = SdeMethod::milstein;
  EXPECT_THROW(em::train_spiral_sde(small_spiral(), t, dir.file("m.pt")), aeolus::ConfigError);
  t = {};
  t.batch_paths = 1;
  EXPECT_THROW(em::train_spiral_sde(small_spiral(), t, dir.file("m.pt")), aeolus::ConfigError);
  // A regulariser needs the adaptive solver; names and weights are checked.
  t = {};
  t.regulariser = "ernode";
  try {
    em::train_spiral_sde(small_spiral(), t, dir.file("m.pt"));
    ADD_FAILURE() << "no throw";
  } catch (const aeolus::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("neural_sde.adaptive"), std::string::npos) << e.what();
  }
  t.adaptive = true;
  t.regulariser = "l2";
  EXPECT_THROW(em::train_spiral_sde(small_spiral(), t, dir.file("m.pt")), aeolus::ConfigError);
  t.regulariser = "srnode";
  t.lambda_decay = 0.0;
  EXPECT_THROW(em::train_spiral_sde(small_spiral(), t, dir.file("m.pt")), aeolus::ConfigError);
  t.lambda_decay = 0.99;
  t.lambda0 = -1.0;
  EXPECT_THROW(em::train_spiral_sde(small_spiral(), t, dir.file("m.pt")), aeolus::ConfigError);
  EXPECT_THROW(em::sde_regulariser_hook(em::OdeRegulariser::none, {}, nullptr),
               aeolus::ConfigError);
}

}  // namespace
