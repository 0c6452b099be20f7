// Tests of the CO2 data reader, training and evaluation (emulators/co2_data.hpp,
// emulators/co2_training.hpp) on a tiny synthetic data set written here in the layout of
// io/co2_dataset_format.hpp: 3 x 8 x 16 cells, 6-hourly states whose dynamics are known
// exactly (the CO2 mass of every cell moves one column east per step, the air mass breathes
// uniformly, the surface fluxes enter the lowest layer), so every pair closes the CO2 budget to
// round-off. The reader round-trips the units and joins files; its errors name the file and
// the variable; a tiny UNet trains with falling loss; N ranks match one rank; a run resumed
// after every batch equals an uninterrupted one bitwise; the evaluation gives finite metrics,
// closes the mass budget per step and beats the persistence baseline. Run at 1 and 2 ranks.
#include <gtest/gtest.h>
#include <mpi.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/error_of.hpp"
#include "common/temp_dir.hpp"
#include "emulators/co2_conservation.hpp"
#include "emulators/co2_data.hpp"
#include "emulators/co2_models.hpp"
#include "emulators/co2_models_impl.hpp"
#include "emulators/co2_training.hpp"
#include "emulators/device.hpp"
#include "grids/error.hpp"
#include "io/co2_dataset_format.hpp"
#include "io/netcdf_file.hpp"

using namespace aeolus;
using namespace aeolus::emulators;
namespace co2f = aeolus::io::co2;
namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kNlev = 3, kNlat = 8, kNlon = 16;
constexpr double kDt = 21600.0;
const Co2Shape kShape{kNlev, kNlat, kNlon};

int rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

// The synthetic truth: states 0..n-1 of the whole timeline (all years).
struct Truth {
  std::vector<std::vector<double>> q, m;                 // kg/kg, kg [n3]
  std::vector<std::vector<double>> land, ocean, anthro;  // kg m-2 s-1 [n2]
  std::vector<std::vector<double>> u, blh, tisr;         // [n3], [n2], [n2]
  std::vector<double> area, lat, lon;                    // [nlat], [nlat], [nlon]
};

Truth make_truth(int n) {
  Truth t;
  const std::size_t n2 = kShape.cells2d(), n3 = kShape.cells3d();
  const double radius = 6.371e6, dlon = 2 * kPi / kNlon, dlat = kPi / kNlat;
  for (int j = 0; j < kNlat; ++j) {
    t.area.push_back(radius * radius * dlon *
                     (std::sin(-kPi / 2 + (j + 1) * dlat) - std::sin(-kPi / 2 + j * dlat)));
    t.lat.push_back(-90.0 + (j + 0.5) * 180.0 / kNlat);
  }
  for (int i = 0; i < kNlon; ++i) t.lon.push_back((i + 0.5) * 360.0 / kNlon);
  const double dp[kNlev] = {2.0e4, 3.0e4, 4.5e4};
  const auto air = [&](int s) {
    std::vector<double> m(n3);
    const double breathe = 1.0 + 0.002 * std::sin(2 * kPi * s / 10.0);
    for (int k = 0; k < kNlev; ++k)
      for (int j = 0; j < kNlat; ++j)
        for (int i = 0; i < kNlon; ++i)
          m[(std::size_t(k) * kNlat + j) * kNlon + i] = dp[k] * t.area[j] / 9.80665 * breathe;
    return m;
  };
  std::vector<double> q(n3);
  for (int k = 0; k < kNlev; ++k)
    for (int j = 0; j < kNlat; ++j)
      for (int i = 0; i < kNlon; ++i) {
        const double lon = (i + 0.5) * dlon, lat = t.lat[j] * kPi / 180;
        q[(std::size_t(k) * kNlat + j) * kNlon + i] =
            6.0e-4 * (1.0 + 0.01 * std::cos(lat) * std::sin(lon + 0.7 * k) +
                      0.004 * std::sin(2 * lat) * std::cos(2 * lon - 0.3 * k) + 0.002 * k);
      }
  for (int s = 0; s < n; ++s) {
    const std::vector<double> m = air(s);
    std::vector<double> fl(n2), fo(n2), fa(n2), u(n3, 10.0), blh(n2), tisr(n2);
    for (int j = 0; j < kNlat; ++j)
      for (int i = 0; i < kNlon; ++i) {
        const std::size_t c = std::size_t(j) * kNlon + i;
        const double lon = (i + 0.5) * dlon, lat = t.lat[j] * kPi / 180;
        fl[c] = 2e-8 * std::cos(lat) * std::sin(lon - 2 * kPi * s / 4.0);
        fo[c] = -3e-9 * std::cos(lat);
        fa[c] = (j == 5 && i % 4 == 1) ? 4e-8 : 0.0;
        blh[c] = 800 + 200 * std::sin(lon - 2 * kPi * s / 4.0);
        tisr[c] = 1e6 * std::max(0.0, std::cos(lat) * std::cos(lon + 2 * kPi * s / 4.0));
      }
    t.q.push_back(q);
    t.m.push_back(m);
    t.land.push_back(fl);
    t.ocean.push_back(fo);
    t.anthro.push_back(fa);
    t.u.push_back(u);
    t.blh.push_back(blh);
    t.tisr.push_back(tisr);
    // The next state: the CO2 mass of each cell moves one column east, then the surface flux.
    const std::vector<double> m_next = air(s + 1);
    std::vector<double> next(n3);
    for (int k = 0; k < kNlev; ++k)
      for (int j = 0; j < kNlat; ++j)
        for (int i = 0; i < kNlon; ++i) {
          const std::size_t c = (std::size_t(k) * kNlat + j) * kNlon + i;
          const std::size_t w = c - i + (i + kNlon - 1) % kNlon;
          next[c] = q[w] * m[w] / m_next[c];
        }
    std::vector<double> total(n2);
    for (std::size_t c = 0; c < n2; ++c) total[c] = fl[c] + fo[c] + fa[c];
    co2_add_surface_flux(kShape, total.data(), t.area.data(), m_next.data(), kDt, next.data());
    q = next;
  }
  return t;
}

