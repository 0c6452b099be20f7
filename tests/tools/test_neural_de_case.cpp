// Neural-ODE and neural-SDE cases through the app (aeolus dataset / train / eval), small:
//  - spiral ODE: the dataset file holds the truth the library makes; a short training lowers
//    the loss; eval writes the rollouts and metrics, and its error is the library's
//    prediction of the saved model; results are kept without --overwrite;
//  - spiral SDE: a short training and an eval with the metrics of predict_spiral_sde;
//  - bad input (a regulariser with the adjoint or with the SDE's fixed steps, an unknown method)
//    names the key; the SDE reads the ODE's regularisation keys;
//  - aeolus run of the spiral ODE through the common time loop: stepper classical follows the
//    truth, stepper emulator reproduces eval's rollout; a stopped run continues with --restart;
//  - aeolus run of the spiral SDE: the true SDE's ensemble has the data's moments, the learned
//    SDE's those of predict_spiral_sde (within Monte Carlo error); a restart is bitwise.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "emulators/neural_ode.hpp"
#include "emulators/neural_sde.hpp"
#include "grids/error.hpp"
#include "tools/app/driver.hpp"
#include "tools/app/neural_de_config.hpp"

using namespace aeolus;

namespace {

using test::json_number;
using test::read_text;

const char* kOde = R"(physics:
  equation: neural_ode
  spiral: {points: 200, t_end: 5.0}
model: {hidden: [16]}
training: {iterations: 40, batch_size: 8, learning_rate: 1.0e-2}
eval: {repeats: 1}
)";

const char* kSde = R"(physics:
  equation: neural_sde
  spiral: {paths: 400, observations: 6, t_end: 0.5}
model: {drift_hidden: 8, diffusion_hidden: 4, dt: 0.05}
training: {iterations: 15, batch_paths: 16, eval_paths: 64}
eval: {paths: 64}
)";

// Per time and component, |mean - ref mean| and |variance - ref variance| within 5 standard
// errors of the two ensembles (n and n_ref paths; the variance's standard error as for normal
// samples, 2 var^2 / (n - 1)).
void expect_same_moments(const std::vector<double>& mean, const std::vector<double>& variance,
                         int n, const emulators::SpiralMoments& ref, int n_ref) {
  ASSERT_EQ(mean.size(), 2 * ref.t.size());
  for (size_t k = 0; k < ref.t.size(); ++k) {
    for (int i = 0; i < 2; ++i) {
      const double v = variance[2 * k + i], vr = ref.variance[k][i];
      const double se_mean = std::sqrt(v / n + vr / n_ref);
      const double se_var = std::sqrt(2 * v * v / (n - 1) + 2 * vr * vr / (n_ref - 1));
      EXPECT_LE(std::abs(mean[2 * k + i] - ref.mean[k][i]), 5 * se_mean + 1e-12)
          << "time " << ref.t[k] << " component " << i;
      EXPECT_LE(std::abs(v - vr), 5 * se_var + 1e-12) << "time " << ref.t[k] << " component " << i;
    }
  }
}

class NeuralDeCase : public ::testing::Test {
 protected:
  test::TempDir dir{PETSC_COMM_WORLD};
};

