// The stepper handle of the C API (aeolus_stepper_*), at 1 and 2 ranks, through the C calls:
//  - a host's own decomposition (columns along x, rows along y, ranks numbered against the
//    DMDA's order) steps an advection case bitwise as `aeolus run` (run_case) does;
//  - the case's emulator (a flux CNN trained here) likewise, on aeolus run's decomposition;
//  - a TorchScript model (stepper torchscript) likewise, on the host's own decompositions;
//  - a stepper registered by name (register_stepper) is found: one registry for both;
//  - every refusal: status and message, on every rank (an error of one rank reaches all).
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "aeolus.h"
#include "common/temp_dir.hpp"
#include "emulators/flux_cnn_shift_data.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/case_files.hpp"

namespace {

using aeolus::test::TempDir;

// 32 x 32 cells, u = (1, 0.5): the CFL step 0.5 / (32 + 16) exceeds time.dt_max = 2^-7, so
// every step of `aeolus run` is exactly 2^-7 (frames at 0, 1/16, 1/8: 8 steps each).
const char* kCase = R"(grid:
  dim: 2
  n: [32, 32]
  periodic: [true, true]
physics:
  equation: advection
  velocity:
    type: constant
    u: [1.0, 0.5]
  initial_condition:
    type: gaussian
    center: [0.3, 0.3]
    radius: 0.08
stepper:
  type: classical
  scheme:
    reconstruction: van_leer
    time_integrator: ssprk3
time:
  t_end: 0.125
  cfl: 0.5
  dt_max: 0.0078125
output:
  interval: 0.0625
checkpoint:
  every_steps: 100
log:
  progress_every: 1000
)";
constexpr double kStep = 0.0078125;
constexpr int kN = 32;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

int rank_of(MPI_Comm c) {
  int r = 0;
  MPI_Comm_rank(c, &r);
  return r;
}

int size_of(MPI_Comm c) {
  int s = 1;
  MPI_Comm_size(c, &s);
  return s;
}

// This rank's box when the 32 x 32 grid is cut along `along` into equal parts; `reversed`
// numbers the parts from the far end (rank 0 owns the last), against the DMDA's order.
struct Box {
  int64_t start[2] = {0, 0}, count[2] = {kN, kN};
};
Box split(int along, bool reversed) {
  const int size = size_of(MPI_COMM_WORLD);
  const int part = reversed ? size - 1 - rank_of(MPI_COMM_WORLD) : rank_of(MPI_COMM_WORLD);
  Box b;
  b.count[along] = kN / size;
  b.start[along] = part * (kN / size);
  return b;
}

// The box's cells of one frame of the global q (frame-major, x fastest).
std::vector<double> owned(const std::vector<double>& frames, int frame, const Box& b) {
  std::vector<double> q;
  for (int64_t j = b.start[1]; j < b.start[1] + b.count[1]; ++j)
    for (int64_t i = b.start[0]; i < b.start[0] + b.count[0]; ++i)
      q.push_back(frames[size_t(frame * kN * kN + j * kN + i)]);
  return q;
}

aeolus_status create(const std::string& dir, const char* stepper, const Box& b, aeolus_stepper** s,
                     MPI_Comm comm = MPI_COMM_WORLD) {
  const int64_t n[2] = {kN, kN};
  return aeolus_stepper_create(dir.c_str(), stepper, MPI_Comm_c2f(comm), 2, n, b.start, b.count, s);
}

// A fixed-step stepper (emulator, torchscript) built on box `b` from case `dir`, stepped from
// frame 0 of `frames` (aeolus run's output), `per_frame` steps of `dt` per frame: every cell of
// frames 1 and 2 bitwise.
void expect_fixed_steps_as_run(const std::string& dir, const char* expected_name,
                               const std::vector<double>& frames, const Box& b, int per_frame,
                               double dt_expected) {
  aeolus_stepper* s = nullptr;
  ASSERT_EQ(create(dir, nullptr, b, &s), AEOLUS_OK) << aeolus_last_error();
  const char* name = nullptr;
  ASSERT_EQ(aeolus_stepper_name(s, &name), AEOLUS_OK);
  EXPECT_STREQ(name, expected_name);
  int fixed = 0;
  ASSERT_EQ(aeolus_stepper_fixed_step(s, &fixed), AEOLUS_OK);
  EXPECT_EQ(fixed, 1);
  std::vector<double> q = owned(frames, 0, b);
  double t = 0;
  for (int frame = 1; frame <= 2; ++frame) {
    for (int k = 0; k < per_frame; ++k) {
      double dt = 0;
      ASSERT_EQ(aeolus_stepper_max_dt(s, q.data(), t, &dt), AEOLUS_OK) << aeolus_last_error();
      EXPECT_EQ(dt, dt_expected);
      ASSERT_EQ(aeolus_stepper_step(s, q.data(), &t, &dt), AEOLUS_OK) << aeolus_last_error();
    }
    EXPECT_EQ(t, frame * per_frame * dt_expected);
    const auto expect = owned(frames, frame, b);
    for (size_t i = 0; i < q.size(); ++i)
      ASSERT_EQ(q[i], expect[i]) << "frame " << frame << ", cell " << i;
  }
  EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
}

