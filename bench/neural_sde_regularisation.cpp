// Benchmark: error / stiffness regularisers (Pal et al. 2021) vs plain neural SDE on the spiral
//
//   tools/bench neural_sde_regularisation [iterations] [threads] [--seeds N] [--tol T]
//               [--lambda-ernode L] [--lambda-srnode L] [--decay D] [--pred-paths P]
//   (defaults: 200 iterations, 1 thread, 3 seeds, rtol = atol = 1e-3, lambda0 1 (error) and
//    2 (stiffness), decay 0.99 per iteration, 10^4 prediction paths)
//
// Case: cases/spiral-sde's defaults (emulators/neural_sde.hpp): the truth dX = (X^3) A dt +
// diag(0.2) X dW from (2, 0), its mean and variance at 30 times in [0, 1] from 10^4 paths; the
// neural SDE (drift MLP 2-50-2 tanh on X^3, positive diagonal diffusion), float32, trained by
// moment matching on 64 paths per iteration, Adam 0.05. All three models train and predict
// with the adaptive SRIW1 solver at rtol = atol = T (the regularisers need its estimates, and
// the prediction cost of a fixed-step solve does not depend on the model), resuming the planned
// step after each observation time. Three models per seed, the same seed (initial weights and
// every Brownian path) and the same number of iterations: unregularised, error
// (loss + lambda_k sum |h| (||E_D|| / 6 + ||E_N||), the solver's own estimate, as Pal et al.'s
// SDE experiment: EEst * dt) and stiffness (loss + lambda_k sum h |lambda| / 2, |lambda| from
// SRIW1's two drift stages), lambda_k = lambda0 decay^(k-1).
//
// Reported per model: drift + diffusion evaluations (NFE) of a prediction (P fresh paths as one
// batched solve, no autograd) and its wall time (the fastest of 3), training wall time, and the
// test error: the moment-matching loss sum_k,i (mean_model - mean_truth)^2 + (var_model -
// var_truth)^2 over the 30 times, with the model's moments from P paths it never saw and the
// truth's from a held-out ensemble of 10^4 paths of the true SDE (another seed than the
// training data). The summary gives each as a ratio to the unregularised model of the same
// seed, geometric mean over seeds. Pal et al.'s headline: about half the prediction cost at
// similar accuracy. For scale, the first lines give the NFE of the true SDE at the same
// tolerance and the test error of 10^4 paths of the true SDE itself (Monte Carlo noise: the
// floor of the test error).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "emulators/neural_sde.hpp"
#include "grids/error.hpp"
#include "solvers/sde.hpp"

using namespace aeolus;
using namespace aeolus::emulators;

namespace {

struct Run {
  std::string reg;
  int seed = 0;
  NeuralSdeTrainReport train;
  NeuralSdePrediction pred;
  double test_error = 0;
};

double parse_double(const char* s, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end) throw ConfigError(std::string(what) + " = '" + s + "' is not a number");
  return v;
}

// The training loss's form between two sets of moments at the same times.
double moment_distance(const SpiralMoments& a, const SpiralMoments& b) {
  double d = 0;
  for (std::size_t k = 0; k < a.t.size(); ++k)
    for (int i = 0; i < 2; ++i) {
      d += (a.mean[k][i] - b.mean[k][i]) * (a.mean[k][i] - b.mean[k][i]);
      d += (a.variance[k][i] - b.variance[k][i]) * (a.variance[k][i] - b.variance[k][i]);
    }
  return d;
}

double tail_mean(const std::vector<double>& v, std::size_t n) {
  if (v.empty()) return 0.0;
  n = std::min(n, v.size());
  double s = 0;
  for (std::size_t i = v.size() - n; i < v.size(); ++i) s += v[i];
  return s / double(n);
}

}  // namespace