TEST_F(NeuralDeCase, SpiralOdeDatasetTrainEval) {
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "spiral-ode", kOde);
  const auto c = app::load_case(d);
  app::generate_dataset(PETSC_COMM_WORLD, c, false);
  const auto data = emulators::make_spiral_ode_data(c.settings_as<app::NeuralDeCaseConfig>().ode);
  EXPECT_EQ(test::read_var(d + "/data/spiral.nc", "y_true"), data.y_clean);
  EXPECT_EQ(test::read_var(d + "/data/spiral.nc", "time"), data.t);
  app::train_case(PETSC_COMM_WORLD, c, false);
  const std::string model = d + "/models/neural_ode.pt";
  // The CSV's loss column falls from the first logged iteration to the last.
  std::ifstream csv(model + ".csv");
  std::string header, line, first, last;
  std::getline(csv, header);
  std::getline(csv, first);
  while (std::getline(csv, line)) last = line;
  const auto loss = [](const std::string& row) {
    return std::atof(row.substr(row.find(',') + 1).c_str());
  };
  EXPECT_LT(loss(last), loss(first)) << first << " / " << last;
  app::evaluate_case(PETSC_COMM_WORLD, c, false);
  const std::string json = read_text(d + "/eval/metrics.json");
  emulators::NeuralOdePredictParams pp;
  pp.repeats = 1;
  const auto p = emulators::predict_spiral_ode(model, data, pp);
  EXPECT_DOUBLE_EQ(json_number(json, "relative_l2"), p.relative_l2);
  EXPECT_EQ(json_number(json, "nfe"), double(p.nfe));
  EXPECT_EQ(test::read_var(d + "/eval/prediction.nc", "y_pred"), p.y_pred);
  EXPECT_GT(json_number(json, "held_out_nfe"), 0.0);
  // Earlier results are kept unless --overwrite.
  EXPECT_THROW(app::train_case(PETSC_COMM_WORLD, c, false), Error);
  EXPECT_THROW(app::evaluate_case(PETSC_COMM_WORLD, c, false), Error);

  // aeolus run, stepper classical: the true spiral through the time loop, a sample at each of
  // the data's points; it follows the truth to the data's tolerance (rtol 1e-10).
  const std::string traj = d + "/output/trajectory.nc";
  const auto run = app::run_case(PETSC_COMM_WORLD, c, test::quiet_run());
  EXPECT_EQ(run.steps, 199);
  EXPECT_DOUBLE_EQ(run.t, 5.0);
  const auto t = test::read_var(traj, "time");
  ASSERT_EQ(t.size(), 200u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], data.t[i], 1e-14) << i;
  const auto truth = test::read_var(traj, "y_true");
  for (size_t i = 0; i < truth.size(); ++i) EXPECT_NEAR(truth[i], data.y_clean[i], 1e-12) << i;
  EXPECT_LT(json_number(read_text(d + "/logs/run.json"), "relative_l2"), 1e-8);
  EXPECT_GT(json_number(read_text(d + "/logs/run.json"), "rhs_evaluations"), 0.0);

  // Stepper emulator: the trained network in the same loop. Its rollout is eval's (the same
  // network, method and tolerances; the step sequence differs at the output times, so they
  // agree to the model's tolerance, rtol 1e-7, not bitwise), and so is its error to the truth.
  auto opt = test::quiet_run();
  opt.stepper = "emulator";
  EXPECT_THROW(app::run_case(PETSC_COMM_WORLD, c, opt), IoError);  // results of the first run
  opt.overwrite = true;
  app::run_case(PETSC_COMM_WORLD, c, opt);
  const auto y = test::read_var(traj, "y");
  ASSERT_EQ(y.size(), p.y_pred.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    diff = std::max(diff, std::abs(y[i] - p.y_pred[i]));
    scale = std::max(scale, std::abs(p.y_pred[i]));
  }
  EXPECT_LT(diff, 1e-5 * scale);
  const double l2 = json_number(read_text(d + "/logs/run.json"), "relative_l2");
  EXPECT_NEAR(l2, p.relative_l2, 1e-3 * p.relative_l2);
  EXPECT_GT(l2, 1e-4);  // 40 iterations: far from the truth, so the check above means something
}

