// GoogleTest main shared by all suites: initialises PETSc/MPI once. Under MPI every rank runs
// every test; rank 0 prints the usual report, the other ranks print only their own failures
// (prefixed with the rank), so that a failure seen on one rank only is not invisible.
#include <gtest/gtest.h>

#include <cstdio>

#include "grids/petsc_util.hpp"

namespace {

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_,
                 r.file_name() ? r.file_name() : "unknown file", r.line_number(), r.message());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
    }
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  aeolus::PetscSession session(&argc, &argv);
  const int rank = aeolus::comm_rank(PETSC_COMM_WORLD);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }
  int rc = RUN_ALL_TESTS();
  // Fail on every rank if any rank failed.
  int global = 0;
  MPI_Allreduce(&rc, &global, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  return global;
}
