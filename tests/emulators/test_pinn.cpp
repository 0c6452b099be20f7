// Tests of emulators/pinn_impl.hpp and emulators/pinn.hpp: autograd residuals (Eulerian and
// Lagrangian) against the analytic residuals of known functions; the periodic features and the
// characteristic's t = 0 seam; the Cole-Hopf Burgers reference against published values; L-BFGS
// on a convex quadratic; short trainings of every PDE and formulation (the loss falls, the saved
// model evaluates to the same error); a short LPINN at large beta; the parameter checks.
// The full default budgets (minutes each) are a benchmark, not a test:
//   tools/bench pinn_convection --other-pdes --threads 1   (docs/pinn.md, "Other PDEs")
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "emulators/device_impl.hpp"  // detail::ThreadScope
#include "emulators/pinn.hpp"
#include "emulators/pinn_impl.hpp"
#include "grids/error.hpp"

using namespace aeolus;
using namespace aeolus::emulators;
using torch::Tensor;
using torch::indexing::Slice;

namespace {

constexpr double kPi = 3.14159265358979323846;

Tensor column(const Tensor& X, int j) { return X.index({Slice(), Slice(j, j + 1)}); }

// Random points in [a0, b0] x [a1, b1] that require grad.
Tensor points(int n, double a0, double b0, double a1, double b1) {
  torch::manual_seed(11);
  const Tensor u = torch::rand({n, 2}, torch::kFloat64);
  const Tensor X = torch::cat({a0 + (b0 - a0) * column(u, 0), a1 + (b1 - a1) * column(u, 1)}, 1);
  return X.requires_grad_(true);
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a.detach() - b.detach()).abs().max().item<double>();
}

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "aeolus_test_pinn";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

