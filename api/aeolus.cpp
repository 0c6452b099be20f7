// The C API (aeolus.h) over emulators/ and the application layer (tools/app: the case-type and
// stepper registries that `aeolus run` uses): argument checks with messages in the caller's terms
// (the C argument names), and the one place where C++ exceptions become statuses. No torch header
// here: emulators/torchscript_model.hpp keeps LibTorch behind its .cpp.
#include "aeolus.h"

#include <mpi.h>
#include <petscsys.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulators/array_model.hpp"
#include "emulators/torch_warnings.hpp"
#include "emulators/torchscript_model.hpp"
#include "emulators/torchscript_training.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"
#include "solvers/stepper.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/case_type.hpp"
#include "training_config.hpp"

struct aeolus_model {
  // A TorchScript file or an Aeolus archive (emulators/array_model.hpp).
  std::unique_ptr<aeolus::emulators::ArrayModel> model;
  bool has_trainer = false;  // aeolus_model_free refuses the model while its trainer lives
};

struct aeolus_trainer {
  aeolus_model* model = nullptr;
  std::unique_ptr<aeolus::emulators::TorchScriptTrainer> trainer;
};

// The stepper's own communicator is the host's ranks renumbered in the DMDA's order (rank r
// owns box (r % px, r / px % py, r / (px py)) of the tensor product): the host may have numbered
// its boxes otherwise. The case is kept because a stepper may refer to its settings.
struct aeolus_stepper {
  MPI_Comm comm = MPI_COMM_NULL;
  aeolus::app::CaseConfig config;
  std::unique_ptr<aeolus::CartesianGrid> grid;
  std::unique_ptr<aeolus::Field> q;
  std::unique_ptr<aeolus::Stepper> stepper;
  std::string name;
  aeolus_stepper() = default;
  aeolus_stepper(const aeolus_stepper&) = delete;
  aeolus_stepper& operator=(const aeolus_stepper&) = delete;
  ~aeolus_stepper() {
    // The stepper and field hold PETSc objects of the grid, the grid holds the communicator.
    stepper.reset();
    q.reset();
    grid.reset();
    if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
  }
};

