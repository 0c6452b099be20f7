// The CO2 data set of a co2_transport case (`aeolus dataset`), at 1 and 2 ranks, on a coarse
// grid with short files:
//  - the CO2 budget of the files closes to round-off: the mass change between consecutive
//    samples (across file and split boundaries) equals sum(F area dt_sample) of the stored mean
//    fluxes;
//  - air mass and layer pressures agree (airmass = (p_bottom - p_top) area / g), the mixing
//    ratio is positive and near 400 ppmv, CF metadata is there;
//  - the files are bitwise independent of the rank count;
//  - existing data are never replaced without --overwrite; bad keys name themselves;
//  - `aeolus run` with the classical and the emulator stepper (an untrained tiny model: what is
//    tested is the seam, not skill): the emulator closes the same CO2 budget as the classical
//    run, and is bitwise independent of the rank count; in hybrid mode with daily
//    re-initialisation every daily frame is the classical state, bitwise.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "emulators/co2_models.hpp"
#include "emulators/device.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/co2_dataset_format.hpp"
#include "io/netcdf_file.hpp"
#include "physics/co2_met.hpp"
#include "tools/app/driver.hpp"

using namespace aeolus;
namespace fs = std::filesystem;
namespace co2f = io::co2;

namespace {

const char* kCase = R"(grid:
  type: latlon
  nlat: 16
  nlon: 32
  nlev: 6
physics:
  equation: co2_transport
time:
  max_substep: 3600
dataset:
  spinup_days: 1
  file_days: 2
  train_years: 1
  valid_years: 1
  test_years: 1
)";

std::string file(const app::CaseConfig& c, const std::string& split, int year) {
  return c.path("data/" + split + "/co2_year000" + std::to_string(year) + ".nc");
}

}  // namespace

