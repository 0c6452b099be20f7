#include "tools/app/hamiltonian_case.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

#include "grids/error.hpp"
#include "grids/field.hpp"
#include "solvers/hamiltonian_stepper.hpp"
#include "solvers/symplectic.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/hamiltonian_config.hpp"
#include "tools/app/series_output.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

const HamiltonianCaseConfig& ham(const CaseConfig& c) {
  return c.settings_as<HamiltonianCaseConfig>();
}

// Largest |x_i| over a series, and over its first and last tenth (the drift test of a
// symplectic method: a bounded error has similar maxima in both).
struct SeriesMax {
  double all = 0, first = 0, last = 0;
};
SeriesMax series_max(const std::vector<double>& x) {
  SeriesMax m;
  const size_t n = x.size(), tenth = std::max<size_t>(1, n / 10);
  for (size_t i = 0; i < n; ++i) {
    const double a = std::abs(x[i]);
    m.all = std::max(m.all, a);
    if (i < tenth) m.first = std::max(m.first, a);
    if (i + tenth >= n) m.last = std::max(m.last, a);
  }
  return m;
}

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// The system, its state field and the diagnostics of each sample.
class HamiltonianModel : public SeriesModel {
 public:
  HamiltonianModel(const CaseConfig& c, const CartesianGrid& grid)
      : SeriesModel(c, grid),
        h_(physics::make_hamiltonian(ham(c).system)),
        kepler_(dynamic_cast<const physics::Kepler*>(h_.get())),
        oscillator_(dynamic_cast<const physics::HarmonicOscillator*>(h_.get())) {
    h_->initial_state(q0_, p0_);
    e0_ = h_->energy(q0_.data(), p0_.data());
    escale_ = std::abs(e0_) > 0 ? std::abs(e0_) : 1.0;
    if (h_->has_angular_momentum()) {
      l0_ = h_->angular_momentum(q0_.data(), p0_.data());
      lscale_ = norm(l0_) > 0 ? norm(l0_) : 1.0;
    }
    qe_.resize(q0_.size());
    pe_.resize(p0_.size());
  }

  void initialise() override { pack_hamiltonian_state(q0_, p0_, state_); }
  real_t mass() override { return h_->energy(q(), p()); }
  std::string total_name() const override { return "energy"; }
  void diagnose(real_t t, bool last, std::map<std::string, double>& out) override;

 private:
  const real_t* q() const { return state_.data(); }
  const real_t* p() const { return state_.data() + q0_.size(); }
  bool has_angular() const { return !l0_.empty(); }
  // Systems with an exact solution from the default initial state.
  bool has_exact() const { return kepler_ || oscillator_; }
  SeriesFileSpec series_file(const io::OutputSpec& spec) override;
  void sample(real_t t, std::vector<double>& row) override;

  std::shared_ptr<const physics::SeparableHamiltonian> h_;
  const physics::Kepler* kepler_;
  const physics::HarmonicOscillator* oscillator_;
  std::vector<double> q0_, p0_, l0_, qe_, pe_;
  double e0_ = 0, escale_ = 1, lscale_ = 1;
  // Indices of the diagnosed series in the file (-1: not written for this system).
  int energy_error_ = -1, angular_error_ = -1, position_error_ = -1;
};

// output/<file>: (time, component) arrays of q and p, the per-sample diagnostics, the masses.
SeriesFileSpec HamiltonianModel::series_file(const io::OutputSpec& spec) {
  const auto& hc = ham(c_);
  const long long steps = std::llround(hc.t_end / hc.dt);
  const size_t nd = q0_.size(), nl = l0_.size();
  SeriesFileSpec f;
  f.path = spec.path;
  // Every output.every steps from step 0, and the last step.
  f.samples = size_t(steps / hc.output_every + 1 + (steps % hc.output_every ? 1 : 0));
  f.time_long_name = "time in the system's units (t_end / dt steps of dt)";
  f.series = {{"q", "1", "generalised coordinates q", "component", nd},
              {"p", "1", "conjugate momenta p", "component", nd},
              {"energy", "1", "Hamiltonian H(q, p)", "", 0},
              {"energy_error", "1", "relative energy error (H - H0) / |H0|", "", 0}};
  energy_error_ = 3;
  if (has_angular()) {
    f.series.push_back({"angular_momentum", "1",
                        nl == 1 ? "total angular momentum (z)" : "total angular momentum (x, y, z)",
                        "angular_component", nl});
    f.series.push_back({"angular_momentum_error", "1",
                        "relative change of the angular momentum |L - L0| / |L0|", "", 0});
    angular_error_ = int(f.series.size()) - 1;
  }
  if (has_exact()) {
    f.series.push_back(
        {"position_error", "1", "|q - q_exact| (exact solution of the system)", "", 0});
    position_error_ = int(f.series.size()) - 1;
  }
  f.statics = {
      {{"mass", "1", "mass of each component, T = sum p^2 / (2 m)", "component", 0}, h_->masses()}};
  f.text_attributes = run_file_attributes(c_);
  f.text_attributes.push_back({"system", h_->name()});
  f.text_attributes.push_back(
      {"method", symplectic_method_name(symplectic_method_from_name(hc.method))});
  f.number_attributes = {{"dt", hc.dt}};
  return f;
}

