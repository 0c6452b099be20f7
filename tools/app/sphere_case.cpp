#include "tools/app/sphere_case.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/netcdf_file.hpp"
#include "physics/dcmip.hpp"
#include "physics/sphere_diagnostics.hpp"
#include "physics/sphere_flow.hpp"
#include "physics/sphere_tracers.hpp"
#include "solvers/sphere_transport.hpp"
#include "solvers/sphere_transport_3d.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/sphere_config.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {
constexpr real_t kPi = 3.14159265358979323846;

// Shapes that solid-body rotation moves rigidly and that we can re-centre.
bool rotationally_symmetric(const physics::SphereTracerParams& p) {
  return p.type == "cosine_bell" || p.type == "gaussian_hills" || p.type == "cosine_bells" ||
         p.type == "correlated_cosine_bells" || p.type == "constant";
}

// The tracer after solid-body rotation (Williamson case 1) for time t: centres rotated about
// the axis n = (-sin alpha, 0, cos alpha) by u0 t / a = 2 pi t / period.
physics::SphereTracerParams rotated_tracer(const physics::SphereTracerParams& p0,
                                           const physics::SphereFlowParams& flow, real_t t) {
  physics::SphereTracerParams p = p0;
  if (p.centers.empty()) {
    // The type's defaults, made explicit so they can be rotated.
    p.centers = p.type == "cosine_bell"
                    ? std::vector<std::array<real_t, 2>>{{1.5 * kPi, 0.0}}
                    : std::vector<std::array<real_t, 2>>{{5 * kPi / 6, 0.0}, {7 * kPi / 6, 0.0}};
  }
  const real_t ang = 2 * kPi * t / flow.period;
  const real_t nx = -std::sin(flow.alpha), ny = 0, nz = std::cos(flow.alpha);
  const real_t ca = std::cos(ang), sa = std::sin(ang);
  for (auto& c : p.centers) {
    const real_t x = std::cos(c[1]) * std::cos(c[0]), y = std::cos(c[1]) * std::sin(c[0]),
                 z = std::sin(c[1]);
    const real_t dot = nx * x + ny * y + nz * z;
    const real_t cx = ny * z - nz * y, cy = nz * x - nx * z, cz = nx * y - ny * x;
    const real_t rx = x * ca + cx * sa + nx * dot * (1 - ca);
    const real_t ry = y * ca + cy * sa + ny * dot * (1 - ca);
    const real_t rz = z * ca + cz * sa + nz * dot * (1 - ca);
    c[0] = std::atan2(ry, rx);
    if (c[0] < 0) c[0] += 2 * kPi;
    c[1] = std::asin(std::max<real_t>(-1, std::min<real_t>(1, rz)));
  }
  return p;
}
}  // namespace

std::unique_ptr<CartesianGrid> make_sphere_decomposition(MPI_Comm comm,
                                                         const SphereGridParams& grid,
                                                         const SphereSchemeParams& scheme) {
  SphereGridParams p = grid;
  p.halo = sphere_halo_width(scheme);
  return std::make_unique<CartesianGrid>(comm,
                                         SphereGrid::decomposition_params(p, comm_size(comm)));
}

namespace {

const SphereCaseConfig& sph(const CaseConfig& c) { return c.settings_as<SphereCaseConfig>(); }

bool mixing_ratio_form(const CaseConfig& c) {
  return sph(c).grid.nlev == 1 && physics::is_divergent(sph(c).flow);
}

// The stepper of a sphere case, with the metrics (and initial air mass) it refers to: the
// registry hands out a Stepper only. Which one runs:
//  - 2D non-divergent flows: SphereTransportStepper, the tracer as a density (the air density
//    would stay 1 to round-off);
//  - 2D divergent flows: mixing ratios carried by an air density that starts at 1 and moves
//    with the same fluxes (the 3D stepper on one level, no vertical flux), so a uniform mixing
//    ratio stays uniform and the mixing diagnostics mean what Lauritzen et al. (2012) define;
//  - 3D: the DCMIP flow on hybrid levels, the air mass as the stepper's own state.
class SphereCaseStepper : public Stepper {
 public:
  SphereCaseStepper(const CaseConfig& c, const CartesianGrid& grid)
      : sphere_(grid, sph(c).grid.radius), air0_(grid, "air_mass"), inner_(make(c)) {}
  std::string name() const override { return inner_->name(); }
  real_t max_dt(const Field& q, real_t t) const override { return inner_->max_dt(q, t); }
  void step(Field& q, real_t& t, real_t& dt) override { inner_->step(q, t, dt); }
  void step_all(const std::vector<Field*>& qs, real_t& t, real_t& dt) override {
    inner_->step_all(qs, t, dt);
  }
  real_t courant(real_t t, real_t dt) const override { return inner_->courant(t, dt); }
  std::vector<Field*> state_fields() override { return inner_->state_fields(); }

