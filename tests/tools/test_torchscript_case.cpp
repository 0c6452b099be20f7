// The advection case's `torchscript` stepper (emulators/torchscript_stepper.hpp): a TorchScript
// model made here in C++ (module + define + save, as torch.jit.save would write it) that computes
// first-order upwind with forward Euler for the case's constant velocity, as a fixed float64
// convolution over the rank's ghosted block, runs in `aeolus run` (run_case) and gives the
// classical upwind/Euler stepper's fields to round-off, on any rank count; output state vs
// increment; the mass fixers; and the refusals (missing file, wrong output shape, other dt, a
// halo wider than the domain, a non-finite output, 1D/3D grids, misspelt keys).
#include <gtest/gtest.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "case_files.hpp"
#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "emulators/torchscript_stepper.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "tools/app/driver.hpp"

using namespace aeolus;

namespace {

// The case's grid and velocity: 16 x 12 cells of 0.0625 m, u = (0.7, 0.4) m/s, dt = 0.01 s.
constexpr int kNx = 16, kNy = 12;
constexpr double kDx = 0.0625, kU = 0.7, kV = 0.4, kDt = 0.01;
constexpr double kCx = kU * kDt / kDx, kCy = kV * kDt / kDx;

int rank_of(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}

// kind: increment (f = the upwind Euler increment, plus growth * q), state (f = q + that
// increment), wrong_shape (returns its input), nan (sqrt of a negative number), nan_above_2
// (the increment, NaN where q > 2). halo: the model's ghost width (kernel 2 halo + 1). dtype:
// the parameters'. Written by rank 0; collective.
void save_model(MPI_Comm comm, const std::string& path, const std::string& kind, int halo,
                double growth = 0, torch::Dtype dtype = torch::kFloat64) {
  if (rank_of(comm) == 0) {
    const int k = 2 * halo + 1;
    std::vector<double> w(size_t(k * k), 0.0);
    w[size_t(halo * k + halo)] = -(kCx + kCy) + growth;  // the cell itself
    if (halo > 0) {
      w[size_t(halo * k + halo - 1)] = kCx;    // its upwind neighbour along x (i - 1)
      w[size_t((halo - 1) * k + halo)] = kCy;  // along y (j - 1)
    }
    torch::jit::Module m("UpwindModel");
    m.register_parameter(
        "w",
        torch::from_blob(w.data(), {1, 1, k, k}, torch::TensorOptions().dtype(torch::kFloat64))
            .to(dtype, false, true),
        false);
    const std::string h = std::to_string(halo);
    if (kind == "increment") {
      m.define("def forward(self, x):\n    return torch.conv2d(x, self.w)\n");
    } else if (kind == "state") {
      m.define("def forward(self, x):\n    return x[:, :, " + h + ":-" + h + ", " + h + ":-" + h +
               "] + torch.conv2d(x, self.w)\n");
    } else if (kind == "wrong_shape") {
      m.define("def forward(self, x):\n    return x * self.w[0, 0, 0, 0]\n");
    } else if (kind == "nan_above_2") {
      m.define("def forward(self, x):\n    c = x[:, :, " + h + ":-" + h + ", " + h + ":-" + h +
               "]\n    return torch.conv2d(x, self.w) + torch.sqrt(2.0 - c) * 0.0\n");
    } else if (kind == "nan") {
      m.define("def forward(self, x):\n    return torch.sqrt(torch.conv2d(x, self.w) - 10.0)\n");
    } else {
      throw std::invalid_argument("save_model: unknown kind " + kind);
    }
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    m.save(path);
  }
  MPI_Barrier(comm);
}

// A case on the 16 x 12 grid; `extra` is appended (a torchscript section, ...).
std::string case_yaml(const std::string& stepper, const std::string& extra,
                      const std::string& periodic = "[true, true]") {
  return "grid:\n  dim: 2\n  n: [16, 12]\n  hi: [1.0, 0.75]\n  periodic: " + periodic +
         "\n"
         "physics:\n  velocity:\n    type: constant\n    u: [0.7, 0.4]\n"
         "  initial_condition:\n    type: gaussian\n    center: [0.4, 0.3]\n    radius: 0.1\n"
         "stepper:\n  type: " +
         stepper +
         "\n  scheme:\n    reconstruction: upwind\n    time_integrator: euler\n"
         "time:\n  t_end: 0.4\n  dt_max: 0.01\n"
         "output:\n  interval: 0.1\n" +
         extra;
}

// A smooth positive field on the 16 x 12 grid, natural order (x fastest).
std::vector<double> initial_field() {
  std::vector<double> q(size_t(kNx * kNy));
  for (int j = 0; j < kNy; ++j)
    for (int i = 0; i < kNx; ++i)
      q[size_t(j * kNx + i)] =
          1.5 + std::sin(2 * M_PI * i / kNx) * std::cos(2 * M_PI * j / kNy) + 0.01 * i * j;
  return q;
}

CartesianGridParams grid_params(int dim = 2) {
  CartesianGridParams p;
  p.dim = dim;
  p.n = {kNx, dim > 1 ? kNy : 1, dim > 2 ? 4 : 1};
  p.hi = {1.0, 0.75, 0.25};
  return p;
}

emulators::TorchScriptStepperParams params(const std::string& model, int halo) {
  emulators::TorchScriptStepperParams p;
  p.model = model;
  p.halo = halo;
  p.dt = kDt;
  return p;
}

// Steps the field (global values on rank 0) `steps` times; returns the gathered result on rank
// 0; masses (q.sum()) after every step in `masses` if given.
std::vector<double> run_stepper(const CartesianGrid& grid,
                                const emulators::TorchScriptStepperParams& p, int steps,
                                std::vector<double>* masses = nullptr) {
  auto stepper = emulators::make_torchscript_stepper(grid, p);
  Field q(grid, "q");
  q.scatter_from_root(initial_field());
  double t = 0;
  if (masses) masses->push_back(q.sum());
  for (int s = 0; s < steps; ++s) {
    double dt = stepper->max_dt(q, t);
    stepper->step(q, t, dt);
    if (masses) masses->push_back(q.sum());
  }
  EXPECT_NEAR(t, steps * kDt, 1e-12);
  return q.gather_to_root();
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t k = 0; k < std::min(a.size(), b.size()); ++k) d = std::max(d, std::abs(a[k] - b[k]));
  return d;
}

}  // namespace

