#include "tools/app/neural_de_case.hpp"

#include <chrono>
#include <filesystem>
#include <functional>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/neural_de_config.hpp"
#include "tools/app/run_log.hpp"
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

// The spiral experiments: data, training and evaluation; no field to step.
class NeuralDeCase : public CaseCommands {
 public:
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