void HamiltonianModel::sample(real_t t, std::vector<double>& row) {
  const size_t d = q0_.size();
  double* r = row.data();
  r = std::copy(q(), q() + d, r);
  r = std::copy(p(), p() + d, r);
  const double e = h_->energy(q(), p());
  *r++ = e;
  *r++ = (e - e0_) / escale_;
  if (has_angular()) {
    const auto l = h_->angular_momentum(q(), p());
    r = std::copy(l.begin(), l.end(), r);
    double s = 0;
    for (size_t i = 0; i < l.size(); ++i) s += (l[i] - l0_[i]) * (l[i] - l0_[i]);
    *r++ = std::sqrt(s) / lscale_;
  }
  if (has_exact()) {
    if (kepler_) kepler_->exact(t, qe_.data(), pe_.data());
    if (oscillator_) oscillator_->exact(t, qe_.data(), pe_.data());
    double s = 0;
    for (size_t i = 0; i < d; ++i) s += (q()[i] - qe_[i]) * (q()[i] - qe_[i]);
    *r++ = std::sqrt(s);
  }
}

// At the end of the run: the drift test of a symplectic method (the largest relative energy
// error over the first and the last tenth of the samples: a bounded error has similar maxima in
// both), the angular momentum's change and the error against an exact solution, over every
// sample of the run (those before a restart included: SeriesOutput reads them back).
void HamiltonianModel::diagnose(real_t, bool last, std::map<std::string, double>& out) {
  if (!last || !out_ || out_->times().empty()) return;
  const auto& energy_error = out_->values(size_t(energy_error_));
  const SeriesMax em = series_max(energy_error);
  out["energy_error_max"] = em.all;
  out["energy_error_max_first_tenth"] = em.first;
  out["energy_error_max_last_tenth"] = em.last;
  out["energy_error_final"] = energy_error.back();
  if (angular_error_ >= 0) {
    out["angular_momentum_error_max"] = series_max(out_->values(size_t(angular_error_))).all;
  }
  if (position_error_ >= 0) {
    const auto& pe = out_->values(size_t(position_error_));
    out["position_error_max"] = series_max(pe).all;
    out["position_error_final"] = pe.back();
  }
}

// The common time loop with the system's stepper; --solver METHOD replaces integrator.method.
class HamiltonianCase : public TimeSteppingCase {
 public:
  RunResult run(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) const override {
    if (opt.solver.empty()) return TimeSteppingCase::run(comm, c, opt);
    SymplecticMethod method;
    try {
      method = symplectic_method_from_name(opt.solver, "--solver");
    } catch (const ConfigError& e) {
      throw ConfigError(c.file + ": " + e.what());
    }
    auto settings = std::make_shared<HamiltonianCaseConfig>(ham(c));
    settings->method = symplectic_method_name(method);
    CaseConfig with_method = c;
    with_method.settings = settings;
    RunOptions rest = opt;
    rest.solver.clear();
    return TimeSteppingCase::run(comm, with_method, rest);
  }
  bool steps_on_root() const override { return true; }
  std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) const override {
    return std::make_unique<CartesianGrid>(
        comm, hamiltonian_state_grid(physics::make_hamiltonian(ham(c).system)->dim()));
  }
  std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                        const CartesianGrid&) const override {
    if (name != "classical") {
      throw ConfigError(c.file + ": stepper '" + name +
                        "' is not a stepper of a Hamiltonian case (expected classical; choose "
                        "the integrator with integrator.method or --solver)");
    }
    const auto& hc = ham(c);
    return std::make_unique<HamiltonianStepper>(
        physics::make_hamiltonian(hc.system),
        symplectic_method_from_name(hc.method, "integrator.method"), hc.dt);
  }
  std::unique_ptr<CaseModel> make_model(const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    return std::make_unique<HamiltonianModel>(c, grid);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("hamiltonian", HamiltonianCase)

}  // namespace aeolus::app
