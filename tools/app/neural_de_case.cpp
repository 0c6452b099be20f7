#include "tools/app/neural_de_case.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"
#include "io/netcdf_file.hpp"
#include "physics/spiral_ode.hpp"
#include "solvers/ode_stepper.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/neural_de_config.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/series_output.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

const NeuralDeCaseConfig& nde(const CaseConfig& c) { return c.settings_as<NeuralDeCaseConfig>(); }

// A (time[, component]) series for write_series.
struct Series {
  std::string name, long_name;
  const std::vector<double>* values;  // time-major, `components` per time (0: scalar series)
  int components = 2;
};

// CF-1.8 file of series over one time axis; written to path.part and renamed.
void write_series(const std::string& path, const CaseConfig& c, const std::string& title,
                  const std::vector<double>& t, const std::vector<Series>& series,
                  const std::vector<std::pair<std::string, double>>& attributes) {
  fs::create_directories(fs::path(path).parent_path());
  const std::string part = path + ".part";
  fs::remove(part);
  {
    io::NetcdfFile f(part, io::NetcdfFile::Mode::create);
    f.def_dim("time", t.size());
    f.def_dim("component", 2);
    f.def_var("time", "double", {"time"});
    f.put_att("time", "units", "1");
    f.put_att("time", "long_name", "time (nondimensional)");
    for (const auto& s : series) {
      f.def_var(s.name, "double",
                s.components ? std::vector<std::string>{"time", "component"}
                             : std::vector<std::string>{"time"});
      f.put_att(s.name, "units", "1");
      f.put_att(s.name, "long_name", s.long_name);
    }
    f.put_att("", "Conventions", "CF-1.8");
    f.put_att("", "title", title);
    f.put_att("", "source", std::string("aeolus ") + AEOLUS_VERSION + " (" + AEOLUS_GIT_HASH + ")");
    f.put_att("", "case", c.name);
    f.put_att("", "config_hash", c.config_hash);
    for (const auto& [k, v] : attributes) f.put_att("", k, v);
    f.end_def();
    f.put("time", {}, {}, t.data());
    for (const auto& s : series) f.put(s.name, {}, {}, s.values->data());
    f.close();
  }
  fs::rename(part, path);
}

std::vector<double> flatten(const std::vector<std::array<double, 2>>& v) {
  std::vector<double> out;
  out.reserve(2 * v.size());
  for (const auto& a : v) out.insert(out.end(), a.begin(), a.end());
  return out;
}

}  // namespace

