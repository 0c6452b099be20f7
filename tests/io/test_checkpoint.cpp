// Checkpoints at 1, 2 and 4 ranks: bitwise round trip of fields and info (also onto another
// decomposition), pruning to the newest `keep`, latest_checkpoint skipping unfinished files,
// and shape/variable errors that reach every rank.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"
#include "io/checkpoint.hpp"
#include "io/netcdf_file.hpp"

using namespace aeolus;
using namespace aeolus::io;
namespace fs = std::filesystem;

namespace {

// Values with all mantissa bits in use, so any rounding on the way would show.
real_t value(index_t i, index_t j, index_t k, int var) {
  return std::sin(1.0 + real_t(i) * 0.37 + real_t(j) * 1.91 + real_t(k) * 0.53 + var) / 3.0;
}

CartesianGridParams params(int dim, std::array<int, 3> procs = {0, 0, 0}) {
  CartesianGridParams p;
  p.dim = dim;
  p.n = {8, dim > 1 ? 6 : 1, dim > 2 ? 4 : 1};
  p.halo = 2;
  p.procs = procs;
  return p;
}

void fill(Field& f, int var) {
  const CartesianGrid& g = f.grid();
  auto v = f.view();
  for (index_t k = 0; k < g.count(2); ++k)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i)
        v(i, j, k) = value(g.start(0) + i, g.start(1) + j, g.start(2) + k, var);
}

// Owned cells equal `value` bit for bit (memcmp: -0.0 vs 0.0 and NaN payloads count).
void expect_bitwise(const Field& f, int var) {
  const CartesianGrid& g = f.grid();
  auto v = f.view();
  for (index_t k = 0; k < g.count(2); ++k)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i) {
        const real_t want = value(g.start(0) + i, g.start(1) + j, g.start(2) + k, var);
        const real_t got = v(i, j, k);
        ASSERT_EQ(std::memcmp(&want, &got, sizeof(real_t)), 0)
            << f.name() << " at " << g.start(0) + i << "," << g.start(1) + j << ","
            << g.start(2) + k;
      }
}

CheckpointInfo info_at(long long step) {
  CheckpointInfo info;
  info.step = step;
  info.t = 0.1 * double(step) + 1e-17;
  info.dt = 1.0 / 3.0;
  info.output_frames = step / 2;
  info.next_output_time = std::nextafter(2.0, 3.0);
  info.stepper = "classical";
  info.config_hash = "abc123";
  info.extra = {{"initial_mass", M_PI}, {"tiny", 5e-324}};
  return info;
}

std::vector<std::string> listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

template <class Fn>
std::string io_error_of(Fn&& fn) {
  return test::error_of<IoError>(std::forward<Fn>(fn));
}

int rank() { return comm_rank(PETSC_COMM_WORLD); }

}  // namespace

class CheckpointDims : public ::testing::TestWithParam<int> {};

TEST_P(CheckpointDims, RoundTripIsBitwise) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(GetParam()));
  Field q(grid, "q"), u(grid, "u");
  fill(q, 0);
  fill(u, 1);
  const CheckpointInfo info = info_at(42);
  const std::string path = write_checkpoint(tmp.file("ckpt"), info, {&q, &u}, 3);
  EXPECT_EQ(path, tmp.file("ckpt") + "/ckpt_000000042.nc");
  EXPECT_EQ(latest_checkpoint(tmp.file("ckpt")), path);

  Field q2(grid, "q"), u2(grid, "u");
  q2.fill(-1.0);
  u2.fill(-1.0);
  const CheckpointInfo back = read_checkpoint(path, {&u2, &q2});  // any order, by name
  expect_bitwise(q2, 0);
  expect_bitwise(u2, 1);
  EXPECT_EQ(back.step, info.step);
  EXPECT_EQ(back.t, info.t);
  EXPECT_EQ(back.dt, info.dt);
  EXPECT_EQ(back.output_frames, info.output_frames);
  EXPECT_EQ(back.next_output_time, info.next_output_time);
  EXPECT_EQ(back.stepper, info.stepper);
  EXPECT_EQ(back.config_hash, info.config_hash);
  EXPECT_EQ(back.extra, info.extra);

  if (rank() == 0) {
    NetcdfFile f(path, NetcdfFile::Mode::read);
    EXPECT_EQ(f.get_att_int64("", "complete"), 1);
    std::vector<std::string> dims;
    for (int d = GetParam() - 1; d >= 0; --d) dims.push_back(std::string(1, char('x' + d)));
    EXPECT_EQ(f.var_dims("q"), dims);
  }
}

INSTANTIATE_TEST_SUITE_P(Dims, CheckpointDims, ::testing::Values(1, 2, 3));

