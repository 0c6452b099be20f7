#include "tools/app/co2_case.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "emulators/co2_models.hpp"
#include "emulators/co2_stepper.hpp"
#include "emulators/co2_training.hpp"
#include "emulators/device.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/progress.hpp"
#include "io/co2_dataset_format.hpp"
#include "io/co2_year_writer.hpp"
#include "io/column_gather.hpp"
#include "io/grid_layout.hpp"
#include "solvers/co2_transport.hpp"
#include "solvers/sphere_kernels.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/co2_config.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/sphere_case.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;
using io::Range;
namespace co2f = io::co2;

namespace {
const Co2CaseConfig& co2_of(const CaseConfig& c) { return c.settings_as<Co2CaseConfig>(); }
}  // namespace

// ---------------------------------------------------------------------------------------------
// aeolus dataset

namespace {

// The lower layers' parameters of the case's classical physics.
Co2TransportParams transport_params(const Co2CaseConfig& p) {
  Co2TransportParams t;
  t.met = p.met;
  t.fluxes = p.fluxes;
  t.mixing = p.mixing;
  t.scheme = p.scheme;
  t.cfl = p.cfl;
  t.max_substep = p.max_substep;
  t.interval = p.sample_interval;
  return t;
}

std::string year_path(const CaseConfig& c, const std::string& split, int year) {
  char name[64];
  std::snprintf(name, sizeof name, "co2_year%04d.nc", year);
  return c.path(co2_of(c).data_dir + "/" + split + "/" + name);
}

const char* split_of(const Co2CaseConfig& p, int year) {
  if (year < p.train_years) return "train";
  if (year < p.train_years + p.valid_years) return "valid";
  return "test";
}

// The year file's metadata (io/co2_year_writer.hpp) for year `year` of the case.
io::Co2YearFileInfo year_file_info(MPI_Comm comm, const CaseConfig& c, const HybridCoordinate& hc,
                                   int year) {
  const auto& p = co2_of(c);
  io::Co2YearFileInfo info;
  info.hyai.assign(hc.a.begin(), hc.a.end());
  info.hybi.assign(hc.b.begin(), hc.b.end());
  info.p0 = hc.p0;
  info.sample_interval = p.sample_interval;
  info.deflate = p.deflate;
  info.source = std::string("aeolus ") + AEOLUS_VERSION + " dataset " + c.name;
  info.case_name = c.name;
  info.config_hash = c.config_hash;
  info.split = split_of(p, year);
  info.year = year;
  info.meteorology_seed = (long long)p.met.seed;
  info.flux_seed = (long long)p.fluxes.seed;
  info.ranks = comm_size(comm);
  return info;
}

// The state and meteorology of a sample at t, converted to the files' units on the owned cells
// and written by rank 0 (the work fields are allocated once: a Field holds PETSc vectors).
class SampleFields {
 public:
  explicit SampleFields(const SphereGrid& g)
      : g_(g),
        u_(g.grid(), "u"),
        v_(g.grid(), "v"),
        om_(g.grid(), "omega"),
        airkg_(g.grid(), "airmass"),
        pb_(g.grid(), "p_bottom"),
        pt_(g.grid(), "p_top"),
        co2_(g.grid(), "co2massmix") {}

  // Sample s at t of the state (air mass of `phys`, q) and the meteorology. Collective; w is
  // null except on rank 0.
  void write(const Co2TransportStepper& phys, const Field& q, real_t t, real_t interval,
             io::Co2YearWriter* w, size_t s) {
    MPI_Comm comm = g_.grid().comm();
    to_file_units(phys.air_mass(), q, phys.met().coordinate().p_interface(0, 0.0));
    phys.met().winds(t, u_, v_);
    phys.met().omega(t, om_);
    phys.met().boundary_layer_height(t, blh_);
    phys.met().toa_incident_solar_radiation(t, tisr_);
    const auto gq = co2_.gather_to_root(), ga = airkg_.gather_to_root(), gb = pb_.gather_to_root(),
               gt = pt_.gather_to_root(), gu = u_.gather_to_root(), gv = v_.gather_to_root(),
               go = om_.gather_to_root();
    const auto gbl = io::gather_columns(comm, blh_), gti = io::gather_columns(comm, tisr_);
    if (!w) return;
    w->put_time(s, t / 3600.0, interval / 3600.0);
    w->put3(co2f::kCo2, s, gq);
    w->put3(co2f::kAirmass, s, ga);
    w->put3(co2f::kPBottom, s, gb);
    w->put3(co2f::kPTop, s, gt);
    w->put3(co2f::kU, s, gu);
    w->put3(co2f::kV, s, gv);
    w->put3(co2f::kOmega, s, go);
    w->put2(co2f::kBlh, s, gbl);
    w->put2(co2f::kTisr, s, gti);
  }