namespace {

void generate_neural_de_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string path = c.path("data/spiral.nc");
  refuse_existing(comm, path, overwrite);
  RunLog log(comm, c.path("logs") + "/dataset.log", true);
  const auto t0 = std::chrono::steady_clock::now();
  on_rank0(comm, [&] {
    if (is_ode(c)) {
      const auto d = emulators::make_spiral_ode_data(nde(c).ode);
      write_series(path, c, "Aeolus spiral ODE data, case " + c.name, d.t,
                   {{"y_observed", "training observations (truth plus noise)", &d.y},
                    {"y_true", "truth dy/dt = (y^3) A from y0", &d.y_clean},
                    {"y_test", "held-out truth from y0_test", &d.y_test}},
                   {{"noise", nde(c).ode.noise}});
    } else {
      const auto m = emulators::spiral_sde_moments(nde(c).sde);
      const auto mean = flatten(m.mean), var = flatten(m.variance);
      write_series(path, c, "Aeolus spiral SDE ensemble moments, case " + c.name, m.t,
                   {{"mean", "ensemble mean of X", &mean},
                    {"variance", "unbiased ensemble variance of X", &var}},
                   {{"paths", double(nde(c).sde.paths)}, {"dt", nde(c).sde.dt}});
    }
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log.line("aeolus dataset " + c.name + ": " + path + " in " + fmt("%.2f", s) + " s");
}

void train_neural_de_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string model = c.path(c.model);
  refuse_existing(comm, model, overwrite);
  RunLog log(comm, c.path("logs") + "/train.log", true);
  on_rank0(comm, [&] {
    fs::create_directories(fs::path(model).parent_path());
    if (is_ode(c)) {
      const auto& t = nde(c).ode_training;
      log.line("aeolus train " + c.name + ": neural ODE, " + std::to_string(t.iterations) +
               " iterations, gradient " + t.gradient + (t.adjoint_seminorm ? " (seminorm)" : "") +
               ", regulariser " + t.regulariser + ", " + std::to_string(t.threads) + " threads");
      const auto data = emulators::make_spiral_ode_data(nde(c).ode);
      const auto r = emulators::train_spiral_ode(data, nde(c).ode_model, t, model, log.sink());
      log.line("done: " + std::to_string(r.iterations) + " iterations in " +
               fmt("%.1f", r.seconds) + " s (" + fmt("%.2f", r.seconds_per_iteration * 1e3) +
               " ms each), loss " + fmt("%.4e", r.initial_loss) + " -> " +
               fmt("%.4e", r.final_loss) + ", forward NFE " + fmt("%.1f", r.mean_nfe) +
               (t.gradient == "adjoint" ? ", backward NFE " + fmt("%.1f", r.mean_backward_nfe)
                                        : std::string()) +
               ", " + std::to_string(r.parameters) + " parameters -> " + model);
    } else {
      const auto& t = nde(c).sde_training;
      log.line("aeolus train " + c.name + ": neural SDE, " + std::to_string(t.iterations) +
               " iterations, " + sde_method_name(t.method) +
               (t.adaptive ? " adaptive" : " fixed step") + ", " + std::to_string(t.batch_paths) +
               " paths per iteration, regulariser " + t.regulariser);
      const auto r = emulators::train_spiral_sde(nde(c).sde, t, model, log.sink());
      log.line("done: data " + fmt("%.1f", r.data_seconds) + " s, training " +
               fmt("%.1f", r.seconds) + " s, loss " + fmt("%.4e", r.initial_loss) + " -> " +
               fmt("%.4e", r.final_loss) + ", " + fmt("%.1f", r.nfe_per_solve) +
               " evaluations per solve" +
               (r.regs.empty() ? std::string() : ", last R " + fmt("%.4e", r.regs.back())) + ", " +
               std::to_string(r.parameters) + " parameters -> " + model);
    }
  });
}

void evaluate_neural_de_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string model = c.path(c.model);
  if (!fs::exists(model)) {
    throw IoError(model + " not found; run `aeolus train " + c.dir + "` first");
  }
  const std::string nc = c.path("eval/prediction.nc"), json = c.path("eval/metrics.json");
  refuse_existing(comm, nc, overwrite);
  refuse_existing(comm, json, overwrite);
  RunLog log(comm, c.path("logs") + "/eval.log", true);
  on_rank0(comm, [&] {
    JsonRecord m;
    m.set_string("case", c.dir);
    m.set_string("model", model);
    m.set_string("git_hash", AEOLUS_GIT_HASH);
    if (is_ode(c)) {
      const auto data = emulators::make_spiral_ode_data(nde(c).ode);
      auto p = nde(c).ode_predict;
      p.held_out = false;
      const auto a = emulators::predict_spiral_ode(model, data, p);
      p.held_out = true;
      const auto b = emulators::predict_spiral_ode(model, data, p);
      write_series(nc, c, "Aeolus neural ODE rollouts, case " + c.name, a.t,
                   {{"y_true", "truth from y0", &a.y_true},
                    {"y_pred", "neural ODE rollout from y0", &a.y_pred},
                    {"y_test_true", "held-out truth from y0_test", &b.y_true},
                    {"y_test_pred", "neural ODE rollout from y0_test", &b.y_pred}},
                   {});
      for (const auto& [name, r] : {std::make_pair("", &a), std::make_pair("held_out_", &b)}) {
        m.set_number(std::string(name) + "relative_l2", r->relative_l2);
        m.set_int(std::string(name) + "nfe", r->nfe);
        m.set_int(std::string(name) + "steps", r->steps);
        m.set_int(std::string(name) + "rejected", r->rejected);
        m.set_number(std::string(name) + "seconds", r->seconds);
        log.line(std::string(*name ? "held-out start" : "from y0") + ": relative L2 error " +
                 fmt("%.4e", r->relative_l2) + ", NFE " + std::to_string(r->nfe) + " (" +
                 std::to_string(r->steps) + " steps, " + std::to_string(r->rejected) +
                 " rejected), rollout " + fmt("%.3f", r->seconds * 1e3) + " ms");
      }
    } else {
      const auto p = emulators::predict_spiral_sde(model, nde(c).eval_paths, nde(c).eval_seed,
                                                   nde(c).sde_training.threads);
      const auto mm = flatten(p.model.mean), mv = flatten(p.model.variance);
      const auto dm = flatten(p.data.mean), dv = flatten(p.data.variance);
      write_series(nc, c, "Aeolus neural SDE moments, case " + c.name, p.model.t,
                   {{"mean_model", "mean of the learned SDE's sample paths", &mm},
                    {"variance_model", "variance of the learned SDE's sample paths", &mv},
                    {"mean_data", "mean of the true SDE's ensemble", &dm},
                    {"variance_data", "variance of the true SDE's ensemble", &dv}},
                   {{"paths", double(nde(c).eval_paths)}});
      m.set_number("loss", p.loss);
      m.set_number("mean_error", p.mean_error);
      m.set_number("variance_error", p.variance_error);
      m.set_int("drift_evaluations", p.nf);
      m.set_int("diffusion_evaluations", p.ng);
      m.set_int("steps", p.steps);
      m.set_int("rejected", p.rejected);
      m.set_number("seconds", p.seconds);
      log.line("learned SDE, " + std::to_string(nde(c).eval_paths) + " paths: loss " +
               fmt("%.4e", p.loss) + ", max mean error " + fmt("%.4e", p.mean_error) +
               ", max variance error " + fmt("%.4e", p.variance_error) + ", " +
               std::to_string(p.steps) + " steps, " + fmt("%.3f", p.seconds) + " s");
    }
    m.write_atomic(json);
  });
  log.line("eval: " + nc + ", " + json);
}