class StepperApi : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "adv", kCase); }
  TempDir tmp_{MPI_COMM_WORLD};
  std::string dir_;
};

// The host's loop: dt from max_dt, capped at the host's own step (time.dt_max of the case).
TEST_F(StepperApi, HostDecompositionStepsBitwiseAsAeolusRun) {
  const std::string ref = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "ref", kCase);
  auto c = aeolus::app::load_case(ref);
  aeolus::app::run_case(MPI_COMM_WORLD, c, aeolus::test::quiet_run());
  const auto frames = aeolus::test::read_var(c.path("output/fields.nc"), "q");
  ASSERT_EQ(frames.size(), size_t(3 * kN * kN));
  for (int along : {0, 1}) {
    for (bool reversed : {false, true}) {
      SCOPED_TRACE("split along " + std::to_string(along) + (reversed ? ", reversed" : ""));
      const Box b = split(along, reversed);
      aeolus_stepper* s = nullptr;
      ASSERT_EQ(create(dir_, nullptr, b, &s), AEOLUS_OK) << aeolus_last_error();
      const char* name = nullptr;
      ASSERT_EQ(aeolus_stepper_name(s, &name), AEOLUS_OK);
      EXPECT_STREQ(name, "classical");
      int fixed = -1;
      ASSERT_EQ(aeolus_stepper_fixed_step(s, &fixed), AEOLUS_OK);
      EXPECT_EQ(fixed, 0);
      std::vector<double> q = owned(frames, 0, b);
      double t = 0;
      for (int frame = 1; frame <= 2; ++frame) {
        for (int k = 0; k < 8; ++k) {
          double dt = 0;
          ASSERT_EQ(aeolus_stepper_max_dt(s, q.data(), t, &dt), AEOLUS_OK) << aeolus_last_error();
          EXPECT_DOUBLE_EQ(dt, 0.5 / (kN * 1.0 + kN * 0.5));  // cfl / sum |u_d| / dx_d
          dt = std::min(dt, kStep);
          ASSERT_EQ(aeolus_stepper_step(s, q.data(), &t, &dt), AEOLUS_OK) << aeolus_last_error();
          EXPECT_EQ(dt, kStep);
        }
        EXPECT_EQ(t, frame * 0.0625);
        const auto expect = owned(frames, frame, b);
        ASSERT_EQ(q.size(), expect.size());
        for (size_t i = 0; i < q.size(); ++i)
          ASSERT_EQ(q[i], expect[i]) << "frame " << frame << ", cell " << i;
      }
      EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
    }
  }
  // The handle writes nothing into the case directory: no run log, no output, no checkpoints.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);  // case.yaml
}

// A 3D case (8^3 cells, u = (1, 0.5, 0.25): CFL step 0.5 / 14 above time.dt_max = 2^-5), the
// host's slabs along z: the copies in and out of the stepper's field cover the third index.
TEST_F(StepperApi, ThreeDimensionalSlabsStepBitwiseAsAeolusRun) {
  std::string yaml = kCase;
  yaml.replace(yaml.find("dim: 2"), 6, "dim: 3");
  yaml.replace(yaml.find("n: [32, 32]"), 11, "n: [8, 8, 8]");
  yaml.replace(yaml.find("periodic: [true, true]"), 22, "periodic: [true, true, true]");
  yaml.replace(yaml.find("u: [1.0, 0.5]"), 13, "u: [1.0, 0.5, 0.25]");
  yaml.replace(yaml.find("center: [0.3, 0.3]"), 18, "center: [0.3, 0.3, 0.6]");
  yaml.replace(yaml.find("radius: 0.08"), 12, "radius: 0.2");
  yaml.replace(yaml.find("dt_max: 0.0078125"), 17, "dt_max: 0.03125");
  const std::string dir = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "cube", yaml);
  auto c = aeolus::app::load_case(dir);
  aeolus::app::run_case(MPI_COMM_WORLD, c, aeolus::test::quiet_run());
  const auto frames = aeolus::test::read_var(c.path("output/fields.nc"), "q");
  constexpr int m = 8;
  ASSERT_EQ(frames.size(), size_t(3 * m * m * m));
  const int size = size_of(MPI_COMM_WORLD), rank = rank_of(MPI_COMM_WORLD);
  const int64_t n[3] = {m, m, m}, start[3] = {0, 0, rank * (m / size)}, count[3] = {m, m, m / size};
  aeolus_stepper* s = nullptr;
  ASSERT_EQ(aeolus_stepper_create(dir.c_str(), nullptr, MPI_Comm_c2f(MPI_COMM_WORLD), 3, n, start,
                                  count, &s),
            AEOLUS_OK)
      << aeolus_last_error();
  // The slab of frame f, x fastest.
  auto slab = [&](int f) {
    const auto first = frames.begin() + (f * m * m * m + start[2] * m * m);
    return std::vector<double>(first, first + count[2] * m * m);
  };
  std::vector<double> q = slab(0);
  double t = 0;
  for (int frame = 1; frame <= 2; ++frame) {
    for (int k = 0; k < 2; ++k) {
      double dt = 0;
      ASSERT_EQ(aeolus_stepper_max_dt(s, q.data(), t, &dt), AEOLUS_OK) << aeolus_last_error();
      dt = std::min(dt, 0.03125);
      ASSERT_EQ(aeolus_stepper_step(s, q.data(), &t, &dt), AEOLUS_OK) << aeolus_last_error();
    }
    EXPECT_EQ(t, frame * 0.0625);
    const auto expect = slab(frame);
    EXPECT_NE(expect, slab(0));  // the pulse has moved
    for (size_t i = 0; i < q.size(); ++i) {
      ASSERT_EQ(q[i], expect[i]) << "frame " << frame << ", cell " << i;
    }
  }
  EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
}