TEST(Co2Case, DatasetClosesTheBudgetAndIsIndependentOfRankCount) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  auto c = app::load_case(test::write_case(world, dir, "co2", kCase));
  app::generate_dataset(world, c, false);
  if (comm_rank(world) != 0) return;
  const std::vector<std::string> files = {file(c, "train", 0), file(c, "valid", 1),
                                          file(c, "test", 2)};
  for (const auto& f : files) ASSERT_TRUE(fs::exists(f)) << f;

  // The budget, in the file's units, over all consecutive samples of the three files.
  const size_t nlev = 6, nlat = 16, nlon = 32, n3 = nlev * nlat * nlon, n2 = nlat * nlon;
  std::vector<double> mass, source;
  double dt = 0;
  for (const auto& f : files) {
    io::NetcdfFile nc(f, io::NetcdfFile::Mode::read);
    EXPECT_EQ(nc.get_att_string("", "Conventions"), "CF-1.8");
    EXPECT_EQ(nc.get_att_int64("", "aeolus_complete"), 1);
    dt = nc.get_att_double("", co2f::kDtSample);
    EXPECT_EQ(dt, 21600.0);
    for (const char* v : {co2f::kCo2, co2f::kAirmass, co2f::kU, co2f::kOmega, co2f::kBlh,
                          co2f::kTisr, co2f::kFluxLand, co2f::kFluxOcean, co2f::kFluxAnthro}) {
      EXPECT_TRUE(nc.has_att(v, "units")) << v;
      EXPECT_TRUE(nc.has_att(v, "long_name")) << v;
    }
    EXPECT_EQ(nc.get_att_string(co2f::kCo2, "units"), "1e-6 kg/kg");
    EXPECT_EQ(nc.get_att_string(co2f::kFluxAnthro, "units"), "kg m-2 s-1");
    const size_t nt = nc.dim_len("time");
    EXPECT_EQ(nt, 8u);  // 2 days of 6-hourly samples
    const auto q = test::read_var(f, co2f::kCo2), m = test::read_var(f, co2f::kAirmass),
               pb = test::read_var(f, co2f::kPBottom), pt = test::read_var(f, co2f::kPTop),
               area = test::read_var(f, co2f::kCellArea);
    const auto fl = test::read_var(f, co2f::kFluxLand), fo = test::read_var(f, co2f::kFluxOcean),
               fa = test::read_var(f, co2f::kFluxAnthro);
    ASSERT_EQ(q.size(), nt * n3);
    for (size_t n = 0; n < nt; ++n) {
      double mk = 0, sk = 0;
      for (size_t k = 0; k < nlev; ++k)
        for (size_t c2 = 0; c2 < n2; ++c2) {
          const size_t i = n * n3 + k * n2 + c2;
          ASSERT_GT(q[i], 370.0 * physics::co2::kMassMixingPerPpmv * 1e6) << i;
          ASSERT_LT(q[i], 470.0 * physics::co2::kMassMixingPerPpmv * 1e6) << i;
          mk += q[i] * 1e-6 * m[i] * 1e12;
          // airmass (Pg) from the layer's pressures (hPa, stored as float).
          const double from_p = (pb[i] - pt[i]) * 100 * area[c2] / physics::co2::kGravity * 1e-12;
          ASSERT_NEAR(m[i], from_p, 2e-6 * m[i] + 1e-6) << i;
        }
      for (size_t c2 = 0; c2 < n2; ++c2) {
        sk += (fl[n * n2 + c2] + fo[n * n2 + c2] + fa[n * n2 + c2]) * area[c2];
      }
      mass.push_back(mk);
      source.push_back(sk * dt);
    }
  }
  ASSERT_EQ(mass.size(), 24u);
  double worst = 0, biggest_change = 0;
  for (size_t n = 0; n + 1 < mass.size(); ++n) {
    worst = std::max(worst, std::abs(mass[n + 1] - mass[n] - source[n]) / mass[n]);
    biggest_change = std::max(biggest_change, std::abs(source[n]) / mass[n]);
  }
  EXPECT_LT(worst, 1e-13);
  // The fluxes are not trivially zero: each 6-hour source is a resolvable part of the mass.
  EXPECT_GT(biggest_change, 1e-7);

  // Bitwise the same on one rank.
  test::TempDir self_dir(MPI_COMM_SELF);
  auto cs = app::load_case(test::write_case(MPI_COMM_SELF, self_dir, "serial", kCase));
  app::generate_dataset(MPI_COMM_SELF, cs, false);
  for (int y = 0; y < 3; ++y) {
    const char* split = y == 0 ? "train" : y == 1 ? "valid" : "test";
    for (const char* v : {co2f::kCo2, co2f::kAirmass, co2f::kFluxLand, co2f::kOmega, "time"}) {
      const auto a = test::read_var(file(c, split, y), v),
                 b = test::read_var(file(cs, split, y), v);
      ASSERT_EQ(a.size(), b.size()) << v;
      for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << v << " " << i;
    }
  }
}

