#include "tools/app/co2_config.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include "emulators/co2_models.hpp"
#include "emulators/co2_training.hpp"
#include "emulators/device.hpp"
#include "grids/error.hpp"
#include "grids/format.hpp"
#include "io/yaml_schema.hpp"
#include "solvers/sphere_kernels.hpp"
#include "tools/app/case_type.hpp"

namespace aeolus::app {

using io::Range;

// case.yaml: one reader per section, in the order load_co2_case reads them (the resolved YAML
// lists the keys in that order).

namespace {

// A validator's ConfigError, prefixed with where the section is.
template <class Params>
void validate_in(const io::Section& s, const Params& p) {
  try {
    physics::validate(p);
  } catch (const ConfigError& e) {
    throw ConfigError(s.where() + ": " + e.what());
  }
}

void read_grid(io::Section& root, SphereGridParams& g) {
  auto s = root.section("grid");
  s.get_choice("type", "latlon", {"latlon"});
  g.nlat = s.get_int("nlat", g.nlat, Range::closed(2, 1e6));
  g.nlon = s.get_int("nlon", g.nlon, Range::closed(2, 1e6));
  g.nlev = s.get_int("nlev", g.nlev, Range::closed(2, 1e4));
  g.radius = s.get_double("radius", g.radius, Range::positive());
  g.procs = int(s.get_int("procs", g.procs, Range::closed(0, 1e6)));
  s.finish();
}

void read_meteorology(io::Section& physics, physics::Co2MetParams& m) {
  auto s = physics.section("meteorology");
  m.seed = std::uint64_t(s.get_int("seed", (long long)m.seed, Range::non_negative()));
  m.mean_surface_pressure =
      s.get_double("mean_surface_pressure", m.mean_surface_pressure, Range::positive());
  m.jet_speed = s.get_double("jet_speed", m.jet_speed, Range::non_negative());
  m.trade_wind_speed = s.get_double("trade_wind_speed", m.trade_wind_speed, Range::non_negative());
  m.wave_count = int(s.get_int("wave_count", m.wave_count, Range::closed(0, 32)));
  m.wave_speed = s.get_double("wave_speed", m.wave_speed, Range::non_negative());
  m.hadley_strength = s.get_double("hadley_strength", m.hadley_strength, Range::non_negative());
  m.tide_amplitude = s.get_double("tide_amplitude", m.tide_amplitude, Range::non_negative());
  m.ps_relaxation_time =
      s.get_double("ps_relaxation_time", m.ps_relaxation_time, Range::positive());
  s.finish();
  validate_in(s, m);
}

void read_fluxes(io::Section& physics, physics::Co2FluxParams& f) {
  auto s = physics.section("fluxes");
  f.seed = std::uint64_t(s.get_int("seed", (long long)f.seed, Range::non_negative()));
  f.fossil_gtc_per_year = s.get_double("fossil_gtc_per_year", f.fossil_gtc_per_year);
  f.ocean_gtc_per_year = s.get_double("ocean_gtc_per_year", f.ocean_gtc_per_year);
  f.biosphere_amplitude =
      s.get_double("biosphere_amplitude", f.biosphere_amplitude, Range::non_negative());
  f.biosphere_diurnal_amplitude = s.get_double(
      "biosphere_diurnal_amplitude", f.biosphere_diurnal_amplitude, Range::non_negative());
  f.fossil_seasonal = s.get_double("fossil_seasonal", f.fossil_seasonal);
  f.fossil_diurnal = s.get_double("fossil_diurnal", f.fossil_diurnal);
  f.ocean_seasonal = s.get_double("ocean_seasonal", f.ocean_seasonal);
  s.finish();
  validate_in(s, f);
}

void read_mixing(io::Section& physics, physics::Co2MixingParams& m) {
  auto s = physics.section("mixing");
  m.boundary_layer_time =
      s.get_double("boundary_layer_time", m.boundary_layer_time, Range::positive());
  m.convective_time = s.get_double("convective_time", m.convective_time, Range::non_negative());
  m.convective_top_sigma =
      s.get_double("convective_top_sigma", m.convective_top_sigma, Range{0.0, 1.0, true, false});
  m.scale_height = s.get_double("scale_height", m.scale_height, Range::positive());
  s.finish();
  validate_in(s, m);
}

void read_physics(io::Section& root, Co2CaseConfig& p) {
  auto ph = root.section("physics");
  ph.get_choice("equation", "co2_transport", {"co2_transport"});
  p.initial_ppmv = ph.get_double("initial_ppmv", p.initial_ppmv, Range::positive());
  read_meteorology(ph, p.met);
  read_fluxes(ph, p.fluxes);
  read_mixing(ph, p.mixing);
  ph.finish();
}

void read_stepper(io::Section& root, CaseConfig& c, Co2CaseConfig& cfg) {
  auto& p = cfg;
  auto s = root.section("stepper");
  c.stepper = s.get_choice("type", "classical", {"classical", "emulator"});
  p.hybrid_days = s.get_double("hybrid_days", p.hybrid_days, Range::non_negative());
  auto sc = s.section("scheme");
  auto& sp = p.scheme;
  sp.reconstruction =
      sc.get_choice("reconstruction", sp.reconstruction, sphere_reconstruction_names());
  sp.limiter = sc.get_choice("limiter", sp.limiter, sphere_limiter_names());
  try {
    sphere_scheme_from_params(sp);
  } catch (const ConfigError& e) {
    throw ConfigError(sc.where("limiter") + ": " + e.what());
  }
  sc.finish();
  s.finish();
}

void read_time(io::Section& root, CaseConfig& c, Co2CaseConfig& cfg) {
  auto& p = cfg;
  auto s = root.section("time");
  p.cfl = s.get_double("cfl", p.cfl, Range{0.0, 1.0, true, false});
  p.max_substep = s.get_double("max_substep", p.max_substep, Range::positive());
  c.time.t_end = s.get_double("t_end", 90 * 86400.0, Range::positive());  // aeolus run
  c.time.max_steps = s.get_int("max_steps", c.time.max_steps, Range::closed(1, 1e15));
  s.finish();
}

void read_dataset(io::Section& root, Co2CaseConfig& p) {
  auto s = root.section("dataset");
  const double hours =
      s.get_double("sample_hours", p.sample_interval / 3600.0, Range{0.0, 24.0, true, true});
  p.sample_interval = hours * 3600.0;
  const double per_day = 86400.0 / p.sample_interval;
  if (std::abs(per_day - std::round(per_day)) > 1e-9) {
    throw ConfigError(s.where("sample_hours") + ": dataset.sample_hours = " + fmt("%g", hours) +
                      ", expected a divisor of 24 (whole samples per day)");
  }
  p.spinup_days = int(s.get_int("spinup_days", p.spinup_days, Range::closed(0, 36500)));
  p.train_years = int(s.get_int("train_years", p.train_years, Range::closed(1, 1000)));
  p.valid_years = int(s.get_int("valid_years", p.valid_years, Range::closed(0, 1000)));
  p.test_years = int(s.get_int("test_years", p.test_years, Range::closed(0, 1000)));
  p.deflate = int(s.get_int("deflate", p.deflate, Range::closed(0, 9)));
  p.file_days = int(s.get_int("file_days", p.file_days, Range::closed(1, 365)));
  p.data_dir = s.get_string("directory", p.data_dir);
  if (p.data_dir.empty()) {
    throw ConfigError(s.where("directory") + ": dataset.directory is empty; expected a " +
                      "directory relative to the case (default data)");
  }
  s.finish();
}

void read_model_inputs(io::Section& model, emulators::Co2InputParams& inputs) {
  auto in = model.section("inputs");
  inputs.fields3d = in.get_choices(
      "fields3d", inputs.fields3d, 0, 8,
      {"u", "v", "omega", "airmass", "airmass_next", "u_next", "v_next", "omega_next"});
  inputs.fields2d = in.get_choices(
      "fields2d", inputs.fields2d, 0, 6,
      {"blh", "tisr", "co2flux_land", "co2flux_ocean", "co2flux_anthro", "cell_area"});
  inputs.co2_products = in.get_choices("co2_products", inputs.co2_products, 0, 6,
                                       {"u", "v", "omega", "u_next", "v_next", "omega_next"});
  in.finish();
}

void read_unet(io::Section& model, emulators::Co2UnetParams& unet) {
  auto u = model.section("unet");
  unet.base_channels = int(u.get_int("base_channels", unet.base_channels, Range::closed(1, 1e5)));
  unet.max_channels = int(u.get_int("max_channels", unet.max_channels, Range::closed(1, 1e5)));
  unet.depth = int(u.get_int("depth", unet.depth, Range::closed(0, 10)));
  unet.blocks = int(u.get_int("blocks", unet.blocks, Range::closed(1, 100)));
  unet.lat_padding = u.get_choice("lat_padding", unet.lat_padding, {"fold", "replicate"});
  u.finish();
}

void read_swin(io::Section& model, emulators::Co2SwinParams& swin) {
  auto w = model.section("swin");
  swin.embed_dim = int(w.get_int("embed_dim", swin.embed_dim, Range::closed(1, 1e5)));
  swin.depth = int(w.get_int("depth", swin.depth, Range::closed(1, 1000)));
  swin.heads = int(w.get_int("heads", swin.heads, Range::closed(1, 1000)));
  swin.window_lat = int(w.get_int("window_lat", swin.window_lat, Range::closed(1, 1e4)));
  swin.window_lon = int(w.get_int("window_lon", swin.window_lon, Range::closed(1, 1e4)));
  swin.patch = int(w.get_int("patch", swin.patch, Range::closed(1, 64)));
  swin.mlp_ratio = w.get_double("mlp_ratio", swin.mlp_ratio, Range::positive());
  w.finish();
}

// The model's sizes start from its preset; the grid and the sample interval fix its shape.
void read_model(io::Section& root, CaseConfig& c, Co2CaseConfig& cfg) {
  auto& p = cfg;
  auto s = root.section("model");
  const std::string preset =
      s.get_choice("preset", "cpu_small", emulators::co2_model_preset_names());
  auto m = emulators::co2_model_preset(preset);
  m.arch = s.get_choice("arch", m.arch, {"unet", "swin"});
  m.conservation =
      s.get_choice("conservation", m.conservation, {"fixer_scale", "fixer_shift", "flux_form"});
  m.threads = int(s.get_int("threads", m.threads, Range::closed(1, 1024)));
  p.model_device = s.get_string("device", p.model_device);
  read_model_inputs(s, m.inputs);
  read_unet(s, m.unet);
  read_swin(s, m.swin);
  s.finish();
  m.inputs.nlev = int(p.grid.nlev), m.inputs.nlat = int(p.grid.nlat);
  m.inputs.nlon = int(p.grid.nlon);
  m.dt = p.sample_interval;
  try {
    emulators::check_co2_model_params(m, "model");
    emulators::check_device_name(p.model_device, "model.device");
  } catch (const ConfigError& e) {
    throw ConfigError(c.file + ": " + e.what());
  }
  p.model = m;
}

void read_training(io::Section& root, CaseConfig& c, Co2CaseConfig& cfg) {
  auto s = root.section("training");
  auto& t = cfg.training;
  t.epochs = int(s.get_int("epochs", t.epochs, Range::closed(0, 1e6)));
  t.batch_size = int(s.get_int("batch_size", t.batch_size, Range::closed(1, 1e6)));
  t.learning_rate = s.get_double("learning_rate", t.learning_rate, Range::positive());
  t.weight_decay = s.get_double("weight_decay", t.weight_decay, Range::non_negative());
  t.schedule = s.get_choice("schedule", t.schedule, {"cosine", "constant"});
  t.min_lr_fraction = s.get_double("min_lr_fraction", t.min_lr_fraction, Range::closed(0.0, 1.0));
  t.seed = std::uint64_t(s.get_int("seed", (long long)t.seed, Range::non_negative()));
  t.threads = int(s.get_int("threads", t.threads, Range::closed(1, 1024)));
  t.device = s.get_string("device", t.device);
  t.samples_per_epoch = s.get_int("samples_per_epoch", t.samples_per_epoch, Range::closed(0, 1e12));
  t.valid_samples = s.get_int("valid_samples", t.valid_samples, Range::closed(0, 1e12));
  t.rollout_steps = int(s.get_int("rollout_steps", t.rollout_steps, Range::closed(1, 1e4)));
  t.rollout_epochs = int(s.get_int("rollout_epochs", t.rollout_epochs, Range::closed(0, 1e6)));
  t.rollout_learning_rate =
      s.get_double("rollout_learning_rate", t.rollout_learning_rate, Range::positive());
  t.rollout_batch_size =
      int(s.get_int("rollout_batch_size", t.rollout_batch_size, Range::closed(0, 1e6)));
  t.train_through_fixer = s.get_bool("train_through_fixer", t.train_through_fixer);
  t.input_noise = s.get_double("input_noise", t.input_noise, Range::non_negative());
  t.max_minutes = s.get_double("max_minutes", t.max_minutes, Range::non_negative());
  t.checkpoint_every =
      int(s.get_int("checkpoint_every", t.checkpoint_every, Range::closed(1, 1e6)));
  t.checkpoint_keep = int(s.get_int("checkpoint_keep", t.checkpoint_keep, Range::closed(1, 1000)));
  s.finish();
  try {
    emulators::check_co2_training_params(t, "training");
  } catch (const ConfigError& e) {
    throw ConfigError(c.file + ": " + e.what());
  }
}

void read_evaluation(io::Section& root, CaseConfig& c, Co2CaseConfig& cfg) {
  auto& p = cfg;
  auto s = root.section("evaluation");
  auto& e = p.evaluation;
  auto starts = s.get_ints("start_days", {}, 0, 1000, Range::closed(0, 1e6));
  e.start_days.assign(starts.begin(), starts.end());
  e.horizon_days = int(s.get_int("horizon_days", e.horizon_days, Range::closed(1, 1e5)));
  e.long_rollout_days =
      int(s.get_int("long_rollout_days", e.long_rollout_days, Range::closed(0, 1e5)));
  e.persistence = s.get_bool("persistence", e.persistence);
  p.validation_free_runs = s.get_bool("validation_free_runs", p.validation_free_runs);
  e.threads = int(s.get_int("threads", e.threads, Range::closed(0, 1024)));
  s.finish();
  if (p.validation_free_runs && e.long_rollout_days < 1) {
    throw ConfigError(c.file + ": evaluation.validation_free_runs = true needs " +
                      "evaluation.long_rollout_days >= 1 (the length of the free runs), not " +
                      std::to_string(e.long_rollout_days));
  }
  try {
    emulators::check_co2_eval_params(e, "evaluation");
  } catch (const ConfigError& err) {
    throw ConfigError(c.file + ": " + err.what());
  }
}

// aeolus run steps one sample interval at a time and lands on output times and t_end.
void check_run_times(const CaseConfig& c, const Co2CaseConfig& cfg) {
  const auto& p = cfg;
  for (const auto& [key, value] :
       {std::pair<const char*, real_t>{"output.interval", c.output.interval},
        {"time.t_end", c.time.t_end}}) {
    const double n = value / p.sample_interval;
    if (std::abs(n - std::round(n)) > 1e-9 * n) {
      throw ConfigError(c.file + ": " + key + " = " + fmt("%g", value) +
                        " s, expected a multiple of the " + fmt("%g", p.sample_interval) +
                        " s sample interval (dataset.sample_hours)");
    }
  }
}

// The common fields the time loop reads (the sphere decomposition, the model file).
void set_common_fields(CaseConfig& c, Co2CaseConfig& cfg) {
  const auto& p = cfg;
  c.time.cfl = p.cfl;
  SphereGridParams g = p.grid;
  g.halo = sphere_halo_width(p.scheme);
  c.grid = SphereGrid::decomposition_params(g, g.procs > 0 ? g.procs : 1);
  c.model = "models/co2.pt";
}

}  // namespace

// Every section of a CO2 case, in the order of the resolved YAML.
void load_co2_case(io::Section& root, CaseConfig& c) {
  auto settings = std::make_shared<Co2CaseConfig>();
  auto& cfg = *settings;
  c.equation = "co2_transport";
  read_grid(root, cfg.grid);
  read_physics(root, cfg);
  read_stepper(root, c, cfg);
  read_time(root, c, cfg);
  read_run_sections(root, c, 86400.0, 120, 40);
  read_dataset(root, cfg);
  read_model(root, c, cfg);
  read_training(root, c, cfg);
  read_evaluation(root, c, cfg);
  check_run_times(c, cfg);
  set_common_fields(c, cfg);
  c.settings = std::move(settings);
}

namespace {

class Co2Reader : public CaseReader {
 public:
  std::string name() const override { return "co2_transport"; }
  std::vector<std::string> equations() const override { return {"co2_transport"}; }
  bool recognises(const CaseKind& k) const override { return k.equation == "co2_transport"; }
  void read(io::Section& root, CaseConfig& c) const override { load_co2_case(root, c); }
  void check_rank_count(const CaseConfig& c, int ranks) const override {
    const auto& p = c.settings_as<Co2CaseConfig>();
    check_sphere_rank_count(c, p.grid, p.scheme, ranks);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(Co2Reader)

}  // namespace aeolus::app
