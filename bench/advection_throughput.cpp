// Benchmark: finite-volume advection throughput against the machine's memory bandwidth,
// measured in the same process (so a noisy machine does not lie).
//
//   tools/bench advection_throughput [N] [steps]
//
// Prints, per reconstruction, the time per cell-stage and the achieved bandwidth of a minimal
// traffic model (read q and write the stage result once per stage: 16 bytes per cell-stage)
// as a ratio to a STREAM-style triad run in this process.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "bench/stream_triad.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"
#include "solvers/fv_advection.hpp"

using namespace aeolus;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
  PetscSession session(&argc, &argv);
  const index_t n = argc > 1 ? std::atoll(argv[1]) : 512;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 20;
  const double stream = bench::triad_gbs(MPI_COMM_SELF, size_t(1) << 25, 5);
  std::printf("advection_throughput: %lldx%lld periodic, %d steps of ssprk3, 1 rank\n",
              (long long)n, (long long)n, steps);
  std::printf("STREAM-style triad in this process: %.1f GB/s\n\n", stream);
  std::printf("%-10s %14s %16s %14s\n", "scheme", "ns/cell-stage", "model GB/s", "/ triad");
  for (const char* rec : {"upwind", "minmod", "van_leer", "mc", "ppm"}) {
    CartesianGridParams p;
    p.dim = 2;
    p.n = {n, n, 1};
    p.halo = 3;
    CartesianGrid grid(PETSC_COMM_SELF, p);
    physics::VelocityParams v;
    v.type = "rotating";
    physics::InitialConditionParams ic;
    ic.type = "gaussian";
    Field q(grid, "q");
    physics::fill_initial_condition(ic, 0, q);
    FvSchemeParams s;
    s.reconstruction = rec;
    FvAdvectionStepper stepper(grid, v, s, 0.5);
    real_t t = 0;
    real_t dt = stepper.max_dt(q, t);
    stepper.step(q, t, dt);  // warm-up
    auto t0 = clock_type::now();
    for (int k = 0; k < steps; ++k) {
      dt = stepper.max_dt(q, t);
      stepper.step(q, t, dt);
    }
    const double sec = std::chrono::duration<double>(clock_type::now() - t0).count();
    const double cell_stages = double(n) * double(n) * 3.0 * steps;
    const double gbs = 16.0 * cell_stages / sec / 1e9;
    std::printf("%-10s %14.2f %16.2f %14.3f\n", rec, sec / cell_stages * 1e9, gbs, gbs / stream);
  }
  return 0;
}