// A classical run stopped and continued with --restart: the step-size controller starts afresh
// at the restart (solvers/ode_stepper.hpp), so the samples agree with an uninterrupted run to
// the tolerance (rtol 1e-10), not bitwise.
TEST_F(NeuralDeCase, SpiralOdeRunRestarts) {
  const std::string whole = test::write_case(PETSC_COMM_WORLD, dir, "whole", kOde);
  app::run_case(PETSC_COMM_WORLD, app::load_case(whole), test::quiet_run());
  const std::string split = test::write_case(PETSC_COMM_WORLD, dir, "split", kOde);
  const auto c = app::load_case(split);
  auto opt = test::quiet_run();
  opt.stop_after_steps = 77;
  EXPECT_EQ(app::run_case(PETSC_COMM_WORLD, c, opt).steps, 77);
  opt.stop_after_steps = 0;
  opt.restart = true;
  EXPECT_EQ(app::run_case(PETSC_COMM_WORLD, c, opt).steps, 199);
  const auto a = test::read_var(whole + "/output/trajectory.nc", "y");
  const auto b = test::read_var(split + "/output/trajectory.nc", "y");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-8) << i;
  EXPECT_EQ(test::read_var(whole + "/output/trajectory.nc", "y_true"),
            test::read_var(split + "/output/trajectory.nc", "y_true"));
}

TEST_F(NeuralDeCase, SpiralSdeTrainEval) {
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "spiral-sde", kSde);
  const auto c = app::load_case(d);
  app::train_case(PETSC_COMM_WORLD, c, false);
  app::evaluate_case(PETSC_COMM_WORLD, c, false);
  const std::string json = read_text(d + "/eval/metrics.json");
  const auto p = emulators::predict_spiral_sde(d + "/models/neural_sde.pt", 64, 7, 1);
  EXPECT_DOUBLE_EQ(json_number(json, "loss"), p.loss);
  EXPECT_EQ(test::read_var(d + "/eval/prediction.nc", "mean_data").size(), 6u * 2);

  // aeolus run --stepper emulator: 2000 paths of the learned SDE through the time loop, with
  // noise of their own; their moments are those of predict_spiral_sde's 2000 paths to within
  // 5 standard errors (Monte Carlo), and far closer than to the data the model did not learn in
  // 15 iterations.
  std::string yaml = kSde;
  yaml += "stepper: {paths: 2000}\n";
  const std::string e = test::write_case(PETSC_COMM_WORLD, dir, "spiral-sde-run", yaml);
  std::filesystem::create_directories(e + "/models");
  std::filesystem::copy_file(d + "/models/neural_sde.pt", e + "/models/neural_sde.pt");
  auto opt = test::quiet_run();
  opt.stepper = "emulator";
  app::run_case(PETSC_COMM_WORLD, app::load_case(e), opt);
  const auto ref = emulators::predict_spiral_sde(d + "/models/neural_sde.pt", 2000, 3, 1);
  const std::string traj = e + "/output/trajectory.nc";
  expect_same_moments(test::read_var(traj, "mean"), test::read_var(traj, "variance"), 2000,
                      ref.model, 2000);
  // The check has power: the untrained-enough model is far from the data (true SDE) it would
  // match if the stepper were the classical one.
  EXPECT_GT(json_number(read_text(e + "/logs/run.json"), "mean_error"), 0.5);
  // Without a trained model, --stepper emulator names the file it looked for.
  const std::string none = test::write_case(PETSC_COMM_WORLD, dir, "no-model", kSde);
  try {
    app::run_case(PETSC_COMM_WORLD, app::load_case(none), opt);
    ADD_FAILURE() << "expected IoError";
  } catch (const IoError& err) {
    EXPECT_NE(std::string(err.what()).find("no-model/models/neural_sde.pt"), std::string::npos)
        << err.what();
  }
}

