#include "emulators/torchscript_model.hpp"

#include <ATen/Parallel.h>
#include <caffe2/serialize/versions.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "emulators/torchscript_model_impl.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

namespace {

// --- The archive's records, read before LibTorch sees the file ----------------------------
// LibTorch's own reader names neither the file nor its own version ("failed finding central
// directory" for a truncated file, "Attempted to read a PyTorch file with version 99 ... your
// PyTorch installation may be too old" for a newer one). Reading the zip's central directory
// ourselves lets the message name the file, say what is wrong with it, and name both versions.

std::uint16_t le16(const unsigned char* p) { return std::uint16_t(p[0] | (p[1] << 8)); }
std::uint32_t le32(const unsigned char* p) {
  return std::uint32_t(le16(p)) | (std::uint32_t(le16(p + 2)) << 16);
}
std::uint64_t le64(const unsigned char* p) {
  return std::uint64_t(le32(p)) | (std::uint64_t(le32(p + 4)) << 32);
}

// [at, at + n) lies within [0, limit), without overflow for values read from a damaged file.
bool fits(std::uint64_t at, std::uint64_t n, std::uint64_t limit) {
  return at <= limit && n <= limit - at;
}

struct ZipEntry {
  std::string name;
  std::uint64_t local_offset = 0, compressed_size = 0;
  std::uint16_t method = 0;
};

class ZipScan {
 public:
  explicit ZipScan(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_.good()) throw IoError("model " + path + " does not exist or cannot be read");
    // A directory opens as a stream on Linux and fails only at the first read.
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      throw IoError("model " + path + " is a directory; expected a TorchScript file");
    }
    in_.seekg(0, std::ios::end);
    size_ = std::uint64_t(in_.tellg());
  }

  // The central directory's entries; ModelError if the file is not a complete zip archive.
  std::vector<ZipEntry> entries() {
    if (size_ == 0) fail("is empty");
    const std::vector<unsigned char> head = read(0, std::min<std::uint64_t>(size_, 4));
    if (head.size() < 4 || le32(head.data()) != 0x04034b50u) {
      std::ostringstream s;
      s << "is not a TorchScript file: not a zip archive (first bytes:";
      for (unsigned char c : head) s << ' ' << std::hex << int(c);
      fail(s.str() + ")");
    }
    // End-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes.
    const std::uint64_t tail_len = std::min<std::uint64_t>(size_, 22 + 65535);
    const std::uint64_t tail_at = size_ - tail_len;
    const std::vector<unsigned char> tail = read(tail_at, tail_len);
    std::int64_t eocd = -1;
    for (std::int64_t i = std::int64_t(tail_len) - 22; i >= 0; --i) {
      if (le32(&tail[i]) == 0x06054b50u && i + 22 + le16(&tail[i + 20]) == std::int64_t(tail_len)) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) truncated("no zip end-of-archive record");
    const unsigned char* e = &tail[eocd];
    std::uint64_t count = le16(e + 10), cd_size = le32(e + 12), cd_at = le32(e + 16);
    const std::uint64_t eocd_at = tail_at + std::uint64_t(eocd);
    if (count == 0xffff || cd_size == 0xffffffffu || cd_at == 0xffffffffu) {
      // Zip64 (LibTorch writes it): a locator just before the record points at the 64-bit one.
      if (eocd_at < 20) truncated("no zip64 locator");
      const std::vector<unsigned char> loc = read(eocd_at - 20, 20);
      if (le32(loc.data()) != 0x07064b50u) truncated("no zip64 locator");
      const std::uint64_t z_at = le64(loc.data() + 8);
      if (!fits(z_at, 56, eocd_at)) truncated("zip64 record out of range");
      const std::vector<unsigned char> z = read(z_at, 56);
      if (le32(z.data()) != 0x06064b50u) truncated("no zip64 end-of-archive record");
      count = le64(z.data() + 32);
      cd_size = le64(z.data() + 40);
      cd_at = le64(z.data() + 48);
    }
    if (!fits(cd_at, cd_size, eocd_at)) truncated("central directory out of range");
    const std::vector<unsigned char> cd = read(cd_at, cd_size);
    std::vector<ZipEntry> out;
    std::uint64_t p = 0;
    for (std::uint64_t k = 0; k < count; ++k) {
      if (p + 46 > cd.size() || le32(&cd[p]) != 0x02014b50u) truncated("central directory damaged");
      const unsigned char* c = &cd[p];
      ZipEntry z;
      z.method = le16(c + 10);
      z.compressed_size = le32(c + 20);
      const std::uint64_t usize = le32(c + 24);
      const std::uint16_t name_len = le16(c + 28), extra_len = le16(c + 30),
                          comment_len = le16(c + 32);
      z.local_offset = le32(c + 42);
      if (p + 46 + name_len + extra_len > cd.size()) truncated("central directory damaged");
      z.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
      // Zip64 extra field: the 64-bit values of those fields that hold 0xffffffff, in order.
      for (std::uint64_t x = p + 46 + name_len; x + 4 <= p + 46 + name_len + extra_len;) {
        const std::uint16_t id = le16(&cd[x]), len = le16(&cd[x + 2]);
        const std::uint64_t field_end =
            std::min<std::uint64_t>(x + 4 + len, p + 46 + name_len + extra_len);
        if (id == 1) {
          std::uint64_t f = x + 4;
          if (usize == 0xffffffffu) f += 8;
          if (z.compressed_size == 0xffffffffu && f + 8 <= field_end) {
            z.compressed_size = le64(&cd[f]);
            f += 8;
          }
          if (z.local_offset == 0xffffffffu && f + 8 <= field_end) z.local_offset = le64(&cd[f]);
        }
        x += 4 + len;
      }
      out.push_back(std::move(z));
      p += 46 + name_len + extra_len + comment_len;
    }
    return out;
  }

  // The bytes of a small stored (uncompressed) record; false if it is compressed.
  bool stored_record(const ZipEntry& z, std::string& bytes) {
    if (z.method != 0) return false;
    if (z.compressed_size > 64) {
      fail("is not a TorchScript file: record " + z.name + " has " +
           std::to_string(z.compressed_size) + " bytes; expected a version number");
    }
    if (!fits(z.local_offset, 30, size_)) truncated("record " + z.name + " out of range");
    const std::vector<unsigned char> h = read(z.local_offset, 30);
    if (le32(h.data()) != 0x04034b50u) truncated("record " + z.name + " damaged");
    const std::uint64_t at = z.local_offset + 30 + le16(&h[26]) + le16(&h[28]);
    if (!fits(at, z.compressed_size, size_)) truncated("record " + z.name + " out of range");
    const std::vector<unsigned char> d = read(at, z.compressed_size);
    bytes.assign(d.begin(), d.end());
    return true;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw ModelError("model " + path_ + " " + what);
  }
  [[noreturn]] void truncated(const std::string& what) const {
    fail("is truncated or damaged (" + what + " in its " + std::to_string(size_) + " bytes)");
  }

 private:
  std::vector<unsigned char> read(std::uint64_t at, std::uint64_t n) {
    std::vector<unsigned char> buf(n);
    in_.clear();
    in_.seekg(std::streamoff(at));
    in_.read(reinterpret_cast<char*>(buf.data()), std::streamsize(n));
    if (std::uint64_t(in_.gcount()) != n) throw IoError("model " + path_ + ": read error");
    return buf;
  }

  std::string path_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
};

