// The time loop end to end through run_case, at 1, 2 and 4 ranks:
//  - the output file is bitwise identical to a serial run of the same case;
//  - a run stopped and continued with --restart ends bitwise identical to an uninterrupted one;
//  - a NaN stops the run, keeps the last good checkpoint and never finalises the output;
//  - results of an earlier run are not overwritten without --overwrite.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "case_files.hpp"
#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/driver.hpp"
#include "tools/app/run_log.hpp"

using namespace aeolus;
namespace fs = std::filesystem;

namespace {

const char* kCase = R"(grid:
  n: [24, 20]
  periodic: [true, true]
physics:
  velocity:
    type: rotating
  initial_condition:
    type: gaussian
    center: [0.5, 0.7]
    radius: 0.08
stepper:
  scheme:
    reconstruction: van_leer
time:
  t_end: 0.25
  cfl: 0.6
output:
  interval: 0.05
checkpoint:
  every_steps: 7
  keep: 3
log:
  progress_every: 1000
)";

std::string make_case(MPI_Comm comm, const test::TempDir& dir, const std::string& name,
                      const std::string& yaml = kCase) {
  return test::write_case(comm, dir, name, yaml);
}

}  // namespace

TEST(Driver, OutputIsBitwiseIndependentOfRankCount) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  const std::string dist = make_case(world, dir, "ranks");
  auto c = app::load_case(dist);
  auto r = app::run_case(world, c, test::quiet_run());
  EXPECT_GT(r.steps, 10);
  // Mass: conserved to round-off; the reduction order differs with the rank count.
  EXPECT_NEAR(r.mass_final, r.mass_initial, 1e-13 * std::abs(r.mass_initial));
  if (comm_rank(world) == 0) {
    test::TempDir self_dir(MPI_COMM_SELF);
    const std::string ser = make_case(MPI_COMM_SELF, self_dir, "serial");
    auto cs = app::load_case(ser);
    app::run_case(MPI_COMM_SELF, cs, test::quiet_run());
    const auto a = test::read_var(c.path("output/fields.nc"), "q");
    const auto b = test::read_var(cs.path("output/fields.nc"), "q");
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a.size(), size_t(6 * 24 * 20));  // frames at 0, 0.05, ..., 0.25
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "value " << i;
    const auto ta = test::read_var(c.path("output/fields.nc"), "time");
    ASSERT_EQ(ta.size(), 6u);
    EXPECT_DOUBLE_EQ(ta.back(), 0.25);
    io::NetcdfFile f(c.path("output/fields.nc"), io::NetcdfFile::Mode::read);
    EXPECT_EQ(f.get_att_double("", "aeolus_complete"), 1.0);
    EXPECT_TRUE(fs::exists(c.path("logs/run.json")));
  }
}

TEST(Driver, RestartIsBitwiseIdenticalToAnUninterruptedRun) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  const std::string full = make_case(world, dir, "full");
  const std::string split = make_case(world, dir, "split");
  auto cf = app::load_case(full);
  auto cs = app::load_case(split);
  app::run_case(world, cf, test::quiet_run());

  auto opt = test::quiet_run();
  opt.stop_after_steps = 10;  // not a multiple of the checkpoint interval
  auto r1 = app::run_case(world, cs, opt);
  EXPECT_EQ(r1.steps, 10);
  EXPECT_FALSE(fs::exists(cs.path("output/fields.nc")));
  EXPECT_TRUE(fs::exists(cs.path("output/fields.nc.part")));
  auto again = test::quiet_run();
  again.restart = true;
  again.stop_after_steps = 9;
  app::run_case(world, cs, again);  // a second interruption
  again.stop_after_steps = 0;
  app::run_case(world, cs, again);
  if (comm_rank(world) == 0) {
    for (const char* var : {"q", "time", "total_mass"}) {
      const auto a = test::read_var(cf.path("output/fields.nc"), var);
      const auto b = test::read_var(cs.path("output/fields.nc"), var);
      ASSERT_EQ(a.size(), b.size()) << var;
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << var << " value " << i;
    }
  }
}

TEST(Driver, RefusesToOverwriteAnEarlierRun) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  const std::string d = make_case(world, dir, "overwrite");
  auto c = app::load_case(d);
  app::run_case(world, c, test::quiet_run());
  EXPECT_THROW(app::run_case(world, c, test::quiet_run()), IoError);
  auto o = test::quiet_run();
  o.overwrite = true;
  EXPECT_NO_THROW(app::run_case(world, c, o));
}

