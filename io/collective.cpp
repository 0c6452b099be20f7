#include "io/collective.hpp"

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus::io {

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

Failure failure_of(const std::exception& e) {
  using Kind = Failure::Kind;
  Failure f;
  f.message = e.what();
  if (f.message.empty()) f.message = "unknown error";
  if (dynamic_cast<const ConfigError*>(&e)) {
    f.kind = Kind::config;
  } else if (dynamic_cast<const IoError*>(&e)) {
    f.kind = Kind::io;
  } else if (dynamic_cast<const NumericsError*>(&e)) {
    f.kind = Kind::numerics;
  } else if (dynamic_cast<const ModelError*>(&e)) {
    f.kind = Kind::model;
  } else if (dynamic_cast<const LibraryError*>(&e)) {
    f.kind = Kind::library;
  } else {
    f.kind = Kind::other;
  }
  return f;
}

Failure broadcast_failure(MPI_Comm comm, const Failure& failure) {
  int kind = int(failure.kind);
  AEOLUS_MPI(MPI_Bcast(&kind, 1, MPI_INT, 0, comm));
  if (kind == int(Failure::Kind::none)) return {};
  return {Failure::Kind(kind), broadcast_string(comm, failure.message)};
}

void throw_failure(const Failure& failure) {
  switch (failure.kind) {
    case Failure::Kind::config:
      throw ConfigError(failure.message);
    case Failure::Kind::io:
      throw IoError(failure.message);
    case Failure::Kind::numerics:
      throw NumericsError(failure.message);
    case Failure::Kind::model:
      throw ModelError(failure.message);
    case Failure::Kind::library:
      throw LibraryError(failure.message);
    case Failure::Kind::none:
    case Failure::Kind::other:
      return;
  }
}

}  // namespace aeolus::io
