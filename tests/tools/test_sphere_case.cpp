// Sphere transport cases through run_case, at 1, 2 and 4 ranks:
//  - several tracers, output and diagnostics bitwise independent of the rank count;
//  - a restart is bitwise identical to an uninterrupted run;
//  - the Lauritzen et al. (2012) diagnostics (filament, mixing, norms) reach diagnostics.nc and
//    run.json; mass is conserved to round-off.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/driver.hpp"

using namespace aeolus;
namespace fs = std::filesystem;

namespace {

// A coarse Lauritzen suite: 12 days in 3 days of flow at 10 deg keeps it fast; the period is
// shortened to 4 days so the diagnostics at T/2 and T are exercised.
const char* kCase = R"(grid:
  type: latlon
  nlon: 36
  nlat: 18
physics:
  flow:
    type: lauritzen_nondivergent
    period: 345600
  tracers:
    q1:
      type: cosine_bells
    q2:
      type: correlated_cosine_bells
    sc:
      type: slotted_cylinders
time:
  t_end: 345600
  cfl: 0.5
output:
  interval: 86400
checkpoint:
  every_steps: 5
  keep: 2
log:
  progress_every: 100000
diagnostics:
  filament:
    tracer: q1
    time: 172800
  mixing:
    tracer1: q1
    tracer2: q2
    time: 172800
)";

std::string make_case(MPI_Comm comm, const test::TempDir& dir, const std::string& name,
                      const std::string& yaml = kCase) {
  return test::write_case(comm, dir, name, yaml);
}

void expect_same(const std::string& a_path, const std::string& b_path, const std::string& var) {
  const auto a = test::read_var(a_path, var);
  const auto b = test::read_var(b_path, var);
  ASSERT_EQ(a.size(), b.size()) << var;
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << var << " value " << i;
}

}  // namespace

TEST(SphereCase, TracersAndDiagnosticsAreBitwiseIndependentOfRankCount) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  auto c = app::load_case(make_case(world, dir, "ranks"));
  auto r = app::run_case(world, c, test::quiet_run());
  EXPECT_GT(r.steps, 10);
  EXPECT_NEAR(r.mass_final, r.mass_initial, 1e-13 * std::abs(r.mass_initial));
  if (comm_rank(world) != 0) return;
  test::TempDir self_dir(MPI_COMM_SELF);
  auto cs = app::load_case(make_case(MPI_COMM_SELF, self_dir, "serial"));
  app::run_case(MPI_COMM_SELF, cs, test::quiet_run());
  for (const char* v : {"q1", "q2", "sc", "time"}) {
    expect_same(c.path("output/fields.nc"), cs.path("output/fields.nc"), v);
  }
  const std::string dg = c.path("output/diagnostics.nc");
  ASSERT_TRUE(fs::exists(dg));
  for (const char* v : {"filament_l_f", "mixing_real", "mixing_range_preserving_unmixing",
                        "mixing_overshooting", "q1_l2", "sc_linf", "q2_phi_max"}) {
    expect_same(dg, cs.path("output/diagnostics.nc"), v);
  }
  // Conservation to round-off for every tracer; errors and diagnostics are real numbers.
  for (const char* v : {"q1", "q2", "sc"}) {
    const double drift = test::read_var(dg, std::string(v) + "_mass_relative_change")[0];
    EXPECT_LT(std::abs(drift), 1e-13) << v;
    const double l2 = test::read_var(dg, std::string(v) + "_l2")[0];
    EXPECT_GT(l2, 0.0) << v;
    EXPECT_LT(l2, 1.0) << v;
  }
  const auto lf = test::read_var(dg, "filament_l_f");
  ASSERT_EQ(lf.size(), 19u);
  for (double x : lf) {
    EXPECT_TRUE(std::isfinite(x));
    EXPECT_GE(x, 0.0);
  }
  // At 10 deg the bells are smeared: thin filaments are lost at high thresholds.
  EXPECT_LT(lf[18], lf[0]);
  // The monotone scheme never overshoots: no mixing outside the physical range.
  EXPECT_LT(test::read_var(dg, "mixing_overshooting")[0], 1e-12);
  EXPECT_GT(test::read_var(dg, "mixing_real")[0], 0.0);
  std::ifstream j(c.path("logs/run.json"));
  std::string text((std::istreambuf_iterator<char>(j)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"diagnostics\": {"), std::string::npos) << text;
  EXPECT_NE(text.find("\"mixing_real\": "), std::string::npos) << text;
  // CF metadata of the fields.
  io::NetcdfFile f(c.path("output/fields.nc"), io::NetcdfFile::Mode::read);
  EXPECT_EQ(f.get_att_string("lat", "units"), "degrees_north");
  EXPECT_EQ(f.get_att_string("lon", "standard_name"), "longitude");
  EXPECT_EQ(f.get_att_string("q1", "cell_measures"), "area: cell_area");
  const auto area = test::read_var(c.path("output/fields.nc"), "cell_area");
  double total = 0;
  for (double a : area) total += a;
  const double a = 6.37122e6;
  EXPECT_NEAR(total, 4 * M_PI * a * a, 1e-13 * 4 * M_PI * a * a);
}

