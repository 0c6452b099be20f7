#pragma once
// Small wrappers around PETSc and MPI return codes and handles.
#include <petscsys.h>

#include <string>

#include "grids/error.hpp"

namespace aeolus::detail {
[[noreturn]] void throw_library_error(const char* lib, const char* call, int code, const char* file,
                                      int line);
}

// Wrap every PETSc call: AEOLUS_PETSC(VecSet(v, 0.0));
#define AEOLUS_PETSC(call)                                                                     \
  do {                                                                                         \
    PetscErrorCode aeolus_ierr_ = (call);                                                      \
    if (aeolus_ierr_)                                                                          \
      ::aeolus::detail::throw_library_error("PETSc", #call, aeolus_ierr_, __FILE__, __LINE__); \
  } while (0)

#define AEOLUS_MPI(call)                                                                       \
  do {                                                                                         \
    int aeolus_mpierr_ = (call);                                                               \
    if (aeolus_mpierr_ != MPI_SUCCESS)                                                         \
      ::aeolus::detail::throw_library_error("MPI", #call, aeolus_mpierr_, __FILE__, __LINE__); \
  } while (0)

namespace aeolus {

// Initialises PETSc (and MPI) for the lifetime of the object; finalises on destruction.
// Safe to construct when PETSc is already initialised (then it does nothing).
class PetscSession {
 public:
  PetscSession(int* argc, char*** argv);
  ~PetscSession();
  PetscSession(const PetscSession&) = delete;
  PetscSession& operator=(const PetscSession&) = delete;

 private:
  bool owner_ = false;
};

// Convenience: rank and size of a communicator.
int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);

// Collective. A barrier that waits in short sleeps of `poll_ms` between polls instead of
// spinning inside MPI, so that a waiting rank leaves its core to the threads of a rank that is
// still working (training on rank 0, or a timed single-rank measurement).
void sleeping_barrier(MPI_Comm comm, int poll_ms);

}  // namespace aeolus
