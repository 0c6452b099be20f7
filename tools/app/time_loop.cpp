// The common time loop of every time-stepping case (TimeSteppingCase::run).
#include "tools/app/case_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/progress.hpp"
#include "io/checkpoint.hpp"
#include "io/collective.hpp"
#include "io/netcdf_file.hpp"
#include "io/output_writer.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

// Every rank decides identically from the (shared) file system; rank 0 does the removal.
void remove_if_exists(MPI_Comm comm, const std::string& path) {
  if (comm_rank(comm) == 0) {
    std::error_code ec;
    fs::remove(path, ec);
  }
  MPI_Barrier(comm);
}

std::vector<std::string> checkpoint_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("ckpt_", 0) == 0) out.push_back(e.path().string());
  }
  return out;
}

io::OutputSpec output_spec(const CaseConfig& c, const std::string& stepper, CaseModel& model) {
  io::OutputSpec spec;
  spec.path = c.path("output/" + c.output.file);
  spec.attributes = {
      {"title", "Aeolus case " + c.name},
      {"source", std::string("aeolus ") + AEOLUS_VERSION + " (" + AEOLUS_GIT_HASH + ")"},
      {"case", c.name},
      {"stepper", stepper},
      {"config_hash", c.config_hash}};
  model.describe_output(spec);
  return spec;
}

}  // namespace

