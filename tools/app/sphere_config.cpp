#include "tools/app/sphere_config.hpp"

#include <cmath>
#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "io/yaml_schema.hpp"
#include "physics/dcmip.hpp"
#include "solvers/sphere_kernels.hpp"
#include "tools/app/case_type.hpp"

namespace aeolus::app {

namespace {

using io::Range;
constexpr real_t kPi = 3.14159265358979323846;

bool uses_centers(const std::string& type) { return type != "constant"; }

// physics.tracers.NAME: the keys of the chosen type only (others are unknown-key errors).
void read_sphere_tracer(io::Section& t, const physics::SphereFlowParams& flow,
                        physics::SphereTracerParams& p) {
  p.type = t.get_choice("type", p.type, physics::sphere_tracer_names());
  if (p.type == "cosine_bell") {
    p.h0 = t.get_double("h0", p.h0, Range::positive());
    p.bell_radius = t.get_double("bell_radius", p.bell_radius, Range{0, kPi, true, false});
  } else if (p.type == "gaussian_hills") {
    p.hmax = t.get_double("hmax", p.hmax);
    p.beta = t.get_double("beta", p.beta, Range::positive());
  } else if (p.type == "cosine_bells" || p.type == "correlated_cosine_bells") {
    p.r = t.get_double("r", p.r, Range{0, kPi, true, false});
    p.b = t.get_double("b", p.b);
    p.c = t.get_double("c", p.c);
  } else if (p.type == "slotted_cylinders") {
    p.r = t.get_double("r", p.r, Range{0, kPi, true, false});
    p.b = t.get_double("b", p.b);
    p.cylinder_value = t.get_double("cylinder_value", p.cylinder_value);
  } else if (p.type == "constant") {
    p.value = t.get_double("value", p.value);
  }
  if (uses_centers(p.type)) {
    // Default centres: the type's own, or Nair & Lauritzen's for their flows.
    std::vector<double> def;
    if (flow.type == "nair_lauritzen" && p.type != "cosine_bell") {
      for (const auto& c : physics::nair_lauritzen_centers(flow.nl_case)) {
        def.push_back(c[0]);
        def.push_back(c[1]);
      }
    }
    const size_t max_len = p.type == "cosine_bell" ? 2 : 16;
    const bool given = t.has("centers");
    auto v =
        t.get_doubles("centers", def, given ? 2 : 0, max_len, Range::closed(-2 * kPi, 2 * kPi));
    if (v.size() % 2 != 0) {
      throw ConfigError(t.where("centers") + ": " + t.path() +
                        ".centers needs (lon, lat) pairs in radians, got " +
                        std::to_string(v.size()) + " numbers");
    }
    p.centers.clear();
    for (size_t i = 0; i + 1 < v.size(); i += 2) {
      if (std::abs(v[i + 1]) > 0.5 * kPi) {
        std::ostringstream os;
        os << t.where("centers") << ": " << t.path() << ".centers latitude " << v[i + 1]
           << " rad is outside [-pi/2, pi/2]";
        throw ConfigError(os.str());
      }
      p.centers.push_back({v[i], v[i + 1]});
    }
  }
  p.quadrature = int(t.get_int("quadrature", p.quadrature, Range::closed(1, 5)));
  try {
    physics::validate(p);
  } catch (const ConfigError& e) {
    throw ConfigError(t.where("type") + ": " + t.path() + ": " + e.what());
  }
}

void read_sphere_grid(io::Section& s, CaseConfig& c, SphereCaseConfig& sc) {
  auto& g = sc.grid;
  g.nlon = s.get_int("nlon", g.nlon, Range::closed(2, 1e7));
  g.nlat = s.get_int("nlat", g.nlat, Range::closed(2, 1e7));
  g.nlev = s.get_int("nlev", g.nlev, Range::closed(1, 1e5));
  g.radius = s.get_double("radius", g.radius, Range::positive());
  g.procs = int(s.get_int("procs", g.procs, Range::closed(0, 1e6)));
  if (g.nlon % 2 != 0) {
    throw ConfigError(
        s.where("nlon") + ": grid.nlon = " + std::to_string(g.nlon) +
        " must be even (the ghost rows beyond a pole are the cells 180 degrees away)");
  }
  // The rank count is only known at run time, where it is checked again.
  c.grid = SphereGrid::decomposition_params(g, g.procs > 0 ? g.procs : 1);
}

void read_sphere_physics(io::Section& s, SphereCaseConfig& sc) {
  {
    auto f = s.section("flow");
    auto& p = sc.flow;
    auto names = physics::sphere_flow_names();
    names.push_back("dcmip_1_1");
    names.push_back("dcmip_1_2");
    p.type = f.get_choice("type", p.type, names);
    const bool three_d = is_dcmip(p.type);
    if (three_d != (sc.grid.nlev > 1)) {
      throw ConfigError(f.where("type") + ": physics.flow.type = " + p.type +
                        (three_d ? " is a 3D flow and needs grid.nlev > 1"
                                 : " is a 2D flow and needs grid.nlev = 1 (got " +
                                       std::to_string(sc.grid.nlev) + ")"));
    }
    if (three_d) {
      p.period = physics::dcmip_period(dcmip_test(p.type));  // fixed by the test
    } else {
      if (p.type == "williamson") {
        p.alpha = f.get_double("alpha", p.alpha, Range::closed(-2 * kPi, 2 * kPi));
      }
      if (p.type == "nair_lauritzen") {
        p.nl_case = int(f.get_int("nl_case", p.nl_case, Range::closed(1, 4)));
      }
      p.period = f.get_double("period", p.period, Range::positive());
    }
    f.finish();
  }
  auto tracers = s.section("tracers");
  const auto names = tracers.keys();
  if (names.empty()) {
    throw ConfigError(s.where("tracers") +
                      ": physics.tracers needs at least one tracer (NAME: {type: ...})");
  }
  for (const auto& name : names) {
    auto t = tracers.section(name);
    TracerConfig tc;
    tc.name = name;
    if (!is_dcmip(sc.flow.type)) tc.units = t.get_string("units", tc.units);
    tc.long_name = t.get_string("long_name", "tracer " + name);
    const bool three_d = is_dcmip(sc.flow.type);
    std::vector<std::string> types =
        three_d ? std::vector<std::string>{"dcmip"} : physics::sphere_tracer_names();
    types.push_back("file");
    const std::string type = t.get_choice("type", three_d ? "dcmip" : tc.initial.type, types);
    if (type == "file") {
      // Any field from a NetCDF file; its units must be the tracer's.
      tc.file = t.require_string("file");
      tc.variable = t.get_string("variable", name);
      tc.initial.type = "file";
      if (three_d) tc.units = t.get_string("units", "kg kg-1");
    } else if (three_d) {
      const int n = physics::dcmip_tracer_count(dcmip_test(sc.flow.type));
      tc.dcmip_index = int(t.require_double("index", Range::closed(1, n)));
      tc.units = t.get_string("units", "kg kg-1");
    } else {
      read_sphere_tracer(t, sc.flow, tc.initial);
    }
    t.finish();
    sc.tracers.push_back(tc);
  }
  tracers.finish();
}

void read_sphere_diagnostics(io::Section s, SphereCaseConfig& sc) {
  auto& d = sc.diagnostics;
  d.error_norms = s.get_bool("error_norms", d.error_norms);
  auto tracer_names = [&] {
    std::vector<std::string> n;
    for (auto& t : sc.tracers) n.push_back(t.name);
    return n;
  }();
  if (s.has("filament")) {
    auto f = s.section("filament");
    d.filament_tracer = f.get_choice("tracer", tracer_names.front(), tracer_names);
    d.filament_time = f.require_double("time", Range::non_negative());
    f.finish();
  }
  if (s.has("mixing")) {
    auto m = s.section("mixing");
    d.mixing_tracer1 = m.get_choice("tracer1", tracer_names.front(), tracer_names);
    d.mixing_tracer2 = m.get_choice("tracer2", tracer_names.back(), tracer_names);
    d.mixing_time = m.require_double("time", Range::non_negative());
    m.finish();
  }
  s.finish();
}

class SphereReader : public CaseReader {
 public:
  std::string name() const override { return "sphere_transport"; }
  std::vector<std::string> equations() const override { return {"transport"}; }
  bool recognises(const CaseKind& k) const override {
    return k.grid_type == "latlon" && (k.equation.empty() || k.equation == "transport");
  }
  void read(io::Section& root, CaseConfig& c) const override {
    auto settings = std::make_shared<SphereCaseConfig>();
    auto& sc = *settings;
    {
      auto s = root.section("grid");
      s.get_choice("type", "latlon", {"latlon"});
      read_sphere_grid(s, c, sc);
      s.finish();
    }
    {
      auto s = root.section("physics");
      c.equation = s.get_choice("equation", "transport", {"transport"});
      read_sphere_physics(s, sc);
      s.finish();
    }
    {
      auto s = root.section("stepper");
      c.stepper = s.get_choice("type", c.stepper, stepper_names());
      auto ss = s.section("scheme");
      auto& p = sc.scheme;
      p.reconstruction =
          ss.get_choice("reconstruction", p.reconstruction, sphere_reconstruction_names());
      p.limiter = ss.get_choice("limiter", p.limiter, sphere_limiter_names());
      try {
        sphere_scheme_from_params(p);
      } catch (const ConfigError& e) {
        throw ConfigError(ss.where("limiter") + ": " + e.what());
      }
      ss.finish();
      s.finish();
    }
    {
      auto s = root.section("time");
      c.time.t_end = s.require_double("t_end", Range::positive());
      // The meridional Courant number (the zonal one may exceed 1).
      c.time.cfl = s.get_double("cfl", c.time.cfl, Range{0.0, 1.0, true, false});
      c.time.dt_max = s.get_double("dt_max", c.time.dt_max, Range::non_negative());
      c.time.max_steps = s.get_int("max_steps", c.time.max_steps, Range::closed(1, 1e15));
      s.finish();
    }
    read_run_sections(root, c, c.time.t_end / 10, c.checkpoint.every_steps, c.progress_every);
    read_sphere_diagnostics(root.section("diagnostics"), sc);
    c.settings = std::move(settings);
  }
  void check_rank_count(const CaseConfig& c, int ranks) const override {
    const auto& sc = c.settings_as<SphereCaseConfig>();
    check_sphere_rank_count(c, sc.grid, sc.scheme, ranks);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(SphereReader)

}  // namespace aeolus::app
