#pragma once
// A fresh directory under /tmp for one test, the same path on every rank: rank 0 creates it
// with mkdtemp and broadcasts the name; it is removed when the test ends.
#include <mpi.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

namespace aeolus::test {

class TempDir {
 public:
  explicit TempDir(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    std::vector<char> name(256, '\0');
    if (rank_ == 0) {
      std::string pattern = "/tmp/aeolus_test_XXXXXX";
      std::copy(pattern.begin(), pattern.end(), name.begin());
      if (!mkdtemp(name.data())) name[0] = '\0';
    }
    MPI_Bcast(name.data(), int(name.size()), MPI_CHAR, 0, comm_);
    path_ = name.data();
  }
  ~TempDir() {
    // Every rank must be done with the files before rank 0 removes them.
    MPI_Barrier(comm_);
    std::error_code ignored;
    if (rank_ == 0 && !path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  std::string path_;
};

}  // namespace aeolus::test
