#pragma once
// TorchScript files for the tests, made without Python: a module built in C++, its forward
// defined in TorchScript source and saved as PyTorch's torch.jit.save would. The expected
// outputs are the same arithmetic done by hand (linear_tanh below), not a second run of torch.
#include <torch/script.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace aeolus::test {

// y = tanh(x W^T + b) over the last dimension of x: 3 features in, 2 out.
inline constexpr int kIn = 3, kOut = 2;
inline constexpr double kW[kOut][kIn] = {{0.5, -0.25, 0.125}, {-1.0, 0.75, 0.3}};
inline constexpr double kB[kOut] = {0.1, -0.2};

// A batch of 4 rows of kIn features, row major: x[b][k] = 0.3 b - 0.2 k + 0.05.
inline std::vector<double> batch_input() {
  std::vector<double> x(4 * kIn);
  for (int b = 0; b < 4; ++b)
    for (int k = 0; k < kIn; ++k) x[b * kIn + k] = 0.3 * b - 0.2 * k + 0.05;
  return x;
}

inline double linear_tanh(const double x[kIn], int o) {
  double s = kB[o];
  for (int k = 0; k < kIn; ++k) s += kW[o][k] * x[k];
  return std::tanh(s);
}

// kind: "linear_tanh" (above), "affine" (y = 2 x + 1, any shape), "warn" (y = x and a warning),
// "tuple" (returns (x, x): not one tensor). dtype: the parameters' dtype (float32 or float64).
inline void save_test_model(const std::string& kind, const std::string& path,
                            torch::Dtype dtype = torch::kFloat32) {
  torch::jit::Module m("TestModel");
  if (kind == "linear_tanh") {
    // from_blob, not torch::tensor: the latter makes float32 of doubles (the default dtype).
    std::vector<double> w(&kW[0][0], &kW[0][0] + kOut * kIn), b(kB, kB + kOut);
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    m.register_parameter("w", torch::from_blob(w.data(), {kOut, kIn}, f64).to(dtype, false, true),
                         false);
    m.register_parameter("b", torch::from_blob(b.data(), {kOut}, f64).to(dtype, false, true),
                         false);
    m.define(R"(
def forward(self, x):
    return torch.tanh(torch.matmul(x, self.w.t()) + self.b)
)");
  } else if (kind == "affine") {
    m.register_parameter("a", torch::full({1}, 2.0, torch::TensorOptions().dtype(dtype)), false);
    m.register_parameter("c", torch::full({1}, 1.0, torch::TensorOptions().dtype(dtype)), false);
    m.define(R"(
def forward(self, x):
    return x * self.a + self.c
)");
  } else if (kind == "warn") {
    // y = x, raising a LibTorch warning (TorchScript's warnings.warn, at every forward).
    m.register_parameter("a", torch::ones({1}, torch::TensorOptions().dtype(dtype)), false);
    m.define(R"(
def forward(self, x):
    torch.warn("aeolus test warning")
    return x * self.a
)");
  } else if (kind == "tuple") {
    m.define(R"(
def forward(self, x):
    return (x, x)
)");
  } else {
    throw std::invalid_argument("unknown test model kind '" + kind + "'");
  }
  m.save(path);
}

// A zip archive of stored (uncompressed) records, for archives LibTorch would not write: a
// version from the future, a zip that is not TorchScript.
inline void write_zip(const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& records) {
  auto crc32 = [](const std::string& s) {
    std::uint32_t c = 0xffffffffu;
    for (unsigned char b : s) {
      c ^= b;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
  };
  std::string out, dir;
  auto put16 = [](std::string& s, std::uint32_t v) {
    s += char(v & 0xff);
    s += char((v >> 8) & 0xff);
  };
  auto put32 = [&](std::string& s, std::uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
  };
  for (const auto& [name, data] : records) {
    const std::uint32_t offset = std::uint32_t(out.size()), crc = crc32(data);
    const auto size = std::uint32_t(data.size()), name_len = std::uint32_t(name.size());
    put32(out, 0x04034b50u);
    for (std::uint32_t v : {20u, 0u, 0u, 0u, 0u})
      put16(out, v);  // version, flags, method, time, date
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, name_len);
    put16(out, 0);
    out += name + data;
    put32(dir, 0x02014b50u);
    for (std::uint32_t v : {20u, 20u, 0u, 0u, 0u, 0u}) put16(dir, v);
    put32(dir, crc);
    put32(dir, size);
    put32(dir, size);
    for (std::uint32_t v : {name_len, 0u, 0u, 0u, 0u}) put16(dir, v);
    put32(dir, 0);
    put32(dir, offset);
    dir += name;
  }
  const std::uint32_t dir_at = std::uint32_t(out.size());
  out += dir;
  put32(out, 0x06054b50u);
  for (std::uint32_t v : {0u, 0u, std::uint32_t(records.size()), std::uint32_t(records.size())})
    put16(out, v);
  put32(out, std::uint32_t(dir.size()));
  put32(out, dir_at);
  put16(out, 0);
  std::ofstream(path, std::ios::binary) << out;
}

}  // namespace aeolus::test
