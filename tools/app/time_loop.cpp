// The common time loop of every time-stepping case (TimeSteppingCase::run).
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
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

// Rank 0 removes; every rank waits for it.
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

// Stepper names: the registered ones (the schema accepts every one of them).
void check_stepper_name(const std::string& name) {
  const auto names = stepper_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw ConfigError("--stepper " + name + ": unknown stepper (expected one of " +
                      comma_list(names) + ")");
  }
}

struct RunPaths {
  std::string output, part, diagnostics, checkpoints, logs;
  explicit RunPaths(const CaseConfig& c)
      : output(c.path("output/" + c.output.file)),
        part(output + ".part"),
        diagnostics(c.path("output/diagnostics.nc")),
        checkpoints(c.path("checkpoints")),
        logs(c.path("logs")) {}
};

// The run-directory policy of `aeolus run`: results of an earlier run (the output, its .part,
// the diagnostics, checkpoints) are never replaced silently: --overwrite removes them,
// --restart continues from them, neither is an error naming what exists. Collective.
void claim_run_directory(MPI_Comm comm, const CaseConfig& c, const RunPaths& p,
                         const RunOptions& opt) {
  const int rank = comm_rank(comm);
  if (opt.restart && opt.overwrite)
    throw ConfigError("--restart and --overwrite exclude each other");
  if (!opt.restart) {
    // Rank 0 looks (see existing_on_root in run_log.hpp) and every rank gets its verdict.
    std::string found;
    if (rank == 0) {
      for (const std::string* f : {&p.output, &p.part, &p.diagnostics}) {
        if (fs::exists(*f)) {
          found = *f;
          break;
        }
      }
      if (found.empty() && !checkpoint_files(p.checkpoints).empty()) found = p.checkpoints;
    }
    found = io::broadcast_string(comm, found);
    if (!found.empty() && !opt.overwrite) {
      throw IoError(c.path("output") + ": results of an earlier run exist (" + found +
                    "); pass --overwrite to replace them or --restart to continue");
    }
    if (!found.empty()) {
      remove_if_exists(comm, p.output);
      remove_if_exists(comm, p.part);
      remove_if_exists(comm, p.diagnostics);
      if (rank == 0) {
        for (auto& f : checkpoint_files(p.checkpoints)) fs::remove(f);
      }
      MPI_Barrier(comm);
    }
  }
  if (rank == 0) {
    fs::create_directories(c.path("output"));
    fs::create_directories(p.checkpoints);
    fs::create_directories(p.logs);
  }
  MPI_Barrier(comm);
}

// One `aeolus run` of a time-stepping case: the grid, stepper and model of the case type, and
// the loop state (time, step, output and checkpoint bookkeeping, diagnostics).
class TimeLoop {
 public:
  // comm: the ranks that step (MPI_COMM_SELF on rank 0 for a case that steps on rank 0);
  // job_ranks: the ranks of the whole job, for the record.
  TimeLoop(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt, const TimeSteppingCase& type,
           const std::string& stepper_name, const RunPaths& paths, int job_ranks)
      : comm_(comm),
        c_(c),
        opt_(opt),
        paths_(paths),
        stepper_name_(stepper_name),
        rank_(comm_rank(comm)),
        size_(comm_size(comm)),
        job_ranks_(job_ranks),
        grid_(type.make_grid(comm, c)),
        stepper_(app::make_stepper(stepper_name, c, *grid_)),
        model_(type.make_model(c, *grid_)),
        log_(comm, paths.logs + "/run.log", !opt.quiet),
        eps_t_(1e-9 * std::max(c.output.interval, c.time.t_end) * 1e-3) {
    next_output_ = c.output.interval;
    model_->bind_stepper_state(stepper_->state_fields());
    spec_ = output_spec(c, stepper_name, *model_);
    fields_ = model_->fields();
    // Checkpoints hold the fields and the stepper's own state (e.g. air mass).
    std::vector<Field*> ckpt = fields_;
    for (Field* f : stepper_->state_fields()) ckpt.push_back(f);
    ckpt_fields_ = ckpt;
    ckpt_const_.assign(ckpt.begin(), ckpt.end());
    event_times_ = model_->event_times();
    std::sort(event_times_.begin(), event_times_.end());
    prov_ = provenance_record(c.dir, c.config_hash, job_ranks_, utc_now_iso8601());
    prov_.set_string("stepper", stepper_name);
    if (rank_ == 0) start_run_logs(paths.logs, c.resolved_yaml);
  }

