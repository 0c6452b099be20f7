// PINN cases through the app (aeolus train / eval) with tiny budgets: the keys of a case file
// reach the library (the saved model evaluates to what eval writes), the evaluation file holds
// the grid, prediction, reference and error; defaults follow the PDE type and formulation;
// bad input names the key; dataset and run say what to use instead.
#include <gtest/gtest.h>

#include <cmath>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "emulators/pinn.hpp"
#include "grids/error.hpp"
#include "tools/app/pinn_config.hpp"
#include "tools/app/driver.hpp"

using namespace aeolus;

namespace {

using test::json_number;
using test::read_text;

const char* kLpinn = R"(physics:
  equation: pinn
  pde: {type: convection, beta: 5.0}
formulation: lpinn
network: {width: 16, depth: 2}
collocation: {n_residual: 200, n_initial: 64, n_boundary: 32}
training: {adam_iterations: 30, lbfgs_iterations: 20, threads: 1}
evaluation: {nx: 64, nt: 20}
)";

class PinnCase : public ::testing::Test {
 protected:
  test::TempDir dir{PETSC_COMM_WORLD};
};

TEST_F(PinnCase, TrainEvalThroughTheApp) {
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "lpinn", kLpinn);
  const auto c = app::load_case(d);
  // lpinn defaults: periodic features; the case's sizes reach the parameters.
  EXPECT_EQ(c.settings_as<app::PinnCaseConfig>().pinn.network.features, "periodic");
  EXPECT_EQ(c.settings_as<app::PinnCaseConfig>().pinn.network.width, 16);
  EXPECT_EQ(c.settings_as<app::PinnCaseConfig>().pinn.evaluation.nx, 64);
  app::train_case(PETSC_COMM_WORLD, c, false);
  app::evaluate_case(PETSC_COMM_WORLD, c, false);
  const auto e = emulators::evaluate_pinn(d + "/models/pinn.pt", c.settings_as<app::PinnCaseConfig>().pinn.evaluation);
  const std::string json = read_text(d + "/eval/metrics.json");
  EXPECT_DOUBLE_EQ(json_number(json, "relative_l2"), e.relative_l2);
  EXPECT_LT(e.relative_l2, 0.2);  // a tiny network still follows u = sin(x - 5 t) roughly
  const auto err = test::read_var(d + "/eval/solution.nc", "error");
  ASSERT_EQ(err.size(), 64u * 20u);
  EXPECT_EQ(test::read_var(d + "/eval/solution.nc", "u_ref"), e.u_ref);
  EXPECT_THROW(app::train_case(PETSC_COMM_WORLD, c, false), Error);  // kept: no --overwrite
  EXPECT_THROW(app::generate_dataset(PETSC_COMM_WORLD, c, false), ConfigError);
  EXPECT_THROW(app::run_case(PETSC_COMM_WORLD, c, test::quiet_run()), ConfigError);
}

TEST_F(PinnCase, BadInputNamesTheKey) {
  const auto expect_error = [&](const std::string& name, std::string yaml, const std::string& from,
                                const std::string& to, const std::string& needle) {
    yaml.replace(yaml.find(from), from.size(), to);
    const std::string d = test::write_case(PETSC_COMM_WORLD, dir, name, yaml);
    try {
      app::load_case(d);
      ADD_FAILURE() << name << ": expected ConfigError mentioning " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("type", kLpinn, "convection", "advection", "did you mean 'convection'");
  expect_error("poisson-lpinn", kLpinn, "convection, beta: 5.0", "poisson2d", "lpinn");
  expect_error("features", kLpinn, "depth: 2", "depth: 2, features: none", "features");
}

}  // namespace