// The case's emulator: a flux CNN trained for one epoch here (what matters is that the handle
// runs the network `aeolus run` runs), on the decomposition `aeolus run` chooses, since the
// network's convolutions sum in another order on blocks of another size. Its step is
// the trained one, dt_frame = 0.5 dx = 2^-6: two steps per frame.
TEST_F(StepperApi, EmulatorStepsBitwiseAsAeolusRun) {
  std::string yaml = kCase;
  yaml.replace(yaml.find("type: classical"), 15, "type: emulator");
  yaml.replace(yaml.find("  dt_max: 0.0078125\n"), 20, "");
  yaml.replace(yaml.find("t_end: 0.125"), 12, "t_end: 0.0625");
  yaml.replace(yaml.find("interval: 0.0625"), 16, "interval: 0.03125");
  const std::string dir = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "emulator", yaml);
  if (rank_of(MPI_COMM_WORLD) == 0) {
    aeolus::emulators::FluxCnnParams p;
    p.channels = 8;
    p.layers = 3;
    p.stencil = 6;
    p.threads = 1;
    aeolus::emulators::FluxCnnTrainingParams t;
    t.epochs = 1;
    t.batch_size = 8;
    t.learning_rate = 5e-3;
    t.threads = 1;
    std::filesystem::create_directories(dir + "/models");
    aeolus::emulators::train_flux_cnn(p, t, aeolus::test::make_shift_dataset(kN, 4, 4, 0.5, 51),
                                      aeolus::test::make_shift_dataset(kN, 1, 4, 0.5, 52),
                                      dir + "/models/emulator.pt", tmp_.file("train.csv"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto c = aeolus::app::load_case(dir);
  aeolus::app::run_case(MPI_COMM_WORLD, c, aeolus::test::quiet_run());
  const auto frames = aeolus::test::read_var(c.path("output/fields.nc"), "q");
  ASSERT_EQ(frames.size(), size_t(3 * kN * kN));

  auto grid = aeolus::app::make_grid(MPI_COMM_WORLD, c);  // the decomposition aeolus run uses
  Box b;
  for (int d = 0; d < 2; ++d) {
    b.start[d] = grid->start(d);
    b.count[d] = grid->count(d);
  }
  expect_fixed_steps_as_run(dir, "emulator", frames, b, 2, 0.015625);
}

// The `torchscript` stepper (a model exported from PyTorch, here made in C++): a nonlinear,
// element-wise increment of the ghosted block (halo 1, float64), so that every cell's value is
// the same arithmetic on any block: bitwise as `aeolus run` on the host's own columns and rows.
TEST_F(StepperApi, TorchScriptModelStepsBitwiseAsAeolusRun) {
  std::string yaml = kCase;
  yaml.replace(yaml.find("type: classical"), 15, "type: torchscript");
  yaml += "torchscript:\n  model: models/online.pt\n  halo: 1\n  dt: 0.0078125\n";
  const std::string dir = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "torchscript", yaml);
  if (rank_of(MPI_COMM_WORLD) == 0) {
    torch::jit::Module m("Increment");
    m.register_parameter("c", torch::tensor({0.2, 0.1}, torch::kFloat64), false);
    m.define(
        "def forward(self, x):\n"
        "    q = x[:, :, 1:-1, 1:-1]\n"
        "    gx = x[:, :, 1:-1, 2:] - x[:, :, 1:-1, :-2]\n"
        "    gy = x[:, :, 2:, 1:-1] - x[:, :, :-2, 1:-1]\n"
        "    return -self.c[0] * torch.tanh(gx) - self.c[1] * gy * (1.0 + q * q)\n");
    std::filesystem::create_directories(dir + "/models");
    m.save(dir + "/models/online.pt");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  auto c = aeolus::app::load_case(dir);
  aeolus::app::run_case(MPI_COMM_WORLD, c, aeolus::test::quiet_run());
  const auto frames = aeolus::test::read_var(c.path("output/fields.nc"), "q");
  ASSERT_EQ(frames.size(), size_t(3 * kN * kN));
  // Not a trivial map: the field has moved away from the initial one.
  double moved = 0;
  for (size_t i = 0; i < size_t(kN * kN); ++i)
    moved = std::max(moved, std::abs(frames[size_t(2 * kN * kN) + i] - frames[i]));
  EXPECT_GT(moved, 0.05);
  for (int along : {0, 1}) {
    for (bool reversed : {false, true}) {
      SCOPED_TRACE("split along " + std::to_string(along) + (reversed ? ", reversed" : ""));
      expect_fixed_steps_as_run(dir, "torchscript", frames, split(along, reversed), 8, kStep);
    }
  }
}

// A stepper registered by the host process is built by name: the API and the application
// library share one registry.
TEST_F(StepperApi, FindsAStepperRegisteredByName) {
  static int built = 0;
  aeolus::app::register_stepper("test_registered", [](const auto& c, const auto& grid) {
    ++built;
    return aeolus::app::make_stepper("classical", c, grid);
  });
  aeolus_stepper* s = nullptr;
  ASSERT_EQ(create(dir_, "test_registered", split(0, false), &s), AEOLUS_OK) << aeolus_last_error();
  const char* name = nullptr;
  ASSERT_EQ(aeolus_stepper_name(s, &name), AEOLUS_OK);
  EXPECT_STREQ(name, "test_registered");
  EXPECT_EQ(built, 1);
  EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
}

// Each refusal of aeolus_stepper_create: its status, its message, and no handle.
TEST_F(StepperApi, CreateRefusesBadArguments) {
  const int size = size_of(MPI_COMM_WORLD);
  const Box b = split(0, false);
  const int64_t n[2] = {kN, kN};
  const int world = MPI_Comm_c2f(MPI_COMM_WORLD);
  const std::string who = size > 1 ? "rank " + std::to_string(rank_of(MPI_COMM_WORLD)) + ": " : "";
  static int not_a_handle = 0;
  aeolus_stepper* const sentinel = reinterpret_cast<aeolus_stepper*>(&not_a_handle);
  aeolus_stepper* s = sentinel;  // each refusal must set it to NULL
  auto refused = [&](aeolus_status status, aeolus_status expect, const std::string& part) {
    EXPECT_EQ(status, expect) << aeolus_last_error();
    EXPECT_TRUE(contains(aeolus_last_error(), part)) << aeolus_last_error();
    EXPECT_EQ(s, nullptr);
    s = sentinel;
  };
  EXPECT_EQ(aeolus_stepper_create(dir_.c_str(), nullptr, world, 2, n, b.start, b.count, nullptr),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "aeolus_stepper_create: " + who + "out is NULL"))
      << aeolus_last_error();
  refused(aeolus_stepper_create(nullptr, nullptr, world, 2, n, b.start, b.count, &s),
          AEOLUS_ERROR_ARGUMENT, who + "case_dir is NULL; expected a case directory");
  refused(aeolus_stepper_create("", nullptr, world, 2, n, b.start, b.count, &s),
          AEOLUS_ERROR_ARGUMENT, who + "case_dir is \"\"");
  refused(aeolus_stepper_create(dir_.c_str(), nullptr, world, 4, n, b.start, b.count, &s),
          AEOLUS_ERROR_ARGUMENT, who + "dim = 4; expected 1, 2 or 3");
  refused(aeolus_stepper_create(dir_.c_str(), nullptr, world, 2, nullptr, b.start, b.count, &s),
          AEOLUS_ERROR_ARGUMENT, who + "global_n is NULL");
  const int64_t zero[2] = {0, kN};
  refused(aeolus_stepper_create(dir_.c_str(), nullptr, world, 2, n, b.start, zero, &s),
          AEOLUS_ERROR_ARGUMENT, who + "count[0] = 0 (count [0, 32]); expected >= 1");
  const int64_t far[2] = {kN - b.count[0] + 1, 0};  // one cell past the edge on every rank
  refused(aeolus_stepper_create(dir_.c_str(), nullptr, world, 2, n, far, b.count, &s),
          AEOLUS_ERROR_ARGUMENT,
          who + "the box start [" + std::to_string(far[0]) + ", 0], count [" +
              std::to_string(b.count[0]) + ", 32] reaches outside the grid global_n [32, 32] " +
              "along x");
  refused(create(dir_, "rk99", b, &s), AEOLUS_ERROR_ARGUMENT,
          who + "stepper = \"rk99\" is unknown; expected one of: classical, emulator");
  refused(create(tmp_.file("nowhere"), nullptr, b, &s), AEOLUS_ERROR_IO,
          "case_dir = \"" + tmp_.file("nowhere") + "\" is not a directory");
  refused(create(tmp_.path(), nullptr, b, &s), AEOLUS_ERROR_IO, "has no case.yaml");
  refused(create(dir_, nullptr, b, &s, MPI_COMM_NULL), AEOLUS_ERROR_ARGUMENT,
          "aeolus_stepper_create: comm = " + std::to_string(MPI_Comm_c2f(MPI_COMM_NULL)) +
              " is MPI_COMM_NULL");
  const int64_t wide[2] = {kN, 2 * kN};
  refused(aeolus_stepper_create(dir_.c_str(), nullptr, world, 2, wide, b.start, b.count, &s),
          AEOLUS_ERROR_ARGUMENT,
          "aeolus_stepper_create: global_n = [32, 64]; the case's grid.n is [32, 32] (" + dir_ +
              "/case.yaml); expected them equal");
  refused(aeolus_stepper_create(dir_.c_str(), nullptr, world, 1, n, b.start, b.count, &s),
          AEOLUS_ERROR_ARGUMENT, "dim = 1; the case's grid.dim is 2");
  // The emulator needs its trained model, which this case directory does not have.
  refused(create(dir_, "emulator", b, &s), AEOLUS_ERROR_IO,
          "model " + dir_ + "/models/emulator.pt does not exist or cannot be read");
  // A case that insists on another decomposition.
  std::string procs = kCase;
  procs.replace(procs.find("  periodic"), 0,
                "  procs: [" + std::to_string(size == 1 ? 2 : 1) + ", 1]\n");
  const std::string insists = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "procs", procs);
  refused(create(insists, nullptr, b, &s), AEOLUS_ERROR_ARGUMENT,
          "comm has " + std::to_string(size) + " rank(s) in boxes of [" + std::to_string(size) +
              ", 1] process columns; the case insists on grid.procs = [" +
              std::to_string(size == 1 ? 2 : 1) + ", 1]");
  // An invalid case file: named with its line.
  std::string bad = kCase;
  bad.replace(bad.find("cfl: 0.5"), 8, "cfl: fast");
  const std::string invalid = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "bad", bad);
  refused(create(invalid, nullptr, b, &s), AEOLUS_ERROR_CASE, "time.cfl");
}

