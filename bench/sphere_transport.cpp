// Benchmark: Lin-Rood sphere transport at 2/1/0.5 deg against an in-process triad; 2-rank scaling
//
//   tools/bench sphere_transport [steps] [reps] [tracer]
//   mpirun -n 2 build/bin/bench_sphere_transport [steps] [reps] [tracer]
//
// Solid-body rotation (Williamson case 1 winds, alpha = pi/4, 12-day period) of a tracer
// (default gaussian_hills: non-trivial everywhere, so the limiters see no flat regions) on
// 90x180, 180x360 and 360x720 grids, for monotone PPM and monotone van Leer. The step is the
// stepper's max_dt at meridional CFL 0.5. Each time is the best of `reps` repetitions of `steps`
// steps after a warm-up, split into
//   step    SphereTransportStepper::step (flow + halo exchange + kernel), what a run pays;
//   flow    physics::sphere_swept_areas alone (stream function at every face corner);
//   halo    Field::exchange_halos + SphereGrid::fill_polar_halos;
//   kernel  lin_rood_step_2d alone, with swept areas computed once before the loop.
// Traffic models (bytes per cell per step; the few ghost rows are ignored; write-allocate is
// not counted, as in STREAM):
//   minimal  32 B: read q, write q_new, read xa and ya (the swept areas the flow hands over);
//            the step column adds 16 B for the flow writing xa and ya (48 B).
//   split    96 B: minimal plus the intermediates a textbook implementation writes as whole
//            arrays and reads back: qx, qy, zonal and meridional face fluxes (16 B each).
// Each achieved bandwidth is a ratio to the triad a = b + s c (3 x 64 MB, 24 B per element)
// run in the same process; a triad over 3 x 2 MB (L3-resident, like the 0.5 deg working set)
// is printed for context. The kernel is also timed "cold", with every cache evicted before each
// call: the difference to the warm time bounds what memory traffic costs it, and the "goal"
// column is the time the 32 B/cell model allows at 50 % of the triad. A table-driven solid-body
// swept-area function (one cos per column, checked against physics::sphere_swept_areas) is timed as
// well: what the flow could cost.
//
// Under mpirun -n N the 1-rank timings run first on rank 0 alone (MPI_COMM_SELF; the other
// ranks sleep), then the N-rank timings on all ranks, and the triad runs once on rank 0 alone
// and once on all ranks at the same time (aggregate); the ranks that slept run 2 s of triads
// before the N-rank timings. Efficiency = t(1 rank) / (N t(N ranks)). On a shared machine a
// foreign process on one core slows the N-rank timings: measure when the machine is idle.
#include "solvers/sphere_transport.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bench/stream_triad.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/sphere_flow.hpp"
#include "physics/sphere_tracers.hpp"
#include "solvers/sphere_kernels.hpp"

using namespace aeolus;
using aeolus::bench::triad_gbs;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr double kMinimalBytes = 32.0;  // per cell and step, see the header
constexpr double kSplitBytes = 96.0;
constexpr double kFlowBytes = 16.0;  // the flow's write of xa and ya
constexpr double kDay = 86400.0;

// Floating-point operations per cell of one monotone kernel call (each add, sub, mul, min,
// max, abs, compare, select or sign operation on one double counts 1; the 4 divisions per cell
// are left out), counted from solvers/sphere_kernels.cpp. One 1D reconstruction plus its
// upwind face flux, per cell:
//   PPM:      MC slope 14 + interface 5 + CW84 edges 13 + flux 32 (both one-sided integrals,
//             weighted by max(x, 0) and min(x, 0)) = 64;
//   van Leer: MC slope 14 + flux 16 = 30.
// Four of them per cell (q and qy zonally, q and qx meridionally), then the two inner updates
// (7 each besides the divisions), the outer update (10) and the row checks (3 + 5 + 7) = 39.
// Rows with zonal Courant numbers >= 1 do more (the whole-cell sums): not counted, so the
// roof below is an upper bound.
constexpr double kPpmOps = 4 * 64 + 39;      // 295
constexpr double kVanLeerOps = 4 * 30 + 39;  // 159

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double max_over(MPI_Comm comm, double v) {
  double r = v;
  AEOLUS_MPI(MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MAX, comm));
  return r;
}

