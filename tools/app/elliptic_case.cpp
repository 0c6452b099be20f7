#include "tools/app/elliptic_case.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"
#include "io/output_writer.hpp"
#include "solvers/fft_solver.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

const EllipticCaseConfig& ell(const CaseConfig& c) { return c.settings_as<EllipticCaseConfig>(); }

physics::ManufacturedSolution manufactured(const CaseConfig& c) {
  physics::ManufacturedSolution m;
  m.params = ell(c).manufactured;
  m.dim = ell(c).problem.dim;
  m.lo = ell(c).problem.lo;
  m.hi = ell(c).problem.hi;
  return m;
}

std::string grid_text(const EllipticProblem& p) {
  std::string s;
  for (int d = 0; d < p.dim; ++d) s += (d ? "x" : "") + std::to_string(p.panels[size_t(d)]);
  return s;
}

struct ErrorNorms {
  real_t max = 0, l2 = 0, exact_max = 0;
};

// Max and rms errors of u against the exact solution (singular problems: after removing the
// mean difference, since u is defined up to a constant). Collective.
ErrorNorms error_norms(const Field& u, const Field& exact, bool singular, Field& err) {
  const auto uv = u.view();
  const auto ev = exact.view();
  auto rv = err.view();
  const auto& g = u.grid();
  for (index_t k = 0; k < g.count(2); ++k)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i) rv(i, j, k) = uv(i, j, k) - ev(i, j, k);
  const real_t n = real_t(g.global_cells());
  if (singular) {
    const real_t mean = err.sum() / n;
    for (index_t k = 0; k < g.count(2); ++k)
      for (index_t j = 0; j < g.count(1); ++j)
        for (index_t i = 0; i < g.count(0); ++i) rv(i, j, k) -= mean;
  }
  ErrorNorms e;
  e.max = std::max(std::abs(err.min()), std::abs(err.max()));
  e.exact_max = std::max(std::abs(exact.min()), std::abs(exact.max()));
  real_t s2 = 0;
  for (index_t k = 0; k < g.count(2); ++k)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i) s2 += rv(i, j, k) * rv(i, j, k);
  real_t total = 0;
  MPI_Allreduce(&s2, &total, 1, MPI_DOUBLE, MPI_SUM, g.comm());
  e.l2 = std::sqrt(total / n);
  return e;
}

}  // namespace

EllipticProblem elliptic_problem(const CaseConfig& c, bool training_grid) {
  EllipticProblem p = ell(c).problem;
  if (training_grid) p.panels = ell(c).train_n, p.procs = {0, 0, 0};
  if (ell(c).source == "manufactured") {
    set_boundary_data(p, manufactured(c));
  } else {
    for (int d = 0; d < p.dim; ++d) {
      for (int side = 0; side < 2; ++side) {
        const real_t v = ell(c).boundary_values[size_t(d)][size_t(side)];
        auto& bc = p.boundary[size_t(d)][size_t(side)];
        if (bc.kind != BoundaryKind::periodic && v != 0.0) {
          bc.value = [v](real_t, real_t, real_t) { return v; };
        }
      }
    }
  }
  return p;
}