TEST(Co2Case, ExistingDataIsNotReplacedAndKeysAreChecked) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  const std::string yaml = std::string(kCase) + "  deflate: 1\n";
  auto c = app::load_case(test::write_case(world, dir, "twice", yaml));
  if (comm_rank(world) == 0) {
    fs::create_directories(c.path("data/train"));
    std::ofstream(c.path("data/train/co2_year0000.nc")) << "somebody else's file";
  }
  MPI_Barrier(world);
  EXPECT_THROW(app::generate_dataset(world, c, false), IoError);
  if (comm_rank(world) == 0) {
    EXPECT_EQ(test::read_text(c.path("data/train/co2_year0000.nc")), "somebody else's file");
  }
  auto expect_config_error = [&](const std::string& text, const std::string& needle) {
    try {
      app::load_case(test::write_case(world, dir, "bad", text));
      ADD_FAILURE() << "no error for " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_config_error(std::string(kCase) + "  sample_hours: 5\n", "sample_hours");
  expect_config_error(std::string(kCase) + "  spinup_dayz: 3\n", "spinup_days");
  std::string bad = kCase;
  bad.replace(bad.find("equation: co2_transport"), 23,
              "equation: co2_transport\n  meteorology:\n    wave_count: 99");
  expect_config_error(bad, "wave_count");
  // Model inputs are names from fixed lists; products only of the model's own 3D inputs.
  expect_config_error(std::string(kCase) + "model:\n  inputs:\n    fields3d: [u, v_nxt]\n",
                      "model.inputs.fields3d[1] = 'v_nxt' is not one of");
  expect_config_error(std::string(kCase) + "model:\n  inputs:\n    fields3d: [u, v_nxt]\n",
                      "did you mean 'v_next'");
  expect_config_error(
      std::string(kCase) + "model:\n  inputs:\n    fields3d: [u]\n    co2_products: [v]\n",
      "model.inputs.co2_products = 'v'");
  expect_config_error(std::string(kCase) + "training:\n  input_noise: -1\n",
                      "training.input_noise");
  expect_config_error(
      std::string(kCase) + "evaluation:\n  long_rollout_days: 0\n  validation_free_runs: true\n",
      "evaluation.long_rollout_days >= 1");
  expect_config_error(std::string(kCase) + "evaluation:\n  validation_free_run: true\n",
                      "did you mean 'validation_free_runs'");
  expect_config_error(std::string(kCase) + "model:\n  device: gpu\n", "model.device = 'gpu'");
  expect_config_error(std::string(kCase) + "training:\n  device: cuda:x\n",
                      "training.device = 'cuda:x'");
  expect_config_error(std::string(kCase) + "training:\n  devices: cuda\n", "did you mean 'device'");
  // A CUDA device is only needed where the network runs: the case loads (aeolus dataset works
  // on a CPU machine); training there fails first thing, naming the file and the key.
  if (!emulators::cuda_available()) {
    auto gpu = app::load_case(
        test::write_case(world, dir, "gpu", std::string(kCase) + "training:\n  device: cuda\n"));
    try {
      app::train_case(world, gpu, false);
      ADD_FAILURE() << "no error for training.device = cuda without CUDA";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("case.yaml: training.device = 'cuda'"),
                std::string::npos)
          << e.what();
    }
  }
}

namespace {

const char* kRunCase = R"(grid:
  type: latlon
  nlat: 16
  nlon: 32
  nlev: 6
physics:
  equation: co2_transport
time:
  t_end: 172800
output:
  interval: 86400
)";

// An untrained tiny UNet for the case's grid, with unit statistics except for a small
// increment scale (so that its random increments are small against q).
void save_tiny_model(const std::string& path) {
  auto p = emulators::co2_model_preset("tiny");
  p.inputs.nlev = 6, p.inputs.nlat = 16, p.inputs.nlon = 32;
  // The winds at the end of the step too (the stepper evaluates the meteorology at t + dt).
  p.inputs.fields3d.push_back("u_next");
  p.inputs.fields3d.push_back("omega_next");
  p.inputs.co2_products = {"u", "u_next"};
  emulators::Co2NormStats st;
  st.co2_mean = 6e-4, st.co2_scale = 1e-6;
  // Rough magnitudes of the inputs, so that the normalised inputs are O(1).
  const auto names = emulators::co2_input_channel_names(p);
  for (size_t i = 6; i < 6 + emulators::co2_stat_channel_count(p); ++i) {
    const std::string& n = names[i];
    auto set = [&](double mean, double std) {
      st.input_mean.push_back(mean);
      st.input_std.push_back(std);
    };
    if (n.rfind("airmass", 0) == 0)
      set(1e14, 1e14);
    else if (n.rfind("omega", 0) == 0)
      set(0.0, 0.1);
    else if (n.rfind("u[", 0) == 0 || n.rfind("v[", 0) == 0 || n.rfind("u_next[", 0) == 0)
      set(0.0, 10.0);
    else if (n == "blh")
      set(600.0, 300.0);
    else if (n == "tisr")
      set(1e6, 1e6);
    else if (n == "cell_area")
      set(1e11, 1e11);
    else
      set(0.0, 1e-8);  // fluxes
  }
  st.increment_mean.assign(6, 0.0);
  st.increment_std.assign(6, 1e-8);
  st.samples = 1;
  fs::create_directories(fs::path(path).parent_path());
  emulators::Co2Model(p, st, 7).save(path);
}

}  // namespace