namespace {
// Wraps the classical stepper and poisons one cell at step 9: stands in for a blow-up.
class PoisonedStepper : public Stepper {
 public:
  PoisonedStepper(const app::CaseConfig& c, const CartesianGrid& g)
      : inner_(app::make_stepper("classical", c, g)) {}
  std::string name() const override { return "poisoned"; }
  real_t max_dt(const Field& q, real_t t) const override { return inner_->max_dt(q, t); }
  real_t courant(real_t t, real_t dt) const override { return inner_->courant(t, dt); }
  void step(Field& q, real_t& t, real_t& dt) override {
    inner_->step(q, t, dt);
    if (++n_ == 9 && q.grid().rank() == q.grid().size() - 1) q.view()(0, 0) = std::nan("");
  }

 private:
  std::unique_ptr<Stepper> inner_;
  int n_ = 0;
};
}  // namespace

TEST(Driver, NanStopsTheRunAndKeepsTheLastGoodCheckpoint) {
  MPI_Comm world = PETSC_COMM_WORLD;
  app::register_stepper("poisoned", [](const app::CaseConfig& c, const CartesianGrid& g) {
    return std::unique_ptr<Stepper>(new PoisonedStepper(c, g));
  });
  test::TempDir dir(world);
  const std::string d = make_case(world, dir, "nan");
  auto c = app::load_case(d);
  auto o = test::quiet_run();
  o.stepper = "poisoned";
  try {
    app::run_case(world, c, o);
    FAIL() << "expected NumericsError";
  } catch (const NumericsError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("step 9"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ckpt_000000007.nc"), std::string::npos) << msg;
  }
  if (comm_rank(world) == 0) {
    EXPECT_TRUE(fs::exists(c.path("checkpoints/ckpt_000000007.nc")));
    EXPECT_FALSE(fs::exists(c.path("checkpoints/ckpt_000000009.nc")));
    EXPECT_FALSE(fs::exists(c.path("output/fields.nc")));
    // Frames written before the blow-up are finite.
    for (double v : test::read_var(c.path("output/fields.nc.part"), "q"))
      ASSERT_TRUE(std::isfinite(v));
    std::ifstream j(c.path("logs/run.json"));
    std::string text((std::istreambuf_iterator<char>(j)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\"failed\""), std::string::npos);
  }
}

// A run that cannot reach t_end within time.max_steps stops before its first step with the key
// and the estimate (a velocity of 9.2e18 m/s once made CFL steps of 1e-21 s towards t_end = 2
// and ran for ever); the same guard with a small time.max_steps on a sane case.
TEST(Driver, RunawayStepCountIsAnErrorAtOnce) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  std::string yaml = kCase;
  yaml.replace(yaml.find("    type: rotating"), std::string("    type: rotating").size(),
               "    u: [1.0, 9.2e18]");
  const std::string d = make_case(world, dir, "runaway", yaml);
  auto c = app::load_case(d);
  const auto t0 = std::chrono::steady_clock::now();
  std::string msg =
      test::error_of<NumericsError>([&] { app::run_case(world, c, test::quiet_run()); });
  EXPECT_NE(msg.find("time.max_steps = 10000000 would be exceeded"), std::string::npos) << msg;
  EXPECT_NE(msg.find("at step 0, t = 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("e+19 more steps"), std::string::npos) << msg;  // t_end 0.25 / 3e-21 s
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
  if (comm_rank(world) == 0) {
    EXPECT_NE(test::read_text(c.path("logs/run.json")).find("\"failed\""), std::string::npos);
  }

  std::string small = kCase;
  small.replace(small.find("  cfl: 0.6"), std::string("  cfl: 0.6").size(),
                "  cfl: 0.6\n  max_steps: 20");
  auto cs = app::load_case(make_case(world, dir, "small", small));
  msg = test::error_of<NumericsError>([&] { app::run_case(world, cs, test::quiet_run()); });
  EXPECT_NE(msg.find("time.max_steps = 20 would be exceeded"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs about"), std::string::npos) << msg;
}

// Progress lines come every log.progress_every steps and also whenever log.progress_seconds of
// wall time have passed: with a tiny interval, a line for every step, on any rank count.
TEST(Driver, ProgressLinesAtLeastEveryProgressSeconds) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  std::string yaml = kCase;
  yaml += "  progress_seconds: 1e-9\n";
  auto c = app::load_case(make_case(world, dir, "progress", yaml));
  const auto r = app::run_case(world, c, test::quiet_run());
  if (comm_rank(world) == 0) {
    std::istringstream log(test::read_text(c.path("logs/run.log")));
    long long lines = 0;
    for (std::string l; std::getline(log, l);) lines += l.rfind("step ", 0) == 0 ? 1 : 0;
    EXPECT_EQ(lines, r.steps);
    EXPECT_GT(r.steps, 10);
  }
}

// The machine-learning subcommands through the app API on a tiny case, then the emulator in
// the same loop: a restart is bitwise identical for the emulator stepper too, and mass is
// conserved to round-off.
const char* kTinyEmulatorCase = R"(grid:
  n: [16, 16]
physics:
  velocity:
    u: [0.5, 0.25]
  initial_condition:
    type: gaussian
    radius: 0.1
time:
  t_end: 0.4
output:
  interval: 0.1
checkpoint:
  every_steps: 5
emulator:
  channels: 4
  layers: 2
  stencil: 4
  training:
    epochs: 3
    batch_size: 8
dataset:
  train: 3
  valid: 1
  test: 1
  frames: 4
  dt_frame: 0.02
  radius_min: 0.05
eval:
  trajectories: 1
  steps: 5
log:
  progress_every: 1000
)";

TEST(Driver, DatasetTrainEvalAndEmulatorRestart) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  const std::string full = make_case(world, dir, "full", kTinyEmulatorCase);
  auto c = app::load_case(full);
  app::generate_dataset(world, c, false);
  app::train_case(world, c, false);
  app::evaluate_case(world, c, false);
  EXPECT_THROW(app::generate_dataset(world, c, false), IoError);  // no silent overwrite
  auto o = test::quiet_run();
  o.stepper = "emulator";
  const auto r = app::run_case(world, c, o);
  EXPECT_EQ(r.steps, 20);  // 0.4 s in trained steps of 0.02 s
  EXPECT_NEAR(r.mass_final, r.mass_initial, 1e-13 * std::abs(r.mass_initial));

  // The same run interrupted twice, in another directory with the same model.
  const std::string split = make_case(world, dir, "split", kTinyEmulatorCase);
  auto cs = app::load_case(split);
  if (comm_rank(world) == 0) {
    fs::create_directories(cs.path("models"));
    fs::copy_file(c.path(c.model), cs.path(cs.model));
  }
  MPI_Barrier(world);
  o.stop_after_steps = 7;
  app::run_case(world, cs, o);
  o.restart = true;
  app::run_case(world, cs, o);
  o.stop_after_steps = 0;
  app::run_case(world, cs, o);
  if (comm_rank(world) == 0) {
    const auto a = test::read_var(c.path("output/fields.nc"), "q");
    const auto b = test::read_var(cs.path("output/fields.nc"), "q");
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a.size(), size_t(5 * 16 * 16));
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "value " << i;
    EXPECT_TRUE(fs::exists(c.path("eval/metrics.json")));
    EXPECT_TRUE(fs::exists(c.path("eval/metrics.nc")));
    EXPECT_TRUE(fs::exists(c.path("logs/train.json")));
  }
}

