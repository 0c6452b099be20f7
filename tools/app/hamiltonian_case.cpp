#include "tools/app/hamiltonian_case.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

#include "grids/error.hpp"
#include "grids/field.hpp"
#include "io/netcdf_file.hpp"
#include "solvers/hamiltonian_stepper.hpp"
#include "solvers/symplectic.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/hamiltonian_config.hpp"
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

// The stored samples of a run: the state and the diagnostics of each frame, in file order.
struct Trajectory {
  std::vector<double> t, q, p, energy, energy_error, angular, angular_error, position_error;
};

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

class TrajectoryOutput;

// The system, its state field and the diagnostics of each sample.
class HamiltonianModel : public CaseModel {
 public:
  HamiltonianModel(const CaseConfig& c, const CartesianGrid& grid)
      : c_(c),
        h_(physics::make_hamiltonian(ham(c).system)),
        state_(grid, "state"),
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

  std::vector<Field*> fields() override { return {&state_}; }
  void describe_output(io::OutputSpec&) override {}  // its own file: TrajectoryOutput
  std::unique_ptr<FrameOutput> open_output(const CartesianGrid& grid, const io::OutputSpec& spec,
                                           bool resume, size_t next_frame) override;
  void initialise() override { pack_hamiltonian_state(q0_, p0_, state_); }
  std::vector<double> frame_scalars(real_t) override { return {}; }
  real_t mass() override { return h_->energy(q(), p()); }
  std::string total_name() const override { return "energy"; }
  void diagnose(real_t t, bool last, std::map<std::string, double>& out) override;

  // The sample of the current state at time t, appended to tr_.
  void record(real_t t) {
    const size_t d = q0_.size();
    tr_.t.push_back(t);
    tr_.q.insert(tr_.q.end(), q(), q() + d);
    tr_.p.insert(tr_.p.end(), p(), p() + d);
    const double e = h_->energy(q(), p());
    tr_.energy.push_back(e);
    tr_.energy_error.push_back((e - e0_) / escale_);
    if (has_angular()) {
      const auto l = h_->angular_momentum(q(), p());
      tr_.angular.insert(tr_.angular.end(), l.begin(), l.end());
      double s = 0;
      for (size_t i = 0; i < l.size(); ++i) s += (l[i] - l0_[i]) * (l[i] - l0_[i]);
      tr_.angular_error.push_back(std::sqrt(s) / lscale_);
    }
    if (has_exact()) {
      if (kepler_) kepler_->exact(t, qe_.data(), pe_.data());
      if (oscillator_) oscillator_->exact(t, qe_.data(), pe_.data());
      double s = 0;
      for (size_t i = 0; i < d; ++i) s += (q()[i] - qe_[i]) * (q()[i] - qe_[i]);
      tr_.position_error.push_back(std::sqrt(s));
    }
  }

  const physics::SeparableHamiltonian& system() const { return *h_; }
  bool has_angular() const { return !l0_.empty(); }
  int angular_count() const { return int(l0_.size()); }
  // Systems with an exact solution from the default initial state.
  bool has_exact() const { return kepler_ || oscillator_; }
  Trajectory& trajectory() { return tr_; }
  const CaseConfig& config() const { return c_; }

 private:
  const real_t* q() const { return state_.data(); }
  const real_t* p() const { return state_.data() + q0_.size(); }

  const CaseConfig& c_;
  std::shared_ptr<const physics::SeparableHamiltonian> h_;
  Field state_;
  const physics::Kepler* kepler_;
  const physics::HarmonicOscillator* oscillator_;
  std::vector<double> q0_, p0_, l0_, qe_, pe_;
  double e0_ = 0, escale_ = 1, lscale_ = 1;
  Trajectory tr_;
};