// The spiral's right-hand side on the classical solvers' state type.
std::vector<double> spiral_rhs_vector(double, const std::vector<double>& y) {
  std::vector<double> dydt(2);
  physics::spiral_rhs(y.data(), dydt.data());
  return dydt;
}

// The truth at the samples of a run: the spiral from y0 through the times the time loop lands on
// (k * interval, and t_end last), in one solve with dense output at the data's tolerances.
std::vector<double> spiral_truth_at_samples(const emulators::SpiralOdeParams& p, real_t interval) {
  std::vector<double> t(size_t(p.points));
  for (size_t k = 0; k + 1 < t.size(); ++k) t[k] = real_t(k) * interval;
  t.back() = p.t_end;
  AdaptiveParams truth;
  truth.rtol = p.rtol;
  truth.atol = p.atol;
  const auto sol =
      solve_adaptive(spiral_rhs_vector, t, std::vector<double>{p.y0[0], p.y0[1]}, truth);
  std::vector<double> out;
  for (const auto& y : sol.y) out.insert(out.end(), y.begin(), y.end());
  return out;
}

// A run of the spiral ODE: the state y, its samples at the output times and their error against
// the truth (the spiral integrated from y0 at the data's tolerances, physics.spiral.rtol/atol).
class SpiralOdeModel : public SeriesModel {
 public:
  using SeriesModel::SeriesModel;