// Size in bytes of the level-`level` data or unified cache of CPU 0, from sysfs (glibc's
// sysconf reads CPUID, which a virtual machine may fill with the host's sizes: 320 MB of L3 on
// the development machine, whose sysfs and lscpu say 32 MB); 0 if unknown.
double cache_bytes(int level) {
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream lf(dir + "/level"), tf(dir + "/type"), sf(dir + "/size");
    int l = 0;
    std::string type, size;
    if (!(lf >> l) || !(tf >> type) || !(sf >> size)) continue;
    if (l != level || type == "Instruction" || size.empty()) continue;
    const double scale = size.back() == 'K' ? 1024.0 : size.back() == 'M' ? 1048576.0 : 1.0;
    return std::atof(size.c_str()) * scale;
  }
  return 0;
}

// The core's arithmetic peak in double operations per second: 16 independent chains of
// multiply-then-add on 8-wide vectors in registers (2 operations per element each; the
// instruction set is the one the loader picks for the kernel, whose clones are the same three).
// An upper bound for the kernel's mix, which also loads, stores, compares and blends.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
double
fp_chains(long iters, double m, double c) {
  typedef double v8 __attribute__((vector_size(64)));
  v8 x[16];
  for (int j = 0; j < 16; ++j)
    for (int l = 0; l < 8; ++l) x[j][l] = 1.0 + 0.01 * (8 * j + l);
  for (long k = 0; k < iters; ++k) {
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) x[j] = x[j] * m + c;
  }
  double sum = 0;
  for (int j = 0; j < 16; ++j)
    for (int l = 0; l < 8; ++l) sum += x[j][l];
  return sum;
}
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#pragma GCC pop_options
#endif

double fp_peak_ops(int reps) {
  const long iters = 1 << 20;
  double best = 1e300, keep = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = clock_type::now();
    keep += fp_chains(iters, 0.999999, 1e-6 * (r + 1));
    best = std::min(best, seconds_since(t0));
  }
  if (!std::isfinite(keep)) throw Error("fp_chains diverged");
  return double(iters) * 16 * 8 * 2 / best;
}

// Writes a buffer of twice the last-level cache (at least 64 MB), so that the next reads of any
// array come from DRAM.
void evict_caches() {
  static std::vector<unsigned char> buf;
  static unsigned char value = 0;
  if (buf.empty()) buf.resize(std::max(size_t(2 * cache_bytes(3)), size_t(64) << 20));
  ++value;
  for (size_t i = 0; i < buf.size(); i += 64) buf[i] = value;
}

// Williamson case 1 swept areas from a table: the stream function
// psi = -u0 a (sin(lat) cos(alpha) - cos(lon) cos(lat) sin(alpha)) is separable, so one cos per
// column and the grid's sin/cos of the edge latitudes replace the trig calls per face corner.
// A reference for what the flow could cost, checked against physics::sphere_swept_areas.
void table_swept_areas(const SphereGrid& g, real_t alpha, real_t period, real_t dt,
                       std::vector<real_t>& coslon, SphereFaceFluxes& out) {
  const index_t nx = g.nlon(), ny = g.nlat(), h = g.halo(), j0 = g.lat_start();
  const index_t nj = g.lat_count();
  const real_t a = g.radius(), u0 = 2 * M_PI * a / period;
  const real_t c1 = -u0 * a * std::cos(alpha), c2 = u0 * a * std::sin(alpha);
  coslon.resize(size_t(nx) + 1);
  for (index_t i = 0; i <= nx; ++i) coslon[size_t(i)] = std::cos(g.lon_edge(i));
  auto psi = [&](index_t i, index_t e) {
    return c1 * g.sin_lat_edge(e) + c2 * coslon[size_t(i)] * g.cos_lat_edge(e);
  };
  for (index_t r = -h; r < nj + h; ++r) {
    real_t* xa = out.xa.data() + (r + h) * nx;
    const index_t e = j0 + r;
    if (e < 0 || e >= ny) {
      std::fill(xa, xa + nx, 0.0);
      continue;
    }
    for (index_t i = 0; i < nx; ++i) xa[i] = dt * (psi(i, e) - psi(i, e + 1));
  }
  for (index_t r = 0; r <= nj; ++r) {
    real_t* ya = out.ya.data() + r * nx;
    const index_t e = j0 + r;
    if (e == 0 || e == ny) {
      std::fill(ya, ya + nx, 0.0);
      continue;
    }
    for (index_t i = 0; i < nx; ++i) ya[i] = dt * (psi(i + 1, e) - psi(i, e));
  }
}