// Cases the handle cannot step: one without a time loop, one whose state lives on one process
// (on 2 ranks), from the shipped cases.
TEST_F(StepperApi, CreateRefusesCasesItCannotStep) {
  const std::string cases = AEOLUS_SOURCE_DIR "/cases/";
  aeolus_stepper* s = nullptr;
  const int64_t n[2] = {256, 256}, start[2] = {0, 0};
  const int world = MPI_Comm_c2f(MPI_COMM_WORLD);
  if (size_of(MPI_COMM_WORLD) == 1) {
    EXPECT_EQ(
        aeolus_stepper_create((cases + "poisson-2d").c_str(), nullptr, world, 2, n, start, n, &s),
        AEOLUS_ERROR_CASE);
    EXPECT_TRUE(contains(aeolus_last_error(), "does not step fields in time"))
        << aeolus_last_error();
  } else {
    EXPECT_EQ(create(cases + "kepler", nullptr, split(0, false), &s), AEOLUS_ERROR_ARGUMENT);
    EXPECT_TRUE(contains(aeolus_last_error(),
                         "aeolus_stepper_create: comm has " +
                             std::to_string(size_of(MPI_COMM_WORLD)) +
                             " ranks; expected 1: a hamiltonian case steps its state on one "
                             "process"))
        << aeolus_last_error();
  }
  EXPECT_EQ(s, nullptr);
}

