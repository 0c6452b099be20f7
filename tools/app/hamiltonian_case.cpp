#include "tools/app/hamiltonian_case.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/progress.hpp"
#include "io/collective.hpp"
#include "io/netcdf_file.hpp"
#include "solvers/symplectic.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/hamiltonian_config.hpp"
#include "tools/app/run_log.hpp"
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

struct Trajectory {
  std::vector<double> t, q, p, energy, energy_error, angular, angular_error, position_error;
};

void write_trajectory(const std::string& path, const CaseConfig& c,
                      const physics::SeparableHamiltonian& h, const std::string& method,
                      const Trajectory& tr, int l_count, bool exact) {
  const std::string part = path + ".part";
  {
    io::NetcdfFile f(part, io::NetcdfFile::Mode::create);
    const size_t nt = tr.t.size(), nd = size_t(h.dim());
    f.def_dim("time", nt);
    f.def_dim("component", nd);
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
    if (l_count > 0) {
      f.def_dim("angular_component", size_t(l_count));
      f.def_var("angular_momentum", "double", {"time", "angular_component"});
      f.put_att("angular_momentum", "units", "1");
      f.put_att("angular_momentum", "long_name",
                l_count == 1 ? "total angular momentum (z)" : "total angular momentum (x, y, z)");
      f.def_var("angular_momentum_error", "double", {"time"});
      f.put_att("angular_momentum_error", "units", "1");
      f.put_att("angular_momentum_error", "long_name",
                "relative change of the angular momentum |L - L0| / |L0|");
    }
    if (exact) {
      f.def_var("position_error", "double", {"time"});
      f.put_att("position_error", "units", "1");
      f.put_att("position_error", "long_name", "|q - q_exact| (exact solution of the system)");
    }
    f.put_att("", "Conventions", "CF-1.8");
    f.put_att("", "title", "Aeolus case " + c.name);
    f.put_att("", "source", std::string("aeolus ") + AEOLUS_VERSION + " (" + AEOLUS_GIT_HASH + ")");
    f.put_att("", "case", c.name);
    f.put_att("", "system", h.name());
    f.put_att("", "method", method);
    f.put_att("", "dt", ham(c).dt);
    f.put_att("", "config_hash", c.config_hash);
    f.end_def();
    f.put("time", {}, {}, tr.t.data());
    f.put("q", {}, {}, tr.q.data());
    f.put("p", {}, {}, tr.p.data());
    f.put("mass", {}, {}, h.masses().data());
    f.put("energy", {}, {}, tr.energy.data());
    f.put("energy_error", {}, {}, tr.energy_error.data());
    if (l_count > 0) {
      f.put("angular_momentum", {}, {}, tr.angular.data());
      f.put("angular_momentum_error", {}, {}, tr.angular_error.data());
    }
    if (exact) f.put("position_error", {}, {}, tr.position_error.data());
    f.close();
  }
  std::error_code ec;
  fs::rename(part, path, ec);
  if (ec) throw IoError(part + ": cannot rename to " + path + " (" + ec.message() + ")");
}

double norm(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

}  // namespace

