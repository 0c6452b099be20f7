#include "io/column_gather.hpp"

#include "grids/petsc_util.hpp"

namespace aeolus::io {

std::vector<real_t> gather_columns(MPI_Comm comm, const std::vector<real_t>& local) {
  const int size = comm_size(comm), rank = comm_rank(comm);
  const int n = int(local.size());
  std::vector<int> counts(static_cast<size_t>(size)), displs(static_cast<size_t>(size));
  MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  std::vector<real_t> all;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < size; ++r) {
      displs[size_t(r)] = total;
      total += counts[size_t(r)];
    }
    all.resize(size_t(total));
  }
  MPI_Gatherv(local.data(), n, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0,
              comm);
  return all;
}

}  // namespace aeolus::io
