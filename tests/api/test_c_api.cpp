// The C API (api/aeolus.h) through its C calls only: the happy path in both layouts and dtypes
// against hand arithmetic, and every refusal with its status and message. Also the output shape
// of a model before forward (aeolus_model_output_shape) and LibTorch's thread count
// (aeolus_set_num_threads, aeolus_get_num_threads).
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "aeolus.h"
#include "api/test_models.hpp"
#include "common/temp_dir.hpp"

using aeolus::test::batch_input;
using aeolus::test::kIn;
using aeolus::test::kOut;
using aeolus::test::linear_tanh;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// A linear_tanh model (float64 parameters) loaded through the C API for the forward tests.
class CApiForward : public ::testing::Test {
 protected:
  void SetUp() override {
    aeolus::test::save_test_model("linear_tanh", dir_.file("m.pt"), torch::kFloat64);
    ASSERT_EQ(aeolus_model_load(dir_.file("m.pt").c_str(), &model_), AEOLUS_OK)
        << aeolus_last_error();
  }
  void TearDown() override { EXPECT_EQ(aeolus_model_free(model_), AEOLUS_OK); }

  // Forward with the given arguments; the output is y_ (4 x 2 doubles, set to -7 first).
  aeolus_status call(const void* in, int in_rank, const int64_t* in_shape, aeolus_dtype dtype,
                     aeolus_layout layout, int out_rank, const int64_t* out_shape,
                     void* out = nullptr) {
    y_.assign(8, -7.0);
    return aeolus_model_forward(model_, in, in_rank, in_shape, dtype, layout, out ? out : y_.data(),
                                out_rank, out_shape);
  }
  // Expects status `status`, an unchanged output and a message containing every part.
  void expect_refused(aeolus_status got, aeolus_status status,
                      const std::vector<std::string>& parts) {
    EXPECT_EQ(got, status);
    const std::string msg = aeolus_last_error();
    EXPECT_TRUE(contains(msg, "aeolus_model_forward: ")) << msg;
    for (const std::string& p : parts) EXPECT_TRUE(contains(msg, p)) << msg << "\nlacks: " << p;
    for (double v : y_) EXPECT_EQ(v, -7.0);
  }

  aeolus::test::TempDir dir_;
  aeolus_model* model_ = nullptr;
  std::vector<double> x_ = batch_input();
  std::vector<double> y_;
  const int64_t in_shape_[2] = {4, kIn};
  const int64_t out_shape_[2] = {4, kOut};
};

}  // namespace

TEST(CApi, Version) {
  int major = -1, minor = -1, patch = -1;
  ASSERT_EQ(aeolus_version(&major, &minor, &patch), AEOLUS_OK);
  EXPECT_EQ(major, AEOLUS_TEST_VERSION_MAJOR);
  EXPECT_EQ(minor, AEOLUS_TEST_VERSION_MINOR);
  EXPECT_EQ(patch, AEOLUS_TEST_VERSION_PATCH);
  EXPECT_EQ(aeolus_version(nullptr, &minor, &patch), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(), "aeolus_version: major is NULL; expected a pointer to an int");
}

TEST_F(CApiForward, RowMajorFloat64) {
  ASSERT_EQ(call(x_.data(), 2, in_shape_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out_shape_),
            AEOLUS_OK)
      << aeolus_last_error();
  for (int b = 0; b < 4; ++b)
    for (int o = 0; o < kOut; ++o)
      EXPECT_NEAR(y_[b * kOut + o], linear_tanh(&x_[b * kIn], o), 1e-15);
}

