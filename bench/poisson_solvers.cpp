// Benchmark: Poisson solvers (CG, ICC-PCG, GAMG-PCG, hypre-PCG, FFT, DCDM) at 2D and 3D sizes
//
//   tools/bench poisson_solvers [--sizes 256,1024,64x3,128x3] [--model2d FILE] [--model3d FILE]
//                               [--dcdm-max-it N] [--threads N]
//   mpirun -n 2 build/bin/bench_poisson_solvers ...
//
// Problem: -lap u = f on the unit square / cube, cell-centred, homogeneous Dirichlet walls (the
// DCDM training problem of cases/poisson-2d and cases/poisson-3d), with a right-hand side no
// network has seen: a seeded sum of Gaussian blobs (physics random_blobs, seed 4242) plus a
// seeded white-noise part (10 % of its rms), so both ends of the spectrum are present.
// Size "N" is N^2 (2D), "Nx3" is N^3 (3D).
//
// For every solver, two solves from x = 0: to relative residual 1e-4 and to 1e-8 (true
// residual ||b - A x|| / ||b||; KSP types are asked for the unpreconditioned norm). Reported:
// iterations and wall time of each solve (set-up — AMG hierarchy, FFT plans, loading the model
// — reported apart), and the ratio of each to plain CG in the same run. The last column is
// unknowns / second / core for the 1e-8 solve (set-up included).
//
// References, all measured in this process except the last:
//  - plain CG (PETSc KSPCG, no preconditioner) on the same matrix: every ratio column;
//  - GAMG-PCG (PETSc's algebraic multigrid under CG) on the same matrix: the summary gives the
//    best solver's unknowns/s/core as a multiple of GAMG-PCG's;
//  - a STREAM-style triad on all ranks at once (bench/stream_triad.hpp, 3 x 64 MB, after each
//    size's solves, so that it sees the same machine load): plain CG's
//    achieved bandwidth as a fraction of it, for the traffic model of one PETSc CG iteration
//    with no preconditioner: the AIJ matrix once (8 B value + 4 B column index per stored
//    nonzero, 4 B row pointer per row) and 18 vector passes of 8 B per unknown (PCApply copy 2,
//    two dot products 2 + 2, the norm 1, AYPX and two AXPYs 3 + 3 + 3, MatMult's x and y 1 + 1).
//    The triad runs from DRAM; where the iteration's bytes fit the last-level cache (printed),
//    the fraction can exceed 1;
//  - a literature figure, not measured here: the HPGMG-FV anchor of about 3e6 unknowns/s/core
//    for a full-multigrid solve on other machines, printed for orientation only.
// DCDM runs when a model file for the dimension is given (aeolus train cases/poisson-2d or
// cases/poisson-3d); its network runs on rank 0 (see emulators/dcdm_model.hpp).
#include <mpi.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/stream_triad.hpp"
#include "emulators/dcdm_model.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"
#include "physics/advection.hpp"
#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"
#include "solvers/fft_solver.hpp"

using namespace aeolus;
using clock_type = std::chrono::steady_clock;

namespace {

// Literature figure, not measured here: unknowns / s / core of HPGMG-FV's full-multigrid solve.
constexpr double kHpgmgLiterature = 3e6;
// Bytes per unknown of the vector operations of one unpreconditioned PETSc CG iteration (see
// the header): 18 passes of 8 B.
constexpr double kCgVectorBytes = 18 * 8.0;

struct Size {
  int dim;
  index_t n;
  std::string label() const {
    return dim == 2 ? std::to_string(n) + "^2" : std::to_string(n) + "^3";
  }
};

struct Row {
  std::string solver;
  bool ran = false;
  std::string note;
  int it4 = 0, it8 = 0;
  double t4 = 0, t8 = 0, setup = 0;
  bool conv4 = false, conv8 = false;
};

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::vector<Size> parse_sizes(const std::string& s) {
  std::vector<Size> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    Size z{2, 0};
    const auto x = tok.find("x3");
    if (x != std::string::npos) {
      z.dim = 3;
      tok = tok.substr(0, x);
    }
    z.n = std::atoll(tok.c_str());
    if (z.n < 4) throw ConfigError("--sizes: bad size '" + tok + "'");
    out.push_back(z);
  }
  return out;
}

EllipticProblem problem(const Size& z) {
  EllipticProblem p;
  p.dim = z.dim;
  p.panels = {z.n, z.n, z.dim == 3 ? z.n : 1};
  for (int d = 0; d < z.dim; ++d) {
    p.boundary[size_t(d)][0].kind = BoundaryKind::dirichlet;
    p.boundary[size_t(d)][1].kind = BoundaryKind::dirichlet;
  }
  return p;
}