// output/<file> of a Hamiltonian run: (time, component) arrays of q and p, the per-sample
// diagnostics, the masses. The time dimension has its final size from the start (the number of
// samples is known: every output.every steps and the last), each sample is written and synced
// as it comes, so that --restart reopens PATH.part and reads the samples back.
class TrajectoryOutput : public FrameOutput {
 public:
  TrajectoryOutput(HamiltonianModel& m, const std::string& path, bool resume, size_t next_frame)
      : m_(m), path_(path), part_(path + ".part"), nd_(size_t(m.system().dim())) {
    const auto& hc = ham(m.config());
    const long long steps = std::llround(hc.t_end / hc.dt);
    frames_total_ = size_t(steps / hc.output_every + 1 + (steps % hc.output_every ? 1 : 0));
    if (resume) {
      reopen(next_frame);
    } else {
      create();
    }
  }

  void write_frame(real_t t) override {
    if (frames_ >= frames_total_) {
      throw std::logic_error(part_ + ": more samples than the " + std::to_string(frames_total_) +
                             " the run was sized for");
    }
    m_.record(t);
    const Trajectory& tr = m_.trajectory();
    const size_t k = frames_;
    file_->put("q", {k, 0}, {1, nd_}, tr.q.data() + k * nd_);
    file_->put("p", {k, 0}, {1, nd_}, tr.p.data() + k * nd_);
    file_->put("energy", {k}, {1}, &tr.energy[k]);
    file_->put("energy_error", {k}, {1}, &tr.energy_error[k]);
    if (m_.has_angular()) {
      const size_t nl = size_t(m_.angular_count());
      file_->put("angular_momentum", {k, 0}, {1, nl}, tr.angular.data() + k * nl);
      file_->put("angular_momentum_error", {k}, {1}, &tr.angular_error[k]);
    }
    if (m_.has_exact()) file_->put("position_error", {k}, {1}, &tr.position_error[k]);
    // Time last: a sample whose time is written is complete.
    file_->put("time", {k}, {1}, &tr.t[k]);
    file_->sync();
    ++frames_;
  }

  size_t frames_written() const override { return frames_; }

  void finalize() override {
    if (frames_ != frames_total_) {
      throw std::logic_error(part_ + ": " + std::to_string(frames_) + " samples written, " +
                             std::to_string(frames_total_) + " expected");
    }
    file_->close();
    file_.reset();
    std::error_code ec;
    fs::rename(part_, path_, ec);
    if (ec) throw IoError(part_ + ": cannot rename to " + path_ + " (" + ec.message() + ")");
  }

 private:
  void create() {
    const auto& c = m_.config();
    const auto& h = m_.system();
    if (fs::exists(path_)) throw IoError(path_ + ": exists (the run refuses to replace it)");
    std::error_code ec;
    fs::remove(part_, ec);
    file_ = std::make_unique<io::NetcdfFile>(part_, io::NetcdfFile::Mode::create);
    io::NetcdfFile& f = *file_;
    f.def_dim("time", frames_total_);
    f.def_dim("component", nd_);
    f.def_var("time", "double", {"time"});
    f.put_att("time", "units", "1");
    f.put_att("time", "long_name", "time in the system's units (t_end / dt steps of dt)");
    f.def_var("q", "double", {"time", "component"});
    f.put_att("q", "units", "1");
    f.put_att("q", "long_name", "generalised coordinates q");
    f.def_var("p", "double", {"time", "component"});
    f.put_att("p", "units", "1");
    f.put_att("p", "long_name", "conjugate momenta p");
    f.def_var("mass", "double", {"component"});
    f.put_att("mass", "units", "1");
    f.put_att("mass", "long_name", "mass of each component, T = sum p^2 / (2 m)");
    f.def_var("energy", "double", {"time"});
    f.put_att("energy", "units", "1");
    f.put_att("energy", "long_name", "Hamiltonian H(q, p)");
    f.def_var("energy_error", "double", {"time"});
    f.put_att("energy_error", "units", "1");
    f.put_att("energy_error", "long_name", "relative energy error (H - H0) / |H0|");
    if (m_.has_angular()) {
      const int nl = m_.angular_count();
      f.def_dim("angular_component", size_t(nl));
      f.def_var("angular_momentum", "double", {"time", "angular_component"});
      f.put_att("angular_momentum", "units", "1");
      f.put_att("angular_momentum", "long_name",
                nl == 1 ? "total angular momentum (z)" : "total angular momentum (x, y, z)");
      f.def_var("angular_momentum_error", "double", {"time"});
      f.put_att("angular_momentum_error", "units", "1");
      f.put_att("angular_momentum_error", "long_name",
                "relative change of the angular momentum |L - L0| / |L0|");
    }
    if (m_.has_exact()) {
      f.def_var("position_error", "double", {"time"});
      f.put_att("position_error", "units", "1");
      f.put_att("position_error", "long_name", "|q - q_exact| (exact solution of the system)");
    }
    f.put_att("", "Conventions", "CF-1.8");
    f.put_att("", "title", "Aeolus case " + c.name);
    f.put_att("", "source", std::string("aeolus ") + AEOLUS_VERSION + " (" + AEOLUS_GIT_HASH + ")");
    f.put_att("", "case", c.name);
    f.put_att("", "system", h.name());
    f.put_att("", "method", symplectic_method_name(symplectic_method_from_name(ham(c).method)));
    f.put_att("", "dt", ham(c).dt);
    f.put_att("", "config_hash", c.config_hash);
    f.end_def();
    f.put("mass", {}, {}, h.masses().data());
    f.sync();
  }

