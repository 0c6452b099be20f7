// GoogleTest main shared by all suites: initialises PETSc/MPI once. Under MPI every rank runs
// every test; only rank 0 prints results.
#include <gtest/gtest.h>

#include "grids/petsc_util.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  aeolus::PetscSession session(&argc, &argv);
  if (aeolus::comm_rank(PETSC_COMM_WORLD) != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  // Fail on every rank if any rank failed.
  int global = 0;
  MPI_Allreduce(&rc, &global, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  return global;
}
