#include "emulators/array_model.hpp"

#include <torch/torch.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include "emulators/array_model_impl.hpp"
#include "emulators/torchscript_model_impl.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

namespace {

std::map<std::string, ArchiveModelFactory>& registry() {
  static std::map<std::string, ArchiveModelFactory> r;
  return r;
}

// A TorchScript file behind the seam: its own forward, unchanged.
class TorchScriptArrayModel : public ArrayModel {
 public:
  explicit TorchScriptArrayModel(const std::string& path) : model_(path) {}
  const std::string& path() const override { return model_.path(); }
  std::string kind() const override { return "TorchScript model"; }
  std::string contract() const override { return ""; }
  DType parameter_dtype() const override { return model_.parameter_dtype(); }
  void forward(const ConstArrayRef& in, const ArrayRef& out) const override {
    model_.forward(in, out);
  }
  ModelOutput forward(const ConstArrayRef& in) const override { return model_.forward(in); }
  std::vector<std::int64_t> output_shape(const std::vector<std::int64_t>& in_shape,
                                         Layout layout) const override {
    return model_.output_shape(in_shape, layout);
  }
  TorchScriptModel* torchscript() override { return &model_; }

 private:
  TorchScriptModel model_;
};

// meta.format of an Aeolus archive at `path`; nothing if it is not one (or cannot be read).
std::optional<std::string> archive_format(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, torch::Device(torch::kCPU));
    c10::IValue f;
    if (archive.try_read("meta.format", f) && f.isString()) return f.toStringRef();
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

bool register_archive_model(const std::string& format, ArchiveModelFactory factory) {
  return registry().emplace(format, factory).second;
}

std::vector<std::string> archive_model_formats() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

std::unique_ptr<ArrayModel> load_array_model(const std::string& path) {
  try {
    return std::make_unique<TorchScriptArrayModel>(path);
  } catch (const ModelError&) {
    // Not a TorchScript model: an Aeolus archive (a torch archive with meta.format), or the
    // TorchScript loader's error stands.
    const std::optional<std::string> format = archive_format(path);
    if (!format) throw;
    const auto it = registry().find(*format);
    if (it == registry().end()) {
      throw ModelError("model " + path + " is an Aeolus model archive of format '" + *format +
                       "', which the C API does not run; it runs TorchScript models and the "
                       "Aeolus archives of formats " +
                       join(archive_model_formats()));
    }
    return it->second(path);
  }
}

// --- ArchiveArrayModel ----------------------------------------------------------------------

void ArchiveArrayModel::refuse(const std::vector<std::int64_t>& in_shape,
                               const std::string& why) const {
  throw ModelError("model " + path_ + " (" + kind_ + ") takes " + contract_ + "; got " +
                   shape_text(in_shape) + (why.empty() ? "" : " (" + why + ")"));
}

torch::Tensor ArchiveArrayModel::run(const ConstArrayRef& in) const {
  detail::check_array("input", in.data, in.shape);
  const std::vector<std::int64_t> expected = shape_for(in.shape);
  torch::Tensor x = detail::wrap(const_cast<void*>(in.data), in.dtype, in.shape, in.layout);
  x = x.to(detail::scalar_type(dtype_)).contiguous();
  torch::Tensor y;
  try {
    y = compute(x);
  } catch (const c10::Error& e) {
    throw ModelError("model " + path_ + " (" + kind_ + "): forward failed on an input of shape " +
                     shape_text(in.shape) + ": " + detail::torch_cause(e.what_without_backtrace()));
  }
  if (!y.sizes().equals(expected)) {  // an adapter's own inconsistency
    const std::vector<std::int64_t> got(y.sizes().begin(), y.sizes().end());
    throw ModelError("model " + path_ + " (" + kind_ + "): output has shape " + shape_text(got) +
                     "; expected " + shape_text(expected));
  }
  return y;
}

void ArchiveArrayModel::forward(const ConstArrayRef& in, const ArrayRef& out) const {
  detail::check_array("output", out.data, out.shape);
  c10::InferenceMode guard;
  const std::vector<std::int64_t> expected = shape_for(in.shape);
  if (expected != out.shape) {
    throw ModelError("model " + path_ + " (" + kind_ + "): output has shape " +
                     shape_text(expected) + " for an input of shape " + shape_text(in.shape) +
                     "; the output array has shape " + shape_text(out.shape));
  }
  const torch::Tensor y = run(in);
  detail::wrap(out.data, out.dtype, out.shape, out.layout).copy_(y);
}

ModelOutput ArchiveArrayModel::forward(const ConstArrayRef& in) const {
  c10::InferenceMode guard;
  const torch::Tensor y = run(in).to(torch::kFloat64).contiguous();
  ModelOutput out;
  out.shape.assign(y.sizes().begin(), y.sizes().end());
  const double* p = y.data_ptr<double>();
  out.values.assign(p, p + y.numel());
  return out;
}

std::vector<std::int64_t> ArchiveArrayModel::output_shape(const std::vector<std::int64_t>& in_shape,
                                                          Layout) const {
  if (in_shape.empty()) {
    throw std::invalid_argument("input has rank 0; expected rank >= 1");
  }
  return shape_for(in_shape);
}

}  // namespace aeolus::emulators