// aeolus run of the true spiral SDE: 1000 paths with noise of their own have the data's
// moments (400 paths) to within 5 standard errors at every observation time; a run stopped
// and continued with --restart draws the same noise (seeded per output interval): the same
// samples, bitwise.
TEST_F(NeuralDeCase, SpiralSdeRunHasTheDatasMomentsAndRestartsBitwise) {
  const std::string whole = test::write_case(PETSC_COMM_WORLD, dir, "whole", kSde);
  const auto c = app::load_case(whole);
  const auto r = app::run_case(PETSC_COMM_WORLD, c, test::quiet_run());
  EXPECT_EQ(r.steps, 5);
  const std::string traj = whole + "/output/trajectory.nc";
  const auto data = emulators::spiral_sde_moments(c.settings_as<app::NeuralDeCaseConfig>().sde);
  expect_same_moments(test::read_var(traj, "mean"), test::read_var(traj, "variance"), 1000, data,
                      400);
  const auto t = test::read_var(traj, "time");
  ASSERT_EQ(t.size(), data.t.size());
  for (size_t k = 0; k < t.size(); ++k) EXPECT_NEAR(t[k], data.t[k], 1e-15);

  const std::string split = test::write_case(PETSC_COMM_WORLD, dir, "split", kSde);
  const auto cs = app::load_case(split);
  auto opt = test::quiet_run();
  opt.stop_after_steps = 2;
  app::run_case(PETSC_COMM_WORLD, cs, opt);
  opt.stop_after_steps = 0;
  opt.restart = true;
  app::run_case(PETSC_COMM_WORLD, cs, opt);
  for (const char* var : {"mean", "variance", "path_0", "time"}) {
    EXPECT_EQ(test::read_var(traj, var), test::read_var(split + "/output/trajectory.nc", var))
        << var;
  }
}

TEST_F(NeuralDeCase, BadInputNamesTheKey) {
  const auto expect_config_error = [&](const std::string& name, std::string yaml,
                                       const std::string& from, const std::string& to,
                                       const std::string& needle) {
    yaml.replace(yaml.find(from), from.size(), to);
    const std::string d = test::write_case(PETSC_COMM_WORLD, dir, name, yaml);
    try {
      app::load_case(d);
      ADD_FAILURE() << name << ": expected ConfigError mentioning " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_config_error("adjoint-reg", kOde, "iterations: 40",
                      "iterations: 40, gradient: adjoint, regulariser: ernode", "regulariser");
  expect_config_error("method", kOde, "hidden: [16]", "hidden: [16], method: rk45", "rk45");
  expect_config_error("sde-method", kSde, "dt: 0.05", "dt: 0.05, method: sra1", "sra1");
  expect_config_error("sde-reg-fixed", kSde, "iterations: 15",
                      "iterations: 15, regulariser: ernode", "model.adaptive");
  expect_config_error("sde-reg-name", kSde, "iterations: 15", "iterations: 15, regulariser: error",
                      "srnode");
  expect_config_error("sde-reg-decay", kSde, "iterations: 15", "iterations: 15, lambda_decay: 1.5",
                      "lambda_decay");
}

// The spiral SDE reads the spiral ODE's regularisation keys into its training parameters.
TEST_F(NeuralDeCase, SpiralSdeRegulariserKeys) {
  std::string yaml = kSde;
  const std::string from = "dt: 0.05}";
  yaml.replace(yaml.find(from), from.size(), "dt: 0.05, adaptive: true}");
  const std::string it = "iterations: 15";
  yaml.replace(yaml.find(it), it.size(),
               "iterations: 15, regulariser: srnode, lambda0: 0.25, lambda_decay: 0.9");
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "sde-reg", yaml);
  const auto c = app::load_case(d);
  EXPECT_EQ(c.settings_as<app::NeuralDeCaseConfig>().sde_training.regulariser, "srnode");
  EXPECT_EQ(c.settings_as<app::NeuralDeCaseConfig>().sde_training.lambda0, 0.25);
  EXPECT_EQ(c.settings_as<app::NeuralDeCaseConfig>().sde_training.lambda_decay, 0.9);
  EXPECT_TRUE(c.settings_as<app::NeuralDeCaseConfig>().sde_training.adaptive);
}

}  // namespace