// Seeded blobs plus 10 % white noise, identical for every rank count (noise drawn in natural
// order on rank 0 and scattered).
void fill_rhs(Field& f) {
  physics::InitialConditionParams ic;
  ic.type = "random_blobs";
  ic.blobs_min = 6;
  ic.blobs_max = 12;
  ic.radius_min = 0.03;
  ic.radius_max = 0.15;
  ic.amplitude_min = -1.0;
  ic.amplitude_max = 1.0;
  physics::fill_initial_condition(ic, 4242, f);
  std::vector<real_t> all = f.gather_to_root();
  if (f.grid().rank() == 0) {
    double s2 = 0;
    for (real_t v : all) s2 += v * v;
    const double rms = std::sqrt(s2 / double(all.size()));
    std::mt19937_64 g(77);
    for (real_t& v : all)
      v += 0.1 * rms * (2.0 * (double(g() >> 11) * 0x1.0p-53) - 1.0) * std::sqrt(3.0);
  }
  f.scatter_from_root(all);
}

template <class Solve>
void run_pair(Row& r, Solve&& solve) {
  for (int pass = 0; pass < 2; ++pass) {
    const real_t rtol = pass == 0 ? 1e-4 : 1e-8;
    SolveStats st = solve(rtol);
    if (pass == 0) {
      r.it4 = st.iterations, r.t4 = st.seconds, r.conv4 = st.converged;
    } else {
      r.it8 = st.iterations, r.t8 = st.seconds, r.conv8 = st.converged;
      r.setup = st.setup_seconds;
    }
  }
  r.ran = true;
}

}  // namespace

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv);
  MPI_Comm comm = PETSC_COMM_WORLD;
  const int rank = comm_rank(comm), size = comm_size(comm);
  std::string sizes_arg = "256,1024,64x3,128x3", model2d, model3d;
  int dcdm_max_it = 2000, threads = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw ConfigError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--sizes")
      sizes_arg = next();
    else if (a == "--model2d")
      model2d = next();
    else if (a == "--model3d")
      model3d = next();
    else if (a == "--dcdm-max-it")
      dcdm_max_it = std::atoi(next().c_str());
    else if (a == "--threads")
      threads = std::atoi(next().c_str());
  }
  try {
    const auto sizes = parse_sizes(sizes_arg);
    if (rank == 0) {
      std::printf("# Poisson solvers, -lap u = f, cell-centred Dirichlet, %d rank(s)\n", size);
      std::printf("# times in s (solve only; set-up apart); ratios are to plain CG in this run\n");
      std::printf("# the STREAM-style triad (3 x 64 MB, all ranks at once) runs after each size's "
                  "solves\n");
    }
    for (const Size& z : sizes) {
      const EllipticProblem p = problem(z);
      auto grid = make_elliptic_grid(comm, p);
      EllipticOperator op(*grid, p);
      Field f(*grid, "f");
      fill_rhs(f);
      Vec b = op.create_vector(), x = op.create_vector();
      op.rhs(f, b);
      const index_t unknowns = grid->global_cells();
      MatInfo info;
      AEOLUS_PETSC(MatGetInfo(op.matrix(), MAT_GLOBAL_SUM, &info));
      const double nonzeros = info.nz_used;
      std::vector<Row> rows;
      const std::vector<std::pair<std::string, std::string>> ksps = {
          {"CG", "-ksp_type cg -pc_type none"},
          {"ICC-PCG", size == 1 ? "-ksp_type cg -pc_type icc"
                                : "-ksp_type cg -pc_type bjacobi -sub_pc_type icc"},
          {"GAMG-PCG", "-ksp_type cg -pc_type gamg"},
          {"hypre-PCG", "-ksp_type cg -pc_type hypre -pc_hypre_type boomeramg"}};
      for (const auto& [name, options] : ksps) {
        Row r;
        r.solver = name;
        run_pair(r, [&](real_t rtol) {
          KspParams kp;
          kp.options = options;
          kp.prefix = "bench_";
          kp.rtol = rtol;
          kp.max_it = 100000;
          KspSolver s(op, kp);
          AEOLUS_PETSC(VecSet(x, 0.0));
          return s.solve(b, x);
        });
        rows.push_back(r);
      }
      {
        Row r;
        r.solver = "FFT";
        const auto t0 = clock_type::now();
        FftSolver fft(op);
        const double setup = seconds_since(t0);
        run_pair(r, [&](real_t) {
          AEOLUS_PETSC(VecSet(x, 0.0));
          SolveStats st = fft.solve(b, x);
          st.setup_seconds = setup;
          return st;
        });
        r.note = "direct";
        rows.push_back(r);
      }
      {
        Row r;
        r.solver = "DCDM";
        const std::string& m = z.dim == 2 ? model2d : model3d;
        if (m.empty() || !std::filesystem::exists(m)) {
          r.note = m.empty() ? "no --model" + std::to_string(z.dim) + "d given" : m + " missing";
        } else {
          const auto t0 = clock_type::now();
          auto model = emulators::load_dcdm_model(m, op, threads);
          const double setup = seconds_since(t0);
          run_pair(r, [&](real_t rtol) {
            DcdmParams dp;
            dp.rtol = rtol;
            dp.max_it = dcdm_max_it;
            AEOLUS_PETSC(VecSet(x, 0.0));
            SolveStats st = dcdm_solve(op.matrix(), b, x, *model, dp);
            st.setup_seconds = setup;
            return st;
          });
        }
        rows.push_back(r);
      }
      // The bandwidth reference, measured right after the solves it is compared with.
      const double triad = bench::triad_gbs(comm, size_t(1) << 23, 10);
      if (rank == 0) {
        const Row& cg = rows.front();
        std::printf("\n## %s (%lld unknowns)\n", z.label().c_str(), (long long)unknowns);
        std::printf("%-10s %8s %8s %9s %9s %8s %8s %8s %8s %8s %10s\n", "solver", "it@1e-4",
                    "it@1e-8", "t@1e-4", "t@1e-8", "setup", "it/CG@8", "t/CG@4", "t/CG@8", "conv",
                    "unk/s/core");
        // Best overall (FFT, where it applies: constant coefficients on a box only) and best
        // iterative solver (what a variable-coefficient problem such as Darcy can use).
        double best = 0, best_it = 0, gamg = 0;
        std::string best_name, best_it_name;
        for (const Row& r : rows) {
          if (!r.ran) {
            std::printf("%-10s   (not run: %s)\n", r.solver.c_str(), r.note.c_str());
            continue;
          }
          const double rate = double(unknowns) / ((r.t8 + r.setup) * size);
          if (r.solver != "DCDM" && r.conv8 && rate > best) best = rate, best_name = r.solver;
          if (r.solver != "DCDM" && r.solver != "FFT" && r.conv8 && rate > best_it)
            best_it = rate, best_it_name = r.solver;
          if (r.solver == "GAMG-PCG" && r.conv8) gamg = rate;
          std::printf("%-10s %8d %8d %9.3e %9.3e %8.3f %8.3f %8.3f %8.3f %8s %10.3e\n",
                      r.solver.c_str(), r.it4, r.it8, r.t4, r.t8, r.setup,
                      cg.it8 > 0 ? double(r.it8) / cg.it8 : 0.0, r.t4 / cg.t4, r.t8 / cg.t8,
                      r.conv4 && r.conv8 ? "yes" : "NO", rate);
        }
        // Plain CG's bandwidth for the traffic model of the header, against the triad.
        const double cg_bytes = 12.0 * nonzeros + (4.0 + kCgVectorBytes) * double(unknowns);
        const double cg_gbs = cg.it8 > 0 ? cg_bytes * cg.it8 / cg.t8 / 1e9 : 0.0;
        std::printf(
            "in-process references: plain CG %.3e s per iteration = %.2f GB/s for %.0f B per "
            "unknown and iteration (%.2f nonzeros per row; %.1f MB per iteration in all) = "
            "%.3f x the triad (%.1f GB/s); GAMG-PCG %.3e unknowns/s/core\n",
            cg.it8 > 0 ? cg.t8 / cg.it8 : 0.0, cg_gbs, cg_bytes / double(unknowns),
            nonzeros / double(unknowns), cg_bytes / 1e6, cg_gbs / triad, triad, gamg);
        std::printf(
            "best classical: %s at %.3e unknowns/s/core = %.2f x GAMG-PCG in this run; best "
            "iterative: %s at %.3e = %.2f x GAMG-PCG\n",
            best_name.c_str(), best, gamg > 0 ? best / gamg : 0.0, best_it_name.c_str(), best_it,
            gamg > 0 ? best_it / gamg : 0.0);
        std::printf(
            "literature figure, not measured here: HPGMG-FV full multigrid, about 3e6 "
            "unknowns/s/core on other machines; %s %.2f x, %s %.2f x that figure\n",
            best_name.c_str(), best / kHpgmgLiterature, best_it_name.c_str(),
            best_it / kHpgmgLiterature);
        std::fflush(stdout);
      }
      AEOLUS_PETSC(VecDestroy(&b));
      AEOLUS_PETSC(VecDestroy(&x));
    }
  } catch (const std::exception& e) {
    if (rank == 0) std::fprintf(stderr, "bench_poisson_solvers: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