// Checks that `path` is a complete TorchScript archive that this LibTorch can read.
void check_archive(const std::string& path) {
  ZipScan zip(path);
  const std::vector<ZipEntry> entries = zip.entries();
  // Every record sits under one folder named after the archive; data.pkl is the module itself.
  std::string top;
  for (const ZipEntry& z : entries) {
    const auto slash = z.name.find('/');
    if (slash != std::string::npos && z.name.substr(slash + 1) == "data.pkl") {
      top = z.name.substr(0, slash + 1);
      break;
    }
  }
  if (top.empty()) {
    zip.fail("is not a TorchScript file: a zip archive without a data.pkl record (" +
             std::to_string(entries.size()) + " records)");
  }
  // Newer writers keep the version in .data/version; LibTorch reads that one first.
  const ZipEntry* version = nullptr;
  for (const char* name : {".data/version", "version"}) {
    for (const ZipEntry& z : entries) {
      if (z.name == top + name) version = &z;
    }
    if (version) break;
  }
  if (!version) zip.fail("is not a TorchScript file: no version record under " + top);
  std::string text;
  if (!zip.stored_record(*version, text)) return;  // compressed: LibTorch will judge it
  std::int64_t v = -1;
  try {
    std::size_t used = 0;
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    zip.fail("is not a TorchScript file: version record '" + text + "' is not a number");
  }
  const auto max = std::int64_t(caffe2::serialize::kMaxSupportedFileFormatVersion);
  const auto min = std::int64_t(caffe2::serialize::kMinSupportedFileFormatVersion);
  if (v > max) {
    zip.fail("was written by a newer PyTorch than this build's LibTorch " + libtorch_version() +
             ": its file format version is " + std::to_string(v) + ", LibTorch " +
             libtorch_version() + " reads versions " + std::to_string(min) + " to " +
             std::to_string(max) + "; export it with PyTorch 1.13 or link a newer LibTorch");
  }
  if (v < min) {
    zip.fail("has file format version " + std::to_string(v) + ", older than the oldest (" +
             std::to_string(min) + ") that LibTorch " + libtorch_version() + " reads");
  }
}