 private:
  std::unique_ptr<Stepper> make(const CaseConfig& c) {
    if (sphere_.nlev() > 1) {
      const auto coord = physics::dcmip_vertical_coordinate(sphere_.nlev());
      physics::dcmip_air_mass(sphere_, coord, air0_);
      return std::make_unique<SphereTransport3dStepper>(
          sphere_, physics::dcmip_flow_function(dcmip_test(sph(c).flow.type), sphere_, coord),
          sph(c).scheme, c.time.cfl, air0_);
    }
    auto flow2d = physics::sphere_flow_function(sph(c).flow, sphere_);
    if (!mixing_ratio_form(c)) {
      return std::make_unique<SphereTransportStepper>(sphere_, flow2d, sph(c).scheme, c.time.cfl);
    }
    air0_.fill(1.0);
    SphereFlow3dFunction flow = [flow2d, this](real_t t, real_t dt, SphereFluxes3d& out) {
      if (out.horizontal.size() != 1) out.resize(sphere_);  // once: no vertical flux stays 0
      flow2d(t, dt, out.horizontal.front());
    };
    return std::make_unique<SphereTransport3dStepper>(sphere_, flow, sph(c).scheme, c.time.cfl,
                                                      air0_);
  }
  SphereGrid sphere_;
  Field air0_;
  std::unique_ptr<Stepper> inner_;
};

std::string mass_units(const std::string& units) {
  return units == "1" ? std::string("m2") : units + " m2";
}

class SphereTransportModel : public CaseModel {
 public:
  SphereTransportModel(const CaseConfig& c, const CartesianGrid& grid)
      : c_(c), sphere_(grid, sph(c).grid.radius), area_(grid, "cell_area") {
    for (const auto& t : sph(c).tracers) tracers_.push_back(std::make_unique<Field>(grid, t.name));
    auto v = area_.view();
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) v(i, j) = sphere_.area(sphere_.lat_start() + j);
  }

  std::vector<Field*> fields() override {
    std::vector<Field*> f;
    for (auto& t : tracers_) f.push_back(t.get());
    return f;
  }

  std::vector<const Field*> output_fields() override {
    std::vector<const Field*> f;
    for (auto& t : tracers_) f.push_back(t.get());
    if (air_ && sphere_.nlev() > 1) f.push_back(air_);
    return f;
  }

  void describe_output(io::OutputSpec& spec) override {
    spec.axes = io::latlon_axes();
    for (const auto& t : sph(c_).tracers) {
      spec.fields.push_back({t.name, t.units, t.long_name + " (cell average)", ""});
    }
    if (sphere_.nlev() > 1) {
      // Levels as a CF hybrid sigma-pressure coordinate (ps is the column sum of dp, frame by
      // frame), and the evolving pressure thickness of every cell (its air mass is dp area / g).
      const auto coord = physics::dcmip_vertical_coordinate(sphere_.nlev());
      io::describe_hybrid_sigma_pressure(spec, coord.a, coord.b, coord.p0, "dp");
      spec.fields.push_back(
          {"dp", "Pa", "pressure thickness of the cell (air mass = dp area / g)", ""});
    }
    for (const auto& t : sph(c_).tracers) {
      if (sphere_.nlev() > 1) {
        spec.scalars.push_back(
            {t.name + "_mass", "kg", "total mass of " + t.name + " (sum of q dp area / g)", ""});
      } else {
        spec.scalars.push_back({t.name + "_mass", mass_units(t.units),
                                "area integral of " + t.name + " over the sphere", ""});
      }
      spec.scalars.push_back({t.name + "_min", t.units, "minimum of " + t.name, ""});
      spec.scalars.push_back({t.name + "_max", t.units, "maximum of " + t.name, ""});
      if (norms_every_frame(t)) {
        for (const char* n : {"l1", "l2", "linf"}) {
          spec.scalars.push_back(
              {t.name + "_" + n, "1",
               std::string("normalised ") + n + " error of " + t.name + " (Williamson et al. 1992)",
               ""});
        }
      }
    }
    if (sphere_.nlev() == 1) {
      spec.static_fields.push_back({{"cell_area", "m2", "area of grid cell", "cell_area"}, &area_});
      spec.cell_measures = "area: cell_area";
    }
    spec.attributes["flow"] = sph(c_).flow.type;
    spec.attributes["reconstruction"] = sph(c_).scheme.reconstruction;
    spec.attributes["limiter"] = sph(c_).scheme.limiter;
    spec.attributes["sphere_radius_m"] = fmt_g(sph(c_).grid.radius);
  }