PinnParams tiny(const std::string& type, const std::string& formulation) {
  PinnParams p = pinn_defaults(type, formulation);
  p.network.width = 8;
  p.network.depth = 2;
  p.collocation.n_residual = 64;
  p.collocation.n_initial = 32;
  p.collocation.n_boundary = 16;
  p.training.adam_iterations = 30;
  p.training.learning_rate = 1e-2;
  p.training.lbfgs_iterations = 20;
  p.training.threads = 1;
  p.training.log_every = 10;
  p.evaluation.nx = 32;
  p.evaluation.nt = 10;
  p.evaluation.threads = 1;
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Residuals by autograd.

TEST(PinnResidual, ConvectionDiffusionMatchesAnalytic) {
  PinnPdeParams pde;
  pde.type = "convection_diffusion";
  pde.beta = 3.0;
  pde.nu = 0.7;
  const auto problem = make_pinn_problem(pde);
  const Tensor X = points(50, 0.0, 2 * kPi, 0.0, 1.0);
  const Tensor x = column(X, 0), t = column(X, 1);
  // Not a solution: every derivative contributes.
  const Tensor u = torch::sin(x - 2.0 * t) * torch::exp(-0.3 * t) + x * x * t;
  const Tensor xd = x.detach(), td = t.detach();
  const Tensor e = torch::exp(-0.3 * td), s = torch::sin(xd - 2.0 * td),
               c = torch::cos(xd - 2.0 * td);
  const Tensor u_t = -2.0 * c * e - 0.3 * s * e + xd * xd;
  const Tensor u_x = c * e + 2.0 * xd * td;
  const Tensor u_xx = -s * e + 2.0 * td;
  EXPECT_LT(max_abs_diff(problem->residual(X, u), u_t + 3.0 * u_x - 0.7 * u_xx), 1e-12);
}

TEST(PinnResidual, BurgersMatchesAnalytic) {
  PinnPdeParams pde;
  pde.type = "burgers";
  pde.nu = 0.05;
  const auto problem = make_pinn_problem(pde);
  const Tensor X = points(50, -1.0, 1.0, 0.0, 1.0);
  const Tensor x = column(X, 0), t = column(X, 1);
  const Tensor u = torch::sin(kPi * x) * t + x * x * x;
  const Tensor xd = x.detach(), td = t.detach(), ud = u.detach();
  const Tensor u_t = torch::sin(kPi * xd);
  const Tensor u_x = kPi * torch::cos(kPi * xd) * td + 3.0 * xd * xd;
  const Tensor u_xx = -kPi * kPi * torch::sin(kPi * xd) * td + 6.0 * xd;
  EXPECT_LT(max_abs_diff(problem->residual(X, u), u_t + ud * u_x - 0.05 * u_xx), 1e-12);
}

TEST(PinnResidual, PoissonOfTheManufacturedSolutionVanishes) {
  PinnPdeParams pde;
  pde.type = "poisson2d";
  const auto problem = make_pinn_problem(pde);
  const Tensor X = points(50, 0.0, 1.0, 0.0, 1.0);
  const Tensor x = column(X, 0), y = column(X, 1);
  const Tensor exact = torch::sin(kPi * x) * torch::sin(2 * kPi * y) + x * x - y * y;
  EXPECT_LT(problem->residual(X, exact).abs().max().item<double>(), 1e-10);
  // And a function that is not the solution leaves -lap v - f.
  const Tensor v = torch::sin(x) * torch::cos(2.0 * y);
  const Tensor xd = x.detach(), yd = y.detach();
  const Tensor f = 5 * kPi * kPi * torch::sin(kPi * xd) * torch::sin(2 * kPi * yd);
  EXPECT_LT(max_abs_diff(problem->residual(X, v), 5.0 * torch::sin(xd) * torch::cos(2.0 * yd) - f),
            1e-11);
  EXPECT_LT(max_abs_diff(problem->boundary_value(X), exact), 1e-15);
}

TEST(PinnResidual, LagrangianResidualsFollowTheCharacteristicMap) {
  // x_L = x0 + 0.3 t sin x0 (a map that is not a translation) and u = g(x_L) with g = sin:
  // then u_x = cos(x_L), u_xx = -sin(x_L), du/dt = cos(x_L) 0.3 sin x0.
  PinnPdeParams pde;
  pde.type = "convection_diffusion";
  pde.beta = 2.0;
  pde.nu = 0.4;
  const auto problem = make_pinn_problem(pde);
  const Tensor X0 = points(40, 0.0, 2 * kPi, 0.0, 1.0);
  const Tensor x0 = column(X0, 0), t = column(X0, 1);
  const Tensor x_l = x0 + 0.3 * t * torch::sin(x0);
  const Tensor u = torch::sin(x_l);
  const auto r = lagrangian_residuals(*problem, X0, x_l, u);
  const Tensor x0d = x0.detach(), xld = x_l.detach();
  EXPECT_LT(max_abs_diff(r[0], 0.3 * torch::sin(x0d) - 2.0), 1e-12);
  EXPECT_LT(max_abs_diff(r[1], torch::cos(xld) * 0.3 * torch::sin(x0d) + 0.4 * torch::sin(xld)),
            1e-11);

  // The exact Lagrangian solution of convection-diffusion has zero residuals.
  const Tensor x_exact = x0 + 2.0 * t;
  const Tensor u_exact = torch::exp(-0.4 * t) * torch::sin(x0);
  const auto r0 = lagrangian_residuals(*problem, X0, x_exact, u_exact);
  EXPECT_LT(r0[0].abs().max().item<double>(), 1e-12);
  EXPECT_LT(r0[1].abs().max().item<double>(), 1e-12);

  // Burgers: the characteristic moves with u itself.
  pde.type = "burgers";
  pde.nu = 0.1;
  const auto burgers = make_pinn_problem(pde);
  const auto rb = lagrangian_residuals(*burgers, X0, x_l, u);
  EXPECT_LT(max_abs_diff(rb[0], 0.3 * torch::sin(x0d) - torch::sin(xld)), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// The network.

TEST(PinnNet, PeriodicFeaturesAndTheCharacteristicSeam) {
  PinnParams p = pinn_defaults("convection", "lpinn");
  p.pde.beta = 40.0;
  p.network.width = 10;
  p.network.depth = 2;
  const auto problem = make_pinn_problem(p.pde);
  torch::manual_seed(5);
  PinnModel model(p, *problem);
  {
    // The characteristic network starts at zero output; give it a random one.
    torch::NoGradGuard no_grad;
    for (auto& q : model->parameters()) q.add_(torch::randn_like(q));
  }
  EXPECT_GT((model->x_l(torch::tensor({{1.0, 0.5}}, torch::kFloat64)) - 1.0).abs().item<double>(),
            1e-3);
  const Tensor t = torch::linspace(0.0, 1.0, 7, torch::kFloat64).unsqueeze(1);
  const Tensor lo = torch::cat({torch::zeros_like(t), t}, 1);
  const Tensor hi = torch::cat({torch::full_like(t, 2 * kPi), t}, 1);
  // The state is periodic in x0, the characteristic shifts by exactly the period.
  EXPECT_LT(max_abs_diff(model->u(lo), model->u(hi)), 1e-12);
  EXPECT_LT(max_abs_diff(model->x_l(hi) - model->x_l(lo), torch::full_like(t, 2 * kPi)), 1e-12);
  // x_L(x0, 0) = x0 on both sides of the seam (not merely modulo 2 pi).
  const Tensor x0 =
      torch::tensor({0.0, 1e-9, 3.0, 2 * kPi - 1e-9, 2 * kPi}, torch::kFloat64).unsqueeze(1);
  EXPECT_LT(max_abs_diff(model->x_l(torch::cat({x0, torch::zeros_like(x0)}, 1)), x0), 1e-15);

  // A plain network on (x, t) is not periodic; Fourier features are a different input size.
  PinnParams q = pinn_defaults("convection", "pinn");
  q.network.width = 10;
  q.network.depth = 2;
  PinnModel plain(q, *problem);
  EXPECT_GT(max_abs_diff(plain->u(lo), plain->u(hi)), 1e-6);
  q.network.features = "fourier";
  q.network.fourier_features = 6;
  PinnModel fourier(q, *problem);
  EXPECT_EQ(fourier->u(lo).sizes(), torch::IntArrayRef({7, 1}));
}

// ---------------------------------------------------------------------------------------------
// References.

TEST(PinnReference, BurgersColeHopf) {
  const double nu = 0.01 / kPi;
  for (double x : {-0.9, -0.3, 0.2, 0.7})
    EXPECT_NEAR(burgers_cole_hopf(x, 0.0, nu), -std::sin(kPi * x), 1e-15);
  // Small t: still close to the initial state away from x = 0.
  EXPECT_NEAR(burgers_cole_hopf(0.5, 1e-6, nu), -1.0, 1e-5);
  // Odd in x, zero at 0 and at the walls.
  for (double t : {0.25, 0.5, 1.0}) {
    EXPECT_NEAR(burgers_cole_hopf(0.0, t, nu), 0.0, 1e-12);
    EXPECT_NEAR(burgers_cole_hopf(1.0, t, nu), 0.0, 1e-12);
    EXPECT_NEAR(burgers_cole_hopf(0.37, t, nu), -burgers_cole_hopf(-0.37, t, nu), 1e-12);
  }
  // Basdevant et al. (1986): the steepest slope, |u_x| = 152.00516 at x = 0, is reached at
  // t = 1.6037 / pi.
  const double t_star = 1.6037 / kPi, h = 1e-6;
  const double slope =
      (burgers_cole_hopf(h, t_star, nu) - burgers_cole_hopf(-h, t_star, nu)) / (2 * h);
  EXPECT_NEAR(std::abs(slope), 152.00516, 2e-3);
  const double later = (burgers_cole_hopf(h, 0.9, nu) - burgers_cole_hopf(-h, 0.9, nu)) / (2 * h);
  EXPECT_LT(std::abs(later), std::abs(slope));
}

// ---------------------------------------------------------------------------------------------
// L-BFGS.

TEST(PinnLbfgs, ConvergesOnAConvexQuadratic) {
  // f(w) = 1/2 w^T A w - b^T w, A symmetric positive definite with condition number ~1e3.
  torch::manual_seed(2);
  const int n = 20;
  const Tensor q = std::get<0>(torch::linalg::qr(torch::randn({n, n}, torch::kFloat64)));
  const Tensor d = torch::logspace(0, 3, n, 10.0, torch::kFloat64);
  const Tensor A = q.matmul(torch::diag(d)).matmul(q.t());
  const Tensor b = torch::randn({n}, torch::kFloat64);
  const Tensor w_star = torch::linalg::solve(A, b, true);
  Tensor w = torch::zeros({n}, torch::kFloat64).requires_grad_(true);
  const auto closure = [&]() {
    if (w.grad().defined()) w.grad().zero_();
    Tensor f = 0.5 * w.dot(A.mv(w)) - b.dot(w);
    f.backward();
    return f;
  };
  LbfgsOptions o;
  o.max_iterations = 500;
  o.history = 50;
  o.chunk = 25;  // several optimizer steps: the history must carry over between them
  int chunks = 0;
  const LbfgsRun run = run_lbfgs({w}, closure, o, [&](int, double) { return ++chunks < 1000; });
  EXPECT_TRUE(run.converged);
  EXPECT_LT(run.iterations, 100);
  EXPECT_GE(run.evaluations, run.iterations);
  EXPECT_LT(max_abs_diff(w, w_star) / w_star.abs().max().item<double>(), 1e-6);
  const double f_star = -0.5 * b.dot(w_star).item<double>();
  EXPECT_NEAR(run.loss, f_star, 1e-10 * std::abs(f_star));
}

// ---------------------------------------------------------------------------------------------
// Training.

TEST(PinnTraining, EveryPdeAndFormulationLowersTheLossAndReloads) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"convection", "pinn"},
                                                                  {"convection", "lpinn"},
                                                                  {"convection_diffusion", "pinn"},
                                                                  {"convection_diffusion", "lpinn"},
                                                                  {"burgers", "pinn"},
                                                                  {"burgers", "lpinn"},
                                                                  {"poisson2d", "pinn"}};
  for (const auto& [type, formulation] : cases) {
    SCOPED_TRACE(type + " " + formulation);
    PinnParams p = tiny(type, formulation);
    if (type == "convection") p.pde.beta = 2.0;
    if (type == "poisson2d") p.collocation.sampling = "grid";
    const std::string path = temp_path(type + "_" + formulation + ".pt");
    const PinnTrainReport r = train_pinn(p, path);
    EXPECT_EQ(r.adam_iterations, 30);
    EXPECT_GT(r.lbfgs_iterations, 0);
    EXPECT_GE(r.lbfgs_evaluations, r.lbfgs_iterations);
    EXPECT_LT(r.final_loss, 0.5 * r.initial_loss);
    EXPECT_GT(r.seconds, 0.0);
    EXPECT_EQ(r.threads, 1);
    // The CSV logs the loss; the saved model evaluates to the report's error.
    std::ifstream csv(path + ".csv");
    std::string header;
    std::getline(csv, header);
    EXPECT_EQ(header, "phase,iteration,loss,residual,initial,boundary,seconds");
    const PinnEvaluation e = evaluate_pinn(path, p.evaluation);
    EXPECT_EQ(e.pde_type, type);
    EXPECT_EQ(e.formulation, formulation);
    ASSERT_EQ(e.u_pred.size(), std::size_t(32 * 10));
    ASSERT_EQ(e.u_ref.size(), std::size_t(32 * 10));
    EXPECT_NEAR(e.relative_l2, r.relative_l2, 1e-12);
    EXPECT_TRUE(std::isfinite(e.relative_l2));
  }
}

