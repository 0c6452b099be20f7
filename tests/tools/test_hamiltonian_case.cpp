// Hamiltonian cases through run_case (aeolus run), at 1 and 2 ranks:
//  - Kepler e = 0.6 with Forest-Ruth: the trajectory file holds q, p, the energy and its
//    relative error, the angular momentum and the error against the exact Kepler orbit; the
//    energy error is bounded (the last tenth's maximum equals the first tenth's) and the
//    angular momentum is conserved to round-off; the stored samples match a direct integration
//    with solvers/symplectic.hpp bitwise, on every rank count;
//  - the same case with --solver rk4: the energy error drifts (last tenth >> first tenth);
//  - through the common time loop: a run stopped after a number of steps that is not a whole
//    number of samples and continued with --restart writes the same file, bitwise, as one
//    uninterrupted run; a sample count that does not divide the steps still ends with the
//    last step (as integrate's observer); a stepper other than the classical one is refused;
//  - bad input: an unknown method, a t_end that is not a whole number of steps, a key of
//    another system; results are not overwritten without --overwrite.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "physics/hamiltonian.hpp"
#include "solvers/symplectic.hpp"
#include "tools/app/case_config.hpp"
#include "tools/app/driver.hpp"

using namespace aeolus;

namespace {

using test::json_number;
using test::read_text;

const char* kKepler = R"(physics:
  equation: hamiltonian
  system: {type: kepler, eccentricity: 0.6}
integrator:
  method: forest_ruth
  dt: 0.03125
time:
  t_end: 1000.0
output:
  every: 64
)";

// Max |x| over the first and last tenth of a series.
std::pair<double, double> tenths(const std::vector<double>& x) {
  const size_t n = x.size(), t = n / 10;
  double a = 0, b = 0;
  for (size_t i = 0; i < t; ++i) a = std::max(a, std::abs(x[i]));
  for (size_t i = n - t; i < n; ++i) b = std::max(b, std::abs(x[i]));
  return {a, b};
}

class HamiltonianCase : public ::testing::Test {
 protected:
  test::TempDir dir{PETSC_COMM_WORLD};
};

TEST_F(HamiltonianCase, KeplerForestRuthIsBoundedAndMatchesTheIntegrator) {
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "kepler", kKepler);
  const auto c = app::load_case(d);
  const auto r = app::run_case(PETSC_COMM_WORLD, c, test::quiet_run());
  EXPECT_EQ(r.steps, 32000);
  EXPECT_DOUBLE_EQ(r.t, 1000.0);
  const std::string nc = d + "/output/trajectory.nc";
  const auto t = test::read_var(nc, "time");
  const auto q = test::read_var(nc, "q");
  const auto p = test::read_var(nc, "p");
  const auto e = test::read_var(nc, "energy_error");
  const auto l = test::read_var(nc, "angular_momentum_error");
  const auto pos = test::read_var(nc, "position_error");
  ASSERT_EQ(t.size(), 32000u / 64 + 1);
  ASSERT_EQ(q.size(), 2 * t.size());
  // Bounded energy error: no secular growth between the first and the last tenth.
  const auto [first, last] = tenths(e);
  EXPECT_GT(first, 1e-6);
  EXPECT_LT(last, 1.2 * first);
  for (double v : l) EXPECT_LT(v, 1e-12);
  // The orbit is followed; its error is a phase error that grows linearly (0.26 after 159
  // orbits here, against an orbit 3.2 across), unlike the bounded energy error.
  const auto [pfirst, plast] = tenths(pos);
  EXPECT_GT(pfirst, 0.0);
  EXPECT_LT(plast, 0.5);
  EXPECT_GT(plast, 5 * pfirst);
  // The stored samples are those of solvers/symplectic.hpp run directly (bitwise).
  physics::Kepler k;
  std::vector<double> q0, p0;
  k.initial_state(q0, p0);
  SymplecticWorkspace ws;
  std::vector<double> qs, ps;
  integrate(
      k, SymplecticMethod::forest_ruth, 0.03125, 32000, q0.data(), p0.data(), ws,
      [&](long, real_t, const real_t* qq, const real_t* pp) {
        qs.insert(qs.end(), qq, qq + 2);
        ps.insert(ps.end(), pp, pp + 2);
      },
      64);
  EXPECT_EQ(qs, q);
  EXPECT_EQ(ps, p);
  const std::string json = read_text(d + "/logs/run.json");
  EXPECT_NE(json.find("\"status\": \"completed\""), std::string::npos) << json;
  EXPECT_EQ(json_number(json, "force_evaluations"), 3.0 * 32000 + 1);
  EXPECT_EQ(json_number(json, "energy_initial"), -0.5);  // Kepler, a = 1, GM = 1: -GM / (2 a)
  EXPECT_NEAR(json_number(json, "energy_error_max_last_tenth"), last, 1e-6 * last);
  // An earlier run's results are kept unless --overwrite.
  EXPECT_THROW(app::run_case(PETSC_COMM_WORLD, c, test::quiet_run()), IoError);
}

TEST_F(HamiltonianCase, Rk4DriftsWhereTheSymplecticMethodDoesNot) {
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "kepler-rk4", kKepler);
  auto opt = test::quiet_run();
  opt.solver = "rk4";
  app::run_case(PETSC_COMM_WORLD, app::load_case(d), opt);
  const auto e = test::read_var(d + "/output/trajectory.nc", "energy_error");
  const auto [first, last] = tenths(e);
  std::printf("  rk4 energy error: first tenth %.3e, last tenth %.3e\n", first, last);
  EXPECT_GT(last, 5 * first);
}