namespace {

RunResult run_hamiltonian_case(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) {
  const int rank = comm_rank(comm), size = comm_size(comm);
  const auto& hc = ham(c);
  if (!opt.stepper.empty() || opt.restart || opt.stop_after_steps > 0) {
    throw ConfigError(c.file + ": --stepper, --restart and --stop-after-steps apply to field " +
                      "cases; a Hamiltonian case chooses its integrator with --solver METHOD (" +
                      comma_list(symplectic_method_names()) + ")");
  }
  const std::string method_name = opt.solver.empty() ? hc.method : opt.solver;
  SymplecticMethod method;
  try {
    method = symplectic_method_from_name(method_name, "--solver");
  } catch (const ConfigError& e) {
    throw ConfigError(c.file + ": " + e.what());
  }
  const std::string out_path = c.path("output/" + c.output.file);
  const std::string logs_dir = c.path("logs");
  prepare_target(comm, out_path, opt.overwrite);
  if (rank == 0) fs::create_directories(logs_dir);
  MPI_Barrier(comm);

  RunLog log(comm, logs_dir + "/run.log", !opt.quiet);
  JsonRecord prov = provenance_record(c.dir, c.config_hash, size, utc_now_iso8601());
  prov.set_string("equation", "hamiltonian");
  prov.set_string("system", hc.system.type);
  prov.set_string("method", symplectic_method_name(method));
  prov.set_number("dt", hc.dt);
  if (rank == 0) {
    start_run_logs(logs_dir, c.resolved_yaml);
    prov.write_atomic(logs_dir + "/run.json");
  }
  const long long steps = std::llround(hc.t_end / hc.dt);
  log.line("aeolus run " + c.name + ": " + hc.system.type + ", " + symplectic_method_name(method) +
           (is_symplectic(method) ? " (symplectic, order " : " (not symplectic, order ") +
           std::to_string(order(method)) + "), dt " + fmt("%.6g", hc.dt) + ", " +
           std::to_string(steps) + " steps to t = " + fmt("%.6g", hc.t_end) +
           (size > 1 ? ", integrated on rank 0" : ""));

  RunResult result;
  std::string error;
  JsonRecord figures;
  if (rank == 0) {
    try {
      const auto h = physics::make_hamiltonian(hc.system);
      std::vector<double> q, p;
      h->initial_state(q, p);
      const double e0 = h->energy(q.data(), p.data());
      const double escale = std::abs(e0) > 0 ? std::abs(e0) : 1.0;
      const bool has_l = h->has_angular_momentum();
      const std::vector<double> l0 =
          has_l ? h->angular_momentum(q.data(), p.data()) : std::vector<double>{};
      const double lscale = has_l && norm(l0) > 0 ? norm(l0) : 1.0;
      // Systems with an exact solution from the default initial state.
      const auto* kepler = dynamic_cast<const physics::Kepler*>(h.get());
      const auto* oscillator = dynamic_cast<const physics::HarmonicOscillator*>(h.get());
      const bool exact = kepler || oscillator;
      std::vector<double> qe(q.size()), pe(p.size());

      Trajectory tr;
      const auto t0 = std::chrono::steady_clock::now();
      double last_line = 0;
      const auto record = [&](long step, real_t t, const real_t* qs, const real_t* ps) {
        tr.t.push_back(t);
        tr.q.insert(tr.q.end(), qs, qs + q.size());
        tr.p.insert(tr.p.end(), ps, ps + p.size());
        const double e = h->energy(qs, ps);
        tr.energy.push_back(e);
        tr.energy_error.push_back((e - e0) / escale);
        if (has_l) {
          const auto l = h->angular_momentum(qs, ps);
          tr.angular.insert(tr.angular.end(), l.begin(), l.end());
          double d = 0;
          for (size_t i = 0; i < l.size(); ++i) d += (l[i] - l0[i]) * (l[i] - l0[i]);
          tr.angular_error.push_back(std::sqrt(d) / lscale);
        }
        if (exact) {
          if (kepler) kepler->exact(t, qe.data(), pe.data());
          if (oscillator) oscillator->exact(t, qe.data(), pe.data());
          double d = 0;
          for (size_t i = 0; i < q.size(); ++i) d += (qs[i] - qe[i]) * (qs[i] - qe[i]);
          tr.position_error.push_back(std::sqrt(d));
        }
        // Every log.progress_every steps, and at least every log.progress_seconds.
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (step > 0 &&
            (step % c.progress_every < hc.output_every || wall - last_line >= c.progress_seconds)) {
          last_line = wall;
          log.line("step " + std::to_string(step) + " t = " + fmt("%.6g", t) +
                   ", relative energy error " + fmt("%.3e", tr.energy_error.back()) + "  wall " +
                   human_seconds(wall) + "  ETA " +
                   human_seconds(wall * double(steps - step) / double(step)));
        }
      };
      SymplecticWorkspace ws;
      const SymplecticStats st = integrate(*h, method, hc.dt, long(steps), q.data(), p.data(), ws,
                                           record, long(hc.output_every));
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      write_trajectory(out_path, c, *h, symplectic_method_name(method), tr,
                       has_l ? int(l0.size()) : 0, exact);
      const SeriesMax em = series_max(tr.energy_error);
      log.line("relative energy error: max " + fmt("%.3e", em.all) + ", max over the first tenth " +
               fmt("%.3e", em.first) + ", over the last tenth " + fmt("%.3e", em.last) +
               " (ratio " + fmt("%.2f", em.first > 0 ? em.last / em.first : 0.0) + ")");
      figures.set_number("energy_error_max", em.all);
      figures.set_number("energy_error_max_first_tenth", em.first);
      figures.set_number("energy_error_max_last_tenth", em.last);
      figures.set_number("energy_error_final", tr.energy_error.back());
      if (has_l) {
        const SeriesMax lm = series_max(tr.angular_error);
        log.line("relative angular momentum change: max " + fmt("%.3e", lm.all));
        figures.set_number("angular_momentum_error_max", lm.all);
      }
      if (exact) {
        const SeriesMax pm = series_max(tr.position_error);
        log.line("position error against the exact solution: max " + fmt("%.3e", pm.all) +
                 ", final " + fmt("%.3e", tr.position_error.back()));
        figures.set_number("position_error_max", pm.all);
        figures.set_number("position_error_final", tr.position_error.back());
      }
      log.line(std::to_string(st.steps) + " steps, " + std::to_string(st.force_evals) +
               " force evaluations, " + fmt("%.3f", seconds) + " s (" +
               fmt("%.3g", seconds / double(std::max<long>(1, st.steps)) * 1e9) + " ns per step)");
      figures.set_int("steps", st.steps);
      figures.set_int("force_evaluations", st.force_evals);
      figures.set_number("seconds", seconds);
      result.steps = st.steps;
      result.t = tr.t.back();
    } catch (const Error& e) {
      error = e.what();
    }
  }
  error = io::detail::broadcast_string(comm, error);
  // Every rank returns the same result.
  long long steps_done = result.steps;
  double t_done = result.t;
  MPI_Bcast(&steps_done, 1, MPI_LONG_LONG, 0, comm);
  MPI_Bcast(&t_done, 1, MPI_DOUBLE, 0, comm);
  result.steps = steps_done;
  result.t = t_done;
  if (!error.empty()) {
    prov.set_string("status", "failed");
    prov.set_string("error", error);
    prov.set_string("end_time", utc_now_iso8601());
    if (rank == 0) prov.write_atomic(logs_dir + "/run.json");
    throw NumericsError(error);
  }
  prov.set_raw("figures", figures.str());
  prov.set_string("status", "completed");
  prov.set_string("output", out_path);
  prov.set_string("end_time", utc_now_iso8601());
  if (rank == 0) prov.write_atomic(logs_dir + "/run.json");
  log.line("done: output " + out_path);
  result.output_path = out_path;
  return result;
}

// One integration on rank 0 (not the field time loop: the state is a few particles).
class HamiltonianCase : public CaseCommands {
 public:
  RunResult run(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) const override {
    return run_hamiltonian_case(comm, c, opt);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("hamiltonian", HamiltonianCase)

}  // namespace aeolus::app
