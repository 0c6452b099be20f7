#pragma once
// The inside of TorchScriptModel, for the code in emulators/ that works on the module itself
// (the online trainer, torchscript_training.cpp). Includes torch: never include it from a
// public header or from outside emulators/.
#include <torch/script.h>

#include <string>

#include "emulators/torchscript_model.hpp"

namespace aeolus::emulators {

struct TorchScriptModel::Impl {
  std::string path;
  torch::jit::Module module;
  DType dtype = DType::float32;
  // Whether an online trainer works on this module (at most one at a time).
  bool training = false;

  // Forward on `in`, converted to the parameters' dtype when it is not theirs. Without `grad`
  // under inference mode; with it, recording the graph for backward. ModelError with the
  // input's shape if forward fails or returns something else than one tensor.
  torch::Tensor run(const ConstArrayRef& in, bool grad = false) const;
};

// Access to a model's inside for the emulators' own code.
struct TorchScriptModelAccess {
  using Impl = TorchScriptModel::Impl;
  static Impl& impl(TorchScriptModel& m) { return *m.impl_; }
};

namespace detail {
c10::ScalarType scalar_type(DType t);
// A tensor over the caller's memory (no copy), with the strides of `layout`.
torch::Tensor wrap(void* data, DType dtype, const std::vector<std::int64_t>& shape, Layout layout);
// std::invalid_argument naming `what` unless data is non-null and shape has rank >= 1 and no
// negative extent.
void check_array(const char* what, const void* data, const std::vector<std::int64_t>& shape);
// The last non-empty line of a LibTorch error (its cause, after the traceback).
std::string torch_cause(const std::string& what);
}  // namespace detail

}  // namespace aeolus::emulators