// The run-directory policy decides on rank 0 for every rank: a rank that looked on its own
// before rank 0 had written a file once went on into a solve while rank 0 refused, and the job
// hung (test_elliptic_case under load). Here each rank asks about a different path and only
// rank 0's exists: every rank must get rank 0's verdict.
TEST(RunDirectory, RankZeroDecidesForEveryRank) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  const std::string there = dir.file("there.nc"), missing = dir.file("missing.nc");
  if (comm_rank(world) == 0) std::ofstream(there) << "x";
  MPI_Barrier(world);
  const std::string mine = comm_rank(world) == 0 ? there : missing;
  EXPECT_EQ(app::existing_on_root(world, {mine}), there);
  const std::string e =
      test::error_of<IoError>([&] { app::prepare_targets(world, {mine}, false); });
  EXPECT_NE(e.find("results of an earlier run exist"), std::string::npos) << e;
  EXPECT_THROW(app::refuse_existing(world, mine, false), IoError);
  app::refuse_existing(world, mine, true);  // --overwrite: kept until replaced
  if (comm_rank(world) == 0) {
    EXPECT_TRUE(fs::exists(there));
  }
  app::prepare_targets(world, {mine}, true);  // --overwrite: removed by rank 0
  if (comm_rank(world) == 0) {
    EXPECT_FALSE(fs::exists(there));
  }
  EXPECT_EQ(app::existing_on_root(world, {mine}), "");
}
