#pragma once
// Rank-0 work with errors shared by all ranks (io/ and the app layer in tools/app).
//
// The writers do their file work on rank 0 only. An error found there (file exists, disk full)
// must reach every rank as the same exception, or the other ranks would wait forever in the
// next collective call. These helpers keep the ranks in lockstep: every rank calls them, rank 0
// runs the work, and the outcome is broadcast.
#include <mpi.h>

#include <exception>
#include <string>
#include <utility>

namespace aeolus::io::detail {

// Collective. Throws IoError(message) on every rank when `message` on rank 0 is not empty.
void broadcast_error(MPI_Comm comm, const std::string& message);

// Collective. Rank 0's string on every rank.
std::string broadcast_string(MPI_Comm comm, const std::string& value);

// Collective. Runs fn() on rank 0; an exception there is rethrown as IoError on every rank.
template <class Fn>
void on_root(MPI_Comm comm, Fn&& fn) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string error;
  if (rank == 0) {
    try {
      std::forward<Fn>(fn)();
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown error";
    }
  }
  broadcast_error(comm, error);
}

}  // namespace aeolus::io::detail
