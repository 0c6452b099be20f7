// Benchmark: ERNODE / SRNODE vs unregularised neural ODE on the spiral (Pal et al. 2021)
//
//   tools/bench neural_ode_regularisation [iterations] [threads]
//               [--seeds N] [--lambda-ernode L] [--lambda-srnode L] [--decay D]
//   (defaults: 2000 iterations, 1 thread, 3 seeds, lambda0 0.5 (ERNODE) and 0.1 (SRNODE),
//    decay 0.999 per iteration)
//
// Case: cases/spiral-ode's defaults (emulators/neural_ode.hpp): truth dy/dt = y^3 A from
// y0 = (2, 0), 1000 points in [0, 25]; the neural ODE dy/dt = MLP(y^3), 2-50-2 tanh, float64,
// dopri5 at rtol 1e-7, atol 1e-9 for training and prediction; minibatches of 20 windows of 10
// points, RMSprop lr 1e-3, backprop through the solver. Three models per seed, the same seed
// (initial weights and batches) and the same number of iterations: unregularised, ERNODE
// (loss + lambda_k sum |h| ||err||) and SRNODE (loss + lambda_k sum h|lambda| / 3.25), with
// lambda_k = lambda0 decay^k.
//
// Reported per model: NFE of a prediction (a rollout over [0, 25] from y0, no autograd) and its
// wall time (the fastest of 5), training wall time, and two test errors, relative L2 over the
// 1000 points: the rollout from y0 (long horizon; training sees only 10-point windows) and a
// rollout from the held-out start (0, 1.5). The summary gives each as a ratio to the
// unregularised model of the same seed, geometric mean over seeds. Pal et al.'s headline
// claim: regularised models predict with about half the NFE at similar accuracy. For scale,
// the first line gives the NFE of the true right-hand side at the same tolerance.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "emulators/neural_ode.hpp"
#include "grids/error.hpp"
#include "solvers/ode_adaptive.hpp"

using namespace aeolus;
using namespace aeolus::emulators;

namespace {

struct Run {
  std::string reg;
  int seed = 0;
  NeuralOdeTrainReport train;
  NeuralOdePrediction pred, held;
};

double parse_double(const char* s, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end) throw ConfigError(std::string(what) + " = '" + s + "' is not a number");
  return v;
}

}  // namespace

