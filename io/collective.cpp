#include "io/collective.hpp"

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus::io::detail {

std::string broadcast_string(MPI_Comm comm, const std::string& value) {
  int rank = 0;
  AEOLUS_MPI(MPI_Comm_rank(comm, &rank));
  unsigned long long len = value.size();
  AEOLUS_MPI(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, comm));
  std::string out = rank == 0 ? value : std::string(size_t(len), '\0');
  if (len > 0) AEOLUS_MPI(MPI_Bcast(out.data(), int(len), MPI_CHAR, 0, comm));
  return out;
}

void broadcast_error(MPI_Comm comm, const std::string& message) {
  const std::string shared = broadcast_string(comm, message);
  if (!shared.empty()) throw IoError(shared);
}

}  // namespace aeolus::io::detail
