// Benchmark: inference per call via the C API and the Fortran module vs LibTorch called directly
//
//   tools/bench coupling [rounds]      (default 45)
//
// What a host pays for calling a model through Aeolus (issue 19) instead of LibTorch itself, in
// the same process. The models are built here without Python (torch::jit::Module::define + save
// into a temporary folder, as tests/api/test_models.hpp does) and each path loads the file
// itself:
//   - direct LibTorch: torch::jit::load + eval; per call, under c10::InferenceMode (what the C
//     API uses), a tensor over the caller's input made with torch::from_blob, Module::forward,
//     and the output copied into the caller's buffer (from_blob(out).copy_(y)): the fair baseline
//     a C++ host would write. Once with the arrays in C order (the reference) and once in Fortran
//     order (strided from_blob over the input and the output: the cost of the memory order
//     itself, whoever calls LibTorch);
//   - the C API: aeolus_model_load, then aeolus_model_forward with AEOLUS_LAYOUT_C and with
//     AEOLUS_LAYOUT_FORTRAN (a strided view of the input, a strided copy into the output);
//   - the Fortran module: aeolus_load, then aeolus_forward (generic over real32/real64,
//     assumed-rank) called in a loop by bench/coupling_fortran.f90, timed from here: on arrays
//     in Fortran order (x(n1, ..., nk), the tensor [n1, ..., nk]), and with reverse_dims=.true.
//     on arrays declared with the extents reversed over the C-order memory (x(nk, ..., n1), no
//     view, no copy: the Fortran host's way to C order). "skipped: no Fortran compiler" where
//     CMake found none.
// The models:
//   - MLP 16 -> 64 -> 64 -> 16 with tanh (torch.linear, the op nn.Linear exports), batch 1 and
//     batch 1024; float32 and float64 (parameters and arrays of the same dtype);
//   - CNN the size of the advection flux CNN (emulators/flux_cnn_model.cpp, default settings:
//     2 Courant-number inputs, 4 valid 3x3 convolutions of 16 channels with GELU, a 1x1 head with
//     2 * 3 * 6 = 36 stencil weights) on a 256x256 field: input [1, 2, 264, 264] (the field and
//     its halo of 4), output [1, 36, 256, 256]; float32 and float64.
// In Fortran order an array x(n1, ..., nk) is the tensor [n1, ..., nk] (api/aeolus.h), so the
// CNN's Fortran arrays are x(1, 2, 264, 264) and y(1, 36, 256, 256), channel index fastest; with
// reverse_dims they are x(264, 264, 2, 1) and y(256, 256, 36, 1), as a Fortran code holds fields.
//
// Timing: at::set_num_threads(1), then 2 (the process's LibTorch thread pool, which the C API
// and the Fortran module use too); every path warmed up (the TorchScript executor profiles its
// first runs); then rounds (45 for the MLP, a quarter of that, at least 5, for the CNN), each
// timing every path in turn (the order rotated between rounds) over K calls, K chosen so that
// one timing of the direct path takes about 2 ms (K = 1 for the CNN). Columns: us/call, the
// median over rounds of the time per call; / direct and overhead us, the medians of the ratio
// and of the difference (in microseconds) to the direct C-order call of the same round (paired:
// a load that comes and goes shifts the paths of a round together); / same ord, the same ratio
// to the direct call with the path's own memory order (what the path costs beyond the order).
// Every path's output is checked against the direct C-order one after the timings.
// Goal (issue 19): overhead under 5 % of the direct C-order call (column 5%) and, for the small
// MLP, under 5 microseconds per call (column 5us). A row that misses it says NO; the timings
// depend on the load of the machine (`uptime` is printed with them).
#include <ATen/Parallel.h>
#include <torch/script.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "aeolus.h"

#if AEOLUS_BENCH_FORTRAN
extern "C" {
// bench/coupling_fortran.f90
int bench_fortran_load(const char* path, int n, void** handle);
int bench_fortran_free(void* handle);
int bench_fortran_forward(void* handle, int dtype, int rank, const std::int64_t* in_shape,
                          const void* x, const std::int64_t* out_shape, void* y, int calls,
                          int reverse);
}
#endif

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