 private:
  // Air mass (Pg), layer edge pressures (hPa, from the model top down) and q (1e-6 kg/kg).
  void to_file_units(const Field& dp, const Field& q, real_t ptop_model) {
    const ConstFieldView d = dp.view(), qv = q.view();
    FieldView a = airkg_.view(), b = pb_.view(), tp = pt_.view(), cq = co2_.view();
    for (index_t j = 0; j < d.ny; ++j) {
      const real_t area = g_.area(g_.lat_start() + j);
      for (index_t i = 0; i < d.nx; ++i) {
        real_t ptop = ptop_model;
        for (index_t k = 0; k < d.nz; ++k) {
          a(i, j, k) = d(i, j, k) * area / physics::co2::kGravity * co2f::kAirmassFileScale;
          tp(i, j, k) = ptop * co2f::kPressureFileScale;
          ptop += d(i, j, k);
          b(i, j, k) = ptop * co2f::kPressureFileScale;
          cq(i, j, k) = qv(i, j, k) * co2f::kCo2FileScale;
        }
      }
    }
  }

  const SphereGrid& g_;
  Field u_, v_, om_, airkg_, pb_, pt_, co2_;
  std::vector<real_t> blh_, tisr_;
};

// What the generator reports at the end (logs/dataset.log, data/dataset.json).
struct DatasetTotals {
  long long substeps = 0;
  double worst_budget = 0, worst_closure = 0;  // relative per sample; Pa
  real_t ppmv_start = 0, ppmv_end = 0;         // global mean at the first and after the last
};

// The spin-up before year 0: transport and sources from t0 to 0, nothing written.
void spin_up(Co2TransportStepper& phys, Field& q, const Co2CaseConfig& p, real_t t0,
             const ProgressSink& sink, DatasetTotals& totals) {
  const real_t day = 86400.0;
  const int samples = p.spinup_days * int(std::llround(day / p.sample_interval));
  ProgressMeter meter(sink, "spin-up", samples);
  real_t t = t0;
  for (int d = 0; d < samples; ++d) {
    totals.substeps += phys.advance({&q}, t, p.sample_interval, nullptr).substeps;
    t = t0 + (d + 1) * p.sample_interval;
    if (meter.due(d + 1)) meter.emit(d + 1, "samples, t = " + fmt("%.2f", t / day) + " days");
  }
}

// Advances the physics over the sample [t, t + interval]; `acc` returns the mean fluxes over it
// (what the files store). Checks that the budget as the files state it (mass change = the mean
// fluxes times the interval) closes: NumericsError otherwise, before anything more is written.
// Returns the CO2 mass at t + interval.
real_t advance_sample(const CaseConfig& c, Co2TransportStepper& phys, Field& q, real_t t,
                      real_t m_before, Co2FluxSums& acc, DatasetTotals& totals) {
  const auto& p = co2_of(c);
  const SphereGrid& g = phys.grid();
  const size_t ncol = size_t(g.lat_count() * g.nlon());
  acc.reset(ncol);
  totals.substeps += phys.advance({&q}, t, p.sample_interval, &acc).substeps;
  totals.worst_closure = std::max(totals.worst_closure, double(phys.last_closure_residual()));
  const real_t m_after = physics::co2_tracer_mass(g, phys.air_mass(), q);
  std::vector<real_t> mean_total(ncol);
  for (size_t i = 0; i < ncol; ++i) {
    acc.anthro[i] /= p.sample_interval, acc.land[i] /= p.sample_interval,
        acc.ocean[i] /= p.sample_interval;
    mean_total[i] = acc.anthro[i] + acc.land[i] + acc.ocean[i];
  }
  const real_t source = physics::co2_surface_integral(g, mean_total) * p.sample_interval;
  const double rel = std::abs((m_after - m_before) - source) / m_before;
  totals.worst_budget = std::max(totals.worst_budget, rel);
  if (!(rel < 1e-12) || !std::isfinite(m_after)) {
    throw NumericsError(c.file + ": CO2 budget of the sample at t = " + fmt("%.0f", t) +
                        " s does not close: mass change " + fmt("%.6e", m_after - m_before) +
                        " kg against the surface source " + fmt("%.6e", source) + " kg (relative " +
                        fmt("%.3e", rel) + "); nothing more is written");
  }
  return m_after;
}

void write_fluxes(MPI_Comm comm, const Co2FluxSums& mean, io::Co2YearWriter* w, size_t s) {
  const auto ga = io::gather_columns(comm, mean.anthro), gl = io::gather_columns(comm, mean.land),
             go = io::gather_columns(comm, mean.ocean);
  if (!w) return;
  w->put2(co2f::kFluxAnthro, s, ga);
  w->put2(co2f::kFluxLand, s, gl);
  w->put2(co2f::kFluxOcean, s, go);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void write_dataset_record(MPI_Comm comm, const CaseConfig& c, const std::string& json, int years,
                          long long per_year, double secs, double rise,
                          const DatasetTotals& totals) {
  if (comm_rank(comm) != 0) return;
  JsonRecord r = provenance_record(c.dir, c.config_hash, comm_size(comm), utc_now_iso8601());
  r.set_string("status", "complete");
  r.set_int("years", years);
  r.set_int("samples_per_year", per_year);
  r.set_number("sample_interval_s", co2_of(c).sample_interval);
  r.set_int("substeps", totals.substeps);
  r.set_number("seconds", secs);
  r.set_number("worst_relative_budget_error", totals.worst_budget);
  r.set_number("worst_closure_residual_pa", totals.worst_closure);
  r.set_number("global_mean_ppmv_start", totals.ppmv_start);
  r.set_number("global_mean_ppmv_end", totals.ppmv_end);
  r.set_number("ppmv_per_year", rise);
  r.write_atomic(json);
}

}  // namespace

void generate_co2_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& p = co2_of(c);
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
  SphereGridParams gp = p.grid;
  gp.halo = sphere_halo_width(p.scheme);
  const SphereGrid g(comm, gp);
  Co2TransportStepper phys(g.grid(), gp.radius, transport_params(p), t0);
  Field q(g.grid(), "co2");
  physics::co2_initial_mixing_ratio(g, phys.met().coordinate(), p.initial_ppmv, q);
  const long long per_year = std::llround(p.file_days * day / p.sample_interval);
  log.line("aeolus dataset " + c.name + ": " + std::to_string(g.nlat()) + " x " +
           std::to_string(g.nlon()) + " x " + std::to_string(g.nlev()) + ", " +
           std::to_string(years) + " years (" + std::to_string(p.train_years) + " train, " +
           std::to_string(p.valid_years) + " valid, " + std::to_string(p.test_years) +
           " test) of " + std::to_string(per_year) + " samples every " +
           fmt("%g", p.sample_interval / 3600) + " h after " + std::to_string(p.spinup_days) +
           " days of spin-up, " + std::to_string(comm_size(comm)) + " rank(s)");