// A wrapper's array shape (the Fortran module's calls), checked against the owned box.
TEST_F(StepperApi, ShapedCallsCheckTheArray) {
  const Box b = split(0, false);
  aeolus_stepper* s = nullptr;
  ASSERT_EQ(create(dir_, nullptr, b, &s), AEOLUS_OK) << aeolus_last_error();
  std::vector<double> q(size_t(b.count[0] * b.count[1]), 0.5);
  double t = 0, dt = 0;
  const int64_t flat[1] = {b.count[0] * b.count[1]}, box[2] = {b.count[0], b.count[1]},
                transposed[2] = {b.count[1], b.count[0]};
  EXPECT_EQ(aeolus_stepper_max_dt_shaped(s, q.data(), 1, flat, t, &dt), AEOLUS_OK);
  EXPECT_EQ(aeolus_stepper_max_dt_shaped(s, q.data(), 2, box, t, &dt), AEOLUS_OK);
  EXPECT_EQ(aeolus_stepper_max_dt_shaped(s, q.data(), 4, box, t, &dt), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "q_rank = 4; expected 1, 2 or 3"))
      << aeolus_last_error();
  dt = 0.001;
  if (b.count[0] != b.count[1]) {
    EXPECT_EQ(aeolus_stepper_step_shaped(s, q.data(), 2, transposed, &t, &dt),
              AEOLUS_ERROR_ARGUMENT);
    EXPECT_TRUE(contains(aeolus_last_error(),
                         "q has shape [" + std::to_string(b.count[1]) + ", " +
                             std::to_string(b.count[0]) + "]; expected the owned box [" +
                             std::to_string(b.count[0]) + ", " + std::to_string(b.count[1]) + "]"))
        << aeolus_last_error();
  }
  const int64_t short_flat[1] = {flat[0] - 1};
  EXPECT_EQ(aeolus_stepper_step_shaped(s, q.data(), 1, short_flat, &t, &dt), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "expected " + std::to_string(flat[0]) + " elements"))
      << aeolus_last_error();
  EXPECT_EQ(t, 0.0);
  EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
}

