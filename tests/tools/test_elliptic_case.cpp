// Elliptic cases through run_case (aeolus run), at 1 and 2 ranks:
//  - a manufactured 3D Poisson case solved by KSP and by the FFT solver: the same answer, the
//    error of a second-order scheme, CF output with u, f, k, u_exact and error;
//  - the Darcy case (thresholded random permeability): the answer on all ranks equals the one
//    computed on rank 0 alone; physical sanity (u > 0 inside for f = 1, u = 0 walls);
//  - the shipped FISHPACK HWSCRT case reproduces FISHPACK's documented error;
//  - results are not overwritten without --overwrite; options that do not apply are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "case_files.hpp"
#include "common/temp_dir.hpp"
#include "emulators/dcdm_model.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/netcdf_file.hpp"
#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"
#include "tools/app/driver.hpp"
#include "tools/app/elliptic_case.hpp"

using namespace aeolus;
namespace fs = std::filesystem;

namespace {

using test::json_number;
using test::read_text;

const char* kPoisson3d = R"(grid:
  dim: 3
  n: [16, 12, 20]
  hi: [1.0, 1.5, 2.0]
physics:
  equation: elliptic
  helmholtz: 1.5
  source: {type: manufactured, solution: mixed}
  boundary:
    x: {low: dirichlet, high: neumann}
    y: {low: neumann, high: dirichlet}
    z: {low: neumann, high: dirichlet}
solver:
  type: ksp
  rtol: 1.0e-12
  ksp:
    options: -ksp_type cg -pc_type gamg
)";

const char* kDarcy = R"(grid:
  dim: 2
  n: [48, 40]
physics:
  equation: elliptic
  coefficient: {type: thresholded_grf, seed: 3}
  source: {type: constant, value: 1.0}
  boundary:
    x: {low: dirichlet}
    y: {low: dirichlet}
solver:
  rtol: 1.0e-12
  ksp:
    options: -ksp_type cg -pc_type hypre
)";

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

double max_abs(const std::vector<double>& a) {
  double m = 0;
  for (double v : a) m = std::max(m, std::abs(v));
  return m;
}

}  // namespace

TEST(EllipticCase, ManufacturedKspAndFftAgree) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  test::TempDir dir(comm);
  const std::string d = test::write_case(comm, dir, "poisson", kPoisson3d);
  auto c = app::load_case(d);
  app::run_case(comm, c, test::quiet_run());
  const std::string out = d + "/output/solution.nc";
  std::vector<double> u_ksp;
  if (comm_rank(comm) == 0) {  // rank 0 writes the files
    ASSERT_TRUE(fs::exists(out));
    const auto json = read_text(d + "/logs/run.json");
    EXPECT_NE(json.find("\"completed\""), std::string::npos) << json;
    EXPECT_LT(json_number(json, "relative_residual"), 1e-11);
    // Second order at 16x12x20 with wavenumber 1: a few 1e-3 of the solution's size.
    const double rel = json_number(json, "error_max_relative");
    EXPECT_GT(rel, 1e-5);
    EXPECT_LT(rel, 1e-2);
    io::NetcdfFile f(out, io::NetcdfFile::Mode::read);
    for (const char* v : {"u", "f", "k", "u_exact", "error"}) {
      EXPECT_TRUE(f.has_var(v)) << v;
      EXPECT_TRUE(f.has_att(v, "units")) << v;
      EXPECT_TRUE(f.has_att(v, "long_name")) << v;
    }
    EXPECT_EQ(f.var_shape("u"), (std::vector<size_t>{20, 12, 16}));
    u_ksp = test::read_var(out, "u");
  }
  // Results of an earlier run are not replaced silently.
  EXPECT_THROW(app::run_case(comm, c, test::quiet_run()), IoError);
  auto opt = test::quiet_run();
  opt.overwrite = true;
  opt.solver = "fft";
  app::run_case(comm, c, opt);
  if (comm_rank(comm) == 0) {
    const auto u_fft = test::read_var(out, "u");
    EXPECT_LT(max_abs_diff(u_ksp, u_fft) / max_abs(u_ksp), 1e-9);
  }
  opt.solver = "";
  opt.stepper = "classical";
  EXPECT_THROW(app::run_case(comm, c, opt), ConfigError);
  EXPECT_THROW(app::evaluate_case(comm, c, true), ConfigError);
}

TEST(EllipticCase, DarcyIndependentOfRankCount) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  test::TempDir dir(comm);
  const std::string d = test::write_case(comm, dir, "darcy", kDarcy);
  const std::string d1 = test::write_case(comm, dir, "darcy1", kDarcy);
  const auto c = app::load_case(d);
  app::run_case(comm, c, test::quiet_run());
  if (comm_rank(comm) == 0) {
    // The same case on rank 0 alone.
    const auto c1 = app::load_case(d1);
    app::run_case(PETSC_COMM_SELF, c1, test::quiet_run());
    const auto u = test::read_var(d + "/output/solution.nc", "u");
    const auto u1 = test::read_var(d1 + "/output/solution.nc", "u");
    const auto k = test::read_var(d + "/output/solution.nc", "k");
    const auto k1 = test::read_var(d1 + "/output/solution.nc", "k");
    EXPECT_EQ(k, k1);  // the permeability field does not depend on the decomposition
    EXPECT_LT(max_abs_diff(u, u1) / max_abs(u), 1e-9);
    // f = 1 > 0 with u = 0 on the walls: u > 0 inside (maximum principle), and below the
    // k = 3 everywhere bound max u <= 1/(8*3) (the 1D bound x(1-x)/(2k) at x = 1/2).
    for (double v : u) EXPECT_GT(v, 0.0);
    EXPECT_LT(max_abs(u), 1.0 / 24.0);
    size_t high = 0;
    for (double v : k) {
      EXPECT_TRUE(v == 3.0 || v == 12.0) << v;
      high += v == 12.0;
    }
    EXPECT_GT(high, k.size() / 5);
    EXPECT_LT(high, 4 * k.size() / 5);
  }
  MPI_Barrier(comm);
}