struct FileFaults {
  bool complete = true;
  std::string drop;    // a variable left out
  int nlat = kNlat;    // write another grid
  double shift_h = 0;  // shift the times
};

// Writes states [first, first + count) of `t` as one year file.
void write_year(const std::string& path, const Truth& t, int first, int count, int year,
                const std::string& split, const FileFaults& faults = {}) {
  fs::create_directories(fs::path(path).parent_path());
  io::NetcdfFile f(path, io::NetcdfFile::Mode::create);
  const std::size_t nlev = kNlev, nlat = std::size_t(faults.nlat), nlon = kNlon;
  f.def_dim("time", 0);
  f.def_dim("level", nlev);
  f.def_dim("lat", nlat);
  f.def_dim("lon", nlon);
  const std::vector<std::string> d3 = {"time", "level", "lat", "lon"}, d2 = {"time", "lat", "lon"};
  const auto def = [&](const std::string& name, const std::string& type,
                       const std::vector<std::string>& dims) {
    if (name != faults.drop) f.def_var(name, type, dims);
  };
  def("time", "double", {"time"});
  def("lat", "double", {"lat"});
  def("lon", "double", {"lon"});
  def(co2f::kCellArea, "double", {"lat", "lon"});
  def(co2f::kCo2, "double", d3);
  def(co2f::kAirmass, "double", d3);
  for (const char* v : {co2f::kU, co2f::kV, co2f::kOmega}) def(v, "float", d3);
  for (const char* v : {co2f::kBlh, co2f::kTisr}) def(v, "float", d2);
  for (const char* v : {co2f::kFluxLand, co2f::kFluxOcean, co2f::kFluxAnthro}) def(v, "double", d2);
  f.put_att("", "Conventions", "CF-1.8");
  f.put_att("", co2f::kDtSample, kDt);
  f.put_att("", "year", (long long)year);
  f.put_att("", "split", split);
  f.end_def();
  const std::size_t n2 = nlat * nlon, n3 = nlev * n2, c = std::size_t(count);
  const auto put = [&](const std::string& name, const std::vector<std::size_t>& start,
                       const std::vector<std::size_t>& cnt, const std::vector<double>& v) {
    if (name != faults.drop) f.put(name, start, cnt, v.data());
  };
  std::vector<double> time(c), area(n2);
  for (std::size_t s = 0; s < c; ++s) time[s] = (first + int(s)) * kDt / 3600.0 + faults.shift_h;
  for (std::size_t j = 0; j < nlat; ++j)
    for (std::size_t i = 0; i < nlon; ++i) area[j * nlon + i] = t.area[j % kNlat];
  put("time", {0}, {c}, time);
  put("lat", {}, {}, std::vector<double>(t.lat.begin(), t.lat.begin() + std::ptrdiff_t(nlat)));
  put("lon", {}, {}, t.lon);
  put(co2f::kCellArea, {}, {}, area);
  const auto series3 = [&](const std::vector<std::vector<double>>& v, double scale) {
    std::vector<double> out;
    for (int s = first; s < first + count; ++s)
      for (std::size_t k = 0; k < n3; ++k)
        out.push_back(v[std::size_t(s)][k % kShape.cells3d()] * scale);
    return out;
  };
  const auto series2 = [&](const std::vector<std::vector<double>>& v) {
    std::vector<double> out;
    for (int s = first; s < first + count; ++s)
      for (std::size_t k = 0; k < n2; ++k) out.push_back(v[std::size_t(s)][k % kShape.cells2d()]);
    return out;
  };
  const std::vector<std::size_t> s3 = {0, 0, 0, 0}, c3 = {c, nlev, nlat, nlon}, s2 = {0, 0, 0},
                                 c2 = {c, nlat, nlon};
  put(co2f::kCo2, s3, c3, series3(t.q, co2f::kCo2FileScale));
  put(co2f::kAirmass, s3, c3, series3(t.m, co2f::kAirmassFileScale));
  put(co2f::kU, s3, c3, series3(t.u, 1.0));
  put(co2f::kV, s3, c3, std::vector<double>(c * n3, 0.0));
  put(co2f::kOmega, s3, c3, std::vector<double>(c * n3, 0.0));
  put(co2f::kBlh, s2, c2, series2(t.blh));
  put(co2f::kTisr, s2, c2, series2(t.tisr));
  put(co2f::kFluxLand, s2, c2, series2(t.land));
  put(co2f::kFluxOcean, s2, c2, series2(t.ocean));
  put(co2f::kFluxAnthro, s2, c2, series2(t.anthro));
  if (faults.complete) f.put_att("", "aeolus_complete", (long long)1);
  f.close();
}