// aeolus run with stepper torchscript (the upwind model) against aeolus run with the classical
// upwind/Euler stepper on the same case: every output frame, periodic and with outflow
// boundaries along x (the model's ghosts are the scheme's zero-gradient ghosts there).
TEST(TorchScriptCase, UpwindModelRunsLikeTheClassicalUpwindStepper) {
  test::TempDir dir;
  for (const std::string periodic : {"[true, true]", "[false, true]"}) {
    SCOPED_TRACE("grid.periodic = " + periodic);
    const std::string ts = test::write_case(
        MPI_COMM_WORLD, dir, "ts",
        case_yaml("torchscript", "torchscript:\n  halo: 1\n  dt: 0.01\n", periodic));
    save_model(MPI_COMM_WORLD, ts + "/models/online.pt", "increment", 1);  // the default path
    const std::string cl =
        test::write_case(MPI_COMM_WORLD, dir, "cl", case_yaml("classical", "", periodic));
    auto opt = test::quiet_run();
    opt.overwrite = true;
    const auto rt = app::run_case(MPI_COMM_WORLD, app::load_case(ts), opt);
    const auto rc = app::run_case(MPI_COMM_WORLD, app::load_case(cl), opt);
    EXPECT_EQ(rt.steps, 40);
    EXPECT_EQ(rc.steps, 40);
    EXPECT_DOUBLE_EQ(rt.t, 0.4);
    if (rank_of(MPI_COMM_WORLD) == 0) {
      const auto qt = test::read_var(rt.output_path, "q");
      const auto qc = test::read_var(rc.output_path, "q");
      ASSERT_EQ(qt.size(), size_t(5 * kNx * kNy));  // frames at 0, 0.1, ..., 0.4
      const double d = max_abs_diff(qt, qc);
      EXPECT_LT(d, 1e-13);
      // The state moved: the comparison is not of two unchanged fields.
      double moved = 0;
      for (size_t k = 0; k < size_t(kNx * kNy); ++k)
        moved = std::max(moved, std::abs(qt[qt.size() - kNx * kNy + k] - qt[k]));
      EXPECT_GT(moved, 0.1);
      const std::string json = test::read_text(ts + "/logs/run.json");
      EXPECT_EQ(test::json_number(json, "model_forward_calls"), 40.0) << json;
      EXPECT_NE(test::read_text(ts + "/logs/run.log")
                    .find("torchscript model " + ts + "/models/online.pt (float64, halo 1"),
                std::string::npos);
    }
  }
}

