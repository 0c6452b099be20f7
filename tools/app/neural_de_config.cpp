#include "tools/app/neural_de_config.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "io/yaml_schema.hpp"
#include "tools/app/case_type.hpp"

namespace aeolus::app {

namespace {

using io::Range;

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

// aeolus run: the spiral from y0 to t_end through the time loop, `samples` equally spaced
// samples (the data's points or observation times), with the true right-hand side (stepper
// classical) or the trained network (emulator); a neural SDE case steps an ensemble of
// stepper.paths sample paths, its noise seeded from stepper.seed.
void read_spiral_run(io::Section& root, CaseConfig& c, NeuralDeCaseConfig& n, real_t t_end,
                     int samples) {
  {
    auto s = root.section("stepper");
    c.stepper = s.get_choice("type", c.stepper, {"classical", "emulator"});
    if (!is_ode(c)) {
      n.run_paths = int(s.get_int("paths", n.run_paths, Range::closed(2, 1e7)));
      n.run_seed = std::uint64_t(s.get_int("seed", (long long)n.run_seed, Range::non_negative()));
    }
    s.finish();
  }
  c.time.t_end = t_end;
  c.output.interval = t_end / real_t(samples - 1);
  c.output.file = "trajectory.nc";
  {
    auto s = root.section("output");
    read_output_file(s, c);
    s.finish();
  }
  {
    auto s = root.section("checkpoint");
    c.checkpoint.every_steps = s.get_int("every_steps", 100000, Range::closed(1, 1e15));
    c.checkpoint.keep = int(s.get_int("keep", c.checkpoint.keep, Range::closed(1, 1000)));
    s.finish();
  }
}

void read_ode(io::Section& root, CaseConfig& c, NeuralDeCaseConfig& cfg) {
  auto& n = cfg;
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
  read_spiral_run(root, c, n, n.ode.t_end, n.ode.points);
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

void read_sde(io::Section& root, CaseConfig& c, NeuralDeCaseConfig& cfg) {
  auto& n = cfg;
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
  read_spiral_run(root, c, n, n.sde.t_end, n.sde.observations);
}

void load_neural_de_case(io::Section& root, CaseConfig& c) {
  auto settings = std::make_shared<NeuralDeCaseConfig>();
  auto& cfg = *settings;
  {
    auto ph = root.section("physics");
    c.equation = ph.get_string("equation", "");
  }
  if (is_ode(c)) {
    read_ode(root, c, cfg);
  } else {
    read_sde(root, c, cfg);
  }
  c.settings = std::move(settings);
}

class NeuralDeReader : public CaseReader {
 public:
  std::string name() const override { return "neural_de"; }
  std::vector<std::string> equations() const override { return {"neural_ode", "neural_sde"}; }
  bool recognises(const CaseKind& k) const override {
    return k.equation == "neural_ode" || k.equation == "neural_sde";
  }
  void read(io::Section& root, CaseConfig& c) const override { load_neural_de_case(root, c); }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(NeuralDeReader)

}  // namespace aeolus::app
