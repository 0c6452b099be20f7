// Linear advection on a Cartesian box (physics.equation: advection): `aeolus run` steps the
// field q through the common time loop with the finite-volume scheme, the flux-CNN emulator or a
// TorchScript model (stepper torchscript); `aeolus dataset / train / eval` are the emulator's
// data set, training and evaluation, built on the same steppers.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/progress.hpp"
#include "grids/random.hpp"
#include "io/collective.hpp"
#include "io/dataset_format.hpp"
#include "io/netcdf_file.hpp"
#include "io/output_writer.hpp"
#include "tools/app/advection_config.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

struct Split {
  const char* name;
  int count;
  std::uint64_t seed_offset;
};

std::vector<Split> splits(const DatasetParams& ds) {
  return {{"train", ds.train, 0}, {"valid", ds.valid, 100000}, {"test", ds.test, 200000}};
}

// Velocity of one trajectory: the case's, or a random constant one drawn from the seed.
physics::VelocityParams trajectory_velocity(const AdvectionCaseConfig& a, std::uint64_t seed) {
  physics::VelocityParams v = a.velocity;
  if (a.dataset.velocity == "case") return v;
  std::mt19937_64 g(seed ^ 0x9e3779b97f4a7c15ULL);
  const double speed =
      a.dataset.speed_min + (a.dataset.speed_max - a.dataset.speed_min) * uniform01(g);
  const double angle = 2 * M_PI * uniform01(g);
  v.type = "constant";
  v.u = {speed * std::cos(angle), speed * std::sin(angle), 0.0};
  return v;
}

physics::InitialConditionParams dataset_ic(const AdvectionCaseConfig& a) { return a.dataset.blobs; }

void require_2d_periodic(const CaseConfig& c, const char* what) {
  if (c.grid.dim != 2 || !c.grid.periodic[0] || !c.grid.periodic[1]) {
    throw ConfigError(c.file + ": aeolus " + what + " needs a 2D periodic grid (grid.dim = 2, " +
                      "grid.periodic = [true, true])");
  }
}

// Advance q by exactly dt_frame with the classical stepper in equal substeps.
void advance_frame(Stepper& s, Field& q, real_t& t, real_t dt_frame) {
  const real_t dt_stable = s.max_dt(q, t);
  const long long n =
      std::max<long long>(1, (long long)std::ceil(dt_frame / dt_stable * (1 - 1e-12)));
  const real_t t0 = t;
  for (long long k = 0; k < n; ++k) {
    real_t dt = dt_frame / real_t(n);
    s.step(q, t, dt);
  }
  t = t0 + dt_frame;
}

}  // namespace