// Each rank evaluates its own block: the distributed run equals a run on one process, also for
// a halo wider than a rank's block (its ghosts then come from ranks further away).
TEST(TorchScriptCase, EveryRankCountGivesTheSameField) {
  test::TempDir dir;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int halo : {1, 7}) {
    SCOPED_TRACE("halo " + std::to_string(halo));
    const std::string model = dir.file("upwind" + std::to_string(halo) + ".pt");
    save_model(MPI_COMM_WORLD, model, "increment", halo);
    CartesianGridParams gp = grid_params();
    if (size == 2) gp.procs = {1, 2, 1};  // 6 rows per rank: halo 7 is wider than a block
    CartesianGrid grid(PETSC_COMM_WORLD, gp);
    if (size == 2) {
      ASSERT_EQ(grid.count(1), 6);
    }
    const auto distributed = run_stepper(grid, params(model, halo), 30);
    if (rank_of(MPI_COMM_WORLD) == 0) {
      CartesianGrid serial_grid(PETSC_COMM_SELF, grid_params());
      const auto serial = run_stepper(serial_grid, params(model, halo), 30);
      EXPECT_LT(max_abs_diff(distributed, serial), 1e-13);
    }
  }
}

TEST(TorchScriptCase, StateOutputEqualsIncrementOutput) {
  test::TempDir dir;
  save_model(MPI_COMM_WORLD, dir.file("inc.pt"), "increment", 2);
  save_model(MPI_COMM_WORLD, dir.file("state.pt"), "state", 2);
  CartesianGrid grid(PETSC_COMM_WORLD, grid_params());
  auto pi = params(dir.file("inc.pt"), 2);
  auto ps = params(dir.file("state.pt"), 2);
  ps.output = "state";
  const auto qi = run_stepper(grid, pi, 20);
  const auto qs = run_stepper(grid, ps, 20);
  // The same model read as the other kind is a different (wrong) scheme: the key matters.
  auto wrong = ps;
  wrong.output = "increment";
  const auto qw = run_stepper(grid, wrong, 1);
  if (rank_of(MPI_COMM_WORLD) == 0) {
    EXPECT_LT(max_abs_diff(qi, qs), 1e-14);
    const auto q0 = initial_field();
    EXPECT_GT(max_abs_diff(qw, q0), 1.0);  // q + (q + increment): about twice the state
  }
}

// A model whose increment adds 1 % of q per step (upwind conserves; the growth does not): the
// total grows by 1.01 per step without a fixer and stays to 1e-13 with scale or shift.
TEST(TorchScriptCase, MassFixersConserveTheMassOfAModelThatDoesNot) {
  test::TempDir dir;
  const std::string model = dir.file("growing.pt");
  save_model(MPI_COMM_WORLD, model, "increment", 1, 0.01);
  CartesianGrid grid(PETSC_COMM_WORLD, grid_params());
  constexpr int steps = 25;
  {
    std::vector<double> m;
    run_stepper(grid, params(model, 1), steps, &m);
    EXPECT_NEAR(m.back() / m.front(), std::pow(1.01, steps), 1e-12 * std::pow(1.01, steps));
  }
  for (const char* fixer : {"scale", "shift"}) {
    SCOPED_TRACE(fixer);
    auto p = params(model, 1);
    p.mass_fixer = fixer;
    std::vector<double> m;
    const auto q = run_stepper(grid, p, steps, &m);
    for (double mass : m) EXPECT_LT(std::abs(mass - m.front()) / std::abs(m.front()), 1e-13);
    if (rank_of(MPI_COMM_WORLD) == 0) {
      EXPECT_GT(max_abs_diff(q, initial_field()), 0.1);
    }
  }
}

