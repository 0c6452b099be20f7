// CF output at 1, 2 and 4 ranks: the file holds exactly the values each cell was given (so it
// is the same file whatever the rank count), the CF metadata is there, the run is written as
// .part until finalize, and errors found on rank 0 reach every rank.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <utility>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "io/netcdf_file.hpp"
#include "io/output_writer.hpp"

using namespace aeolus;
using namespace aeolus::io;
namespace fs = std::filesystem;

namespace {

// A value unique to (cell, frame, variable), exact in binary.
real_t code(index_t i, index_t j, index_t k, size_t frame, int var) {
  return real_t(i) + 100.0 * real_t(j) + 10000.0 * real_t(k) + 0.25 * real_t(frame) + 0.5 * var;
}

CartesianGridParams params(int dim) {
  CartesianGridParams p;
  p.dim = dim;
  p.n = {7, dim > 1 ? 6 : 1, dim > 2 ? 5 : 1};
  p.lo = {-1.0, 0.0, 2.0};
  p.hi = {1.0, 3.0, 4.5};
  p.halo = 1;
  return p;
}

void fill(Field& f, size_t frame, int var) {
  const CartesianGrid& g = f.grid();
  auto v = f.view();
  for (index_t k = 0; k < g.count(2); ++k)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i)
        v(i, j, k) = code(g.start(0) + i, g.start(1) + j, g.start(2) + k, frame, var);
}

OutputSpec spec_for(const std::string& path) {
  OutputSpec s;
  s.path = path;
  s.fields = {{"q", "1", "tracer", ""}, {"h", "m", "layer depth", "sea_floor_depth"}};
  s.scalars = {{"mass", "kg", "total mass", ""}};
  s.attributes = {{"title", "unit test"}, {"source", "aeolus"}};
  s.time_units = "seconds since 2000-01-01";
  s.axes = cartesian_axes({"km", "m", "m"});
  return s;
}

bool exists_on_root(const std::string& path) {
  int e = fs::exists(path) ? 1 : 0;
  MPI_Bcast(&e, 1, MPI_INT, 0, PETSC_COMM_WORLD);
  return e == 1;
}

template <class Fn>
std::string io_error_of(Fn&& fn) {
  return test::error_of<IoError>(std::forward<Fn>(fn));
}

// Rank 0 checks the file: metadata, coordinates and every value of frames [0, frames).
void check_file(const std::string& path, const CartesianGrid& grid, size_t frames,
                long long complete) {
  if (grid.rank() != 0) return;
  NetcdfFile f(path, NetcdfFile::Mode::read);
  EXPECT_EQ(f.get_att_string("", "Conventions"), "CF-1.8");
  EXPECT_EQ(f.get_att_int64("", "aeolus_complete"), complete);
  EXPECT_EQ(f.get_att_string("", "title"), "unit test");
  EXPECT_EQ(f.dim_len("time"), frames);
  EXPECT_EQ(f.get_att_string("time", "units"), "seconds since 2000-01-01");
  EXPECT_EQ(f.get_att_string("time", "standard_name"), "time");
  EXPECT_EQ(f.get_att_string("time", "axis"), "T");

  const std::vector<std::string> all{"x", "y", "z"};
  std::vector<std::string> dims{"time"};
  for (int d = grid.dim() - 1; d >= 0; --d) dims.push_back(all[size_t(d)]);
  for (int d = 0; d < 3; ++d) {
    const std::string name = all[size_t(d)];
    ASSERT_EQ(f.has_var(name), d < grid.dim()) << name;
    if (d >= grid.dim()) continue;
    EXPECT_EQ(f.get_att_string(name, "axis"), std::string(1, char('X' + d)));
    EXPECT_EQ(f.get_att_string(name, "standard_name"), "projection_" + name + "_coordinate");
    EXPECT_EQ(f.get_att_string(name, "units"), d == 0 ? "km" : "m");
    std::vector<double> c(size_t(grid.n(d)));
    f.get(name, {}, {}, c.data());
    for (index_t i = 0; i < grid.n(d); ++i) EXPECT_EQ(c[size_t(i)], grid.center(d, i));
  }
  EXPECT_EQ(f.var_dims("q"), dims);
  EXPECT_EQ(f.get_att_string("q", "long_name"), "tracer");
  EXPECT_FALSE(f.has_att("q", "standard_name"));
  EXPECT_EQ(f.get_att_string("h", "standard_name"), "sea_floor_depth");
  EXPECT_EQ(f.get_att_string("h", "units"), "m");
  EXPECT_EQ(f.var_dims("mass"), (std::vector<std::string>{"time"}));

  std::vector<double> times(frames), mass(frames);
  f.get("time", {}, {}, times.data());
  f.get("mass", {}, {}, mass.data());
  std::vector<double> all_q(frames * size_t(grid.global_cells()));
  std::vector<double> all_h(all_q.size());
  f.get("q", {}, {}, all_q.data());
  f.get("h", {}, {}, all_h.data());
  size_t idx = 0;
  for (size_t frame = 0; frame < frames; ++frame) {
    EXPECT_EQ(times[frame], 0.5 * double(frame));
    EXPECT_EQ(mass[frame], 10.0 + double(frame));
    for (index_t k = 0; k < grid.n(2); ++k)
      for (index_t j = 0; j < grid.n(1); ++j)
        for (index_t i = 0; i < grid.n(0); ++i, ++idx) {
          ASSERT_EQ(all_q[idx], code(i, j, k, frame, 0))
              << frame << ": " << i << "," << j << "," << k;
          ASSERT_EQ(all_h[idx], code(i, j, k, frame, 1))
              << frame << ": " << i << "," << j << "," << k;
        }
  }
}