enum Path { kDirectC, kApiC, kFortranReversed, kDirectF, kApiF, kFortran, kPaths };
const char* const kPathName[kPaths] = {
    "direct LibTorch, C order",       "C API, C order",       "Fortran module, reverse_dims",
    "direct LibTorch, Fortran order", "C API, Fortran order", "Fortran module, aeolus_forward"};
bool fortran_order(Path p) { return p == kDirectF || p == kApiF || p == kFortran; }

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_coupling: %s\n", what.c_str());
  std::exit(1);
}

std::vector<std::int64_t> strides_of(const std::vector<std::int64_t>& shape, bool fortran) {
  std::vector<std::int64_t> s(shape.size());
  std::int64_t step = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::size_t k = fortran ? i : shape.size() - 1 - i;
    s[k] = step;
    step *= shape[k];
  }
  return s;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

// Uniform in (-1, 1) / sqrt(fan_in), PyTorch's default initialisation of its layers' weights.
torch::Tensor init(const std::vector<std::int64_t>& shape, double fan_in, torch::Dtype dtype) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  return ((torch::rand(shape, f64) * 2 - 1) / std::sqrt(fan_in)).to(dtype);
}

void save_mlp(const std::string& path, torch::Dtype dtype) {
  torch::jit::Module m("CouplingMLP");
  const std::int64_t width[] = {16, 64, 64, 16};
  for (int l = 0; l < 3; ++l) {
    const double fan_in = double(width[l]);
    m.register_parameter("w" + std::to_string(l), init({width[l + 1], width[l]}, fan_in, dtype),
                         false);
    m.register_parameter("b" + std::to_string(l), init({width[l + 1]}, fan_in, dtype), false);
  }
  m.define(R"(
def forward(self, x):
    h = torch.tanh(torch.linear(x, self.w0, self.b0))
    h = torch.tanh(torch.linear(h, self.w1, self.b1))
    return torch.linear(h, self.w2, self.b2)
)");
  m.save(path);
}

void save_cnn(const std::string& path, torch::Dtype dtype) {
  torch::jit::Module m("CouplingFluxCNN");
  const std::int64_t in[] = {2, 16, 16, 16, 16}, out[] = {16, 16, 16, 16, 36},
                     kernel[] = {3, 3, 3, 3, 1};
  for (int l = 0; l < 5; ++l) {
    const double fan_in = double(in[l] * kernel[l] * kernel[l]);
    m.register_parameter("w" + std::to_string(l),
                         init({out[l], in[l], kernel[l], kernel[l]}, fan_in, dtype), false);
    m.register_parameter("b" + std::to_string(l), init({out[l]}, fan_in, dtype), false);
  }
  m.define(R"(
def forward(self, x):
    h = torch.gelu(torch.conv2d(x, self.w0, self.b0))
    h = torch.gelu(torch.conv2d(h, self.w1, self.b1))
    h = torch.gelu(torch.conv2d(h, self.w2, self.b2))
    h = torch.gelu(torch.conv2d(h, self.w3, self.b3))
    return torch.conv2d(h, self.w4, self.b4)
)");
  m.save(path);
}

