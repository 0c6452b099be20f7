// emulators/torchscript_model: loading TorchScript files made by the test (test_models.hpp),
// outputs against the same arithmetic by hand, C and Fortran order, and every refusal.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "api/test_models.hpp"
#include "common/temp_dir.hpp"
#include "emulators/flux_cnn_model.hpp"
#include "emulators/torchscript_model.hpp"
#include "grids/error.hpp"

namespace em = aeolus::emulators;
using aeolus::test::batch_input;
using aeolus::test::kIn;
using aeolus::test::kOut;
using aeolus::test::linear_tanh;
using aeolus::test::save_test_model;

namespace {

// Message of the exception `f` throws as E (fails the test if it throws nothing or another type).
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

}  // namespace

TEST(TorchScriptModel, LinearTanhFloat32MatchesHandArithmetic) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("m.pt");
  save_test_model("linear_tanh", path, torch::kFloat32);
  const em::TorchScriptModel model(path);
  EXPECT_EQ(model.parameter_dtype(), em::DType::float32);
  const std::vector<double> x64 = batch_input();
  const std::vector<float> x(x64.begin(), x64.end());
  std::vector<float> y(4 * kOut, -99.f);
  model.forward({x.data(), em::DType::float32, {4, kIn}},
                {y.data(), em::DType::float32, {4, kOut}});
  for (int b = 0; b < 4; ++b) {
    double xb[kIn];
    for (int k = 0; k < kIn; ++k) xb[k] = x[b * kIn + k];
    for (int o = 0; o < kOut; ++o) EXPECT_NEAR(y[b * kOut + o], linear_tanh(xb, o), 1e-6) << b << o;
  }
}

TEST(TorchScriptModel, Float64ModelIsExactToRoundOff) {
  aeolus::test::TempDir dir;
  save_test_model("linear_tanh", dir.file("m.pt"), torch::kFloat64);
  const em::TorchScriptModel model(dir.file("m.pt"));
  EXPECT_EQ(model.parameter_dtype(), em::DType::float64);
  const std::vector<double> x = batch_input();
  const em::ModelOutput y = model.forward({x.data(), em::DType::float64, {4, kIn}});
  ASSERT_EQ(y.shape, (std::vector<std::int64_t>{4, kOut}));
  for (int b = 0; b < 4; ++b)
    for (int o = 0; o < kOut; ++o)
      EXPECT_NEAR(y.values[b * kOut + o], linear_tanh(&x[b * kIn], o), 1e-15);
}

TEST(TorchScriptModel, Float64InputIsConvertedForAFloat32Model) {
  aeolus::test::TempDir dir;
  save_test_model("linear_tanh", dir.file("m.pt"), torch::kFloat32);
  const em::TorchScriptModel model(dir.file("m.pt"));
  const std::vector<double> x = batch_input();
  std::vector<double> y(4 * kOut);
  model.forward({x.data(), em::DType::float64, {4, kIn}},
                {y.data(), em::DType::float64, {4, kOut}});
  for (int b = 0; b < 4; ++b)
    for (int o = 0; o < kOut; ++o) EXPECT_NEAR(y[b * kOut + o], linear_tanh(&x[b * kIn], o), 1e-6);
}

// A Fortran array x(4, 3) (batch first, as declared) is the model's [4, 3] input: element (b, k)
// at b + 4 k. The output y(4, 2) comes back in the same order.
TEST(TorchScriptModel, FortranOrderKeepsTheLogicalShape) {
  aeolus::test::TempDir dir;
  save_test_model("linear_tanh", dir.file("m.pt"), torch::kFloat64);
  const em::TorchScriptModel model(dir.file("m.pt"));
  const std::vector<double> xc = batch_input();
  std::vector<double> xf(xc.size());
  for (int b = 0; b < 4; ++b)
    for (int k = 0; k < kIn; ++k) xf[b + 4 * k] = xc[b * kIn + k];
  std::vector<double> yf(4 * kOut);
  model.forward({xf.data(), em::DType::float64, {4, kIn}, em::Layout::fortran},
                {yf.data(), em::DType::float64, {4, kOut}, em::Layout::fortran});
  for (int b = 0; b < 4; ++b)
    for (int o = 0; o < kOut; ++o) EXPECT_NEAR(yf[b + 4 * o], linear_tanh(&xc[b * kIn], o), 1e-15);
}