// On the stack up to rank 8 (AEOLUS_MAX_RANK): no allocation per call.
c10::SmallVector<std::int64_t, 8> strides_of(const std::vector<std::int64_t>& shape,
                                             Layout layout) {
  c10::SmallVector<std::int64_t, 8> s(shape.size());
  std::int64_t step = 1;
  if (layout == Layout::fortran) {
    for (std::size_t k = 0; k < shape.size(); ++k) {
      s[k] = step;
      step *= std::max<std::int64_t>(shape[k], 1);
    }
  } else {
    for (std::size_t k = shape.size(); k-- > 0;) {
      s[k] = step;
      step *= std::max<std::int64_t>(shape[k], 1);
    }
  }
  return s;
}

// --- The output's copy --------------------------------------------------------------------
// LibTorch's copy_ into a Fortran-order view runs its inner loop along the destination's unit
// stride, the first index, which in the row-major source is the slowest one (the channels of a
// [1, 36, 256, 256] CNN output, 65536 elements apart): every read misses the cache. These plain
// loops read and write both arrays in runs instead.

template <class S, class D>
void convert(const S* s, D* d, std::int64_t n) {
  if constexpr (std::is_same_v<S, D>) {
    std::memcpy(d, s, std::size_t(n) * sizeof(S));
  } else {
    for (std::int64_t i = 0; i < n; ++i) d[i] = static_cast<D>(s[i]);
  }
}