std::string year_file(const std::string& data, const std::string& split, int year) {
  char name[32];
  std::snprintf(name, sizeof name, "co2_year%04d.nc", year);
  return data + "/" + split + "/" + name;
}

// The data set: train years 0-1 (12 states each), valid year 2 (12), test year 3 (24).
constexpr int kTrainStates = 12, kValidStates = 12, kTestStates = 24;
constexpr int kAllStates = 2 * kTrainStates + kValidStates + kTestStates;

Co2ModelParams tiny_model() {
  Co2ModelParams p = co2_model_preset("tiny");
  p.inputs.nlev = kNlev;
  p.inputs.nlat = kNlat;
  p.inputs.nlon = kNlon;
  p.inputs.fields3d = {"u", "v", "omega", "airmass", "airmass_next", "u_next", "v_next"};
  p.inputs.co2_products = {"u", "v_next"};
  p.threads = 1;
  return p;
}

Co2TrainingParams tiny_training() {
  Co2TrainingParams t;
  t.epochs = 10;
  t.batch_size = 4;
  t.learning_rate = 1e-2;
  t.rollout_epochs = 1;
  t.rollout_steps = 2;
  t.rollout_learning_rate = 1e-3;
  t.threads = 1;
  t.seed = 7;
  t.input_noise = 0.2;  // the resume and data-parallel tests then cover the noise's seeding
  return t;
}

std::vector<torch::Tensor> weights_of(const std::string& path) {
  Co2Model m = Co2Model::load(path);
  std::vector<torch::Tensor> out;
  for (const auto& p : m.core().parameters()) out.push_back(p.detach().clone());
  return out;
}

// The data set and one uninterrupted training run, shared by the tests (all ranks).
class Co2Training : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>(MPI_COMM_WORLD);
    truth_ = std::make_unique<Truth>(make_truth(kAllStates + 1));
    const std::string data = dir_->path() + "/data";
    if (rank() == 0) {
      write_year(year_file(data, "train", 0), *truth_, 0, kTrainStates, 0, "train");
      write_year(year_file(data, "train", 1), *truth_, kTrainStates, kTrainStates, 1, "train");
      write_year(year_file(data, "valid", 2), *truth_, 2 * kTrainStates, kValidStates, 2, "valid");
      write_year(year_file(data, "test", 3), *truth_, 2 * kTrainStates + kValidStates, kTestStates,
                 3, "test");
    }
    MPI_Barrier(MPI_COMM_WORLD);
    train_files_ = co2_split_files(data, "train");
    valid_files_ = co2_split_files(data, "valid");
    test_files_ = co2_split_files(data, "test");
    model_path_ = dir_->file("model.pt");
    report_ = train_co2_model(MPI_COMM_WORLD, tiny_model(), tiny_training(), train_files_,
                              valid_files_, model_path_, dir_->file("ckpt"), false);
  }
  static void TearDownTestSuite() {
    truth_.reset();
    dir_.reset();
  }
  static std::unique_ptr<test::TempDir> dir_;
  static std::unique_ptr<Truth> truth_;
  static std::vector<std::string> train_files_, valid_files_, test_files_;
  static std::string model_path_;
  static Co2TrainReport report_;
};

std::unique_ptr<test::TempDir> Co2Training::dir_;
std::unique_ptr<Truth> Co2Training::truth_;
std::vector<std::string> Co2Training::train_files_, Co2Training::valid_files_,
    Co2Training::test_files_;
std::string Co2Training::model_path_;
Co2TrainReport Co2Training::report_;

}  // namespace

TEST_F(Co2Training, ReaderJoinsFilesConvertsUnitsAndClosesTheBudget) {
  ASSERT_EQ(train_files_.size(), 2u);
  EXPECT_NE(train_files_[0].find("co2_year0000.nc"), std::string::npos);
  const Co2SplitData d = Co2SplitData::read(train_files_, valid_files_[0]);
  EXPECT_EQ(d.times(), std::size_t(2 * kTrainStates + 1));
  EXPECT_EQ(d.pairs(), std::size_t(2 * kTrainStates));
  EXPECT_EQ(d.dt(), kDt);
  EXPECT_EQ(d.files().size(), 3u);
  EXPECT_EQ(d.bytes(), d.times() * (8 * (2 * kShape.cells3d() + 3 * kShape.cells2d()) +
                                    4 * (3 * kShape.cells3d() + 2 * kShape.cells2d())));
  for (int j = 0; j < kNlat; ++j) EXPECT_EQ(d.cell_area()[j], truth_->area[j]);
  for (std::size_t t = 0; t < d.times(); ++t) {
    EXPECT_DOUBLE_EQ(d.time_hours(t), double(t) * 6.0);
    for (std::size_t c = 0; c < kShape.cells3d(); ++c) {
      ASSERT_NEAR(d.q(t)[c], truth_->q[t][c], 1e-15 * truth_->q[t][c]);
      ASSERT_NEAR(d.airmass(t)[c], truth_->m[t][c], 1e-15 * truth_->m[t][c]);
      ASSERT_EQ(d.u(t)[c], 10.0f);
    }
    for (std::size_t c = 0; c < kShape.cells2d(); ++c) {
      ASSERT_EQ(d.flux_land(t)[c], truth_->land[t][c]);
      ASSERT_EQ(d.tisr(t)[c], float(truth_->tisr[t][c]));
    }
  }
  // Every pair, the one across the file boundary (11 -> 12) and the last one into the next
  // split included, closes the budget in SI units.
  for (std::size_t i = 0; i < d.pairs(); ++i) {
    const Co2StepInput in = d.step_input(i);
    const std::vector<double> next = d.q_next(i);
    std::vector<double> total(kShape.cells2d());
    for (std::size_t c = 0; c < total.size(); ++c)
      total[c] = in.co2flux_land[c] + in.co2flux_ocean[c] + in.co2flux_anthro[c];
    const double before = co2_mass(kShape, in.q.data(), in.airmass.data());
    const double after = co2_mass(kShape, next.data(), in.airmass_next.data());
    const double source = co2_surface_source_mass(kShape, total.data(), in.cell_area.data(), kDt);
    EXPECT_LT(std::abs(after - before - source) / before, 1e-14) << "pair " << i;
    EXPECT_EQ(in.blh.size(), kShape.cells2d());
  }
  // Without meteorology: none held, none in the step inputs.
  Co2ReadOptions bare;
  bare.meteorology = false;
  const Co2SplitData b = Co2SplitData::read(test_files_, "", bare);
  EXPECT_EQ(b.pairs(), std::size_t(kTestStates - 1));
  EXPECT_EQ(b.u(0), nullptr);
  EXPECT_TRUE(b.step_input(0).u.empty());
}