RunResult TimeSteppingCase::run(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) const {
  if (!opt.solver.empty()) {
    throw ConfigError("--solver applies to elliptic and hamiltonian cases (physics.equation); " +
                      c.file + " is time-dependent (choose its stepper with --stepper)");
  }
  const int rank = comm_rank(comm), size = comm_size(comm);
  const std::string stepper_name = opt.stepper.empty() ? c.stepper : opt.stepper;
  const auto names = stepper_names();
  if (std::find(names.begin(), names.end(), stepper_name) == names.end()) {
    std::string all;
    for (auto& n : names) all += (all.empty() ? "" : ", ") + n;
    throw ConfigError("--stepper " + stepper_name + ": unknown stepper (expected one of " + all +
                      ")");
  }
  const std::string out_path = c.path("output/" + c.output.file);
  const std::string diag_path = c.path("output/diagnostics.nc");
  const std::string part_path = out_path + ".part";
  const std::string ckpt_dir = c.path("checkpoints");
  const std::string logs_dir = c.path("logs");

  // Results of an earlier run are never replaced silently.
  if (opt.restart && opt.overwrite)
    throw ConfigError("--restart and --overwrite exclude each other");
  if (!opt.restart) {
    const bool have_old = fs::exists(out_path) || fs::exists(part_path) || fs::exists(diag_path) ||
                          !checkpoint_files(ckpt_dir).empty();
    if (have_old && !opt.overwrite) {
      throw IoError(c.path("output") + ": results of an earlier run exist (" +
                    (fs::exists(out_path)    ? out_path
                     : fs::exists(part_path) ? part_path
                     : fs::exists(diag_path) ? diag_path
                                             : ckpt_dir) +
                    "); pass --overwrite to replace them or --restart to continue");
    }
    if (have_old) {
      remove_if_exists(comm, out_path);
      remove_if_exists(comm, part_path);
      remove_if_exists(comm, diag_path);
      if (rank == 0) {
        for (auto& f : checkpoint_files(ckpt_dir)) fs::remove(f);
      }
      MPI_Barrier(comm);
    }
  }
  if (rank == 0) {
    fs::create_directories(c.path("output"));
    fs::create_directories(ckpt_dir);
    fs::create_directories(logs_dir);
  }
  MPI_Barrier(comm);

  auto grid = make_grid(comm, c);
  auto stepper = app::make_stepper(stepper_name, c, *grid);
  auto model = make_model(c, *grid);
  model->bind_stepper_state(stepper->state_fields());
  const auto spec = output_spec(c, stepper_name, *model);
  const std::vector<Field*> fields = model->fields();
  const std::vector<const Field*> out_fields = model->output_fields();
  // Checkpoints hold the fields and the stepper's own state (e.g. air mass).
  std::vector<Field*> ckpt_fields = fields;
  for (Field* f : stepper->state_fields()) ckpt_fields.push_back(f);
  std::vector<const Field*> ckpt_const(ckpt_fields.begin(), ckpt_fields.end());
  std::map<std::string, double> diagnostics;
  auto event_times = model->event_times();
  std::sort(event_times.begin(), event_times.end());

  RunLog log(comm, logs_dir + "/run.log", !opt.quiet);
  const std::string start = utc_now_iso8601();
  JsonRecord prov = provenance_record(c.dir, c.config_hash, size, start);
  prov.set_string("stepper", stepper_name);
  if (rank == 0) start_run_logs(logs_dir, c.resolved_yaml);

  real_t t = 0;
  long long step = 0;
  real_t next_output = c.output.interval;
  std::unique_ptr<io::OutputWriter> writer;
  real_t mass0 = 0;
  if (opt.restart) {
    const std::string ck = io::latest_checkpoint(ckpt_dir);
    if (ck.empty()) throw IoError(ckpt_dir + ": no complete checkpoint to restart from");
    auto info = io::read_checkpoint(ck, ckpt_fields);
    if (info.config_hash != c.config_hash) {
      log.line("warning: case.yaml changed since checkpoint " + ck + " (config hash " +
               info.config_hash + " -> " + c.config_hash + ")");
    }
    if (fs::exists(out_path) && !fs::exists(part_path)) {
      if (info.t >= c.time.t_end * (1 - 1e-12)) {
        log.line("run already complete at t = " + fmt("%.6g", info.t) + " (" + out_path + ")");
        RunResult r;
        r.t = info.t;
        r.steps = info.step;
        r.output_path = out_path;
        return r;
      }
      throw IoError(out_path + " is complete but checkpoint " + ck +
                    " is earlier than time.t_end; rerun with --overwrite to extend a finished run");
    }
    t = info.t;
    step = info.step;
    next_output = info.next_output_time;
    mass0 = info.extra.count("mass_initial") ? info.extra.at("mass_initial") : model->mass();
    for (const auto& [key, value] : info.extra) {
      if (key.rfind("diag_", 0) == 0) diagnostics[key.substr(5)] = value;
    }
    writer = io::OutputWriter::resume(*grid, spec, size_t(info.output_frames));
    prov.set_string("restarted_from", ck);
    log.line("restart from " + ck + " at step " + std::to_string(step) + ", t = " + fmt("%.9g", t));
  } else {
    model->initialise();
    mass0 = model->mass();
    writer = std::make_unique<io::OutputWriter>(*grid, spec);
    writer->write_frame(0.0, out_fields, model->frame_scalars(0.0));
  }
  if (rank == 0) prov.write_atomic(logs_dir + "/run.json");

  // An emulator has one trained step: output times and t_end must fall on its multiples.
  const real_t dt_fixed_probe = stepper->max_dt(*fields.front(), t);
  const bool fixed_step = stepper->fixed_step();
  if (fixed_step) {
    for (auto [key, value] : {std::pair<const char*, real_t>{"output.interval", c.output.interval},
                              {"time.t_end", c.time.t_end}}) {
      const real_t k = value / dt_fixed_probe;
      if (std::abs(k - std::round(k)) > 1e-9 * std::max(1.0, k)) {
        throw ConfigError(c.file + ": " + key + " = " + fmt("%.9g", value) +
                          " is not a multiple of the fixed step " + fmt("%.9g", dt_fixed_probe) +
                          " of stepper " + stepper_name);
      }
    }
  }

  log.line("aeolus run " + c.name + ": stepper " + stepper_name + ", grid " +
           std::to_string(c.grid.n[0]) + (c.grid.dim > 1 ? "x" + std::to_string(c.grid.n[1]) : "") +
           (c.grid.dim > 2 ? "x" + std::to_string(c.grid.n[2]) : "") + ", " + std::to_string(size) +
           " rank(s), t_end " + fmt("%.6g", c.time.t_end));
  if (size > 1) {
    // The decomposition, for whoever tunes the rank count: the smallest subdomain, and whether
    // halos wider than it go through the multi-hop scatter (CartesianGrid::halo_scatter).
    std::string procs, smallest;
    for (int d = 0; d < grid->dim(); ++d) {
      const auto& own = grid->ownership(d);
      procs += (d ? "x" : "") + std::to_string(own.size());
      smallest += (d ? "x" : "") + std::to_string(*std::min_element(own.begin(), own.end()));
    }
    log.line("decomposition: " + procs + " ranks, smallest subdomain " + smallest + " cells" +
             (grid->halo_scatter() ? ", narrower than the halo of " + std::to_string(grid->halo()) +
                                         ": multi-hop halo exchange"
                                   : ""));
  }
  const auto wall0 = std::chrono::steady_clock::now();
  double last_progress_wall = 0;
  const real_t t_start = t;
  std::string last_ckpt;
  const real_t eps_t = 1e-9 * std::max(c.output.interval, c.time.t_end) * 1e-3;

  auto save_checkpoint = [&]() {
    io::CheckpointInfo info;
    info.step = step;
    info.t = t;
    info.output_frames = (long long)writer->frames_written();
    info.next_output_time = next_output;
    info.stepper = stepper_name;
    info.config_hash = c.config_hash;
    info.extra["mass_initial"] = mass0;
    for (const auto& [key, value] : diagnostics) info.extra["diag_" + key] = value;
    last_ckpt = io::write_checkpoint(ckpt_dir, info, ckpt_const, c.checkpoint.keep);
  };

  long long steps_here = 0;
  const auto result = [&](const std::string& path) {  // collective (the mass is reduced)
    RunResult r;
    r.steps = step;
    r.t = t;
    r.mass_initial = mass0;
    r.mass_final = model->mass();
    r.output_path = path;
    return r;
  };
  try {
    while (t < c.time.t_end - eps_t) {
      if (opt.stop_after_steps > 0 && steps_here >= opt.stop_after_steps) {
        save_checkpoint();
        log.line("stopped after " + std::to_string(steps_here) + " steps at t = " + fmt("%.9g", t) +
                 " (checkpoint " + last_ckpt + "); continue with --restart");
        prov.set_string("status", "stopped");
        prov.set_string("end_time", utc_now_iso8601());
        prov.set_int("steps", step);
        if (rank == 0) prov.write_atomic(logs_dir + "/run.json");
        return result(part_path);
      }
      const real_t dt_stable = stepper->max_dt(*fields.front(), t);
      real_t dt = dt_stable;
      if (c.time.dt_max > 0) dt = std::min(dt, c.time.dt_max);
      // The steps still needed at this step size (which only a faster flow makes smaller): a
      // run that cannot reach t_end within time.max_steps stops now, not after days of tiny
      // steps (a velocity of 1e19 m/s once took CFL steps of 1e-21 s towards t_end = 2).
      const double steps_left = double(c.time.t_end - t) / double(dt);
      if (!(double(step) + steps_left <= double(c.time.max_steps))) {
        throw NumericsError(
            c.file + ": time.max_steps = " + std::to_string(c.time.max_steps) +
            " would be exceeded: at step " + std::to_string(step) + ", t = " + fmt("%.9g", t) +
            ", the time step is " + fmt("%.3g", dt) + " (stepper " + stepper_name +
            (c.time.dt_max > 0 && dt == c.time.dt_max ? ", time.dt_max" : ", stability limit") +
            "), so time.t_end = " + fmt("%.9g", c.time.t_end) + " needs about " +
            fmt("%.3g", steps_left) +
            " more steps; check the velocities, time.cfl and time.t_end, or raise "
            "time.max_steps");
      }
      real_t next_event = std::min(next_output, c.time.t_end);
      for (real_t te : event_times) {
        if (te > t + eps_t) {
          next_event = std::min(next_event, te);
          break;
        }
      }
      const real_t to_event = next_event - t;
      if (fixed_step) {
        dt = dt_stable;
      } else if (to_event > 0) {
        // Land exactly on the next output time / t_end in equal steps (no sliver step).
        const real_t n = std::ceil(to_event / dt * (1 - 1e-12));
        dt = to_event / std::max<real_t>(n, 1);
      }
      if (!(dt > 0)) {
        throw NumericsError("time step " + fmt("%.3g", dt) + " at t = " + fmt("%.9g", t) +
                            " (the velocity or the state is not finite?)");
      }
      const real_t cfl = stepper->courant(t, dt);
      stepper->step_all(fields, t, dt);
      ++step;
      ++steps_here;
      index_t bad = 0;
      std::string bad_name;
      for (Field* f : fields) {
        const index_t n = f->count_nonfinite();
        if (n > 0 && bad == 0) bad_name = f->name();
        bad += n;
      }
      if (bad > 0) {
        throw NumericsError(
            "non-finite values (NaN/Inf) in " + std::to_string(bad) + " cells of " + bad_name +
            " at step " + std::to_string(step) + ", t = " + fmt("%.9g", t) +
            "; nothing of this step was written" +
            (last_ckpt.empty() ? std::string("") : "; last good checkpoint: " + last_ckpt));
      }
      // t accumulates t += dt; snap to the output time / t_end the step was meant to hit, so
      // frame times are exact.
      if (std::abs(t - next_output) <= eps_t) t = next_output;
      if (std::abs(t - c.time.t_end) <= eps_t) t = c.time.t_end;
      for (real_t te : event_times) {
        if (std::abs(t - te) <= eps_t) {
          t = te;
          model->diagnose(t, false, diagnostics);
        }
      }
      const bool output_now = t >= next_output - eps_t;
      const bool last = t >= c.time.t_end - eps_t;
      real_t mass = 0;
      // A progress line every log.progress_every steps and at least every log.progress_seconds of
      // wall time; rank 0's clock decides for all ranks (the mass is a collective sum).
      const double wall_now =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
      int progress_now = step % c.progress_every == 0 || last ||
                         wall_now - last_progress_wall >= c.progress_seconds;
      if (size > 1) MPI_Bcast(&progress_now, 1, MPI_INT, 0, comm);
      if (output_now || progress_now) mass = model->mass();
      if (output_now) {
        writer->write_frame(t, out_fields, model->frame_scalars(t));
        // k * interval, not a running sum, so that frame times do not drift.
        next_output = real_t(writer->frames_written()) * c.output.interval;
      }
      if (step % c.checkpoint.every_steps == 0 || last) save_checkpoint();
      if (progress_now) {
        const double wall = wall_now;
        last_progress_wall = wall_now;
        const double eta = wall * (c.time.t_end - t) / std::max(t - t_start, 1e-300);
        std::ostringstream os;
        os << "step " << step << "  t " << fmt("%.6e", t) << "  dt " << fmt("%.3e", dt) << "  CFL "
           << fmt("%.3f", cfl) << "  mass " << fmt("%.15e", mass) << " (rel "
           << fmt("%+.2e", mass0 != 0 ? (mass - mass0) / std::abs(mass0) : mass - mass0)
           << ")  wall " << human_seconds(wall) << "  ETA " << human_seconds(eta);
        log.line(os.str());
      }
    }
    model->diagnose(t, true, diagnostics);
    writer->finalize();
  } catch (const Error& e) {
    prov.set_string("status", "failed");
    prov.set_string("error", e.what());
    prov.set_string("end_time", utc_now_iso8601());
    prov.set_int("steps", step);
    if (rank == 0) prov.write_atomic(logs_dir + "/run.json");
    throw;
  }

  const RunResult r = result(out_path);
  prov.set_string("status", "completed");
  prov.set_string("end_time", utc_now_iso8601());
  prov.set_int("steps", step);
  prov.set_number("t_final", t);
  prov.set_number("mass_initial", r.mass_initial);
  prov.set_number("mass_final", r.mass_final);
  prov.set_number(
      "mass_relative_change",
      r.mass_initial != 0 ? (r.mass_final - r.mass_initial) / std::abs(r.mass_initial) : 0);
  prov.set_string("output", out_path);
  if (!diagnostics.empty()) {
    // The same numbers in the run log, a few per line.
    std::string line;
    int on_line = 0;
    for (const auto& [key, value] : diagnostics) {
      line += (on_line ? "  " : "diagnostics: ") + key + " " + fmt("%.6g", value);
      if (++on_line == 4) {
        log.line(line);
        line.clear();
        on_line = 0;
      }
    }
    if (on_line) log.line(line);
    std::string obj = "{";
    for (const auto& [key, value] : diagnostics) {
      obj += (obj.size() > 1 ? ", " : "") + json_escape(key) + ": " + json_number(value);
    }
    prov.set_raw("diagnostics", obj + "}");
    bool written = false;
    io::detail::on_root(comm, [&] { written = model->write_diagnostics(diag_path, diagnostics); });
    if (comm_rank(comm) == 0 && written) prov.set_string("diagnostics_file", diag_path);
  }
  prov.set_string("last_checkpoint", last_ckpt);
  if (rank == 0) prov.write_atomic(logs_dir + "/run.json");
  log.line("done: " + std::to_string(step) + " steps, output " + out_path);
  return r;
}

}  // namespace aeolus::app