// x(4, 3) and y(4, 2) as a Fortran host holds them: element (b, k) at b + 4 k.
TEST_F(CApiForward, ColumnMajorFloat32) {
  std::vector<float> xf(4 * kIn), yf(4 * kOut, -7.f);
  for (int b = 0; b < 4; ++b)
    for (int k = 0; k < kIn; ++k) xf[b + 4 * k] = float(x_[b * kIn + k]);
  ASSERT_EQ(aeolus_model_forward(model_, xf.data(), 2, in_shape_, AEOLUS_FLOAT32,
                                 AEOLUS_LAYOUT_FORTRAN, yf.data(), 2, out_shape_),
            AEOLUS_OK)
      << aeolus_last_error();
  for (int b = 0; b < 4; ++b) {
    double xb[kIn];
    for (int k = 0; k < kIn; ++k) xb[k] = xf[b + 4 * k];
    for (int o = 0; o < kOut; ++o) EXPECT_NEAR(yf[b + 4 * o], linear_tanh(xb, o), 1e-6);
  }
}

TEST_F(CApiForward, NullPointers) {
  const int64_t* s = in_shape_;
  expect_refused(aeolus_model_forward(nullptr, x_.data(), 2, s, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C,
                                      y_.data(), 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT,
                 {"model is NULL; expected a handle from aeolus_model_load"});
  expect_refused(call(nullptr, 2, s, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT, {"in is NULL; expected the input array"});
  expect_refused(call(x_.data(), 2, nullptr, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT, {"in_shape is NULL"});
  expect_refused(call(x_.data(), 2, s, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, nullptr),
                 AEOLUS_ERROR_ARGUMENT, {"out_shape is NULL"});
  EXPECT_EQ(aeolus_model_forward(model_, x_.data(), 2, s, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, nullptr,
                                 2, out_shape_),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(), "aeolus_model_forward: out is NULL; expected the output array");
}

TEST_F(CApiForward, RanksOutOfRange) {
  expect_refused(call(x_.data(), 0, in_shape_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT, {"in_rank = 0; expected 1 to 8"});
  const int64_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 4, 3};
  expect_refused(call(x_.data(), 9, nine, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT, {"in_rank = 9; expected 1 to 8"});
  expect_refused(call(x_.data(), 2, in_shape_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, -1, out_shape_),
                 AEOLUS_ERROR_ARGUMENT, {"out_rank = -1; expected 1 to 8"});
}

TEST_F(CApiForward, NegativeExtent) {
  const int64_t bad[2] = {4, -3};
  expect_refused(call(x_.data(), 2, bad, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT,
                 {"in_shape[1] = -3 (shape [4, -3]); expected an extent >= 0"});
}

TEST_F(CApiForward, UnknownDtypeAndLayout) {
  expect_refused(call(x_.data(), 2, in_shape_, 7, AEOLUS_LAYOUT_C, 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT,
                 {"dtype = 7; expected AEOLUS_FLOAT32 (1) or AEOLUS_FLOAT64 (2)"});
  expect_refused(call(x_.data(), 2, in_shape_, AEOLUS_FLOAT64, 0, 2, out_shape_),
                 AEOLUS_ERROR_ARGUMENT,
                 {"layout = 0; expected AEOLUS_LAYOUT_C (1) or AEOLUS_LAYOUT_FORTRAN (2)"});
}

TEST_F(CApiForward, OutputShapeNotTheModels) {
  const int64_t out3[2] = {4, 3};
  std::vector<double> big(12, -7.0);
  EXPECT_EQ(call(x_.data(), 2, in_shape_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out3, big.data()),
            AEOLUS_ERROR_MODEL);
  const std::string msg = aeolus_last_error();
  EXPECT_TRUE(contains(msg, "output has shape [4, 2] for an input of shape [4, 3]")) << msg;
  EXPECT_TRUE(contains(msg, "output array has shape [4, 3]")) << msg;
  for (double v : big) EXPECT_EQ(v, -7.0);
  const int64_t flat[1] = {8};
  expect_refused(call(x_.data(), 2, in_shape_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 1, flat),
                 AEOLUS_ERROR_MODEL, {"output has shape [4, 2]", "output array has shape [8]"});
}

TEST_F(CApiForward, InputShapeTheModelDoesNotTake) {
  const int64_t in5[2] = {2, 6};  // 12 values, as many as [4, 3]
  expect_refused(call(x_.data(), 2, in5, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, 2, out_shape_),
                 AEOLUS_ERROR_MODEL,
                 {"forward failed on an input of shape [2, 6] (float64)", "2x6 and 3x2"});
}

TEST(CApi, LoadRefusals) {
  aeolus::test::TempDir dir;
  aeolus_model* m = reinterpret_cast<aeolus_model*>(&dir);  // must come back NULL
  EXPECT_EQ(aeolus_model_load(nullptr, &m), AEOLUS_ERROR_ARGUMENT);
  EXPECT_EQ(m, nullptr);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_model_load: path is NULL; expected the model file's path");
  EXPECT_EQ(aeolus_model_load("m.pt", nullptr), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "out is NULL; expected a pointer to an aeolus_model*"));
  EXPECT_EQ(aeolus_model_load("", &m), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "path is \"\"; expected a file name"));

  const std::string missing = dir.file("missing.pt");
  EXPECT_EQ(aeolus_model_load(missing.c_str(), &m), AEOLUS_ERROR_IO);
  EXPECT_EQ(m, nullptr);
  EXPECT_TRUE(contains(aeolus_last_error(), "model " + missing + " does not exist"))
      << aeolus_last_error();

  std::ofstream(dir.file("junk.pt")) << "not a model";
  EXPECT_EQ(aeolus_model_load(dir.file("junk.pt").c_str(), &m), AEOLUS_ERROR_MODEL);
  EXPECT_TRUE(contains(aeolus_last_error(), "not a zip archive")) << aeolus_last_error();

  aeolus::test::write_zip(dir.file("future.pt"),
                          {{"future/data.pkl", "\x80\x02."}, {"future/version", "99\n"}});
  EXPECT_EQ(aeolus_model_load(dir.file("future.pt").c_str(), &m), AEOLUS_ERROR_MODEL);
  EXPECT_TRUE(contains(aeolus_last_error(), "newer PyTorch")) << aeolus_last_error();
  EXPECT_TRUE(contains(aeolus_last_error(), "file format version is 99")) << aeolus_last_error();
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(aeolus_model_free(nullptr), AEOLUS_OK);
}

// The last error belongs to the thread whose call failed.
TEST(CApi, LastErrorIsPerThread) {
  aeolus_model* m = nullptr;
  ASSERT_EQ(aeolus_model_load(nullptr, &m), AEOLUS_ERROR_ARGUMENT);
  const std::string mine = aeolus_last_error();
  std::string theirs;
  std::thread other([&] {
    theirs = aeolus_last_error();  // nothing failed on this thread yet
    aeolus_version(nullptr, nullptr, nullptr);
  });
  other.join();
  EXPECT_EQ(theirs, "");
  EXPECT_EQ(std::string(aeolus_last_error()), mine);
}

namespace {

// A module with one float64 parameter (so its dtype is float64) and the given forward.
void save_module(const std::string& path, const std::string& forward) {
  torch::jit::Module m("TestModel");
  m.register_parameter("a", torch::ones({1}, torch::TensorOptions().dtype(torch::kFloat64)), false);
  m.define(forward);
  m.save(path);
}

std::vector<int64_t> as_vector(const int64_t* shape, int rank) {
  return std::vector<int64_t>(shape, shape + rank);
}

class CApiOutputShape : public ::testing::Test {
 protected:
  void SetUp() override {
    aeolus::test::save_test_model("linear_tanh", dir_.file("lin.pt"), torch::kFloat64);
    aeolus::test::save_test_model("affine", dir_.file("affine.pt"), torch::kFloat32);
    ASSERT_EQ(aeolus_model_load(dir_.file("lin.pt").c_str(), &lin_), AEOLUS_OK);
    ASSERT_EQ(aeolus_model_load(dir_.file("affine.pt").c_str(), &affine_), AEOLUS_OK);
  }
  void TearDown() override {
    EXPECT_EQ(aeolus_model_free(lin_), AEOLUS_OK);
    EXPECT_EQ(aeolus_model_free(affine_), AEOLUS_OK);
  }
  // The output shape for `in` (sentinels -5 and -9 first, checked untouched on errors).
  aeolus_status shape_of(aeolus_model* m, const std::vector<int64_t>& in, aeolus_layout layout) {
    rank_ = -5;
    std::fill(out_, out_ + AEOLUS_MAX_RANK, -9);
    return aeolus_model_output_shape(m, int(in.size()), in.data(), layout, &rank_, out_);
  }
  void expect_refused(aeolus_status got, aeolus_status status,
                      const std::vector<std::string>& parts) {
    EXPECT_EQ(got, status);
    const std::string msg = aeolus_last_error();
    EXPECT_TRUE(contains(msg, "aeolus_model_output_shape: ")) << msg;
    for (const std::string& p : parts) EXPECT_TRUE(contains(msg, p)) << msg << "\nlacks: " << p;
    EXPECT_EQ(rank_, -5);
    for (int64_t e : out_) EXPECT_EQ(e, -9);
  }

  aeolus::test::TempDir dir_;
  aeolus_model* lin_ = nullptr;
  aeolus_model* affine_ = nullptr;
  int rank_ = -5;
  int64_t out_[AEOLUS_MAX_RANK];
};

}  // namespace

// y = tanh(x W^T + b) maps the last extent 3 to 2 and keeps the others; y = 2 x + 1 keeps the
// shape. The same logical shapes in both layouts.
TEST_F(CApiOutputShape, ByHandForBatchSizesRanksAndLayouts) {
  for (aeolus_layout layout : {AEOLUS_LAYOUT_C, AEOLUS_LAYOUT_FORTRAN}) {
    for (int64_t b : {1, 4, 7, 0}) {
      ASSERT_EQ(shape_of(lin_, {b, kIn}, layout), AEOLUS_OK) << aeolus_last_error();
      EXPECT_EQ(as_vector(out_, rank_), (std::vector<int64_t>{b, kOut})) << "layout " << layout;
      for (int k = rank_; k < AEOLUS_MAX_RANK; ++k) EXPECT_EQ(out_[k], -9);  // left as they were
      ASSERT_EQ(shape_of(lin_, {5, b, kIn}, layout), AEOLUS_OK) << aeolus_last_error();
      EXPECT_EQ(as_vector(out_, rank_), (std::vector<int64_t>{5, b, kOut}));
      ASSERT_EQ(shape_of(lin_, {kIn}, layout), AEOLUS_OK) << aeolus_last_error();
      EXPECT_EQ(as_vector(out_, rank_), (std::vector<int64_t>{kOut}));
    }
    const std::vector<int64_t> eight{2, 1, 3, 1, 2, 1, 1, 4};
    ASSERT_EQ(shape_of(affine_, eight, layout), AEOLUS_OK) << aeolus_last_error();
    EXPECT_EQ(as_vector(out_, rank_), eight);
  }
}

// The shape it gives is the one forward takes: forward with it writes the hand values.
TEST_F(CApiOutputShape, ForwardTakesTheShapeItGives) {
  const std::vector<double> x = batch_input();
  ASSERT_EQ(shape_of(lin_, {4, kIn}, AEOLUS_LAYOUT_C), AEOLUS_OK);
  std::vector<double> y(size_t(out_[0] * out_[1]), -7.0);
  const int64_t in_shape[2] = {4, kIn};
  ASSERT_EQ(aeolus_model_forward(lin_, x.data(), 2, in_shape, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C,
                                 y.data(), rank_, out_),
            AEOLUS_OK)
      << aeolus_last_error();
  for (int b = 0; b < 4; ++b)
    for (int o = 0; o < kOut; ++o) EXPECT_NEAR(y[b * kOut + o], linear_tanh(&x[b * kIn], o), 1e-15);
}

TEST_F(CApiOutputShape, ShapeTheModelDoesNotTake) {
  expect_refused(shape_of(lin_, {4, 5}, AEOLUS_LAYOUT_C), AEOLUS_ERROR_MODEL,
                 {"lin.pt: forward failed on an input of shape [4, 5] (float64)", "4x5 and 3x2"});
  expect_refused(shape_of(lin_, {4, 5}, AEOLUS_LAYOUT_FORTRAN), AEOLUS_ERROR_MODEL,
                 {"forward failed on an input of shape [4, 5] (float64)", "4x5 and 3x2"});
}

// x.view(-1) takes a contiguous (C-order) [4, 3] but not its Fortran-order view: the zeros are
// laid out as the layout lays out the caller's array, so the shape fails where forward would.
TEST_F(CApiOutputShape, FailsWhereForwardFailsForTheLayout) {
  save_module(dir_.file("flat.pt"), "def forward(self, x):\n    return x.view([-1]) * self.a\n");
  aeolus_model* flat = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("flat.pt").c_str(), &flat), AEOLUS_OK);
  ASSERT_EQ(shape_of(flat, {4, 3}, AEOLUS_LAYOUT_C), AEOLUS_OK) << aeolus_last_error();
  EXPECT_EQ(as_vector(out_, rank_), (std::vector<int64_t>{12}));
  expect_refused(shape_of(flat, {4, 3}, AEOLUS_LAYOUT_FORTRAN), AEOLUS_ERROR_MODEL,
                 {"forward failed on an input of shape [4, 3] (float64)", "view"});
  const std::string mine = aeolus_last_error();
  const std::vector<double> x(12, 1.0);
  std::vector<double> y(12, -7.0);
  const int64_t in_shape[2] = {4, 3}, out_shape[1] = {12};
  EXPECT_EQ(aeolus_model_forward(flat, x.data(), 2, in_shape, AEOLUS_FLOAT64, AEOLUS_LAYOUT_FORTRAN,
                                 y.data(), 1, out_shape),
            AEOLUS_ERROR_MODEL);
  // The same reason after the call's name.
  const std::string forwards = aeolus_last_error();
  EXPECT_EQ(mine.substr(mine.find(": ")), forwards.substr(forwards.find(": "))) << forwards;
  EXPECT_EQ(aeolus_model_free(flat), AEOLUS_OK);
}

TEST_F(CApiOutputShape, OutputRanksForwardCannotWrite) {
  save_module(dir_.file("nine.pt"),
              "def forward(self, x):\n    return x.reshape([1, 1, 1, 1, 1, 1, 1, 1, -1])\n");
  save_module(dir_.file("sum.pt"), "def forward(self, x):\n    return x.sum()\n");
  save_module(dir_.file("pair.pt"), "def forward(self, x):\n    return (x, x)\n");
  aeolus_model *nine = nullptr, *sum = nullptr, *pair = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("nine.pt").c_str(), &nine), AEOLUS_OK);
  ASSERT_EQ(aeolus_model_load(dir_.file("sum.pt").c_str(), &sum), AEOLUS_OK);
  ASSERT_EQ(aeolus_model_load(dir_.file("pair.pt").c_str(), &pair), AEOLUS_OK);
  expect_refused(shape_of(nine, {6}, AEOLUS_LAYOUT_C), AEOLUS_ERROR_MODEL,
                 {"output has rank 9 (shape [1, 1, 1, 1, 1, 1, 1, 1, 6]) for an input of shape "
                  "[6]; expected rank 1 to 8 (AEOLUS_MAX_RANK)"});
  expect_refused(shape_of(sum, {2, 3}, AEOLUS_LAYOUT_C), AEOLUS_ERROR_MODEL,
                 {"output has rank 0 (a scalar) for an input of shape [2, 3]; expected rank 1 to "
                  "8"});
  expect_refused(shape_of(pair, {2, 3}, AEOLUS_LAYOUT_C), AEOLUS_ERROR_MODEL,
                 {"forward returned a Tuple; expected one tensor"});
  for (aeolus_model* m : {nine, sum, pair}) EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
}