// Boxes that do not form a tensor product, and an error of one rank only (2 ranks).
TEST_F(StepperApi, CreateRefusesBoxesThatAreNoTensorProduct) {
  if (size_of(MPI_COMM_WORLD) != 2) GTEST_SKIP() << "needs 2 ranks";
  const int rank = rank_of(MPI_COMM_WORLD);
  aeolus_stepper* s = nullptr;
  Box b;
  b.count[0] = 16;
  b.start[0] = rank == 0 ? 0 : 20;  // cells 16..19 along x owned by nobody
  b.count[0] = rank == 0 ? 16 : 12;
  EXPECT_EQ(create(dir_, nullptr, b, &s), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(),
                       "aeolus_stepper_create: no rank owns cells [16, 20) along x (rank 1 owns "
                       "start [20, 0], count [12, 32]); expected the boxes of all ranks to form a "
                       "tensor-product decomposition"))
      << aeolus_last_error();
  Box o;  // rank 0: x [0, 16) whole y; rank 1: x [16, 32), y [0, 16) only: y ranges overlap
  if (rank == 1) {
    o.start[0] = 16;
    o.count[0] = 16;
    o.count[1] = 16;
  } else {
    o.count[0] = 16;
  }
  EXPECT_EQ(create(dir_, nullptr, o, &s), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(),
                       "rank 1 owns start [16, 0], count [16, 16] and rank 0 start [0, 0], count "
                       "[16, 32]: along y, cells [0, 16) and [0, 32) overlap"))
      << aeolus_last_error();
  const Box same;  // both own everything
  EXPECT_EQ(create(dir_, nullptr, same, &s), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "ranks 0 and 1 both own start [0, 0], count [32, 32]"))
      << aeolus_last_error();
  // A bad argument on rank 1 only: rank 0 gets the error too, named with rank 1.
  const int64_t n[2] = {kN, kN};
  const Box mine = split(0, false);
  EXPECT_EQ(aeolus_stepper_create(rank == 1 ? nullptr : dir_.c_str(), nullptr,
                                  MPI_Comm_c2f(MPI_COMM_WORLD), 2, n, mine.start, mine.count, &s),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_stepper_create: rank 1: case_dir is NULL; expected a "
               "case directory");
  EXPECT_EQ(s, nullptr);
}

TEST_F(StepperApi, StepRefusesBadArguments) {
  const Box b = split(1, false);
  aeolus_stepper* s = nullptr;
  ASSERT_EQ(create(dir_, "classical", b, &s), AEOLUS_OK) << aeolus_last_error();
  std::vector<double> q(size_t(b.count[0] * b.count[1]), 1.0);
  double t = 0, dt = -1;
  const std::string who =
      size_of(MPI_COMM_WORLD) > 1 ? "rank " + std::to_string(rank_of(MPI_COMM_WORLD)) + ": " : "";
  EXPECT_EQ(aeolus_stepper_step(s, q.data(), &t, &dt), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(
      aeolus_last_error(),
      ("aeolus_stepper_step: " + who + "*dt = -1.000000; expected a finite step > 0").c_str());
  dt = 0.001;
  EXPECT_EQ(aeolus_stepper_step(s, nullptr, &t, &dt), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "q is NULL")) << aeolus_last_error();
  EXPECT_EQ(aeolus_stepper_max_dt(s, q.data(), 0.0, nullptr), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "dt is NULL")) << aeolus_last_error();
  EXPECT_EQ(aeolus_stepper_step(nullptr, q.data(), &t, &dt), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_stepper_step: s is NULL; expected a handle from aeolus_stepper_create");
  EXPECT_EQ(t, 0.0);
  EXPECT_EQ(q.front(), 1.0);  // untouched by the refusals
  // A uniform state stays uniform (a real step after the refusals).
  ASSERT_EQ(aeolus_stepper_step(s, q.data(), &t, &dt), AEOLUS_OK) << aeolus_last_error();
  EXPECT_EQ(t, 0.001);
  for (double v : q) ASSERT_DOUBLE_EQ(v, 1.0);
  // Steppers alive: aeolus_finalize refuses.
  EXPECT_EQ(aeolus_finalize(), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_finalize: 1 stepper(s) not freed; expected "
               "aeolus_stepper_free of every stepper first");
  EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
  EXPECT_EQ(aeolus_stepper_free(nullptr), AEOLUS_OK);
  // PETSc is this test program's (tests/test_main.cpp): aeolus_finalize leaves it alone.
  EXPECT_EQ(aeolus_finalize(), AEOLUS_OK);
  ASSERT_EQ(create(dir_, nullptr, b, &s), AEOLUS_OK) << aeolus_last_error();
  EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
}

