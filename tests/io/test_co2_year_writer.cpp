// The CO2 data set's year file writer (io/co2_year_writer.hpp): a file of two samples reads back
// exactly (data, time axis, coordinates from the grid and the hybrid coefficients, metadata);
// it exists only as PATH.part until finish().
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "io/co2_dataset_format.hpp"
#include "io/co2_year_writer.hpp"
#include "io/netcdf_file.hpp"

using namespace aeolus;
namespace fs = std::filesystem;
namespace co2f = io::co2;

TEST(Co2YearWriter, RoundTrips) {
  test::TempDir dir(MPI_COMM_SELF);
  SphereGridParams gp;
  gp.nlat = 4, gp.nlon = 8, gp.nlev = 3;
  SphereGrid g(MPI_COMM_SELF, gp);
  io::Co2YearFileInfo info;
  info.hyai = {0.0, 0.2, 0.05, 0.0};
  info.hybi = {0.0, 0.1, 0.6, 1.0};
  info.p0 = 101300.0;
  info.sample_interval = 21600.0;
  info.deflate = 1;
  info.source = "aeolus test";
  info.case_name = "case", info.config_hash = "abc", info.split = "valid";
  info.year = 3, info.meteorology_seed = 11, info.flux_seed = 12, info.ranks = 2;
  const std::string path = dir.file("valid/co2_year0003.nc");
  const size_t n3 = 3 * 4 * 8, n2 = 4 * 8;
  auto field = [](size_t n, double base) {
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = base + 0.001 * double(i);
    return v;
  };
  {
    io::Co2YearWriter w(path, g, info);
    EXPECT_TRUE(fs::exists(path + ".part"));
    EXPECT_FALSE(fs::exists(path));
    for (size_t s = 0; s < 2; ++s) {
      w.put_time(s, 6.0 * double(s), 6.0);
      w.put3(co2f::kCo2, s, field(n3, 400.0 + double(s)));
      w.put3(co2f::kU, s, field(n3, 0.5));  // a float variable: reads back rounded to float
      w.put2(co2f::kFluxLand, s, field(n2, 1e-8 * double(s + 1)));
    }
    w.finish();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".part"));
  io::NetcdfFile f(path, io::NetcdfFile::Mode::read);
  EXPECT_EQ(f.get_att_int64("", "aeolus_complete"), 1);
  EXPECT_EQ(f.get_att_string("", "Conventions"), "CF-1.8");
  EXPECT_EQ(f.get_att_string("", "source"), "aeolus test");
  EXPECT_EQ(f.get_att_string("", "split"), "valid");
  EXPECT_EQ(f.get_att_string("", "case_name"), "case");
  EXPECT_EQ(f.get_att_string("", "config_hash"), "abc");
  EXPECT_EQ(f.get_att_int64("", "year"), 3);
  EXPECT_EQ(f.get_att_int64("", "meteorology_seed"), 11);
  EXPECT_EQ(f.get_att_int64("", "flux_seed"), 12);
  EXPECT_EQ(f.get_att_int64("", "ranks"), 2);
  EXPECT_EQ(f.get_att_double("", co2f::kDtSample), 21600.0);
  EXPECT_EQ(f.get_att_string(co2f::kFluxLand, "cell_methods"), "time: mean (interval: 21600 s)");
  EXPECT_EQ(f.dim_len("time"), 2u);
  for (size_t s = 0; s < 2; ++s) {
    std::vector<double> q(n3), fl(n2), u(n3);
    f.get(co2f::kCo2, {s, 0, 0, 0}, {1, 3, 4, 8}, q.data());
    f.get(co2f::kFluxLand, {s, 0, 0}, {1, 4, 8}, fl.data());
    f.get(co2f::kU, {s, 0, 0, 0}, {1, 3, 4, 8}, u.data());
    EXPECT_EQ(q, field(n3, 400.0 + double(s))) << s;
    EXPECT_EQ(fl, field(n2, 1e-8 * double(s + 1))) << s;
    const auto u_in = field(n3, 0.5);
    for (size_t i = 0; i < n3; ++i) EXPECT_EQ(u[i], double(float(u_in[i]))) << i;
    double time = -1, bnds[2] = {-1, -1};
    f.get("time", {s}, {1}, &time);
    f.get("time_bnds", {s, 0}, {1, 2}, bnds);
    EXPECT_EQ(time, 6.0 * double(s));
    EXPECT_EQ(bnds[0], time);
    EXPECT_EQ(bnds[1], time + 6.0);
  }
  std::vector<double> a(4), b(4), lev(3), lat(4), lon(8), area(n2);
  f.get("hyai", {}, {}, a.data());
  f.get("hybi", {}, {}, b.data());
  f.get("level", {}, {}, lev.data());
  f.get("lat", {}, {}, lat.data());
  f.get("lon", {}, {}, lon.data());
  f.get(co2f::kCellArea, {}, {}, area.data());
  EXPECT_EQ(a, info.hyai);
  EXPECT_EQ(b, info.hybi);
  for (size_t k = 0; k < 3; ++k) {
    const double pu = (a[k] + b[k]) * info.p0, pl = (a[k + 1] + b[k + 1]) * info.p0;
    EXPECT_NEAR(lev[k], 0.5 * (pu + pl), 1e-9) << k;
  }
  for (size_t j = 0; j < 4; ++j) {
    EXPECT_NEAR(lat[j], g.lat_center(index_t(j)) * 180.0 / M_PI, 1e-12) << j;
    EXPECT_EQ(area[j * 8 + 5], g.area(index_t(j))) << j;
  }
  EXPECT_NEAR(lon[0], 22.5, 1e-12);
}

TEST(Co2YearWriter, RefusesCoefficientsThatDoNotFitTheGrid) {
  test::TempDir dir(MPI_COMM_SELF);
  SphereGridParams gp;
  gp.nlat = 4, gp.nlon = 8, gp.nlev = 3;
  SphereGrid g(MPI_COMM_SELF, gp);
  io::Co2YearFileInfo info;
  info.hyai = {0.0, 1.0};
  info.hybi = {0.0, 1.0};
  EXPECT_THROW(io::Co2YearWriter(dir.file("x.nc"), g, info), Error);
  EXPECT_FALSE(fs::exists(dir.file("x.nc.part")));
}