TEST(Co2Case, EmulatorStepperClosesTheBudgetAndIsIndependentOfRankCount) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  for (const std::string& hybrid : {std::string(), std::string("stepper:\n  hybrid_days: 1\n")}) {
    auto c = app::load_case(test::write_case(world, dir, hybrid.empty() ? "emu" : "hyb",
                                             std::string(kRunCase) + hybrid));
    if (comm_rank(world) == 0) save_tiny_model(c.path(c.model));
    MPI_Barrier(world);
    auto opt = test::quiet_run();
    auto rc = app::run_case(world, c, opt);
    // Rank 0 reads it (the next run replaces the file: a slower rank must not race it).
    std::vector<double> classical_mass, classical_q;
    if (comm_rank(world) == 0) {
      const std::string out = c.path("output/fields.nc");
      classical_mass = test::read_var(out, "co2_mass");
      classical_q = test::read_var(out, "co2");
      // The CF hybrid sigma-pressure coordinate: ps (the column sum of dp) is a surface
      // pressure, and the formula's interfaces enclose each column's dp.
      const auto ps = test::read_var(out, "ps"), dp = test::read_var(out, "dp"),
                 a = test::read_var(out, "a_bnds"), b = test::read_var(out, "b_bnds"),
                 p0 = test::read_var(out, "p0");
      const size_t n2 = 16 * 32, nz = 6;
      ASSERT_EQ(ps.size(), 3 * n2);
      for (size_t n = 0; n < 3; ++n)
        for (size_t c2 = 0; c2 < n2; ++c2) {
          const double s = ps[n * n2 + c2];
          ASSERT_GT(s, 9.0e4);
          ASSERT_LT(s, 1.05e5);
          double column = 0;
          for (size_t k = 0; k < nz; ++k) column += dp[(n * nz + k) * n2 + c2];
          const double top = a[0] * p0[0] + b[0] * s,
                       bottom = a[2 * nz - 1] * p0[0] + b[2 * nz - 1] * s;
          ASSERT_NEAR(bottom - top, column, 1e-10 * column);
        }
    }
    MPI_Barrier(world);
    opt.overwrite = true;
    opt.stepper = "emulator";
    auto re = app::run_case(world, c, opt);
    EXPECT_EQ(re.steps, 8);
    const auto fields = c.path("output/fields.nc");
    if (comm_rank(world) != 0) continue;
    // Same surface fluxes, exact conservation in both: the same CO2 mass at every frame.
    const auto mass = test::read_var(fields, "co2_mass");
    ASSERT_EQ(mass.size(), 3u);
    for (size_t n = 0; n < mass.size(); ++n) {
      EXPECT_NEAR(mass[n], classical_mass[n], 1e-13 * classical_mass[n]) << n;
    }
    // The model moved something (its increments are not zero) and kept q positive.
    const auto q = test::read_var(fields, "co2");
    for (double x : q) ASSERT_GT(x, 0.0);
    // Hybrid with re-initialisation every day and daily frames: every frame is the classical
    // state (the classical copy takes the classical run's sub-steps); pure emulator: not.
    ASSERT_EQ(q.size(), classical_q.size());
    size_t differ = 0;
    for (size_t i = 0; i < q.size(); ++i) differ += q[i] != classical_q[i];
    if (hybrid.empty()) {
      EXPECT_GT(differ, q.size() / 3);
    } else {
      EXPECT_EQ(differ, 0u);
    }
    io::NetcdfFile f(fields, io::NetcdfFile::Mode::read);
    EXPECT_EQ(f.get_att_string("", "stepper"), "emulator");
    // Bitwise the same on one rank.
    test::TempDir self_dir(MPI_COMM_SELF);
    auto cs = app::load_case(
        test::write_case(MPI_COMM_SELF, self_dir, "serial", std::string(kRunCase) + hybrid));
    fs::create_directories(cs.path("models"));
    fs::copy_file(c.path(c.model), cs.path(cs.model));
    auto os = test::quiet_run();
    os.stepper = "emulator";
    app::run_case(MPI_COMM_SELF, cs, os);
    const auto qs = test::read_var(cs.path("output/fields.nc"), "co2");
    ASSERT_EQ(qs.size(), q.size());
    for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], qs[i]) << i;
  }
}

