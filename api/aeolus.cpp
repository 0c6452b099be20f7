// The C API (aeolus.h) over emulators/: argument checks with messages in the caller's terms (the
// C argument names), and the one place where C++ exceptions become statuses. No torch header here:
// emulators/torchscript_model.hpp keeps LibTorch behind its .cpp.
#include "aeolus.h"

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulators/torchscript_model.hpp"
#include "grids/error.hpp"

struct aeolus_model {
  aeolus::emulators::TorchScriptModel model;
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

// Runs `body` and turns whatever it throws into a status and the thread's last error.
template <class Body>
aeolus_status guarded(const char* function, Body&& body) noexcept {
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
  } catch (const ArgumentError& e) {
    return fail(AEOLUS_ERROR_ARGUMENT, e.what());
  } catch (const std::invalid_argument& e) {
    return fail(AEOLUS_ERROR_ARGUMENT, std::string(function) + ": " + e.what());
  } catch (const aeolus::IoError& e) {
    return fail(AEOLUS_ERROR_IO, std::string(function) + ": " + e.what());
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

void require(const char* function, const void* p, const char* name, const char* expected) {
  if (!p) throw ArgumentError(function, std::string(name) + " is NULL; expected " + expected);
}

// The shape argument `name` of rank `rank`, checked.
std::vector<std::int64_t> shape_arg(const char* function, const char* rank_name, int rank,
                                    const char* name, const std::int64_t* shape) {
  if (rank < 1 || rank > AEOLUS_MAX_RANK) {
    throw ArgumentError(function, std::string(rank_name) + " = " + std::to_string(rank) +
                                      "; expected 1 to " + std::to_string(AEOLUS_MAX_RANK));
  }
  require(function, shape, name, "an array of extents");
  std::vector<std::int64_t> s(shape, shape + rank);
  for (int k = 0; k < rank; ++k) {
    if (s[k] < 0) {
      throw ArgumentError(function, std::string(name) + "[" + std::to_string(k) +
                                        "] = " + std::to_string(s[k]) + " (shape " +
                                        em::shape_text(s) + "); expected an extent >= 0");
    }
  }
  return s;
}

}  // namespace

extern "C" {

const char* aeolus_last_error(void) { return last_error.c_str(); }

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
    *out = new aeolus_model{em::TorchScriptModel(path)};
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
    if (dtype != AEOLUS_FLOAT32 && dtype != AEOLUS_FLOAT64) {
      throw ArgumentError(f, "dtype = " + std::to_string(dtype) + "; expected AEOLUS_FLOAT32 (" +
                                 std::to_string(AEOLUS_FLOAT32) + ") or AEOLUS_FLOAT64 (" +
                                 std::to_string(AEOLUS_FLOAT64) + ")");
    }
    if (layout != AEOLUS_LAYOUT_C && layout != AEOLUS_LAYOUT_FORTRAN) {
      throw ArgumentError(f, "layout = " + std::to_string(layout) + "; expected AEOLUS_LAYOUT_C (" +
                                 std::to_string(AEOLUS_LAYOUT_C) + ") or AEOLUS_LAYOUT_FORTRAN (" +
                                 std::to_string(AEOLUS_LAYOUT_FORTRAN) + ")");
    }
    const em::DType t = dtype == AEOLUS_FLOAT32 ? em::DType::float32 : em::DType::float64;
    const em::Layout l = layout == AEOLUS_LAYOUT_C ? em::Layout::c : em::Layout::fortran;
    em::ConstArrayRef x{in, t, shape_arg(f, "in_rank", in_rank, "in_shape", in_shape), l};
    em::ArrayRef y{out, t, shape_arg(f, "out_rank", out_rank, "out_shape", out_shape), l};
    model->model.forward(x, y);
  });
}

aeolus_status aeolus_model_free(aeolus_model* model) {
  return guarded("aeolus_model_free", [&] { delete model; });
}

}  // extern "C"
