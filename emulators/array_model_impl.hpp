#pragma once
// The common part of the Aeolus-archive adapters (internal to emulators/: includes torch): the
// caller's array wrapped and converted to the model's dtype, the shape check, the inference-mode
// forward and the copy into the caller's output. An adapter gives its kind, its contract, the
// output shape for an accepted input shape, and the computation on a contiguous tensor.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "emulators/array_model.hpp"

namespace aeolus::emulators {

class ArchiveArrayModel : public ArrayModel {
 public:
  ArchiveArrayModel(std::string path, std::string kind, std::string contract, DType dtype)
      : path_(std::move(path)),
        kind_(std::move(kind)),
        contract_(std::move(contract)),
        dtype_(dtype) {}
  const std::string& path() const override { return path_; }
  std::string kind() const override { return kind_; }
  std::string contract() const override { return contract_; }
  DType parameter_dtype() const override { return dtype_; }
  void forward(const ConstArrayRef& in, const ArrayRef& out) const override;
  ModelOutput forward(const ConstArrayRef& in) const override;
  std::vector<std::int64_t> output_shape(const std::vector<std::int64_t>& in_shape,
                                         Layout layout) const override;

 protected:
  // The output's shape for `in_shape`; call refuse(in_shape) if it does not fit the contract.
  virtual std::vector<std::int64_t> shape_for(const std::vector<std::int64_t>& in_shape) const = 0;
  // The model on x (contiguous, row major, the model's dtype, a shape shape_for accepted), under
  // inference mode; returns the output of shape_for's shape.
  virtual torch::Tensor compute(const torch::Tensor& x) const = 0;
  // ModelError "model PATH (KIND) takes CONTRACT; got [..]" (+ `why` if not empty).
  [[noreturn]] void refuse(const std::vector<std::int64_t>& in_shape,
                           const std::string& why = "") const;

 private:
  torch::Tensor run(const ConstArrayRef& in) const;
  std::string path_, kind_, contract_;
  DType dtype_;
};

}  // namespace aeolus::emulators