TEST(Co2Case, EmulatorWithoutModelOrOffStepTimesFailsClearly) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  auto c = app::load_case(test::write_case(world, dir, "nomodel", kRunCase));
  auto opt = test::quiet_run();
  opt.stepper = "emulator";
  try {
    app::run_case(world, c, opt);
    ADD_FAILURE() << "no error without a model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("aeolus train"), std::string::npos) << e.what();
  }
  std::string bad = kRunCase;
  bad.replace(bad.find("interval: 86400"), 15, "interval: 3600");
  try {
    app::load_case(test::write_case(world, dir, "badout", bad));
    ADD_FAILURE() << "no error for an output interval off the sample grid";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("output.interval"), std::string::npos) << e.what();
  }
}

TEST(Co2Case, TrainAndEvalThroughTheCase) {
  MPI_Comm world = PETSC_COMM_WORLD;
  test::TempDir dir(world);
  std::string yaml = kCase;
  yaml.replace(yaml.find("file_days: 2"), 12, "file_days: 4");
  yaml += R"(model:
  preset: tiny
training:
  epochs: 1
  threads: 1
evaluation:
  horizon_days: 2
  long_rollout_days: 3
  validation_free_runs: true
)";
  auto c = app::load_case(test::write_case(world, dir, "ml", yaml));
  app::generate_dataset(world, c, false);
  app::train_case(world, c, false);                         // data-parallel under mpirun
  EXPECT_THROW(app::train_case(world, c, false), IoError);  // the model exists
  app::evaluate_case(world, c, false);
  if (comm_rank(world) != 0) return;
  EXPECT_TRUE(fs::exists(c.path("models/co2.pt")));
  const std::string json = test::read_text(c.path("eval/metrics.json"));
  EXPECT_LT(test::json_number(json, "worst_step_mass_error"), 1e-13) << json;
  EXPECT_GT(test::json_number(json, "classical_step_ms"), 0.0) << json;
  EXPECT_GT(test::json_number(json, "emulator_step_ms"), 0.0) << json;
  EXPECT_NE(json.find("\"device\": \"cpu\""), std::string::npos) << json;
  EXPECT_TRUE(fs::exists(c.path("eval/co2_eval.nc")));
  // Free runs from the quarters of the 4-day validation split (days 0, 1, 2, 3), 3 days each,
  // on into the test split: all close the budget.
  const auto at = json.find("\"validation_free_runs\"");
  ASSERT_NE(at, std::string::npos) << json;
  const std::string runs = json.substr(at);
  std::size_t count = 0;
  for (auto p = runs.find("\"start_day_of_validation\""); p != std::string::npos;
       p = runs.find("\"start_day_of_validation\"", p + 1)) {
    ++count;
    const std::string run = runs.substr(p);
    EXPECT_EQ(test::json_number(run, "start_day_of_validation"), double(count - 1)) << run;
    EXPECT_EQ(test::json_number(run, "days"), 3.0) << run;
    EXPECT_LT(test::json_number(run, "worst_budget_relative"), 1e-13) << run;
  }
  EXPECT_EQ(count, 4u) << json;
}