TEST_F(Co2Training, ReaderErrorsNameTheFileAndTheVariable) {
  const std::string bad = dir_->path() + "/bad_r" + std::to_string(rank());
  const Truth& t = *truth_;
  FileFaults incomplete, missing, grid, gap;
  incomplete.complete = false;
  missing.drop = co2f::kAirmass;
  grid.nlat = 4;
  gap.shift_h = 6.0;
  write_year(bad + "/incomplete.nc", t, 0, 4, 0, "train", incomplete);
  write_year(bad + "/missing.nc", t, 0, 4, 0, "train", missing);
  write_year(bad + "/grid.nc", t, 0, 4, 0, "train", grid);
  write_year(bad + "/a.nc", t, 0, 4, 0, "train");
  write_year(bad + "/gap.nc", t, 4, 4, 1, "train", gap);
  const auto err = [](const std::vector<std::string>& files, const Co2ReadOptions& o = {}) {
    return test::error_of<IoError>([&] { (void)Co2SplitData::read(files, "", o); });
  };
  std::string e = err({bad + "/incomplete.nc"});
  EXPECT_NE(e.find("incomplete.nc"), std::string::npos) << e;
  EXPECT_NE(e.find("aeolus_complete"), std::string::npos) << e;
  e = err({bad + "/missing.nc"});
  EXPECT_NE(e.find("missing.nc lacks the variable 'airmass'"), std::string::npos) << e;
  EXPECT_NE(e.find("(time = 4, level = 3, lat = 8, lon = 16)"), std::string::npos) << e;
  Co2ReadOptions model_grid;
  model_grid.nlat = kNlat;
  e = err({bad + "/grid.nc"}, model_grid);
  EXPECT_NE(e.find("grid.nc: dimension lat = 4; expected 8"), std::string::npos) << e;
  e = err({bad + "/a.nc", bad + "/grid.nc"});
  EXPECT_NE(e.find("grid.nc: grid (level, lat, lon) = (3, 4, 16); expected (3, 8, 16)"),
            std::string::npos)
      << e;
  e = err({bad + "/a.nc", bad + "/gap.nc"});
  EXPECT_NE(e.find("gap.nc starts at time 30 h"), std::string::npos) << e;
  EXPECT_NE(e.find("expected 24 h"), std::string::npos) << e;
  e = err({bad + "/none.nc"});
  EXPECT_NE(e.find("none.nc does not exist"), std::string::npos) << e;
  e = err({});
  EXPECT_NE(e.find("no files"), std::string::npos) << e;
  e = test::error_of<IoError>([&] { (void)co2_split_files(bad, "test"); });
  EXPECT_NE(e.find(bad + "/test does not exist"), std::string::npos) << e;
  e = test::error_of<IoError>(
      [&] { (void)co2_split_files(dir_->path(), "bad_r" + std::to_string(rank())); });
  EXPECT_NE(e.find("holds no year file"), std::string::npos) << e;
  // Bad training parameters name the key.
  Co2TrainingParams tp = tiny_training();
  tp.schedule = "linear";
  e = test::error_of<ConfigError>([&] { check_co2_training_params(tp); });
  EXPECT_NE(e.find("training.schedule = 'linear' is unknown"), std::string::npos) << e;
  tp = tiny_training();
  tp.batch_size = 0;
  e = test::error_of<ConfigError>([&] { check_co2_training_params(tp); });
  EXPECT_NE(e.find("training.batch_size = 0"), std::string::npos) << e;
}