  // PATH.part of an interrupted run: its first `next_frame` samples back into the model.
  void reopen(size_t next_frame) {
    if (!fs::exists(part_)) throw IoError(part_ + ": cannot resume output: file not found");
    file_ = std::make_unique<io::NetcdfFile>(part_, io::NetcdfFile::Mode::write);
    io::NetcdfFile& f = *file_;
    if (f.var_shape("q") != std::vector<size_t>{frames_total_, nd_} || next_frame > frames_total_) {
      throw IoError(part_ + ": cannot resume at sample " + std::to_string(next_frame) +
                    ": the file does not have the " + std::to_string(frames_total_) + " x " +
                    std::to_string(nd_) + " samples of this case");
    }
    Trajectory& tr = m_.trajectory();
    const size_t n = next_frame, nl = size_t(m_.angular_count());
    // Series (time) and rows (time, width): their first n samples.
    const auto series = [&](const char* var, std::vector<double>& into) {
      into.resize(n);
      if (n > 0) f.get(var, {0}, {n}, into.data());
    };
    const auto rows = [&](const char* var, std::vector<double>& into, size_t width) {
      into.resize(n * width);
      if (n > 0) f.get(var, {0, 0}, {n, width}, into.data());
    };
    series("time", tr.t);
    rows("q", tr.q, nd_);
    rows("p", tr.p, nd_);
    series("energy", tr.energy);
    series("energy_error", tr.energy_error);
    if (m_.has_angular()) {
      rows("angular_momentum", tr.angular, nl);
      series("angular_momentum_error", tr.angular_error);
    }
    if (m_.has_exact()) series("position_error", tr.position_error);
    frames_ = next_frame;
  }

  HamiltonianModel& m_;
  const std::string path_, part_;
  const size_t nd_;
  size_t frames_total_ = 0, frames_ = 0;
  std::unique_ptr<io::NetcdfFile> file_;
};

std::unique_ptr<FrameOutput> HamiltonianModel::open_output(const CartesianGrid&,
                                                           const io::OutputSpec& spec, bool resume,
                                                           size_t next_frame) {
  if (!resume) tr_ = Trajectory{};
  return std::make_unique<TrajectoryOutput>(*this, spec.path, resume, next_frame);
}

// At the end of the run: the drift test of a symplectic method (the largest relative energy
// error over the first and the last tenth of the samples: a bounded error has similar maxima in
// both), the angular momentum's change and the error against an exact solution.
void HamiltonianModel::diagnose(real_t, bool last, std::map<std::string, double>& out) {
  if (!last || tr_.t.empty()) return;
  const SeriesMax em = series_max(tr_.energy_error);
  out["energy_error_max"] = em.all;
  out["energy_error_max_first_tenth"] = em.first;
  out["energy_error_max_last_tenth"] = em.last;
  out["energy_error_final"] = tr_.energy_error.back();
  if (has_angular()) out["angular_momentum_error_max"] = series_max(tr_.angular_error).all;
  if (has_exact()) {
    out["position_error_max"] = series_max(tr_.position_error).all;
    out["position_error_final"] = tr_.position_error.back();
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