TEST(TorchScriptCase, Refusals) {
  test::TempDir dir;
  const std::string good = dir.file("good.pt");
  save_model(MPI_COMM_WORLD, good, "increment", 1);
  CartesianGrid grid(PETSC_COMM_WORLD, grid_params());

  // A missing model: IoError naming the file.
  const std::string missing = dir.file("nowhere.pt");
  EXPECT_NE(test::error_of<IoError>([&] {
              emulators::make_torchscript_stepper(grid, params(missing, 1));
            }).find(missing),
            std::string::npos);

  // An output that is not the owned block: got and expected shapes named (rank 0 of 1 or 2
  // ranks owns 16 x 12 or part of it; the message is the lowest failing rank's on every rank).
  {
    save_model(MPI_COMM_WORLD, dir.file("shape.pt"), "wrong_shape", 1);
    auto s = emulators::make_torchscript_stepper(grid, params(dir.file("shape.pt"), 1));
    Field q(grid, "q");
    q.fill(1.0);
    double t = 0, dt = kDt;
    const std::string e = test::error_of<ModelError>([&] { s->step(q, t, dt); });
    const std::string got = "[1, 1, " + std::to_string(grid.count(1) + 2) + ", " +
                            std::to_string(grid.count(0) + 2) + "]";
    const std::string expected = "expected an output of shape [1, 1, " +
                                 std::to_string(grid.count(1)) + ", " +
                                 std::to_string(grid.count(0)) + "]";
    if (grid.size() == 1) {
      EXPECT_NE(e.find("output has shape " + got), std::string::npos) << e;
      EXPECT_NE(e.find(expected), std::string::npos) << e;
    }
    EXPECT_NE(e.find("step 1"), std::string::npos) << e;
  }

  // Another step than the trained one.
  {
    auto s = emulators::make_torchscript_stepper(grid, params(good, 1));
    Field q(grid, "q");
    q.fill(1.0);
    double t = 0, dt = 0.02;
    const std::string e = test::error_of<ModelError>([&] { s->step(q, t, dt); });
    EXPECT_NE(e.find("dt = 0.01 s"), std::string::npos) << e;
    EXPECT_NE(e.find("cannot take dt = 0.02"), std::string::npos) << e;
    EXPECT_DOUBLE_EQ(s->max_dt(q, 0), kDt);
    EXPECT_TRUE(s->fixed_step());
  }

  // A halo wider than the domain (12 cells along y).
  EXPECT_NE(test::error_of<ConfigError>([&] {
              emulators::make_torchscript_stepper(grid, params(good, 13));
            }).find("torchscript.halo = 13 is wider than the domain along y (12 cells)"),
            std::string::npos);

  // A non-finite output: the step and the time named.
  {
    save_model(MPI_COMM_WORLD, dir.file("nan.pt"), "nan", 1);
    auto s = emulators::make_torchscript_stepper(grid, params(dir.file("nan.pt"), 1));
    Field q(grid, "q");
    q.fill(1.0);
    double t = 0.25, dt = kDt;
    const std::string e = test::error_of<NumericsError>([&] { s->step(q, t, dt); });
    EXPECT_NE(e.find("non-finite value"), std::string::npos) << e;
    EXPECT_NE(e.find("at step 1 from t = 0.25 s to t = 0.26 s"), std::string::npos) << e;
  }

  // 1D and 3D grids, by name.
  for (int dim : {1, 3}) {
    CartesianGrid g(PETSC_COMM_WORLD, grid_params(dim));
    const std::string e = test::error_of<ConfigError>(
        [&] { emulators::make_torchscript_stepper(g, params(good, 1)); });
    EXPECT_NE(e.find("runs on 2D grids only; the case grid is " + std::to_string(dim) + "D"),
              std::string::npos)
        << e;
  }
}