  DatasetTotals totals;
  spin_up(phys, q, p, t0, log.sink(), totals);
  ProgressMeter meter(log.sink(), "sample", (long long)years * per_year);
  SampleFields sample(g);
  Co2FluxSums acc;
  const real_t mass_air0 = [&] {
    Field one(g.grid(), "one");
    one.fill(1.0);
    return physics::co2_tracer_mass(g, phys.air_mass(), one);
  }();
  for (int y = 0; y < years; ++y) {
    std::unique_ptr<io::Co2YearWriter> w;
    if (rank == 0) {
      w = std::make_unique<io::Co2YearWriter>(paths[size_t(y)], g,
                                              year_file_info(comm, c, phys.met().coordinate(), y));
    }
    for (long long s = 0; s < per_year; ++s) {
      const real_t t = (y * per_year + s) * p.sample_interval;
      sample.write(phys, q, t, p.sample_interval, w.get(), size_t(s));
      const real_t m_before = physics::co2_tracer_mass(g, phys.air_mass(), q);
      if (y == 0 && s == 0) {
        totals.ppmv_start = m_before / mass_air0 / physics::co2::kMassMixingPerPpmv;
      }
      // Advance to the next sample; the fluxes of this sample are the means over the interval.
      const real_t m_after = advance_sample(c, phys, q, t, m_before, acc, totals);
      write_fluxes(comm, acc, w.get(), size_t(s));
      if (y == years - 1 && s == per_year - 1) {
        totals.ppmv_end = m_after / mass_air0 / physics::co2::kMassMixingPerPpmv;
      }
      const long long done = (long long)y * per_year + s + 1;
      if (meter.due(done)) {
        meter.emit(done, "year " + std::to_string(y) + " (" + split_of(p, y) + ") day " +
                             fmt("%.2f", double(s + 1) * p.sample_interval / day) + ", " +
                             std::to_string(totals.substeps) + " sub-steps");
      }
    }
    if (rank == 0) w->finish();
    log.line("year " + std::to_string(y) + " (" + split_of(p, y) + ") -> " + paths[size_t(y)] +
             "; " + fmt("%.1f", seconds_since(wall0)) + " s so far, " +
             std::to_string(totals.substeps) + " sub-steps, worst relative budget error " +
             fmt("%.2e", totals.worst_budget));
  }
  const double secs = seconds_since(wall0);
  // Per 365-day year (file_days may be shorter in smoke tests).
  const double rise = (totals.ppmv_end - totals.ppmv_start) / (double(years) * p.file_days / 365.0);
  log.line("done in " + fmt("%.1f", secs) + " s: global mean CO2 " +
           fmt("%.2f", totals.ppmv_start) + " -> " + fmt("%.2f", totals.ppmv_end) + " ppmv (" +
           fmt("%.2f", rise) + " ppmv/yr); worst relative budget error per sample " +
           fmt("%.2e", totals.worst_budget) + ", worst hybrid-closure residual " +
           fmt("%.2e", totals.worst_closure) + " Pa");
  write_dataset_record(comm, c, json, years, per_year, secs, rise, totals);
}

