#pragma once
// Models exported from PyTorch (torch.jit.script / torch.jit.trace + save): loading a TorchScript
// file onto the CPU and running its forward method on the caller's arrays. Torch-free on
// purpose, like flux_cnn.hpp: the C API (api/) includes it and must not see torch headers.
//
// Errors name the file and what is wrong: IoError when the file cannot be read; ModelError when
// it is not a TorchScript archive (not a zip, truncated, no TorchScript records), when it was
// written by a newer PyTorch than the LibTorch this build links (both versions named), and when
// forward fails (shape mismatch, wrong number of outputs), with the input's shape.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aeolus::emulators {

enum class DType { float32, float64 };
// Memory order of a multi-dimensional array: row major (last index fastest) or column major
// (first index fastest, Fortran's order).
enum class Layout { c, fortran };

const char* dtype_name(DType t);                                 // "float32", "float64"
std::size_t dtype_size(DType t);                                 // 4, 8
std::string shape_text(const std::vector<std::int64_t>& shape);  // "[2, 3]"

// A caller's array. `shape` is the logical shape; for Layout::fortran element (i1, ..., ik) lies
// at i1 + n1 * (i2 + n2 * (...)), as in a Fortran array declared x(n1, ..., nk).
struct ConstArrayRef {
  const void* data = nullptr;
  DType dtype = DType::float64;
  std::vector<std::int64_t> shape;
  Layout layout = Layout::c;
};
struct ArrayRef {
  void* data = nullptr;
  DType dtype = DType::float64;
  std::vector<std::int64_t> shape;
  Layout layout = Layout::c;
};

// An output owned by the caller of forward(): values in row-major order, converted to double
// (exact for float32 outputs).
struct ModelOutput {
  std::vector<std::int64_t> shape;
  std::vector<double> values;
};

struct TorchScriptModelAccess;  // torchscript_model_impl.hpp

class TorchScriptModel {
 public:
  // Loads `path` onto the CPU, whatever device it was saved from. The model must have a forward
  // method taking one tensor; it is put in eval mode.
  explicit TorchScriptModel(const std::string& path);
  ~TorchScriptModel();
  TorchScriptModel(TorchScriptModel&&) noexcept;
  TorchScriptModel& operator=(TorchScriptModel&&) noexcept;

  const std::string& path() const;
  // The floating dtype of the model's parameters (float32 if it has none): an input of another
  // dtype is converted to it (one copy) before forward.
  DType parameter_dtype() const;

  // Runs forward on `in` (no gradient) and writes the output into `out`, converted to out.dtype
  // and stored in out.layout. `in` is wrapped, not copied, when its dtype is the model's (a
  // Fortran-order array becomes a strided view with the same logical shape); the output is
  // copied once into `out`. ModelError if forward fails (message with the input's shape) or if
  // its output's shape is not out.shape (both named).
  void forward(const ConstArrayRef& in, const ArrayRef& out) const;
  // Same, returning the output (for callers that do not know its shape beforehand).
  ModelOutput forward(const ConstArrayRef& in) const;
  // The shape forward returns for an input of logical shape `in_shape` in `layout`: forward
  // once (no gradient) on zeros of the parameters' dtype laid out with that layout's strides,
  // so that it fails where forward on such an array would (ModelError, as forward's).
  std::vector<std::int64_t> output_shape(const std::vector<std::int64_t>& in_shape,
                                         Layout layout) const;

 private:
  friend struct TorchScriptModelAccess;
  struct Impl;  // torchscript_model_impl.hpp
  std::unique_ptr<Impl> impl_;
};

// LibTorch's intra-op threads (at::set_num_threads, at::get_num_threads): the process's
// setting, which with LibTorch's OpenMP backend reaches the calling thread and threads that
// first use LibTorch afterwards. std::invalid_argument if n < 1.
void set_intra_op_threads(int n);
int intra_op_threads();

namespace detail {
// Copies the row-major array `src` of logical shape shape[0..rank) into `dst`, stored in
// `layout`, converting each element with static_cast (as LibTorch's copy_ does): one pass for
// Layout::c, a cache-blocked reversal of the index order for Layout::fortran. The arrays must
// not overlap. (forward's output copy; public for its test.)
void copy_array(const void* src, DType src_dtype, void* dst, DType dst_dtype,
                const std::int64_t* shape, std::size_t rank, Layout layout);
}  // namespace detail

// The version of the LibTorch this build links ("1.13.0") and the newest TorchScript file
// format version it reads.
std::string libtorch_version();
std::int64_t max_torchscript_file_format();

}  // namespace aeolus::emulators