// Williamson et al. (1992) case 1 on 32 x 16 cells (11.25 deg): solid-body rotation over the
// poles (alpha = pi/2) of two Gaussian hills, at 80 deg N, so that it crosses the north pole (the
// ghost rows beyond a pole are the cells 180 degrees away), and at 34 deg S: nonzero in every
// cell, so that every band of every layout below changes. The stepper's CFL step (about
// 14700 s) is above time.dt_max = 2^13 s: every step of `aeolus run` is exactly 2^13 s (frames
// at 0, 2^15, 2^16 s: 4 steps each).
const char* kLatLonCase = R"(grid:
  type: latlon
  nlon: 32
  nlat: 16
physics:
  flow:
    type: williamson
    alpha: 1.5707963267948966
    period: 1036800
  tracers:
    h:
      type: gaussian_hills
      centers: [4.71238898038469, 1.4, 1.5707963267948966, -0.6]
stepper:
  type: classical
  scheme:
    reconstruction: ppm
    limiter: monotone
time:
  t_end: 65536
  cfl: 0.9
  dt_max: 8192
output:
  interval: 32768
checkpoint:
  every_steps: 100
log:
  progress_every: 1000
)";

// A latitude-longitude (sphere_transport) case `yaml` (32 x 16 cells, tracer h, steps of 2^13 s
// below its CFL step, 4 per frame) stepped on the host's latitude bands, the only decomposition of
// that case type: halves, halves numbered from the north, uneven bands, and a band of 2 rows
// (below the scheme's halo: its ghost rows come from beyond the neighbour). Every cell of both
// later frames bitwise as `aeolus run`; `steady`: max_dt is the same on every call.
void expect_latlon_bands_as_run(const TempDir& tmp, const std::string& name,
                                const std::string& yaml, bool steady) {
  constexpr int64_t nlon = 32, nlat = 16;
  constexpr double step = 8192;
  const std::string dir = aeolus::test::write_case(MPI_COMM_WORLD, tmp, name, yaml);
  const std::string ref = aeolus::test::write_case(MPI_COMM_WORLD, tmp, name + "_ref", yaml);
  auto c = aeolus::app::load_case(ref);
  aeolus::app::run_case(MPI_COMM_WORLD, c, aeolus::test::quiet_run());
  const auto frames = aeolus::test::read_var(c.path("output/fields.nc"), "h");
  ASSERT_EQ(frames.size(), size_t(3 * nlon * nlat));
  double moved = 0;
  for (size_t i = 0; i < size_t(nlon * nlat); ++i)
    moved = std::max(moved, std::abs(frames[size_t(2 * nlon * nlat) + i] - frames[i]));
  EXPECT_GT(moved, 0.1);  // of hills 0.95 high
  const int size = size_of(MPI_COMM_WORLD), rank = rank_of(MPI_COMM_WORLD);
  // First rows of the bands of ranks 0 and 1 (2 ranks), rows of rank 0 (the rest are rank 1's).
  struct Bands {
    const char* what;
    int64_t first[2], rows[2];
  };
  const std::vector<Bands> layouts =
      size == 1 ? std::vector<Bands>{{"one band", {0, 0}, {nlat, 0}}}
                : std::vector<Bands>{{"halves", {0, 8}, {8, 8}},
                                     {"halves numbered from the north", {8, 0}, {8, 8}},
                                     {"5 + 11 rows", {0, 5}, {5, 11}},
                                     {"14 + 2 rows", {0, 14}, {14, 2}}};
  double cfl_step = 0;  // the first max_dt (steady: the same on every call, for every layout)
  for (const Bands& l : layouts) {
    SCOPED_TRACE(l.what);
    const int64_t n[2] = {nlon, nlat}, start[2] = {0, l.first[rank]},
                  count[2] = {nlon, l.rows[rank]};
    aeolus_stepper* s = nullptr;
    ASSERT_EQ(aeolus_stepper_create(dir.c_str(), nullptr, MPI_Comm_c2f(MPI_COMM_WORLD), 2, n, start,
                                    count, &s),
              AEOLUS_OK)
        << aeolus_last_error();
    const char* stepper = nullptr;
    ASSERT_EQ(aeolus_stepper_name(s, &stepper), AEOLUS_OK);
    EXPECT_STREQ(stepper, "classical");
    auto band = [&](int f) {
      const auto first = frames.begin() + (f * nlon * nlat + start[1] * nlon);
      return std::vector<double>(first, first + count[1] * nlon);
    };
    std::vector<double> q = band(0);
    double t = 0;
    for (int frame = 1; frame <= 2; ++frame) {
      for (int k = 0; k < 4; ++k) {
        double dt = 0;
        ASSERT_EQ(aeolus_stepper_max_dt(s, q.data(), t, &dt), AEOLUS_OK) << aeolus_last_error();
        if (cfl_step == 0) cfl_step = dt;
        if (steady) {
          EXPECT_EQ(dt, cfl_step);
        }
        EXPECT_GT(dt, step);
        dt = std::min(dt, step);
        ASSERT_EQ(aeolus_stepper_step(s, q.data(), &t, &dt), AEOLUS_OK) << aeolus_last_error();
        EXPECT_EQ(dt, step);
      }
      EXPECT_EQ(t, frame * 4 * step);
      const auto expect = band(frame);
      EXPECT_NE(expect, band(0));
      for (size_t i = 0; i < q.size(); ++i)
        ASSERT_EQ(q[i], expect[i]) << "frame " << frame << ", cell " << i;
    }
    EXPECT_EQ(aeolus_stepper_free(s), AEOLUS_OK);
  }
}