namespace {

namespace em = aeolus::emulators;

thread_local std::string last_error;

// A bad argument of the C call `function`: AEOLUS_ERROR_ARGUMENT with this message.
class ArgumentError : public std::invalid_argument {
 public:
  ArgumentError(const char* function, const std::string& what)
      : std::invalid_argument(std::string(function) + ": " + what) {}
};

// An error whose status is already decided (an error another rank found, see agree()).
class StatusError : public std::runtime_error {
 public:
  StatusError(aeolus_status status, const std::string& what)
      : std::runtime_error(what), status(status) {}
  aeolus_status status;
};

// Runs `body` and turns whatever it throws into a status and the thread's last error. LibTorch's
// warnings on this thread are kept (aeolus_last_warnings), not printed, while it runs.
template <class Body>
aeolus_status guarded(const char* function, Body&& body) noexcept {
  const em::WarningCapture quiet_torch;
  auto fail = [&](aeolus_status status, const std::string& message) {
    try {
      last_error = message;
    } catch (...) {
      // No memory even for the message: the status alone must do.
    }
    return status;
  };
  try {
    body();
    return AEOLUS_OK;
  } catch (const StatusError& e) {
    return fail(e.status, e.what());
  } catch (const ArgumentError& e) {
    return fail(AEOLUS_ERROR_ARGUMENT, e.what());
  } catch (const std::invalid_argument& e) {
    return fail(AEOLUS_ERROR_ARGUMENT, std::string(function) + ": " + e.what());
  } catch (const aeolus::IoError& e) {
    return fail(AEOLUS_ERROR_IO, std::string(function) + ": " + e.what());
  } catch (const aeolus::ConfigError& e) {
    return fail(AEOLUS_ERROR_CASE, std::string(function) + ": " + e.what());
  } catch (const aeolus::NumericsError& e) {
    return fail(AEOLUS_ERROR_NUMERICS, std::string(function) + ": " + e.what());
  } catch (const aeolus::Error& e) {
    return fail(AEOLUS_ERROR_MODEL, std::string(function) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return fail(AEOLUS_ERROR_MEMORY, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(AEOLUS_ERROR_INTERNAL, std::string(function) + ": internal error: " + e.what());
  } catch (...) {
    return fail(AEOLUS_ERROR_INTERNAL,
                std::string(function) + ": internal error (unknown exception)");
  }
}

// ArgumentError of `function`, or without a function (nullptr) a plain std::invalid_argument:
// the trainer's checks, whose message may be shared with other ranks before guarded() names
// the call.
[[noreturn]] void refuse(const char* function, const std::string& what) {
  if (function) throw ArgumentError(function, what);
  throw std::invalid_argument(what);
}

void require(const char* function, const void* p, const char* name, const char* expected) {
  if (!p) refuse(function, std::string(name) + " is NULL; expected " + expected);
}

// The shape argument `name` of rank `rank`, checked.
std::vector<std::int64_t> shape_arg(const char* function, const char* rank_name, int rank,
                                    const char* name, const std::int64_t* shape) {
  if (rank < 1 || rank > AEOLUS_MAX_RANK) {
    refuse(function, std::string(rank_name) + " = " + std::to_string(rank) + "; expected 1 to " +
                         std::to_string(AEOLUS_MAX_RANK));
  }
  require(function, shape, name, "an array of extents");
  std::vector<std::int64_t> s(shape, shape + rank);
  for (int k = 0; k < rank; ++k) {
    if (s[k] < 0) {
      refuse(function, std::string(name) + "[" + std::to_string(k) + "] = " + std::to_string(s[k]) +
                           " (shape " + em::shape_text(s) + "); expected an extent >= 0");
    }
  }
  return s;
}

em::DType dtype_arg(const char* function, aeolus_dtype dtype) {
  if (dtype != AEOLUS_FLOAT32 && dtype != AEOLUS_FLOAT64) {
    refuse(function, "dtype = " + std::to_string(dtype) + "; expected AEOLUS_FLOAT32 (" +
                         std::to_string(AEOLUS_FLOAT32) + ") or AEOLUS_FLOAT64 (" +
                         std::to_string(AEOLUS_FLOAT64) + ")");
  }
  return dtype == AEOLUS_FLOAT32 ? em::DType::float32 : em::DType::float64;
}

em::Layout layout_arg(const char* function, aeolus_layout layout) {
  if (layout != AEOLUS_LAYOUT_C && layout != AEOLUS_LAYOUT_FORTRAN) {
    refuse(function, "layout = " + std::to_string(layout) + "; expected AEOLUS_LAYOUT_C (" +
                         std::to_string(AEOLUS_LAYOUT_C) + ") or AEOLUS_LAYOUT_FORTRAN (" +
                         std::to_string(AEOLUS_LAYOUT_FORTRAN) + ")");
  }
  return layout == AEOLUS_LAYOUT_C ? em::Layout::c : em::Layout::fortran;
}

// ---- Steppers -----------------------------------------------------------------------------

namespace app = aeolus::app;
static_assert(sizeof(aeolus::real_t) == sizeof(double), "the stepper calls pass double arrays");

// A check of one rank's arguments that failed: shared with the other ranks by agree().
class Refusal : public std::runtime_error {
 public:
  Refusal(aeolus_status status, const std::string& what)
      : std::runtime_error(what), status(status) {}
  aeolus_status status;
};

Refusal bad_argument(const std::string& what) { return Refusal(AEOLUS_ERROR_ARGUMENT, what); }

// PETSc started by this library (aeolus_initialize), and whether aeolus_finalize ended it.
bool petsc_started = false;
bool petsc_finalized = false;
std::atomic<int> live_steppers{0};

void require_mpi(const char* f) {
  int up = 0, down = 0;
  MPI_Initialized(&up);
  MPI_Finalized(&down);
  if (down)
    throw ArgumentError(f, "MPI is already finalized; expected MPI_Finalize after " +
                               std::string("aeolus_finalize"));
  if (!up) {
    throw ArgumentError(f,
                        "MPI is not initialised; expected the host to call MPI_Init (or "
                        "MPI_Init_thread) before its first stepper call");
  }
}

void ensure_petsc(const char* f) {
  require_mpi(f);
  if (petsc_finalized) {
    throw ArgumentError(f,
                        "aeolus_finalize has ended PETSc in this process; expected no "
                        "stepper call after it");
  }
  PetscBool up = PETSC_FALSE;
  AEOLUS_PETSC(PetscInitialized(&up));
  if (up) return;  // the host's own PETSc: used as it is, never finalised here
  // No PETSc signal handlers: a crash of the host stays the host's to report.
  AEOLUS_PETSC(PetscOptionsSetValue(nullptr, "-no_signal_handler", nullptr));
  AEOLUS_PETSC(PetscInitializeNoArguments());
  petsc_started = true;
}

// PETSc's default error handler prints a traceback before returning the error code; the API
// prints nothing (the code comes back as an exception carrying PETSc's message). Every stepper
// call runs under the returning handler, also where the host initialised PETSc.
class QuietPetsc {
 public:
  QuietPetsc() { PetscPushErrorHandler(PetscReturnErrorHandler, nullptr); }
  ~QuietPetsc() { PetscPopErrorHandler(); }
  QuietPetsc(const QuietPetsc&) = delete;
  QuietPetsc& operator=(const QuietPetsc&) = delete;
};

// Runs one rank's argument checks and shares the outcome over comm (collective): if any rank
// refused, every rank throws, a refusing rank its own message and the others that of the first
// refusing rank, named. A rank that returned alone would leave the others waiting in the
// collective work that follows (a hang of the host instead of an error).
template <class Checks>
void agree(MPI_Comm comm, const char* f, Checks&& checks) {
  int rank = 0, size = 1;
  AEOLUS_MPI(MPI_Comm_rank(comm, &rank));
  AEOLUS_MPI(MPI_Comm_size(comm, &size));
  aeolus_status status = AEOLUS_OK;
  std::string mine;
  try {
    checks();
  } catch (const Refusal& e) {
    status = e.status;
    mine = e.what();
  }
  int first = status != AEOLUS_OK ? rank : size;
  AEOLUS_MPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first == size) return;
  int shared_status = status;
  int length = int(mine.size());
  AEOLUS_MPI(MPI_Bcast(&shared_status, 1, MPI_INT, first, comm));
  AEOLUS_MPI(MPI_Bcast(&length, 1, MPI_INT, first, comm));
  std::string text = mine;
  text.resize(size_t(length));
  AEOLUS_MPI(MPI_Bcast(text.data(), length, MPI_CHAR, first, comm));
  const std::string prefix = std::string(f) + ": ";
  if (status != AEOLUS_OK) {
    throw StatusError(status,
                      prefix + (size > 1 ? "rank " + std::to_string(rank) + ": " : "") + mine);
  }
  throw StatusError(shared_status, prefix + "rank " + std::to_string(first) + ": " + text);
}

const char* axis_name(int d) { return d == 0 ? "x" : d == 1 ? "y" : "z"; }

std::string list_text(const std::int64_t* v, int dim) {
  return em::shape_text(std::vector<std::int64_t>(v, v + dim));
}

// One rank's box as the decomposition check sees it: extents, start and count per dimension
// (unused dimensions: 1, 0, 1).
struct Box {
  std::array<std::int64_t, 3> n{1, 1, 1}, start{0, 0, 0}, count{1, 1, 1};
};

std::string box_text(const Box& b, int dim) {
  return "start " + list_text(b.start.data(), dim) + ", count " + list_text(b.count.data(), dim);
}

std::string range_text(std::int64_t from, std::int64_t to) {
  return "[" + std::to_string(from) + ", " + std::to_string(to) + ")";
}

// The boxes of all ranks as a tensor product: ownership[d] (cells per process column along d,
// in order) and key[r], rank r's place in the DMDA's order. Throws ArgumentError naming the
// rank(s) and box(es) otherwise (every rank sees the same boxes: the same error everywhere).
void tensor_product(const char* f, const std::vector<Box>& boxes, int dim,
                    std::array<std::vector<PetscInt>, 3>& ownership, std::vector<int>& key) {
  const int size = int(boxes.size());
  const std::string why =
      "; expected the boxes of all ranks to form a tensor-product decomposition (ranges along "
      "each dimension shared by whole columns of ranks, as a PETSc DMDA decomposes)";
  for (int r = 1; r < size; ++r) {
    if (boxes[size_t(r)].n != boxes[0].n) {
      throw ArgumentError(f, "rank " + std::to_string(r) + " passed global_n = " +
                                 list_text(boxes[size_t(r)].n.data(), dim) + ", rank 0 " +
                                 list_text(boxes[0].n.data(), dim) + "; expected the same on all");
    }
  }
  std::array<std::map<std::int64_t, int>, 3> place;  // range start -> index along d
  for (int d = 0; d < dim; ++d) {
    std::map<std::int64_t, int> first_owner;  // range start -> a rank whose range it is
    for (int r = 0; r < size; ++r) {
      const Box& b = boxes[size_t(r)];
      auto [it, fresh] = first_owner.emplace(b.start[size_t(d)], r);
      const Box& o = boxes[size_t(it->second)];
      if (!fresh && o.count[size_t(d)] != b.count[size_t(d)]) {
        throw ArgumentError(
            f, "rank " + std::to_string(r) + " owns " + box_text(b, dim) + " and rank " +
                   std::to_string(it->second) + " " + box_text(o, dim) + ": along " + axis_name(d) +
                   ", cells " +
                   range_text(b.start[size_t(d)], b.start[size_t(d)] + b.count[size_t(d)]) +
                   " and " +
                   range_text(o.start[size_t(d)], o.start[size_t(d)] + o.count[size_t(d)]) +
                   " overlap" + why);
      }
    }
    std::int64_t next = 0;
    int previous = -1;
    for (const auto& [from, r] : first_owner) {
      const Box& b = boxes[size_t(r)];
      if (from < next) {
        const Box& p = boxes[size_t(previous)];
        throw ArgumentError(f, "rank " + std::to_string(r) + " owns " + box_text(b, dim) +
                                   " and rank " + std::to_string(previous) + " " +
                                   box_text(p, dim) + ": along " + axis_name(d) + ", cells " +
                                   range_text(from, from + b.count[size_t(d)]) + " and " +
                                   range_text(p.start[size_t(d)], next) + " overlap" + why);
      }
      if (from > next) {
        throw ArgumentError(f, "no rank owns cells " + range_text(next, from) + " along " +
                                   axis_name(d) + " (rank " + std::to_string(r) + " owns " +
                                   box_text(b, dim) + ")" + why);
      }
      place[size_t(d)][from] = int(ownership[size_t(d)].size());
      ownership[size_t(d)].push_back(PetscInt(b.count[size_t(d)]));
      next = from + b.count[size_t(d)];
      previous = r;
    }
    if (next < boxes[0].n[size_t(d)]) {
      throw ArgumentError(f, "no rank owns cells " + range_text(next, boxes[0].n[size_t(d)]) +
                                 " along " + axis_name(d) + why);
    }
  }
  const auto columns = [&](int d) { return d < dim ? int(ownership[size_t(d)].size()) : 1; };
  const long long boxes_made = 1LL * columns(0) * columns(1) * columns(2);
  key.assign(size_t(size), 0);
  std::map<int, int> owner_of;  // place in the product -> rank
  for (int r = 0; r < size; ++r) {
    const Box& b = boxes[size_t(r)];
    int at[3] = {0, 0, 0};
    for (int d = 0; d < dim; ++d) at[d] = place[size_t(d)].at(b.start[size_t(d)]);
    key[size_t(r)] = at[0] + columns(0) * (at[1] + columns(1) * at[2]);
    auto [it, fresh] = owner_of.emplace(key[size_t(r)], r);
    if (!fresh) {
      throw ArgumentError(f, "ranks " + std::to_string(it->second) + " and " + std::to_string(r) +
                                 " both own " + box_text(b, dim) + why);
    }
  }
  if (boxes_made != size) {
    // Fewer ranks than boxes (more is impossible without two owning the same box): name one.
    for (int k = 0; k < boxes_made; ++k) {
      if (owner_of.count(k)) continue;
      const int at[3] = {k % columns(0), k / columns(0) % columns(1),
                         k / (columns(0) * columns(1))};
      Box missing;
      for (int d = 0; d < dim; ++d) {
        auto it = place[size_t(d)].begin();
        for (auto jt = place[size_t(d)].begin(); jt != place[size_t(d)].end(); ++jt) {
          if (jt->second == at[d]) it = jt;
        }
        missing.start[size_t(d)] = it->first;
        missing.count[size_t(d)] = ownership[size_t(d)][size_t(at[d])];
      }
      throw ArgumentError(f, "no rank owns the box " + box_text(missing, dim) + " (the ranks' " +
                                 "ranges make " + std::to_string(boxes_made) + " boxes for " +
                                 std::to_string(size) + " ranks)" + why);
    }
  }
}

// The case's grid must be the host's: dim and every extent (names both and the case file).
void check_case_grid(const char* f, const app::CaseConfig& c, const aeolus::CartesianGridParams& g,
                     int dim, const std::int64_t* global_n) {
  if (g.dim != dim) {
    throw ArgumentError(f, "dim = " + std::to_string(dim) + "; the case's grid.dim is " +
                               std::to_string(g.dim) + " (" + c.file + ")");
  }
  for (int d = 0; d < dim; ++d) {
    if (g.n[size_t(d)] != global_n[d]) {
      throw ArgumentError(f, "global_n = " + list_text(global_n, dim) + "; the case's grid.n is " +
                                 list_text(g.n.data(), dim) + " (" + c.file +
                                 "); expected them equal");
    }
  }
}

// A decomposition the case insists on (grid.procs; a case type's own, e.g. latitude bands).
void check_case_procs(const char* f, const app::CaseConfig& c, const aeolus::CartesianGridParams& g,
                      const std::array<std::vector<PetscInt>, 3>& ownership, int size) {
  for (int d = 0; d < g.dim; ++d) {
    const int have = int(ownership[size_t(d)].size());
    if (g.procs[size_t(d)] > 0 && g.procs[size_t(d)] != have) {
      std::vector<std::int64_t> procs(g.procs.begin(), g.procs.begin() + g.dim), mine;
      for (int e = 0; e < g.dim; ++e) mine.push_back(std::int64_t(ownership[size_t(e)].size()));
      // The case type's own rule (its grid, not the case file's grid.procs): named by type.
      const std::string rule = g.procs == c.grid.procs
                                   ? "the case insists on grid.procs = " + em::shape_text(procs)
                                   : "its case type, " + c.type + ", decomposes this grid into " +
                                         em::shape_text(procs) + " process columns on " +
                                         std::to_string(size) + " rank(s)";
      throw ArgumentError(f, "comm has " + std::to_string(size) + " rank(s) in boxes of " +
                                 em::shape_text(mine) + " process columns; " + rule + " (" +
                                 c.file + ")");
    }
  }
}

// The shape a wrapper gives for q (rank 0: none given, nothing to check) against the owned box.
void check_shape(const aeolus::CartesianGrid& g, int rank, const std::int64_t* shape) {
  if (rank == 0) return;
  if (rank < 1 || rank > 3) {
    throw bad_argument("q_rank = " + std::to_string(rank) + "; expected 1, 2 or 3");
  }
  if (!shape) throw bad_argument("q_shape is NULL; expected q_rank extents");
  const std::int64_t box[3] = {g.count(0), g.count(1), g.count(2)};
  std::int64_t size = 1;
  bool same = true;
  for (int d = 0; d < rank; ++d) {
    size *= shape[d];
    same = same && shape[d] == box[d];
  }
  if (rank == 1 ? size != g.local_cells() : !same) {
    throw bad_argument("q has shape " + list_text(shape, rank) + "; expected " +
                       (rank == 1 ? std::to_string(g.local_cells()) + " elements, the owned box " +
                                        list_text(box, g.dim())
                                  : "the owned box " + list_text(box, rank)));
  }
}

// The host's owned cells (contiguous, x fastest) into the field's owned cells, and back.
void copy_in(const double* q, aeolus::Field& field) {
  const auto& g = field.grid();
  const std::int64_t nx = g.count(0), ny = g.count(1), nz = g.count(2);
  const std::int64_t gx = g.ghosted_count(0), gy = g.ghosted_count(1);
  double* data = field.data();
  for (std::int64_t k = 0; k < nz; ++k)
    for (std::int64_t j = 0; j < ny; ++j) {
      const std::int64_t at = g.halo(0) + gx * ((j + g.halo(1)) + gy * (k + g.halo(2)));
      std::memcpy(data + at, q + nx * (j + ny * k), size_t(nx) * sizeof(double));
    }
}

void copy_out(const aeolus::Field& field, double* q) {
  const auto& g = field.grid();
  const std::int64_t nx = g.count(0), ny = g.count(1), nz = g.count(2);
  const std::int64_t gx = g.ghosted_count(0), gy = g.ghosted_count(1);
  const double* data = field.data();
  for (std::int64_t k = 0; k < nz; ++k)
    for (std::int64_t j = 0; j < ny; ++j) {
      const std::int64_t at = g.halo(0) + gx * ((j + g.halo(1)) + gy * (k + g.halo(2)));
      std::memcpy(q + nx * (j + ny * k), data + at, size_t(nx) * sizeof(double));
    }
}

}  // namespace

extern "C" {

const char* aeolus_last_error(void) { return last_error.c_str(); }

const char* aeolus_last_warnings(void) {
  try {
    return em::captured_warnings().c_str();
  } catch (...) {
    return "";  // no memory to join them: none given, none lost
  }
}

aeolus_status aeolus_clear_warnings(void) {
  em::clear_warnings();
  return AEOLUS_OK;
}

aeolus_status aeolus_set_warnings(int mode) {
  const char* f = "aeolus_set_warnings";
  return guarded(f, [&] {
    if (mode != AEOLUS_WARNINGS_CAPTURE && mode != AEOLUS_WARNINGS_PRINT) {
      refuse(f, "mode = " + std::to_string(mode) + "; expected AEOLUS_WARNINGS_CAPTURE (" +
                    std::to_string(AEOLUS_WARNINGS_CAPTURE) + ") or AEOLUS_WARNINGS_PRINT (" +
                    std::to_string(AEOLUS_WARNINGS_PRINT) + ")");
    }
    em::set_warning_mode(mode == AEOLUS_WARNINGS_CAPTURE ? em::WarningMode::capture
                                                         : em::WarningMode::print);
  });
}

aeolus_status aeolus_get_warnings(int* mode) {
  const char* f = "aeolus_get_warnings";
  return guarded(f, [&] {
    require(f, mode, "mode", "a pointer to an int");
    *mode = em::warning_mode() == em::WarningMode::capture ? AEOLUS_WARNINGS_CAPTURE
                                                           : AEOLUS_WARNINGS_PRINT;
  });
}

aeolus_status aeolus_version(int* major, int* minor, int* patch) {
  return guarded("aeolus_version", [&] {
    require("aeolus_version", major, "major", "a pointer to an int");
    require("aeolus_version", minor, "minor", "a pointer to an int");
    require("aeolus_version", patch, "patch", "a pointer to an int");
    *major = AEOLUS_VERSION_MAJOR;
    *minor = AEOLUS_VERSION_MINOR;
    *patch = AEOLUS_VERSION_PATCH;
  });
}

aeolus_status aeolus_model_load(const char* path, aeolus_model** out) {
  return guarded("aeolus_model_load", [&] {
    require("aeolus_model_load", out, "out", "a pointer to an aeolus_model* to receive the handle");
    *out = nullptr;
    require("aeolus_model_load", path, "path", "the model file's path");
    if (!*path) throw ArgumentError("aeolus_model_load", "path is \"\"; expected a file name");
    *out = new aeolus_model{em::load_array_model(path)};
  });
}

aeolus_status aeolus_model_forward(aeolus_model* model, const void* in, int in_rank,
                                   const int64_t* in_shape, aeolus_dtype dtype,
                                   aeolus_layout layout, void* out, int out_rank,
                                   const int64_t* out_shape) {
  const char* f = "aeolus_model_forward";
  return guarded(f, [&] {
    require(f, model, "model", "a handle from aeolus_model_load");
    require(f, in, "in", "the input array");
    require(f, out, "out", "the output array");
    const em::DType t = dtype_arg(f, dtype);
    const em::Layout l = layout_arg(f, layout);
    em::ConstArrayRef x{in, t, shape_arg(f, "in_rank", in_rank, "in_shape", in_shape), l};
    em::ArrayRef y{out, t, shape_arg(f, "out_rank", out_rank, "out_shape", out_shape), l};
    model->model->forward(x, y);
  });
}

aeolus_status aeolus_model_output_shape(aeolus_model* model, int in_rank, const int64_t* in_shape,
                                        aeolus_layout layout, int* out_rank,
                                        int64_t out_shape[AEOLUS_MAX_RANK]) {
  const char* f = "aeolus_model_output_shape";
  return guarded(f, [&] {
    require(f, model, "model", "a handle from aeolus_model_load");
    const std::vector<std::int64_t> shape = shape_arg(f, "in_rank", in_rank, "in_shape", in_shape);
    const em::Layout l = layout_arg(f, layout);
    require(f, out_rank, "out_rank", "a pointer to an int to receive the output's rank");
    require(f, out_shape, "out_shape", "an array of AEOLUS_MAX_RANK extents");
    const std::vector<std::int64_t> y = model->model->output_shape(shape, l);
    if (y.empty() || y.size() > size_t(AEOLUS_MAX_RANK)) {
      throw aeolus::ModelError("model " + model->model->path() + ": output has rank " +
                               std::to_string(y.size()) +
                               (y.empty() ? " (a scalar)" : " (shape " + em::shape_text(y) + ")") +
                               " for an input of shape " + em::shape_text(shape) +
                               "; expected rank 1 to " + std::to_string(AEOLUS_MAX_RANK) +
                               " (AEOLUS_MAX_RANK), which aeolus_model_forward writes");
    }
    std::copy(y.begin(), y.end(), out_shape);
    *out_rank = int(y.size());
  });
}

aeolus_status aeolus_model_free(aeolus_model* model) {
  return guarded("aeolus_model_free", [&] {
    if (model && model->has_trainer) {
      throw ArgumentError("aeolus_model_free",
                          "model has a trainer; expected aeolus_trainer_free of it first (the "
                          "trainer works on the model; nothing was freed)");
    }
    delete model;
  });
}

aeolus_status aeolus_set_num_threads(int n) {
  const char* f = "aeolus_set_num_threads";
  return guarded(f, [&] {
    if (n < 1) {
      throw ArgumentError(f, "n = " + std::to_string(n) + "; expected a thread count >= 1");
    }
    em::set_intra_op_threads(n);
  });
}

aeolus_status aeolus_get_num_threads(int* n) {
  const char* f = "aeolus_get_num_threads";
  return guarded(f, [&] {
    require(f, n, "n", "a pointer to an int");
    *n = em::intra_op_threads();
  });
}

aeolus_status aeolus_initialize(void) {
  return guarded("aeolus_initialize", [&] { ensure_petsc("aeolus_initialize"); });
}

aeolus_status aeolus_finalize(void) {
  const char* f = "aeolus_finalize";
  return guarded(f, [&] {
    if (live_steppers > 0) {
      throw ArgumentError(f, std::to_string(live_steppers.load()) +
                                 " stepper(s) not freed; expected aeolus_stepper_free of every "
                                 "stepper first");
    }
    if (petsc_started && !petsc_finalized) {
      petsc_finalized = true;
      AEOLUS_PETSC(PetscFinalize());
    }
  });
}

aeolus_status aeolus_stepper_create(const char* case_dir, const char* stepper, int comm, int dim,
                                    const int64_t* global_n, const int64_t* start,
                                    const int64_t* count, aeolus_stepper** out) {
  const char* f = "aeolus_stepper_create";
  return guarded(f, [&] {
    if (out) *out = nullptr;
    ensure_petsc(f);
    QuietPetsc quiet;
    const MPI_Comm host = MPI_Comm_f2c(MPI_Fint(comm));
    if (host == MPI_COMM_NULL) {
      throw ArgumentError(f, "comm = " + std::to_string(comm) +
                                 " is MPI_COMM_NULL (or no communicator's handle); expected a "
                                 "communicator as a Fortran handle (MPI_Comm_c2f(comm) in C)");
    }
    const std::vector<std::string> names = app::stepper_names();
    agree(host, f, [&] {
      if (!out) throw bad_argument("out is NULL; expected a pointer to receive the handle");
      if (!case_dir) throw bad_argument("case_dir is NULL; expected a case directory");
      if (!*case_dir) throw bad_argument("case_dir is \"\"; expected a case directory");
      if (dim < 1 || dim > 3) {
        throw bad_argument("dim = " + std::to_string(dim) + "; expected 1, 2 or 3");
      }
      if (!global_n) throw bad_argument("global_n is NULL; expected dim extents");
      if (!start) throw bad_argument("start is NULL; expected dim first cells (0-based)");
      if (!count) throw bad_argument("count is NULL; expected dim cell counts");
      for (int d = 0; d < dim; ++d) {
        const std::string at = "[" + std::to_string(d) + "] = ";
        if (global_n[d] < 1) {
          throw bad_argument("global_n" + at + std::to_string(global_n[d]) + " (global_n " +
                             list_text(global_n, dim) + "); expected >= 1");
        }
        if (count[d] < 1) {
          throw bad_argument("count" + at + std::to_string(count[d]) + " (count " +
                             list_text(count, dim) + "); expected >= 1: every rank owns cells");
        }
        if (start[d] < 0 || start[d] > global_n[d] - count[d]) {
          throw bad_argument("the box start " + list_text(start, dim) + ", count " +
                             list_text(count, dim) + " reaches outside the grid global_n " +
                             list_text(global_n, dim) + " along " + axis_name(d) + " (cells " +
                             range_text(start[d], start[d] + count[d]) +
                             "); expected 0 <= start[d] and start[d] + count[d] <= global_n[d]");
        }
      }
      if (stepper && *stepper &&
          std::find(names.begin(), names.end(), std::string(stepper)) == names.end()) {
        throw bad_argument("stepper = \"" + std::string(stepper) +
                           "\" is unknown; expected one of: " + aeolus::comma_list(names) +
                           " (or NULL for the case's stepper.type)");
      }
      namespace fs = std::filesystem;
      if (!fs::is_directory(case_dir)) {
        throw Refusal(AEOLUS_ERROR_IO, "case_dir = \"" + std::string(case_dir) +
                                           "\" is not a directory; expected a case directory");
      }
      if (!fs::is_regular_file(fs::path(case_dir) / "case.yaml")) {
        throw Refusal(AEOLUS_ERROR_IO, "case_dir = \"" + std::string(case_dir) +
                                           "\" has no case.yaml; expected a case directory");
      }
    });

    // The case first: a global_n that is not the case's grid is named as such, not as boxes
    // that leave cells of the wrong grid unowned.
    auto h = std::make_unique<aeolus_stepper>();
    h->config = app::load_case(case_dir);
    const app::CaseConfig& c = h->config;
    const app::TimeSteppingCase& type = app::time_stepping_case(c);
    int size = 1;
    AEOLUS_MPI(MPI_Comm_size(host, &size));
    if (type.steps_on_root() && size > 1) {
      throw ArgumentError(f, "comm has " + std::to_string(size) + " ranks; expected 1: a " +
                                 c.equation + " case steps its state on one process (" + c.file +
                                 ")");
    }
    check_case_grid(f, c, c.grid, dim, global_n);

    // The decomposition, seen alike by every rank.
    Box mine;
    for (int d = 0; d < dim; ++d) {
      mine.n[size_t(d)] = global_n[d];
      mine.start[size_t(d)] = start[d];
      mine.count[size_t(d)] = count[d];
    }
    std::vector<Box> boxes(static_cast<size_t>(size));
    AEOLUS_MPI(MPI_Allgather(&mine, int(sizeof(Box)), MPI_BYTE, boxes.data(), int(sizeof(Box)),
                             MPI_BYTE, host));
    std::array<std::vector<PetscInt>, 3> ownership;
    std::vector<int> key;
    tensor_product(f, boxes, dim, ownership, key);

    int rank = 0;
    AEOLUS_MPI(MPI_Comm_rank(host, &rank));
    AEOLUS_MPI(MPI_Comm_split(host, 0, key[size_t(rank)], &h->comm));

    try {
      app::check_rank_count(c, size);
    } catch (const aeolus::ConfigError& e) {
      throw ArgumentError(f, "comm has " + std::to_string(size) + " ranks: " + e.what());
    }
    // The case type's grid gives what the stepper needs beyond the case file (its halo, a
    // decomposition it insists on); the stepper's grid is that grid on the host's boxes. The
    // case's own grid.procs is checked first only where that grid cannot be laid out on this
    // many ranks, to name it: a case type may decompose by the rank count (a sphere case's
    // latitude bands, one per rank unless grid.procs says, which c.grid cannot know).
    aeolus::CartesianGridParams params;
    try {
      params = app::make_grid(h->comm, c)->params();
    } catch (const aeolus::Error&) {
      check_case_procs(f, c, c.grid, ownership, size);
      throw;
    }
    check_case_grid(f, c, params, dim, global_n);
    check_case_procs(f, c, params, ownership, size);
    h->grid = std::make_unique<aeolus::CartesianGrid>(h->comm, params, ownership);
    h->name = stepper && *stepper ? std::string(stepper) : c.stepper;
    h->stepper = app::make_stepper(h->name, c, *h->grid);
    h->q = std::make_unique<aeolus::Field>(*h->grid, "q");
    *out = h.release();
    ++live_steppers;
  });
}

aeolus_status aeolus_stepper_max_dt_shaped(aeolus_stepper* s, const double* q, int q_rank,
                                           const int64_t* q_shape, double t, double* dt) {
  const char* f = "aeolus_stepper_max_dt";
  return guarded(f, [&] {
    require(f, s, "s", "a handle from aeolus_stepper_create");
    QuietPetsc quiet;
    agree(s->comm, f, [&] {
      if (!q) throw bad_argument("q is NULL; expected the owned cells");
      check_shape(*s->grid, q_rank, q_shape);
      if (!dt) throw bad_argument("dt is NULL; expected a pointer to receive the step");
      if (!std::isfinite(t)) throw bad_argument("t = " + std::to_string(t) + "; expected finite");
    });
    copy_in(q, *s->q);
    *dt = s->stepper->max_dt(*s->q, t);
  });
}

aeolus_status aeolus_stepper_max_dt(aeolus_stepper* s, const double* q, double t, double* dt) {
  return aeolus_stepper_max_dt_shaped(s, q, 0, nullptr, t, dt);
}

aeolus_status aeolus_stepper_step_shaped(aeolus_stepper* s, double* q, int q_rank,
                                         const int64_t* q_shape, double* t, double* dt) {
  const char* f = "aeolus_stepper_step";
  return guarded(f, [&] {
    require(f, s, "s", "a handle from aeolus_stepper_create");
    QuietPetsc quiet;
    agree(s->comm, f, [&] {
      if (!q) throw bad_argument("q is NULL; expected the owned cells");
      check_shape(*s->grid, q_rank, q_shape);
      if (!t) throw bad_argument("t is NULL; expected a pointer to the time");
      if (!dt) throw bad_argument("dt is NULL; expected a pointer to the step");
      if (!std::isfinite(*t))
        throw bad_argument("*t = " + std::to_string(*t) + "; expected finite");
      if (!(*dt > 0) || !std::isfinite(*dt)) {
        throw bad_argument("*dt = " + std::to_string(*dt) + "; expected a finite step > 0");
      }
    });
    copy_in(q, *s->q);
    aeolus::real_t time = *t, step = *dt;
    s->stepper->step(*s->q, time, step);
    copy_out(*s->q, q);
    *t = time;
    *dt = step;
  });
}

aeolus_status aeolus_stepper_step(aeolus_stepper* s, double* q, double* t, double* dt) {
  return aeolus_stepper_step_shaped(s, q, 0, nullptr, t, dt);
}

aeolus_status aeolus_stepper_fixed_step(const aeolus_stepper* s, int* fixed) {
  const char* f = "aeolus_stepper_fixed_step";
  return guarded(f, [&] {
    require(f, s, "s", "a handle from aeolus_stepper_create");
    require(f, fixed, "fixed", "a pointer to an int");
    *fixed = s->stepper->fixed_step() ? 1 : 0;
  });
}

aeolus_status aeolus_stepper_name(const aeolus_stepper* s, const char** name) {
  const char* f = "aeolus_stepper_name";
  return guarded(f, [&] {
    require(f, s, "s", "a handle from aeolus_stepper_create");
    require(f, name, "name", "a pointer to receive the name");
    *name = s->name.c_str();
  });
}

aeolus_status aeolus_stepper_free(aeolus_stepper* s) {
  return guarded("aeolus_stepper_free", [&] {
    if (!s) return;
    QuietPetsc quiet;
    delete s;
    --live_steppers;
  });
}

// ---- Online training ------------------------------------------------------------------------
// Checks that could differ between ranks are made inside a try and shared over the
// communicator (TorchScriptTrainer::agree, share_outcome, refuse_step) before any other
// collective, so that an error on one rank is an error on all instead of a hang. Their
// messages carry no call name (refuse(nullptr, ...)): guarded() adds it once.

aeolus_status aeolus_trainer_create(aeolus_model* model, const char* config_path,
                                    const char* section, int comm, aeolus_trainer** out) {
  const char* f = "aeolus_trainer_create";
  return guarded(f, [&] {
    if (out) *out = nullptr;
    // The communicator is checked alone first: the other checks are shared over it.
    if (comm != AEOLUS_COMM_NONE) {
      int up = 0, down = 0;
      MPI_Initialized(&up);
      MPI_Finalized(&down);
      if (!up || down) {
        refuse(nullptr, "comm = " + std::to_string(comm) + " but MPI is " +
                            (down ? "finalized" : "not initialised") +
                            "; expected MPI_Init by the host first, or AEOLUS_COMM_NONE (" +
                            std::to_string(AEOLUS_COMM_NONE) + ") for no MPI");
      }
      const MPI_Comm c = MPI_Comm_f2c(MPI_Fint(comm));
      if (c == MPI_COMM_NULL || c == MPI_Comm{}) {
        refuse(nullptr, "comm = " + std::to_string(comm) +
                            " is MPI_COMM_NULL or no communicator's handle; expected a "
                            "communicator as a Fortran handle (MPI_Comm_c2f(comm) in C), or "
                            "AEOLUS_COMM_NONE (" +
                            std::to_string(AEOLUS_COMM_NONE) + ") for no MPI");
      }
    }
    em::OnlineTrainingSettings settings;
    std::exception_ptr failure;
    try {
      require(nullptr, out, "out", "a pointer to an aeolus_trainer* to receive the handle");
      require(nullptr, model, "model", "a handle from aeolus_model_load");
      require(nullptr, config_path, "config_path", "the YAML file of the training settings");
      if (!*config_path) refuse(nullptr, "config_path is \"\"; expected a YAML file");
      require(nullptr, section, "section",
              "the dotted path of the settings' mapping, e.g. \"training\"");
      if (model->has_trainer) {
        refuse(nullptr, "model " + model->model->path() +
                            " already has a trainer; expected one trainer per model at a time");
      }
      if (!model->model->torchscript()) {
        refuse(nullptr, "model " + model->model->path() + " is an " + model->model->kind() +
                            ": online training takes TorchScript models; an Aeolus archive is "
                            "trained with aeolus train");
      }
      settings = aeolus::api::read_training_settings(config_path, section);
      em::TorchScriptTrainer::check(*model->model->torchscript(), settings, comm);
    } catch (...) {
      failure = std::current_exception();
    }
    em::share_outcome(comm, failure);
    auto h = std::make_unique<aeolus_trainer>();
    h->model = model;
    h->trainer =
        std::make_unique<em::TorchScriptTrainer>(*model->model->torchscript(), settings, comm);
    model->has_trainer = true;
    *out = h.release();
  });
}

aeolus_status aeolus_trainer_step(aeolus_trainer* tr, const void* in, int in_rank,
                                  const int64_t* in_shape, const void* target, int target_rank,
                                  const int64_t* target_shape, aeolus_dtype dtype,
                                  aeolus_layout layout, double* loss) {
  const char* f = "aeolus_trainer_step";
  return guarded(f, [&] {
    require(f, tr, "tr", "a handle from aeolus_trainer_create");
    em::ConstArrayRef x, t;
    std::exception_ptr bad;
    try {
      require(nullptr, in, "in", "the input array");
      require(nullptr, target, "target", "the target array");
      require(nullptr, loss, "loss", "a pointer to receive the loss");
      const em::DType d = dtype_arg(nullptr, dtype);
      const em::Layout l = layout_arg(nullptr, layout);
      x = {in, d, shape_arg(nullptr, "in_rank", in_rank, "in_shape", in_shape), l};
      t = {target, d, shape_arg(nullptr, "target_rank", target_rank, "target_shape", target_shape),
           l};
    } catch (...) {
      bad = std::current_exception();
    }
    if (bad) tr->trainer->refuse_step(bad);
    *loss = tr->trainer->step(x, t);
  });
}

aeolus_status aeolus_trainer_save(aeolus_trainer* tr, const char* model_path,
                                  const char* state_path) {
  const char* f = "aeolus_trainer_save";
  return guarded(f, [&] {
    require(f, tr, "tr", "a handle from aeolus_trainer_create");
    tr->trainer->save(model_path ? model_path : "", state_path ? state_path : "");
  });
}

aeolus_status aeolus_trainer_restore(aeolus_trainer* tr, const char* state_path) {
  const char* f = "aeolus_trainer_restore";
  return guarded(f, [&] {
    require(f, tr, "tr", "a handle from aeolus_trainer_create");
    std::exception_ptr bad;
    try {
      require(nullptr, state_path, "state_path", "a file written by aeolus_trainer_save");
      if (!*state_path) refuse(nullptr, "state_path is \"\"; expected a file name");
    } catch (...) {
      bad = std::current_exception();
    }
    tr->trainer->agree(bad);
    tr->trainer->restore(state_path);
  });
}

aeolus_status aeolus_trainer_steps(const aeolus_trainer* tr, int64_t* steps) {
  const char* f = "aeolus_trainer_steps";
  return guarded(f, [&] {
    require(f, tr, "tr", "a handle from aeolus_trainer_create");
    require(f, steps, "steps", "a pointer to an int64_t");
    *steps = tr->trainer->steps();
  });
}

aeolus_status aeolus_trainer_free(aeolus_trainer* tr) {
  return guarded("aeolus_trainer_free", [&] {
    if (!tr) return;
    tr->model->has_trainer = false;
    delete tr;
  });
}

}  // extern "C"