void write_frames(OutputWriter& w, const CartesianGrid& grid, size_t from, size_t to) {
  Field q(grid, "q"), h(grid, "h");
  for (size_t frame = from; frame < to; ++frame) {
    fill(q, frame, 0);
    fill(h, frame, 1);
    w.write_frame(0.5 * double(frame), {&q, &h}, {10.0 + double(frame)});
  }
}

}  // namespace

class OutputDims : public ::testing::TestWithParam<int> {};

TEST_P(OutputDims, RoundTripIsExactAndPartFileBecomesFinalOnFinalize) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(GetParam()));
  const std::string path = tmp.file("out/run.nc");  // parent created on demand
  OutputWriter w(grid, spec_for(path));
  write_frames(w, grid, 0, 3);
  EXPECT_EQ(w.frames_written(), 3u);
  EXPECT_TRUE(exists_on_root(path + ".part"));
  EXPECT_FALSE(exists_on_root(path));
  w.finalize();
  EXPECT_FALSE(exists_on_root(path + ".part"));
  EXPECT_TRUE(exists_on_root(path));
  check_file(path, grid, 3, 1);
  EXPECT_NE(io_error_of([&] { write_frames(w, grid, 3, 4); }).find("after finalize"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Dims, OutputDims, ::testing::Values(1, 2, 3));

TEST(OutputWriter, InterruptedRunLeavesPartFileThatResumes) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(2));
  const std::string path = tmp.file("run.nc");
  {
    OutputWriter w(grid, spec_for(path));
    write_frames(w, grid, 0, 3);
  }  // destroyed without finalize, as when a run stops on an error
  EXPECT_TRUE(exists_on_root(path + ".part"));
  EXPECT_FALSE(exists_on_root(path));
  check_file(path + ".part", grid, 3, 0);

  // Resume at frame 2 (the last checkpoint came before frame 2): frame 2 is rewritten.
  auto w = OutputWriter::resume(grid, spec_for(path), 2);
  EXPECT_EQ(w->frames_written(), 2u);
  write_frames(*w, grid, 2, 5);
  w->finalize();
  EXPECT_FALSE(exists_on_root(path + ".part"));
  check_file(path, grid, 5, 1);
}

TEST(OutputWriter, RefusesToOverwriteOnEveryRank) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(2));
  const std::string path = tmp.file("run.nc");
  if (grid.rank() == 0) std::ofstream(path) << "an earlier run";
  MPI_Barrier(PETSC_COMM_WORLD);
  const std::string msg = io_error_of([&] { OutputWriter w(grid, spec_for(path)); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("exists"), std::string::npos) << msg;
  EXPECT_FALSE(exists_on_root(path + ".part"));

  // A stale .part is not silently replaced either: it may be resumable.
  const std::string other = tmp.file("other.nc");
  if (grid.rank() == 0) std::ofstream(other + ".part") << "interrupted";
  MPI_Barrier(PETSC_COMM_WORLD);
  const std::string part_msg = io_error_of([&] { OutputWriter w(grid, spec_for(other)); });
  EXPECT_NE(part_msg.find(other + ".part"), std::string::npos) << part_msg;
}

TEST(OutputWriter, ResumeChecksTheFileOnEveryRank) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(2));
  const std::string path = tmp.file("run.nc");
  std::string msg = io_error_of([&] { OutputWriter::resume(grid, spec_for(path), 0); });
  EXPECT_NE(msg.find(path + ".part"), std::string::npos) << msg;
  {
    OutputWriter w(grid, spec_for(path));
    write_frames(w, grid, 0, 2);
  }
  // Another grid size.
  CartesianGridParams p = params(2);
  p.n[1] = 9;
  CartesianGrid other(PETSC_COMM_WORLD, p);
  msg = io_error_of([&] { OutputWriter::resume(other, spec_for(path), 1); });
  EXPECT_NE(msg.find("dimension 'y' has length 6, grid has 9"), std::string::npos) << msg;
  // Another field list.
  OutputSpec s = spec_for(path);
  s.fields.push_back({"r", "1", "another", ""});
  msg = io_error_of([&] { OutputWriter::resume(grid, s, 1); });
  EXPECT_NE(msg.find("variable 'r' not found"), std::string::npos) << msg;
  // A gap after the last frame.
  msg = io_error_of([&] { OutputWriter::resume(grid, spec_for(path), 3); });
  EXPECT_NE(msg.find("only 2 frames"), std::string::npos) << msg;
}