namespace {

void generate_flux_cnn_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  require_2d_periodic(c, "dataset");
  const auto& a = c.settings_as<AdvectionCaseConfig>();
  const int rank = comm_rank(comm);
  const auto& ds = a.dataset;
  const std::string dir = c.path("data");
  for (auto& sp : splits(ds)) refuse_existing(comm, dir + "/" + sp.name + ".nc", overwrite);
  if (rank == 0) fs::create_directories(dir);
  RunLog log(comm, c.path("logs") + "/dataset.log", true);
  auto grid = make_grid(comm, c);
  const size_t nx = size_t(c.grid.n[0]), ny = size_t(c.grid.n[1]);
  const auto t0 = std::chrono::steady_clock::now();
  ProgressMeter meter(log.sink(), "trajectory", ds.train + ds.valid + ds.test);
  long long done = 0;
  for (auto& sp : splits(ds)) {
    const std::string path = dir + "/" + sp.name + ".nc";
    const std::string part = path + ".part";
    std::unique_ptr<io::NetcdfFile> f;
    if (rank == 0) {
      std::error_code ec;
      fs::remove(part, ec);
      f = std::make_unique<io::NetcdfFile>(part, io::NetcdfFile::Mode::create);
      f->def_dim("trajectory", size_t(sp.count));
      f->def_dim("time", size_t(ds.frames + 1));
      f->def_dim("y", ny);
      f->def_dim("x", nx);
      f->def_var("x", "double", {"x"});
      f->def_var("y", "double", {"y"});
      f->def_var("time", "double", {"time"});
      f->def_var(io::dataset::kTracer, "double", {"trajectory", "time", "y", "x"}, 1,
                 {1, 1, ny, nx});
      f->def_var(io::dataset::kUFace, "double", {"trajectory", "y", "x"}, 1, {1, ny, nx});
      f->def_var(io::dataset::kVFace, "double", {"trajectory", "y", "x"}, 1, {1, ny, nx});
      f->def_var(io::dataset::kSeed, "int64", {"trajectory"});
      f->put_att("x", "units", "m");
      f->put_att("x", "long_name", "x coordinate of cell centre");
      f->put_att("x", "standard_name", "projection_x_coordinate");
      f->put_att("x", "axis", "X");
      f->put_att("y", "units", "m");
      f->put_att("y", "long_name", "y coordinate of cell centre");
      f->put_att("y", "standard_name", "projection_y_coordinate");
      f->put_att("y", "axis", "Y");
      f->put_att("time", "units", io::OutputSpec().time_units);
      f->put_att("time", "calendar", io::OutputSpec().calendar);
      f->put_att("time", "long_name", "time since the start of the trajectory");
      f->put_att("time", "standard_name", "time");
      f->put_att("time", "axis", "T");
      f->put_att(io::dataset::kTracer, "units", "1");
      f->put_att(io::dataset::kTracer, "long_name", "advected scalar (cell average)");
      f->put_att(io::dataset::kUFace, "units", "m s-1");
      f->put_att(io::dataset::kUFace, "long_name", "x velocity on the low x-face of each cell");
      f->put_att(io::dataset::kVFace, "units", "m s-1");
      f->put_att(io::dataset::kVFace, "long_name", "y velocity on the low y-face of each cell");
      f->put_att(io::dataset::kSeed, "units", "1");
      f->put_att(io::dataset::kSeed, "long_name", "initial-condition seed of the trajectory");
      f->put_att("", "Conventions", "CF-1.8");
      f->put_att("", "title", "Aeolus advection dataset, split " + std::string(sp.name));
      f->put_att("", "source", std::string("aeolus ") + AEOLUS_VERSION);
      f->put_att("", "case_name", c.name);
      f->put_att("", "config_hash", c.config_hash);
      f->put_att("", "split", sp.name);
      f->put_att("", "velocity_type", ds.velocity);
      f->put_att("", io::dataset::kDtFrame, ds.dt_frame);
      f->put_att("", "dx", grid->dx(0));
      f->put_att("", "dy", grid->dx(1));
      f->put_att("", "aeolus_complete", 0LL);
      f->end_def();
      std::vector<double> xs(nx), ys(ny), ts(size_t(ds.frames + 1));
      for (size_t i = 0; i < nx; ++i) xs[i] = grid->center(0, index_t(i));
      for (size_t j = 0; j < ny; ++j) ys[j] = grid->center(1, index_t(j));
      for (size_t k = 0; k < ts.size(); ++k) ts[k] = double(k) * ds.dt_frame;
      f->put("x", {}, {}, xs.data());
      f->put("y", {}, {}, ys.data());
      f->put("time", {}, {}, ts.data());
    }
    for (int n = 0; n < sp.count; ++n) {
      const std::uint64_t seed = ds.seed + sp.seed_offset + std::uint64_t(n);
      const auto vel = trajectory_velocity(a, seed);
      FvAdvectionStepper stepper(*grid, vel, a.scheme, c.time.cfl);
      Field q(*grid, "q"), uf(*grid, "u_face"), vf(*grid, "v_face");
      physics::fill_initial_condition(dataset_ic(a), seed, q);
      physics::fill_face_velocity(vel, 0, 0.0, uf);
      physics::fill_face_velocity(vel, 1, 0.0, vf);
      auto gu = uf.gather_to_root(), gv = vf.gather_to_root();
      if (rank == 0) {
        f->put(io::dataset::kUFace, {size_t(n), 0, 0}, {1, ny, nx}, gu.data());
        f->put(io::dataset::kVFace, {size_t(n), 0, 0}, {1, ny, nx}, gv.data());
        const long long s = (long long)seed;
        f->put(io::dataset::kSeed, {size_t(n)}, {1}, &s);
      }
      real_t t = 0;
      for (int k = 0; k <= ds.frames; ++k) {
        if (k > 0) advance_frame(stepper, q, t, ds.dt_frame);
        if (q.count_nonfinite() > 0) {
          throw NumericsError("dataset: non-finite q in split " + std::string(sp.name) +
                              ", trajectory " + std::to_string(n) + ", frame " + std::to_string(k));
        }
        auto g = q.gather_to_root();
        if (rank == 0)
          f->put(io::dataset::kTracer, {size_t(n), size_t(k), 0, 0}, {1, 1, ny, nx}, g.data());
      }
      ++done;
      if (meter.due(done)) {
        meter.emit(done, std::string(sp.name) + " " + std::to_string(n + 1) + "/" +
                             std::to_string(sp.count) + ", " + std::to_string(ds.frames + 1) +
                             " frames to t = " + fmt("%.4g", t));
      }
    }
    if (rank == 0) {
      f->redef();
      f->put_att("", "aeolus_complete", 1LL);
      f->end_def();
      f->close();
      fs::rename(part, path);
    }
    MPI_Barrier(comm);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    log.line("dataset " + std::string(sp.name) + ": " + std::to_string(sp.count) +
             " trajectories x " + std::to_string(ds.frames + 1) + " frames -> " + path + " (" +
             fmt("%.1f", wall) + " s so far)");
  }
}