namespace {

// The solver of this run (--solver or solver.type), after the checks of the run options.
std::string run_solver(const CaseConfig& c, const RunOptions& opt) {
  const auto& e = ell(c);
  if (!opt.stepper.empty() || opt.restart || opt.stop_after_steps > 0) {
    throw ConfigError(c.file + ": --stepper, --restart and --stop-after-steps apply to " +
                      "time-dependent cases; this case solves an elliptic problem once " +
                      "(choose its solver with --solver ksp|fft|dcdm)");
  }
  const std::string solver = opt.solver.empty() ? e.solver : opt.solver;
  if (solver != "ksp" && solver != "fft" && solver != "dcdm") {
    throw ConfigError("--solver " + solver + ": unknown solver (expected ksp, fft or dcdm)");
  }
  if (solver == "fft" && e.coefficient.type != "constant") {
    throw ConfigError("--solver fft: " + c.file + " has a variable coefficient (" +
                      e.coefficient.type + "); the FFT solver needs a constant one");
  }
  if (solver == "dcdm") {
    emulators::check_torch_device(e.net.device, c.file + ": solver.dcdm.device");
  }
  return solver;
}

// The fields of one solve: the coefficient k, the right side f, the solution u and, for a
// manufactured solution, the exact one.
struct EllipticFields {
  EllipticFields(MPI_Comm comm, const EllipticProblem& p)
      : grid(make_elliptic_grid(comm, p)), k(*grid, "k"), f(*grid, "f"), u(*grid, "u") {}
  std::unique_ptr<CartesianGrid> grid;
  Field k, f, u;
  std::unique_ptr<Field> exact;
};

// k and f (and the exact solution) from the case's coefficient and source.
void fill_data(const CaseConfig& c, const EllipticProblem& p, EllipticFields& d) {
  const auto& e = ell(c);
  if (e.coefficient.type == "constant") {
    d.k.fill(e.coefficient.value);
  } else {
    physics::fill_permeability(e.coefficient, d.k);
  }
  if (e.source == "manufactured") {
    const auto m = manufactured(c);
    const real_t k0 = e.coefficient.value, c0 = p.helmholtz;
    physics::fill_at_points(d.f, [&](real_t x, real_t y, real_t z) {
      return -k0 * m.laplacian(x, y, z) + c0 * m.u(x, y, z);
    });
    d.exact = std::make_unique<Field>(*d.grid, "u_exact");
    physics::fill_at_points(*d.exact, [&](real_t x, real_t y, real_t z) { return m.u(x, y, z); });
  } else if (e.source == "constant") {
    d.f.fill(e.source_value);
  } else {
    read_initial_field(c.path(e.source_file), e.source_variable, "1", "physics.source.variable",
                       d.f);
  }
}

struct EllipticSolve {
  SolveStats st;
  std::string described;  // the solver with its configuration, for logs and the output
  double assemble_s = 0;
  real_t compat = 0;  // singular problems: the incompatible part of the right side removed
};

// Assembles the operator and solves for d.u with `solver`.
EllipticSolve solve(const CaseConfig& c, const EllipticProblem& p, const std::string& solver,
                    EllipticFields& d, RunLog& log) {
  const auto& e = ell(c);
  const bool constant_k = e.coefficient.type == "constant";
  const auto& grid = *d.grid;
  EllipticSolve r;
  r.described = solver;
  const auto t0 = std::chrono::steady_clock::now();
  // A constant k0 divides through: -lap u + (c/k0) u = f/k0 with the same boundary data
  // (du/dn, not the flux, is given), which is the k = 1 operator the FFT solver inverts.
  EllipticProblem scaled = p;
  Field f_op(d.f);
  if (constant_k) {
    scaled.helmholtz = p.helmholtz / e.coefficient.value;
    auto fv = f_op.view();
    for (index_t kk = 0; kk < grid.count(2); ++kk)
      for (index_t j = 0; j < grid.count(1); ++j)
        for (index_t i = 0; i < grid.count(0); ++i) fv(i, j, kk) /= e.coefficient.value;
  }
  EllipticOperator op(grid, scaled, constant_k ? nullptr : &d.k);
  r.assemble_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Vec b = op.create_vector(), x = op.create_vector();
  op.rhs(f_op, b, &r.compat);
  AEOLUS_PETSC(VecSet(x, 0.0));
  if (solver == "ksp") {
    KspParams kp = e.ksp;
    kp.prefix = "";
    kp.progress = log.sink();
    kp.progress_seconds = c.progress_seconds;
    KspSolver ksp(op, kp);
    r.described = "ksp (" + ksp.describe() + ")";
    r.st = ksp.solve(b, x);
  } else if (solver == "fft") {
    const auto ts = std::chrono::steady_clock::now();
    FftSolver fft(op);
    const double setup =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    r.st = fft.solve(b, x);
    r.st.setup_seconds = setup;
  } else {
    const auto ts = std::chrono::steady_clock::now();
    auto model = emulators::load_dcdm_model(c.path(e.model), op, e.net.threads, e.net.device);
    const double setup =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    DcdmParams dp = e.dcdm;
    dp.progress = log.sink();
    dp.progress_seconds = c.progress_seconds;
    r.st = dcdm_solve(op.matrix(), b, x, *model, dp);
    r.st.setup_seconds = setup;
    r.described = "dcdm (" + c.path(e.model) + ")";
  }
  op.from_vec(x, d.u);
  AEOLUS_PETSC(VecDestroy(&b));
  AEOLUS_PETSC(VecDestroy(&x));
  if (!d.u.all_finite()) {
    throw NumericsError("solver " + solver + " returned non-finite values in u; nothing written");
  }
  return r;
}

// The solver's figures in the run log and run.json.
void report_solve(const EllipticProblem& p, const EllipticSolve& r, const CartesianGrid& grid,
                  RunLog& log, JsonRecord& prov) {
  const auto& st = r.st;
  log.line("solver " + r.described + ": " + std::to_string(st.iterations) + " iterations, " +
           "relative residual " + fmt("%.3e", st.relative_residual()) + ", " +
           (st.converged ? "converged" : "NOT converged") + " (" + st.reason + "), solve " +
           fmt("%.3f", st.seconds) + " s, set-up " + fmt("%.3f", st.setup_seconds) +
           " s, assembly " + fmt("%.3f", r.assemble_s) + " s");
  if (p.singular()) {
    log.line("singular problem (constant null space): u has zero mean; the right side's " +
             std::string("incompatible part removed: ") + fmt("%.3e", r.compat) + " (relative)");
  }
  prov.set_string("solver_description", r.described);
  prov.set_int("iterations", st.iterations);
  prov.set_number("relative_residual", st.relative_residual());
  prov.set_string("converged_reason", st.reason);
  prov.set_int("converged", st.converged ? 1 : 0);
  prov.set_number("solve_seconds", st.seconds);
  prov.set_number("setup_seconds", st.setup_seconds);
  prov.set_number("assembly_seconds", r.assemble_s);
  prov.set_int("unknowns", (long long)grid.global_cells());
}

// output/FILE: u, f, k and, for a manufactured solution, u_exact and the error (whose norms go
// to the log and run.json).
void write_solution(const CaseConfig& c, const EllipticProblem& p, const std::string& described,
                    const std::string& out_path, EllipticFields& d, RunLog& log, JsonRecord& prov) {
  io::OutputSpec spec;
  spec.path = out_path;
  spec.attributes = {
      {"title", "Aeolus case " + c.name},
      {"source", std::string("aeolus ") + AEOLUS_VERSION + " (" + AEOLUS_GIT_HASH + ")"},
      {"case", c.name},
      {"equation", "-div(k grad u) + c u = f"},
      {"solver", described},
      {"centering", centering_name(p.centering)},
      {"config_hash", c.config_hash}};
  std::vector<std::string> axis_units(3, "m");
  spec.axes = io::cartesian_axes(axis_units);
  spec.axes.resize(size_t(p.dim));
  spec.static_fields = {
      {{"u", "1", "solution of -div(k grad u) + c u = f", ""}, &d.u},
      {{"f", "m-2", "right-hand side f", ""}, &d.f},
      {{"k", "1", "coefficient k (permeability of the Darcy problem)", ""}, &d.k}};
  std::unique_ptr<Field> err;
  if (d.exact) {
    err = std::make_unique<Field>(*d.grid, "error");
    const ErrorNorms n = error_norms(d.u, *d.exact, p.singular(), *err);
    spec.static_fields.push_back(
        {{"u_exact", "1", "exact (manufactured) solution", ""}, d.exact.get()});
    spec.static_fields.push_back(
        {{"error", "1", "u - u_exact (mean removed if singular)", ""}, err.get()});
    log.line("error vs the manufactured solution: max " + fmt("%.6e", n.max) + " (relative " +
             fmt("%.3e", n.max / std::max(n.exact_max, 1e-300)) + "), rms " + fmt("%.6e", n.l2));
    prov.set_number("error_max", n.max);
    prov.set_number("error_rms", n.l2);
    prov.set_number("error_max_relative", n.max / std::max(n.exact_max, 1e-300));
  }
  io::OutputWriter w(*d.grid, spec);
  w.finalize();
}

RunResult run_elliptic_case(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) {
  const int rank = comm_rank(comm), size = comm_size(comm);
  const std::string solver = run_solver(c, opt);
  const std::string out_path = c.path("output/" + c.output.file);
  const std::string logs_dir = c.path("logs");
  prepare_target(comm, out_path, opt.overwrite);
  if (rank == 0) fs::create_directories(logs_dir);
  MPI_Barrier(comm);

  RunLog log(comm, logs_dir + "/run.log", !opt.quiet);
  JsonRecord prov = provenance_record(c.dir, c.config_hash, size, utc_now_iso8601());
  prov.set_string("equation", "elliptic");
  prov.set_string("solver", solver);
  if (rank == 0) {
    start_run_logs(logs_dir, c.resolved_yaml);
    prov.write_atomic(logs_dir + "/run.json");
  }

  try {
    const EllipticProblem p = elliptic_problem(c);
    EllipticFields d(comm, p);
    fill_data(c, p, d);
    log.line("aeolus run " + c.name + ": -div(k grad u) + c u = f, " + grid_text(p) + " " +
             centering_name(p.centering) + "-centred, solver " + solver + ", " +
             std::to_string(size) + " rank(s)");
    const EllipticSolve r = solve(c, p, solver, d, log);
    report_solve(p, r, *d.grid, log, prov);
    write_solution(c, p, r.described, out_path, d, log, prov);
    if (!r.st.converged) {
      throw NumericsError(
          "solver " + solver + " did not reach solver.rtol = " + fmt("%.3g", ell(c).ksp.rtol) +
          " in " + std::to_string(r.st.iterations) + " iterations (relative residual " +
          fmt("%.3e", r.st.relative_residual()) + "); the unconverged solution is in " + out_path);
    }
    prov.set_string("status", "completed");
    prov.set_string("output", out_path);
  } catch (const Error& err) {
    prov.set_string("status", "failed");
    prov.set_string("error", err.what());
    prov.set_string("end_time", utc_now_iso8601());
    if (rank == 0) prov.write_atomic(logs_dir + "/run.json");
    throw;
  }
  prov.set_string("end_time", utc_now_iso8601());
  if (rank == 0) prov.write_atomic(logs_dir + "/run.json");
  log.line("done: output " + out_path);
  RunResult r;
  r.output_path = out_path;
  return r;
}

void generate_elliptic_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string path = c.path("data/dcdm_train.nc");
  prepare_target(comm, path, overwrite);
  const EllipticProblem p = elliptic_problem(c, true);
  if (ell(c).coefficient.type != "constant") {
    throw ConfigError(c.file + ": aeolus dataset (DCDM) needs a constant coefficient " +
                      "(physics.coefficient.type = constant)");
  }
  auto grid = make_elliptic_grid(comm, p);
  EllipticOperator op(*grid, p, nullptr);
  RunLog log(comm, c.path("logs/dataset.log"), true);
  log.line("aeolus dataset " + c.name + ": DCDM right-hand sides from " +
           std::to_string(ell(c).dataset.ritz) + " Ritz vectors of the " + grid_text(p) +
           " operator -> " + path);
  const auto t0 = std::chrono::steady_clock::now();
  emulators::generate_dcdm_dataset(op, ell(c).dataset, path, log.sink());
  log.line(
      "done in " +
      fmt("%.1f", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) +
      " s");
}