TEST(Checkpoint, RestartsOnAnotherDecomposition) {
  test::TempDir tmp;
  const int size = comm_size(PETSC_COMM_WORLD);
  // 8 x 8 cells so that every rank keeps at least `halo` cells in either split.
  CartesianGridParams by_rows = params(2, {1, size, 1}), by_blocks = by_rows;
  by_rows.n = by_blocks.n = {8, 8, 1};
  by_blocks.procs = {size > 2 ? 2 : size, size > 2 ? 2 : 1, 1};
  CartesianGrid rows(PETSC_COMM_WORLD, by_rows);
  CartesianGrid cols(PETSC_COMM_WORLD, by_blocks);
  Field q(rows, "q");
  fill(q, 0);
  const std::string path = write_checkpoint(tmp.path(), info_at(1), {&q}, 1);
  Field q2(cols, "q");
  read_checkpoint(path, {&q2});
  expect_bitwise(q2, 0);
}

TEST(Checkpoint, PruningKeepsTheNewest) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(2));
  Field q(grid, "q");
  fill(q, 0);
  const std::string dir = tmp.file("ckpt");
  for (long long step : {10, 20, 30, 40, 50}) write_checkpoint(dir, info_at(step), {&q}, 2);
  if (rank() == 0) {
    EXPECT_EQ(listing(dir), (std::vector<std::string>{"ckpt_000000040.nc", "ckpt_000000050.nc"}));
  }
  EXPECT_EQ(latest_checkpoint(dir), dir + "/ckpt_000000050.nc");
  // Writing the same step again (a restart that repeats it) replaces it in place.
  write_checkpoint(dir, info_at(50), {&q}, 2);
  if (rank() == 0) {
    EXPECT_EQ(listing(dir).size(), 2u);
  }
}

TEST(Checkpoint, LatestSkipsPartAndIncompleteFiles) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(1));
  Field q(grid, "q");
  fill(q, 0);
  const std::string dir = tmp.file("ckpt");
  EXPECT_EQ(latest_checkpoint(tmp.file("nowhere")), "");
  const std::string good = write_checkpoint(dir, info_at(3), {&q}, 10);
  const std::string newer = write_checkpoint(dir, info_at(7), {&q}, 10);
  if (rank() == 0) {
    // A crash mid-write: newest step exists only as .part (and complete, to be sure the name
    // alone decides).
    fs::copy_file(newer, dir + "/ckpt_000000009.nc.part");
    // A file that claims a name but is unfinished.
    NetcdfFile(newer, NetcdfFile::Mode::write).put_att("", "complete", 0);
    // Not a netCDF file at all.
    std::ofstream(dir + "/ckpt_000000011.nc") << "garbage";
    // Names that merely look similar.
    std::ofstream(dir + "/ckpt_latest.nc") << "x";
    std::ofstream(dir + "/notes.txt") << "x";
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  EXPECT_EQ(latest_checkpoint(dir), good);

  const std::string msg = io_error_of([&] {
    Field q2(grid, "q");
    read_checkpoint(newer, {&q2});
  });
  EXPECT_NE(msg.find(newer), std::string::npos) << msg;
  EXPECT_NE(msg.find("incomplete"), std::string::npos) << msg;
}

TEST(Checkpoint, ShapeMismatchNamesFileVariableAndShapesOnEveryRank) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(2));
  Field q(grid, "q");
  fill(q, 0);
  const std::string path = write_checkpoint(tmp.path(), info_at(5), {&q}, 1);

  CartesianGridParams p = params(2);
  p.n[1] = 10;
  CartesianGrid bigger(PETSC_COMM_WORLD, p);
  Field qb(bigger, "q");
  qb.fill(7.0);
  std::string msg = io_error_of([&] { read_checkpoint(path, {&qb}); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("variable 'q' has shape [6, 8], the grid expects [10, 8]"), std::string::npos)
      << msg;
  EXPECT_EQ(qb.min(), 7.0);  // untouched

  Field r(grid, "r");
  msg = io_error_of([&] { read_checkpoint(path, {&r}); });
  EXPECT_NE(msg.find("variable 'r' not found"), std::string::npos) << msg;

  msg = io_error_of([&] { read_checkpoint(tmp.file("missing.nc"), {&r}); });
  EXPECT_NE(msg.find(tmp.file("missing.nc")), std::string::npos) << msg;
}

TEST(Checkpoint, RejectsBadArguments) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(2));
  Field q(grid, "q"), q_again(grid, "q");
  EXPECT_THROW(write_checkpoint(tmp.path(), info_at(1), {&q}, 0), IoError);
  EXPECT_THROW(write_checkpoint(tmp.path(), info_at(1), {&q, &q_again}, 1), IoError);
  // Unwritable directory: the error found on rank 0 reaches every rank.
  const std::string msg =
      io_error_of([&] { write_checkpoint("/proc/aeolus_no_such_dir", info_at(1), {&q}, 1); });
  EXPECT_NE(msg.find("/proc/aeolus_no_such_dir"), std::string::npos) << msg;
}
