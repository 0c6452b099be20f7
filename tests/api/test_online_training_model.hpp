#pragma once
// The linear model of the online-training tests, y = x W^T + b (3 features in, 2 out), made in
// C++ without Python as test_models.hpp makes its models, its exact training data (targets of a
// known linear map), and its parameters read back through the C API (forward on unit vectors).
#include <gtest/gtest.h>
#include <torch/script.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "aeolus.h"

namespace aeolus::test {

inline constexpr int kLin = 3, kLout = 2;
// The parameters a model starts from and the map the data comes from.
inline const std::vector<double> kW0{0.1, -0.2, 0.3, 0.05, 0.4, -0.1}, kB0{0.0, 0.1};
inline const std::vector<double> kWTrue{1.5, -0.5, 0.25, -1.0, 0.75, 2.0}, kBTrue{0.5, -0.25};

// y = x W^T + b over the last dimension; w row major [kLout][kLin].
inline void save_linear_model(const std::string& path, const std::vector<double>& w,
                              const std::vector<double>& b, torch::Dtype dtype = torch::kFloat64) {
  torch::jit::Module m("Linear");
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  std::vector<double> wc = w, bc = b;
  m.register_parameter("w", torch::from_blob(wc.data(), {kLout, kLin}, f64).to(dtype, false, true),
                       false);
  m.register_parameter("b", torch::from_blob(bc.data(), {kLout}, f64).to(dtype, false, true),
                       false);
  m.define(R"(
def forward(self, x):
    return torch.matmul(x, self.w.t()) + self.b
)");
  m.save(path);
}

// `rows` inputs of kLin features, row major, in [-1, 1] and not collinear.
inline std::vector<double> linear_inputs(int rows) {
  std::vector<double> x(size_t(rows) * kLin);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < kLin; ++k)
      x[size_t(r * kLin + k)] = ((r * (k + 2) + 3 * k + 1) % 7) / 3.5 - 1.0 + 0.01 * r;
  return x;
}

// The targets of x under (w, b), row major [rows][kLout].
inline std::vector<double> linear_targets(const std::vector<double>& x,
                                          const std::vector<double>& w,
                                          const std::vector<double>& b) {
  const int rows = int(x.size()) / kLin;
  std::vector<double> t(size_t(rows) * kLout);
  for (int r = 0; r < rows; ++r)
    for (int o = 0; o < kLout; ++o) {
      double s = b[size_t(o)];
      for (int k = 0; k < kLin; ++k) s += w[size_t(o * kLin + k)] * x[size_t(r * kLin + k)];
      t[size_t(r * kLout + o)] = s;
    }
  return t;
}

// The model's parameters through aeolus_model_forward: b = f(0), column k of W = f(e_k) - b.
// Returns W (row major) followed by b; empty if forward failed.
inline std::vector<double> linear_parameters(aeolus_model* m) {
  std::vector<double> x((kLin + 1) * kLin, 0.0), y((kLin + 1) * kLout);
  for (int k = 0; k < kLin; ++k) x[size_t((k + 1) * kLin + k)] = 1.0;
  const int64_t xs[2] = {kLin + 1, kLin}, ys[2] = {kLin + 1, kLout};
  if (aeolus_model_forward(m, x.data(), 2, xs, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, y.data(), 2, ys) !=
      AEOLUS_OK) {
    ADD_FAILURE() << aeolus_last_error();
    return {};
  }
  std::vector<double> p(kLout * kLin + kLout);
  for (int o = 0; o < kLout; ++o) {
    p[size_t(kLout * kLin + o)] = y[size_t(o)];
    for (int k = 0; k < kLin; ++k)
      p[size_t(o * kLin + k)] = y[size_t((k + 1) * kLout + o)] - y[size_t(o)];
  }
  return p;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace aeolus::test