struct Resolution {
  const char* name;
  index_t nlat, nlon;
};
constexpr Resolution kResolutions[] = {
    {"2 deg", 90, 180}, {"1 deg", 180, 360}, {"0.5 deg", 360, 720}};

struct Timing {
  double dt = 0;                                    // s (model time)
  double step = 0, flow = 0, halo = 0, kernel = 0;  // s per step (best repetition)
  double kernel_cold = 0;  // s per kernel call after the caches were evicted
  double table_flow = 0;   // table_swept_areas, s per call
  double table_diff = 0;   // max |table - physics| / max |physics| over xa and ya
};

// Times one scheme on one grid over the ranks of comm (every rank calls it).
Timing time_case(MPI_Comm comm, const Resolution& res, const SphereSchemeParams& scheme,
                 const std::string& tracer, int steps, int reps) {
  SphereGridParams gp;
  gp.nlat = res.nlat;
  gp.nlon = res.nlon;
  gp.halo = sphere_halo_width(scheme);
  const SphereGrid g(comm, gp);
  physics::SphereFlowParams fp;
  fp.type = "williamson";
  fp.alpha = M_PI / 4;
  physics::SphereTracerParams tp;
  tp.type = tracer;
  Field q(g.grid(), "q");
  physics::fill_sphere_tracer(tp, g, q);
  SphereTransportStepper stepper(g, physics::sphere_flow_function(fp, g), scheme, 0.5);
  Timing out;
  out.dt = stepper.max_dt(q, 0.0);

  real_t t = 0;
  auto run_steps = [&](int n) {
    for (int k = 0; k < n; ++k) {
      real_t dt = out.dt;
      stepper.step(q, t, dt);
    }
  };
  run_steps(3);  // warm-up: caches, page faults, the stepper's work buffers
  out.step = 1e300;
  for (int r = 0; r < reps; ++r) {
    AEOLUS_MPI(MPI_Barrier(comm));
    const auto t0 = clock_type::now();
    run_steps(steps);
    out.step = std::min(out.step, max_over(comm, seconds_since(t0)) / steps);
  }

  // The same step in pieces; swept areas computed once for the kernel loop (the flow is steady).
  SphereFaceFluxes f;
  f.resize(g);
  physics::sphere_swept_areas(fp, g, t, out.dt, f);
  SphereWork work(g);
  const SphereScheme s = sphere_scheme_from_params(scheme);
  out.flow = out.halo = out.kernel = 1e300;
  for (int r = 0; r < reps + 1; ++r) {  // the first repetition is a warm-up
    double flow = 0, halo = 0, kernel = 0;
    AEOLUS_MPI(MPI_Barrier(comm));
    for (int k = 0; k < steps; ++k) {
      auto t0 = clock_type::now();
      q.exchange_halos();
      g.fill_polar_halos(q);
      halo += seconds_since(t0);
      t0 = clock_type::now();
      lin_rood_step_2d(g, s, f, q.view(), q.view(), work);
      kernel += seconds_since(t0);
    }
    SphereFaceFluxes scratch;
    scratch.resize(g);
    AEOLUS_MPI(MPI_Barrier(comm));
    const auto t0 = clock_type::now();
    for (int k = 0; k < steps; ++k) physics::sphere_swept_areas(fp, g, t, out.dt, scratch);
    flow = seconds_since(t0);
    if (r == 0) continue;
    out.flow = std::min(out.flow, max_over(comm, flow) / steps);
    out.halo = std::min(out.halo, max_over(comm, halo) / steps);
    out.kernel = std::min(out.kernel, max_over(comm, kernel) / steps);
  }
  // The kernel with its inputs in DRAM: before each call the caches are evicted by writing a
  // buffer twice the size of the last-level cache (not timed). If memory traffic bounded the
  // kernel, this would slow it by about the bytes it moves over the DRAM bandwidth.
  out.kernel_cold = 1e300;
  for (int r = 0; r < reps + 1; ++r) {
    double kernel = 0;
    AEOLUS_MPI(MPI_Barrier(comm));
    for (int k = 0; k < steps; ++k) {
      q.exchange_halos();
      g.fill_polar_halos(q);
      evict_caches();
      const auto t0 = clock_type::now();
      lin_rood_step_2d(g, s, f, q.view(), q.view(), work);
      kernel += seconds_since(t0);
    }
    if (r > 0) out.kernel_cold = std::min(out.kernel_cold, max_over(comm, kernel) / steps);
  }
  SphereFaceFluxes table;
  table.resize(g);
  std::vector<real_t> coslon;
  out.table_flow = 1e300;
  for (int r = 0; r < reps + 1; ++r) {
    AEOLUS_MPI(MPI_Barrier(comm));
    const auto t0 = clock_type::now();
    for (int k = 0; k < steps; ++k)
      table_swept_areas(g, fp.alpha, fp.period, out.dt, coslon, table);
    if (r > 0) out.table_flow = std::min(out.table_flow, max_over(comm, seconds_since(t0)) / steps);
  }
  double diff = 0, scale = 0;
  for (size_t i = 0; i < f.xa.size(); ++i) {
    diff = std::max(diff, std::abs(table.xa[i] - f.xa[i]));
    scale = std::max(scale, std::abs(f.xa[i]));
  }
  for (size_t i = 0; i < f.ya.size(); ++i) {
    diff = std::max(diff, std::abs(table.ya[i] - f.ya[i]));
    scale = std::max(scale, std::abs(f.ya[i]));
  }
  out.table_diff = max_over(comm, diff / scale);
  if (!q.all_finite()) throw Error("non-finite tracer after the loops");
  return out;
}