int main(int argc, char** argv) try {
  int iterations = 200, threads = 1, seeds = 3, pred_paths = 10000;
  double tol = 1e-3, lambda_error = 1.0, lambda_stiff = 2.0, decay = 0.99;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](const char* what) {
      if (i + 1 >= argc) throw ConfigError(std::string(what) + " needs a value");
      return parse_double(argv[++i], what);
    };
    if (a == "--seeds")
      seeds = static_cast<int>(value("--seeds"));
    else if (a == "--tol")
      tol = value("--tol");
    else if (a == "--lambda-ernode")
      lambda_error = value("--lambda-ernode");
    else if (a == "--lambda-srnode")
      lambda_stiff = value("--lambda-srnode");
    else if (a == "--decay")
      decay = value("--decay");
    else if (a == "--pred-paths")
      pred_paths = static_cast<int>(value("--pred-paths"));
    else if (positional == 0 && ++positional)
      iterations = static_cast<int>(parse_double(argv[i], "iterations"));
    else if (positional == 1 && ++positional)
      threads = static_cast<int>(parse_double(argv[i], "threads"));
    else
      throw ConfigError("unknown argument '" + a +
                        "'; usage: neural_sde_regularisation [iterations] [threads] [--seeds N] "
                        "[--tol T] [--lambda-ernode L] [--lambda-srnode L] [--decay D] "
                        "[--pred-paths P]");
  }
  if (seeds < 1) throw ConfigError("--seeds = " + std::to_string(seeds) + " must be >= 1");
  if (!(tol > 0.0)) throw ConfigError("--tol = " + std::to_string(tol) + " must be > 0");

  const SpiralSdeParams spiral;
  SpiralSdeParams held_out = spiral;
  held_out.seed = spiral.seed + 1;
  const SpiralMoments data = spiral_sde_moments(spiral);
  const SpiralMoments truth = spiral_sde_moments(held_out);
  const auto dir = std::filesystem::temp_directory_path() / "aeolus_bench_neural_sde_reg";
  std::filesystem::create_directories(dir);

  std::printf(
      "spiral SDE: %d observation times in [0, %g], data and held-out truth 2 x %d paths; "
      "neural SDE drift 2-50-2 tanh on X^3, diagonal diffusion, float32, adaptive sriw1 rtol = "
      "atol = %g\n",
      spiral.observations, spiral.t_end, spiral.paths, tol);
  {
    // What the true SDE costs at the same tolerance (a model that reproduces it closely cannot
    // be much cheaper), and the test error of the true SDE's own ensemble (the noise floor).
    const auto sys = spiral_sde_system(spiral);
    const std::vector<double> t = spiral_observation_times(spiral);
    std::vector<double> x0;
    for (int q = 0; q < pred_paths; ++q) x0.insert(x0.end(), spiral.y0.begin(), spiral.y0.end());
    SdeAdaptiveParams ap;
    ap.rtol = ap.atol = tol;
    ap.resume_planned_step = true;
    BrownianPath path(2 * static_cast<std::size_t>(pred_paths), 99);
    const auto sol = solve_sde_adaptive(sys, t, x0, ap, path);
    std::printf(
        "the true SDE at this tolerance, %d paths: NFE %ld (%ld steps, %ld rejected); the "
        "test error of the training data's ensemble: %.4g\n",
        pred_paths, sol.stats.nf + sol.stats.ng, sol.stats.accepted + sol.stats.rejected,
        sol.stats.rejected, moment_distance(data, truth));
  }
  std::printf(
      "budget: %d iterations per model, 64 paths each, Adam 0.05, %d thread(s), %d seed(s); "
      "lambda0 error %g, stiffness %g, decay %g; prediction %d paths\n\n",
      iterations, threads, seeds, lambda_error, lambda_stiff, decay, pred_paths);
  std::printf("%-9s %4s %9s %9s %8s %7s %9s %9s %9s %9s %9s\n", "model", "seed", "loss", "R",
              "train s", "NFE/it", "pred NFE", "pred ms", "test err", "max|dm|", "max|dv|");

  std::vector<Run> runs;
  const std::vector<std::string> regs = {"none", "ernode", "srnode"};
  for (int seed = 1; seed <= seeds; ++seed) {
    for (const auto& reg : regs) {
      NeuralSdeTrainingParams tr;
      tr.iterations = iterations;
      tr.threads = threads;
      tr.seed = static_cast<std::uint64_t>(seed);
      tr.adaptive = true;
      tr.rtol = tr.atol = tol;
      tr.regulariser = reg;
      tr.lambda0 = reg == "ernode" ? lambda_error : lambda_stiff;
      tr.lambda_decay = decay;
      const std::string path = (dir / (reg + "_" + std::to_string(seed) + ".pt")).string();
      Run r;
      r.reg = reg;
      r.seed = seed;
      r.train = train_spiral_sde(spiral, tr, path);
      double best = std::numeric_limits<double>::infinity();
      for (int rep = 0; rep < 3; ++rep) {
        r.pred = predict_spiral_sde(path, pred_paths, 1000 + std::uint64_t(seed), threads);
        best = std::min(best, r.pred.seconds);
      }
      r.pred.seconds = best;
      r.test_error = moment_distance(r.pred.model, truth);
      double dm = 0, dv = 0;
      for (std::size_t k = 0; k < truth.t.size(); ++k)
        for (int i = 0; i < 2; ++i) {
          dm = std::max(dm, std::abs(r.pred.model.mean[k][i] - truth.mean[k][i]));
          dv = std::max(dv, std::abs(r.pred.model.variance[k][i] - truth.variance[k][i]));
        }
      std::printf("%-9s %4d %9.4f %9.3g %8.1f %7.0f %9ld %9.1f %9.4f %9.4f %9.4f\n",
                  reg == "none" ? "none" : (reg == "ernode" ? "error" : "stiffness"), seed,
                  r.train.final_loss, tail_mean(r.train.regs, 20), r.train.seconds,
                  r.train.nfe_per_solve, r.pred.nf + r.pred.ng, 1e3 * r.pred.seconds, r.test_error,
                  dm, dv);
      std::fflush(stdout);
      runs.push_back(r);
    }
  }

  // Ratios to the unregularised model of the same seed, geometric mean over seeds.
  std::printf("\nratio to unregularised (geometric mean over %d seed(s)):\n", seeds);
  std::printf("%-9s %10s %10s %10s %10s\n", "model", "pred NFE", "pred time", "train time",
              "test err");
  for (const auto& reg : regs) {
    double l_nfe = 0, l_pt = 0, l_tt = 0, l_e = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
      const Run* base = nullptr;
      const Run* run = nullptr;
      for (const auto& r : runs) {
        if (r.seed == seed && r.reg == "none") base = &r;
        if (r.seed == seed && r.reg == reg) run = &r;
      }
      l_nfe +=
          std::log(double(run->pred.nf + run->pred.ng) / double(base->pred.nf + base->pred.ng));
      l_pt += std::log(run->pred.seconds / base->pred.seconds);
      l_tt += std::log(run->train.seconds / base->train.seconds);
      l_e += std::log(run->test_error / base->test_error);
    }
    const auto gm = [&](double l) { return std::exp(l / seeds); };
    std::printf("%-9s %10.3f %10.3f %10.3f %10.3f\n",
                reg == "none" ? "none" : (reg == "ernode" ? "error" : "stiffness"), gm(l_nfe),
                gm(l_pt), gm(l_tt), gm(l_e));
  }
  std::filesystem::remove_all(dir);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "neural_sde_regularisation: %s\n", e.what());
  return 1;
}
