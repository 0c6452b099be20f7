// The NetCDF-4 wrapper: round trip of every type and attribute kind, chunked/deflated
// variables, the no-clobber create, and errors that name the file, the variable and netCDF's
// own reason.
#include <gtest/gtest.h>
#include <netcdf.h>

#include <cmath>
#include <fstream>
#include <utility>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "io/netcdf_file.hpp"

using aeolus::IoError;
using aeolus::io::NetcdfFile;

namespace {

template <class Fn>
std::string error_of(Fn&& fn) {
  return aeolus::test::error_of<IoError>(std::forward<Fn>(fn));
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST(NetcdfFile, RoundTripOfDataAndAttributes) {
  aeolus::test::TempDir tmp;
  const std::string path = tmp.file("a.nc");
  const std::vector<double> q{0.1, -2.5, 1e-300, M_PI, 7.0, std::nextafter(1.0, 2.0)};
  const std::vector<long long> seeds{1, -2, 9007199254740993LL};
  {
    NetcdfFile f(path, NetcdfFile::Mode::create);
    f.def_dim("time", 0);
    f.def_dim("x", 3);
    f.def_dim("t", 3);
    f.def_var("q", "double", {"time", "x"}, 4, {1, 3});
    f.def_var("seed", "int64", {"t"});
    f.def_var("f32", "float", {"x"});
    f.def_var("i32", "int", {"x"});
    f.put_att("", "title", "test file");
    f.put_att("", "flag", 1);
    f.put_att("", "big", 9007199254740993LL);
    f.put_att("q", "units", "1");
    f.put_att("q", "scale", 0.1);
    f.end_def();
    f.end_def();  // already in data mode: harmless
    f.put("q", {0, 0}, {2, 3}, q.data());
    f.put("seed", {}, {}, seeds.data());
    f.sync();
    f.close();
    f.close();  // idempotent
  }
  NetcdfFile f(path, NetcdfFile::Mode::read);
  EXPECT_EQ(f.path(), path);
  EXPECT_EQ(f.dim_len("time"), 2u);
  EXPECT_EQ(f.var_dims("q"), (std::vector<std::string>{"time", "x"}));
  EXPECT_EQ(f.var_shape("q"), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(f.var_names(), (std::vector<std::string>{"q", "seed", "f32", "i32"}));
  std::vector<double> back(6);
  f.get("q", {}, {}, back.data());
  for (size_t i = 0; i < q.size(); ++i) EXPECT_EQ(back[i], q[i]) << i;  // bitwise
  double one = 0.0;
  f.get("q", {1, 2}, {1, 1}, &one);
  EXPECT_EQ(one, q[5]);
  std::vector<long long> seeds_back(3);
  f.get("seed", {}, {}, seeds_back.data());
  EXPECT_EQ(seeds_back, seeds);
  EXPECT_EQ(f.get_att_string("", "title"), "test file");
  EXPECT_EQ(f.get_att_int64("", "flag"), 1);
  EXPECT_EQ(f.get_att_int64("", "big"), 9007199254740993LL);
  EXPECT_EQ(f.get_att_double("q", "scale"), 0.1);
  EXPECT_EQ(f.get_att_string("q", "units"), "1");
  EXPECT_TRUE(f.has_var("q"));
  EXPECT_FALSE(f.has_var("nope"));
  EXPECT_TRUE(f.has_att("", "title"));
  EXPECT_FALSE(f.has_att("", "nope"));
  EXPECT_FALSE(f.has_att("q", "nope"));
  EXPECT_EQ(f.att_names(""), (std::vector<std::string>{"title", "flag", "big"}));
  EXPECT_EQ(f.att_names("q"), (std::vector<std::string>{"units", "scale"}));

  // Types, chunking and compression as defined (checked through the C API).
  int varid = -1, format = 0, storage = 0, shuffle = 0, deflate = 0, level = 0;
  size_t chunks[2] = {0, 0};
  nc_type type = NC_NAT;
  ASSERT_EQ(nc_inq_format(f.id(), &format), NC_NOERR);
  EXPECT_EQ(format, NC_FORMAT_NETCDF4);
  ASSERT_EQ(nc_inq_varid(f.id(), "q", &varid), NC_NOERR);
  ASSERT_EQ(nc_inq_var_chunking(f.id(), varid, &storage, chunks), NC_NOERR);
  EXPECT_EQ(storage, NC_CHUNKED);
  EXPECT_EQ(chunks[0], 1u);
  EXPECT_EQ(chunks[1], 3u);
  ASSERT_EQ(nc_inq_var_deflate(f.id(), varid, &shuffle, &deflate, &level), NC_NOERR);
  EXPECT_EQ(deflate, 1);
  EXPECT_EQ(level, 4);
  ASSERT_EQ(nc_inq_varid(f.id(), "seed", &varid), NC_NOERR);
  ASSERT_EQ(nc_inq_vartype(f.id(), varid, &type), NC_NOERR);
  EXPECT_EQ(type, NC_INT64);
  ASSERT_EQ(nc_inq_atttype(f.id(), NC_GLOBAL, "flag", &type), NC_NOERR);
  EXPECT_EQ(type, NC_INT);
  ASSERT_EQ(nc_inq_atttype(f.id(), NC_GLOBAL, "big", &type), NC_NOERR);
  EXPECT_EQ(type, NC_INT64);
}

TEST(NetcdfFile, CreateRefusesToOverwrite) {
  aeolus::test::TempDir tmp;
  const std::string path = tmp.file("exists.nc");
  std::ofstream(path) << "precious";
  const std::string msg = error_of([&] { NetcdfFile f(path, NetcdfFile::Mode::create); });
  EXPECT_TRUE(contains(msg, path)) << msg;
  EXPECT_TRUE(contains(msg, "nc_create")) << msg;
  EXPECT_TRUE(contains(msg, nc_strerror(NC_EEXIST))) << msg;
  std::ifstream in(path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST(NetcdfFile, WriteModeAppendsToExistingFile) {
  aeolus::test::TempDir tmp;
  const std::string path = tmp.file("w.nc");
  {
    NetcdfFile f(path, NetcdfFile::Mode::create);
    f.def_dim("time", 0);
    f.def_var("v", "double", {"time"});
    f.put_att("", "done", 0);
    f.end_def();
    const double v = 1.5;
    f.put("v", {0}, {1}, &v);
  }
  {
    NetcdfFile f(path, NetcdfFile::Mode::write);
    const double v = 2.5;
    f.put("v", {1}, {1}, &v);
    f.put_att("", "done", 1);  // attribute change in data mode
  }
  NetcdfFile f(path, NetcdfFile::Mode::read);
  std::vector<double> v(2);
  f.get("v", {}, {}, v.data());
  EXPECT_EQ(v, (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(f.get_att_int64("", "done"), 1);
}

TEST(NetcdfFile, ErrorsNameFileVariableAndReason) {
  aeolus::test::TempDir tmp;
  const std::string missing = tmp.file("missing.nc");
  std::string msg = error_of([&] { NetcdfFile f(missing, NetcdfFile::Mode::read); });
  EXPECT_TRUE(contains(msg, missing)) << msg;
  EXPECT_TRUE(contains(msg, "nc_open")) << msg;
  EXPECT_TRUE(contains(msg, nc_strerror(ENOENT))) << msg;

  const std::string path = tmp.file("e.nc");
  NetcdfFile f(path, NetcdfFile::Mode::create);
  f.def_dim("x", 2);
  f.def_var("q", "double", {"x"});
  msg = error_of([&] { f.def_var("r", "double", {"nodim"}); });
  EXPECT_TRUE(contains(msg, path + ": variable 'r'")) << msg;
  EXPECT_TRUE(contains(msg, nc_strerror(NC_EBADDIM))) << msg;
  msg = error_of([&] { f.def_var("s", "complex", {"x"}); });
  EXPECT_TRUE(contains(msg, "variable 's'") && contains(msg, "'complex'")) << msg;
  msg = error_of([&] { f.def_var("q", "double", {"x"}); });
  EXPECT_TRUE(contains(msg, "variable 'q'") && contains(msg, nc_strerror(NC_ENAMEINUSE))) << msg;
  f.end_def();
  double v[3] = {1, 2, 3};
  msg = error_of([&] { f.put("q", {0}, {3}, v); });
  EXPECT_TRUE(contains(msg, path + ": variable 'q': nc_put_vara_double failed")) << msg;
  msg = error_of([&] { f.get("nothere", {}, {}, v); });
  EXPECT_TRUE(contains(msg, "variable 'nothere'") && contains(msg, nc_strerror(NC_ENOTVAR))) << msg;
  msg = error_of([&] { f.get_att_string("", "nothere"); });
  EXPECT_TRUE(contains(msg, "global attribute 'nothere'")) << msg;
  msg = error_of([&] { f.dim_len("w"); });
  EXPECT_TRUE(contains(msg, "dimension 'w'")) << msg;
}