TEST_F(Co2Training, TinyUnetTrainsWithFallingLossAndSavesTheBestModel) {
  const Co2TrainReport& r = report_;
  if (rank() == 0)
    for (const auto& e : r.epochs)
      std::printf("%s epoch %d: train %.4g valid %.4g lr %.3g%s\n", e.stage.c_str(), e.epoch,
                  e.train_loss, e.valid_loss, e.learning_rate, e.best ? " (best)" : "");
  ASSERT_TRUE(r.finished);
  ASSERT_EQ(r.epochs.size(), 11u);
  EXPECT_EQ(r.train_pairs, 2 * kTrainStates);
  EXPECT_EQ(r.valid_pairs, kValidStates - 1);
  EXPECT_EQ(r.epochs[0].stage, "one_step");
  EXPECT_EQ(r.epochs[10].stage, "rollout");
  EXPECT_LT(r.epochs[9].train_loss, 0.1 * r.epochs[0].train_loss);
  EXPECT_LT(r.epochs[9].valid_loss, 0.1 * r.epochs[0].valid_loss);
  for (const auto& e : r.epochs) {
    EXPECT_TRUE(std::isfinite(e.train_loss));
    EXPECT_TRUE(std::isfinite(e.valid_loss));
  }
  EXPECT_TRUE(std::isfinite(r.best_valid_loss));
  const Co2Model m = Co2Model::load(model_path_);
  EXPECT_EQ(m.parameter_count(), r.parameters);
  EXPECT_EQ(m.info().at("data.train_files"), "co2_year0000.nc,co2_year0001.nc");
  EXPECT_EQ(m.info().at("training.ranks"), std::to_string(r.ranks));
  EXPECT_EQ(m.stats().samples, 2 * kTrainStates);
  // A new run into the same checkpoint folder without resume is refused.
  const std::string e = test::error_of<IoError>([&] {
    (void)train_co2_model(MPI_COMM_WORLD, tiny_model(), tiny_training(), train_files_, valid_files_,
                          dir_->file("again.pt"), dir_->file("ckpt"), false);
  });
  EXPECT_NE(e.find("holds checkpoints of an earlier run"), std::string::npos) << e;
}

TEST_F(Co2Training, ResumingAfterEveryBatchEqualsTheUninterruptedRunBitwise) {
  Co2TrainingParams tp = tiny_training();
  tp.max_minutes = 1e-9;  // every call stops after its first batch (or epoch end)
  tp.checkpoint_keep = 1;
  const std::string model = dir_->file("resumed.pt"), ckpt = dir_->file("ckpt_resume");
  int calls = 0;
  Co2TrainReport r;
  do {
    r = train_co2_model(MPI_COMM_WORLD, tiny_model(), tp, train_files_, valid_files_, model, ckpt,
                        true);
    ASSERT_LT(++calls, 200);
  } while (!r.finished);
  EXPECT_GE(calls, 60);  // 10 x 6 one-step batches and 6 rollout batches, one or two a call
  ASSERT_EQ(r.epochs.size(), report_.epochs.size());
  for (std::size_t i = 0; i < r.epochs.size(); ++i) {
    EXPECT_EQ(r.epochs[i].train_loss, report_.epochs[i].train_loss) << "epoch " << i;
    EXPECT_EQ(r.epochs[i].valid_loss, report_.epochs[i].valid_loss) << "epoch " << i;
  }
  const auto a = weights_of(model_path_), b = weights_of(model);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
  // A changed setting is refused by name.
  Co2TrainingParams other = tiny_training();
  other.learning_rate = 3e-3;
  const std::string e = test::error_of<ConfigError>([&] {
    (void)train_co2_model(MPI_COMM_WORLD, tiny_model(), other, train_files_, valid_files_, model,
                          ckpt, true);
  });
  EXPECT_NE(e.find("training.learning_rate = 0.01; this run has 0.003"), std::string::npos) << e;
}