void train_flux_cnn_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  require_2d_periodic(c, "train");
  const auto& a = c.settings_as<AdvectionCaseConfig>();
  const int rank = comm_rank(comm);
  const std::string model = c.path(c.model);
  refuse_existing(comm, model, overwrite);
  const std::string data = c.path("data");
  for (const char* s : {"train.nc", "valid.nc"}) {
    if (!fs::exists(data + "/" + s)) {
      throw IoError(data + "/" + s + " not found; run `aeolus dataset " + c.dir + "` first");
    }
  }
  // Training runs on rank 0 with emulator.threads threads (data-parallel training over MPI
  // comes with the CO2 emulators); other ranks wait.
  std::string error;
  if (rank == 0) {
    try {
      fs::create_directories(fs::path(model).parent_path());
      RunLog log(MPI_COMM_SELF, c.path("logs") + "/train.log", true);
      log.line("training " + model + " on " + data + " (" + std::to_string(a.training.threads) +
               " threads, up to " + std::to_string(a.training.epochs) + " epochs / " +
               fmt("%.1f", a.training.max_minutes) + " min)");
      const std::string csv = fs::path(model).replace_extension(".train.csv").string();
      auto rep = emulators::train_flux_cnn(a.emulator, a.training, data, model, csv, log.sink());
      std::ostringstream os;
      os << "trained " << rep.epochs << " epochs in " << fmt("%.1f", rep.seconds) << " s, "
         << rep.parameters << " parameters; loss " << fmt("%.3e", rep.first_train_loss) << " -> "
         << fmt("%.3e", rep.final_train_loss) << " (validation "
         << fmt("%.3e", rep.final_valid_loss) << "); model " << model << ", log " << csv;
      log.line(os.str());
      JsonRecord j;
      j.set_string("model", model);
      j.set_string("dataset", data);
      j.set_string("config_hash", c.config_hash);
      j.set_int("epochs", rep.epochs);
      j.set_number("seconds", rep.seconds);
      j.set_int("parameters", rep.parameters);
      j.set_number("first_train_loss", rep.first_train_loss);
      j.set_number("final_train_loss", rep.final_train_loss);
      j.set_number("final_valid_loss", rep.final_valid_loss);
      j.set_int("threads", a.training.threads);
      j.write_atomic(c.path("logs") + "/train.json");
    } catch (const Error& e) {
      error = e.what();
    }
  }
  // Rank 0's verdict on every rank, so that all throw the same error.
  error = io::broadcast_string(comm, error);
  if (!error.empty()) throw ModelError(error);
}