  RunResult run() {
    if (opt_.restart) {
      if (restart_from_checkpoint()) return already_complete_;
    } else {
      start_fresh();
    }
    write_record();
    check_fixed_step();
    log_start();
    wall0_ = std::chrono::steady_clock::now();
    t_start_ = t_;
    try {
      while (t_ < c_.time.t_end - eps_t_) {
        if (opt_.stop_after_steps > 0 && steps_here_ >= opt_.stop_after_steps) return stop_here();
        step_once();
      }
      model_->diagnose(t_, true, diagnostics_);
      output_->finalize();
    } catch (const Error& e) {
      mark_failed(e);
      throw;
    }
    return finish();
  }

 private:
  void write_record() {
    if (rank_ == 0) prov_.write_atomic(paths_.logs + "/run.json");
  }

  void start_fresh() {
    model_->initialise();
    mass0_ = model_->mass();
    output_ = model_->open_output(*grid_, spec_, false, 0);
    output_->write_frame(0.0);
  }

  // Continues from the newest complete checkpoint; true if the run was already complete
  // (already_complete_ then holds the result).
  bool restart_from_checkpoint() {
    const std::string ck = io::latest_checkpoint(paths_.checkpoints, comm_);
    if (ck.empty()) throw IoError(paths_.checkpoints + ": no complete checkpoint to restart from");
    auto info = io::read_checkpoint(ck, ckpt_fields_);
    if (info.config_hash != c_.config_hash) {
      log_.line("warning: case.yaml changed since checkpoint " + ck + " (config hash " +
                info.config_hash + " -> " + c_.config_hash + ")");
    }
    if (fs::exists(paths_.output) && !fs::exists(paths_.part)) {
      if (info.t >= c_.time.t_end * (1 - 1e-12)) {
        log_.line("run already complete at t = " + fmt("%.6g", info.t) + " (" + paths_.output +
                  ")");
        already_complete_.t = info.t;
        already_complete_.steps = info.step;
        already_complete_.output_path = paths_.output;
        return true;
      }
      throw IoError(paths_.output + " is complete but checkpoint " + ck +
                    " is earlier than time.t_end; rerun with --overwrite to extend a finished run");
    }
    t_ = info.t;
    step_ = info.step;
    next_output_ = info.next_output_time;
    const std::string initial = model_->total_name() + "_initial";
    mass0_ = info.extra.count(initial) ? info.extra.at(initial) : model_->mass();
    for (const auto& [key, value] : info.extra) {
      if (key.rfind("diag_", 0) == 0) diagnostics_[key.substr(5)] = value;
    }
    output_ = model_->open_output(*grid_, spec_, true, size_t(info.output_frames));
    prov_.set_string("restarted_from", ck);
    log_.line("restart from " + ck + " at step " + std::to_string(step_) +
              ", t = " + fmt("%.9g", t_));
    return false;
  }

  // An emulator has one trained step: output times and t_end must fall on its multiples.
  void check_fixed_step() {
    const real_t dt_fixed_probe = stepper_->max_dt(*fields_.front(), t_);
    fixed_step_ = stepper_->fixed_step();
    if (!fixed_step_) return;
    for (auto [key, value] : {std::pair<const char*, real_t>{"output.interval", c_.output.interval},
                              {"time.t_end", c_.time.t_end}}) {
      const real_t k = value / dt_fixed_probe;
      if (std::abs(k - std::round(k)) > 1e-9 * std::max(1.0, k)) {
        throw ConfigError(c_.file + ": " + key + " = " + fmt("%.9g", value) +
                          " is not a multiple of the fixed step " + fmt("%.9g", dt_fixed_probe) +
                          " of stepper " + stepper_name_);
      }
    }
  }

  void log_start() {
    const auto& g = c_.grid;
    const std::string what = stepper_->describe();
    const std::string stepper =
        "stepper " + stepper_name_ + (what != stepper_name_ ? " (" + what + ")" : "");
    if (job_ranks_ != size_) {  // a case that steps on rank 0
      log_.line("aeolus run " + c_.name + ": " + stepper + ", t_end " + fmt("%.6g", c_.time.t_end) +
                (job_ranks_ > 1 ? ", stepped on rank 0 of " + std::to_string(job_ranks_) : ""));
      return;
    }
    log_.line("aeolus run " + c_.name + ": " + stepper + ", grid " + std::to_string(g.n[0]) +
              (g.dim > 1 ? "x" + std::to_string(g.n[1]) : "") +
              (g.dim > 2 ? "x" + std::to_string(g.n[2]) : "") + ", " + std::to_string(size_) +
              " rank(s), t_end " + fmt("%.6g", c_.time.t_end));
    if (size_ > 1) {
      // The decomposition, for whoever tunes the rank count: the smallest subdomain, and
      // whether halos wider than it go through the multi-hop scatter
      // (CartesianGrid::halo_scatter).
      std::string procs, smallest;
      for (int d = 0; d < grid_->dim(); ++d) {
        const auto& own = grid_->ownership(d);
        procs += (d ? "x" : "") + std::to_string(own.size());
        smallest += (d ? "x" : "") + std::to_string(*std::min_element(own.begin(), own.end()));
      }
      log_.line("decomposition: " + procs + " ranks, smallest subdomain " + smallest + " cells" +
                (grid_->halo_scatter()
                     ? ", narrower than the halo of " + std::to_string(grid_->halo()) +
                           ": multi-hop halo exchange"
                     : ""));
    }
  }

