#include "tools/app/co2_case.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "emulators/co2_models.hpp"
#include "emulators/co2_training.hpp"
#include "emulators/device.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/progress.hpp"
#include "io/co2_dataset_format.hpp"
#include "io/collective.hpp"
#include "io/grid_layout.hpp"
#include "io/netcdf_file.hpp"
#include "solvers/sphere_kernels.hpp"
#include "solvers/sphere_transport_3d.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;
using io::Range;
namespace co2f = io::co2;

bool is_co2_case(io::Section& root) { return peek_equation(root) == "co2_transport"; }

void load_co2_case(io::Section& root, CaseConfig& c) {
  c.equation = "co2_transport";
  auto& p = c.co2;
  {
    auto s = root.section("grid");
    s.get_choice("type", "latlon", {"latlon"});
    auto& g = p.grid;
    g.nlat = s.get_int("nlat", g.nlat, Range::closed(2, 1e6));
    g.nlon = s.get_int("nlon", g.nlon, Range::closed(2, 1e6));
    g.nlev = s.get_int("nlev", g.nlev, Range::closed(2, 1e4));
    g.radius = s.get_double("radius", g.radius, Range::positive());
    g.procs = int(s.get_int("procs", g.procs, Range::closed(0, 1e6)));
    s.finish();
  }
  {
    auto ph = root.section("physics");
    ph.get_choice("equation", "co2_transport", {"co2_transport"});
    p.initial_ppmv = ph.get_double("initial_ppmv", p.initial_ppmv, Range::positive());
    {
      auto s = ph.section("meteorology");
      auto& m = p.met;
      m.seed = std::uint64_t(s.get_int("seed", (long long)m.seed, Range::non_negative()));
      m.mean_surface_pressure =
          s.get_double("mean_surface_pressure", m.mean_surface_pressure, Range::positive());
      m.jet_speed = s.get_double("jet_speed", m.jet_speed, Range::non_negative());
      m.trade_wind_speed =
          s.get_double("trade_wind_speed", m.trade_wind_speed, Range::non_negative());
      m.wave_count = int(s.get_int("wave_count", m.wave_count, Range::closed(0, 32)));
      m.wave_speed = s.get_double("wave_speed", m.wave_speed, Range::non_negative());
      m.hadley_strength = s.get_double("hadley_strength", m.hadley_strength, Range::non_negative());
      m.tide_amplitude = s.get_double("tide_amplitude", m.tide_amplitude, Range::non_negative());
      m.ps_relaxation_time =
          s.get_double("ps_relaxation_time", m.ps_relaxation_time, Range::positive());
      s.finish();
      try {
        physics::validate(m);
      } catch (const ConfigError& e) {
        throw ConfigError(s.where() + ": " + e.what());
      }
    }
    {
      auto s = ph.section("fluxes");
      auto& f = p.fluxes;
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
      try {
        physics::validate(f);
      } catch (const ConfigError& e) {
        throw ConfigError(s.where() + ": " + e.what());
      }
    }
    {
      auto s = ph.section("mixing");
      auto& m = p.mixing;
      m.boundary_layer_time =
          s.get_double("boundary_layer_time", m.boundary_layer_time, Range::positive());
      m.convective_time = s.get_double("convective_time", m.convective_time, Range::non_negative());
      m.convective_top_sigma = s.get_double("convective_top_sigma", m.convective_top_sigma,
                                            Range{0.0, 1.0, true, false});
      m.scale_height = s.get_double("scale_height", m.scale_height, Range::positive());
      s.finish();
      try {
        physics::validate(m);
      } catch (const ConfigError& e) {
        throw ConfigError(s.where() + ": " + e.what());
      }
    }
    ph.finish();
  }
  {
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
  {
    auto s = root.section("time");
    p.cfl = s.get_double("cfl", p.cfl, Range{0.0, 1.0, true, false});
    p.max_substep = s.get_double("max_substep", p.max_substep, Range::positive());
    c.time.t_end = s.get_double("t_end", 90 * 86400.0, Range::positive());  // aeolus run
    c.time.max_steps = s.get_int("max_steps", c.time.max_steps, Range::closed(1, 1e15));
    s.finish();
  }
  read_run_sections(root, c, 86400.0, 120, 40);
  {
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
  {
    auto s = root.section("model");
    const std::string preset =
        s.get_choice("preset", "cpu_small", emulators::co2_model_preset_names());
    auto m = emulators::co2_model_preset(preset);
    m.arch = s.get_choice("arch", m.arch, {"unet", "swin"});
    m.conservation =
        s.get_choice("conservation", m.conservation, {"fixer_scale", "fixer_shift", "flux_form"});
    m.threads = int(s.get_int("threads", m.threads, Range::closed(1, 1024)));
    p.model_device = s.get_string("device", p.model_device);
    {
      auto in = s.section("inputs");
      m.inputs.fields3d = in.get_choices(
          "fields3d", m.inputs.fields3d, 0, 8,
          {"u", "v", "omega", "airmass", "airmass_next", "u_next", "v_next", "omega_next"});
      m.inputs.fields2d = in.get_choices(
          "fields2d", m.inputs.fields2d, 0, 6,
          {"blh", "tisr", "co2flux_land", "co2flux_ocean", "co2flux_anthro", "cell_area"});
      m.inputs.co2_products = in.get_choices("co2_products", m.inputs.co2_products, 0, 6,
                                             {"u", "v", "omega", "u_next", "v_next", "omega_next"});
      in.finish();
    }
    {
      auto u = s.section("unet");
      m.unet.base_channels =
          int(u.get_int("base_channels", m.unet.base_channels, Range::closed(1, 1e5)));
      m.unet.max_channels =
          int(u.get_int("max_channels", m.unet.max_channels, Range::closed(1, 1e5)));
      m.unet.depth = int(u.get_int("depth", m.unet.depth, Range::closed(0, 10)));
      m.unet.blocks = int(u.get_int("blocks", m.unet.blocks, Range::closed(1, 100)));
      m.unet.lat_padding = u.get_choice("lat_padding", m.unet.lat_padding, {"fold", "replicate"});
      u.finish();
    }
    {
      auto w = s.section("swin");
      m.swin.embed_dim = int(w.get_int("embed_dim", m.swin.embed_dim, Range::closed(1, 1e5)));
      m.swin.depth = int(w.get_int("depth", m.swin.depth, Range::closed(1, 1000)));
      m.swin.heads = int(w.get_int("heads", m.swin.heads, Range::closed(1, 1000)));
      m.swin.window_lat = int(w.get_int("window_lat", m.swin.window_lat, Range::closed(1, 1e4)));
      m.swin.window_lon = int(w.get_int("window_lon", m.swin.window_lon, Range::closed(1, 1e4)));
      m.swin.patch = int(w.get_int("patch", m.swin.patch, Range::closed(1, 64)));
      m.swin.mlp_ratio = w.get_double("mlp_ratio", m.swin.mlp_ratio, Range::positive());
      w.finish();
    }
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
  {
    auto s = root.section("training");
    auto& t = p.training;
    t.epochs = int(s.get_int("epochs", t.epochs, Range::closed(0, 1e6)));
    t.batch_size = int(s.get_int("batch_size", t.batch_size, Range::closed(1, 1e6)));
    t.learning_rate = s.get_double("learning_rate", t.learning_rate, Range::positive());
    t.weight_decay = s.get_double("weight_decay", t.weight_decay, Range::non_negative());
    t.schedule = s.get_choice("schedule", t.schedule, {"cosine", "constant"});
    t.min_lr_fraction = s.get_double("min_lr_fraction", t.min_lr_fraction, Range::closed(0.0, 1.0));
    t.seed = std::uint64_t(s.get_int("seed", (long long)t.seed, Range::non_negative()));
    t.threads = int(s.get_int("threads", t.threads, Range::closed(1, 1024)));
    t.device = s.get_string("device", t.device);
    t.samples_per_epoch =
        s.get_int("samples_per_epoch", t.samples_per_epoch, Range::closed(0, 1e12));
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
    t.checkpoint_keep =
        int(s.get_int("checkpoint_keep", t.checkpoint_keep, Range::closed(1, 1000)));
    s.finish();
    try {
      emulators::check_co2_training_params(t, "training");
    } catch (const ConfigError& e) {
      throw ConfigError(c.file + ": " + e.what());
    }
  }
  {
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
  c.time.cfl = p.cfl;
  // The sphere decomposition of the driver and check_rank_count read these.
  c.grid_type = "latlon";
  c.sphere.grid = p.grid;
  c.sphere.scheme = p.scheme;
  {
    SphereGridParams g = p.grid;
    g.halo = sphere_halo_width(p.scheme);
    c.grid = SphereGrid::decomposition_params(g, g.procs > 0 ? g.procs : 1);
  }
  c.model = "models/co2.pt";
}

namespace {

// Rows of a per-column vector (index jl * nlon + i) of every rank, in global order, on rank 0
// (empty elsewhere). Latitude bands are contiguous in rank order.
std::vector<real_t> gather_columns(MPI_Comm comm, const std::vector<real_t>& local) {
  const int size = comm_size(comm), rank = comm_rank(comm);
  const int n = int(local.size());
  std::vector<int> counts(static_cast<size_t>(size)), displs(static_cast<size_t>(size));
  MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  std::vector<real_t> all;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < size; ++r) {
      displs[size_t(r)] = total;
      total += counts[size_t(r)];
    }
    all.resize(size_t(total));
  }
  MPI_Gatherv(local.data(), n, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0,
              comm);
  return all;
}

// The classical CO2 physics of a case on a sphere grid: meteorology, surface fluxes and the
// transport (air mass as its state, hybrid vertical closure).
struct FluxSums {
  std::vector<real_t> anthro, land, ocean;  // time integrals over an interval, kg m-2
  void reset(size_t n) {
    anthro.assign(n, 0.0);
    land.assign(n, 0.0);
    ocean.assign(n, 0.0);
  }
};

class Co2Physics {
 public:
  // dp starts on the hybrid coordinate of the meteorology's surface pressure at t0.
  Co2Physics(const Co2CaseConfig& p, const SphereGrid& g, real_t t0)
      : p_(p), g_(g), met_(g, p.met), fluxes_(g, p.fluxes) {
    Field dp(g.grid(), "dp");
    met_.initial_air_mass(t0, dp);
    // The balancing of the flow follows the transport's own air mass (closed loop).
    auto flow = met_.flow(
        [this]() -> const Field* { return transport_ ? &transport_->air_mass() : nullptr; });
    transport_ = std::make_unique<SphereTransport3dStepper>(g, flow, p.scheme, p.cfl, dp);
    transport_->set_vertical_closure(met_.coordinate());
  }
  const SphereGrid& grid() const { return g_; }
  const physics::SyntheticMeteorology& met() const { return met_; }
  SphereTransport3dStepper& transport() { return *transport_; }
  const SphereTransport3dStepper& transport() const { return *transport_; }

  // Advances the air mass and `tracers` over [t, t + interval] in equal sub-steps (each at most
  // max_substep and the transport's max_dt at t): per sub-step the transport, then the surface
  // flux at the sub-step's midpoint into the lowest layer, then the sub-grid vertical mixing
  // (boundary layer and convection, physics/co2_fluxes.hpp; column-conservative). `sums` (optional,
  // sized to the owned columns) accumulates the flux integrals. Returns the sub-step count and the
  // CO2 mass the fluxes added per tracer (kg). Collective.
  struct Interval {
    int substeps = 0;
    real_t source_kg = 0;
  };
  Interval advance(const std::vector<Field*>& tracers, real_t t, real_t interval, FluxSums* sums) {
    const real_t hmax = std::min(p_.max_substep, transport_->max_dt(transport_->air_mass(), t));
    const int n = std::max(1, int(std::ceil(interval / hmax - 1e-9)));
    const real_t h = interval / n;
    Interval r;
    r.substeps = n;
    for (int s = 0; s < n; ++s) {
      real_t ts = t + s * h, dt = h;
      transport_->step_all(tracers, ts, dt);
      fluxes_.fluxes(t + (s + 0.5) * h, fa_, fl_, fo_);
      total_.resize(fa_.size());
      for (size_t i = 0; i < fa_.size(); ++i) {
        total_[i] = fa_[i] + fl_[i] + fo_[i];
        if (sums) {
          sums->anthro[i] += fa_[i] * h;
          sums->land[i] += fl_[i] * h;
          sums->ocean[i] += fo_[i] * h;
        }
      }
      if (!tracers.empty()) met_.boundary_layer_height(t + (s + 0.5) * h, blh_);
      for (Field* q : tracers) {
        physics::co2_add_surface_flux(g_, transport_->air_mass(), total_, h, *q);
        physics::co2_mix_vertical(g_, met_.coordinate(), transport_->air_mass(), blh_, p_.mixing, h,
                                  *q);
      }
      r.source_kg += physics::co2_surface_integral(g_, total_) * h;
    }
    return r;
  }

 private:
  const Co2CaseConfig& p_;
  const SphereGrid& g_;
  physics::SyntheticMeteorology met_;
  physics::Co2SurfaceFluxes fluxes_;
  std::unique_ptr<SphereTransport3dStepper> transport_;
  std::vector<real_t> fa_, fl_, fo_, total_, blh_;
};

struct Co2Context {
  const CaseConfig& c;
  MPI_Comm comm;
  std::unique_ptr<SphereGrid> grid;
  std::unique_ptr<Co2Physics> phys;
  std::unique_ptr<Field> q;
};

void build(Co2Context& x, real_t t0) {
  const auto& p = x.c.co2;
  SphereGridParams gp = p.grid;
  gp.halo = sphere_halo_width(p.scheme);
  x.grid = std::make_unique<SphereGrid>(x.comm, gp);
  x.phys = std::make_unique<Co2Physics>(p, *x.grid, t0);
  x.q = std::make_unique<Field>(x.grid->grid(), "co2");
  physics::co2_initial_mixing_ratio(*x.grid, x.phys->met().coordinate(), p.initial_ppmv, *x.q);
}

// One year's file, written by rank 0: CASE/data/<split>/co2_yearNNNN.nc(.part until complete).
class YearWriter {
 public:
  YearWriter(const Co2Context& x, const std::string& path, const std::string& split, int year)
      : path_(path), part_(path + ".part") {
    const auto& p = x.c.co2;
    const SphereGrid& g = *x.grid;
    nlev_ = size_t(g.nlev()), nlat_ = size_t(g.nlat()), nlon_ = size_t(g.nlon());
    fs::create_directories(fs::path(path).parent_path());
    f_ = std::make_unique<io::NetcdfFile>(part_, io::NetcdfFile::Mode::create);
    auto& f = *f_;
    f.def_dim("time", 0);
    f.def_dim("level", nlev_);
    f.def_dim("lat", nlat_);
    f.def_dim("lon", nlon_);
    f.def_dim("ilev", nlev_ + 1);
    f.def_dim("nv", 2);
    auto coord = [&](const std::string& name, const std::vector<std::string>& dims,
                     const std::string& units, const std::string& long_name,
                     const std::string& standard_name) {
      f.def_var(name, "double", dims);
      // Boundary variables take their units from their coordinate (CF 7.1).
      if (!units.empty()) f.put_att(name, "units", units);
      f.put_att(name, "long_name", long_name);
      if (!standard_name.empty()) f.put_att(name, "standard_name", standard_name);
    };
    coord("time", {"time"}, "hours since 2000-01-01 00:00:00", "time of the sample", "time");
    f.put_att("time", "calendar", "noleap");
    f.put_att("time", "axis", "T");
    f.put_att("time", "bounds", "time_bnds");
    coord("time_bnds", {"time", "nv"}, "", "interval [t, t + dt_sample] the fluxes average over",
          "");
    coord("level", {"level"}, "Pa", "reference pressure at the layer's mid point (ps = p0)",
          "air_pressure");
    f.put_att("level", "positive", "down");
    f.put_att("level", "axis", "Z");
    f.put_att("level", "bounds", "level_bnds");
    coord("level_bnds", {"level", "nv"}, "", "reference pressure at the layer's edges", "");
    coord("lat", {"lat"}, "degrees_north", "latitude", "latitude");
    f.put_att("lat", "bounds", "lat_bnds");
    coord("lat_bnds", {"lat", "nv"}, "", "latitude of the cell edges", "");
    coord("lon", {"lon"}, "degrees_east", "longitude", "longitude");
    f.put_att("lon", "bounds", "lon_bnds");
    coord("lon_bnds", {"lon", "nv"}, "", "longitude of the cell edges", "");
    coord("hyai", {"ilev"}, "1", "hybrid A coefficient at layer interfaces (p = hyai p0 + hybi ps)",
          "");
    coord("hybi", {"ilev"}, "1", "hybrid B coefficient at layer interfaces", "");
    coord(co2f::kCellArea, {"lat", "lon"}, "m2", "area of the grid cell", "cell_area");

    const std::vector<std::string> d3 = {"time", "level", "lat", "lon"},
                                   d2 = {"time", "lat", "lon"};
    const std::vector<size_t> c3 = {1, nlev_, nlat_, nlon_}, c2 = {1, nlat_, nlon_};
    const int z = p.deflate;
    auto var = [&](const char* name, const std::string& type, bool three_d,
                   const std::string& units, const std::string& long_name,
                   const std::string& standard_name) {
      f.def_var(name, type, three_d ? d3 : d2, z, three_d ? c3 : c2);
      f.put_att(name, "units", units);
      f.put_att(name, "long_name", long_name);
      if (!standard_name.empty()) f.put_att(name, "standard_name", standard_name);
      f.put_att(name, "cell_measures", "area: cell_area");
    };
    var(co2f::kCo2, "double", true, "1e-6 kg/kg", "CO2 mass mixing ratio (cell mean)",
        "mass_fraction_of_carbon_dioxide_in_air");
    var(co2f::kAirmass, "double", true, "Pg", "air mass of the cell", "");
    var(co2f::kPBottom, "float", true, "hPa", "pressure at the lower edge of the layer",
        "air_pressure");
    var(co2f::kPTop, "float", true, "hPa", "pressure at the upper edge of the layer",
        "air_pressure");
    var(co2f::kU, "float", true, "m s-1", "eastward wind (prescribed part)", "eastward_wind");
    var(co2f::kV, "float", true, "m s-1", "northward wind (prescribed part)", "northward_wind");
    var(co2f::kOmega, "float", true, "Pa s-1", "vertical pressure velocity (positive down)",
        "lagrangian_tendency_of_air_pressure");
    var(co2f::kBlh, "float", false, "m", "boundary-layer height",
        "atmosphere_boundary_layer_thickness");
    var(co2f::kTisr, "float", false, "J m-2",
        "TOA incident solar radiation accumulated over the hour ending at the sample time",
        "integral_wrt_time_of_toa_incoming_shortwave_flux");
    const char* flux_names[3] = {co2f::kFluxLand, co2f::kFluxOcean, co2f::kFluxAnthro};
    const char* flux_long[3] = {"CO2 flux from the land biosphere (net ecosystem exchange)",
                                "CO2 flux from the ocean", "anthropogenic (fossil) CO2 flux"};
    for (int i = 0; i < 3; ++i) {
      // No CF standard name: CF's CO2 surface fluxes are expressed as carbon, these as CO2.
      var(flux_names[i], "double", false, "kg m-2 s-1", flux_long[i], "");
      f.put_att(flux_names[i], "cell_methods",
                "time: mean (interval: " + fmt("%g", p.sample_interval) + " s)");
      f.put_att(flux_names[i], "comment",
                "mass of CO2 (not carbon), positive upward; the mean over [t, t + dt_sample] of "
                "what the solver applied");
    }
    f.put_att("", "Conventions", "CF-1.8");
    f.put_att("", "title", "Aeolus synthetic CO2 transport data set (CarbonBench layout)");
    f.put_att("", "source", std::string("aeolus ") + AEOLUS_VERSION + " dataset " + x.c.name);
    f.put_att("", "case_name", x.c.name);
    f.put_att("", "config_hash", x.c.config_hash);
    f.put_att("", "split", split);
    f.put_att("", "year", (long long)year);
    f.put_att("", co2f::kDtSample, p.sample_interval);
    f.put_att("", "meteorology_seed", (long long)p.met.seed);
    f.put_att("", "flux_seed", (long long)p.fluxes.seed);
    f.put_att("", "ranks", (long long)comm_size(x.comm));
    f.end_def();

    // Static coordinates.
    const auto& hc = x.phys->met().coordinate();
    std::vector<double> lev(nlev_), lev_b(2 * nlev_), a(nlev_ + 1), b(nlev_ + 1);
    for (size_t k = 0; k <= nlev_; ++k) a[k] = hc.a[k], b[k] = hc.b[k];
    for (size_t k = 0; k < nlev_; ++k) {
      const double pu = hc.p_interface(index_t(k), hc.p0),
                   pl = hc.p_interface(index_t(k) + 1, hc.p0);
      lev[k] = 0.5 * (pu + pl);
      lev_b[2 * k] = pu, lev_b[2 * k + 1] = pl;
    }
    std::vector<double> lat(nlat_), lat_b(2 * nlat_), lon(nlon_), lon_b(2 * nlon_);
    std::vector<double> area(nlat_ * nlon_);
    const double deg = 180.0 / M_PI;
    for (size_t j = 0; j < nlat_; ++j) {
      lat[j] = g.lat_center(index_t(j)) * deg;
      lat_b[2 * j] = g.lat_edge(index_t(j)) * deg,
                lat_b[2 * j + 1] = g.lat_edge(index_t(j) + 1) * deg;
      for (size_t i = 0; i < nlon_; ++i) area[j * nlon_ + i] = g.area(index_t(j));
    }
    for (size_t i = 0; i < nlon_; ++i) {
      lon[i] = g.lon_center(index_t(i)) * deg;
      lon_b[2 * i] = g.lon_edge(index_t(i)) * deg,
                lon_b[2 * i + 1] = g.lon_edge(index_t(i) + 1) * deg;
    }
    f.put("level", {}, {}, lev.data());
    f.put("level_bnds", {}, {}, lev_b.data());
    f.put("hyai", {}, {}, a.data());
    f.put("hybi", {}, {}, b.data());
    f.put("lat", {}, {}, lat.data());
    f.put("lat_bnds", {}, {}, lat_b.data());
    f.put("lon", {}, {}, lon.data());
    f.put("lon_bnds", {}, {}, lon_b.data());
    f.put(co2f::kCellArea, {}, {}, area.data());
  }
  ~YearWriter() = default;

  void put3(const char* var, size_t n, const std::vector<real_t>& v) {
    f_->put(var, {n, 0, 0, 0}, {1, nlev_, nlat_, nlon_}, v.data());
  }
  void put2(const char* var, size_t n, const std::vector<real_t>& v) {
    f_->put(var, {n, 0, 0}, {1, nlat_, nlon_}, v.data());
  }
  void put_time(size_t n, double hours, double interval_hours) {
    f_->put("time", {n}, {1}, &hours);
    const double b[2] = {hours, hours + interval_hours};
    f_->put("time_bnds", {n, 0}, {1, 2}, b);
  }
  void finish() {
    f_->put_att("", "aeolus_complete", (long long)1);
    f_->close();
    fs::rename(part_, path_);
  }

 private:
  std::string path_, part_;
  size_t nlev_ = 0, nlat_ = 0, nlon_ = 0;
  std::unique_ptr<io::NetcdfFile> f_;
};

std::string year_path(const CaseConfig& c, const std::string& split, int year) {
  char name[64];
  std::snprintf(name, sizeof name, "co2_year%04d.nc", year);
  return c.path(c.co2.data_dir + "/" + split + "/" + name);
}

const char* split_of(const Co2CaseConfig& p, int year) {
  if (year < p.train_years) return "train";
  if (year < p.train_years + p.valid_years) return "valid";
  return "test";
}

}  // namespace

void generate_co2_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& p = c.co2;
  const int rank = comm_rank(comm);
  const int years = p.train_years + p.valid_years + p.test_years;
  std::vector<std::string> paths;
  for (int y = 0; y < years; ++y) paths.push_back(year_path(c, split_of(p, y), y));
  const std::string json = c.path(p.data_dir + "/dataset.json");
  for (const auto& path : paths) prepare_target(comm, path, overwrite);
  prepare_target(comm, json, overwrite);

  RunLog log(comm, c.path("logs") + "/dataset.log", true);
  const auto wall0 = std::chrono::steady_clock::now();
  const real_t day = 86400.0;
  const real_t t0 = -p.spinup_days * day;
  Co2Context x{c, comm, nullptr, nullptr, nullptr};
  build(x, t0);
  const SphereGrid& g = *x.grid;
  const long long per_year = std::llround(p.file_days * day / p.sample_interval);
  log.line("aeolus dataset " + c.name + ": " + std::to_string(g.nlat()) + " x " +
           std::to_string(g.nlon()) + " x " + std::to_string(g.nlev()) + ", " +
           std::to_string(years) + " years (" + std::to_string(p.train_years) + " train, " +
           std::to_string(p.valid_years) + " valid, " + std::to_string(p.test_years) +
           " test) of " + std::to_string(per_year) + " samples every " +
           fmt("%g", p.sample_interval / 3600) + " h after " + std::to_string(p.spinup_days) +
           " days of spin-up, " + std::to_string(comm_size(comm)) + " rank(s)");

  const size_t ncol = size_t(g.lat_count() * g.nlon());
  FluxSums acc;
  acc.reset(ncol);
  Co2Physics& phys = *x.phys;
  const std::vector<Field*> tracers = {x.q.get()};
  real_t t = t0;
  long long substeps = 0;
  // Spin-up: transport and sources, nothing written.
  const int spinup_samples = p.spinup_days * int(std::llround(day / p.sample_interval));
  {
    ProgressMeter meter(log.sink(), "spin-up", spinup_samples);
    for (int d = 0; d < spinup_samples; ++d) {
      substeps += phys.advance(tracers, t, p.sample_interval, nullptr).substeps;
      t = t0 + (d + 1) * p.sample_interval;
      if (meter.due(d + 1)) meter.emit(d + 1, "samples, t = " + fmt("%.2f", t / day) + " days");
    }
  }
  ProgressMeter meter(log.sink(), "sample", (long long)years * per_year);
  t = 0;
  double worst_budget = 0, worst_closure = 0;
  real_t ppmv_start = 0, ppmv_end = 0;
  Field u(g.grid(), "u"), v(g.grid(), "v"), om(g.grid(), "omega"), airkg(g.grid(), "airmass"),
      pb(g.grid(), "p_bottom"), pt(g.grid(), "p_top"), co2(g.grid(), "co2massmix");
  std::vector<real_t> blh, tisr;
  const auto& hc = phys.met().coordinate();
  const real_t ptop_model = hc.p_interface(0, 0.0);
  const real_t mass_air0 = [&] {
    Field one(g.grid(), "one");
    one.fill(1.0);
    return physics::co2_tracer_mass(g, phys.transport().air_mass(), one);
  }();
  for (int y = 0; y < years; ++y) {
    std::unique_ptr<YearWriter> w;
    if (rank == 0) w = std::make_unique<YearWriter>(x, paths[size_t(y)], split_of(p, y), y);
    for (long long s = 0; s < per_year; ++s) {
      t = (y * per_year + s) * p.sample_interval;
      // The state and the meteorology at t.
      const Field& dp = phys.transport().air_mass();
      {
        const ConstFieldView d = dp.view(), q = x.q->view();
        FieldView a = airkg.view(), b = pb.view(), tp = pt.view(), cq = co2.view();
        for (index_t j = 0; j < d.ny; ++j) {
          const real_t area = g.area(g.lat_start() + j);
          for (index_t i = 0; i < d.nx; ++i) {
            real_t ptop = ptop_model;
            for (index_t k = 0; k < d.nz; ++k) {
              a(i, j, k) = d(i, j, k) * area / physics::co2::kGravity * co2f::kAirmassFileScale;
              tp(i, j, k) = ptop * co2f::kPressureFileScale;
              ptop += d(i, j, k);
              b(i, j, k) = ptop * co2f::kPressureFileScale;
              cq(i, j, k) = q(i, j, k) * co2f::kCo2FileScale;
            }
          }
        }
      }
      phys.met().winds(t, u, v);
      phys.met().omega(t, om);
      phys.met().boundary_layer_height(t, blh);
      phys.met().toa_incident_solar_radiation(t, tisr);
      const real_t m_before = physics::co2_tracer_mass(g, dp, *x.q);
      if (y == 0 && s == 0) ppmv_start = m_before / mass_air0 / physics::co2::kMassMixingPerPpmv;
      {
        const auto gq = co2.gather_to_root(), ga = airkg.gather_to_root(), gb = pb.gather_to_root(),
                   gt = pt.gather_to_root(), gu = u.gather_to_root(), gv = v.gather_to_root(),
                   go = om.gather_to_root();
        const auto gbl = gather_columns(comm, blh), gti = gather_columns(comm, tisr);
        if (rank == 0) {
          w->put_time(size_t(s), t / 3600.0, p.sample_interval / 3600.0);
          w->put3(co2f::kCo2, size_t(s), gq);
          w->put3(co2f::kAirmass, size_t(s), ga);
          w->put3(co2f::kPBottom, size_t(s), gb);
          w->put3(co2f::kPTop, size_t(s), gt);
          w->put3(co2f::kU, size_t(s), gu);
          w->put3(co2f::kV, size_t(s), gv);
          w->put3(co2f::kOmega, size_t(s), go);
          w->put2(co2f::kBlh, size_t(s), gbl);
          w->put2(co2f::kTisr, size_t(s), gti);
        }
      }
      // Advance to the next sample; the fluxes of this sample are the means over the interval.
      acc.reset(ncol);
      const Co2Physics::Interval r = phys.advance(tracers, t, p.sample_interval, &acc);
      substeps += r.substeps;
      worst_closure = std::max(worst_closure, double(phys.transport().last_closure_residual()));
      const real_t m_after = physics::co2_tracer_mass(g, phys.transport().air_mass(), *x.q);
      // The budget as the file will state it: the mean fluxes times the interval.
      std::vector<real_t> mean_total(ncol);
      for (size_t i = 0; i < ncol; ++i) {
        acc.anthro[i] /= p.sample_interval, acc.land[i] /= p.sample_interval,
            acc.ocean[i] /= p.sample_interval;
        mean_total[i] = acc.anthro[i] + acc.land[i] + acc.ocean[i];
      }
      const real_t source = physics::co2_surface_integral(g, mean_total) * p.sample_interval;
      const double rel = std::abs((m_after - m_before) - source) / m_before;
      worst_budget = std::max(worst_budget, rel);
      if (!(rel < 1e-12) || !std::isfinite(m_after)) {
        throw NumericsError(c.file + ": CO2 budget of the sample at t = " + fmt("%.0f", t) +
                            " s does not close: mass change " + fmt("%.6e", m_after - m_before) +
                            " kg against the surface source " + fmt("%.6e", source) +
                            " kg (relative " + fmt("%.3e", rel) + "); nothing more is written");
      }
      const auto ga = gather_columns(comm, acc.anthro), gl = gather_columns(comm, acc.land),
                 go = gather_columns(comm, acc.ocean);
      if (rank == 0) {
        w->put2(co2f::kFluxAnthro, size_t(s), ga);
        w->put2(co2f::kFluxLand, size_t(s), gl);
        w->put2(co2f::kFluxOcean, size_t(s), go);
      }
      if (y == years - 1 && s == per_year - 1) {
        ppmv_end = m_after / mass_air0 / physics::co2::kMassMixingPerPpmv;
      }
      const long long done = (long long)y * per_year + s + 1;
      if (meter.due(done)) {
        meter.emit(done, "year " + std::to_string(y) + " (" + split_of(p, y) + ") day " +
                             fmt("%.2f", double(s + 1) * p.sample_interval / day) + ", " +
                             std::to_string(substeps) + " sub-steps");
      }
    }
    if (rank == 0) w->finish();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    log.line("year " + std::to_string(y) + " (" + split_of(p, y) + ") -> " + paths[size_t(y)] +
             "; " + fmt("%.1f", secs) + " s so far, " + std::to_string(substeps) +
             " sub-steps, worst relative budget error " + fmt("%.2e", worst_budget));
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  // Per 365-day year (file_days may be shorter in smoke tests).
  const double rise = (ppmv_end - ppmv_start) / (double(years) * p.file_days / 365.0);
  log.line("done in " + fmt("%.1f", secs) + " s: global mean CO2 " + fmt("%.2f", ppmv_start) +
           " -> " + fmt("%.2f", ppmv_end) + " ppmv (" + fmt("%.2f", rise) +
           " ppmv/yr); worst relative budget error per sample " + fmt("%.2e", worst_budget) +
           ", worst hybrid-closure residual " + fmt("%.2e", worst_closure) + " Pa");
  if (rank == 0) {
    JsonRecord r = provenance_record(c.dir, c.config_hash, comm_size(comm), utc_now_iso8601());
    r.set_string("status", "complete");
    r.set_int("years", years);
    r.set_int("samples_per_year", per_year);
    r.set_number("sample_interval_s", p.sample_interval);
    r.set_int("substeps", substeps);
    r.set_number("seconds", secs);
    r.set_number("worst_relative_budget_error", worst_budget);
    r.set_number("worst_closure_residual_pa", worst_closure);
    r.set_number("global_mean_ppmv_start", ppmv_start);
    r.set_number("global_mean_ppmv_end", ppmv_end);
    r.set_number("ppmv_per_year", rise);
    r.write_atomic(json);
  }
}

namespace {

// The stepper of `aeolus run` on a co2_transport case. One step is one sample interval (6 h):
//  classical: the transport and the surface fluxes in sub-steps (as the data set);
//  emulator:  the air mass (and, in hybrid mode, a classical copy of the tracer) advance with
//             the classical physics; the CO2 step is the trained model (models/co2.pt) fed with
//             the meteorology at t, the mean fluxes over the step and the air mass at t + dt,
//             run on rank 0 on the gathered global fields (the emulators are global networks)
//             and scattered back. Hybrid (stepper.hybrid_days = K > 0): every K days the
//             emulated tracer is re-initialised from the classical copy.
class Co2CaseStepper : public Stepper {
 public:
  Co2CaseStepper(const CaseConfig& c, const CartesianGrid& grid, bool emulator)
      : c_(c),
        p_(c.co2),
        sphere_(grid, c.co2.grid.radius),
        phys_(c.co2, sphere_, 0.0),
        emulator_(emulator),
        qc_(grid, "co2_classical"),
        u_(grid, "u"),
        v_(grid, "v"),
        omega_(grid, "omega"),
        airmass_(grid, "airmass") {
    if (!emulator_) return;
    const std::string path = c.path(c.model);
    std::string error;
    if (comm_rank(grid.comm()) == 0) {
      try {
        if (!fs::exists(path)) {
          throw IoError(path + " not found; the emulator stepper needs a trained model ('aeolus " +
                        "train " + c.dir + "')");
        }
        model_ = std::make_unique<emulators::Co2Model>(emulators::Co2Model::load(path));
        model_->set_device(p_.model_device, c.file + ": model.device");
        const auto sh = model_->shape();
        if (sh.nlev != sphere_.nlev() || sh.nlat != sphere_.nlat() || sh.nlon != sphere_.nlon() ||
            model_->params().dt != p_.sample_interval) {
          std::ostringstream os;
          os << path << ": the model is for " << sh.nlat << " x " << sh.nlon << " x " << sh.nlev
             << " and steps of " << model_->params().dt << " s; the case has " << sphere_.nlat()
             << " x " << sphere_.nlon() << " x " << sphere_.nlev() << " and samples of "
             << p_.sample_interval << " s";
          throw ModelError(os.str());
        }
      } catch (const Error& e) {
        error = e.what();
      }
    }
    error = io::detail::broadcast_string(grid.comm(), error);
    if (!error.empty()) throw ModelError(error);
    int next = 0;
    if (model_) {
      for (const auto& f : model_->params().inputs.fields3d)
        if (f == "u_next" || f == "v_next" || f == "omega_next") next = 1;
    }
    AEOLUS_MPI(MPI_Bcast(&next, 1, MPI_INT, 0, grid.comm()));
    next_winds_ = next != 0;
  }

  std::string name() const override { return emulator_ ? "emulator" : "classical"; }
  real_t max_dt(const Field&, real_t) const override { return p_.sample_interval; }
  bool fixed_step() const override { return emulator_; }
  real_t courant(real_t t, real_t dt) const override {
    return phys_.transport().courant(t, std::min(dt, p_.max_substep));
  }
  std::vector<Field*> state_fields() override {
    std::vector<Field*> f = {&phys_.transport().air_mass()};
    if (hybrid()) f.push_back(&qc_);
    return f;
  }

  void step(Field& q, real_t& t, real_t& dt) override {
    if (!(dt > 0) || dt > p_.sample_interval * (1 + 1e-12) ||
        (emulator_ && std::abs(dt - p_.sample_interval) > 1e-9 * p_.sample_interval)) {
      throw NumericsError("co2 " + name() + " step: dt = " + fmt("%g", dt) + " s, expected " +
                          (emulator_ ? "exactly " : "at most ") + fmt("%g", p_.sample_interval) +
                          " s (dataset.sample_hours)");
    }
    if (!emulator_) {
      phys_.advance({&q}, t, dt, nullptr);
      t += dt;
      return;
    }
    emulate(q, t, dt);
    t += dt;
    if (hybrid()) {
      const real_t period = p_.hybrid_days * 86400.0;
      if (std::floor((t + 1e-6) / period) > std::floor((t - dt + 1e-6) / period)) {
        q.copy_owned_from(qc_);
      }
    }
  }

 private:
  bool hybrid() const { return emulator_ && p_.hybrid_days > 0; }

  void emulate(Field& q, real_t t, real_t dt) {
    MPI_Comm comm = sphere_.grid().comm();
    const bool root = comm_rank(comm) == 0;
    const physics::SyntheticMeteorology& met = phys_.met();
    if (hybrid() && t == 0) qc_.copy_owned_from(q);  // restarts take qc_ from the checkpoint
    emulators::Co2StepInput in;
    in.dt = dt;
    met.winds(t, u_, v_);
    met.omega(t, omega_);
    std::vector<real_t> blh, tisr;
    met.boundary_layer_height(t, blh);
    met.toa_incident_solar_radiation(t, tisr);
    const std::vector<real_t> gq = q.gather_to_root(), gm = airmass_kg(), gu = u_.gather_to_root(),
                              gv = v_.gather_to_root(), go = omega_.gather_to_root(),
                              gb = gather_columns(comm, blh), gt = gather_columns(comm, tisr);
    // Models that read the winds at the end of the step (model.inputs.fields3d u_next, ...).
    std::vector<real_t> gun, gvn, gon;
    if (next_winds_) {
      met.winds(t + dt, u_, v_);
      met.omega(t + dt, omega_);
      gun = u_.gather_to_root(), gvn = v_.gather_to_root(), gon = omega_.gather_to_root();
    }
    // The classical part: air mass (and the hybrid copy) to t + dt, mean fluxes over the step.
    FluxSums sums;
    sums.reset(size_t(sphere_.lat_count() * sphere_.nlon()));
    std::vector<Field*> tracers;
    if (hybrid()) tracers.push_back(&qc_);
    phys_.advance(tracers, t, dt, &sums);
    for (auto* f : {&sums.anthro, &sums.land, &sums.ocean})
      for (auto& x : *f) x /= dt;
    const std::vector<real_t> gn = airmass_kg(), gfa = gather_columns(comm, sums.anthro),
                              gfl = gather_columns(comm, sums.land),
                              gfo = gather_columns(comm, sums.ocean);
    std::vector<real_t> q_new;
    std::string error;
    if (root) {
      in.q = gq, in.airmass = gm, in.airmass_next = gn;
      in.u = gu, in.v = gv, in.omega = go, in.blh = gb, in.tisr = gt;
      in.u_next = gun, in.v_next = gvn, in.omega_next = gon;
      in.co2flux_anthro = gfa, in.co2flux_land = gfl, in.co2flux_ocean = gfo;
      in.cell_area.resize(size_t(sphere_.nlat()));
      for (index_t j = 0; j < sphere_.nlat(); ++j) in.cell_area[size_t(j)] = sphere_.area(j);
      try {
        q_new = model_->predict_step(in).q;
      } catch (const Error& e) {
        error = e.what();
      }
    }
    error = io::detail::broadcast_string(comm, error);
    if (!error.empty())
      throw NumericsError("co2 emulator step at t = " + fmt("%g", t) + ": " + error);
    q.scatter_from_root(q_new);
  }

  // The air mass of every cell in kg (dp area / g), gathered on rank 0.
  std::vector<real_t> airmass_kg() {
    const Field& dp = phys_.transport().air_mass();
    const ConstFieldView d = dp.view();
    FieldView mv = airmass_.view();
    for (index_t k = 0; k < d.nz; ++k)
      for (index_t j = 0; j < d.ny; ++j) {
        const real_t a = sphere_.area(sphere_.lat_start() + j) / physics::co2::kGravity;
        for (index_t i = 0; i < d.nx; ++i) mv(i, j, k) = d(i, j, k) * a;
      }
    return airmass_.gather_to_root();
  }

  const CaseConfig& c_;
  const Co2CaseConfig& p_;
  SphereGrid sphere_;
  Co2Physics phys_;
  bool emulator_;
  Field qc_;
  std::unique_ptr<emulators::Co2Model> model_;
  // Work fields of the emulator step (allocated once: a Field holds PETSc vectors).
  Field u_, v_, omega_, airmass_;
  bool next_winds_ = false;  // the model reads u_next / v_next / omega_next
};

// What `aeolus run` writes for a co2_transport case: the CO2 mass mixing ratio and the air mass
// (dp) on the hybrid levels, with the CO2 mass, mean, min and max per frame.
class Co2CaseModel : public CaseModel {
 public:
  Co2CaseModel(const CaseConfig& c, const CartesianGrid& grid)
      : c_(c), sphere_(grid, c.co2.grid.radius), q_(grid, "co2"), one_(grid, "one") {
    one_.fill(1.0);
  }
  std::vector<Field*> fields() override { return {&q_}; }
  std::vector<const Field*> output_fields() override { return {&q_, air_}; }
  void bind_stepper_state(const std::vector<Field*>& state) override {
    if (state.empty()) throw Error("co2 case: the stepper exposes no air mass");
    air_ = state.front();
  }
  void describe_output(io::OutputSpec& spec) override {
    spec.axes = io::latlon_axes();
    const auto coord = physics::co2_vertical_coordinate(sphere_.nlev());
    io::describe_hybrid_sigma_pressure(spec, coord.a, coord.b, coord.p0, "dp");
    spec.fields.push_back({"co2", "kg kg-1", "CO2 mass mixing ratio (cell mean)",
                           "mass_fraction_of_carbon_dioxide_in_air"});
    spec.fields.push_back(
        {"dp", "Pa", "pressure thickness of the cell (air mass = dp area / g)", ""});
    spec.scalars.push_back({"co2_mass", "kg", "total mass of CO2 (sum of q dp area / g)", ""});
    spec.scalars.push_back({"co2_mean_ppmv", "1e-6", "mass-weighted mean CO2 mole fraction", ""});
    spec.scalars.push_back({"co2_min", "kg kg-1", "minimum of co2", ""});
    spec.scalars.push_back({"co2_max", "kg kg-1", "maximum of co2", ""});
    spec.attributes["meteorology_seed"] = std::to_string(c_.co2.met.seed);
    spec.attributes["flux_seed"] = std::to_string(c_.co2.fluxes.seed);
    spec.attributes["reconstruction"] = c_.co2.scheme.reconstruction;
    spec.attributes["limiter"] = c_.co2.scheme.limiter;
  }
  void initialise() override {
    physics::co2_initial_mixing_ratio(sphere_, physics::co2_vertical_coordinate(sphere_.nlev()),
                                      c_.co2.initial_ppmv, q_);
  }
  std::vector<double> frame_scalars(real_t) override {
    const real_t m = mass();
    const real_t air = physics::co2_tracer_mass(sphere_, *air_, one_);
    return {m, m / air / physics::co2::kMassMixingPerPpmv, q_.min(), q_.max()};
  }
  real_t mass() override { return physics::co2_tracer_mass(sphere_, *air_, q_); }

 private:
  const CaseConfig& c_;
  SphereGrid sphere_;
  Field q_;
  Field one_;  // the air mass is the "tracer mass" of 1
  Field* air_ = nullptr;
};

}  // namespace

void train_co2_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& p = c.co2;
  const std::string model = c.path(c.model), ckpt = c.path("checkpoints/co2_training");
  const std::string data = c.path(p.data_dir);
  emulators::check_torch_device(p.training.device, c.file + ": training.device");
  // An interrupted training (max_minutes, a killed job) continues from its checkpoints;
  // --overwrite starts afresh.
  refuse_existing(model, overwrite);
  bool resume = false;
  if (comm_rank(comm) == 0 && fs::is_directory(ckpt)) {
    if (overwrite) {
      fs::remove_all(ckpt);
    } else {
      resume = !fs::is_empty(ckpt);
    }
  }
  MPI_Bcast(&resume, 1, MPI_CXX_BOOL, 0, comm);
  const auto train = emulators::co2_split_files(data, "train");
  const auto valid = emulators::co2_split_files(data, "valid");
  RunLog log(comm, c.path("logs") + "/train.log", true);
  log.line("aeolus train " + c.name + ": " + p.model.arch + " (" + p.model.preset + ", " +
           p.model.conservation + ") on " + std::to_string(train.size()) + " train and " +
           std::to_string(valid.size()) + " valid file(s), " + std::to_string(comm_size(comm)) +
           " rank(s) on " + p.training.device +
           (resume ? ", resuming from " + ckpt : std::string()));
  const auto r = emulators::train_co2_model(comm, p.model, p.training, train, valid, model, ckpt,
                                            resume, log.sink());
  if (!r.finished) {
    log.line("stopped by training.max_minutes after " + fmt("%.1f", r.training_seconds) +
             " s of training; run 'aeolus train " + c.dir + "' again to continue from " +
             r.last_checkpoint);
    return;
  }
  log.line("done: " + std::to_string(r.parameters) + " parameters, " +
           std::to_string(r.train_pairs) + " training pairs, " +
           fmt("%.1f", r.training_seconds / 60) + " min of training, best " + r.best_stage +
           " epoch " + std::to_string(r.best_epoch) + " (valid loss " +
           fmt("%.4e", r.best_valid_loss) + ") -> " + model);
}

namespace {

// What a free run did, for the eval log.
std::string free_run_summary(const emulators::Co2LongRollout& lr,
                             const emulators::Co2EvalParams& e) {
  return "positive for " + fmt("%g", lr.days_positive) +
         " days, R^2 >= " + fmt("%g", e.decorrelation_r2) + " for " +
         fmt("%g", lr.decorrelation_days) + " days (" + fmt("%.4f", lr.r2_end) +
         " at the end), range " + fmt("%.4g", lr.q_min_ppmv) + " .. " + fmt("%.4g", lr.q_max_ppmv) +
         " ppmv (truth " + fmt("%.4g", lr.truth_min_ppmv) + " .. " +
         fmt("%.4g", lr.truth_max_ppmv) + "), global mean " + fmt("%.3f", lr.mean_end_ppmv) +
         " ppmv (budget " + fmt("%.3f", lr.mean_end_budget_ppmv) + ")" +
         (lr.message.empty() ? "" : "; " + lr.message);
}

}  // namespace

void evaluate_co2_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& p = c.co2;
  const std::string model = c.path(c.model);
  emulators::check_torch_device(p.model_device, c.file + ": model.device");
  if (!fs::exists(model)) {
    throw IoError(model + " not found; run 'aeolus train " + c.dir + "' first");
  }
  const std::string json = c.path("eval/metrics.json"), nc = c.path("eval/co2_eval.nc");
  prepare_target(comm, json, overwrite);
  prepare_target(comm, nc, overwrite);
  RunLog log(comm, c.path("logs") + "/eval.log", true);
  // The classical step on this machine, in this process (rank 0 alone), for the cost ratio.
  double classical_ms = 0;
  on_rank0(comm, [&] {
    SphereGridParams gp = p.grid;
    gp.halo = sphere_halo_width(p.scheme);
    gp.procs = 0;
    SphereGrid g(MPI_COMM_SELF, gp);
    Co2Physics phys(p, g, 0.0);
    Field q(g.grid(), "co2");
    physics::co2_initial_mixing_ratio(g, phys.met().coordinate(), p.initial_ppmv, q);
    const int n = 8;
    const auto w0 = std::chrono::steady_clock::now();
    for (int s = 0; s < n; ++s)
      phys.advance({&q}, s * p.sample_interval, p.sample_interval, nullptr);
    classical_ms =
        1e3 * std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count() / n;
  });
  on_rank0(comm, [&] {
    const auto test = emulators::co2_split_files(c.path(p.data_dir), "test");
    emulators::Co2EvalParams ep = p.evaluation;
    ep.device = p.model_device;
    const auto m = emulators::evaluate_co2_model(model, test, ep, "", nc, log.sink());
    // Free runs from the validation quarters: the validation and test years as one sequence.
    std::vector<std::pair<int, emulators::Co2LongRollout>> vfr;
    if (p.validation_free_runs) {
      auto files = emulators::co2_split_files(c.path(p.data_dir), "valid");
      if (files.empty()) {
        throw IoError("evaluation.validation_free_runs: no validation files under " +
                      c.path(p.data_dir) + "/valid (dataset.valid_years = 0?)");
      }
      const std::size_t n_valid = files.size();
      files.insert(files.end(), test.begin(), test.end());
      emulators::Co2Model net = emulators::Co2Model::load(model);
      net.set_device(p.model_device, c.file + ": model.device");
      const auto data =
          emulators::Co2SplitData::read(files, "", emulators::co2_read_options(net.params()));
      const std::size_t spd = std::size_t(std::lround(86400.0 / data.dt()));
      for (int day :
           emulators::co2_quarter_start_days((long long)(data.file_start(n_valid) / spd))) {
        vfr.emplace_back(day, emulators::co2_free_run(
                                  net, data, std::size_t(day) * spd, p.evaluation.long_rollout_days,
                                  p.evaluation.decorrelation_r2, p.evaluation.threads,
                                  log.sink()));
      }
    }
    JsonRecord r = provenance_record(c.dir, c.config_hash, 1, utc_now_iso8601());
    r.set_string("status", "complete");
    r.set_number("classical_step_ms", classical_ms);
    r.set_number("emulator_step_ms", m.step_ms);
    r.set_number("emulator_over_classical", m.step_ms / classical_ms);
    r.set_raw("metrics", emulators::co2_eval_json(m));
    if (p.validation_free_runs) {
      std::string runs;
      for (const auto& [day, lr] : vfr) {
        runs += std::string(runs.empty() ? "" : ", ") +
                "{\"start_day_of_validation\": " + std::to_string(day) +
                ", \"run\": " + emulators::co2_free_run_json(lr) + "}";
      }
      r.set_raw("validation_free_runs", "[" + runs + "]");
    }
    r.write_atomic(json);
    for (const auto& d : m.at_days) {
      log.line("day " + fmt("%g", d.lead_days) + ": R^2 " + fmt("%.4f", d.r2) + ", RMSE " +
               fmt("%.3f", d.rmse_ppmv) + " ppmv (persistence " + fmt("%.4f", d.r2_persistence) +
               ", " + fmt("%.3f", d.rmse_persistence_ppmv) + " ppmv)");
    }
    const auto& lr = m.long_rollout;
    if (lr.steps > 0) {
      log.line("free run of " + fmt("%g", lr.days) +
               " days: " + free_run_summary(lr, p.evaluation));
    }
    for (const auto& [day, run] : vfr) {
      log.line("free run from validation day " + std::to_string(day) + " (" + fmt("%g", run.days) +
               " days): " + free_run_summary(run, p.evaluation));
    }
    log.line("mass RMSE " + fmt("%.3e", m.mass_rmse_pgc) + " PgC, worst per-step mass error " +
             fmt("%.2e", m.worst_step_mass_error) + "; emulator step " + fmt("%.1f", m.step_ms) +
             " ms on " + m.device + " against the classical 6 h step " + fmt("%.1f", classical_ms) +
             " ms (ratio " + fmt("%.3f", m.step_ms / classical_ms) + ") -> " + json + ", " + nc);
  });
}

std::unique_ptr<Stepper> make_co2_stepper(const CaseConfig& c, const CartesianGrid& grid,
                                          const std::string& name) {
  if (name != "classical" && name != "emulator") {
    throw ConfigError(c.file + ": stepper '" + name + "' does not apply to a co2_transport case " +
                      "(expected classical or emulator)");
  }
  return std::make_unique<Co2CaseStepper>(c, grid, name == "emulator");
}

std::unique_ptr<CaseModel> make_co2_model(const CaseConfig& c, const CartesianGrid& grid) {
  return std::make_unique<Co2CaseModel>(c, grid);
}

}  // namespace aeolus::app