TEST(TorchScriptModel, Rank4AffineInBothLayouts) {
  aeolus::test::TempDir dir;
  save_test_model("affine", dir.file("a.pt"), torch::kFloat64);
  const em::TorchScriptModel model(dir.file("a.pt"));
  const std::vector<std::int64_t> shape{2, 3, 4, 5};
  std::vector<double> x(120), y(120);
  for (int i = 0; i < 120; ++i) x[i] = 0.01 * i - 0.5;
  for (em::Layout layout : {em::Layout::c, em::Layout::fortran}) {
    model.forward({x.data(), em::DType::float64, shape, layout},
                  {y.data(), em::DType::float64, shape, layout});
    for (int i = 0; i < 120; ++i) EXPECT_DOUBLE_EQ(y[i], 2 * x[i] + 1) << i;
  }
  // In place: the output is copied only after forward has read the input.
  y = x;
  model.forward({y.data(), em::DType::float64, shape}, {y.data(), em::DType::float64, shape});
  for (int i = 0; i < 120; ++i) EXPECT_DOUBLE_EQ(y[i], 2 * x[i] + 1) << i;
}

namespace {

// The output copy by the definition: element i (row-major multi-index) of src to its place in
// `layout`, converted with static_cast.
template <class S, class D>
std::vector<D> naive_copy(const std::vector<S>& src, const std::vector<std::int64_t>& shape,
                          em::Layout layout) {
  std::vector<D> out(src.size());
  std::vector<std::int64_t> index(shape.size(), 0);
  for (std::size_t c = 0; c < src.size(); ++c) {
    std::size_t at = c;
    if (layout == em::Layout::fortran) {
      at = 0;
      for (std::size_t k = shape.size(); k-- > 0;) at = at * shape[k] + index[k];
    }
    out[at] = static_cast<D>(src[c]);
    for (std::size_t k = shape.size(); k-- > 0;) {
      if (++index[k] < shape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

// detail::copy_array (forward's output copy, tiled in Fortran order) against naive_copy, bitwise.
template <class S, class D>
void expect_copy_as_naive(const std::vector<std::int64_t>& shape, std::mt19937& rng) {
  std::size_t n = 1;
  for (std::int64_t e : shape) n *= std::size_t(e);
  std::uniform_real_distribution<double> value(-1e3, 1e3);
  std::vector<S> src(n);
  for (S& v : src) v = static_cast<S>(value(rng));  // not exact in float32 when S is double
  const em::DType st = sizeof(S) == 4 ? em::DType::float32 : em::DType::float64;
  const em::DType dt = sizeof(D) == 4 ? em::DType::float32 : em::DType::float64;
  for (em::Layout layout : {em::Layout::c, em::Layout::fortran}) {
    const std::vector<D> want = naive_copy<S, D>(src, shape, layout);
    std::vector<D> got(n, D(-7));
    em::detail::copy_array(src.data(), st, got.data(), dt, shape.data(), shape.size(), layout);
    ASSERT_EQ(std::memcmp(got.data(), want.data(), n * sizeof(D)), 0)
        << em::shape_text(shape) << " " << em::dtype_name(st) << " -> " << em::dtype_name(dt)
        << (layout == em::Layout::c ? " C order" : " Fortran order");
  }
}

}  // namespace

TEST(TorchScriptModel, OutputCopyMatchesTheNaiveCopy) {
  std::mt19937 rng(19);
  std::vector<std::vector<std::int64_t>> shapes{
      {1},          {37},    {1, 1, 1},       {16, 16},     {17, 15},
      {1024, 16},   {1, 16}, {1, 36, 40, 40}, {2, 3, 4, 5}, {3, 1, 37, 1, 2},
      {37, 37, 37}, {0, 5},  {4, 0, 3}};
  std::uniform_int_distribution<int> rank(1, 5), extent(1, 37);
  while (shapes.size() < 400) {
    std::vector<std::int64_t> s(std::size_t(rank(rng)));
    std::int64_t n = 1;
    for (std::int64_t& e : s) n *= e = extent(rng);
    if (n <= 200000) shapes.push_back(s);
  }
  for (const std::vector<std::int64_t>& s : shapes) {
    expect_copy_as_naive<float, float>(s, rng);
    expect_copy_as_naive<float, double>(s, rng);
    expect_copy_as_naive<double, float>(s, rng);
    expect_copy_as_naive<double, double>(s, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(TorchScriptModel, MissingFileIsAnIoErrorNamingIt) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("absent.pt");
  const std::string msg = message_of<aeolus::IoError>([&] { em::TorchScriptModel m(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
  const std::string dir_msg =
      message_of<aeolus::IoError>([&] { em::TorchScriptModel m(dir.path()); });
  EXPECT_NE(dir_msg.find("model " + dir.path() + " is a directory"), std::string::npos) << dir_msg;
}

TEST(TorchScriptModel, NotAZipIsRefused) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("text.pt");
  std::ofstream(path) << "hello, I am not a model\n";
  const std::string msg = message_of<aeolus::ModelError>([&] { em::TorchScriptModel m(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a zip archive"), std::string::npos) << msg;
  std::ofstream(dir.file("empty.pt"));
  EXPECT_NE(message_of<aeolus::ModelError>([&] {
              em::TorchScriptModel m(dir.file("empty.pt"));
            }).find("is empty"),
            std::string::npos);
}

TEST(TorchScriptModel, TruncatedFileIsRefused) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("m.pt");
  save_test_model("linear_tanh", path);
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  const std::string msg = message_of<aeolus::ModelError>([&] { em::TorchScriptModel m(path); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(size / 2) + " bytes"), std::string::npos) << msg;
}

TEST(TorchScriptModel, ZipWithoutTorchScriptRecordsIsRefused) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("other.zip");
  aeolus::test::write_zip(path, {{"docs/readme.txt", "hello"}, {"docs/a.csv", "1,2\n"}});
  const std::string msg = message_of<aeolus::ModelError>([&] { em::TorchScriptModel m(path); });
  EXPECT_NE(msg.find("without a data.pkl record (2 records)"), std::string::npos) << msg;
}

TEST(TorchScriptModel, NewerFileFormatNamesBothVersions) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("future.pt");
  const std::int64_t future = em::max_torchscript_file_format() + 3;
  aeolus::test::write_zip(
      path, {{"future/data.pkl", "\x80\x02."}, {"future/version", std::to_string(future) + "\n"}});
  const std::string msg = message_of<aeolus::ModelError>([&] { em::TorchScriptModel m(path); });
  EXPECT_NE(msg.find("newer PyTorch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("file format version is " + std::to_string(future)), std::string::npos) << msg;
  EXPECT_NE(msg.find("LibTorch " + em::libtorch_version()), std::string::npos) << msg;
  EXPECT_NE(msg.find("to " + std::to_string(em::max_torchscript_file_format())), std::string::npos)
      << msg;
}

TEST(TorchScriptModel, InputShapeMismatchNamesTheShapes) {
  aeolus::test::TempDir dir;
  save_test_model("linear_tanh", dir.file("m.pt"));
  const em::TorchScriptModel model(dir.file("m.pt"));
  std::vector<float> x(4 * 5, 1.f), y(8);
  const std::string msg = message_of<aeolus::ModelError>([&] {
    model.forward({x.data(), em::DType::float32, {4, 5}}, {y.data(), em::DType::float32, {4, 2}});
  });
  EXPECT_NE(msg.find(dir.file("m.pt")), std::string::npos) << msg;
  EXPECT_NE(msg.find("input of shape [4, 5]"), std::string::npos) << msg;
  // LibTorch's own words name the model's side: a 4x5 input against the 3x2 weight.
  EXPECT_NE(msg.find("4x5 and 3x2"), std::string::npos) << msg;
}

TEST(TorchScriptModel, OutputShapeMismatchNamesBoth) {
  aeolus::test::TempDir dir;
  save_test_model("linear_tanh", dir.file("m.pt"));
  const em::TorchScriptModel model(dir.file("m.pt"));
  std::vector<float> x(4 * kIn, 1.f), y(12);
  const std::string msg = message_of<aeolus::ModelError>([&] {
    model.forward({x.data(), em::DType::float32, {4, kIn}}, {y.data(), em::DType::float32, {4, 3}});
  });
  EXPECT_NE(msg.find("output has shape [4, 2]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("output array has shape [4, 3]"), std::string::npos) << msg;
}

TEST(TorchScriptModel, TupleOutputIsRefused) {
  aeolus::test::TempDir dir;
  save_test_model("tuple", dir.file("t.pt"));
  const em::TorchScriptModel model(dir.file("t.pt"));
  std::vector<float> x(3, 1.f);
  const std::string msg = message_of<aeolus::ModelError>([&] {
    model.forward(em::ConstArrayRef{x.data(), em::DType::float32, {3}});
  });
  EXPECT_NE(msg.find("returned a Tuple; expected one tensor"), std::string::npos) << msg;
}

// What `aeolus train` writes for the flux CNN is a torch zip with weights and metadata but no
// forward method: refused with the format named.
TEST(TorchScriptModel, AeolusFluxCnnArchiveIsNamed) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("flux.pt");
  em::FluxCnnParams params;
  params.channels = 4;
  params.layers = 1;
  em::detail::FluxStencilNet net(params);
  em::detail::ModelSpec spec;
  spec.params = params;
  em::detail::save_model(path, net, spec);
  const std::string msg = message_of<aeolus::ModelError>([&] { em::TorchScriptModel m(path); });
  EXPECT_NE(msg.find("is an Aeolus model archive (format 'aeolus.flux_stencil_cnn')"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("no forward method"), std::string::npos) << msg;
}

TEST(TorchScriptModel, ModuleWithoutForwardIsRefused) {
  aeolus::test::TempDir dir;
  torch::jit::Module m("NoForward");
  m.register_parameter("w", torch::ones({2}), false);
  m.save(dir.file("nf.pt"));
  const std::string msg =
      message_of<aeolus::ModelError>([&] { em::TorchScriptModel model(dir.file("nf.pt")); });
  EXPECT_NE(msg.find("has no forward method: not an exported PyTorch model"), std::string::npos)
      << msg;
}