  // The next step: the stable step, capped by time.dt_max, checked against time.max_steps, and
  // (unless the stepper has a fixed step) shortened to land in equal steps on the next output,
  // event or end time.
  real_t choose_dt(real_t& dt_stable) {
    dt_stable = stepper_->max_dt(*fields_.front(), t_);
    real_t dt = dt_stable;
    if (c_.time.dt_max > 0) dt = std::min(dt, c_.time.dt_max);
    // The steps still needed at this step size (which only a faster flow makes smaller): a
    // run that cannot reach t_end within time.max_steps stops now, not after days of tiny
    // steps (a velocity of 1e19 m/s once took CFL steps of 1e-21 s towards t_end = 2).
    const double steps_left = double(c_.time.t_end - t_) / double(dt);
    if (!(double(step_) + steps_left <= double(c_.time.max_steps))) {
      throw NumericsError(
          c_.file + ": time.max_steps = " + std::to_string(c_.time.max_steps) +
          " would be exceeded: at step " + std::to_string(step_) + ", t = " + fmt("%.9g", t_) +
          ", the time step is " + fmt("%.3g", dt) + " (stepper " + stepper_name_ +
          (c_.time.dt_max > 0 && dt == c_.time.dt_max ? ", time.dt_max" : ", stability limit") +
          "), so time.t_end = " + fmt("%.9g", c_.time.t_end) + " needs about " +
          fmt("%.3g", steps_left) +
          " more steps; check the velocities, time.cfl and time.t_end, or raise "
          "time.max_steps");
    }
    const real_t to_event = next_event() - t_;
    if (fixed_step_) {
      dt = dt_stable;
    } else if (to_event > 0) {
      // Land exactly on the next output time / t_end in equal steps (no sliver step).
      const real_t n = std::ceil(to_event / dt * (1 - 1e-12));
      dt = to_event / std::max<real_t>(n, 1);
    }
    if (!(dt > 0)) {
      throw NumericsError("time step " + fmt("%.3g", dt) + " at t = " + fmt("%.9g", t_) +
                          " (the velocity or the state is not finite?)");
    }
    return dt;
  }

  // The earliest of the next output time, t_end and the next event time after t.
  real_t next_event() const {
    real_t next = std::min(next_output_, c_.time.t_end);
    for (real_t te : event_times_) {
      if (te > t_ + eps_t_) {
        next = std::min(next, te);
        break;
      }
    }
    return next;
  }

  // A NaN or Inf anywhere stops the run before anything of the step is written.
  void check_finite() const {
    index_t bad = 0;
    std::string bad_name;
    for (Field* f : fields_) {
      const index_t n = f->count_nonfinite();
      if (n > 0 && bad == 0) bad_name = f->name();
      bad += n;
    }
    if (bad > 0) {
      throw NumericsError(
          "non-finite values (NaN/Inf) in " + std::to_string(bad) + " cells of " + bad_name +
          " at step " + std::to_string(step_) + ", t = " + fmt("%.9g", t_) +
          "; nothing of this step was written" +
          (last_ckpt_.empty() ? std::string("") : "; last good checkpoint: " + last_ckpt_));
    }
  }

  // t accumulates t += dt: snap it to the output, end or event time the step was meant to hit
  // (so that frame times are exact), running the model's diagnostics at event times.
  void land_on_events() {
    if (std::abs(t_ - next_output_) <= eps_t_) t_ = next_output_;
    if (std::abs(t_ - c_.time.t_end) <= eps_t_) t_ = c_.time.t_end;
    for (real_t te : event_times_) {
      if (std::abs(t_ - te) <= eps_t_) {
        t_ = te;
        model_->diagnose(t_, false, diagnostics_);
      }
    }
  }