  void initialise() override {
    for (size_t k = 0; k < tracers_.size(); ++k) initial_state(k, *tracers_[k]);
  }

  std::vector<double> frame_scalars(real_t t) override {
    std::vector<double> out;
    for (size_t k = 0; k < tracers_.size(); ++k) {
      const Field& q = *tracers_[k];
      out.push_back(tracer_mass(q, air_));
      out.push_back(q.min());
      out.push_back(q.max());
      if (norms_every_frame(sph(c_).tracers[k])) {
        Field exact(q.grid(), "exact");
        exact_solution(k, t, exact);
        const auto n = physics::error_norms(sphere_, q, exact);
        out.push_back(n.l1);
        out.push_back(n.l2);
        out.push_back(n.linf);
      }
    }
    return out;
  }

  real_t mass() override { return tracer_mass(*tracers_.front(), air_); }

  void bind_stepper_state(const std::vector<Field*>& state) override {
    if (sphere_.nlev() > 1 || mixing_ratio_form(c_)) {
      if (state.empty()) throw Error("sphere case: the stepper exposes no air mass");
      air_ = state.front();
    }
  }

  std::vector<real_t> event_times() const override {
    std::vector<real_t> t;
    const auto& d = sph(c_).diagnostics;
    if (!d.filament_tracer.empty() && d.filament_time > 0) t.push_back(d.filament_time);
    if (!d.mixing_tracer1.empty() && d.mixing_time > 0) t.push_back(d.mixing_time);
    return t;
  }

  void diagnose(real_t t, bool last, std::map<std::string, double>& out) override {
    const auto& d = sph(c_).diagnostics;
    const real_t eps = 1e-9 * std::max<real_t>(1, std::abs(t));
    if (!d.filament_tracer.empty() && std::abs(t - d.filament_time) <= eps) {
      const size_t k = index_of(d.filament_tracer);
      Field q0(tracers_[k]->grid(), "q0");
      initial_state(k, q0);
      const auto tau = physics::filament_thresholds();
      const auto a0 = physics::area_above(sphere_, q0, tau);
      const auto a = physics::area_above(sphere_, *tracers_[k], tau);
      for (size_t i = 0; i < tau.size(); ++i) {
        out[filament_key(i)] = a0[i] > 0 ? 100.0 * a[i] / a0[i] : 0.0;
      }
    }
    if (!d.mixing_tracer1.empty() && std::abs(t - d.mixing_time) <= eps) {
      const auto m = physics::mixing_diagnostics(sphere_, *tracers_[index_of(d.mixing_tracer1)],
                                                 *tracers_[index_of(d.mixing_tracer2)]);
      out["mixing_real"] = m.real_mixing;
      out["mixing_range_preserving_unmixing"] = m.range_preserving_unmixing;
      out["mixing_overshooting"] = m.overshooting;
    }
    if (!last) return;
    for (size_t k = 0; k < tracers_.size(); ++k) {
      const std::string& n = sph(c_).tracers[k].name;
      const Field& q = *tracers_[k];
      Field q0(q.grid(), "q0");
      initial_state(k, q0);
      std::unique_ptr<Field> air0;
      if (air_) {
        air0 = std::make_unique<Field>(q.grid(), "air0");
        if (sphere_.nlev() > 1) {
          physics::dcmip_air_mass(sphere_, physics::dcmip_vertical_coordinate(sphere_.nlev()),
                                  *air0);
        } else {
          air0->fill(1.0);
        }
      }
      const real_t m0 = tracer_mass(q0, air0.get()), m = tracer_mass(q, air_);
      out[n + "_mass_relative_change"] = m0 != 0 ? (m - m0) / std::abs(m0) : m - m0;
      out[n + "_min"] = q.min();
      out[n + "_max"] = q.max();
      Field exact(q.grid(), "exact");
      if (d.error_norms && exact_solution(k, t, exact)) {
        const auto e = physics::error_norms(sphere_, q, exact);
        out[n + "_l1"] = e.l1;
        out[n + "_l2"] = e.l2;
        out[n + "_linf"] = e.linf;
        const auto x = physics::extrema_diagnostics(sphere_, q, exact);
        out[n + "_phi_min"] = x.phi_min;
        out[n + "_phi_max"] = x.phi_max;
      }
    }
  }

