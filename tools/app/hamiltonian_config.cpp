#include "tools/app/hamiltonian_config.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "io/yaml_schema.hpp"
#include "solvers/symplectic.hpp"
#include "tools/app/case_type.hpp"

namespace aeolus::app {

namespace {

using io::Range;

// physics.system: `type` selects the system; only that system's keys are accepted.
void read_system(io::Section s, physics::HamiltonianParams& p) {
  p.type = s.get_choice("type", p.type, physics::hamiltonian_names());
  if (p.type == "harmonic_oscillator") {
    auto& h = p.harmonic_oscillator;
    h.mass = s.get_double("mass", h.mass, Range::positive());
    h.omega = s.get_double("omega", h.omega, Range::positive());
    h.q0 = s.get_double("q0", h.q0);
    h.p0 = s.get_double("p0", h.p0);
  } else if (p.type == "pendulum") {
    auto& h = p.pendulum;
    h.g_over_l = s.get_double("g_over_l", h.g_over_l, Range::positive());
    h.theta0 = s.get_double("theta0", h.theta0);
  } else if (p.type == "kepler") {
    auto& h = p.kepler;
    h.gm = s.get_double("gm", h.gm, Range::positive());
    h.eccentricity = s.get_double("eccentricity", h.eccentricity, Range{0.0, 1.0, false, true});
    h.semi_major_axis = s.get_double("semi_major_axis", h.semi_major_axis, Range::positive());
  } else if (p.type == "henon_heiles") {
    auto& h = p.henon_heiles;
    h.energy = s.get_double("energy", h.energy, Range{0.0, 1.0 / 6.0, true, true});
    h.y0 = s.get_double("y0", h.y0);
    h.py0 = s.get_double("py0", h.py0);
  } else {
    auto& h = p.nbody;
    h.g = s.get_double("g", h.g, Range::positive());
    h.softening = s.get_double("softening", h.softening, Range::non_negative());
    // Empty lists: the figure-eight choreography.
    h.masses = s.get_doubles("masses", h.masses, 0, 100000, Range::positive());
    h.positions = s.get_doubles("positions", h.positions, 0, 300000);
    h.velocities = s.get_doubles("velocities", h.velocities, 0, 300000);
    const size_t n = h.masses.size();
    if (h.positions.size() != 3 * n || h.velocities.size() != 3 * n) {
      throw ConfigError(s.where("masses") + ": physics.system needs 3 positions and 3 velocities " +
                        "per mass: " + std::to_string(n) + " masses, " +
                        std::to_string(h.positions.size()) + " positions, " +
                        std::to_string(h.velocities.size()) + " velocities");
    }
  }
  try {
    physics::make_hamiltonian(p);  // parameter checks that need the whole system
  } catch (const ConfigError& e) {
    throw ConfigError(s.where("type") + ": " + e.what());
  }
  s.finish();
}

void load_hamiltonian_case(io::Section& root, CaseConfig& c) {
  auto settings = std::make_shared<HamiltonianCaseConfig>();
  auto& cfg = *settings;
  c.equation = "hamiltonian";
  auto& h = cfg;
  {
    auto s = root.section("physics");
    s.get_choice("equation", "hamiltonian", {"hamiltonian"});
    read_system(s.section("system"), h.system);
    s.finish();
  }
  {
    auto s = root.section("integrator");
    h.method = s.get_choice("method", h.method, symplectic_method_names());
    h.dt = s.get_double("dt", h.dt, Range::positive());
    s.finish();
  }
  {
    auto s = root.section("time");
    h.t_end = s.get_double("t_end", h.t_end, Range::positive());
    // Steps cost ~10-100 ns here: the limit guards against a mistyped dt or t_end.
    c.time.max_steps = s.get_int("max_steps", 1000000000, Range::closed(1, 1e15));
    const double steps = h.t_end / h.dt;
    if (steps > double(c.time.max_steps)) {
      throw ConfigError(s.where("t_end") + ": time.t_end = " + fmt("%.9g", h.t_end) +
                        " at integrator.dt = " + fmt("%.9g", h.dt) + " is " + fmt("%.3g", steps) +
                        " steps, more than time.max_steps = " + std::to_string(c.time.max_steps) +
                        "; check integrator.dt and time.t_end, or raise time.max_steps");
    }
    if (std::abs(steps - std::round(steps)) > 1e-9 * std::max(1.0, steps)) {
      throw ConfigError(s.where("t_end") + ": time.t_end = " + fmt("%.17g", h.t_end) +
                        " is not a whole number of integrator.dt = " + fmt("%.17g", h.dt) +
                        " steps (" + fmt("%.6f", steps) + ")");
    }
    s.finish();
  }
  c.time.t_end = h.t_end;
  {
    auto s = root.section("output");
    c.output.file = "trajectory.nc";
    read_output_file(s, c);
    h.output_every = s.get_int("every", h.output_every, Range::closed(1, 1e15));
    s.finish();
  }
  // The time loop's terms: a sample every output.every steps (and the last).
  c.output.interval = real_t(h.output_every) * h.dt;
  {
    // A checkpoint is a few numbers and the loop's counters; the default writes one at the end.
    auto s = root.section("checkpoint");
    c.checkpoint.every_steps = s.get_int("every_steps", 1000000000, Range::closed(1, 1e15));
    c.checkpoint.keep = int(s.get_int("keep", c.checkpoint.keep, Range::closed(1, 1000)));
    s.finish();
  }
  {
    auto s = root.section("log");
    c.progress_every = s.get_int("progress_every", 100000, Range::closed(1, 1e15));
    c.progress_seconds =
        s.get_double("progress_seconds", c.progress_seconds, Range{0.0, 86400.0, true, false});
    s.finish();
  }
  c.settings = std::move(settings);
}

class HamiltonianReader : public CaseReader {
 public:
  std::string name() const override { return "hamiltonian"; }
  std::vector<std::string> equations() const override { return {"hamiltonian"}; }
  bool recognises(const CaseKind& k) const override { return k.equation == "hamiltonian"; }
  void read(io::Section& root, CaseConfig& c) const override { load_hamiltonian_case(root, c); }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(HamiltonianReader)

}  // namespace aeolus::app
