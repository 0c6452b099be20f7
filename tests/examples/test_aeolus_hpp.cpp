// api/aeolus.hpp, the C++ layer over the C API, against the build tree (example_cpp_host runs
// it from the installed package): results, the exceptions' statuses and messages, moves, and
// its coexistence with Aeolus's own C++ headers in one translation unit.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "aeolus.hpp"
#include "api/test_models.hpp"
#include "common/temp_dir.hpp"
#include "grids/error.hpp"      // aeolus::Error: another class than aeolus::host::Error
#include "solvers/stepper.hpp"  // aeolus::Stepper: another class than aeolus::host::Stepper

namespace {

namespace ae = aeolus::host;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class AeolusHpp : public ::testing::Test {
 protected:
  void SetUp() override {
    aeolus::test::save_test_model("affine", dir_.file("affine.pt"), torch::kFloat64);
  }
  aeolus::test::TempDir dir_;
};

TEST_F(AeolusHpp, VersionIsTheCApis) {
  int major = -1, minor = -1, patch = -1;
  ASSERT_EQ(aeolus_version(&major, &minor, &patch), AEOLUS_OK);
  const ae::Version v = ae::version();
  EXPECT_EQ(v.major, major);
  EXPECT_EQ(v.minor, minor);
  EXPECT_EQ(v.patch, patch);
}

TEST_F(AeolusHpp, ModelForwardsVectorsAndPointersInBothLayouts) {
  const ae::Model model(dir_.file("affine.pt"));
  const std::vector<double> x{-1.5, 0.0, 0.25, 3.0, 1e3, -7.0};
  for (auto layout : {ae::Layout::C, ae::Layout::Fortran}) {
    const std::vector<double> y = model.forward(x, {2, 3}, {2, 3}, layout);
    ASSERT_EQ(y.size(), x.size());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], 2 * x[i] + 1);
  }
  // float32 arrays on float64 parameters (converted both ways; exact for these values).
  const float xf[4] = {1.0f, -2.5f, 0.5f, 8.0f};
  float yf[4] = {0, 0, 0, 0};
  model.forward(xf, {4}, yf, {4});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(yf[i], 2 * xf[i] + 1);
}

TEST_F(AeolusHpp, ErrorsCarryTheStatusAndTheMessage) {
  try {
    ae::Model missing(dir_.file("nope.pt"));
    FAIL() << "a missing file was loaded";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_IO);
    EXPECT_TRUE(contains(e.what(), dir_.file("nope.pt") + " does not exist")) << e.what();
    EXPECT_STREQ(e.what(), aeolus_last_error());
  }
  const ae::Model model(dir_.file("affine.pt"));
  try {  // checked by the wrapper before the C call
    model.forward(std::vector<double>(5), {2, 3}, {2, 3});
    FAIL() << "5 elements for a shape [2, 3] were accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_STREQ(e.what(),
                 "aeolus::host::Model::forward: in has 5 elements; its shape [2, 3] needs 6");
  }
  try {  // checked by the C API: the output's shape
    model.forward(std::vector<double>(6), {2, 3}, {3, 2});
    FAIL() << "a wrong output shape was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_MODEL);
    EXPECT_TRUE(contains(e.what(), "output has shape [2, 3]")) << e.what();
  }
  // Aeolus's own aeolus::Error is another type: not caught as aeolus::host::Error.
  bool caught_as_host = false, caught_as_runtime = false;
  try {
    throw aeolus::Error("internal");
  } catch (const ae::Error&) {
    caught_as_host = true;
  } catch (const std::runtime_error&) {
    caught_as_runtime = true;
  }
  EXPECT_FALSE(caught_as_host);
  EXPECT_TRUE(caught_as_runtime);
}

TEST_F(AeolusHpp, ModelsMove) {
  ae::Model a(dir_.file("affine.pt"));
  aeolus_model* const handle = a.get();
  ae::Model b(std::move(a));
  EXPECT_EQ(a.get(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from state is defined
  EXPECT_EQ(b.get(), handle);
  ae::Model c(dir_.file("affine.pt"));
  c = std::move(b);
  EXPECT_EQ(c.get(), handle);
  EXPECT_EQ(c.forward(std::vector<double>{3.0}, {1}, {1}), std::vector<double>{7.0});
}

// The classical stepper of examples/cpp-host/case on MPI_COMM_SELF (the whole grid per rank).
TEST_F(AeolusHpp, StepperStepsVectorsAndRefusesByName) {
  const std::string case_dir = AEOLUS_SOURCE_DIR "/examples/cpp-host/case";
  const int self = MPI_Comm_c2f(MPI_COMM_SELF);
  ae::Stepper st(case_dir, self, {32, 32}, {0, 0}, {32, 32});
  EXPECT_EQ(st.name(), "classical");
  EXPECT_FALSE(st.fixed_step());
  std::vector<double> q(32 * 32, 0.0);
  for (int j = 8; j < 16; ++j)
    for (int i = 8; i < 16; ++i) q[size_t(j * 32 + i)] = 1.0;
  double t = 0, mass0 = 0, mass = 0;
  for (double v : q) mass0 += v;
  for (int k = 0; k < 4; ++k) {
    const double dt = st.max_dt(q, t);
    EXPECT_GT(dt, 0);
    const double t0 = t;
    EXPECT_EQ(st.step(q, t, dt), dt);
    EXPECT_EQ(t, t0 + dt);
  }
  for (double v : q) mass += v;
  EXPECT_LT(std::abs(mass - mass0) / mass0, 1e-13);

  std::vector<double> short_q(q.size() - 1);
  try {
    st.step(short_q, t, 1e-3);
    FAIL() << "an array one element short was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_TRUE(contains(e.what(), "q has shape [1023]; expected 1024 elements")) << e.what();
  }
  try {
    ae::Stepper wrong(case_dir, self, {32, 32}, {0}, {32, 32});
    FAIL() << "a start with one entry for two dimensions was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_TRUE(contains(e.what(), "start [0]")) << e.what();
  }
  try {
    ae::Stepper missing(dir_.file("no_case"), self, {32, 32}, {0, 0}, {32, 32});
    FAIL() << "a missing case directory was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_IO);
  }
  ae::Stepper moved(std::move(st));
  EXPECT_EQ(st.get(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.name(), "classical");
}

}  // namespace
