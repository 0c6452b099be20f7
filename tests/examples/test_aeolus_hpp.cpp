// api/aeolus.hpp, the C++ layer over the C API, against the build tree (example_cpp_host runs
// it from the installed package): results, the exceptions' statuses and messages, moves, and
// its coexistence with Aeolus's own C++ headers in one translation unit. The Trainer on a known
// linear map (the loss by hand, its fall, save and load, restore), Model::output_shape and the
// thread count.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <fstream>
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

// The affine model y = a x + c (a = 2, c = 1 at the start) learns y = 3 x - 0.5 from exact data
// with SGD: the first loss by hand, a fall by more than 1e6 in 60 steps, the learned map.
TEST_F(AeolusHpp, TrainerLearnsALinearMapSavesAndRestores) {
  std::ofstream(dir_.file("train.yaml"))
      << "training:\n  optimizer: sgd\n  learning_rate: 0.2\n  momentum: 0.5\n  threads: 1\n";
  ae::Model model(dir_.file("affine.pt"));
  std::vector<double> x(16), target(16);
  double first_by_hand = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = -1.0 + 2.0 * double(i) / 15.0;
    target[i] = 3 * x[i] - 0.5;
    first_by_hand += (2 * x[i] + 1 - target[i]) * (2 * x[i] + 1 - target[i]) / 16;
  }
  const int start = ae::num_threads();
  ae::set_num_threads(2);
  ae::Trainer tr(model, dir_.file("train.yaml"), "training");
  EXPECT_EQ(ae::num_threads(), 1);  // the section's threads, set at creation
  EXPECT_EQ(tr.steps(), 0);
  std::vector<double> losses;
  for (int k = 0; k < 30; ++k) losses.push_back(tr.step(x, {16}, target, {16}));
  // The pointer overload, on the same data as a Fortran-order (4, 4) array (element-wise model).
  for (int k = 0; k < 30; ++k)
    losses.push_back(tr.step(x.data(), {4, 4}, target.data(), {4, 4}, ae::Layout::Fortran));
  EXPECT_NEAR(losses.front(), first_by_hand, 1e-14 * first_by_hand);
  EXPECT_LT(losses.back(), 1e-6 * losses.front()) << losses.front() << " -> " << losses.back();
  EXPECT_EQ(tr.steps(), 60);
  const std::vector<double> y = model.forward(x, {16}, {16});
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], target[i], 1e-6);

  // Saved and loaded, the model gives the trained outputs exactly; "" skips the state.
  tr.save(dir_.file("only_model.pt"), "");
  EXPECT_TRUE(std::filesystem::exists(dir_.file("only_model.pt")));
  tr.save(dir_.file("trained.pt"), dir_.file("trained.state"));
  ae::Model loaded(dir_.file("trained.pt"));
  EXPECT_EQ(loaded.forward(x, {16}, {16}), y);
  EXPECT_EQ(ae::Model(dir_.file("only_model.pt")).forward(x, {16}, {16}), y);

  // Restored into a trainer of the loaded model: the step count, and the next step is the
  // uninterrupted trainer's (momentum included), bitwise.
  ae::Trainer again(loaded, dir_.file("train.yaml"), "training");
  again.restore(dir_.file("trained.state"));
  EXPECT_EQ(again.steps(), 60);
  const std::vector<double> shifted_target = [&] {
    std::vector<double> t(target);
    for (double& v : t) v += 0.25;
    return t;
  }();
  EXPECT_EQ(again.step(x, {16}, shifted_target, {16}), tr.step(x, {16}, shifted_target, {16}));
  EXPECT_EQ(loaded.forward(x, {16}, {16}), model.forward(x, {16}, {16}));

  // The output's shape while the trainer lives: no step taken, the weights unchanged.
  const std::vector<double> before = model.forward(x, {16}, {16});
  EXPECT_EQ(model.output_shape({2, 8}), (ae::Shape{2, 8}));
  EXPECT_EQ(tr.steps(), 61);
  EXPECT_EQ(model.forward(x, {16}, {16}), before);
  ae::set_num_threads(start);
}

