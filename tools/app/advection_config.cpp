#include "tools/app/advection_config.hpp"

#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "io/yaml_schema.hpp"
#include "tools/app/case_type.hpp"

namespace aeolus::app {

namespace {

using io::Range;

// A list of length dim (the grid's) from a YAML list, padded with the default for unused axes.
template <class T>
std::array<T, 3> pad3(const std::vector<T>& v, T fill) {
  std::array<T, 3> a{fill, fill, fill};
  for (size_t i = 0; i < v.size() && i < 3; ++i) a[i] = v[i];
  return a;
}

// The random-blob keys (physics.initial_condition and dataset share them), each *_max >= *_min.
void read_blobs(io::Section& s, physics::InitialConditionParams& p) {
  p.blobs_min = int(s.get_int("blobs_min", p.blobs_min, Range::closed(1, 1000)));
  p.blobs_max = int(s.get_int("blobs_max", p.blobs_max, Range::closed(1, 1000)));
  p.radius_min = s.get_double("radius_min", p.radius_min, Range::positive());
  p.radius_max = s.get_double("radius_max", p.radius_max, Range::positive());
  p.amplitude_min = s.get_double("amplitude_min", p.amplitude_min);
  p.amplitude_max = s.get_double("amplitude_max", p.amplitude_max);
  const auto check = [&](const char* what, double lo, double hi) {
    if (hi < lo) {
      std::ostringstream os;
      os << s.where(std::string(what) + "_max") << ": " << s.path() << "." << what
         << "_max = " << hi << " is below " << what << "_min = " << lo;
      throw ConfigError(os.str());
    }
  };
  check("blobs", p.blobs_min, p.blobs_max);
  check("radius", p.radius_min, p.radius_max);
  check("amplitude", p.amplitude_min, p.amplitude_max);
}

void read_grid(io::Section s, CaseConfig& c) {
  // latlon is the sphere case type's: listed so that a misspelt grid type gets it as a hint.
  s.get_choice("type", "cartesian", {"cartesian", "latlon"});
  auto& g = c.grid;
  read_box(s, g, 1);
  const size_t d = size_t(g.dim);
  auto per = s.get_bools("periodic", std::vector<bool>(d, true), d, d);
  g.periodic = {true, true, true};
  for (size_t i = 0; i < d; ++i) g.periodic[i] = per[i];
  s.finish();
}

void read_physics(io::Section s, CaseConfig& c, AdvectionCaseConfig& a) {
  c.equation = s.get_choice("equation", "advection", {"advection"});
  const size_t d = size_t(c.grid.dim);
  {
    auto v = s.section("velocity");
    auto& p = a.velocity;
    p.type = v.get_choice("type", p.type, {"constant", "rotating"});
    auto u = v.get_doubles("u", std::vector<double>(p.u.begin(), p.u.begin() + d), d, d);
    p.u = pad3<double>(u, 0.0);
    p.omega = v.get_double("omega", p.omega);
    std::vector<double> mid(d);
    for (size_t i = 0; i < d; ++i) mid[i] = 0.5 * (c.grid.lo[i] + c.grid.hi[i]);
    p.center = pad3<double>(v.get_doubles("center", mid, d, d), 0.0);
    if (p.type == "rotating" && c.grid.dim < 2) {
      throw ConfigError(v.where("type") +
                        ": physics.velocity.type = 'rotating' needs grid.dim >= 2");
    }
    v.finish();
  }
  {
    auto v = s.section("initial_condition");
    auto& ic = a.initial;
    auto& p = ic.params;
    p.type = v.get_choice("type", p.type,
                          {"gaussian", "cosine_bell", "square", "sine", "random_blobs", "file"});
    std::vector<double> mid(d);
    for (size_t i = 0; i < d; ++i) mid[i] = 0.5 * (c.grid.lo[i] + c.grid.hi[i]);
    p.center = pad3<double>(v.get_doubles("center", mid, d, d), 0.0);
    p.radius = v.get_double("radius", p.radius, Range::positive());
    p.amplitude = v.get_double("amplitude", p.amplitude);
    p.background = v.get_double("background", p.background);
    p.wavenumber = int(v.get_int("wavenumber", p.wavenumber, Range::closed(1, 1e6)));
    read_blobs(v, p);
    ic.seed = std::uint64_t(v.get_int("seed", (long long)ic.seed, Range::non_negative()));
    ic.file = v.get_string("file", ic.file);
    ic.variable = v.get_string("variable", ic.variable);
    if (p.type == "file" && ic.file.empty()) {
      throw ConfigError(
          v.where("type") +
          ": physics.initial_condition.type = 'file' needs physics.initial_condition.file");
    }
    v.finish();
  }
  s.finish();
}

class AdvectionReader : public CaseReader {
 public:
  std::string name() const override { return "advection"; }
  std::vector<std::string> equations() const override { return {"advection"}; }
  // The default case type: no physics.equation, on any grid but the sphere's (a misspelt
  // grid.type reaches read_grid's hint).
  bool recognises(const CaseKind& k) const override {
    return (k.equation.empty() || k.equation == "advection") && k.grid_type != "latlon";
  }
  void read(io::Section& root, CaseConfig& c) const override {
    auto settings = std::make_shared<AdvectionCaseConfig>();
    auto& a = *settings;
    read_grid(root.section("grid"), c);
    read_physics(root.section("physics"), c, a);
    {
      auto s = root.section("stepper");
      c.stepper = s.get_choice("type", c.stepper, stepper_names());
      auto sc = s.section("scheme");
      a.scheme.reconstruction =
          sc.get_choice("reconstruction", a.scheme.reconstruction, fv_reconstruction_names());
      a.scheme.time_integrator =
          sc.get_choice("time_integrator", a.scheme.time_integrator, fv_time_integrator_names());
      sc.finish();
      s.finish();
    }
    {
      auto s = root.section("time");
      c.time.t_end = s.require_double("t_end", Range::positive());
      const double max_cfl = fv_max_cfl(a.scheme);
      c.time.cfl = s.get_double("cfl", c.time.cfl, Range{0.0, max_cfl, true, false});
      c.time.dt_max = s.get_double("dt_max", c.time.dt_max, Range::non_negative());
      c.time.max_steps = s.get_int("max_steps", c.time.max_steps, Range::closed(1, 1e15));
      s.finish();
    }
    read_run_sections(root, c, c.time.t_end / 10, c.checkpoint.every_steps, c.progress_every);
    {
      auto s = root.section("emulator");
      c.model = s.get_string("model", c.model);
      auto& e = a.emulator;
      e.output = s.get_choice("output", e.output, {"flux", "state"});
      e.mass_fixer = s.get_choice("mass_fixer", e.mass_fixer, {"none", "scale", "shift"});
      if (e.output == "state" && e.mass_fixer == "none") {
        throw ConfigError(s.where("mass_fixer") +
                          ": emulator.output = 'state' needs emulator.mass_fixer = scale or shift");
      }
      e.channels = int(s.get_int("channels", e.channels, Range::closed(1, 4096)));
      e.layers = int(s.get_int("layers", e.layers, Range::closed(1, 64)));
      e.stencil = int(s.get_int("stencil", e.stencil, Range::closed(2, 32)));
      e.threads = int(s.get_int("threads", e.threads, Range::closed(1, 1024)));
      e.limiter = s.get_choice("limiter", e.limiter, {"fct", "none"});
      e.inputs = s.get_choice("inputs", e.inputs, {"courant", "courant+q"});
      if (e.limiter == "fct" && e.output != "flux") {
        throw ConfigError(s.where("limiter") +
                          ": emulator.limiter = 'fct' needs emulator.output = " +
                          "'flux' (set emulator.limiter: none for output: state)");
      }
      auto t = s.section("training");
      auto& tp = a.training;
      tp.epochs = int(t.get_int("epochs", tp.epochs, Range::closed(1, 1e7)));
      tp.batch_size = int(t.get_int("batch_size", tp.batch_size, Range::closed(1, 1e6)));
      tp.learning_rate = t.get_double("learning_rate", tp.learning_rate, Range::positive());
      tp.rollout_steps = int(t.get_int("rollout_steps", tp.rollout_steps, Range::closed(1, 1000)));
      tp.rollout_epochs =
          int(t.get_int("rollout_epochs", tp.rollout_epochs, Range::closed(0, 1e7)));
      tp.stability_weight =
          t.get_double("stability_weight", tp.stability_weight, Range::non_negative());
      tp.mirror = t.get_bool("mirror", tp.mirror);
      tp.seed = std::uint64_t(t.get_int("seed", (long long)tp.seed, Range::non_negative()));
      tp.threads = e.threads;
      tp.max_minutes = t.get_double("max_minutes", tp.max_minutes, Range::positive());
      t.finish();
      s.finish();
    }
    {
      // stepper.type torchscript: a TorchScript model (emulators/torchscript_stepper.hpp has its
      // contract); the defaults are TorchScriptStepperParams'. dt is required with that stepper
      // (also given by --stepper torchscript: make_stepper refuses a missing one).
      auto s = root.section("torchscript");
      auto& p = a.torchscript;
      p.model = s.get_string("model", p.model);
      p.halo = int(s.get_int("halo", p.halo, Range::closed(0, 1024)));
      p.output = s.get_choice("output", p.output, {"increment", "state"});
      if (c.stepper == "torchscript" || s.has("dt")) {
        p.dt = s.require_double("dt", Range::positive());
      }
      p.mass_fixer = s.get_choice("mass_fixer", p.mass_fixer, {"none", "scale", "shift"});
      p.threads = int(s.get_int("threads", p.threads, Range::closed(1, 1024)));
      if (p.model.empty()) {
        throw ConfigError(s.where("model") + ": torchscript.model is empty; expected a " +
                          "TorchScript file (relative to the case directory)");
      }
      s.finish();
    }
    {
      auto s = root.section("dataset");
      auto& ds = a.dataset;
      ds.train = int(s.get_int("train", ds.train, Range::closed(1, 1e7)));
      ds.valid = int(s.get_int("valid", ds.valid, Range::closed(1, 1e7)));
      ds.test = int(s.get_int("test", ds.test, Range::closed(1, 1e7)));
      ds.frames = int(s.get_int("frames", ds.frames, Range::closed(1, 1e7)));
      ds.dt_frame = s.get_double("dt_frame", ds.dt_frame, Range::positive());
      ds.seed = std::uint64_t(s.get_int("seed", (long long)ds.seed, Range::non_negative()));
      ds.velocity = s.get_choice("velocity", ds.velocity, {"case", "random_constant"});
      ds.speed_min = s.get_double("speed_min", ds.speed_min, Range::non_negative());
      ds.speed_max = s.get_double("speed_max", ds.speed_max, Range::non_negative());
      auto& b = ds.blobs;
      b.type = "random_blobs";
      b.background = s.get_double("background", b.background);
      read_blobs(s, b);
      if (ds.speed_max < ds.speed_min) {
        throw ConfigError(s.where("speed_max") + ": dataset.speed_max is below dataset.speed_min");
      }
      s.finish();
    }
    {
      auto s = root.section("eval");
      a.eval.trajectories =
          int(s.get_int("trajectories", a.eval.trajectories, Range::closed(1, 1e6)));
      a.eval.steps = int(s.get_int("steps", a.eval.steps, Range::closed(1, 1e9)));
      s.finish();
    }
    c.settings = std::move(settings);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(AdvectionReader)

// The case type's built-in steppers beyond classical and emulator, for the schema's choices of
// stepper.type and --stepper (made by AdvectionCase::make_stepper).
namespace {
const bool advection_torchscript_stepper_named = (register_stepper_name("torchscript"), true);
}  // namespace

}  // namespace aeolus::app