// d (column major) = s (row major), same logical shape. The extents other than 1 form a leading
// group of axes A (product >= kTile, or all of them) and a trailing group Z (product >= kTile
// among the rest, or the rest): s is contiguous along Z's row-major index and d along A's
// column-major index, so a kTile x kTile tile of (A, Z) is read from s in runs of kTile, turned
// in a buffer on the stack and written to d in runs of kTile. The axes between the groups are
// the outer loop. Offsets are carried by odometers (no division).
template <class S, class D>
void reverse_copy(const S* s, D* d, const std::int64_t* shape, std::size_t rank) {
  constexpr std::int64_t kTile = 16;
  c10::SmallVector<std::int64_t, 8> m;  // the extents other than 1
  std::int64_t n = 1;
  for (std::size_t k = 0; k < rank; ++k) {
    if (shape[k] != 1) m.push_back(shape[k]);
    n *= shape[k];
  }
  if (n == 0) return;
  const int r = int(m.size());
  if (r <= 1) {
    convert(s, d, n);
    return;
  }
  // cs: strides of s (row major); fs: strides of d (column major); i: odometers' indices.
  c10::SmallVector<std::int64_t, 8> cs(r), fs(r), i(r, 0);
  cs[r - 1] = 1;
  for (int k = r - 1; k-- > 0;) cs[k] = cs[k + 1] * m[k + 1];
  fs[0] = 1;
  for (int k = 1; k < r; ++k) fs[k] = fs[k - 1] * m[k - 1];
  int p = 0;  // A: axes [0, p)
  std::int64_t pa = 1;
  while (p < r && pa < kTile) pa *= m[p++];
  int q = r;  // Z: axes [q, r)
  std::int64_t pz = 1;
  while (q > p && pz < kTile) pz *= m[--q];
  std::int64_t sa[kTile], dz[kTile];  // offsets of a tile's rows in s and in d
  D buf[kTile][kTile];
  std::int64_t ms = 0, md = 0;  // the middle axes' offsets in s and in d
  for (std::int64_t j = 0, middle = n / (pa * pz); j < middle; ++j) {
    std::int64_t off_a = ms;
    for (int k = 0; k < p; ++k) i[k] = 0;
    for (std::int64_t a0 = 0; a0 < pa; a0 += kTile) {
      const std::int64_t na = std::min(kTile, pa - a0);
      for (std::int64_t a = 0; a < na; ++a) {
        sa[a] = off_a;
        for (int k = 0; k < p; ++k) {
          off_a += cs[k];
          if (++i[k] < m[k]) break;
          off_a -= m[k] * cs[k];
          i[k] = 0;
        }
      }
      std::int64_t off_z = md;
      for (int k = q; k < r; ++k) i[k] = 0;
      for (std::int64_t z0 = 0; z0 < pz; z0 += kTile) {
        const std::int64_t nz = std::min(kTile, pz - z0);
        for (std::int64_t z = 0; z < nz; ++z) {
          dz[z] = off_z;
          for (int k = r; k-- > q;) {
            off_z += fs[k];
            if (++i[k] < m[k]) break;
            off_z -= m[k] * fs[k];
            i[k] = 0;
          }
        }
        const S* sz = s + z0;
        D* da = d + a0;
        if (na == kTile && nz == kTile) {  // a full tile: constant trip counts
          for (std::int64_t a = 0; a < kTile; ++a) {
            for (std::int64_t z = 0; z < kTile; ++z) buf[z][a] = static_cast<D>(sz[sa[a] + z]);
          }
          for (std::int64_t z = 0; z < kTile; ++z) {
            for (std::int64_t a = 0; a < kTile; ++a) da[dz[z] + a] = buf[z][a];
          }
        } else {
          for (std::int64_t a = 0; a < na; ++a) {
            for (std::int64_t z = 0; z < nz; ++z) buf[z][a] = static_cast<D>(sz[sa[a] + z]);
          }
          for (std::int64_t z = 0; z < nz; ++z) {
            for (std::int64_t a = 0; a < na; ++a) da[dz[z] + a] = buf[z][a];
          }
        }
      }
    }
    for (int k = q; k-- > p;) {  // the next middle index, the last middle axis fastest
      ms += cs[k];
      md += fs[k];
      if (++i[k] < m[k]) break;
      ms -= m[k] * cs[k];
      md -= m[k] * fs[k];
      i[k] = 0;
    }
  }
}

template <class S, class D>
void copy_typed(const void* src, void* dst, const std::int64_t* shape, std::size_t rank,
                Layout layout) {
  const S* s = static_cast<const S*>(src);
  D* d = static_cast<D*>(dst);
  if (layout == Layout::fortran) {
    reverse_copy(s, d, shape, rank);
    return;
  }
  std::int64_t n = 1;
  for (std::size_t k = 0; k < rank; ++k) n *= shape[k];
  if (n > 0) convert(s, d, n);
}

}  // namespace

namespace detail {

void check_array(const char* what, const void* data, const std::vector<std::int64_t>& shape) {
  if (!data) throw std::invalid_argument(std::string(what) + " data is a null pointer");
  if (shape.empty()) {
    throw std::invalid_argument(std::string(what) + " has rank 0; expected rank >= 1");
  }
  for (std::int64_t n : shape) {
    if (n < 0) {
      throw std::invalid_argument(std::string(what) + " shape " + shape_text(shape) +
                                  " has a negative extent");
    }
  }
}

void copy_array(const void* src, DType src_dtype, void* dst, DType dst_dtype,
                const std::int64_t* shape, std::size_t rank, Layout layout) {
  if (src_dtype == DType::float32) {
    if (dst_dtype == DType::float32) {
      copy_typed<float, float>(src, dst, shape, rank, layout);
    } else {
      copy_typed<float, double>(src, dst, shape, rank, layout);
    }
  } else if (dst_dtype == DType::float32) {
    copy_typed<double, float>(src, dst, shape, rank, layout);
  } else {
    copy_typed<double, double>(src, dst, shape, rank, layout);
  }
}

// The last non-empty line of a TorchScript error (the interpreter prefixes a traceback of the
// serialized code; the cause is at the end).
std::string torch_cause(const std::string& what) {
  std::istringstream lines(what);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (line.find_first_not_of(" \t") != std::string::npos) last = line;
  }
  return last;
}

