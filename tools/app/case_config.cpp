#include "tools/app/case_config.hpp"

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "io/yaml_schema.hpp"
#include "solvers/sphere_kernels.hpp"
#include "tools/app/co2_case.hpp"
#include "tools/app/elliptic_case.hpp"
#include "tools/app/hamiltonian_case.hpp"
#include "tools/app/neural_de_case.hpp"
#include "tools/app/pinn_case.hpp"
#include "tools/app/sphere_case.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;
using io::Range;

std::string fnv1a64_hex(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string CaseConfig::path(const std::string& rel) const {
  fs::path p(rel);
  if (p.is_absolute()) return p.string();
  return (fs::path(dir) / p).lexically_normal().string();
}

void read_box(io::Section& s, CartesianGridParams& g, long long min_n) {
  g.dim = int(s.get_int("dim", 2, Range::closed(1, 3)));
  const size_t d = size_t(g.dim);
  auto n = s.get_ints("n", std::vector<long long>(d, 64), d, d, Range::closed(double(min_n), 1e9));
  auto lo = s.get_doubles("lo", std::vector<double>(d, 0.0), d, d);
  auto hi = s.get_doubles("hi", std::vector<double>(d, 1.0), d, d);
  g.n = {1, 1, 1};
  g.lo = {0.0, 0.0, 0.0};
  g.hi = {1.0, 1.0, 1.0};
  for (size_t i = 0; i < d; ++i) g.n[i] = n[i], g.lo[i] = lo[i], g.hi[i] = hi[i];
  for (size_t i = 0; i < d; ++i) {
    if (!(g.hi[i] > g.lo[i])) {
      std::ostringstream os;
      os << s.where("hi") << ": grid.hi[" << i << "] = " << g.hi[i] << " must exceed grid.lo[" << i
         << "] = " << g.lo[i];
      throw ConfigError(os.str());
    }
  }
  auto procs = s.get_ints("procs", std::vector<long long>(d, 0), d, d, Range::closed(0, 1e6));
  g.procs = {0, 0, 0};
  for (size_t i = 0; i < d; ++i) g.procs[i] = int(procs[i]);
}

namespace {

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
  c.grid_type = s.get_choice("type", c.grid_type, {"cartesian", "latlon"});
  if (c.grid_type == "latlon") {
    read_sphere_grid(s, c);
    s.finish();
    return;
  }
  auto& g = c.grid;
  read_box(s, g, 1);
  const size_t d = size_t(g.dim);
  auto per = s.get_bools("periodic", std::vector<bool>(d, true), d, d);
  g.periodic = {true, true, true};
  for (size_t i = 0; i < d; ++i) g.periodic[i] = per[i];
  s.finish();
}

void read_physics(io::Section s, CaseConfig& c) {
  if (c.grid_type == "latlon") {
    c.equation = s.get_choice("equation", "transport", {"transport"});
    read_sphere_physics(s, c);
    s.finish();
    return;
  }
  // Elliptic, Hamiltonian and neural-DE cases were dispatched before (load_elliptic_case, ...);
  // they are listed so that a misspelt equation gets them as hints.
  c.equation = s.get_choice("equation", "advection",
                            {"advection", "elliptic", "hamiltonian", "neural_ode", "neural_sde",
                             "pinn", "co2_transport"});
  const size_t d = size_t(c.grid.dim);
  {
    auto v = s.section("velocity");
    auto& p = c.velocity;
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
    auto& ic = c.initial;
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

}  // namespace

void read_run_sections(io::Section& root, CaseConfig& c, real_t interval, long long every_steps,
                       long long progress_every) {
  {
    auto s = root.section("output");
    c.output.interval = s.get_double("interval", interval, Range::positive());
    c.output.file = s.get_string("file", c.output.file);
    if (c.output.file.find('/') != std::string::npos || c.output.file.empty()) {
      throw ConfigError(s.where("file") + ": output.file = '" + c.output.file +
                        "' must be a plain file name (it is written under output/)");
    }
    s.finish();
  }
  {
    auto s = root.section("checkpoint");
    c.checkpoint.every_steps = s.get_int("every_steps", every_steps, Range::closed(1, 1e15));
    c.checkpoint.keep = int(s.get_int("keep", c.checkpoint.keep, Range::closed(1, 1000)));
    s.finish();
  }
  {
    auto s = root.section("log");
    c.progress_every = s.get_int("progress_every", progress_every, Range::closed(1, 1e15));
    c.progress_seconds =
        s.get_double("progress_seconds", c.progress_seconds, Range{0.0, 86400.0, true, false});
    s.finish();
  }
}

std::string peek_equation(io::Section& root) {
  if (!root.has("physics")) return "";
  auto ph = root.section("physics");
  return ph.has("equation") ? ph.get_string("equation", "") : "";
}

CaseConfig load_case(const std::string& case_dir) {
  CaseConfig c;
  fs::path dir(case_dir);
  if (!fs::is_directory(dir)) {
    throw ConfigError(case_dir + ": not a case directory (expected a directory with case.yaml)");
  }
  c.dir = fs::absolute(dir).lexically_normal().string();
  if (!c.dir.empty() && c.dir.back() == '/') c.dir.pop_back();
  c.name = fs::path(c.dir).filename().string();
  c.file = (fs::path(c.dir) / "case.yaml").string();
  auto doc = io::Document::load_file(c.file);
  c.config_hash = fnv1a64_hex(doc->text());
  auto root = doc->root();
  c.description = root.get_string("description", c.description);
  // Cases that are not field advection/transport have their own loaders, chosen by
  // physics.equation.
  using Loader = void (*)(io::Section&, CaseConfig&);
  const std::pair<bool (*)(io::Section&), Loader> loaders[] = {
      {is_pinn_case, load_pinn_case},
      {is_co2_case, load_co2_case},
      {is_neural_de_case, load_neural_de_case},
      {is_hamiltonian_case, load_hamiltonian_case},
      {is_elliptic_case, load_elliptic_case}};
  for (const auto& [is, load] : loaders) {
    if (!is(root)) continue;
    load(root, c);
    root.finish();
    c.resolved_yaml = doc->resolved_yaml();
    return c;
  }

  read_grid(root.section("grid"), c);
  read_physics(root.section("physics"), c);

  {
    auto s = root.section("stepper");
    c.stepper = s.get_choice("type", c.stepper, stepper_names());
    auto sc = s.section("scheme");
    if (c.grid_type == "latlon") {
      auto& p = c.sphere.scheme;
      p.reconstruction =
          sc.get_choice("reconstruction", p.reconstruction, sphere_reconstruction_names());
      p.limiter = sc.get_choice("limiter", p.limiter, sphere_limiter_names());
      try {
        sphere_scheme_from_params(p);
      } catch (const ConfigError& e) {
        throw ConfigError(sc.where("limiter") + ": " + e.what());
      }
    } else {
      c.scheme.reconstruction =
          sc.get_choice("reconstruction", c.scheme.reconstruction, fv_reconstruction_names());
      c.scheme.time_integrator =
          sc.get_choice("time_integrator", c.scheme.time_integrator, fv_time_integrator_names());
    }
    sc.finish();
    s.finish();
  }
  {
    auto s = root.section("time");
    c.time.t_end = s.require_double("t_end", Range::positive());
    // Latitude-longitude: the meridional Courant number (the zonal one may exceed 1).
    const double max_cfl = c.grid_type == "latlon" ? 1.0 : fv_max_cfl(c.scheme);
    c.time.cfl = s.get_double("cfl", c.time.cfl, Range{0.0, max_cfl, true, false});
    c.time.dt_max = s.get_double("dt_max", c.time.dt_max, Range::non_negative());
    c.time.max_steps = s.get_int("max_steps", c.time.max_steps, Range::closed(1, 1e15));
    s.finish();
  }
  read_run_sections(root, c, c.time.t_end / 10, c.checkpoint.every_steps, c.progress_every);
  if (c.grid_type == "latlon") read_sphere_diagnostics(root.section("diagnostics"), c);
  {
    auto s = root.section("emulator");
    c.model = s.get_string("model", c.model);
    auto& e = c.emulator;
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
      throw ConfigError(s.where("limiter") + ": emulator.limiter = 'fct' needs emulator.output = " +
                        "'flux' (set emulator.limiter: none for output: state)");
    }
    auto t = s.section("training");
    auto& tp = c.training;
    tp.epochs = int(t.get_int("epochs", tp.epochs, Range::closed(1, 1e7)));
    tp.batch_size = int(t.get_int("batch_size", tp.batch_size, Range::closed(1, 1e6)));
    tp.learning_rate = t.get_double("learning_rate", tp.learning_rate, Range::positive());
    tp.rollout_steps = int(t.get_int("rollout_steps", tp.rollout_steps, Range::closed(1, 1000)));
    tp.rollout_epochs = int(t.get_int("rollout_epochs", tp.rollout_epochs, Range::closed(0, 1e7)));
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
    auto s = root.section("dataset");
    auto& ds = c.dataset;
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
    c.eval.trajectories =
        int(s.get_int("trajectories", c.eval.trajectories, Range::closed(1, 1e6)));
    c.eval.steps = int(s.get_int("steps", c.eval.steps, Range::closed(1, 1e9)));
    s.finish();
  }
  root.finish();
  c.resolved_yaml = doc->resolved_yaml();
  return c;
}

}  // namespace aeolus::app