TEST(SphereCase, RestartIsBitwiseIdenticalToAnUninterruptedRun) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  auto cf = app::load_case(make_case(world, dir, "full"));
  auto cs = app::load_case(make_case(world, dir, "split"));
  app::run_case(world, cf, test::quiet_run());
  auto opt = test::quiet_run();
  opt.stop_after_steps = 7;  // before T/2: the filament/mixing diagnostics come after restart
  app::run_case(world, cs, opt);
  auto again = test::quiet_run();
  again.restart = true;
  again.stop_after_steps = 9;  // across T/2: they must survive the next restart
  app::run_case(world, cs, again);
  again.stop_after_steps = 0;
  app::run_case(world, cs, again);
  if (comm_rank(world) == 0) {
    for (const char* v : {"q1", "q2", "sc", "time", "q1_mass"}) {
      expect_same(cf.path("output/fields.nc"), cs.path("output/fields.nc"), v);
    }
    for (const char* v : {"filament_l_f", "mixing_real", "q1_l2"}) {
      expect_same(cf.path("output/diagnostics.nc"), cs.path("output/diagnostics.nc"), v);
    }
  }
}

TEST(SphereCase, ConfigurationErrorsNameTheKey) {
  test::TempDir dir(MPI_COMM_SELF);
  auto expect_error = [&](const std::string& name, const std::string& from, const std::string& to,
                          const std::string& needle) {
    std::string yaml = kCase;
    const size_t at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
    const std::string d = make_case(MPI_COMM_SELF, dir, name, yaml);
    try {
      app::load_case(d);
      FAIL() << "expected ConfigError for " << name;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  if (comm_rank(PETSC_COMM_WORLD) != 0) return;
  expect_error("odd", "nlon: 36", "nlon: 35", "grid.nlon = 35");
  expect_error("flow", "type: lauritzen_nondivergent", "type: lauritzen_nondivergnet",
               "lauritzen_nondivergent");
  expect_error("tracer", "type: cosine_bells\n    q2", "type: cosine_bels\n    q2", "cosine_bells");
  expect_error("key", "period: 345600", "perod: 345600", "did you mean 'period'");
  expect_error("cfl", "cfl: 0.5", "cfl: 1.5", "time.cfl");
  expect_error("filament", "tracer: q1\n    time", "tracer: q7\n    time", "q7");
}

// 3D (DCMIP 1-2 on a coarse grid): the air mass is stepper state, so a restart must restore it;
// output bitwise independent of the rank count and of interruptions.
TEST(SphereCase, ThreeDRunIsBitwiseAcrossRanksAndRestarts) {
  const char* k3d = R"(grid:
  type: latlon
  nlon: 32
  nlat: 16
  nlev: 6
physics:
  flow:
    type: dcmip_1_2
  tracers:
    q1:
      type: dcmip
      index: 1
time:
  t_end: 21600
  cfl: 0.9
  dt_max: 1800
output:
  interval: 7200
checkpoint:
  every_steps: 4
log:
  progress_every: 100000
)";
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  auto cf = app::load_case(make_case(world, dir, "full", k3d));
  auto cs = app::load_case(make_case(world, dir, "split", k3d));
  auto r = app::run_case(world, cf, test::quiet_run());
  EXPECT_EQ(r.steps, 12);
  EXPECT_NEAR(r.mass_final, r.mass_initial, 1e-13 * std::abs(r.mass_initial));
  auto opt = test::quiet_run();
  opt.stop_after_steps = 5;
  app::run_case(world, cs, opt);
  opt.restart = true;
  opt.stop_after_steps = 0;
  app::run_case(world, cs, opt);
  if (comm_rank(world) != 0) return;
  for (const char* v : {"q1", "q1_mass", "time"}) {
    expect_same(cf.path("output/fields.nc"), cs.path("output/fields.nc"), v);
  }
  test::TempDir self_dir(MPI_COMM_SELF);
  auto c1 = app::load_case(make_case(MPI_COMM_SELF, self_dir, "serial", k3d));
  app::run_case(MPI_COMM_SELF, c1, test::quiet_run());
  for (const char* v : {"q1", "time"}) {
    expect_same(cf.path("output/fields.nc"), c1.path("output/fields.nc"), v);
  }
  const auto units = [](const std::string& p) {
    io::NetcdfFile f(p, io::NetcdfFile::Mode::read);
    return f.get_att_string("q1_mass", "units");
  };
  EXPECT_EQ(units(cf.path("output/fields.nc")), "kg");
  // Levels as a CF hybrid sigma-pressure coordinate, p = a p0 + b ps, with ps the column sum of
  // the evolving pressure thickness dp, written every frame (and continued by the restart).
  const std::string out = cf.path("output/fields.nc");
  io::NetcdfFile f(out, io::NetcdfFile::Mode::read);
  EXPECT_EQ(f.get_att_string("lev", "standard_name"),
            "atmosphere_hybrid_sigma_pressure_coordinate");
  EXPECT_EQ(f.get_att_string("lev", "formula_terms"), "a: a b: b ps: ps p0: p0");
  EXPECT_EQ(f.get_att_string("lev_bnds", "formula_terms"), "a: a_bnds b: b_bnds ps: ps p0: p0");
  EXPECT_EQ(f.get_att_string("lev", "positive"), "down");
  EXPECT_EQ(f.get_att_string("dp", "units"), "Pa");
  EXPECT_EQ(f.get_att_string("ps", "standard_name"), "surface_air_pressure");
  const auto lev = test::read_var(out, "lev"), a = test::read_var(out, "a_bnds"),
             b = test::read_var(out, "b_bnds"), p0 = test::read_var(out, "p0"),
             ps = test::read_var(out, "ps"), dp = test::read_var(out, "dp");
  ASSERT_EQ(lev.size(), 6u);
  for (size_t k = 1; k < lev.size(); ++k) EXPECT_GT(lev[k], lev[k - 1]);
  EXPECT_LT(lev.back(), 1.0);
  ASSERT_EQ(p0.size(), 1u);
  EXPECT_EQ(p0[0], 1e5);
  const size_t n2 = 16 * 32, nz = 6, frames = ps.size() / n2;
  ASSERT_EQ(frames, 4u);  // t = 0, 2, 4, 6 h
  ASSERT_EQ(dp.size(), frames * nz * n2);
  for (size_t n = 0; n < frames; ++n)
    for (size_t c = 0; c < n2; ++c) {
      const double s = ps[n * n2 + c];
      // DCMIP 1-2 keeps the surface pressure at p0 = 1e5 Pa.
      ASSERT_NEAR(s, 1e5, 1e-9) << n << " " << c;
      // The formula's top and bottom interfaces enclose the column's dp.
      double column = 0;
      for (size_t k = 0; k < nz; ++k) column += dp[(n * nz + k) * n2 + c];
      const double top = a[0] * p0[0] + b[0] * s,
                   bottom = a[2 * nz - 1] * p0[0] + b[2 * nz - 1] * s;
      ASSERT_NEAR(bottom - top, column, 1e-10 * column) << n << " " << c;
    }
  expect_same(out, cs.path("output/fields.nc"), "ps");
  expect_same(cf.path("output/fields.nc"), cs.path("output/fields.nc"), "dp");
}

// A tracer read from a NetCDF file (type: file) starts from exactly the values in the file and
// is then carried like an analytic one; bad files are refused naming the file and variable.
TEST(SphereCase, TracerFromFile) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  auto ca = app::load_case(make_case(world, dir, "analytic"));
  app::run_case(world, ca, test::quiet_run());
  const size_t nlat = 18, nlon = 36;
  const std::string ic = dir.file("ic.nc");
  if (comm_rank(world) == 0) {
    const auto q1 = test::read_var(ca.path("output/fields.nc"), "q1");  // frame 0 first
    io::NetcdfFile f(ic, io::NetcdfFile::Mode::create);
    f.def_dim("lat", nlat);
    f.def_dim("lon", nlon);
    f.def_var("bells", "double", {"lat", "lon"});
    f.put_att("bells", "units", "1");
    f.def_var("wrong_units", "double", {"lat", "lon"});
    f.put_att("wrong_units", "units", "kg");
    f.end_def();
    f.put("bells", {}, {}, q1.data());
    f.put("wrong_units", {}, {}, q1.data());
  }
  MPI_Barrier(world);
  std::string yaml = kCase;
  yaml.replace(yaml.find("      type: cosine_bells\n"),
               std::string("      type: cosine_bells\n").size(),
               "      type: file\n      file: " + ic + "\n      variable: bells\n");
  auto cf = app::load_case(make_case(world, dir, "file", yaml));
  app::run_case(world, cf, test::quiet_run());
  if (comm_rank(world) == 0) {
    // Same initial state, hence the same run, frame by frame, and the same norms.
    expect_same(ca.path("output/fields.nc"), cf.path("output/fields.nc"), "q1");
    expect_same(ca.path("output/diagnostics.nc"), cf.path("output/diagnostics.nc"), "q1_l2");
  }
  std::string bad = yaml;
  bad.replace(bad.find("variable: bells"), 15, "variable: wrong_units");
  auto cb = app::load_case(make_case(world, dir, "units", bad));
  try {
    app::run_case(world, cb, test::quiet_run());
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("ic.nc"), std::string::npos) << msg;
    EXPECT_NE(msg.find("units 'kg'"), std::string::npos) << msg;
  }
}
