#pragma once
// Rank-0 work with errors shared by all ranks (io/, emulators/ and the app layer in tools/app;
// the API of namespace aeolus::io, no longer a detail).
//
// The writers do their file work on rank 0 only. An error found there (file exists, disk full)
// must reach every rank as the same exception, or the other ranks would wait forever in the
// next collective call. These helpers keep the ranks in lockstep: every rank calls them, rank 0
// runs the work, and the outcome is broadcast.
#include <mpi.h>

#include <exception>
#include <string>
#include <utility>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus::io {

// Collective. Throws IoError(message) on every rank when `message` on rank 0 is not empty.
void broadcast_error(MPI_Comm comm, const std::string& message);

// Collective. Rank 0's string on every rank.
std::string broadcast_string(MPI_Comm comm, const std::string& value);

// An exception caught on one rank, kept so that it can be thrown on every rank: which of
// Aeolus's error types (grids/error.hpp) it was, and its text. none: nothing was caught;
// other: a std::exception that is not one of them (the caller chooses the type it becomes).
struct Failure {
  enum class Kind : int { none = 0, config, io, numerics, model, library, other };
  Kind kind = Kind::none;
  std::string message;
};

// The Failure that describes `e`; an empty text becomes "unknown error".
Failure failure_of(const std::exception& e);

// Runs fn(); a std::exception it throws comes back as a Failure instead of propagating.
template <class Fn>
Failure capture(Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    return failure_of(e);
  }
  return {};
}

// Collective. Rank 0's failure on every rank.
Failure broadcast_failure(MPI_Comm comm, const Failure& failure);

// Throws the Aeolus error that `failure` describes; returns for kinds none and other.
void throw_failure(const Failure& failure);

// Collective. Throws rank 0's `failure` on every rank: the same Aeolus error type with the same
// text, or `Other` where rank 0 caught another kind of exception. Returns where rank 0 caught
// nothing. The other ranks' `failure` is not read.
template <class Other = IoError>
void rethrow_everywhere(MPI_Comm comm, const Failure& failure) {
  const Failure shared = io::broadcast_failure(comm, failure);
  if (shared.kind == Failure::Kind::other) throw Other(shared.message);
  io::throw_failure(shared);
}

// How the other ranks wait while rank 0 works. busy: in the broadcast that follows (short
// work). sleeping: polling a barrier with sleeps between polls (long work such as training,
// whose threads need the cores that a rank spinning inside MPI would take).
enum class Wait { busy, sleeping };

// Collective. Runs fn() on rank 0 only; an exception there is thrown on every rank with rank
// 0's text, as described at rethrow_everywhere.
template <class Other = IoError, class Fn>
void on_root(MPI_Comm comm, Fn&& fn, Wait wait = Wait::busy) {
  // Calls qualified: a caller's own capture() must not be found through its lambda's namespace.
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  Failure failure;
  if (rank == 0) failure = io::capture(std::forward<Fn>(fn));
  if (wait == Wait::sleeping) aeolus::sleeping_barrier(comm, 20);
  io::rethrow_everywhere<Other>(comm, failure);
}

}  // namespace aeolus::io
