// The published criteria of the sphere test suites, through the shipped cases' settings:
//  - Gaussian hills (Lauritzen et al. 2012, unlimited PPM), 5.6 -> 0.7 deg: the three observed
//    l2 orders that README.md and docs/sphere-convergence.md state (2.06, 3.04, 2.74), each
//    to +-0.05, and the l2 errors themselves to 3 %;
//  - cosine bells at 1.5 deg: l2 below 0.033 (the "minimal resolution" criterion) with the
//    extremum-preserving limiter and with the bounded one, which also makes no new extrema (in
//    any frame, every tracer); the strictly monotone limiter makes no overshoot at all (no
//    new extrema in any frame, no overshooting in the mixing diagnostic) at the price of a
//    larger error, whose size is pinned here so a change shows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "grids/petsc_util.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/driver.hpp"

using namespace aeolus;
namespace fs = std::filesystem;

namespace {

using test::read_text;

// A shipped case with keys replaced (first occurrence of "key: ..."), run in a temporary dir.
std::string run_variant(const test::TempDir& dir, const std::string& name, const std::string& src,
                        const std::vector<std::pair<std::string, std::string>>& edits) {
  MPI_Comm world = PETSC_COMM_WORLD;
  std::string yaml = read_text(std::string(AEOLUS_SOURCE_DIR) + "/cases/" + src + "/case.yaml");
  for (const auto& [key, value] : edits) {
    const std::regex re("(\\n\\s*" + key + ":)[^\\n]*");
    std::smatch m;
    EXPECT_TRUE(std::regex_search(yaml, m, re)) << key;
    yaml = std::regex_replace(yaml, re, "$1 " + value, std::regex_constants::format_first_only);
  }
  const std::string d = test::write_case(world, dir, name, yaml);
  app::run_case(world, app::load_case(d), test::quiet_run());
  return d;
}

double scalar(const std::string& path, const std::string& var) {
  return test::read_var(path, var).at(0);
}

std::vector<double> series(const std::string& path, const std::string& var) {
  return test::read_var(path, var);
}

}  // namespace

// The convergence table of tools/sphere_convergence (docs/sphere-convergence.md), unlimited PPM
// on the shipped case at 5.625, 2.8125, 1.40625 and 0.703125 deg (2 s on one idle core). Measured
// (2026-12-07): l2 = 0.22705, 0.054460, 0.0066180, 0.00099285: orders 2.060, 3.041, 2.737. The
// arithmetic is plain double precision with a fixed summation order, so another x86-64 CPU
// changes these at the 1e-12 level at most (libm's last bit); +-0.05 in the order and 3 % in l2
// leave that margin many times over but fail on any change to the scheme that moves a stated
// figure (a drop from third to second order moves the 1.4 deg error by a factor of two).
TEST(SphereSuite, GaussianHillsConvergenceOrdersAsStated) {
  test::TempDir dir(PETSC_COMM_WORLD);
  const int nlats[] = {32, 64, 128, 256};
  const double measured_l2[] = {0.22705, 0.054460, 0.0066180, 0.00099285};
  const double stated_order[] = {2.06, 3.04, 2.74};  // README.md "Measured"
  std::vector<double> l2;
  for (int k = 0; k < 4; ++k) {
    const int nlat = nlats[k];
    const auto d =
        run_variant(dir, "hills" + std::to_string(nlat), "lauritzen-2012-gaussian-hills",
                    {{"nlat", std::to_string(nlat)}, {"nlon", std::to_string(2 * nlat)}});
    l2.push_back(scalar(d + "/output/diagnostics.nc", "hills_l2"));
    if (comm_rank(PETSC_COMM_WORLD) == 0) {
      std::printf("[ hills ] %d x %d: l2 = %.5e%s", nlat, 2 * nlat, l2.back(), k ? "" : "\n");
      if (k) std::printf(", order %.3f\n", std::log2(l2[size_t(k) - 1] / l2.back()));
    }
    EXPECT_NEAR(l2.back(), measured_l2[k], 0.03 * measured_l2[k]) << nlat;
  }
  for (size_t i = 1; i < l2.size(); ++i) {
    const double order = std::log2(l2[i - 1] / l2[i]);
    RecordProperty("order_" + std::to_string(i), std::to_string(order));
    EXPECT_NEAR(order, stated_order[i - 1], 0.05) << "l2 " << l2[i - 1] << " -> " << l2[i];
  }
}

TEST(SphereSuite, CosineBellsAt1p5Degrees) {
  test::TempDir dir(PETSC_COMM_WORLD);
  // The shipped case (1.5 deg, 240 x 120, all four tracers) with the limiter replaced.
  auto with_limiter = [](std::string limiter) {
    return std::vector<std::pair<std::string, std::string>>{{"limiter", limiter}};
  };
  const auto ep = run_variant(dir, "ep", "lauritzen-2012", with_limiter("extremum_preserving"));
  const double l2_ep = scalar(ep + "/output/diagnostics.nc", "q1_l2");
  EXPECT_LT(l2_ep, 0.033);  // measured 0.0288
  EXPECT_GT(l2_ep, 0.020);

  const auto mono = run_variant(dir, "mono", "lauritzen-2012", with_limiter("monotone"));
  const std::string dg = mono + "/output/diagnostics.nc";
  const double l2_mono = scalar(dg, "q1_l2");
  EXPECT_GT(l2_mono, 0.065);  // measured 0.0725: monotone limiters flatten the peaks
  EXPECT_LT(l2_mono, 0.080);
  EXPECT_EQ(scalar(dg, "mixing_overshooting"), 0.0);
  // No new extrema in any frame: cosine bells in [0.1, 1], slotted cylinders in [0.1, 1].
  const std::string out = mono + "/output/fields.nc";
  for (const char* v : {"q1", "sc"}) {
    for (double x : series(out, std::string(v) + "_min")) EXPECT_GE(x, 0.1 - 1e-14) << v;
    for (double x : series(out, std::string(v) + "_max")) EXPECT_LE(x, 1.0 + 1e-14) << v;
  }
  for (const char* v : {"q1", "q2", "sc", "hills"}) {
    EXPECT_LT(std::abs(scalar(dg, std::string(v) + "_mass_relative_change")), 1e-13) << v;
  }

  // The bounded limiter (extremum-preserving parabolas scaled into the range): the 0.033
  // criterion met with no new extrema beyond each tracer's range in the first frame, in any
  // frame.
  const auto bounded = run_variant(dir, "bounded", "lauritzen-2012", with_limiter("bounded"));
  const std::string db = bounded + "/output/diagnostics.nc";
  const double l2_bounded = scalar(db, "q1_l2");
  EXPECT_LT(l2_bounded, 0.033);  // measured 0.0300
  EXPECT_GT(l2_bounded, 0.025);
  EXPECT_LT(scalar(db, "hills_l2"), 0.012);  // measured 0.0104 (monotone 0.0387)
  EXPECT_EQ(scalar(db, "mixing_overshooting"), 0.0);
  const std::string bout = bounded + "/output/fields.nc";
  for (const char* v : {"q1", "q2", "sc", "hills"}) {
    const auto lo = series(bout, std::string(v) + "_min");
    const auto hi = series(bout, std::string(v) + "_max");
    const double range = hi.at(0) - lo.at(0);
    for (double x : lo) EXPECT_GE(x, lo[0] - 1e-14 * range) << v;
    for (double x : hi) EXPECT_LE(x, hi[0] + 1e-14 * range) << v;
    EXPECT_LT(std::abs(scalar(db, std::string(v) + "_mass_relative_change")), 1e-13) << v;
  }
}