void evaluate_flux_cnn(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  require_2d_periodic(c, "eval");
  const auto& a = c.settings_as<AdvectionCaseConfig>();
  const int rank = comm_rank(comm);
  const std::string dir = c.path("eval");
  const std::string json = dir + "/metrics.json", ncpath = dir + "/metrics.nc";
  refuse_existing(comm, json, overwrite);
  refuse_existing(comm, ncpath, overwrite);
  auto grid = make_grid(comm, c);
  RunLog log(comm, c.path("logs") + "/eval.log", true);
  const int nt = a.eval.trajectories, ns = a.eval.steps;
  std::vector<double> r2(size_t(nt * ns)), rmse(size_t(nt * ns)), mass_err(size_t(nt * ns)),
      truth_mass_err(size_t(nt * ns));
  double dt_frame = 0;
  const auto w0 = std::chrono::steady_clock::now();
  double wall_classical = 0, wall_emulator = 0;
  ProgressMeter meter(log.sink(), "eval", (long long)nt * ns);
  for (int n = 0; n < nt; ++n) {
    // Held-out initial conditions and velocities: the test split's seeds.
    const std::uint64_t seed = a.dataset.seed + 200000 + std::uint64_t(n);
    const auto vel = trajectory_velocity(a, seed);
    FvAdvectionStepper classical(*grid, vel, a.scheme, c.time.cfl);
    auto emulator =
        emulators::make_flux_cnn_stepper(*grid, vel, c.path(c.model), grid->dx(0), grid->dx(1));
    Field truth(*grid, "q"), pred(*grid, "q");
    physics::fill_initial_condition(dataset_ic(a), seed, truth);
    pred.copy_owned_from(truth);
    const real_t m0 = truth.integral();
    real_t t_truth = 0, t_pred = 0;
    dt_frame = emulator->max_dt(pred, 0);
    if (std::abs(dt_frame - a.dataset.dt_frame) > 1e-12 * dt_frame) {
      throw ModelError(c.path(c.model) + ": model step " + fmt("%.9g", dt_frame) +
                       " differs from dataset.dt_frame = " + fmt("%.9g", a.dataset.dt_frame));
    }
    for (int k = 0; k < ns; ++k) {
      auto a = std::chrono::steady_clock::now();
      advance_frame(classical, truth, t_truth, dt_frame);
      auto b = std::chrono::steady_clock::now();
      real_t dt = dt_frame;
      emulator->step(pred, t_pred, dt);
      auto e = std::chrono::steady_clock::now();
      wall_classical += std::chrono::duration<double>(b - a).count();
      wall_emulator += std::chrono::duration<double>(e - b).count();
      if (pred.count_nonfinite() > 0) {
        throw NumericsError("eval: emulator produced non-finite values at step " +
                            std::to_string(k + 1) + " of trajectory " + std::to_string(n));
      }
      // Sums over owned cells, then global.
      auto tv = truth.view();
      auto pv = pred.view();
      double local[4] = {0, 0, 0, 0};  // sum e^2, sum truth, sum truth^2, count
      for (index_t j = 0; j < tv.ny; ++j)
        for (index_t i = 0; i < tv.nx; ++i) {
          const double d = pv(i, j) - tv(i, j);
          local[0] += d * d;
          local[1] += tv(i, j);
          local[2] += tv(i, j) * tv(i, j);
          local[3] += 1;
        }
      double g[4];
      MPI_Allreduce(local, g, 4, MPI_DOUBLE, MPI_SUM, comm);
      const double mean = g[1] / g[3];
      const double sst = g[2] - g[3] * mean * mean;
      const size_t idx = size_t(n * ns + k);
      r2[idx] = 1.0 - g[0] / sst;
      rmse[idx] = std::sqrt(g[0] / g[3]);
      mass_err[idx] = std::abs(pred.integral() - m0) / std::abs(m0);
      truth_mass_err[idx] = std::abs(truth.integral() - m0) / std::abs(m0);
      if (meter.due((long long)idx + 1)) {
        meter.emit((long long)idx + 1,
                   "trajectory " + std::to_string(n + 1) + "/" + std::to_string(nt) + ", step " +
                       std::to_string(k + 1) + "/" + std::to_string(ns) +
                       ", t = " + fmt("%.4g", t_pred) + ", R2 " + fmt("%.4f", r2[idx]));
      }
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  // Mean over trajectories at each step.
  const size_t steps = size_t(ns);
  std::vector<double> time(steps, 0.0), r2m(steps, 0.0), rmsem(steps, 0.0), massm(steps, 0.0);
  double worst_mass = 0;
  for (int k = 0; k < ns; ++k) {
    time[size_t(k)] = (k + 1) * dt_frame;
    for (int n = 0; n < nt; ++n) {
      const size_t idx = size_t(n * ns + k);
      r2m[size_t(k)] += r2[idx] / nt;
      rmsem[size_t(k)] += rmse[idx] / nt;
      massm[size_t(k)] = std::max(massm[size_t(k)], mass_err[idx]);
      worst_mass = std::max(worst_mass, mass_err[idx]);
    }
  }
  if (rank == 0) {
    fs::create_directories(dir);
    JsonRecord j;
    j.set_string("case", c.dir);
    j.set_string("model", c.path(c.model));
    j.set_string("metric_r2", "coefficient of determination 1 - SS_res/SS_tot over all cells");
    j.set_int("trajectories", nt);
    j.set_int("steps", ns);
    j.set_number("dt_frame", dt_frame);
    j.set_number("r2_final", r2m.back());
    j.set_number("rmse_final", rmsem.back());
    j.set_number("mass_rel_error_max", worst_mass);
    j.set_number("wall_seconds", wall);
    j.set_number("wall_seconds_classical", wall_classical);
    j.set_number("wall_seconds_emulator", wall_emulator);
    j.set_raw("time", json_array(time));
    j.set_raw("r2", json_array(r2m));
    j.set_raw("rmse", json_array(rmsem));
    j.set_raw("mass_rel_error", json_array(massm));
    j.write_atomic(json);

    const std::string part = ncpath + ".part";
    std::error_code ec;
    fs::remove(part, ec);
    {
      io::NetcdfFile f(part, io::NetcdfFile::Mode::create);
      f.def_dim("trajectory", size_t(nt));
      f.def_dim("time", size_t(ns));
      f.def_var("time", "double", {"time"});
      f.put_att("time", "units", io::OutputSpec().time_units);
      f.put_att("time", "calendar", io::OutputSpec().calendar);
      f.put_att("time", "long_name", "time since the initial state");
      f.put_att("time", "standard_name", "time");
      f.put_att("time", "axis", "T");
      struct V {
        const char* name;
        const char* units;
        const char* long_name;
        const std::vector<double>* data;
      };
      const V vars[] = {
          {"r2", "1", "coefficient of determination of the emulator vs the classical solver", &r2},
          {"rmse", "1", "root-mean-square error of q, emulator vs classical", &rmse},
          {"mass_rel_error", "1", "relative error of total mass of the emulator state", &mass_err},
          {"classical_mass_rel_error", "1", "relative error of total mass of the classical state",
           &truth_mass_err}};
      for (auto& v : vars) {
        f.def_var(v.name, "double", {"trajectory", "time"});
        f.put_att(v.name, "units", v.units);
        f.put_att(v.name, "long_name", v.long_name);
      }
      f.put_att("", "Conventions", "CF-1.8");
      f.put_att("", "title", "Aeolus emulator evaluation for case " + c.name);
      f.put_att("", "model", c.path(c.model));
      f.put_att("", "aeolus_complete", 1LL);
      f.end_def();
      f.put("time", {}, {}, time.data());
      for (auto& v : vars) f.put(v.name, {}, {}, v.data->data());
      f.close();
    }
    fs::rename(part, ncpath);
  }
  MPI_Barrier(comm);
  std::ostringstream os;
  os << "eval: " << nt << " held-out trajectories x " << ns << " emulator steps: R2 "
     << fmt("%.4f", r2m.back()) << ", RMSE " << fmt("%.3e", rmsem.back())
     << ", max relative mass error " << fmt("%.2e", worst_mass) << "; emulator "
     << fmt("%.2f", wall_emulator) << " s vs classical " << fmt("%.2f", wall_classical) << " s; -> "
     << json;
  log.line(os.str());
}

}  // namespace

namespace {

void set_initial_condition(const AdvectionCaseConfig& a, const CaseConfig& c, Field& q) {
  if (a.initial.params.type != "file") {
    physics::fill_initial_condition(a.initial.params, a.initial.seed, q);
    return;
  }
  read_initial_field(c.path(a.initial.file), a.initial.variable, "1",
                     "physics.initial_condition.variable", q);
}

// Linear advection on a Cartesian box: one field q.
class CartesianAdvectionModel : public CaseModel {
 public:
  CartesianAdvectionModel(const CaseConfig& c, const CartesianGrid& grid)
      : c_(c), a_(c.settings_as<AdvectionCaseConfig>()), q_(grid, "q") {}
  std::vector<Field*> fields() override { return {&q_}; }
  void describe_output(io::OutputSpec& spec) override {
    spec.fields = {{"q", "1", "advected scalar (cell average)", ""}};
    spec.scalars = {{"total_mass", "m2", "integral of q over the domain", ""},
                    {"q_min", "1", "minimum of q", ""},
                    {"q_max", "1", "maximum of q", ""}};
    if (c_.grid.dim == 1) spec.scalars[0].units = "m";
    if (c_.grid.dim == 3) spec.scalars[0].units = "m3";
    spec.attributes["velocity_type"] = a_.velocity.type;
    spec.attributes["reconstruction"] = a_.scheme.reconstruction;
    spec.attributes["time_integrator"] = a_.scheme.time_integrator;
  }
  void initialise() override { set_initial_condition(a_, c_, q_); }
  std::vector<double> frame_scalars(real_t) override { return {q_.integral(), q_.min(), q_.max()}; }
  real_t mass() override { return q_.integral(); }

 private:
  const CaseConfig& c_;
  const AdvectionCaseConfig& a_;
  Field q_;
};

class AdvectionCase : public TimeSteppingCase {
 public:
  std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) const override {
    CartesianGridParams p = c.grid;
    p.halo = fv_halo_width(c.settings_as<AdvectionCaseConfig>().scheme);
    return std::make_unique<CartesianGrid>(comm, p);
  }
  std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    const auto& a = c.settings_as<AdvectionCaseConfig>();
    if (name == "classical") {
      return std::make_unique<FvAdvectionStepper>(grid, a.velocity, a.scheme, c.time.cfl);
    }
    if (name == "emulator") {
      if (grid.dim() != 2) {
        throw ConfigError(c.file + ": the emulator stepper supports 2D grids only (grid.dim = " +
                          std::to_string(grid.dim()) + ")");
      }
      return emulators::make_flux_cnn_stepper(grid, a.velocity, c.path(c.model), grid.dx(0),
                                              grid.dx(1));
    }
    if (name == "torchscript") {
      emulators::TorchScriptStepperParams p = a.torchscript;
      if (!(p.dt > 0)) {
        throw ConfigError(c.file + ": the torchscript stepper needs torchscript.dt (s, the step " +
                          "the model was trained for)");
      }
      p.model = c.path(p.model);
      try {
        return emulators::make_torchscript_stepper(grid, p);
      } catch (const ConfigError& e) {
        throw ConfigError(c.file + ": " + e.what());
      }
    }
    throw ConfigError(c.file + ": unknown stepper '" + name + "' for an advection case");
  }
  std::unique_ptr<CaseModel> make_model(const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    return std::make_unique<CartesianAdvectionModel>(c, grid);
  }
  void dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    generate_flux_cnn_dataset(comm, c, overwrite);
  }
  void train(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    train_flux_cnn_case(comm, c, overwrite);
  }
  void eval(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    evaluate_flux_cnn(comm, c, overwrite);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("advection", AdvectionCase)

}  // namespace aeolus::app