  bool write_diagnostics(const std::string& path,
                         const std::map<std::string, double>& diag) override {
    const std::string part = path + ".part";
    {
      io::NetcdfFile f(part, io::NetcdfFile::Mode::create);
      f.put_att("", "Conventions", "CF-1.8");
      f.put_att("", "title", "Aeolus case " + c_.name + ": diagnostics at the end of the run");
      f.put_att("", "case", c_.name);
      f.put_att("", "flow", sph(c_).flow.type);
      const auto tau = physics::filament_thresholds();
      const bool filament = diag.count(filament_key(0)) > 0;
      if (filament) {
        f.def_dim("threshold", tau.size());
        f.def_var("threshold", "double", {"threshold"});
        f.put_att("threshold", "units",
                  sph(c_).tracers[index_of(sph(c_).diagnostics.filament_tracer)].units);
        f.put_att("threshold", "long_name", "filament diagnostic threshold tau");
        f.def_var("filament_l_f", "double", {"threshold"});
        f.put_att("filament_l_f", "units", "percent");
        f.put_att("filament_l_f", "long_name",
                  "100 A(q >= tau, t) / A(q >= tau, 0) of " + sph(c_).diagnostics.filament_tracer +
                      " at t = " + fmt_g(sph(c_).diagnostics.filament_time) +
                      " s (Lauritzen et al. 2012)");
      }
      std::vector<std::pair<std::string, double>> scalars;
      for (const auto& [key, value] : diag) {
        if (key.rfind("filament_", 0) == 0) continue;
        scalars.emplace_back(key, value);
        f.def_var(key, "double", {});
        const auto [units, long_name] = describe_diag(key);
        f.put_att(key, "units", units);
        f.put_att(key, "long_name", long_name);
      }
      f.end_def();
      if (filament) {
        std::vector<double> lf;
        for (size_t i = 0; i < tau.size(); ++i) lf.push_back(diag.at(filament_key(i)));
        f.put("threshold", {}, {}, tau.data());
        f.put("filament_l_f", {}, {}, lf.data());
      }
      for (const auto& [key, value] : scalars) f.put(key, {}, {}, &value);
      f.close();
    }
    std::error_code ec;
    fs::rename(part, path, ec);
    if (ec) throw IoError(part + ": cannot rename to " + path + " (" + ec.message() + ")");
    return true;
  }