struct Case {
  std::string label;
  bool cnn = false;
  torch::Dtype dtype = torch::kFloat32;
  std::vector<std::int64_t> in_shape, out_shape;
  bool small = false;  // the 5-microsecond goal applies
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One model file loaded through every path, with the caller's arrays in both orders.
class Paths {
 public:
  Paths(const Case& c, const std::string& file)
      : c_(c), opts_(torch::TensorOptions().dtype(c.dtype)) {
    for (bool f : {false, true}) {
      in_strides_[f] = strides_of(c.in_shape, f);
      out_strides_[f] = strides_of(c.out_shape, f);
      module_[f] = torch::jit::load(file, torch::Device(torch::kCPU));
      module_[f].eval();
      if (aeolus_model_load(file.c_str(), &api_[f]) != AEOLUS_OK) die(aeolus_last_error());
    }
#if AEOLUS_BENCH_FORTRAN
    for (bool f : {false, true}) {
      if (bench_fortran_load(file.c_str(), int(file.size()), &fortran_[f]) != AEOLUS_OK) {
        die("aeolus_load (Fortran) of " + file + ": " + aeolus_last_error());
      }
    }
#endif
    // The same logical input in both orders: x(i) = sin(0.37 i + 0.1) over the C-order index i.
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    const torch::Tensor x =
        torch::sin(torch::arange(0, double(numel(c.in_shape)), f64) * 0.37 + 0.1)
            .reshape(c.in_shape)
            .to(c.dtype);
    for (bool f : {false, true}) {
      in_[f] = torch::empty_strided(c.in_shape, in_strides_[f], opts_);
      in_[f].copy_(x);
    }
    for (int p = 0; p < kPaths; ++p) {
      out_[p] = torch::zeros(c.out_shape, opts_);
      if (fortran_order(Path(p))) {
        out_[p] = torch::empty_strided(c.out_shape, out_strides_[1], opts_).zero_();
      }
    }
  }
  ~Paths() {
    for (bool f : {false, true}) aeolus_model_free(api_[f]);
#if AEOLUS_BENCH_FORTRAN
    for (bool f : {false, true}) bench_fortran_free(fortran_[f]);
#endif
  }
  Paths(const Paths&) = delete;
  Paths& operator=(const Paths&) = delete;

  static bool available(Path p) {
    return (p != kFortran && p != kFortranReversed) || AEOLUS_BENCH_FORTRAN;
  }

  // `calls` calls of path p; returns the seconds per call.
  double time(Path p, int calls) {
    const bool f = fortran_order(p);
    const void* in = in_[f].data_ptr();
    void* out = out_[p].data_ptr();
    const int dtype = c_.dtype == torch::kFloat32 ? AEOLUS_FLOAT32 : AEOLUS_FLOAT64;
    const int in_rank = int(c_.in_shape.size()), out_rank = int(c_.out_shape.size());
    const auto t0 = clock_type::now();
    switch (p) {
      case kDirectC:
      case kDirectF:
        for (int k = 0; k < calls; ++k) direct(f, in, out);
        break;
      case kApiC:
      case kApiF:
        for (int k = 0; k < calls; ++k) {
          if (aeolus_model_forward(api_[f], in, in_rank, c_.in_shape.data(), dtype,
                                   f ? AEOLUS_LAYOUT_FORTRAN : AEOLUS_LAYOUT_C, out, out_rank,
                                   c_.out_shape.data()) != AEOLUS_OK) {
            die(aeolus_last_error());
          }
        }
        break;
      case kFortran:
      case kFortranReversed:
#if AEOLUS_BENCH_FORTRAN
        if (bench_fortran_forward(fortran_[f], dtype, in_rank, c_.in_shape.data(), in,
                                  c_.out_shape.data(), out, calls,
                                  p == kFortranReversed) != AEOLUS_OK) {
          die(std::string("aeolus_forward (Fortran): ") + aeolus_last_error());
        }
#endif
        break;
      default:
        break;
    }
    return std::chrono::duration<double>(clock_type::now() - t0).count() / calls;
  }

  // One call of path p into its zeroed output array.
  void rerun(Path p) {
    out_[p].zero_();
    time(p, 1);
  }

  // `calls` copies of the model's output (computed once) into the caller's output array in C
  // order or Fortran order, as the direct path copies it; returns the seconds per copy.
  double copy_time(bool f, int calls) {
    c10::InferenceMode guard;
    if (!y_.defined()) y_ = module_[0].forward({in_[0]}).toTensor();
    void* out = out_[f ? kDirectF : kDirectC].data_ptr();
    const auto t0 = clock_type::now();
    for (int k = 0; k < calls; ++k) {
      torch::from_blob(out, c_.out_shape, out_strides_[f], opts_).copy_(y_);
    }
    return std::chrono::duration<double>(clock_type::now() - t0).count() / calls;
  }

