#include "grids/petsc_util.hpp"

#include <chrono>
#include <sstream>
#include <thread>

namespace aeolus::detail {
void throw_library_error(const char* lib, const char* call, int code, const char* file, int line) {
  std::ostringstream os;
  os << lib << " call failed with code " << code;
  if (std::string(lib) == "PETSc") {
    const char* text = nullptr;
    if (PetscErrorMessage(PetscErrorCode(code), &text, nullptr) == 0 && text)
      os << " (" << text << ")";
  }
  os << ": " << call << " (" << file << ":" << line << ")";
  throw LibraryError(os.str());
}
}  // namespace aeolus::detail

namespace aeolus {

PetscSession::PetscSession(int* argc, char*** argv) {
  PetscBool init = PETSC_FALSE;
  PetscInitialized(&init);
  if (!init) {
    // No PETSc help text: aeolus prints its own --help.
    AEOLUS_PETSC(PetscInitialize(argc, argv, nullptr, nullptr));
    owner_ = true;
    // Our exceptions carry the message; PETSc's multi-line traceback is not printed.
    PetscPushErrorHandler(PetscReturnErrorHandler, nullptr);
  }
}

PetscSession::~PetscSession() {
  if (owner_) PetscFinalize();
}

int comm_rank(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}
int comm_size(MPI_Comm comm) {
  int s = 1;
  MPI_Comm_size(comm, &s);
  return s;
}

void sleeping_barrier(MPI_Comm comm, int poll_ms) {
  MPI_Request request;
  AEOLUS_MPI(MPI_Ibarrier(comm, &request));
  int done = 0;
  while (true) {
    AEOLUS_MPI(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

}  // namespace aeolus