TEST(OutputWriter, RejectsMismatchedFrameArguments) {
  test::TempDir tmp;
  CartesianGrid grid(PETSC_COMM_WORLD, params(2));
  OutputWriter w(grid, spec_for(tmp.file("run.nc")));
  Field q(grid, "q");
  EXPECT_THROW(w.write_frame(0.0, {&q}, {1.0}), IoError);
  EXPECT_EQ(w.frames_written(), 0u);
  OutputSpec bad = spec_for(tmp.file("bad.nc"));
  bad.scalars.push_back({"q", "1", "clash", ""});
  EXPECT_THROW(OutputWriter(grid, bad), IoError);
}

// Static arrays (on axis dimensions, on nv, and a scalar) are written once as given; a column
// sum is offset + scale * the sum over z of its field, per (frame, y, x), at any rank count;
// a column sum of a field that is not written, or on a 2D grid, is refused on every rank.
TEST(OutputWriter, StaticArraysAndColumnSums) {
  test::TempDir dir(PETSC_COMM_WORLD);
  CartesianGrid grid(PETSC_COMM_WORLD, params(3));
  OutputSpec s = spec_for(dir.file("column.nc"));
  s.axes[2].bounds = true;
  s.axes[2].attributes["formula_terms"] = "a: a";
  s.axes[2].bounds_attributes["formula_terms"] = "a: a_bnds";
  s.static_arrays.push_back({{"a", "1", "coefficient", ""}, {"z"}, {1, 2, 3, 4, 5}});
  s.static_arrays.push_back(
      {{"a_bnds", "1", "coefficient at edges", ""}, {"z", "nv"}, {0, 1, 1, 2, 2, 3, 3, 4, 4, 5}});
  s.static_arrays.push_back({{"p0", "Pa", "reference", ""}, {}, {1e5}});
  s.column_sums.push_back({{"hsum", "m", "column sum of h", ""}, "h", 3.0, 0.5});
  {
    OutputWriter w(grid, s);
    write_frames(w, grid, 0, 2);
    w.finalize();
  }
  check_file(s.path, grid, 2, 1);
  if (grid.rank() == 0) {
    NetcdfFile f(s.path, NetcdfFile::Mode::read);
    EXPECT_EQ(f.get_att_string("z", "formula_terms"), "a: a");
    EXPECT_EQ(f.get_att_string("z_bnds", "formula_terms"), "a: a_bnds");
    EXPECT_EQ(f.var_dims("hsum"), (std::vector<std::string>{"time", "y", "x"}));
    std::vector<double> a(5), ab(10), p0(1), hsum(2 * 6 * 7);
    f.get("a", {}, {}, a.data());
    f.get("a_bnds", {}, {}, ab.data());
    f.get("p0", {}, {}, p0.data());
    f.get("hsum", {}, {}, hsum.data());
    EXPECT_EQ(a, (std::vector<double>{1, 2, 3, 4, 5}));
    EXPECT_EQ(ab[9], 5.0);
    EXPECT_EQ(p0[0], 1e5);
    for (size_t frame = 0; frame < 2; ++frame)
      for (index_t j = 0; j < 6; ++j)
        for (index_t i = 0; i < 7; ++i) {
          double sum = 0;
          for (index_t k = 0; k < 5; ++k) sum += code(i, j, k, frame, 1);
          EXPECT_DOUBLE_EQ(hsum[(frame * 6 + size_t(j)) * 7 + size_t(i)], 3.0 + 0.5 * sum);
        }
  }
  OutputSpec bad = spec_for(dir.file("bad.nc"));
  bad.column_sums.push_back({{"qsum", "1", "column sum", ""}, "nothing", 0.0, 1.0});
  std::string e = io_error_of([&] { OutputWriter w(grid, bad); });
  EXPECT_NE(e.find("column sum 'qsum' of 'nothing', which is not an output field"),
            std::string::npos)
      << e;
  CartesianGrid flat(PETSC_COMM_WORLD, params(2));
  bad.column_sums.back().of = "q";
  e = io_error_of([&] { OutputWriter w(flat, bad); });
  EXPECT_NE(e.find("need a 3D grid"), std::string::npos) << e;
  EXPECT_FALSE(exists_on_root(bad.path + ".part"));
}