// Every variable of two trajectory files, bitwise.
void expect_same_trajectory(const std::string& a, const std::string& b) {
  for (const char* var : {"time", "q", "p", "energy", "energy_error", "angular_momentum",
                          "angular_momentum_error", "position_error", "mass"}) {
    EXPECT_EQ(test::read_var(a, var), test::read_var(b, var)) << var;
  }
}

TEST_F(HamiltonianCase, StopAndRestartWritesTheSameTrajectoryBitwise) {
  const std::string whole = test::write_case(PETSC_COMM_WORLD, dir, "whole", kKepler);
  app::run_case(PETSC_COMM_WORLD, app::load_case(whole), test::quiet_run());
  // 12345 steps: not a multiple of the 64 steps between samples, nor of a checkpoint interval.
  std::string yaml = kKepler;
  yaml += "checkpoint:\n  every_steps: 5000\n";
  const std::string split = test::write_case(PETSC_COMM_WORLD, dir, "split", yaml);
  const auto c = app::load_case(split);
  auto opt = test::quiet_run();
  opt.stop_after_steps = 12345;
  const auto first = app::run_case(PETSC_COMM_WORLD, c, opt);
  EXPECT_EQ(first.steps, 12345);
  EXPECT_TRUE(std::filesystem::exists(split + "/output/trajectory.nc.part"));
  EXPECT_FALSE(std::filesystem::exists(split + "/output/trajectory.nc"));
  opt.stop_after_steps = 0;
  opt.restart = true;
  const auto rest = app::run_case(PETSC_COMM_WORLD, c, opt);
  EXPECT_EQ(rest.steps, 32000);
  EXPECT_DOUBLE_EQ(rest.t, 1000.0);
  expect_same_trajectory(whole + "/output/trajectory.nc", split + "/output/trajectory.nc");
  // The end-of-run figures cover the samples written before the restart too.
  const std::string a = read_text(whole + "/logs/run.json"),
                    b = read_text(split + "/logs/run.json");
  for (const char* key : {"energy_error_max", "energy_error_max_first_tenth",
                          "energy_error_max_last_tenth", "position_error_max"}) {
    EXPECT_EQ(json_number(a, key), json_number(b, key)) << key;
  }
  EXPECT_NE(b.find("\"restarted_from\""), std::string::npos) << b;
}

TEST_F(HamiltonianCase, TheLastStepIsSampledWhenTheSamplesDoNotDivideTheSteps) {
  std::string yaml = kKepler;
  yaml.replace(yaml.find("every: 64"), 9, "every: 300");  // 32000 = 106 * 300 + 200
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "every-300", yaml);
  app::run_case(PETSC_COMM_WORLD, app::load_case(d), test::quiet_run());
  const auto t = test::read_var(d + "/output/trajectory.nc", "time");
  const auto q = test::read_var(d + "/output/trajectory.nc", "q");
  physics::Kepler k;
  std::vector<double> q0, p0;
  k.initial_state(q0, p0);
  SymplecticWorkspace ws;
  std::vector<double> ts, qs;
  integrate(
      k, SymplecticMethod::forest_ruth, 0.03125, 32000, q0.data(), p0.data(), ws,
      [&](long, real_t tt, const real_t* qq, const real_t*) {
        ts.push_back(tt);
        qs.insert(qs.end(), qq, qq + 2);
      },
      300);
  ASSERT_EQ(ts.size(), 108u);
  EXPECT_EQ(t, ts);
  EXPECT_EQ(q, qs);
}

TEST_F(HamiltonianCase, AStepperOtherThanTheIntegratorIsRefused) {
  const std::string d = test::write_case(PETSC_COMM_WORLD, dir, "emulator", kKepler);
  auto opt = test::quiet_run();
  opt.stepper = "emulator";
  try {
    app::run_case(PETSC_COMM_WORLD, app::load_case(d), opt);
    ADD_FAILURE() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'emulator' is not a stepper of a Hamiltonian case"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(HamiltonianCase, BadInputIsRefusedWithTheKeyAndValue) {
  const auto expect_config_error = [&](const std::string& name, const std::string& yaml,
                                       const std::string& needle, const std::string& solver) {
    const std::string d = test::write_case(PETSC_COMM_WORLD, dir, name, yaml);
    try {
      auto opt = test::quiet_run();
      opt.solver = solver;
      app::run_case(PETSC_COMM_WORLD, app::load_case(d), opt);
      ADD_FAILURE() << name << ": expected ConfigError mentioning " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  std::string yaml = kKepler;
  expect_config_error("method", yaml, "leapfrog", "leapfrog");
  expect_config_error("t-end", yaml.replace(yaml.find("1000.0"), 6, "1000.01"),
                      "not a whole number", "");
  yaml = kKepler;
  expect_config_error("foreign-key", yaml.replace(yaml.find("eccentricity"), 12, "energy"),
                      "energy", "");
  yaml = kKepler;
  expect_config_error("eccentricity", yaml.replace(yaml.find("0.6"), 3, "1.2"), "eccentricity", "");
}

}  // namespace