// ---------------------------------------------------------------------------------------------
// aeolus train, aeolus eval

void train_co2_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& p = co2_of(c);
  const std::string model = c.path(c.model), ckpt = c.path("checkpoints/co2_training");
  const std::string data = c.path(p.data_dir);
  emulators::check_torch_device(p.training.device, c.file + ": training.device");
  // An interrupted training (max_minutes, a killed job) continues from its checkpoints;
  // --overwrite starts afresh.
  refuse_existing(comm, model, overwrite);
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

// The classical step (one sample interval) on this machine in this process, in ms: the mean of
// 8 steps on one rank, for the cost ratio of the emulator.
double classical_step_ms(const Co2CaseConfig& p) {
  SphereGridParams gp = p.grid;
  gp.halo = sphere_halo_width(p.scheme);
  gp.procs = 0;
  SphereGrid g(MPI_COMM_SELF, gp);
  Co2TransportStepper phys(g.grid(), gp.radius, transport_params(p), 0.0);
  Field q(g.grid(), "co2");
  physics::co2_initial_mixing_ratio(g, phys.met().coordinate(), p.initial_ppmv, q);
  const int n = 8;
  const auto w0 = std::chrono::steady_clock::now();
  for (int s = 0; s < n; ++s) phys.advance({&q}, s * p.sample_interval, p.sample_interval, nullptr);
  return 1e3 * seconds_since(w0) / n;
}

