#pragma once
// The benchmarks' in-process memory-bandwidth reference: a STREAM-style triad a = b + s c over
// three arrays of n doubles (24 bytes moved per element; write-allocate traffic not counted, as
// in STREAM), run on every rank of comm at the same time, best of reps. Returns the aggregate
// GB/s: ranks x 24 B x n / the slowest rank's time. A benchmark divides the bandwidth its own
// traffic model achieves by this figure, measured in the same process, so the ratio does not
// depend on how fast or how busy the machine was that day.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include "grids/petsc_util.hpp"

namespace aeolus::bench {

inline double triad_gbs(MPI_Comm comm, std::size_t n, int reps) {
  using clock_type = std::chrono::steady_clock;
  std::vector<double> a(n, 1.0), b(n, 2.0), c(n, 3.0);
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    AEOLUS_MPI(MPI_Barrier(comm));
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0 * c[i];
    double t = std::chrono::duration<double>(clock_type::now() - t0).count(), slowest = t;
    AEOLUS_MPI(MPI_Allreduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm));
    best = std::min(best, slowest);
    b[std::size_t(r) % n] = a[(std::size_t(r) * 7) % n];  // keep the loop live
  }
  return double(comm_size(comm)) * 24.0 * double(n) / best / 1e9;
}

}  // namespace aeolus::bench