// Solid-body rotation: the stepper's state is the tracer alone.
TEST_F(StepperApi, LatLonBandsStepBitwiseAsAeolusRun) {
  expect_latlon_bands_as_run(tmp_, "tc1", kLatLonCase, true);
}

// A divergent flow (Nair and Lauritzen case 3, hills at their default centres): the tracer is a
// mixing ratio and the stepper carries the air density (starting at 1) as its own state, which
// the handle keeps between calls and advances with each step: right for a host that steps the
// tracer once per step from the case's initial time, as `aeolus run` does.
TEST_F(StepperApi, LatLonDivergentFlowStepsBitwiseAsAeolusRun) {
  std::string yaml = kLatLonCase;
  const std::string flow = "    type: williamson\n    alpha: 1.5707963267948966\n";
  yaml.replace(yaml.find(flow), flow.size(), "    type: nair_lauritzen\n    nl_case: 3\n");
  const std::string centers = "      centers: [4.71238898038469, 1.4, 1.5707963267948966, -0.6]\n";
  yaml.replace(yaml.find(centers), centers.size(), "");
  expect_latlon_bands_as_run(tmp_, "nl3", yaml, false);
}

// The host's boxes against the latitude bands of a sphere_transport case: columns along x (2
// ranks), or a rank count the case's grid.procs does not allow (1 rank).
TEST_F(StepperApi, LatLonCreateRefusesBoxesThatAreNoBands) {
  const int size = size_of(MPI_COMM_WORLD), rank = rank_of(MPI_COMM_WORLD);
  aeolus_stepper* s = nullptr;
  const int64_t n[2] = {32, 16};
  const int world = MPI_Comm_c2f(MPI_COMM_WORLD);
  if (size == 2) {
    const std::string dir = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "tc1", kLatLonCase);
    const int64_t start[2] = {16 * rank, 0}, count[2] = {16, 16};
    EXPECT_EQ(aeolus_stepper_create(dir.c_str(), nullptr, world, 2, n, start, count, &s),
              AEOLUS_ERROR_ARGUMENT);
    EXPECT_EQ(std::string(aeolus_last_error()),
              "aeolus_stepper_create: comm has 2 rank(s) in boxes of [2, 1] process columns; its "
              "case type, sphere_transport, decomposes this grid into [1, 2] process columns on 2 "
              "rank(s) (" +
                  dir + "/case.yaml)");
  } else {
    std::string yaml = kLatLonCase;
    yaml.replace(yaml.find("  nlat: 16\n"), 11, "  nlat: 16\n  procs: 2\n");
    const std::string dir = aeolus::test::write_case(MPI_COMM_WORLD, tmp_, "tc1_procs", yaml);
    const int64_t start[2] = {0, 0};
    EXPECT_EQ(aeolus_stepper_create(dir.c_str(), nullptr, world, 2, n, start, n, &s),
              AEOLUS_ERROR_ARGUMENT);
    EXPECT_EQ(std::string(aeolus_last_error()),
              "aeolus_stepper_create: comm has 1 ranks: " + dir +
                  "/case.yaml: grid: procs = 2 latitude bands on 1 ranks; the sphere grid is "
                  "decomposed in latitude bands only, so procs must equal the rank count (or 0)");
  }
  EXPECT_EQ(s, nullptr);
}

}  // namespace