  // The largest difference between path p's output and the direct C-order one, relative to the
  // latter's largest magnitude (both read in their logical order).
  double difference(Path p) const {
    const torch::Tensor ref = out_[kDirectC].to(torch::kFloat64);
    const double scale = ref.abs().max().item<double>();
    return (out_[p].to(torch::kFloat64) - ref).abs().max().item<double>() / scale;
  }

 private:
  static std::int64_t numel(const std::vector<std::int64_t>& s) {
    std::int64_t n = 1;
    for (std::int64_t e : s) n *= e;
    return n;
  }

  void direct(bool f, const void* in, void* out) {
    c10::InferenceMode guard;
    torch::Tensor x = torch::from_blob(const_cast<void*>(in), c_.in_shape, in_strides_[f], opts_);
    const torch::Tensor y = module_[f].forward({x}).toTensor();
    torch::from_blob(out, c_.out_shape, out_strides_[f], opts_).copy_(y);
  }

  const Case& c_;
  torch::TensorOptions opts_;
  std::vector<std::int64_t> in_strides_[2], out_strides_[2];
  torch::jit::Module module_[2];
  aeolus_model* api_[2] = {nullptr, nullptr};
  void* fortran_[2] = {nullptr, nullptr};
  torch::Tensor in_[2], out_[kPaths], y_;
};

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 45;
  if (rounds < 1) die("usage: bench_coupling [rounds >= 1]");
  const double target_s = 2e-3;  // one timing of the direct path, K calls
  const fs::path dir =
      fs::temp_directory_path() / ("aeolus_bench_coupling_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  torch::manual_seed(19);

  std::vector<Case> cases;
  for (torch::Dtype t : {torch::kFloat32, torch::kFloat64}) {
    const std::string d = t == torch::kFloat32 ? "float32" : "float64";
    cases.push_back({"MLP 16-64-64-16 tanh, batch 1, " + d, false, t, {1, 16}, {1, 16}, true});
    cases.push_back(
        {"MLP 16-64-64-16 tanh, batch 1024, " + d, false, t, {1024, 16}, {1024, 16}, true});
  }
  for (torch::Dtype t : {torch::kFloat32, torch::kFloat64}) {
    const std::string d = t == torch::kFloat32 ? "float32" : "float64";
    cases.push_back({"flux-CNN size (4 conv3x3 x16 GELU + 1x1 head), 256x256 field, " + d,
                     true,
                     t,
                     {1, 2, 264, 264},
                     {1, 36, 256, 256},
                     false});
  }

  std::printf("coupling: per-call cost of inference through Aeolus against LibTorch %s called\n",
              TORCH_VERSION);
  std::printf("directly, same process; medians over rounds; %s\n",
              AEOLUS_BENCH_FORTRAN ? "Fortran module linked" : "no Fortran compiler");
  std::fflush(stdout);
  if (std::system("uptime") != 0) std::printf("(uptime not available)\n");
  std::printf(
      "goal (issue 19): overhead under 5 %% of direct LibTorch in C order (column 5%%), and under "
      "5 us per call for the small MLP (column 5us)\n");

  bool checks_ok = true;
  for (const Case& c : cases) {
    const std::string file = (dir / (std::string(c.cnn ? "cnn" : "mlp") +
                                     (c.dtype == torch::kFloat32 ? "32" : "64") + ".pt"))
                                 .string();
    if (!fs::exists(file)) c.cnn ? save_cnn(file, c.dtype) : save_mlp(file, c.dtype);
    Paths paths(c, file);
    const int n_rounds = c.cnn ? std::max(5, rounds / 4) : rounds;
    std::printf("\n%s: input %s, output %s, %d rounds\n", c.label.c_str(),
                shape_text(c.in_shape).c_str(), shape_text(c.out_shape).c_str(), n_rounds);
    std::printf("  %-3s %-32s %11s %9s %11s %10s %4s %4s\n", "thr", "path", "us/call", "/ direct",
                "overhead us", "/ same ord", "5%", "5us");
    for (int threads : {1, 2}) {
      at::set_num_threads(threads);
      // Warm-up: the executor's profiling runs, caches, the thread pool.
      for (int p = 0; p < kPaths; ++p) {
        if (Paths::available(Path(p))) paths.time(Path(p), 3);
      }
      double t1 = 1e30;
      for (int k = 0; k < 3; ++k) t1 = std::min(t1, paths.time(kDirectC, 1));
      const int calls = std::max(1, int(target_s / t1));
      for (int p = 0; p < kPaths; ++p) {
        if (Paths::available(Path(p))) paths.time(Path(p), std::max(2, calls));
      }
      // t[p][r]: seconds per call of path p in round r.
      std::vector<double> t[kPaths];
      for (int r = 0; r < n_rounds; ++r) {
        for (int i = 0; i < kPaths; ++i) {
          const Path p = Path((r + i) % kPaths);
          if (Paths::available(p)) t[p].push_back(paths.time(p, calls));
        }
      }
      // Ratios and differences are taken within each round (timings a few milliseconds apart),
      // then their median: a load that comes and goes shifts a round's paths together.
      auto paired = [&](Path p, Path ref, bool ratio) {
        std::vector<double> v;
        for (int r = 0; r < n_rounds; ++r) {
          v.push_back(ratio ? t[p][r] / t[ref][r] : 1e6 * (t[p][r] - t[ref][r]));
        }
        return median(v);
      };
      for (int p = 0; p < kPaths; ++p) {
        std::printf("  %-3d %-32s", threads, kPathName[p]);
        if (!Paths::available(Path(p))) {
          std::printf(" skipped: no Fortran compiler\n");
          continue;
        }
        std::printf(" %11.2f", 1e6 * median(t[p]));
        if (p == kDirectC) {
          std::printf(" %9.3f %11s %10s\n", 1.0, "-", "-");
          continue;
        }
        const double ratio = paired(Path(p), kDirectC, true);
        const double overhead = paired(Path(p), kDirectC, false);
        std::printf(" %9.3f %11.2f", ratio, overhead);
        if (p == kDirectF) {
          std::printf(" %10s", "-");
        } else {
          std::printf(" %10.3f",
                      paired(Path(p), fortran_order(Path(p)) ? kDirectF : kDirectC, true));
        }
        std::printf(" %4s %4s\n", ratio < 1.05 ? "yes" : "NO",
                    c.small ? (overhead < 5.0 ? "yes" : "NO") : "-");
      }
      // What the memory order costs in the output's copy alone (the cause of most of the
      // Fortran-order rows' overhead where they have one).
      std::vector<double> copy[2];
      const int copies = std::max(1, int(target_s / std::max(paths.copy_time(true, 1), 1e-7)));
      for (int r = 0; r < n_rounds; ++r) {
        for (bool f : {false, true}) copy[f].push_back(paths.copy_time(f, copies));
      }
      std::printf(
          "  (%d calls per timing) output copy alone: %.2f us in C order, %.2f us in "
          "Fortran order\n",
          calls, 1e6 * median(copy[0]), 1e6 * median(copy[1]));
    }
    // Every path must have computed the same numbers: one more call each into zeroed outputs.
    for (int p = 0; p < kPaths; ++p) {
      if (Paths::available(Path(p))) paths.rerun(Path(p));
    }
    const double tol = c.dtype == torch::kFloat32 ? 1e-5 : 1e-12;
    double largest = 0.0;
    for (int p = 1; p < kPaths; ++p) {
      if (!Paths::available(Path(p))) continue;
      const double d = paths.difference(Path(p));
      largest = std::max(largest, d);
      if (!(d <= tol)) {
        std::printf(
            "  CHECK FAILED: %s differs from direct C order by %.3g (relative; tolerance "
            "%.0g)\n",
            kPathName[p], d, tol);
        checks_ok = false;
      }
    }
    std::printf(
        "  outputs of every path against direct C order: largest relative difference %.2g\n",
        largest);
  }
  std::printf("\n");
  std::fflush(stdout);
  if (std::system("uptime") != 0) std::printf("(uptime not available)\n");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return checks_ok ? 0 : 1;
}