TEST(PinnTraining, LpinnIsAccurateAtLargeBeta) {
  // The formulation, not the budget, does the work: a small LPINN at beta = 40.
  PinnParams p = pinn_defaults("convection", "lpinn");
  p.pde.beta = 40.0;
  p.network.width = 16;
  p.network.depth = 2;
  p.collocation.n_residual = 200;
  p.collocation.n_initial = 64;
  p.training.adam_iterations = 0;
  p.training.lbfgs_iterations = 400;
  p.training.threads = 1;
  p.evaluation.nx = 64;
  p.evaluation.nt = 20;
  p.evaluation.threads = 1;
  const PinnTrainReport r = train_pinn(p, temp_path("lpinn_beta40.pt"));
  EXPECT_LT(r.relative_l2, 2e-2);
}

TEST(PinnTraining, EvaluationGridOfTheConvectionCase) {
  PinnParams p = tiny("convection", "pinn");
  p.training.adam_iterations = 1;
  p.training.lbfgs_iterations = 0;
  const std::string path = temp_path("grid.pt");
  train_pinn(p, path);
  const PinnEvaluation e = evaluate_pinn(path, {});  // 256 x 100, as Krishnapriyan et al.
  ASSERT_EQ(e.x.size(), 256u);
  ASSERT_EQ(e.t.size(), 100u);
  EXPECT_DOUBLE_EQ(e.x[0], 0.0);
  EXPECT_NEAR(e.x[255], 2 * kPi * 255 / 256, 1e-14);  // periodic: end point excluded
  EXPECT_DOUBLE_EQ(e.t[99], 1.0);
  const std::size_t k = 37 * 256 + 100;
  EXPECT_NEAR(e.u_ref[k], std::sin(e.x[100] - p.pde.beta * e.t[37]), 1e-14);
}