  void step_once() {
    real_t dt_stable = 0;
    real_t dt = choose_dt(dt_stable);
    const real_t cfl = stepper_->courant(t_, dt);
    stepper_->step_all(fields_, t_, dt);
    ++step_;
    ++steps_here_;
    check_finite();
    land_on_events();
    const bool last = t_ >= c_.time.t_end - eps_t_;
    // The final state is always written, also where t_end is not an output time.
    const bool output_now = t_ >= next_output_ - eps_t_ || last;
    real_t mass = 0;
    // A progress line every log.progress_every steps and at least every log.progress_seconds
    // of wall time; rank 0's clock decides for all ranks (the mass is a collective sum).
    const double wall_now =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
    int progress_now = step_ % c_.progress_every == 0 || last ||
                       wall_now - last_progress_wall_ >= c_.progress_seconds;
    if (size_ > 1) MPI_Bcast(&progress_now, 1, MPI_INT, 0, comm_);
    if (output_now || progress_now) mass = model_->mass();
    if (output_now) {
      output_->write_frame(t_);
      // k * interval, not a running sum, so that frame times do not drift.
      next_output_ = real_t(output_->frames_written()) * c_.output.interval;
    }
    if (step_ % c_.checkpoint.every_steps == 0 || last) save_checkpoint();
    if (progress_now) {
      last_progress_wall_ = wall_now;
      log_.line(progress_line(dt, cfl, mass, wall_now));
    }
  }

  std::string progress_line(real_t dt, real_t cfl, real_t mass, double wall) const {
    const double eta = wall * (c_.time.t_end - t_) / std::max(t_ - t_start_, 1e-300);
    std::ostringstream os;
    os << "step " << step_ << "  t " << fmt("%.6e", t_) << "  dt " << fmt("%.3e", dt);
    if (cfl > 0) os << "  CFL " << fmt("%.3f", cfl);
    os << "  " << model_->total_name() << " " << fmt("%.15e", mass) << " (rel "
       << fmt("%+.2e", mass0_ != 0 ? (mass - mass0_) / std::abs(mass0_) : mass - mass0_)
       << ")  wall " << human_seconds(wall) << "  ETA " << human_seconds(eta);
    return os.str();
  }

  void save_checkpoint() {
    output_->flush();  // the frames the checkpoint counts are on disk before it is
    io::CheckpointInfo info;
    info.step = step_;
    info.t = t_;
    info.output_frames = (long long)output_->frames_written();
    info.next_output_time = next_output_;
    info.stepper = stepper_name_;
    info.config_hash = c_.config_hash;
    info.extra[model_->total_name() + "_initial"] = mass0_;
    for (const auto& [key, value] : diagnostics_) info.extra["diag_" + key] = value;
    last_ckpt_ = io::write_checkpoint(paths_.checkpoints, info, ckpt_const_, c_.checkpoint.keep);
  }

  RunResult result(const std::string& path) {  // collective (the mass is reduced)
    RunResult r;
    r.steps = step_;
    r.t = t_;
    r.mass_initial = mass0_;
    r.mass_final = model_->mass();
    r.output_path = path;
    return r;
  }

  RunResult stop_here() {
    save_checkpoint();
    log_.line("stopped after " + std::to_string(steps_here_) + " steps at t = " + fmt("%.9g", t_) +
              " (checkpoint " + last_ckpt_ + "); continue with --restart");
    prov_.set_string("status", "stopped");
    prov_.set_string("end_time", utc_now_iso8601());
    prov_.set_int("steps", step_);
    write_record();
    return result(paths_.part);
  }

  void mark_failed(const Error& e) {
    prov_.set_string("status", "failed");
    prov_.set_string("error", e.what());
    prov_.set_string("end_time", utc_now_iso8601());
    prov_.set_int("steps", step_);
    write_record();
  }

  RunResult finish() {
    const RunResult r = result(paths_.output);
    prov_.set_string("status", "completed");
    prov_.set_string("end_time", utc_now_iso8601());
    prov_.set_int("steps", step_);
    prov_.set_number("t_final", t_);
    const std::string total = model_->total_name();
    prov_.set_number(total + "_initial", r.mass_initial);
    prov_.set_number(total + "_final", r.mass_final);
    prov_.set_number(
        total + "_relative_change",
        r.mass_initial != 0 ? (r.mass_final - r.mass_initial) / std::abs(r.mass_initial) : 0);
    prov_.set_string("output", paths_.output);
    if (!diagnostics_.empty()) report_diagnostics();
    report_counters();
    prov_.set_string("last_checkpoint", last_ckpt_);
    write_record();
    log_.line("done: " + std::to_string(step_) + " steps, output " + paths_.output);
    return r;
  }