  SeriesFileSpec series_file(const io::OutputSpec& spec) override {
    const auto& p = nde(c_).ode;
    SeriesFileSpec f;
    f.path = spec.path;
    f.samples = size_t(p.points);
    f.time_long_name = "time (nondimensional)";
    f.series = {{"y", "1", "state y of dy/dt = (y^3) A", "component", 2},
                {"y_true", "1", "truth from y0 (physics.spiral.rtol, atol)", "component", 2},
                {"error", "1", "|y - y_true|", "", 0}};
    f.text_attributes = run_file_attributes(c_);
    f.text_attributes.push_back({"stepper", spec.attributes.at("stepper")});
    return f;
  }
  void initialise() override {
    const auto& y0 = nde(c_).ode.y0;
    state_.data()[0] = y0[0];
    state_.data()[1] = y0[1];
  }
  // |y|^2: not conserved (the spiral decays), but the progress line shows the state's size.
  real_t mass() override {
    return state_.data()[0] * state_.data()[0] + state_.data()[1] * state_.data()[1];
  }
  std::string total_name() const override { return "norm2"; }
  // The relative L2 error over every sample (as `aeolus eval`'s relative_l2 over the data's
  // times) and the final error.
  void diagnose(real_t, bool last, std::map<std::string, double>& out) override {
    if (!last || !out_ || out_->times().empty()) return;
    const auto& y = out_->values(0);
    const auto& yt = out_->values(1);
    double num = 0, den = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      num += (y[i] - yt[i]) * (y[i] - yt[i]);
      den += yt[i] * yt[i];
    }
    out["relative_l2"] = std::sqrt(num / den);
    out["error_final"] = out_->values(2).back();
  }

 private:
  void sample(real_t, std::vector<double>& row) override {
    const size_t k = out_->times().size();
    if (truth_.empty()) truth_ = spiral_truth_at_samples(nde(c_).ode, c_.output.interval);
    if (k >= truth_.size() / 2) throw std::logic_error("spiral run: more samples than points");
    row[0] = state_.data()[0];
    row[1] = state_.data()[1];
    row[2] = truth_[2 * k];
    row[3] = truth_[2 * k + 1];
    row[4] = std::hypot(row[0] - row[2], row[1] - row[3]);
  }

  std::vector<double> truth_;  // (points, 2): the truth at every sample time
};

// A run of the spiral SDE: an ensemble of stepper.paths sample paths; at each observation time
// its mean and variance, those of the data's ensemble (physics.spiral: paths, method, dt, seed)
// and the first path.
class SpiralSdeModel : public SeriesModel {
 public:
  using SeriesModel::SeriesModel;

  SeriesFileSpec series_file(const io::OutputSpec& spec) override {
    SeriesFileSpec f;
    f.path = spec.path;
    f.samples = size_t(nde(c_).sde.observations);
    f.time_long_name = "time (nondimensional)";
    f.series = {{"mean", "1", "ensemble mean of X (stepper.paths paths)", "component", 2},
                {"variance", "1", "unbiased ensemble variance of X", "component", 2},
                {"mean_data", "1", "ensemble mean of the data (physics.spiral.paths paths)",
                 "component", 2},
                {"variance_data", "1", "unbiased ensemble variance of the data", "component", 2},
                {"path_0", "1", "the first sample path", "component", 2}};
    f.text_attributes = run_file_attributes(c_);
    f.text_attributes.push_back({"stepper", spec.attributes.at("stepper")});
    f.number_attributes = {{"paths", double(nde(c_).run_paths)},
                           {"seed", double(nde(c_).run_seed)}};
    return f;
  }
  void initialise() override {
    const auto& y0 = nde(c_).sde.y0;
    const index_t n = state_.grid().local_cells() / 2;
    for (index_t q = 0; q < n; ++q) {
      state_.data()[2 * q] = y0[0];
      state_.data()[2 * q + 1] = y0[1];
    }
  }
  // The ensemble mean of |X|^2 (not conserved: the progress line shows the ensemble's size).
  real_t mass() override {
    const index_t n = state_.grid().local_cells();
    double s = 0;
    for (index_t i = 0; i < n; ++i) s += state_.data()[i] * state_.data()[i];
    return s / double(n / 2);
  }
  std::string total_name() const override { return "mean_norm2"; }
  // The largest differences of the ensemble's moments from the data's over every sample (as
  // `aeolus eval`'s mean_error and variance_error).
  void diagnose(real_t, bool last, std::map<std::string, double>& out) override {
    if (!last || !out_ || out_->times().empty()) return;
    const auto max_diff = [](const std::vector<double>& a, const std::vector<double>& b) {
      double m = 0;
      for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
      return m;
    };
    out["mean_error"] = max_diff(out_->values(0), out_->values(2));
    out["variance_error"] = max_diff(out_->values(1), out_->values(3));
  }