struct Row {
  std::string scheme;
  Resolution res;
  Timing one, many;  // 1 rank; all ranks (many.dt == 0 when run on 1 rank)
};

void print_timings(const char* title, const std::vector<Row>& rows, bool many, double triad) {
  std::printf("%s\n", title);
  std::printf("%-9s %-8s %8s %7s %8s %8s %8s %8s %9s %9s %7s %7s %7s\n", "scheme", "grid", "cells",
              "dt s", "step ms", "flow ms", "halo ms", "krnl ms", "Mcell/s", "krnl", "step", "krnl",
              "krnl");
  std::printf("%-9s %-8s %8s %7s %8s %8s %8s %8s %9s %9s %7s %7s %7s\n", "", "", "", "", "", "", "",
              "", "step", "Mcell/s", "48B/tr", "32B/tr", "96B/tr");
  for (const Row& r : rows) {
    const Timing& t = many ? r.many : r.one;
    const double cells = double(r.res.nlat) * double(r.res.nlon);
    const auto frac = [&](double bytes, double sec) { return bytes * cells / sec / 1e9 / triad; };
    std::printf("%-9s %-8s %8.0f %7.0f %8.3f %8.3f %8.3f %8.3f %9.1f %9.1f %7.3f %7.3f %7.3f\n",
                r.scheme.c_str(), r.res.name, cells, t.dt, t.step * 1e3, t.flow * 1e3, t.halo * 1e3,
                t.kernel * 1e3, cells / t.step / 1e6, cells / t.kernel / 1e6,
                frac(kMinimalBytes + kFlowBytes, t.step), frac(kMinimalBytes, t.kernel),
                frac(kSplitBytes, t.kernel));
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    PetscSession session(&argc, &argv);
    const int steps = argc > 1 ? std::atoi(argv[1]) : 20;
    const int reps = argc > 2 ? std::atoi(argv[2]) : 5;
    const std::string tracer = argc > 3 ? argv[3] : "gaussian_hills";
    if (steps < 1 || reps < 1) throw Error("steps and reps must be >= 1");
    physics::SphereTracerParams tracer_check;
    tracer_check.type = tracer;
    physics::validate(tracer_check);  // on every rank, before rank 0 works alone
    const MPI_Comm world = PETSC_COMM_WORLD;
    const int rank = comm_rank(world), nranks = comm_size(world);
    const bool root = rank == 0;

    // Phase 1: rank 0 alone (the other ranks sleep).
    double triad1 = 0, triad1_l3 = 0, peak = 0;
    std::vector<Row> rows;
    if (root) {
      triad1 = triad_gbs(MPI_COMM_SELF, size_t(1) << 23, 10);
      triad1_l3 = triad_gbs(MPI_COMM_SELF, size_t(1) << 18, 200);
      peak = fp_peak_ops(10);
      for (const char* rec : {"ppm", "van_leer"}) {
        SphereSchemeParams sp;
        sp.reconstruction = rec;
        sp.limiter = "monotone";
        for (const Resolution& res : kResolutions) {
          rows.push_back({std::string(rec), res,
                          time_case(MPI_COMM_SELF, res, sp, tracer, steps, reps), Timing{}});
        }
      }
    }
    // Not MPI_Barrier: it busy-polls, which would take the second core away from a 1-rank
    // measurement on a 2-core machine.
    sleeping_barrier(world, 1);

    // Phase 2: all ranks.
    double triadn = 0;
    if (nranks > 1) {
      // Wake the ranks that slept through phase 1: an idle virtual core comes back slowly.
      const auto t0 = clock_type::now();
      while (max_over(world, seconds_since(t0)) < 2.0) triad_gbs(world, size_t(1) << 20, 1);
      triadn = triad_gbs(world, size_t(1) << 23, 10);
      size_t row = 0;
      for (const char* rec : {"ppm", "van_leer"}) {
        SphereSchemeParams sp;
        sp.reconstruction = rec;
        sp.limiter = "monotone";
        for (const Resolution& res : kResolutions) {
          const Timing t = time_case(world, res, sp, tracer, steps, reps);
          if (root) rows[row].many = t;
          ++row;
        }
      }
    }
    if (!root) return 0;

    std::printf(
        "sphere_transport: Lin-Rood FFSL, solid-body rotation alpha = pi/4 (12 days), "
        "tracer %s, CFL 0.5, best of %d x %d steps, %d rank(s)\n",
        tracer.c_str(), reps, steps, nranks);
    std::printf("STREAM-style triad, 3 x 64 MB, rank 0 alone:    %6.1f GB/s\n", triad1);
    std::printf("STREAM-style triad, 3 x 2 MB (L3), rank 0 alone: %6.1f GB/s\n", triad1_l3);
    if (nranks > 1)
      std::printf("STREAM-style triad, 3 x 64 MB, %d ranks at once: %6.1f GB/s (aggregate)\n",
                  nranks, triadn);
    std::printf(
        "columns: times per step; Mcell/s = cell-updates/s; NB/tr = achieved GB/s of an "
        "N bytes/cell model / DRAM triad\n(48 B: step incl. flow writes; 32 B: q in/out "
        "+ xa + ya; 96 B: + qx, qy, fluxes as whole arrays)\n\n");
    print_timings("1 rank", rows, false, triad1);
    if (nranks > 1) {
      char title[64];
      std::snprintf(title, sizeof title, "%d ranks (cells and Mcell/s are global)", nranks);
      print_timings(title, rows, true, triadn);
      std::printf("%d-rank efficiency t1 / (%d tN):\n", nranks, nranks);
      std::printf("%-9s %-8s %8s %8s\n", "scheme", "grid", "step", "kernel");
      for (const Row& r : rows)
        std::printf("%-9s %-8s %8.3f %8.3f\n", r.scheme.c_str(), r.res.name,
                    r.one.step / (nranks * r.many.step), r.one.kernel / (nranks * r.many.kernel));
      std::printf("\n");
    }

    // Where the kernel's time goes: if it were bound by memory traffic, evicting the caches
    // before each call would add about the minimal bytes over the DRAM bandwidth, and the
    // goal (50 % of the triad for the 32 B/cell model) would be the time of moving them at
    // half the triad's rate.
    const double l2 = cache_bytes(2), l3 = cache_bytes(3);
    std::printf(
        "kernel and memory (1 rank; L2 %.1f MiB per core, L3 %.0f MiB): warm = the arrays where "
        "the previous call left them, cold = all caches evicted before each call;\nset = the "
        "kernel's arrays q, xa, ya; 32B@tr = the 32 B/cell model at the DRAM triad's rate; "
        "goal = twice that (50 %% of the triad)\n",
        l2 / 1048576.0, l3 / 1048576.0);
    std::printf("%-9s %-8s %8s %8s %8s %9s %8s %8s %9s\n", "scheme", "grid", "set MB", "warm ms",
                "cold ms", "cold/warm", "32B@tr", "goal ms", "warm/goal");
    for (const Row& r : rows) {
      const double cells = double(r.res.nlat) * double(r.res.nlon);
      const double mem = kMinimalBytes * cells / (triad1 * 1e9);
      std::printf("%-9s %-8s %8.1f %8.3f %8.3f %9.2f %8.3f %8.3f %9.1f\n", r.scheme.c_str(),
                  r.res.name, 24.0 * cells / 1e6, r.one.kernel * 1e3, r.one.kernel_cold * 1e3,
                  r.one.kernel_cold / r.one.kernel, mem * 1e3, 2 * mem * 1e3,
                  r.one.kernel / (2 * mem));
    }
    std::printf("\n");
    std::printf(
        "compute roof (1 rank): peak %.1f Gop/s (multiply-add chains in registers); ops = "
        "double operations per cell of the kernel, counted from its source;\nroof = the cell "
        "rate at that peak; roof 32B/tr = the fraction of the DRAM triad the 32 B/cell model "
        "would reach there\n",
        peak / 1e9);
    std::printf("%-9s %-8s %6s %12s %12s %10s %12s\n", "scheme", "grid", "ops", "roof Mcell/s",
                "krnl Mcell/s", "krnl/roof", "roof 32B/tr");
    for (const Row& r : rows) {
      const double cells = double(r.res.nlat) * double(r.res.nlon);
      const double ops = r.scheme == "ppm" ? kPpmOps : kVanLeerOps;
      const double roof = peak / ops;
      std::printf("%-9s %-8s %6.0f %12.1f %12.1f %10.2f %12.3f\n", r.scheme.c_str(), r.res.name,
                  ops, roof / 1e6, cells / r.one.kernel / 1e6, cells / r.one.kernel / roof,
                  roof * kMinimalBytes / (triad1 * 1e9));
    }
    std::printf("\n");

    std::printf("flow alternative (1 rank): table-driven solid-body swept areas, ms per step\n");
    std::printf("%-8s %9s %9s %12s\n", "grid", "physics", "table", "max rel diff");
    for (size_t i = 0; i < 3 && i < rows.size(); ++i)
      std::printf("%-8s %9.3f %9.3f %12.1e\n", rows[i].res.name, rows[i].one.flow * 1e3,
                  rows[i].one.table_flow * 1e3, rows[i].one.table_diff);
    std::printf("\n");

    std::printf("cost growth 2 deg -> 0.5 deg (1 rank), time per simulated day:\n");
    std::printf("%-9s %10s %10s %9s %9s %9s %9s\n", "scheme", "2deg s/d", "0.5 s/d", "growth",
                "cells x", "dt x", "ideal");
    for (size_t i = 0; i + 2 < rows.size(); i += 3) {
      const Row& lo = rows[i];
      const Row& hi = rows[i + 2];
      const double day_lo = lo.one.step * std::ceil(kDay / lo.one.dt);
      const double day_hi = hi.one.step * std::ceil(kDay / hi.one.dt);
      const double cells = double(hi.res.nlat * hi.res.nlon) / double(lo.res.nlat * lo.res.nlon);
      const double dts = lo.one.dt / hi.one.dt;
      std::printf("%-9s %10.3f %10.3f %9.1f %9.1f %9.2f %9.1f\n", lo.scheme.c_str(), day_lo, day_hi,
                  day_hi / day_lo, cells, dts, cells * dts);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sphere_transport: %s\n", e.what());
    // The other ranks may be waiting for rank 0 in a barrier.
    int up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down) MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
  }
}
