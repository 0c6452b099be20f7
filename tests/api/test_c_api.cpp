// The C API (api/aeolus.h) through its C calls only: the happy path in both layouts and dtypes
// against hand arithmetic, and every refusal with its status and message.
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