c10::ScalarType scalar_type(DType t) {
  return t == DType::float32 ? torch::kFloat32 : torch::kFloat64;
}

// A tensor over the caller's memory (no copy); the model must not modify its input in place.
torch::Tensor wrap(void* data, DType dtype, const std::vector<std::int64_t>& shape, Layout layout) {
  return torch::from_blob(data, shape, strides_of(shape, layout),
                          torch::TensorOptions().dtype(scalar_type(dtype)));
}

}  // namespace detail

using detail::scalar_type;
using detail::torch_cause;
using detail::wrap;

const char* dtype_name(DType t) { return t == DType::float32 ? "float32" : "float64"; }
std::size_t dtype_size(DType t) { return t == DType::float32 ? 4 : 8; }

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

std::string libtorch_version() { return TORCH_VERSION; }
std::int64_t max_torchscript_file_format() {
  return std::int64_t(caffe2::serialize::kMaxSupportedFileFormatVersion);
}

namespace {

// Impl::run without its inference-mode scope: the caller opens it.
torch::Tensor run_in_mode(const TorchScriptModelAccess::Impl& impl, const ConstArrayRef& in,
                          bool grad) {
  const std::string& path = impl.path;
  const DType dtype = impl.dtype;
  const torch::jit::Module& module = impl.module;
  detail::check_array("input", in.data, in.shape);
  // While a trainer works on the module, its forwards (training or not) run the graph without
  // the executor's optimisations: the optimised plan of a module whose parameters require grad
  // differentiates inside the graph and saves its input for backward, which an inference-mode
  // forward cannot ("Inference tensors cannot be saved for backward"); the plain plan records
  // the gradient through autograd only where grad mode is on. (A thread-local setting.)
  std::optional<torch::jit::GraphOptimizerEnabledGuard> plain;
  if (grad || impl.training) plain.emplace(false);
  torch::Tensor x = wrap(const_cast<void*>(in.data), in.dtype, in.shape, in.layout);
  if (in.dtype != dtype) x = x.to(scalar_type(dtype));  // the one documented copy
  c10::IValue y;
  try {
    // forward is const in meaning but not in LibTorch's signature.
    y = const_cast<torch::jit::Module&>(module).forward({x});
  } catch (const c10::Error& e) {
    throw ModelError("model " + path + ": forward failed on an input of shape " +
                     shape_text(in.shape) + " (" + dtype_name(in.dtype) +
                     "): " + torch_cause(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    // The interpreter's own errors (torch::jit::JITException) are not c10::Errors.
    throw ModelError("model " + path + ": forward failed on an input of shape " +
                     shape_text(in.shape) + " (" + dtype_name(in.dtype) +
                     "): " + torch_cause(e.what()));
  }
  if (!y.isTensor()) {
    throw ModelError("model " + path + ": forward returned a " + y.tagKind() +
                     "; expected one tensor");
  }
  return std::move(y).toTensor();
}

// The model's output into `out` (its shape checked by the caller): by the plain loops above when
// the output is a contiguous float32 or float64 tensor apart from out's memory (as the model's
// own outputs are), else by LibTorch's copy_ (converts and writes through out's strides).
void copy_output(const torch::Tensor& y, const ArrayRef& out) {
  const c10::ScalarType t = y.scalar_type();
  if ((t == torch::kFloat32 || t == torch::kFloat64) && y.is_contiguous()) {
    const DType yt = t == torch::kFloat32 ? DType::float32 : DType::float64;
    const auto n = std::size_t(y.numel());
    const auto* y0 = static_cast<const char*>(y.data_ptr());
    const auto* o0 = static_cast<const char*>(out.data);
    const bool apart =
        n == 0 || y0 + n * dtype_size(yt) <= o0 || o0 + n * dtype_size(out.dtype) <= y0;
    if (apart) {
      detail::copy_array(y0, yt, out.data, out.dtype, out.shape.data(), out.shape.size(),
                         out.layout);
      return;
    }
  }
  wrap(out.data, out.dtype, out.shape, out.layout).copy_(y);
}

}  // namespace

torch::Tensor TorchScriptModel::Impl::run(const ConstArrayRef& in, bool grad) const {
  // Inference mode unless the caller trains (then the graph is recorded for backward).
  c10::InferenceMode guard(!grad);
  return run_in_mode(*this, in, grad);
}

TorchScriptModel::TorchScriptModel(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  check_archive(path);
  try {
    impl_->module = torch::jit::load(path, torch::Device(torch::kCPU));
  } catch (const c10::Error& e) {
    throw ModelError(
        "model " + path + " cannot be loaded by LibTorch " + libtorch_version() +
        " (if a newer PyTorch exported it, it may use operators this version lacks): " +
        torch_cause(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw ModelError("model " + path + " cannot be loaded by LibTorch " + libtorch_version() +
                     ": " + torch_cause(e.what()));
  }
  if (!impl_->module.find_method("forward")) {
    // What `aeolus train` writes is a torch archive too (the same zip), but weights and
    // metadata only: running it needs the network rebuilt from its metadata (its format's
    // adapter, emulators/array_model.hpp).
    if (impl_->module.hasattr("meta.format")) {
      const c10::IValue f = impl_->module.attr("meta.format");
      throw ModelError("model " + path + " is an Aeolus model archive (format '" +
                       (f.isString() ? f.toStringRef() : std::string("?")) +
                       "'), not a TorchScript model: it has no forward method; load it with "
                       "load_array_model (emulators/array_model.hpp), as aeolus_model_load does");
    }
    throw ModelError("model " + path + " has no forward method: not an exported PyTorch model");
  }
  impl_->module.eval();
  for (const torch::Tensor& p : impl_->module.parameters(/*recurse=*/true)) {
    if (p.is_floating_point()) {
      impl_->dtype = p.scalar_type() == torch::kFloat64 ? DType::float64 : DType::float32;
      break;
    }
  }
}

TorchScriptModel::~TorchScriptModel() = default;
TorchScriptModel::TorchScriptModel(TorchScriptModel&&) noexcept = default;
TorchScriptModel& TorchScriptModel::operator=(TorchScriptModel&&) noexcept = default;

const std::string& TorchScriptModel::path() const { return impl_->path; }
DType TorchScriptModel::parameter_dtype() const { return impl_->dtype; }

void TorchScriptModel::forward(const ConstArrayRef& in, const ArrayRef& out) const {
  detail::check_array("output", out.data, out.shape);
  c10::InferenceMode guard;  // one scope for the forward and the copy
  const torch::Tensor y = run_in_mode(*impl_, in, /*grad=*/false);
  if (!y.sizes().equals(out.shape)) {
    const std::vector<std::int64_t> got(y.sizes().begin(), y.sizes().end());
    throw ModelError("model " + impl_->path + ": output has shape " + shape_text(got) +
                     " for an input of shape " + shape_text(in.shape) +
                     "; the output array has shape " + shape_text(out.shape));
  }
  copy_output(y, out);
}

ModelOutput TorchScriptModel::forward(const ConstArrayRef& in) const {
  const torch::Tensor y = impl_->run(in).to(torch::kFloat64).contiguous();
  ModelOutput out;
  out.shape.assign(y.sizes().begin(), y.sizes().end());
  const double* p = y.data_ptr<double>();
  out.values.assign(p, p + y.numel());
  return out;
}

std::vector<std::int64_t> TorchScriptModel::output_shape(const std::vector<std::int64_t>& in_shape,
                                                         Layout layout) const {
  torch::Tensor zeros;
  {
    c10::InferenceMode guard;
    zeros = torch::zeros(in_shape, torch::TensorOptions().dtype(scalar_type(impl_->dtype)));
  }
  // An empty tensor may have no memory; the wrapped view reads none.
  double none = 0;
  const ConstArrayRef in{zeros.numel() > 0 ? zeros.data_ptr() : &none, impl_->dtype, in_shape,
                         layout};
  const torch::Tensor y = impl_->run(in);
  return {y.sizes().begin(), y.sizes().end()};
}

void set_intra_op_threads(int n) {
  if (n < 1) {
    throw std::invalid_argument("n = " + std::to_string(n) + "; expected a thread count >= 1");
  }
  at::set_num_threads(n);
}

int intra_op_threads() { return at::get_num_threads(); }

}  // namespace aeolus::emulators
