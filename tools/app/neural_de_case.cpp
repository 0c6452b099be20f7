#include "tools/app/neural_de_case.hpp"

#include <chrono>
#include <filesystem>
#include <functional>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;
using io::Range;

namespace {

bool is_ode(const CaseConfig& c) { return c.equation == "neural_ode"; }

std::array<double, 2> pair(io::Section& s, const std::string& key, std::array<double, 2> def) {
  const auto v = s.get_doubles(key, {def[0], def[1]}, 2, 2);
  return {v[0], v[1]};
}

// A library check that throws ConfigError gets the case file in front of its message.
void with_file(const CaseConfig& c, const std::function<void()>& check) {
  try {
    check();
  } catch (const ConfigError& e) {
    throw ConfigError(c.file + ": " + e.what());
  }
}

void read_ode(io::Section& root, CaseConfig& c) {
  auto& n = c.neural;
  {
    auto s = root.section("physics");
    s.get_choice("equation", "neural_ode", {"neural_ode", "neural_sde"});
    auto sp = s.section("spiral");
    auto& p = n.ode;
    p.points = int(sp.get_int("points", p.points, Range::closed(3, 1e8)));
    p.t_end = sp.get_double("t_end", p.t_end, Range::positive());
    p.y0 = pair(sp, "y0", p.y0);
    p.y0_test = pair(sp, "y0_test", p.y0_test);
    p.noise = sp.get_double("noise", p.noise, Range::non_negative());
    p.seed = std::uint64_t(sp.get_int("seed", (long long)p.seed, Range::non_negative()));
    p.rtol = sp.get_double("rtol", p.rtol, Range::positive());
    p.atol = sp.get_double("atol", p.atol, Range::positive());
    sp.finish();
    s.finish();
  }
  {
    auto s = root.section("model");
    auto& m = n.ode_model;
    std::vector<long long> hidden(m.hidden.begin(), m.hidden.end());
    hidden = s.get_ints("hidden", hidden, 0, 64, Range::closed(1, 1e6));
    m.hidden.assign(hidden.begin(), hidden.end());
    m.activation = s.get_choice("activation", m.activation, {"tanh", "relu", "softplus", "silu"});
    m.cube_input = s.get_bool("cube_input", m.cube_input);
    m.method = s.get_choice("method", m.method, {"bs3", "dopri5", "tsit5", "dop853"});
    m.rtol = s.get_double("rtol", m.rtol, Range::positive());
    m.atol = s.get_double("atol", m.atol, Range::positive());
    s.finish();
  }
  {
    auto s = root.section("training");
    auto& t = n.ode_training;
    t.iterations = int(s.get_int("iterations", t.iterations, Range::closed(1, 1e9)));
    t.batch_time = int(s.get_int("batch_time", t.batch_time, Range::closed(2, 1e8)));
    t.batch_size = int(s.get_int("batch_size", t.batch_size, Range::closed(1, 1e8)));
    t.optimizer = s.get_choice("optimizer", t.optimizer, {"rmsprop", "adam"});
    t.learning_rate = s.get_double("learning_rate", t.learning_rate, Range::positive());
    t.gradient = s.get_choice("gradient", t.gradient, {"backprop", "adjoint"});
    t.adjoint_seminorm = s.get_bool("adjoint_seminorm", t.adjoint_seminorm);
    t.regulariser = s.get_choice("regulariser", t.regulariser, {"none", "ernode", "srnode"});
    t.lambda0 = s.get_double("lambda0", t.lambda0, Range::non_negative());
    t.lambda_decay = s.get_double("lambda_decay", t.lambda_decay, Range{0.0, 1.0, true, false});
    t.seed = std::uint64_t(s.get_int("seed", (long long)t.seed, Range::non_negative()));
    t.threads = int(s.get_int("threads", t.threads, Range::closed(1, 1024)));
    t.log_every = int(s.get_int("log_every", t.log_every, Range::closed(1, 1e9)));
    s.finish();
  }
  {
    auto s = root.section("eval");
    auto& e = n.ode_predict;
    e.threads = int(s.get_int("threads", e.threads, Range::closed(1, 1024)));
    e.repeats = int(s.get_int("repeats", e.repeats, Range::closed(1, 1e6)));
    s.finish();
  }
  with_file(c, [&] {
    emulators::check_spiral_ode_params(n.ode);
    emulators::check_neural_ode_params(n.ode_model, n.ode_training, n.ode);
  });
  c.model = "models/neural_ode.pt";
}

// The spiral SDE's noise is multiplicative (diagonal), so the additive-noise methods do not
// apply to it.
SdeMethod sde_method(io::Section& s, const std::string& key, SdeMethod def) {
  const std::string name = s.get_choice(key, sde_method_name(def), sde_method_names());
  const SdeMethod m = sde_method_from_name(name, key);
  if (sde_method_needs_additive_noise(m)) {
    throw ConfigError(s.where(key) + ": " + key + " = " + name +
                      " needs additive noise; the spiral SDE's noise is multiplicative "
                      "(diagonal): use euler_maruyama, milstein, rk_milstein or sriw1");
  }
  return m;
}

void read_sde(io::Section& root, CaseConfig& c) {
  auto& n = c.neural;
  {
    auto s = root.section("physics");
    s.get_choice("equation", "neural_sde", {"neural_ode", "neural_sde"});
    auto sp = s.section("spiral");
    auto& p = n.sde;
    p.y0 = pair(sp, "y0", p.y0);
    const auto a = sp.get_doubles("a", {p.a[0], p.a[1], p.a[2], p.a[3]}, 4, 4);
    for (size_t i = 0; i < 4; ++i) p.a[i] = a[i];
    p.sigma = pair(sp, "sigma", p.sigma);
    p.t_end = sp.get_double("t_end", p.t_end, Range::positive());
    p.observations = int(sp.get_int("observations", p.observations, Range::closed(2, 1e7)));
    p.paths = int(sp.get_int("paths", p.paths, Range::closed(2, 1e9)));
    p.method = sde_method(sp, "method", p.method);
    p.dt = sp.get_double("dt", p.dt, Range::positive());
    p.seed = std::uint64_t(sp.get_int("seed", (long long)p.seed, Range::non_negative()));
    sp.finish();
    s.finish();
  }
  auto& t = n.sde_training;
  {
    auto s = root.section("model");
    t.drift_hidden = int(s.get_int("drift_hidden", t.drift_hidden, Range::closed(1, 1e6)));
    t.diffusion_hidden =
        int(s.get_int("diffusion_hidden", t.diffusion_hidden, Range::closed(1, 1e6)));
    t.method = sde_method(s, "method", t.method);
    t.adaptive = s.get_bool("adaptive", t.adaptive);
    t.dt = s.get_double("dt", t.dt, Range::positive());
    t.rtol = s.get_double("rtol", t.rtol, Range::positive());
    t.atol = s.get_double("atol", t.atol, Range::positive());
    t.dtype = s.get_choice("dtype", t.dtype, {"float32", "float64"});
    s.finish();
  }
  {
    auto s = root.section("training");
    t.iterations = int(s.get_int("iterations", t.iterations, Range::closed(1, 1e9)));
    t.learning_rate = s.get_double("learning_rate", t.learning_rate, Range::positive());
    t.batch_paths = int(s.get_int("batch_paths", t.batch_paths, Range::closed(2, 1e8)));
    t.eval_paths = int(s.get_int("eval_paths", t.eval_paths, Range::closed(2, 1e8)));
    t.seed = std::uint64_t(s.get_int("seed", (long long)t.seed, Range::non_negative()));
    t.threads = int(s.get_int("threads", t.threads, Range::closed(1, 1024)));
    t.regulariser = s.get_choice("regulariser", t.regulariser, {"none", "ernode", "srnode"});
    t.lambda0 = s.get_double("lambda0", t.lambda0, Range::non_negative());
    t.lambda_decay = s.get_double("lambda_decay", t.lambda_decay, Range{0.0, 1.0, true, false});
    // The regularisers act on the adaptive solver's estimates (emulators/neural_sde.hpp).
    if (t.regulariser != "none" && !t.adaptive)
      throw ConfigError(s.where("regulariser") + ": training.regulariser = " + t.regulariser +
                        " needs model.adaptive: true (it regularises the adaptive SRIW1 solve's "
                        "error or stiffness estimate)");
    s.finish();
  }
  {
    auto s = root.section("eval");
    n.eval_paths = int(s.get_int("paths", n.eval_paths, Range::closed(2, 1e9)));
    n.eval_seed = std::uint64_t(s.get_int("seed", (long long)n.eval_seed, Range::non_negative()));
    s.finish();
  }
  c.model = "models/neural_sde.pt";
}

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

bool is_neural_de_case(io::Section& root) {
  const std::string e = peek_equation(root);
  return e == "neural_ode" || e == "neural_sde";
}

void load_neural_de_case(io::Section& root, CaseConfig& c) {
  {
    auto ph = root.section("physics");
    c.equation = ph.get_string("equation", "");
  }
  if (is_ode(c)) {
    read_ode(root, c);
  } else {
    read_sde(root, c);
  }
}

void generate_neural_de_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string path = c.path("data/spiral.nc");
  refuse_existing(path, overwrite);
  RunLog log(comm, c.path("logs") + "/dataset.log", true);
  const auto t0 = std::chrono::steady_clock::now();
  on_rank0(comm, [&] {
    if (is_ode(c)) {
      const auto d = emulators::make_spiral_ode_data(c.neural.ode);
      write_series(path, c, "Aeolus spiral ODE data, case " + c.name, d.t,
                   {{"y_observed", "training observations (truth plus noise)", &d.y},
                    {"y_true", "truth dy/dt = (y^3) A from y0", &d.y_clean},
                    {"y_test", "held-out truth from y0_test", &d.y_test}},
                   {{"noise", c.neural.ode.noise}});
    } else {
      const auto m = emulators::spiral_sde_moments(c.neural.sde);
      const auto mean = flatten(m.mean), var = flatten(m.variance);
      write_series(path, c, "Aeolus spiral SDE ensemble moments, case " + c.name, m.t,
                   {{"mean", "ensemble mean of X", &mean},
                    {"variance", "unbiased ensemble variance of X", &var}},
                   {{"paths", double(c.neural.sde.paths)}, {"dt", c.neural.sde.dt}});
    }
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log.line("aeolus dataset " + c.name + ": " + path + " in " + fmt("%.2f", s) + " s");
}

void train_neural_de_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string model = c.path(c.model);
  refuse_existing(model, overwrite);
  RunLog log(comm, c.path("logs") + "/train.log", true);
  on_rank0(comm, [&] {
    fs::create_directories(fs::path(model).parent_path());
    if (is_ode(c)) {
      const auto& t = c.neural.ode_training;
      log.line("aeolus train " + c.name + ": neural ODE, " + std::to_string(t.iterations) +
               " iterations, gradient " + t.gradient + (t.adjoint_seminorm ? " (seminorm)" : "") +
               ", regulariser " + t.regulariser + ", " + std::to_string(t.threads) + " threads");
      const auto data = emulators::make_spiral_ode_data(c.neural.ode);
      const auto r = emulators::train_spiral_ode(data, c.neural.ode_model, t, model, log.sink());
      log.line("done: " + std::to_string(r.iterations) + " iterations in " +
               fmt("%.1f", r.seconds) + " s (" + fmt("%.2f", r.seconds_per_iteration * 1e3) +
               " ms each), loss " + fmt("%.4e", r.initial_loss) + " -> " +
               fmt("%.4e", r.final_loss) + ", forward NFE " + fmt("%.1f", r.mean_nfe) +
               (t.gradient == "adjoint" ? ", backward NFE " + fmt("%.1f", r.mean_backward_nfe)
                                        : std::string()) +
               ", " + std::to_string(r.parameters) + " parameters -> " + model);
    } else {
      const auto& t = c.neural.sde_training;
      log.line("aeolus train " + c.name + ": neural SDE, " + std::to_string(t.iterations) +
               " iterations, " + sde_method_name(t.method) +
               (t.adaptive ? " adaptive" : " fixed step") + ", " + std::to_string(t.batch_paths) +
               " paths per iteration, regulariser " + t.regulariser);
      const auto r = emulators::train_spiral_sde(c.neural.sde, t, model, log.sink());
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
  refuse_existing(nc, overwrite);
  refuse_existing(json, overwrite);
  RunLog log(comm, c.path("logs") + "/eval.log", true);
  on_rank0(comm, [&] {
    JsonRecord m;
    m.set_string("case", c.dir);
    m.set_string("model", model);
    m.set_string("git_hash", AEOLUS_GIT_HASH);
    if (is_ode(c)) {
      const auto data = emulators::make_spiral_ode_data(c.neural.ode);
      auto p = c.neural.ode_predict;
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
      const auto p = emulators::predict_spiral_sde(model, c.neural.eval_paths, c.neural.eval_seed,
                                                   c.neural.sde_training.threads);
      const auto mm = flatten(p.model.mean), mv = flatten(p.model.variance);
      const auto dm = flatten(p.data.mean), dv = flatten(p.data.variance);
      write_series(nc, c, "Aeolus neural SDE moments, case " + c.name, p.model.t,
                   {{"mean_model", "mean of the learned SDE's sample paths", &mm},
                    {"variance_model", "variance of the learned SDE's sample paths", &mv},
                    {"mean_data", "mean of the true SDE's ensemble", &dm},
                    {"variance_data", "variance of the true SDE's ensemble", &dv}},
                   {{"paths", double(c.neural.eval_paths)}});
      m.set_number("loss", p.loss);
      m.set_number("mean_error", p.mean_error);
      m.set_number("variance_error", p.variance_error);
      m.set_int("drift_evaluations", p.nf);
      m.set_int("diffusion_evaluations", p.ng);
      m.set_int("steps", p.steps);
      m.set_int("rejected", p.rejected);
      m.set_number("seconds", p.seconds);
      log.line("learned SDE, " + std::to_string(c.neural.eval_paths) + " paths: loss " +
               fmt("%.4e", p.loss) + ", max mean error " + fmt("%.4e", p.mean_error) +
               ", max variance error " + fmt("%.4e", p.variance_error) + ", " +
               std::to_string(p.steps) + " steps, " + fmt("%.3f", p.seconds) + " s");
    }
    m.write_atomic(json);
  });
  log.line("eval: " + nc + ", " + json);
}

}  // namespace aeolus::app