using ValidationRuns = std::vector<std::pair<int, emulators::Co2LongRollout>>;

// Free runs of evaluation.long_rollout_days from each quarter of the validation split, on into
// the test split (the two read as one sequence).
ValidationRuns validation_free_runs(const CaseConfig& c, const std::string& model,
                                    const std::vector<std::string>& test,
                                    const ProgressSink& sink) {
  const auto& p = co2_of(c);
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
  ValidationRuns runs;
  for (int day : emulators::co2_quarter_start_days((long long)(data.file_start(n_valid) / spd))) {
    runs.emplace_back(day, emulators::co2_free_run(
                               net, data, std::size_t(day) * spd, p.evaluation.long_rollout_days,
                               p.evaluation.decorrelation_r2, p.evaluation.threads, sink));
  }
  return runs;
}

void write_eval_record(const CaseConfig& c, const std::string& json, double classical_ms,
                       const emulators::Co2EvalMetrics& m, const ValidationRuns& vfr) {
  JsonRecord r = provenance_record(c.dir, c.config_hash, 1, utc_now_iso8601());
  r.set_string("status", "complete");
  r.set_number("classical_step_ms", classical_ms);
  r.set_number("emulator_step_ms", m.step_ms);
  r.set_number("emulator_over_classical", m.step_ms / classical_ms);
  r.set_raw("metrics", emulators::co2_eval_json(m));
  if (co2_of(c).validation_free_runs) {
    std::string runs;
    for (const auto& [day, lr] : vfr) {
      runs += std::string(runs.empty() ? "" : ", ") +
              "{\"start_day_of_validation\": " + std::to_string(day) +
              ", \"run\": " + emulators::co2_free_run_json(lr) + "}";
    }
    r.set_raw("validation_free_runs", "[" + runs + "]");
  }
  r.write_atomic(json);
}

void log_eval_summary(RunLog& log, const CaseConfig& c, const std::string& json,
                      const std::string& nc, double classical_ms,
                      const emulators::Co2EvalMetrics& m, const ValidationRuns& vfr) {
  const auto& e = co2_of(c).evaluation;
  for (const auto& d : m.at_days) {
    log.line("day " + fmt("%g", d.lead_days) + ": R^2 " + fmt("%.4f", d.r2) + ", RMSE " +
             fmt("%.3f", d.rmse_ppmv) + " ppmv (persistence " + fmt("%.4f", d.r2_persistence) +
             ", " + fmt("%.3f", d.rmse_persistence_ppmv) + " ppmv)");
  }
  const auto& lr = m.long_rollout;
  if (lr.steps > 0) {
    log.line("free run of " + fmt("%g", lr.days) + " days: " + free_run_summary(lr, e));
  }
  for (const auto& [day, run] : vfr) {
    log.line("free run from validation day " + std::to_string(day) + " (" + fmt("%g", run.days) +
             " days): " + free_run_summary(run, e));
  }
  log.line("mass RMSE " + fmt("%.3e", m.mass_rmse_pgc) + " PgC, worst per-step mass error " +
           fmt("%.2e", m.worst_step_mass_error) + "; emulator step " + fmt("%.1f", m.step_ms) +
           " ms on " + m.device + " against the classical 6 h step " + fmt("%.1f", classical_ms) +
           " ms (ratio " + fmt("%.3f", m.step_ms / classical_ms) + ") -> " + json + ", " + nc);
}

}  // namespace

void evaluate_co2_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& p = co2_of(c);
  const std::string model = c.path(c.model);
  emulators::check_torch_device(p.model_device, c.file + ": model.device");
  if (!fs::exists(model)) {
    throw IoError(model + " not found; run 'aeolus train " + c.dir + "' first");
  }
  const std::string json = c.path("eval/metrics.json"), nc = c.path("eval/co2_eval.nc");
  prepare_target(comm, json, overwrite);
  prepare_target(comm, nc, overwrite);
  RunLog log(comm, c.path("logs") + "/eval.log", true);
  double classical_ms = 0;
  on_rank0(comm, [&] { classical_ms = classical_step_ms(p); });
  on_rank0(comm, [&] {
    const auto test = emulators::co2_split_files(c.path(p.data_dir), "test");
    emulators::Co2EvalParams ep = p.evaluation;
    ep.device = p.model_device;
    const auto m = emulators::evaluate_co2_model(model, test, ep, "", nc, log.sink());
    ValidationRuns vfr;
    if (p.validation_free_runs) vfr = validation_free_runs(c, model, test, log.sink());
    write_eval_record(c, json, classical_ms, m, vfr);
    log_eval_summary(log, c, json, nc, classical_ms, m, vfr);
  });
}