// The case keys: schema checks with hints, dt required with this stepper, the defaults in the
// resolved configuration that `aeolus check` prints, and the case file named in the refusals of
// aeolus run.
TEST(TorchScriptCase, CaseKeys) {
  test::TempDir dir;
  const auto load_error = [&](const std::string& yaml) {
    const std::string d = test::write_case(MPI_COMM_WORLD, dir, "keys", yaml);
    return test::error_of<ConfigError>([&] { app::load_case(d); });
  };
  std::string e = load_error(case_yaml("torchscript", "torchscript:\n  dt: 0.01\n  modle: m.pt\n"));
  EXPECT_NE(e.find("unknown key 'torchscript.modle'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'model'"), std::string::npos) << e;
  e = load_error(case_yaml("torchscript", "torchscript:\n  dt: 0.01\n  output: incremnt\n"));
  EXPECT_NE(e.find("did you mean 'increment'"), std::string::npos) << e;
  e = load_error(case_yaml("torchscrpt", "torchscript:\n  dt: 0.01\n"));
  EXPECT_NE(e.find("did you mean 'torchscript'"), std::string::npos) << e;
  e = load_error(case_yaml("torchscript", "torchscript:\n  halo: -1\n  dt: 0.01\n"));
  EXPECT_NE(e.find("torchscript.halo"), std::string::npos) << e;
  e = load_error(case_yaml("torchscript", "torchscript:\n  dt: 0\n"));
  EXPECT_NE(e.find("torchscript.dt"), std::string::npos) << e;
  e = load_error(case_yaml("torchscript", "torchscript:\n  mass_fixer: shfit\n  dt: 0.01\n"));
  EXPECT_NE(e.find("did you mean 'shift'"), std::string::npos) << e;
  e = load_error(case_yaml("torchscript", ""));  // dt is required with this stepper
  EXPECT_NE(e.find("torchscript.dt"), std::string::npos) << e;

  // Defaults, as `aeolus check` prints them.
  const std::string d = test::write_case(MPI_COMM_WORLD, dir, "defaults",
                                         case_yaml("torchscript", "torchscript:\n  dt: 0.01\n"));
  const auto c = app::load_case(d);
  for (const char* line : {"torchscript:", "model: models/online.pt", "halo: 2",
                           "output: increment", "dt: 0.01", "mass_fixer: none", "threads: 1"}) {
    EXPECT_NE(c.resolved_yaml.find(line), std::string::npos) << line << "\n" << c.resolved_yaml;
  }

  // aeolus run: a missing model named; --stepper torchscript on a case without torchscript.dt.
  auto opt = test::quiet_run();
  e = test::error_of<IoError>([&] { app::run_case(MPI_COMM_WORLD, c, opt); });
  EXPECT_NE(e.find(d + "/models/online.pt"), std::string::npos) << e;
  const std::string cl =
      test::write_case(MPI_COMM_WORLD, dir, "classical", case_yaml("classical", ""));
  opt.stepper = "torchscript";
  e = test::error_of<ConfigError>([&] { app::run_case(MPI_COMM_WORLD, app::load_case(cl), opt); });
  EXPECT_NE(e.find("needs torchscript.dt"), std::string::npos) << e;
  // A 3D case, by name.
  const std::string d3 = test::write_case(
      MPI_COMM_WORLD, dir, "threed",
      "grid:\n  dim: 3\n  n: [8, 8, 4]\nphysics:\n  velocity:\n    u: [0.7, 0.4, 0.0]\n"
      "stepper:\n  type: torchscript\ntime:\n  t_end: 0.1\ntorchscript:\n  dt: 0.01\n");
  save_model(MPI_COMM_WORLD, d3 + "/models/online.pt", "increment", 1);
  e = test::error_of<ConfigError>(
      [&] { app::run_case(MPI_COMM_WORLD, app::load_case(d3), test::quiet_run()); });
  EXPECT_NE(e.find("the case grid is 3D"), std::string::npos) << e;
  EXPECT_NE(e.find(d3 + "/case.yaml"), std::string::npos) << e;
}