TEST_F(Co2Training, DataParallelRanksMatchOneRankWithTheSameGlobalBatch) {
  int ranks = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  // Every rank ends with bitwise the same weights (the saved model is rank 0's).
  {
    Co2Model m = Co2Model::load(model_path_);
    for (const auto& p : m.core().parameters()) {
      torch::Tensor mine = p.detach().contiguous().clone(), root = mine.clone();
      MPI_Bcast(root.data_ptr<float>(), int(root.numel()), MPI_FLOAT, 0, MPI_COMM_WORLD);
      int same = torch::equal(mine, root) ? 1 : 0;
      MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
      ASSERT_EQ(same, 1);
    }
  }
  if (ranks == 1) return;  // the shared run is the serial one
  const std::string serial = dir_->file("serial.pt");
  if (rank() == 0) {
    const Co2TrainReport r =
        train_co2_model(MPI_COMM_SELF, tiny_model(), tiny_training(), train_files_, valid_files_,
                        serial, dir_->file("ckpt_serial"), false);
    ASSERT_EQ(r.epochs.size(), report_.epochs.size());
    double loss_diff = 0;
    for (std::size_t i = 0; i < r.epochs.size(); ++i) {
      loss_diff =
          std::max(loss_diff, std::abs(r.epochs[i].train_loss - report_.epochs[i].train_loss) /
                                  r.epochs[i].train_loss);
      loss_diff =
          std::max(loss_diff, std::abs(r.epochs[i].valid_loss - report_.epochs[i].valid_loss) /
                                  r.epochs[i].valid_loss);
    }
    // The models' one-step predictions on a test sample: increments relative to their spread.
    Co2Model a = Co2Model::load(model_path_), b = Co2Model::load(serial);
    const Co2SplitData test = Co2SplitData::read(test_files_);
    double pred_diff = 0;
    for (std::size_t i : {std::size_t(0), std::size_t(9), std::size_t(17)}) {
      const Co2StepInput in = test.step_input(i);
      const auto pa = a.predict_step(in).q, pb = b.predict_step(in).q;
      double num = 0, den = 0;
      for (std::size_t c = 0; c < pa.size(); ++c) {
        num += (pa[c] - pb[c]) * (pa[c] - pb[c]);
        den += (pb[c] - in.q[c]) * (pb[c] - in.q[c]);
      }
      pred_diff = std::max(pred_diff, std::sqrt(num / den));
    }
    const auto wa = weights_of(model_path_), wb = weights_of(serial);
    double worst = 0;
    for (std::size_t i = 0; i < wa.size(); ++i)
      worst = std::max(worst, (wa[i] - wb[i]).abs().max().item<double>());
    std::printf(
        "data parallel at %d ranks vs 1 rank: losses within %.2g (relative), one-step "
        "increments within %.2g, weights within %.2g\n",
        ranks, loss_diff, pred_diff, worst);
    // Adam moves a parameter whose gradient is round-off (a convolution bias that GroupNorm
    // cancels) by ~lr in whichever direction the round-off points, so the weights are not the
    // observable; the losses and the predictions are.
    EXPECT_LT(loss_diff, 1e-4);
    EXPECT_LT(pred_diff, 1e-4);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// training.device. The shared run trained on the CPU and says so. A misspelt device is refused
// by check_co2_training_params. Without a CUDA device (the Debian build: LibTorch is CPU-only)
// "cuda" is a ConfigError on every rank before anything is written. With one (a CUDA build of
// LibTorch on a GPU machine; this branch is skipped here), training there takes the CPU's
// steps to float32 accuracy, and a run stopped on the GPU resumes from its checkpoint on the
// CPU.
TEST_F(Co2Training, TrainingDeviceIsCheckedAndACudaRunMatchesTheCpu) {
  EXPECT_EQ(report_.device, "cpu");
  EXPECT_EQ(Co2Model::load(model_path_).info().at("training.device"), "cpu");
  Co2TrainingParams tp = tiny_training();
  tp.device = "gpu";
  std::string e = test::error_of<ConfigError>([&] { check_co2_training_params(tp); });
  EXPECT_NE(e.find("training.device = 'gpu'"), std::string::npos) << e;
  tp.device = "cuda";
  const std::string model = dir_->file("cuda.pt"), ckpt = dir_->file("ckpt_cuda");
  if (!cuda_available()) {
    e = test::error_of<ConfigError>([&] {
      (void)train_co2_model(MPI_COMM_WORLD, tiny_model(), tp, train_files_, valid_files_, model,
                            ckpt, false);
    });
    EXPECT_NE(e.find("training.device = 'cuda'"), std::string::npos) << e;
    EXPECT_NE(e.find("sees no CUDA device"), std::string::npos) << e;
    EXPECT_FALSE(fs::exists(model));
    EXPECT_FALSE(fs::exists(ckpt) && !fs::is_empty(ckpt));
    return;
  }
  const Co2TrainReport r = train_co2_model(MPI_COMM_WORLD, tiny_model(), tp, train_files_,
                                           valid_files_, model, ckpt, false);
  EXPECT_EQ(r.device.rfind("cuda", 0), 0u) << r.device;
  ASSERT_EQ(r.epochs.size(), report_.epochs.size());
  for (std::size_t i = 0; i < r.epochs.size(); ++i) {
    EXPECT_NEAR(r.epochs[i].train_loss, report_.epochs[i].train_loss,
                1e-3 * report_.epochs[i].train_loss)
        << "epoch " << i;
    EXPECT_NEAR(r.epochs[i].valid_loss, report_.epochs[i].valid_loss,
                1e-3 * report_.epochs[i].valid_loss)
        << "epoch " << i;
  }
  // Stopped on the GPU after its first batch, finished on the CPU.
  Co2TrainingParams gpu = tiny_training(), cpu = tiny_training();
  gpu.device = "cuda";
  gpu.max_minutes = 1e-9;
  const std::string mixed = dir_->file("mixed.pt"), ckpt_mixed = dir_->file("ckpt_mixed");
  const Co2TrainReport first = train_co2_model(MPI_COMM_WORLD, tiny_model(), gpu, train_files_,
                                               valid_files_, mixed, ckpt_mixed, false);
  ASSERT_FALSE(first.finished);
  const Co2TrainReport rest = train_co2_model(MPI_COMM_WORLD, tiny_model(), cpu, train_files_,
                                              valid_files_, mixed, ckpt_mixed, true);
  ASSERT_TRUE(rest.finished);
  ASSERT_EQ(rest.epochs.size(), report_.epochs.size());
  EXPECT_NEAR(rest.best_valid_loss, report_.best_valid_loss, 1e-3 * report_.best_valid_loss);
}

TEST_F(Co2Training, EvaluationIsFiniteClosesMassAndBeatsPersistence) {
  if (rank() != 0) return;  // serial
  Co2EvalParams ep;
  ep.horizon_days = 2;
  ep.report_days = {1, 2};
  ep.long_rollout_days = 10;
  const std::string json = dir_->file("eval.json"), nc = dir_->file("eval.nc");
  const Co2EvalMetrics m = evaluate_co2_model(model_path_, test_files_, ep, json, nc);
  // Quarters of the 6-day test split: days 0, 1, 3, 4; the last one runs out after 7 steps.
  ASSERT_EQ(m.rollouts.size(), 4u);
  EXPECT_EQ(m.rollouts[2].start_day, 3);
  EXPECT_EQ(m.rollouts[3].steps, 7);
  EXPECT_NE(m.rollouts[3].message.find("the data ends after 1.75 of 2 days"), std::string::npos);
  ASSERT_EQ(m.leads.size(), 8u);
  EXPECT_EQ(m.leads[7].rollouts, 3);
  ASSERT_EQ(m.at_days.size(), 2u);
  for (const auto& l : m.at_days) {
    EXPECT_TRUE(std::isfinite(l.r2) && l.r2 > 0 && l.r2 <= 1);
    EXPECT_TRUE(std::isfinite(l.rmse_ppmv) && l.rmse_ppmv > 0);
    EXPECT_TRUE(std::isfinite(l.r2_persistence));
  }
  EXPECT_LE(m.worst_step_mass_error, 1e-13);
  EXPECT_LT(m.mass_rmse_relative, 1e-13);
  EXPECT_GT(m.step_ms, 0);
  EXPECT_EQ(m.steps_timed, 23 + 8 + 8 + 7);  // long run (the data allows 23), day 1, 3, 4 runs
  const Co2LongRollout& lr = m.long_rollout;
  EXPECT_EQ(lr.steps, kTestStates - 1);
  EXPECT_TRUE(lr.finite);
  EXPECT_TRUE(lr.positive);
  EXPECT_LT(lr.worst_budget_relative, 1e-13);
  EXPECT_NEAR(lr.mean_end_ppmv, lr.mean_end_budget_ppmv, 1e-10 * lr.mean_end_budget_ppmv);
  EXPECT_NEAR(lr.mean_end_truth_ppmv, lr.mean_end_budget_ppmv, 1e-10 * lr.mean_end_budget_ppmv);
  EXPECT_GT(lr.q_min_ppmv, 0.5 * lr.truth_min_ppmv);
  EXPECT_LT(lr.q_max_ppmv, 2.0 * lr.truth_max_ppmv);
  // The curves of the free run: one value per state (state 0 is the truth); the extremes over
  // the steps are the run's range; the run stays positive throughout.
  ASSERT_EQ(lr.r2.size(), std::size_t(lr.steps) + 1);
  ASSERT_EQ(lr.min_ppmv.size(), lr.r2.size());
  EXPECT_EQ(lr.r2[0], 1.0);
  EXPECT_EQ(lr.r2_end, lr.r2.back());  // the end scores are those of the last state
  EXPECT_GT(lr.rmse_end_ppmv, 0.0);
  // The free run from another start (what aeolus eval runs from the validation quarters):
  // from state 0 it is the evaluation's long run, state for state; from state 5 it runs until
  // the data end.
  {
    Co2Model model = Co2Model::load(model_path_);
    const Co2SplitData test = Co2SplitData::read(test_files_, "", co2_read_options(model.params()));
    const Co2LongRollout again = co2_free_run(model, test, 0, 10);
    EXPECT_EQ(again.steps, lr.steps);
    EXPECT_EQ(again.r2, lr.r2);
    EXPECT_EQ(again.mean_ppmv, lr.mean_ppmv);
    EXPECT_EQ(again.min_ppmv, lr.min_ppmv);
    const Co2LongRollout later = co2_free_run(model, test, 5, 10);
    EXPECT_EQ(later.steps, kTestStates - 1 - 5);
    EXPECT_NE(later.message.find("the data ends after"), std::string::npos) << later.message;
    EXPECT_DOUBLE_EQ(later.mean_start_ppmv, lr.mean_truth_ppmv[5]);
    EXPECT_LT(later.worst_budget_relative, 1e-13);
    EXPECT_TRUE(later.finite && later.positive);
    EXPECT_THROW(co2_free_run(model, test, std::size_t(kTestStates) - 1, 10), ConfigError);
    EXPECT_THROW(co2_free_run(model, test, 0, 0), ConfigError);
  }
  EXPECT_DOUBLE_EQ(*std::min_element(lr.min_ppmv.begin() + 1, lr.min_ppmv.end()), lr.q_min_ppmv);
  EXPECT_DOUBLE_EQ(*std::max_element(lr.max_ppmv.begin() + 1, lr.max_ppmv.end()), lr.q_max_ppmv);
  EXPECT_EQ(lr.days_positive, lr.days);
  EXPECT_GT(lr.decorrelation_days, 0.0);
  EXPECT_LE(lr.decorrelation_days, lr.days);
  // The pattern moves a column per step: persistence decorrelates within the horizon; the
  // trained model is closer to the truth than persistence at every lead.
  for (const auto& l : m.leads) EXPECT_LT(l.rmse_ppmv, l.rmse_persistence_ppmv) << l.lead_days;
  EXPECT_GT(m.leads[0].r2, m.leads[0].r2_persistence);
  EXPECT_GT(m.decorrelation_days_persistence, 0);
  std::printf(
      "tiny model: R2 %.4f / %.4f (persistence %.4f / %.4f) at day 1 / 2, RMSE %.3f ppmv "
      "(persistence %.3f) at day 2, %.2f ms per step\n",
      m.at_days[0].r2, m.at_days[1].r2, m.at_days[0].r2_persistence, m.at_days[1].r2_persistence,
      m.at_days[1].rmse_ppmv, m.at_days[1].rmse_persistence_ppmv, m.step_ms);
  // The outputs.
  std::ifstream in(json);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"worst_step_mass_error\""), std::string::npos);
  EXPECT_NE(text.find("\"decorrelation\""), std::string::npos);
  const io::NetcdfFile f(nc, io::NetcdfFile::Mode::read);
  EXPECT_EQ(f.get_att_string("", "Conventions"), "CF-1.8");
  EXPECT_EQ(f.dim_len("lead"), 8u);
  EXPECT_EQ(f.dim_len("time"), std::size_t(kTestStates));
  std::vector<double> r2(8), surface(kShape.cells2d());
  f.get("r2", {}, {}, r2.data());
  EXPECT_DOUBLE_EQ(r2[3], m.leads[3].r2);
  f.get("co2_surface_pred", {}, {}, surface.data());
  EXPECT_DOUBLE_EQ(surface[5], m.surface_pred[5]);
}

