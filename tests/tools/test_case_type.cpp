// The case-type registry: every shipped case is read by the case type it names, a misspelt
// equation gets a hint, and a case type defined here (the way MgNO or PROSE will be added: its
// own reader, settings and commands, registered in its own file) is found by load_case and the
// subcommands without any change to the application layer.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "case_files.hpp"
#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "io/yaml_schema.hpp"
#include "tools/app/driver.hpp"

using namespace aeolus;

namespace {

// A toy case type: physics.equation toy, one key of its own, and a `run` that reports it.
struct ToyCaseConfig : app::CaseSettings {
  double answer = 0;
};

class ToyReader : public app::CaseReader {
 public:
  std::string name() const override { return "toy"; }
  std::vector<std::string> equations() const override { return {"toy"}; }
  bool recognises(const app::CaseKind& k) const override { return k.equation == "toy"; }
  void read(io::Section& root, app::CaseConfig& c) const override {
    auto settings = std::make_shared<ToyCaseConfig>();
    auto ph = root.section("physics");
    c.equation = ph.get_choice("equation", "toy", {"toy"});
    settings->answer = ph.get_double("answer", 42.0);
    ph.finish();
    c.settings = std::move(settings);
  }
};

class ToyCase : public app::CaseCommands {
 public:
  app::RunResult run(MPI_Comm, const app::CaseConfig& c, const app::RunOptions&) const override {
    app::RunResult r;
    r.t = c.settings_as<ToyCaseConfig>().answer;
    r.output_path = "toy";
    return r;
  }
};

}  // namespace

namespace aeolus::app {
AEOLUS_REGISTER_CASE_READER(ToyReader)
AEOLUS_REGISTER_CASE_COMMANDS("toy", ToyCase)
}  // namespace aeolus::app

TEST(CaseType, EveryShippedCaseIsReadByItsType) {
  const std::map<std::string, std::string> expected = {
      {"advection-2d", "advection"},
      {"advection-2d-rotating", "advection"},
      {"williamson-tc1", "sphere_transport"},
      {"nair-lauritzen-2010", "sphere_transport"},
      {"lauritzen-2012", "sphere_transport"},
      {"lauritzen-2012-gaussian-hills", "sphere_transport"},
      {"dcmip-1-1", "sphere_transport"},
      {"dcmip-1-2", "sphere_transport"},
      {"co2-carbonbench", "co2_transport"},
      {"co2-carbonbench-swin", "co2_transport"},
      {"poisson-2d", "elliptic"},
      {"poisson-3d", "elliptic"},
      {"poisson-3d-gpu", "elliptic"},
      {"darcy-2d", "elliptic"},
      {"fishpack-hwscrt", "elliptic"},
      {"kepler", "hamiltonian"},
      {"henon-heiles", "hamiltonian"},
      {"spiral-ode", "neural_de"},
      {"spiral-sde", "neural_de"},
      {"pinn-burgers", "pinn"},
      {"pinn-convection", "pinn"},
      {"lpinn-burgers", "pinn"},
      {"lpinn-convection", "pinn"}};
  int seen = 0;
  for (const auto& e : std::filesystem::directory_iterator(AEOLUS_SOURCE_DIR "/cases")) {
    if (!std::filesystem::exists(e.path() / "case.yaml")) continue;
    const std::string name = e.path().filename().string();
    ASSERT_TRUE(expected.count(name)) << name << ": a new case; add it to this table";
    const auto c = app::load_case(e.path().string());
    EXPECT_EQ(c.type, expected.at(name)) << name;
    ASSERT_TRUE(c.settings) << name << ": no settings";
    ++seen;
  }
  EXPECT_EQ(seen, int(expected.size()));
}

TEST(CaseType, MisspeltEquationGetsAHint) {
  test::TempDir dir;
  const std::string d =
      test::write_case(MPI_COMM_WORLD, dir, "bad", "physics:\n  equation: eliptic\n");
  const std::string e = test::error_of<ConfigError>([&] { app::load_case(d); });
  EXPECT_NE(e.find("physics.equation"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'elliptic'"), std::string::npos) << e;
}

TEST(CaseType, ACaseTypeRegisteredInItsOwnFileIsFoundByTheSubcommands) {
  test::TempDir dir;
  const std::string d =
      test::write_case(MPI_COMM_WORLD, dir, "toy", "physics:\n  equation: toy\n  answer: 7.5\n");
  const auto c = app::load_case(d);
  EXPECT_EQ(c.type, "toy");
  EXPECT_EQ(c.settings_as<ToyCaseConfig>().answer, 7.5);
  const auto r = app::run_case(MPI_COMM_WORLD, c, app::RunOptions{});
  EXPECT_EQ(r.t, 7.5);
  EXPECT_EQ(r.output_path, "toy");
  // What the toy type does not define keeps the default answer of the registry.
  const std::string e =
      test::error_of<ConfigError>([&] { app::train_case(MPI_COMM_WORLD, c, false); });
  EXPECT_NE(e.find("aeolus train has no toy emulator"), std::string::npos) << e;
  // Its keys are checked like every other case type's.
  const std::string d2 =
      test::write_case(MPI_COMM_WORLD, dir, "toy2", "physics:\n  equation: toy\n  answr: 1\n");
  const std::string e2 = test::error_of<ConfigError>([&] { app::load_case(d2); });
  EXPECT_NE(e2.find("did you mean 'answer'"), std::string::npos) << e2;
}

TEST(CaseType, SettingsOfAnotherTypeAreAProgrammingError) {
  const auto c = app::load_case(AEOLUS_SOURCE_DIR "/cases/kepler");
  EXPECT_THROW(c.settings_as<ToyCaseConfig>(), std::logic_error);
}
