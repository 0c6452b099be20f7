#pragma once
// The seam under the C API's model handle (aeolus_model_load / forward / output_shape): a model
// that maps a caller's array to an array. Torch-free, like torchscript_model.hpp. Two families
// implement it:
//   - a TorchScript file exported from PyTorch (TorchScriptModel: its own forward);
//   - an Aeolus model archive, what `aeolus train` writes (weights + "meta.*" metadata): one
//     adapter per archive format (meta.format), which rebuilds the emulator's network from the
//     metadata and runs its natural function on raw (un-normalised, SI) quantities, applying any
//     normalisation stored in the archive inside. Each kind registers its adapter in its own .cpp
//     (register_archive_model), so a new emulator adds its own without touching api/.
// The contract of each archive kind (shapes, channel order) is in docs/coupling.md and in the
// adapter's contract() text, which shape errors quote.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulators/torchscript_model.hpp"

namespace aeolus::emulators {

class ArrayModel {
 public:
  virtual ~ArrayModel() = default;
  virtual const std::string& path() const = 0;
  // What the file is, for messages: "TorchScript model", "Aeolus PINN archive (aeolus.pinn)".
  virtual std::string kind() const = 0;
  // The array contract in one line, e.g. "[N, 2] (x, t) -> [N, 1] u"; "" for TorchScript (the
  // exported forward's own).
  virtual std::string contract() const = 0;
  // The floating dtype the model computes in: an input of the other dtype is converted to it.
  virtual DType parameter_dtype() const = 0;
  // As TorchScriptModel::forward: ModelError if `in` does not fit the contract (the expected
  // shape and the given one named) or if out.shape is not the output's shape.
  virtual void forward(const ConstArrayRef& in, const ArrayRef& out) const = 0;
  virtual ModelOutput forward(const ConstArrayRef& in) const = 0;
  // The output's shape for an input of `in_shape` (ModelError where forward would refuse it).
  virtual std::vector<std::int64_t> output_shape(const std::vector<std::int64_t>& in_shape,
                                                 Layout layout) const = 0;
  // The TorchScript model underneath (the online trainer's), nullptr for an archive adapter.
  virtual TorchScriptModel* torchscript() { return nullptr; }
};

// Loads `path`: a TorchScript file, or an Aeolus archive of a registered format. Errors: those
// of TorchScriptModel for a file that is neither; ModelError naming the format and the formats
// that run for an archive whose format has no adapter; the adapter's for a damaged archive.
std::unique_ptr<ArrayModel> load_array_model(const std::string& path);

// An archive kind's adapter: loads the archive at `path` (its meta.format already checked).
using ArchiveModelFactory = std::unique_ptr<ArrayModel> (*)(const std::string& path);
// Registers `factory` for meta.format `format` (at static initialisation, from the kind's .cpp);
// returns false, keeping the first, if the format is already registered (a process may hold two
// copies of emulators/, e.g. a program linking it besides the C API's library).
bool register_archive_model(const std::string& format, ArchiveModelFactory factory);
// The registered formats, sorted.
std::vector<std::string> archive_model_formats();

}  // namespace aeolus::emulators