TEST_F(CApiOutputShape, ArgumentRefusals) {
  expect_refused(shape_of(nullptr, {4, kIn}, AEOLUS_LAYOUT_C), AEOLUS_ERROR_ARGUMENT,
                 {"model is NULL; expected a handle from aeolus_model_load"});
  expect_refused(shape_of(lin_, {}, AEOLUS_LAYOUT_C), AEOLUS_ERROR_ARGUMENT,
                 {"in_rank = 0; expected 1 to 8"});
  expect_refused(shape_of(lin_, {1, 1, 1, 1, 1, 1, 1, 4, 3}, AEOLUS_LAYOUT_C),
                 AEOLUS_ERROR_ARGUMENT, {"in_rank = 9; expected 1 to 8"});
  expect_refused(shape_of(lin_, {4, -3}, AEOLUS_LAYOUT_C), AEOLUS_ERROR_ARGUMENT,
                 {"in_shape[1] = -3 (shape [4, -3]); expected an extent >= 0"});
  expect_refused(shape_of(lin_, {4, kIn}, 3), AEOLUS_ERROR_ARGUMENT,
                 {"layout = 3; expected AEOLUS_LAYOUT_C (1) or AEOLUS_LAYOUT_FORTRAN (2)"});
  const int64_t in[2] = {4, kIn};
  EXPECT_EQ(aeolus_model_output_shape(lin_, 2, nullptr, AEOLUS_LAYOUT_C, &rank_, out_),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_model_output_shape: in_shape is NULL; expected an array of extents");
  EXPECT_EQ(aeolus_model_output_shape(lin_, 2, in, AEOLUS_LAYOUT_C, nullptr, out_),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_model_output_shape: out_rank is NULL; expected a pointer to an int to "
               "receive the output's rank");
  EXPECT_EQ(aeolus_model_output_shape(lin_, 2, in, AEOLUS_LAYOUT_C, &rank_, nullptr),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_model_output_shape: out_shape is NULL; expected an array of "
               "AEOLUS_MAX_RANK extents");
}

// LibTorch's intra-op threads: the C calls read and write LibTorch's own setting (at::), a
// thread started after a set sees it, and n < 1 is refused with the setting unchanged.
TEST(CApi, NumThreads) {
  int start = -1;
  ASSERT_EQ(aeolus_get_num_threads(&start), AEOLUS_OK) << aeolus_last_error();
  EXPECT_EQ(start, at::get_num_threads());
  EXPECT_GE(start, 1);
  ::testing::Test::RecordProperty("libtorch_threads_at_start", start);
  for (int n : {2, 1, 3}) {
    ASSERT_EQ(aeolus_set_num_threads(n), AEOLUS_OK) << aeolus_last_error();
    int got = -1;
    ASSERT_EQ(aeolus_get_num_threads(&got), AEOLUS_OK);
    EXPECT_EQ(got, n);
    EXPECT_EQ(at::get_num_threads(), n);
  }
  at::set_num_threads(2);  // set by LibTorch itself: read back through the C API
  int got = -1;
  ASSERT_EQ(aeolus_get_num_threads(&got), AEOLUS_OK);
  EXPECT_EQ(got, 2);
  int in_thread = -1;
  std::thread([&] { aeolus_get_num_threads(&in_thread); }).join();
  EXPECT_EQ(in_thread, 2);

  EXPECT_EQ(aeolus_set_num_threads(0), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(), "aeolus_set_num_threads: n = 0; expected a thread count >= 1");
  EXPECT_EQ(aeolus_set_num_threads(-1), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(), "aeolus_set_num_threads: n = -1; expected a thread count >= 1");
  ASSERT_EQ(aeolus_get_num_threads(&got), AEOLUS_OK);
  EXPECT_EQ(got, 2);  // unchanged by the refusals
  EXPECT_EQ(aeolus_get_num_threads(nullptr), AEOLUS_ERROR_ARGUMENT);
  EXPECT_STREQ(aeolus_last_error(),
               "aeolus_get_num_threads: n is NULL; expected a pointer to an int");
  ASSERT_EQ(aeolus_set_num_threads(start), AEOLUS_OK);
}