TEST(EllipticCase, FishpackHwscrtCase) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  test::TempDir dir(comm);
  const std::string d = test::write_case(
      comm, dir, "fishpack",
      read_text(std::string(AEOLUS_SOURCE_DIR) + "/cases/fishpack-hwscrt/case.yaml"));
  for (const char* solver : {"fft", "ksp"}) {
    auto opt = test::quiet_run();
    opt.solver = solver;
    opt.overwrite = true;
    app::run_case(comm, app::load_case(d), opt);
    if (comm_rank(comm) == 0) {  // rank 0 writes the log
      const double err = json_number(read_text(d + "/logs/run.json"), "error_max");
      // FISHPACK documents 5.36508e-4 for this discretisation.
      EXPECT_NEAR(err, 5.36508e-4, 0.01 * 5.36508e-4) << solver;
    }
    MPI_Barrier(comm);
  }
}

// aeolus dataset -> train -> run --solver dcdm on a tiny problem: the trained network, used at
// twice the training resolution, solves the case's problem to the requested tolerance.
TEST(EllipticCase, DcdmDatasetTrainRun) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  test::TempDir dir(comm);
  const std::string d = test::write_case(comm, dir, "dcdm", R"(grid:
  dim: 2
  n: [32, 32]
physics:
  equation: elliptic
  source: {type: manufactured, solution: sine, wavenumber: 2}
  boundary:
    x: {low: dirichlet}
    y: {low: dirichlet}
solver:
  type: dcdm
  rtol: 1.0e-6
  max_it: 400
  dcdm: {orthogonalise: 8, threads: 1}
dcdm:
  train_n: [16, 16]
  channels: 4
  blocks: 1
  dataset: {ritz: 60, samples: 200, valid: 16}
  training: {epochs: 60, batch_size: 8, learning_rate: 3.0e-3, threads: 1}
)");
  const auto c = app::load_case(d);
  EXPECT_THROW(app::train_case(comm, c, false), IoError);  // no data yet
  app::generate_dataset(comm, c, false);
  EXPECT_THROW(app::generate_dataset(comm, c, false), IoError);  // no silent overwrite
  app::train_case(comm, c, false);
  app::run_case(comm, c, test::quiet_run());
  if (comm_rank(comm) == 0) {
    const auto json = read_text(d + "/logs/run.json");
    EXPECT_NE(json.find("\"completed\""), std::string::npos) << json;
    EXPECT_LT(json_number(json, "relative_residual"), 1e-6);
    const double its = json_number(json, "iterations");
    EXPECT_GT(its, 0);
    EXPECT_LT(its, 400);
    // The discretisation error of the 32^2 problem, as any converged solver gives.
    EXPECT_LT(json_number(json, "error_max_relative"), 5e-3);
  }
  MPI_Barrier(comm);

  // The same trained model as a PETSc preconditioner (PCSHELL) under flexible CG, as a PETSc
  // code would use it: converges, in fewer iterations than unpreconditioned CG.
  const EllipticProblem p = app::elliptic_problem(c);
  auto grid = make_elliptic_grid(comm, p);
  EllipticOperator op(*grid, p);
  Field f(*grid, "f"), u(*grid, "u");
  f.fill(1.0);
  auto model = emulators::load_dcdm_model(d + "/models/dcdm.pt", op, 1);
  KspParams kp;
  kp.options = "-ksp_type fcg -pc_type none";
  kp.prefix = "dcdm_fcg_";
  kp.rtol = 1e-8;
  kp.max_it = 500;
  KspSolver fcg(op, kp);
  set_dcdm_preconditioner(fcg.ksp(), *model);
  u.fill(0.0);
  const SolveStats with_model = fcg.solve(f, u);
  kp.options = "-ksp_type cg -pc_type none";
  kp.prefix = "plain_cg_";
  KspSolver cg(op, kp);
  u.fill(0.0);
  const SolveStats plain = cg.solve(f, u);
  EXPECT_TRUE(with_model.converged) << with_model.reason;
  EXPECT_LT(with_model.relative_residual(), 1e-8);
  EXPECT_LT(with_model.iterations, plain.iterations)
      << "FCG + DCDM " << with_model.iterations << ", CG " << plain.iterations;
}

TEST(EllipticCase, ConfigErrors) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  test::TempDir dir(comm);
  auto expect_config_error = [&](const std::string& name, const std::string& yaml,
                                 const std::string& needle) {
    const std::string d = test::write_case(comm, dir, name, yaml);
    try {
      app::load_case(d);
      ADD_FAILURE() << name << ": no error";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  std::string y = kDarcy;
  expect_config_error("typo", y + "  maxit: 3\n", "max_it");
  std::string one_side = kPoisson3d;
  const std::string z = "z: {low: neumann, high: dirichlet}";
  one_side.replace(one_side.find(z), z.size(), "z: {low: periodic, high: neumann}");
  expect_config_error("periodic", one_side, "one side");
  std::string fft = kDarcy;
  fft.replace(fft.find("solver:"), 7, "solver:\n  type: fft");
  expect_config_error("fft-grf", fft, "constant coefficient");
}
