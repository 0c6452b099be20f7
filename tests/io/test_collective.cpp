// Rank-0 work with errors shared by all ranks (io/collective.hpp), at 1 and 2 ranks: the work
// runs on rank 0 only; its exception reaches every rank with the same text, Aeolus's error
// types survive and any other exception becomes the caller's type; a failure kept on rank 0
// is thrown later by every rank, and the other ranks' failures are not read.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "common/error_of.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"

using namespace aeolus;
using namespace aeolus::io;

namespace {

class EmptyText : public std::exception {
 public:
  const char* what() const noexcept override { return ""; }
};

}  // namespace

TEST(OnRoot, RunsOnRankZeroOnly) {
  int calls = 0;
  on_root(MPI_COMM_WORLD, [&] { ++calls; });
  EXPECT_EQ(calls, comm_rank(MPI_COMM_WORLD) == 0 ? 1 : 0);
  on_root(
      MPI_COMM_WORLD, [&] { ++calls; }, Wait::sleeping);
  EXPECT_EQ(calls, comm_rank(MPI_COMM_WORLD) == 0 ? 2 : 0);
}

TEST(OnRoot, AeolusErrorsKeepTheirTypeOnEveryRank) {
  const MPI_Comm w = MPI_COMM_WORLD;
  EXPECT_EQ(test::error_of<ConfigError>([&] { on_root(w, [] { throw ConfigError("c"); }); }), "c");
  EXPECT_EQ(test::error_of<IoError>([&] { on_root(w, [] { throw IoError("i"); }); }), "i");
  EXPECT_EQ(test::error_of<NumericsError>([&] { on_root(w, [] { throw NumericsError("n"); }); }),
            "n");
  EXPECT_EQ(test::error_of<ModelError>([&] {
              on_root(
                  w, [] { throw ModelError("m"); }, Wait::sleeping);
            }),
            "m");
  EXPECT_EQ(test::error_of<LibraryError>([&] { on_root(w, [] { throw LibraryError("l"); }); }),
            "l");
}

TEST(OnRoot, OtherExceptionsBecomeTheCallersType) {
  const MPI_Comm w = MPI_COMM_WORLD;
  EXPECT_EQ(test::error_of<IoError>([&] { on_root(w, [] { throw std::runtime_error("disk"); }); }),
            "disk");
  EXPECT_EQ(test::error_of<NumericsError>(
                [&] { on_root<NumericsError>(w, [] { throw std::runtime_error("x"); }); }),
            "x");
  // The base class is not one of the kinds either.
  EXPECT_EQ(test::error_of<ModelError>([&] { on_root<ModelError>(w, [] { throw Error("e"); }); }),
            "e");
  EXPECT_EQ(test::error_of<IoError>([&] { on_root(w, [] { throw EmptyText(); }); }),
            "unknown error");
}

TEST(RethrowEverywhere, OnlyRankZerosFailureCounts) {
  const MPI_Comm w = MPI_COMM_WORLD;
  const int rank = comm_rank(w);
  // Kept on rank 0, thrown by all after more collective work.
  Failure kept;
  if (rank == 0) kept = capture([] { throw ConfigError("late"); });
  MPI_Barrier(w);
  EXPECT_EQ(test::error_of<ConfigError>([&] { rethrow_everywhere(w, kept); }), "late");
  // A failure seen by another rank only is that rank's business: nothing is thrown.
  Failure other_rank;
  if (rank != 0) other_rank = capture([] { throw IoError("ignored"); });
  EXPECT_NO_THROW(rethrow_everywhere(w, other_rank));
  EXPECT_EQ(capture([] {}).kind, Failure::Kind::none);
}
