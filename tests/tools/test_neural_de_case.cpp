// Neural-ODE and neural-SDE cases through the app (aeolus dataset / train / eval), small:
//  - spiral ODE: the dataset file holds the truth the library makes; a short training lowers
//    the loss; eval writes the rollouts and metrics, and its error is the library's
//    prediction of the saved model; results are kept without --overwrite;
//  - spiral SDE: a short training and an eval with the metrics of predict_spiral_sde;
//  - bad input (a regulariser with the adjoint or with the SDE's fixed steps, an unknown method)
//    names the key; the SDE reads the ODE's regularisation keys;
//    `aeolus run` on such a case says what to use instead.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "emulators/neural_ode.hpp"
#include "emulators/neural_sde.hpp"
#include "grids/error.hpp"
#include "tools/app/neural_de_config.hpp"
#include "tools/app/driver.hpp"

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
  EXPECT_THROW(app::run_case(PETSC_COMM_WORLD, c, test::quiet_run()), ConfigError);
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