// ---------------------------------------------------------------------------------------------
// Parameters and files.

TEST(PinnParams, ChecksNameTheKey) {
  const auto message = [](const PinnParams& p) {
    try {
      check_pinn_params(p);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NO_THROW(check_pinn_params(pinn_defaults()));
  EXPECT_THROW(pinn_defaults("heat"), ConfigError);
  EXPECT_THROW(pinn_defaults("burgers", "spinn"), ConfigError);
  EXPECT_NEAR(pinn_defaults("burgers").pde.nu, 0.01 / kPi, 1e-18);
  EXPECT_EQ(pinn_defaults("convection", "lpinn").network.features, "periodic");

  PinnParams p = pinn_defaults("poisson2d");
  p.formulation = "lpinn";
  p.network.features = "periodic";
  EXPECT_NE(message(p).find("lpinn"), std::string::npos);
  p = pinn_defaults("convection", "lpinn");
  p.network.features = "none";
  EXPECT_NE(message(p).find("network.features"), std::string::npos);
  p = pinn_defaults("burgers");
  p.pde.nu = 0.0;
  EXPECT_NE(message(p).find("pde.nu"), std::string::npos);
  p = pinn_defaults();
  p.network.width = 0;
  EXPECT_NE(message(p).find("network.width"), std::string::npos);
  p = pinn_defaults();
  p.collocation.sampling = "sobol";
  EXPECT_NE(message(p).find("collocation.sampling"), std::string::npos);
  p = pinn_defaults();
  p.training.precision = "half";
  EXPECT_NE(message(p).find("training.precision"), std::string::npos);
  p = pinn_defaults("poisson2d");
  p.network.features = "periodic";
  EXPECT_NE(message(p).find("network.features"), std::string::npos);
}

TEST(PinnParams, MissingOrForeignModelFiles) {
  EXPECT_THROW(evaluate_pinn(temp_path("does_not_exist.pt")), IoError);
  const std::string junk = temp_path("junk.pt");
  std::ofstream(junk) << "not a model";
  EXPECT_THROW(evaluate_pinn(junk), ModelError);
}

// The case-file checks (pinn_params.cpp, light: no LibTorch) know each PDE type's facts from a
// table; the problems themselves (pinn.cpp) must agree with it: an lpinn is accepted exactly for
// the Lagrangian problems, periodic features exactly for the periodic ones.
TEST(PinnParams, LightTableMatchesTheProblems) {
  using namespace aeolus::emulators;
  const auto names = pinn_problem_names();
  ASSERT_EQ(names.size(), 4u);
  for (const auto& name : names) {
    auto pinn = pinn_defaults(name, "pinn");
    const auto problem = make_pinn_problem(pinn.pde);
    auto lpinn = pinn_defaults(name, "pinn");
    lpinn.formulation = "lpinn";
    lpinn.network.features = "periodic";
    bool lpinn_ok = true;
    try {
      check_pinn_params(lpinn);
    } catch (const aeolus::ConfigError&) {
      lpinn_ok = false;
    }
    EXPECT_EQ(lpinn_ok, problem->lagrangian() && problem->periodic()) << name;
    auto periodic = pinn;
    periodic.network.features = "periodic";
    bool periodic_ok = true;
    try {
      check_pinn_params(periodic);
    } catch (const aeolus::ConfigError&) {
      periodic_ok = false;
    }
    EXPECT_EQ(periodic_ok, problem->periodic()) << name;
  }
}