  // The stepper's work counters (this invocation's) and the wall time of the loop, in the run
  // log and run.json.
  void report_counters() {
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
    const long long steps = steps_here_;
    std::string line = std::to_string(steps) + " steps in " + fmt("%.3f", wall) + " s (" +
                       fmt("%.3g", wall / double(std::max(1LL, steps)) * 1e6) + " us per step)";
    std::string obj = "{";
    for (const auto& [key, value] : stepper_->counters()) {
      line += ", " + key + " " + fmt("%.15g", value);
      obj += (obj.size() > 1 ? ", " : "") + json_escape(key) + ": " + json_number(value);
    }
    log_.line(line);
    prov_.set_number("loop_seconds", wall);
    if (obj.size() > 1) prov_.set_raw("stepper_counters", obj + "}");
  }

  // The end-of-run diagnostics in the run log (a few per line), run.json and the case's own
  // diagnostics file.
  void report_diagnostics() {
    std::string line;
    int on_line = 0;
    for (const auto& [key, value] : diagnostics_) {
      line += (on_line ? "  " : "diagnostics: ") + key + " " + fmt("%.6g", value);
      if (++on_line == 4) {
        log_.line(line);
        line.clear();
        on_line = 0;
      }
    }
    if (on_line) log_.line(line);
    std::string obj = "{";
    for (const auto& [key, value] : diagnostics_) {
      obj += (obj.size() > 1 ? ", " : "") + json_escape(key) + ": " + json_number(value);
    }
    prov_.set_raw("diagnostics", obj + "}");
    bool written = false;
    io::on_root(comm_,
                [&] { written = model_->write_diagnostics(paths_.diagnostics, diagnostics_); });
    if (rank_ == 0 && written) prov_.set_string("diagnostics_file", paths_.diagnostics);
  }

  MPI_Comm comm_;
  const CaseConfig& c_;
  const RunOptions& opt_;
  const RunPaths& paths_;
  const std::string stepper_name_;
  const int rank_, size_, job_ranks_;
  std::unique_ptr<CartesianGrid> grid_;
  std::unique_ptr<Stepper> stepper_;
  std::unique_ptr<CaseModel> model_;
  RunLog log_;
  const real_t eps_t_;
  io::OutputSpec spec_;
  std::vector<Field*> fields_;
  std::vector<Field*> ckpt_fields_;
  std::vector<const Field*> ckpt_const_;
  std::vector<real_t> event_times_;
  std::map<std::string, double> diagnostics_;
  JsonRecord prov_;
  std::unique_ptr<FrameOutput> output_;
  RunResult already_complete_;
  real_t t_ = 0;
  long long step_ = 0;
  real_t next_output_ = 0;
  real_t mass0_ = 0;
  real_t t_start_ = 0;
  bool fixed_step_ = false;
  long long steps_here_ = 0;
  std::string last_ckpt_;
  std::chrono::steady_clock::time_point wall0_;
  double last_progress_wall_ = 0;
};

}  // namespace

RunResult TimeSteppingCase::run(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) const {
  if (!opt.solver.empty()) {
    throw ConfigError("--solver applies to elliptic and hamiltonian cases (physics.equation); " +
                      c.file + " is time-dependent (choose its stepper with --stepper)");
  }
  const std::string stepper_name = opt.stepper.empty() ? c.stepper : opt.stepper;
  check_stepper_name(stepper_name);
  const RunPaths paths(c);
  claim_run_directory(comm, c, paths, opt);
  const int ranks = comm_size(comm);
  if (!steps_on_root() || ranks == 1) {
    TimeLoop loop(comm, c, opt, *this, stepper_name, paths, ranks);
    return loop.run();
  }
  // Rank 0 steps alone; the others sleep in a barrier (not spinning in MPI on the cores it
  // may use) and get its result, or throw its error.
  RunResult r;
  io::on_root(
      comm,
      [&] {
        TimeLoop loop(MPI_COMM_SELF, c, opt, *this, stepper_name, paths, ranks);
        r = loop.run();
      },
      io::Wait::sleeping);
  MPI_Bcast(&r.steps, 1, MPI_LONG_LONG, 0, comm);
  double numbers[3] = {r.t, r.mass_initial, r.mass_final};
  MPI_Bcast(numbers, 3, MPI_DOUBLE, 0, comm);
  r.t = numbers[0];
  r.mass_initial = numbers[1];
  r.mass_final = numbers[2];
  r.output_path = io::broadcast_string(comm, r.output_path);
  return r;
}

}  // namespace aeolus::app