 private:
  void sample(real_t, std::vector<double>& row) override {
    const size_t k = out_->times().size();
    if (!data_)
      data_ =
          std::make_unique<emulators::SpiralMoments>(emulators::spiral_sde_moments(nde(c_).sde));
    if (k >= data_->t.size()) throw std::logic_error("spiral SDE run: more samples than times");
    const index_t n = state_.grid().local_cells() / 2;
    const real_t* x = state_.data();
    double mean[2] = {0, 0}, var[2] = {0, 0};
    for (index_t q = 0; q < n; ++q) {
      for (int i = 0; i < 2; ++i) mean[i] += x[2 * q + i];
    }
    for (int i = 0; i < 2; ++i) mean[i] /= double(n);
    for (index_t q = 0; q < n; ++q) {
      for (int i = 0; i < 2; ++i) var[i] += (x[2 * q + i] - mean[i]) * (x[2 * q + i] - mean[i]);
    }
    for (int i = 0; i < 2; ++i) var[i] /= double(n - 1);
    const double values[10] = {mean[0],
                               mean[1],
                               var[0],
                               var[1],
                               data_->mean[k][0],
                               data_->mean[k][1],
                               data_->variance[k][0],
                               data_->variance[k][1],
                               x[0],
                               x[1]};
    std::copy(values, values + 10, row.begin());
  }

  std::unique_ptr<emulators::SpiralMoments> data_;  // the data's moments, made at the first sample
};

// The spiral experiments: data, training and evaluation, and a run through the common time loop
// (rank 0: the state is 2 numbers, or an ensemble of a few thousand): stepper classical steps the
// true spiral (the ODE with dopri5 at physics.spiral.rtol/atol; the SDE's paths with the data's
// method and step), stepper emulator the trained network.
class NeuralDeCase : public TimeSteppingCase {
 public:
  bool steps_on_root() const override { return true; }
  std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) const override {
    return std::make_unique<CartesianGrid>(
        comm, small_state_grid(is_ode(c) ? 2 : 2 * index_t(nde(c).run_paths)));
  }
  std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                        const CartesianGrid&) const override {
    if (name != "classical" && name != "emulator") {
      throw ConfigError(c.file + ": stepper '" + name + "' is not a stepper of a " + c.equation +
                        " case (expected classical or emulator)");
    }
    const bool emulator = name == "emulator";
    if (!is_ode(c)) {
      const auto& n = nde(c);
      return emulator ? emulators::make_neural_sde_stepper(c.path(c.model), n.run_paths, n.run_seed,
                                                           c.output.interval)
                      : emulators::make_spiral_sde_stepper(n.sde, n.run_paths, n.run_seed,
                                                           c.output.interval);
    }
    if (emulator) return emulators::make_neural_ode_stepper(c.path(c.model), nde(c).ode_predict);
    AdaptiveParams p;
    p.rtol = nde(c).ode.rtol;
    p.atol = nde(c).ode.atol;
    return std::make_unique<AdaptiveOdeStepper<std::vector<double>>>(
        "classical", "spiral dy/dt = (y^3) A", spiral_rhs_vector, std::vector<double>(2), p);
  }
  std::unique_ptr<CaseModel> make_model(const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    if (is_ode(c)) return std::make_unique<SpiralOdeModel>(c, grid);
    return std::make_unique<SpiralSdeModel>(c, grid);
  }
  void dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    generate_neural_de_dataset(comm, c, overwrite);
  }
  void train(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    train_neural_de_case(comm, c, overwrite);
  }
  void eval(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    evaluate_neural_de_case(comm, c, overwrite);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("neural_de", NeuralDeCase)

}  // namespace aeolus::app