TEST_F(AeolusHpp, TrainerErrorsCarryTheStatusAndTheMessage) {
  std::ofstream(dir_.file("train.yaml")) << "training:\n  optimizer: sgd\n  learning_rate: 0.1\n";
  ae::Model model(dir_.file("affine.pt"));
  try {
    ae::Trainer wrong(model, dir_.file("train.yaml"), "trainig");
    FAIL() << "a missing section was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_CASE);
    EXPECT_TRUE(contains(e.what(), "no section 'trainig'")) << e.what();
    EXPECT_STREQ(e.what(), aeolus_last_error());
  }
  try {
    ae::Trainer missing(model, dir_.file("none.yaml"), "training");
    FAIL() << "a missing config file was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_IO);
    EXPECT_TRUE(contains(e.what(), dir_.file("none.yaml"))) << e.what();
  }
  ae::Trainer tr(model, dir_.file("train.yaml"), "training");
  try {
    ae::Trainer second(model, dir_.file("train.yaml"), "training");
    FAIL() << "a second trainer on one model was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_TRUE(contains(e.what(), "already has a trainer")) << e.what();
  }
  const std::vector<double> x{1, 2, 3, 4};
  try {  // checked by the C API: the target's shape against the output's
    tr.step(x, {4}, std::vector<double>{1, 2}, {2});
    FAIL() << "a target of another shape was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_TRUE(contains(e.what(),
                         "aeolus_trainer_step: target has shape [2]; expected the "
                         "model's output shape [4]"))
        << e.what();
    EXPECT_STREQ(e.what(), aeolus_last_error());
  }
  try {  // checked by the wrapper before the C call
    tr.step(x, {4}, std::vector<double>(3), {4});
    FAIL() << "3 elements for a shape [4] were accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_STREQ(e.what(),
                 "aeolus::host::Trainer::step: target has 3 elements; its shape [4] needs 4");
  }
  try {
    tr.restore(dir_.file("none.state"));
    FAIL() << "a missing state file was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_IO);
  }
  EXPECT_EQ(tr.steps(), 0);  // no refused call took a step

  // Moves: the handle goes along, the moved-to trainer steps on.
  aeolus_trainer* const handle = tr.get();
  ae::Trainer moved(std::move(tr));
  EXPECT_EQ(tr.get(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.get(), handle);
  const std::vector<double> t{3, 5, 7, 9};  // y = 2 x + 1 exactly: loss 0
  EXPECT_EQ(moved.step(x, {4}, t, {4}), 0.0);
  EXPECT_EQ(moved.steps(), 1);
}

TEST_F(AeolusHpp, OutputShapeAndThreads) {
  aeolus::test::save_test_model("linear_tanh", dir_.file("lin.pt"), torch::kFloat64);
  const ae::Model lin(dir_.file("lin.pt"));
  for (auto layout : {ae::Layout::C, ae::Layout::Fortran}) {
    EXPECT_EQ(lin.output_shape({4, 3}, layout), (ae::Shape{4, 2}));
    EXPECT_EQ(lin.output_shape({6, 1, 3}, layout), (ae::Shape{6, 1, 2}));
  }
  try {
    lin.output_shape({4, 5});
    FAIL() << "a shape the model does not take was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_MODEL);
    EXPECT_TRUE(contains(e.what(), "forward failed on an input of shape [4, 5] (float64)"))
        << e.what();
    EXPECT_TRUE(contains(e.what(), "4x5 and 3x2")) << e.what();
  }
  try {
    lin.output_shape({});
    FAIL() << "rank 0 was accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_STREQ(e.what(), "aeolus_model_output_shape: in_rank = 0; expected 1 to 8");
  }

  const int start = ae::num_threads();
  ae::set_num_threads(3);
  EXPECT_EQ(ae::num_threads(), 3);
  try {
    ae::set_num_threads(0);
    FAIL() << "0 threads were accepted";
  } catch (const ae::Error& e) {
    EXPECT_EQ(e.status(), AEOLUS_ERROR_ARGUMENT);
    EXPECT_STREQ(e.what(), "aeolus_set_num_threads: n = 0; expected a thread count >= 1");
  }
  EXPECT_EQ(ae::num_threads(), 3);
  ae::set_num_threads(start);
}

}  // namespace