 private:
  static std::string fmt_g(double v) {
    std::ostringstream os;
    os.precision(17);
    os << v;
    return os.str();
  }
  static std::string filament_key(size_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "filament_%02zu", i);
    return buf;
  }

  std::pair<std::string, std::string> describe_diag(const std::string& key) const {
    for (const auto& t : sph(c_).tracers) {
      const std::string p = t.name + "_";
      if (key.rfind(p, 0) != 0) continue;
      const std::string what = key.substr(p.size());
      if (what == "l1" || what == "l2" || what == "linf")
        return {"1", "normalised " + what + " error of " + t.name + " at the end of the run"};
      if (what == "phi_min" || what == "phi_max")
        return {"1", "normalised " + what.substr(4) + " error of " + t.name +
                         " (Lauritzen et al. 2012)"};
      if (what == "mass_relative_change")
        return {"1", "relative change of the area integral of " + t.name + " over the run"};
      if (what == "min" || what == "max")
        return {t.units, what + "imum of " + t.name + " at the end"};
    }
    if (key == "mixing_real") return {"1", "real mixing diagnostic l_r (Lauritzen et al. 2012)"};
    if (key == "mixing_range_preserving_unmixing")
      return {"1", "range-preserving unmixing diagnostic l_u (Lauritzen et al. 2012)"};
    if (key == "mixing_overshooting")
      return {"1", "overshooting diagnostic l_o (Lauritzen et al. 2012)"};
    return {"1", key};
  }

  size_t index_of(const std::string& name) const {
    for (size_t k = 0; k < sph(c_).tracers.size(); ++k)
      if (sph(c_).tracers[k].name == name) return k;
    throw ConfigError(c_.file + ": no tracer '" + name + "' in physics.tracers");
  }

  bool is_period_multiple(real_t t) const {
    const real_t k = t / sph(c_).flow.period;
    return std::abs(k - std::round(k)) <= 1e-9 * std::max<real_t>(1, k);
  }

  // Williamson's solid-body rotation moves rotationally symmetric shapes rigidly.
  bool norms_every_frame(const TracerConfig& t) const {
    return sph(c_).diagnostics.error_norms && sph(c_).flow.type == "williamson" &&
           rotationally_symmetric(t.initial);
  }

  // The exact solution of tracer k at time t where it is known: the initial state after whole
  // periods (every flow of the suites returns), and rigidly rotated shapes under solid-body
  // rotation. Returns false where unknown.
  bool exact_solution(size_t k, real_t t, Field& out) const {
    const auto& tc = sph(c_).tracers[k];
    if (is_period_multiple(t)) {
      initial_state(k, out);
      return true;
    }
    if (!norms_every_frame(tc)) return false;
    physics::fill_sphere_tracer(rotated_tracer(tc.initial, sph(c_).flow, t), sphere_, out);
    return true;
  }

  // 2D: the area integral (of q times the air density for divergent flows); 3D: the tracer
  // mass sum q dp area / g (kg for q in kg/kg).
  real_t tracer_mass(const Field& q, const Field* air) const {
    if (!air) return sphere_.integral(q);
    const auto v = q.view();
    const auto m = air->view();
    real_t local = 0;
    for (index_t k = 0; k < v.nz; ++k)
      for (index_t j = 0; j < v.ny; ++j) {
        real_t row = 0;
        for (index_t i = 0; i < v.nx; ++i) row += v(i, j, k) * m(i, j, k);
        local += row * sphere_.area(sphere_.lat_start() + j);
      }
    real_t global = 0;
    MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, q.grid().comm());
    return sphere_.nlev() > 1 ? global / physics::dcmip::kG : global;
  }

  void initial_state(size_t k, Field& q) const {
    const auto& tc = sph(c_).tracers[k];
    if (!tc.file.empty()) {
      read_initial_field(c_.path(tc.file), tc.variable, tc.units,
                         "physics.tracers." + tc.name + ".variable", q);
    } else if (tc.dcmip_index > 0) {
      physics::dcmip_tracer_init(dcmip_test(sph(c_).flow.type), tc.dcmip_index, sphere_,
                                 physics::dcmip_vertical_coordinate(sphere_.nlev()), q);
    } else {
      physics::fill_sphere_tracer(tc.initial, sphere_, q);
    }
  }

  const CaseConfig& c_;
  SphereGrid sphere_;
  Field area_;
  std::vector<std::unique_ptr<Field>> tracers_;
  const Field* air_ = nullptr;  // 3D: the stepper's air mass (dp, Pa)
};

class SphereCase : public TimeSteppingCase {
 public:
  std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) const override {
    return make_sphere_decomposition(comm, sph(c).grid, sph(c).scheme);
  }
  std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    if (name == "classical") return std::make_unique<SphereCaseStepper>(c, grid);
    if (name == "emulator") {
      throw ConfigError(c.file + ": the emulator stepper supports Cartesian grids only " +
                        "(grid.type = latlon)");
    }
    throw ConfigError(c.file + ": unknown stepper '" + name + "' for a sphere case");
  }
  std::unique_ptr<CaseModel> make_model(const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    return std::make_unique<SphereTransportModel>(c, grid);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("sphere_transport", SphereCase)

}  // namespace aeolus::app