// A float32 model gets its input in float32 (one conversion of the block) and its output back
// in float64: the float64 model's field to float32 round-off, and visibly not bitwise.
TEST(TorchScriptCase, Float32ModelRunsInItsOwnDtype) {
  test::TempDir dir;
  save_model(MPI_COMM_WORLD, dir.file("f64.pt"), "increment", 1);
  save_model(MPI_COMM_WORLD, dir.file("f32.pt"), "increment", 1, 0, torch::kFloat32);
  CartesianGrid grid(PETSC_COMM_WORLD, grid_params());
  EXPECT_NE(emulators::make_torchscript_stepper(grid, params(dir.file("f32.pt"), 1))
                ->describe()
                .find("(float32, halo 1, output increment"),
            std::string::npos);
  const auto q64 = run_stepper(grid, params(dir.file("f64.pt"), 1), 20);
  const auto q32 = run_stepper(grid, params(dir.file("f32.pt"), 1), 20);
  if (rank_of(MPI_COMM_WORLD) == 0) {
    const double d = max_abs_diff(q64, q32);
    EXPECT_LT(d, 20 * 3 * 2.5 * 1.2e-7);  // 20 steps, |q| <= 2.5, a few float32 roundings each
    EXPECT_GT(d, 1e-9);
  }
}

// The time loop's checkpoints and --restart hold for this stepper too: an interrupted and
// restarted run ends bitwise equal to an uninterrupted one.
TEST(TorchScriptCase, RestartIsBitwise) {
  test::TempDir dir;
  const std::string yaml = case_yaml("torchscript", "torchscript:\n  halo: 1\n  dt: 0.01\n");
  const std::string full_dir = test::write_case(MPI_COMM_WORLD, dir, "full", yaml);
  const std::string split_dir = test::write_case(MPI_COMM_WORLD, dir, "split", yaml);
  save_model(MPI_COMM_WORLD, full_dir + "/models/online.pt", "increment", 1);
  save_model(MPI_COMM_WORLD, split_dir + "/models/online.pt", "increment", 1);
  const auto full = app::load_case(full_dir), split = app::load_case(split_dir);
  app::run_case(MPI_COMM_WORLD, full, test::quiet_run());
  auto opt = test::quiet_run();
  opt.stop_after_steps = 13;  // between output times
  EXPECT_EQ(app::run_case(MPI_COMM_WORLD, split, opt).steps, 13);
  opt.stop_after_steps = 0;
  opt.restart = true;
  const auto r = app::run_case(MPI_COMM_WORLD, split, opt);
  EXPECT_DOUBLE_EQ(r.t, 0.4);
  if (rank_of(MPI_COMM_WORLD) == 0) {
    const auto a = test::read_var(full_dir + "/output/fields.nc", "q");
    const auto b = test::read_var(split_dir + "/output/fields.nc", "q");
    ASSERT_EQ(a.size(), size_t(5 * kNx * kNy));
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) ASSERT_EQ(a[k], b[k]) << "value " << k;
  }
}

// A non-finite output on one rank only (rows y < 3, all on rank 0 of 2): every rank throws
// that rank's error, so none is left waiting in the next collective call.
TEST(TorchScriptCase, NonFiniteOutputOnOneRankStopsEveryRank) {
  test::TempDir dir;
  save_model(MPI_COMM_WORLD, dir.file("nan2.pt"), "nan_above_2", 1);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  CartesianGridParams gp = grid_params();
  if (size == 2) gp.procs = {1, 2, 1};
  CartesianGrid grid(PETSC_COMM_WORLD, gp);
  auto s = emulators::make_torchscript_stepper(grid, params(dir.file("nan2.pt"), 1));
  Field q(grid, "q");
  std::vector<double> q0(size_t(kNx * kNy), 1.0);
  for (int j = 0; j < 3; ++j)
    for (int i = 2; i < 5; ++i) q0[size_t(j * kNx + i)] = 3.0;
  q.scatter_from_root(q0);
  double t = 0.5, dt = kDt;
  const std::string e = test::error_of<NumericsError>([&] { s->step(q, t, dt); });
  EXPECT_NE(e.find("returned 9 non-finite values"), std::string::npos) << e;
  EXPECT_NE(e.find("at step 1 from t = 0.5 s to t = 0.51 s"), std::string::npos) << e;
  EXPECT_NE(e.find("at cell x = 2, y = 0)"), std::string::npos)
      << e;  // rank 0's cell, also on rank 1
}