// ---------------------------------------------------------------------------------------------
// aeolus run

namespace {

// What `aeolus run` writes for a co2_transport case: the CO2 mass mixing ratio and the air mass
// (dp) on the hybrid levels, with the CO2 mass, mean, min and max per frame.
class Co2CaseModel : public CaseModel {
 public:
  Co2CaseModel(const CaseConfig& c, const CartesianGrid& grid)
      : c_(c), sphere_(grid, co2_of(c).grid.radius), q_(grid, "co2"), one_(grid, "one") {
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
    spec.attributes["meteorology_seed"] = std::to_string(co2_of(c_).met.seed);
    spec.attributes["flux_seed"] = std::to_string(co2_of(c_).fluxes.seed);
    spec.attributes["reconstruction"] = co2_of(c_).scheme.reconstruction;
    spec.attributes["limiter"] = co2_of(c_).scheme.limiter;
  }
  void initialise() override {
    physics::co2_initial_mixing_ratio(sphere_, physics::co2_vertical_coordinate(sphere_.nlev()),
                                      co2_of(c_).initial_ppmv, q_);
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

// The stepper of `aeolus run` on a co2_transport case. One step is one sample interval (6 h):
//  classical: the operator-split transport (solvers/co2_transport.hpp), as the data set;
//  emulator:  the trained model with the classical air mass (emulators/co2_stepper.hpp); with
//             stepper.hybrid_days = K > 0 the hybrid wrapper, which re-initialises the emulated
//             CO2 from a classical copy every K days.
std::unique_ptr<Stepper> make_co2_stepper(const CaseConfig& c, const CartesianGrid& grid,
                                          const std::string& name) {
  if (name != "classical" && name != "emulator") {
    throw ConfigError(c.file + ": stepper '" + name + "' does not apply to a co2_transport case " +
                      "(expected classical or emulator)");
  }
  const auto& p = co2_of(c);
  if (name == "classical") {
    return std::make_unique<Co2TransportStepper>(grid, p.grid.radius, transport_params(p), 0.0);
  }
  auto classical =
      std::make_shared<Co2TransportStepper>(grid, p.grid.radius, transport_params(p), 0.0);
  emulators::Co2EmulatorStepperParams ep;
  ep.model_path = c.path(c.model);
  ep.device = p.model_device;
  ep.device_key = c.file + ": model.device";
  ep.train_hint = "aeolus train " + c.dir;
  if (p.hybrid_days > 0) {
    return std::make_unique<emulators::Co2HybridStepper>(classical, ep, p.hybrid_days * 86400.0);
  }
  return std::make_unique<emulators::Co2EmulatorStepper>(classical, ep);
}

std::unique_ptr<CaseModel> make_co2_model(const CaseConfig& c, const CartesianGrid& grid) {
  return std::make_unique<Co2CaseModel>(c, grid);
}

namespace {

class Co2Case : public TimeSteppingCase {
 public:
  std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) const override {
    return make_sphere_decomposition(comm, co2_of(c).grid, co2_of(c).scheme);
  }
  std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    return make_co2_stepper(c, grid, name);
  }
  std::unique_ptr<CaseModel> make_model(const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    return make_co2_model(c, grid);
  }
  void dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    generate_co2_dataset(comm, c, overwrite);
  }
  void train(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    train_co2_case(comm, c, overwrite);
  }
  void eval(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    evaluate_co2_case(comm, c, overwrite);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("co2_transport", Co2Case)

}  // namespace aeolus::app