// On a data set written by `aeolus dataset` (not run by ctest): trains a model of the preset
// AEOLUS_CO2_PRESET (tiny) for AEOLUS_CO2_EPOCHS (2) epochs on CASE/data = AEOLUS_CO2_DATA and
// evaluates it, printing the timings and metrics (AEOLUS_CO2_OUT: a folder to keep eval.json and
// eval.nc in). Under mpirun it trains data-parallel.
//   AEOLUS_CO2_DATA=/tmp/case/data build-d/bin/test_co2_training
//       --gtest_also_run_disabled_tests --gtest_filter='*DataSet*'
TEST(Co2TrainingMeasure, DISABLED_TrainAndEvaluateOnAGeneratedDataSet) {
  const char* data = std::getenv("AEOLUS_CO2_DATA");
  if (!data) GTEST_SKIP() << "set AEOLUS_CO2_DATA to a CO2 case's data folder";
  const char* preset = std::getenv("AEOLUS_CO2_PRESET");
  const char* epochs = std::getenv("AEOLUS_CO2_EPOCHS");
  const auto train = co2_split_files(data, "train"), valid = co2_split_files(data, "valid"),
             test_files = co2_split_files(data, "test");
  Co2ReadOptions header;
  header.meteorology = false;
  const Co2SplitData probe = Co2SplitData::read({test_files.front()}, "", header);
  Co2ModelParams p = co2_model_preset(preset ? preset : "tiny");
  p.inputs.nlev = probe.shape().nlev;
  p.inputs.nlat = probe.shape().nlat;
  p.inputs.nlon = probe.shape().nlon;
  p.threads = 2;
  Co2TrainingParams t;
  t.epochs = epochs ? std::atoi(epochs) : 2;
  t.rollout_epochs = 1;
  t.threads = 2;
  test::TempDir dir(MPI_COMM_WORLD);
  const auto log = [](const std::string& line) { std::printf("  %s\n", line.c_str()); };
  const auto r = train_co2_model(MPI_COMM_WORLD, p, t, train, valid, dir.file("model.pt"),
                                 dir.file("ckpt"), false, log);
  ASSERT_TRUE(r.finished);
  std::printf(
      "%s (%s, %lld parameters): %lld training pairs, %.1f s reading, %.1f s statistics, "
      "%.1f s training (%.2f s per epoch of %lld pairs)\n",
      p.arch.c_str(), p.preset.c_str(), r.parameters, r.train_pairs, r.data_seconds,
      r.stats_seconds, r.training_seconds, r.epochs[0].seconds, r.train_pairs);
  if (rank() != 0) return;
  Co2EvalParams ep;
  const char* out = std::getenv("AEOLUS_CO2_OUT");  // keep the evaluation files there
  const std::string base = out ? std::string(out) + "/" : dir.file("");
  const Co2EvalMetrics m = evaluate_co2_model(dir.file("model.pt"), test_files, ep,
                                              base + "eval.json", base + "eval.nc");
  for (const auto& l : m.at_days)
    std::printf("  day %g: R2 %.4f RMSE %.3f ppmv (persistence R2 %.4f RMSE %.3f), %d rollouts\n",
                l.lead_days, l.r2, l.rmse_ppmv, l.r2_persistence, l.rmse_persistence_ppmv,
                l.rollouts);
  std::printf(
      "  horizon %.2f days, decorrelation %.2f days (persistence %.2f), mass RMSE %.3g "
      "PgC, worst step mass error %.2g, long run %d steps positive %d budget %.2g, "
      "%.2f ms per step (%d threads)\n",
      m.horizon_days, m.decorrelation_days, m.decorrelation_days_persistence, m.mass_rmse_pgc,
      m.worst_step_mass_error, m.long_rollout.steps, int(m.long_rollout.positive),
      m.long_rollout.worst_budget_relative, m.step_ms, m.threads);
  EXPECT_LE(m.worst_step_mass_error, 1e-13);
}