void train_elliptic_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  emulators::check_torch_device(ell(c).training.device, c.file + ": dcdm.training.device");
  const std::string data = c.path("data/dcdm_train.nc");
  if (!fs::exists(data)) {
    throw IoError(data + ": no training data; run 'aeolus dataset " + c.dir + "' first");
  }
  const std::string model = c.path(ell(c).model);
  prepare_target(comm, model, overwrite);
  const EllipticProblem p = elliptic_problem(c, true);
  auto grid = make_elliptic_grid(comm, p);
  EllipticOperator op(*grid, p, nullptr);
  RunLog log(comm, c.path("logs/train.log"), true);
  log.line("aeolus train " + c.name + ": DCDM network on " + grid_text(p) + ", channels " +
           std::to_string(ell(c).net.channels) + ", blocks " + std::to_string(ell(c).net.blocks) +
           ", " + std::to_string(ell(c).training.threads) + " threads");
  auto net = ell(c).net;
  net.threads = ell(c).training.threads;
  const auto r = emulators::train_dcdm(op, data, net, ell(c).training, model, log.sink());
  log.line("done: " + std::to_string(r.epochs) + " epochs in " + fmt("%.1f", r.seconds) +
           " s, train loss " + fmt("%.4e", r.train_loss) + ", valid loss " +
           fmt("%.4e", r.valid_loss) + ", " + std::to_string(r.parameters) + " parameters, " +
           fmt("%.3g", r.flops_per_sample) + " FLOP per sample -> " + model);
}

// One solve, outside the time loop; dataset and train make the DCDM network of the case.
class EllipticCase : public CaseCommands {
 public:
  RunResult run(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) const override {
    return run_elliptic_case(comm, c, opt);
  }
  void dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    generate_elliptic_dataset(comm, c, overwrite);
  }
  void train(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    train_elliptic_case(comm, c, overwrite);
  }
  void eval(MPI_Comm, const CaseConfig& c, bool) const override {
    throw ConfigError(c.file + ": aeolus eval compares steppers of time-dependent cases; for " +
                      "an elliptic case compare solvers with 'aeolus run --solver NAME' or " +
                      "tools/bench poisson_solvers");
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("elliptic", EllipticCase)

}  // namespace aeolus::app