int main(int argc, char** argv) try {
  int iterations = 2000, threads = 1, seeds = 3;
  double lambda_ernode = 0.5, lambda_srnode = 0.1, decay = 0.999;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](const char* what) {
      if (i + 1 >= argc) throw ConfigError(std::string(what) + " needs a value");
      return parse_double(argv[++i], what);
    };
    if (a == "--seeds")
      seeds = static_cast<int>(value("--seeds"));
    else if (a == "--lambda-ernode")
      lambda_ernode = value("--lambda-ernode");
    else if (a == "--lambda-srnode")
      lambda_srnode = value("--lambda-srnode");
    else if (a == "--decay")
      decay = value("--decay");
    else if (positional == 0 && ++positional)
      iterations = static_cast<int>(parse_double(argv[i], "iterations"));
    else if (positional == 1 && ++positional)
      threads = static_cast<int>(parse_double(argv[i], "threads"));
    else
      throw ConfigError("unknown argument '" + a +
                        "'; usage: neural_ode_regularisation [iterations] [threads] [--seeds N] "
                        "[--lambda-ernode L] [--lambda-srnode L] [--decay D]");
  }
  if (seeds < 1) throw ConfigError("--seeds must be >= 1");

  const SpiralOdeParams spiral;
  const SpiralOdeData data = make_spiral_ode_data(spiral);
  const NeuralOdeModelParams model;
  const auto dir = std::filesystem::temp_directory_path() / "aeolus_bench_neural_ode_reg";
  std::filesystem::create_directories(dir);

  std::printf("spiral ODE: %d points in [0, %g], MLP 2-50-2 tanh on y^3, %s rtol %g atol %g\n",
              spiral.points, spiral.t_end, model.method.c_str(), model.rtol, model.atol);
  {
    // What the true dynamics cost at the same tolerance: a model that reproduces them closely
    // cannot be much cheaper than this.
    const auto rhs = [](double, const std::vector<double>& y) {
      const double c0 = y[0] * y[0] * y[0], c1 = y[1] * y[1] * y[1];
      return std::vector<double>{-0.1 * c0 - 2.0 * c1, 2.0 * c0 - 0.1 * c1};
    };
    AdaptiveParams p;
    p.method = rk_method_from_name(model.method);
    p.rtol = model.rtol;
    p.atol = model.atol;
    const auto sol =
        solve_adaptive(rhs, data.t, std::vector<double>{spiral.y0[0], spiral.y0[1]}, p);
    std::printf("the true right-hand side at this tolerance: NFE %ld (%ld steps, %ld rejected)\n",
                sol.stats.nfev, sol.stats.steps, sol.stats.rejected);
  }
  std::printf(
      "budget: %d iterations per model, batch 20 x 10 points, RMSprop 1e-3, %d thread(s), "
      "%d seed(s); lambda0 ERNODE %g, SRNODE %g, decay %g\n\n",
      iterations, threads, seeds, lambda_ernode, lambda_srnode, decay);
  std::printf("%-7s %4s %9s %9s %8s %9s %7s %9s %9s %9s %9s\n", "model", "seed", "loss", "R",
              "train s", "ms/iter", "NFE/it", "pred NFE", "pred ms", "err y0", "err held");

  std::vector<Run> runs;
  const std::vector<std::string> regs = {"none", "ernode", "srnode"};
  for (int seed = 1; seed <= seeds; ++seed) {
    for (const auto& reg : regs) {
      NeuralOdeTrainingParams tr;
      tr.iterations = iterations;
      tr.threads = threads;
      tr.seed = static_cast<std::uint64_t>(seed);
      tr.regulariser = reg;
      tr.lambda0 = reg == "ernode" ? lambda_ernode : lambda_srnode;
      tr.lambda_decay = decay;
      tr.log_every = 100;
      const std::string path = (dir / (reg + "_" + std::to_string(seed) + ".pt")).string();
      Run r;
      r.reg = reg;
      r.seed = seed;
      r.train = train_spiral_ode(data, model, tr, path);
      NeuralOdePredictParams pp;
      pp.threads = threads;
      r.pred = predict_spiral_ode(path, data, pp);
      pp.held_out = true;
      r.held = predict_spiral_ode(path, data, pp);
      std::printf("%-7s %4d %9.4f %9.3g %8.1f %9.2f %7.0f %9ld %9.2f %9.4f %9.4f\n", reg.c_str(),
                  seed, r.train.final_loss, r.train.final_reg, r.train.seconds,
                  1e3 * r.train.seconds_per_iteration, r.train.mean_nfe, r.pred.nfe,
                  1e3 * r.pred.seconds, r.pred.relative_l2, r.held.relative_l2);
      std::fflush(stdout);
      runs.push_back(r);
    }
  }

  // Ratios to the unregularised model of the same seed, geometric mean over seeds.
  std::printf("\nratio to unregularised (geometric mean over %d seed(s)):\n", seeds);
  std::printf("%-7s %10s %10s %10s %10s %10s\n", "model", "pred NFE", "pred time", "train time",
              "err y0", "err held");
  for (const auto& reg : regs) {
    double l_nfe = 0, l_pt = 0, l_tt = 0, l_e = 0, l_h = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
      const Run* base = nullptr;
      const Run* run = nullptr;
      for (const auto& r : runs) {
        if (r.seed == seed && r.reg == "none") base = &r;
        if (r.seed == seed && r.reg == reg) run = &r;
      }
      l_nfe += std::log(double(run->pred.nfe) / double(base->pred.nfe));
      l_pt += std::log(run->pred.seconds / base->pred.seconds);
      l_tt += std::log(run->train.seconds / base->train.seconds);
      l_e += std::log(run->pred.relative_l2 / base->pred.relative_l2);
      l_h += std::log(run->held.relative_l2 / base->held.relative_l2);
    }
    const auto gm = [&](double l) { return std::exp(l / seeds); };
    std::printf("%-7s %10.3f %10.3f %10.3f %10.3f %10.3f\n", reg.c_str(), gm(l_nfe), gm(l_pt),
                gm(l_tt), gm(l_e), gm(l_h));
  }
  std::filesystem::remove_all(dir);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "neural_ode_regularisation: %s\n", e.what());
  return 1;
}
