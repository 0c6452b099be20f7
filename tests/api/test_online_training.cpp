// Online training through the C API (aeolus_trainer_*), one process, AEOLUS_COMM_NONE: a linear
// model learns a known linear map from exact data; single steps against hand arithmetic (SGD,
// weight decay, the gradient clip, Adam); save, load, save + restore against an uninterrupted
// run; every refusal with its status and message; nothing printed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "aeolus.h"
#include "api/test_online_training_model.hpp"
#include "common/temp_dir.hpp"

using namespace aeolus::test;

namespace {

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

constexpr int kRows = 8;

class OnlineTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    save_linear_model(dir_.file("m0.pt"), kW0, kB0);
    x_ = linear_inputs(kRows);
    t_ = linear_targets(x_, kWTrue, kBTrue);
  }
  void TearDown() override {
    EXPECT_EQ(aeolus_trainer_free(tr_), AEOLUS_OK);
    EXPECT_EQ(aeolus_model_free(model_), AEOLUS_OK) << aeolus_last_error();
  }

  // The model m0.pt and a trainer with the settings `yaml` (the mapping under "training").
  void make(const std::string& yaml, const std::string& model = "m0.pt") {
    write_text(dir_.file("train.yaml"), "training:\n" + yaml);
    ASSERT_EQ(aeolus_model_load(dir_.file(model).c_str(), &model_), AEOLUS_OK)
        << aeolus_last_error();
    // Forwards before the trainer (LibTorch's executor optimises its plan after the first
    // runs): training must not depend on what ran before.
    for (int k = 0; k < 3; ++k) ASSERT_EQ(linear_parameters(model_).size(), 8u);
    ASSERT_EQ(aeolus_trainer_create(model_, dir_.file("train.yaml").c_str(), "training",
                                    AEOLUS_COMM_NONE, &tr_),
              AEOLUS_OK)
        << aeolus_last_error();
  }

  aeolus_status step(double* loss, aeolus_trainer* tr = nullptr) {
    return aeolus_trainer_step(tr ? tr : tr_, x_.data(), 2, xs_, t_.data(), 2, ts_, AEOLUS_FLOAT64,
                               AEOLUS_LAYOUT_C, loss);
  }

  // The MSE loss of (w, b) on the data and its gradients (dW row major, then db).
  double mse(const std::vector<double>& p, std::vector<double>& grad) const {
    const std::vector<double> w(p.begin(), p.begin() + kLout * kLin),
        b(p.begin() + kLout * kLin, p.end());
    const std::vector<double> y = linear_targets(x_, w, b);
    const double n = double(kRows * kLout);
    double loss = 0;
    grad.assign(p.size(), 0.0);
    for (int r = 0; r < kRows; ++r)
      for (int o = 0; o < kLout; ++o) {
        const double e = y[size_t(r * kLout + o)] - t_[size_t(r * kLout + o)];
        loss += e * e / n;
        for (int k = 0; k < kLin; ++k)
          grad[size_t(o * kLin + k)] += 2 * e * x_[size_t(r * kLin + k)] / n;
        grad[size_t(kLout * kLin + o)] += 2 * e / n;
      }
    return loss;
  }

  std::vector<double> start() const {
    std::vector<double> p = kW0;
    p.insert(p.end(), kB0.begin(), kB0.end());
    return p;
  }

  // Expects `got` to be status `status` with a message holding every part.
  static void refused(aeolus_status got, aeolus_status status,
                      const std::vector<std::string>& parts) {
    EXPECT_EQ(got, status);
    const std::string msg = aeolus_last_error();
    for (const std::string& p : parts) EXPECT_TRUE(contains(msg, p)) << msg << "\nlacks: " << p;
  }

  TempDir dir_;
  aeolus_model* model_ = nullptr;
  aeolus_trainer* tr_ = nullptr;
  std::vector<double> x_, t_;
  const int64_t xs_[2] = {kRows, kLin}, ts_[2] = {kRows, kLout};
};

}  // namespace

TEST_F(OnlineTraining, SgdAndAdamLearnTheMap) {
  for (const std::string yaml : {"  optimizer: sgd\n  learning_rate: 0.1\n  momentum: 0.9\n",
                                 "  optimizer: adam\n  learning_rate: 0.05\n"}) {
    SCOPED_TRACE(yaml);
    make(yaml);
    double first = 0, loss = 0;
    const int n = 300;
    for (int k = 0; k < n; ++k) {
      ASSERT_EQ(step(&loss), AEOLUS_OK) << aeolus_last_error();
      if (k == 0) first = loss;
    }
    EXPECT_GT(first, 0.5);
    EXPECT_LT(loss, first * 1e-3) << "first " << first << ", last " << loss;
    int64_t steps = 0;
    ASSERT_EQ(aeolus_trainer_steps(tr_, &steps), AEOLUS_OK);
    EXPECT_EQ(steps, n);
    // The model's own forward has learnt the map.
    const std::vector<double> p = linear_parameters(model_);
    ASSERT_EQ(p.size(), 8u);
    for (int k = 0; k < kLout * kLin; ++k) EXPECT_NEAR(p[size_t(k)], kWTrue[size_t(k)], 0.02);
    ASSERT_EQ(aeolus_trainer_free(tr_), AEOLUS_OK);
    ASSERT_EQ(aeolus_model_free(model_), AEOLUS_OK);
    tr_ = nullptr;
    model_ = nullptr;
  }
}

TEST_F(OnlineTraining, OneSgdStepByHand) {
  const double lr = 0.125;
  make("  optimizer: sgd\n  learning_rate: 0.125\n");
  std::vector<double> g;
  const std::vector<double> p0 = start();
  const double expected_loss = mse(p0, g);
  double loss = -1;
  ASSERT_EQ(step(&loss), AEOLUS_OK) << aeolus_last_error();
  EXPECT_NEAR(loss, expected_loss, 1e-14 * expected_loss);
  const std::vector<double> p = linear_parameters(model_);
  ASSERT_EQ(p.size(), p0.size());
  for (size_t k = 0; k < p.size(); ++k) EXPECT_NEAR(p[k], p0[k] - lr * g[k], 1e-12) << k;
}

TEST_F(OnlineTraining, WeightDecayByHand) {
  const double lr = 0.125, wd = 0.5;
  make("  optimizer: sgd\n  learning_rate: 0.125\n  weight_decay: 0.5\n");
  std::vector<double> g;
  const std::vector<double> p0 = start();
  mse(p0, g);
  double loss = 0;
  ASSERT_EQ(step(&loss), AEOLUS_OK) << aeolus_last_error();
  const std::vector<double> p = linear_parameters(model_);
  ASSERT_EQ(p.size(), p0.size());
  for (size_t k = 0; k < p.size(); ++k)
    EXPECT_NEAR(p[k], p0[k] - lr * (g[k] + wd * p0[k]), 1e-12) << k;
}

TEST_F(OnlineTraining, GradClipByHand) {
  const double lr = 0.125, clip = 0.25;
  std::vector<double> g;
  const std::vector<double> p0 = start();
  mse(p0, g);
  double norm = 0;
  for (double v : g) norm += v * v;
  norm = std::sqrt(norm);
  ASSERT_GT(norm, 4 * clip);  // the clip acts
  make("  optimizer: sgd\n  learning_rate: 0.125\n  grad_clip: 0.25\n");
  double loss = 0;
  ASSERT_EQ(step(&loss), AEOLUS_OK) << aeolus_last_error();
  const std::vector<double> p = linear_parameters(model_);
  ASSERT_EQ(p.size(), p0.size());
  for (size_t k = 0; k < p.size(); ++k)
    EXPECT_NEAR(p[k], p0[k] - lr * g[k] * (clip / norm), 1e-12) << k;
}

TEST_F(OnlineTraining, OneAdamStepByHand) {
  // Adam's first step: the moments' bias corrections cancel, p - lr g / (|g| + eps).
  const double lr = 0.01, eps = 1e-8;
  make("  learning_rate: 0.01\n  betas: [0.8, 0.99]\n");
  std::vector<double> g;
  const std::vector<double> p0 = start();
  mse(p0, g);
  double loss = 0;
  ASSERT_EQ(step(&loss), AEOLUS_OK) << aeolus_last_error();
  const std::vector<double> p = linear_parameters(model_);
  ASSERT_EQ(p.size(), p0.size());
  for (size_t k = 0; k < p.size(); ++k)
    EXPECT_NEAR(p[k], p0[k] - lr * g[k] / (std::abs(g[k]) + eps), 1e-12) << k;
}

TEST_F(OnlineTraining, L1LossAndFloat32Arrays) {
  make("  optimizer: sgd\n  learning_rate: 0.125\n  loss: l1\n");
  std::vector<double> g;
  const std::vector<double> p0 = start();
  const std::vector<double> y =
      linear_targets(x_, {p0.begin(), p0.begin() + 6}, {p0.begin() + 6, p0.end()});
  double l1 = 0;
  std::vector<double> grad(p0.size(), 0.0);
  const double n = kRows * kLout;
  for (int r = 0; r < kRows; ++r)
    for (int o = 0; o < kLout; ++o) {
      const double e = y[size_t(r * kLout + o)] - t_[size_t(r * kLout + o)];
      l1 += std::abs(e) / n;
      const double s = (e > 0) - (e < 0);
      for (int k = 0; k < kLin; ++k) grad[size_t(o * kLin + k)] += s * x_[size_t(r * kLin + k)] / n;
      grad[size_t(6 + o)] += s / n;
    }
  // Float32 arrays into a float64 model (converted): the values are exact in float32 only up to
  // rounding, so this compares to float32's precision.
  std::vector<float> xf(x_.begin(), x_.end()), tf(t_.begin(), t_.end());
  double loss = 0;
  ASSERT_EQ(aeolus_trainer_step(tr_, xf.data(), 2, xs_, tf.data(), 2, ts_, AEOLUS_FLOAT32,
                                AEOLUS_LAYOUT_C, &loss),
            AEOLUS_OK)
      << aeolus_last_error();
  EXPECT_NEAR(loss, l1, 1e-6);
  const std::vector<double> p = linear_parameters(model_);
  for (size_t k = 0; k < p.size(); ++k) EXPECT_NEAR(p[k], p0[k] - 0.125 * grad[k], 1e-6) << k;
}

TEST_F(OnlineTraining, FortranLayoutEqualsCLayout) {
  // The same data as Fortran arrays x(rows, features): the step is the same, bitwise.
  make("  optimizer: adam\n  learning_rate: 0.01\n");
  aeolus_model* m2 = nullptr;
  aeolus_trainer* t2 = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &m2), AEOLUS_OK);
  ASSERT_EQ(
      aeolus_trainer_create(m2, dir_.file("train.yaml").c_str(), "training", AEOLUS_COMM_NONE, &t2),
      AEOLUS_OK);
  std::vector<double> xf(x_.size()), tf(t_.size());
  for (int r = 0; r < kRows; ++r) {
    for (int k = 0; k < kLin; ++k) xf[size_t(r + kRows * k)] = x_[size_t(r * kLin + k)];
    for (int o = 0; o < kLout; ++o) tf[size_t(r + kRows * o)] = t_[size_t(r * kLout + o)];
  }
  for (int s = 0; s < 3; ++s) {
    double a = 0, b = 0;
    ASSERT_EQ(step(&a), AEOLUS_OK);
    ASSERT_EQ(aeolus_trainer_step(t2, xf.data(), 2, xs_, tf.data(), 2, ts_, AEOLUS_FLOAT64,
                                  AEOLUS_LAYOUT_FORTRAN, &b),
              AEOLUS_OK)
        << aeolus_last_error();
    EXPECT_EQ(a, b);
  }
  EXPECT_EQ(linear_parameters(model_), linear_parameters(m2));
  EXPECT_EQ(aeolus_trainer_free(t2), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m2), AEOLUS_OK);
}

TEST_F(OnlineTraining, SavedModelLoadsWithTheTrainedWeights) {
  make("  optimizer: adam\n  learning_rate: 0.05\n");
  double loss = 0;
  for (int k = 0; k < 20; ++k) ASSERT_EQ(step(&loss), AEOLUS_OK);
  ASSERT_EQ(aeolus_trainer_save(tr_, dir_.file("trained.pt").c_str(), nullptr), AEOLUS_OK)
      << aeolus_last_error();
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  aeolus_model* loaded = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("trained.pt").c_str(), &loaded), AEOLUS_OK)
      << aeolus_last_error();
  const std::vector<double> trained = linear_parameters(model_);
  EXPECT_EQ(linear_parameters(loaded), trained);
  EXPECT_NE(trained, start());
  // The outputs on the training data too, bitwise.
  std::vector<double> y1(t_.size()), y2(t_.size());
  ASSERT_EQ(aeolus_model_forward(model_, x_.data(), 2, xs_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C,
                                 y1.data(), 2, ts_),
            AEOLUS_OK);
  ASSERT_EQ(aeolus_model_forward(loaded, x_.data(), 2, xs_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C,
                                 y2.data(), 2, ts_),
            AEOLUS_OK);
  EXPECT_EQ(y1, y2);
  EXPECT_EQ(aeolus_model_free(loaded), AEOLUS_OK);
}

TEST_F(OnlineTraining, SaveRestoreContinuesBitwise) {
  for (const std::string opt : {"adam", "adamw", "sgd"}) {
    SCOPED_TRACE(opt);
    const std::string yaml = "  optimizer: " + opt + "\n  learning_rate: 0.03\n" +
                             (opt == "sgd" ? "" : "  weight_decay: 0.01\n") + "  grad_clip: 5\n";
    // Uninterrupted: 12 steps.
    make(yaml);
    std::vector<double> straight;
    double loss = 0;
    for (int k = 0; k < 12; ++k) {
      ASSERT_EQ(step(&loss), AEOLUS_OK);
      straight.push_back(loss);
    }
    const std::vector<double> end = linear_parameters(model_);
    // Interrupted after 5: save, free everything, load the saved model, restore, 7 more.
    ASSERT_EQ(aeolus_trainer_free(tr_), AEOLUS_OK);
    ASSERT_EQ(aeolus_model_free(model_), AEOLUS_OK);
    tr_ = nullptr;
    model_ = nullptr;
    make(yaml);
    std::vector<double> resumed;
    for (int k = 0; k < 5; ++k) {
      ASSERT_EQ(step(&loss), AEOLUS_OK);
      resumed.push_back(loss);
    }
    ASSERT_EQ(
        aeolus_trainer_save(tr_, dir_.file("ckpt.pt").c_str(), dir_.file("ckpt.state").c_str()),
        AEOLUS_OK)
        << aeolus_last_error();
    ASSERT_EQ(aeolus_trainer_free(tr_), AEOLUS_OK);
    ASSERT_EQ(aeolus_model_free(model_), AEOLUS_OK);
    tr_ = nullptr;
    model_ = nullptr;
    make(yaml, "ckpt.pt");
    ASSERT_EQ(aeolus_trainer_restore(tr_, dir_.file("ckpt.state").c_str()), AEOLUS_OK)
        << aeolus_last_error();
    int64_t steps = 0;
    ASSERT_EQ(aeolus_trainer_steps(tr_, &steps), AEOLUS_OK);
    EXPECT_EQ(steps, 5);
    for (int k = 0; k < 7; ++k) {
      ASSERT_EQ(step(&loss), AEOLUS_OK);
      resumed.push_back(loss);
    }
    ASSERT_EQ(aeolus_trainer_steps(tr_, &steps), AEOLUS_OK);
    EXPECT_EQ(steps, 12);
    EXPECT_EQ(resumed, straight);
    EXPECT_EQ(linear_parameters(model_), end);
    ASSERT_EQ(aeolus_trainer_free(tr_), AEOLUS_OK);
    ASSERT_EQ(aeolus_model_free(model_), AEOLUS_OK);
    tr_ = nullptr;
    model_ = nullptr;
  }
}

TEST_F(OnlineTraining, RestoreWithoutTheMomentsDiffers) {
  // The state matters: continuing Adam from the saved model without restoring its moments
  // gives other parameters (so the bitwise test above tests the restore).
  make("  learning_rate: 0.03\n");
  double loss = 0;
  for (int k = 0; k < 5; ++k) ASSERT_EQ(step(&loss), AEOLUS_OK);
  ASSERT_EQ(aeolus_trainer_save(tr_, dir_.file("c.pt").c_str(), nullptr), AEOLUS_OK);
  ASSERT_EQ(step(&loss), AEOLUS_OK);
  const std::vector<double> with = linear_parameters(model_);
  aeolus_model* m2 = nullptr;
  aeolus_trainer* t2 = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("c.pt").c_str(), &m2), AEOLUS_OK);
  ASSERT_EQ(
      aeolus_trainer_create(m2, dir_.file("train.yaml").c_str(), "training", AEOLUS_COMM_NONE, &t2),
      AEOLUS_OK);
  ASSERT_EQ(step(&loss, t2), AEOLUS_OK);
  const std::vector<double> without = linear_parameters(m2);
  EXPECT_NE(with, without);
  EXPECT_EQ(aeolus_trainer_free(t2), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m2), AEOLUS_OK);
}

TEST_F(OnlineTraining, DefaultsAndNestedSection) {
  // A nested section of a larger file (other keys around it are not this trainer's).
  write_text(dir_.file("case.yaml"),
             "grid:\n  n: [4, 4]\nemulator:\n  type: flux_cnn\n  online_training:\n"
             "    learning_rate: 0.001\n");
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &model_), AEOLUS_OK);
  ASSERT_EQ(aeolus_trainer_create(model_, dir_.file("case.yaml").c_str(),
                                  "emulator.online_training", AEOLUS_COMM_NONE, &tr_),
            AEOLUS_OK)
      << aeolus_last_error();
  // Defaults: Adam, mse; its first step moves every parameter by about learning_rate.
  std::vector<double> g;
  const std::vector<double> p0 = start();
  const double expected = mse(p0, g);
  double loss = 0;
  ASSERT_EQ(step(&loss), AEOLUS_OK);
  EXPECT_NEAR(loss, expected, 1e-14 * expected);
  const std::vector<double> p = linear_parameters(model_);
  for (size_t k = 0; k < p.size(); ++k)
    EXPECT_NEAR(p[k], p0[k] - 1e-3 * g[k] / (std::abs(g[k]) + 1e-8), 1e-12);
  // An empty section takes every default.
  write_text(dir_.file("empty.yaml"), "training:\n");
  aeolus_model* m2 = nullptr;
  aeolus_trainer* t2 = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &m2), AEOLUS_OK);
  EXPECT_EQ(
      aeolus_trainer_create(m2, dir_.file("empty.yaml").c_str(), "training", AEOLUS_COMM_NONE, &t2),
      AEOLUS_OK)
      << aeolus_last_error();
  EXPECT_EQ(aeolus_trainer_free(t2), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m2), AEOLUS_OK);
}

TEST_F(OnlineTraining, CreateRefusals) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &model_), AEOLUS_OK);
  const std::string cfg = dir_.file("c.yaml");
  auto create = [&](const std::string& yaml, const char* section = "training",
                    aeolus_trainer** out = nullptr) {
    write_text(cfg, yaml);
    aeolus_trainer* t = reinterpret_cast<aeolus_trainer*>(&t);  // must come back NULL
    const aeolus_status s =
        aeolus_trainer_create(model_, cfg.c_str(), section, AEOLUS_COMM_NONE, out ? out : &t);
    if (!out) {
      EXPECT_EQ(t, nullptr);
      aeolus_trainer_free(t);
    }
    return s;
  };
  aeolus_trainer* t = nullptr;
  refused(aeolus_trainer_create(model_, cfg.c_str(), "training", AEOLUS_COMM_NONE, nullptr),
          AEOLUS_ERROR_ARGUMENT, {"aeolus_trainer_create: out is NULL; expected a pointer"});
  refused(aeolus_trainer_create(nullptr, cfg.c_str(), "training", AEOLUS_COMM_NONE, &t),
          AEOLUS_ERROR_ARGUMENT, {"aeolus_trainer_create: model is NULL; expected a handle"});
  refused(aeolus_trainer_create(model_, nullptr, "training", AEOLUS_COMM_NONE, &t),
          AEOLUS_ERROR_ARGUMENT, {"config_path is NULL; expected the YAML file"});
  refused(aeolus_trainer_create(model_, "", "training", AEOLUS_COMM_NONE, &t),
          AEOLUS_ERROR_ARGUMENT, {"config_path is \"\""});
  refused(aeolus_trainer_create(model_, cfg.c_str(), nullptr, AEOLUS_COMM_NONE, &t),
          AEOLUS_ERROR_ARGUMENT, {"section is NULL; expected the dotted path"});
  refused(create("training: {}\n", "training..x"), AEOLUS_ERROR_ARGUMENT,
          {"section = \"training..x\"; expected keys separated by single dots"});
  refused(aeolus_trainer_create(model_, dir_.file("none.yaml").c_str(), "training",
                                AEOLUS_COMM_NONE, &t),
          AEOLUS_ERROR_IO, {"aeolus_trainer_create: config file ", "none.yaml does not exist"});
  refused(create("training:\n  lerning_rate: 0.1\n"), AEOLUS_ERROR_CASE,
          {"c.yaml:2", "unknown key 'training.lerning_rate'", "did you mean 'learning_rate'?"});
  refused(create("training:\n  learning_rate: -0.5\n"), AEOLUS_ERROR_CASE,
          {"c.yaml:2", "training.learning_rate = -0.5 is out of range (0, "});
  refused(create("training:\n  optimizer: adamm\n"), AEOLUS_ERROR_CASE,
          {"c.yaml:2", "training.optimizer", "adamm", "adam, sgd, adamw"});
  refused(create("training:\n  betas: [0.9]\n"), AEOLUS_ERROR_CASE, {"c.yaml:2", "training.betas"});
  refused(create("training:\n  betas: [0.9, 1.0]\n"), AEOLUS_ERROR_CASE,
          {"c.yaml:2", "training.betas", "[0, 1)"});
  refused(create("training:\n  optimizer: sgd\n  momentum: 1.5\n"), AEOLUS_ERROR_CASE,
          {"c.yaml:3", "training.momentum", "1.5"});
  refused(create("training:\n  momentum: 0.5\n"), AEOLUS_ERROR_CASE,
          {"c.yaml:2", "training.momentum applies to optimizer sgd only", "adam"});
  refused(create("training:\n  loss: huber\n"), AEOLUS_ERROR_CASE,
          {"training.loss", "huber", "mse, l1"});
  refused(create("training:\n  grad_clip: -1\n"), AEOLUS_ERROR_CASE, {"training.grad_clip"});
  refused(create("training:\n  threads: -2\n"), AEOLUS_ERROR_CASE, {"training.threads", "-2"});
  refused(create("trainig:\n  learning_rate: 0.1\n"), AEOLUS_ERROR_CASE,
          {"c.yaml: no section 'training'", "the top level has keys trainig",
           "did you mean 'trainig'?"});
  refused(create("emulator:\n  type: x\n", "emulator.online_training"), AEOLUS_ERROR_CASE,
          {"no section 'emulator.online_training'", "'emulator' has keys type"});
  refused(create("training: 3\n"), AEOLUS_ERROR_CASE, {"c.yaml:1", "'training' is not a mapping"});
  refused(create("training: [\n"), AEOLUS_ERROR_CASE, {"c.yaml"});
  // One trainer per model; the model is not freed under its trainer.
  aeolus_trainer* first = nullptr;
  ASSERT_EQ(create("training:\n  optimizer: sgd\n", "training", &first), AEOLUS_OK)
      << aeolus_last_error();
  refused(create("training:\n  optimizer: sgd\n"), AEOLUS_ERROR_ARGUMENT,
          {"m0.pt already has a trainer; expected one trainer per model"});
  refused(aeolus_model_free(model_), AEOLUS_ERROR_ARGUMENT,
          {"aeolus_model_free: model has a trainer; expected aeolus_trainer_free of it first"});
  EXPECT_EQ(aeolus_trainer_free(first), AEOLUS_OK);
  EXPECT_EQ(aeolus_trainer_free(nullptr), AEOLUS_OK);
  // Invalid communicators (MPI is initialised by the test's main).
  refused(aeolus_trainer_create(model_, cfg.c_str(), "training", MPI_Comm_c2f(MPI_COMM_NULL), &t),
          AEOLUS_ERROR_ARGUMENT,
          {"aeolus_trainer_create: comm = " + std::to_string(MPI_Comm_c2f(MPI_COMM_NULL)) +
           " is MPI_COMM_NULL or no communicator's handle"});
  refused(aeolus_trainer_create(model_, cfg.c_str(), "training", 1 << 20, &t),
          AEOLUS_ERROR_ARGUMENT, {"comm = 1048576 is MPI_COMM_NULL or no communicator's handle"});
  // A model without parameters.
  aeolus_model* bare = nullptr;
  {
    torch::jit::Module m("Bare");
    m.define("def forward(self, x):\n    return x * 2.0\n");
    m.save(dir_.file("bare.pt"));
  }
  ASSERT_EQ(aeolus_model_load(dir_.file("bare.pt").c_str(), &bare), AEOLUS_OK);
  write_text(cfg, "training: {}\n");
  refused(aeolus_trainer_create(bare, cfg.c_str(), "training", AEOLUS_COMM_NONE, &t),
          AEOLUS_ERROR_MODEL, {"bare.pt has no floating-point parameters"});
  EXPECT_EQ(aeolus_model_free(bare), AEOLUS_OK);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(OnlineTraining, StepRefusalsChangeNothing) {
  make("  optimizer: adam\n  learning_rate: 0.05\n");
  double loss = 0;
  ASSERT_EQ(step(&loss), AEOLUS_OK);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const std::vector<double> before = linear_parameters(model_);
  const int64_t bad_t[2] = {kRows, 3}, bad_x[2] = {kRows, 4}, neg[2] = {kRows, -1};
  const auto* x = x_.data();
  const auto* t = t_.data();
  const char* f = "aeolus_trainer_step: ";
  refused(
      aeolus_trainer_step(nullptr, x, 2, xs_, t, 2, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
      AEOLUS_ERROR_ARGUMENT, {std::string(f) + "tr is NULL; expected a handle"});
  refused(
      aeolus_trainer_step(tr_, nullptr, 2, xs_, t, 2, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
      AEOLUS_ERROR_ARGUMENT, {std::string(f) + "in is NULL; expected the input array"});
  refused(
      aeolus_trainer_step(tr_, x, 2, xs_, nullptr, 2, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
      AEOLUS_ERROR_ARGUMENT, {std::string(f) + "target is NULL"});
  refused(aeolus_trainer_step(tr_, x, 2, xs_, t, 2, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, nullptr),
          AEOLUS_ERROR_ARGUMENT, {std::string(f) + "loss is NULL"});
  refused(aeolus_trainer_step(tr_, x, 2, xs_, t, 2, ts_, 9, AEOLUS_LAYOUT_C, &loss),
          AEOLUS_ERROR_ARGUMENT, {std::string(f) + "dtype = 9; expected AEOLUS_FLOAT32 (1)"});
  refused(aeolus_trainer_step(tr_, x, 2, xs_, t, 2, ts_, AEOLUS_FLOAT64, 0, &loss),
          AEOLUS_ERROR_ARGUMENT, {std::string(f) + "layout = 0; expected AEOLUS_LAYOUT_C (1)"});
  refused(aeolus_trainer_step(tr_, x, 0, xs_, t, 2, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
          AEOLUS_ERROR_ARGUMENT, {std::string(f) + "in_rank = 0; expected 1 to 8"});
  refused(aeolus_trainer_step(tr_, x, 2, xs_, t, 9, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
          AEOLUS_ERROR_ARGUMENT, {std::string(f) + "target_rank = 9; expected 1 to 8"});
  refused(aeolus_trainer_step(tr_, x, 2, xs_, t, 2, neg, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
          AEOLUS_ERROR_ARGUMENT, {std::string(f) + "target_shape[1] = -1 (shape [8, -1])"});
  refused(aeolus_trainer_step(tr_, x, 2, xs_, t, 2, bad_t, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
          AEOLUS_ERROR_ARGUMENT,
          {std::string(f) + "target has shape [8, 3]; expected the model's output shape [8, 2] "
                            "(for the input of shape [8, 3])"});
  std::vector<double> x4(kRows * 4, 0.5);
  refused(aeolus_trainer_step(tr_, x4.data(), 2, bad_x, t, 2, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C,
                              &loss),
          AEOLUS_ERROR_MODEL,
          {std::string(f) + "model ", "forward failed on an input of shape [8, 4]"});
  std::vector<double> tn = t_;
  tn[3] = std::nan("");
  refused(aeolus_trainer_step(tr_, x, 2, xs_, tn.data(), 2, ts_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C,
                              &loss),
          AEOLUS_ERROR_NUMERICS, {std::string(f) + "the loss is nan; no step taken"});
  EXPECT_EQ(linear_parameters(model_), before);
  int64_t steps = 0;
  ASSERT_EQ(aeolus_trainer_steps(tr_, &steps), AEOLUS_OK);
  EXPECT_EQ(steps, 1);
  refused(aeolus_trainer_steps(nullptr, &steps), AEOLUS_ERROR_ARGUMENT,
          {"aeolus_trainer_steps: tr is NULL"});
  refused(aeolus_trainer_steps(tr_, nullptr), AEOLUS_ERROR_ARGUMENT,
          {"aeolus_trainer_steps: steps is NULL"});
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  // The refused steps left nothing behind: the next step is that of an untouched trainer.
  aeolus_model* m2 = nullptr;
  aeolus_trainer* t2 = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &m2), AEOLUS_OK);
  ASSERT_EQ(
      aeolus_trainer_create(m2, dir_.file("train.yaml").c_str(), "training", AEOLUS_COMM_NONE, &t2),
      AEOLUS_OK);
  double l2 = 0;
  ASSERT_EQ(step(&l2, t2), AEOLUS_OK);
  ASSERT_EQ(step(&l2, t2), AEOLUS_OK);
  ASSERT_EQ(step(&loss), AEOLUS_OK);
  EXPECT_EQ(loss, l2);
  EXPECT_EQ(linear_parameters(model_), linear_parameters(m2));
  EXPECT_EQ(aeolus_trainer_free(t2), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m2), AEOLUS_OK);
}

TEST_F(OnlineTraining, SaveAndRestoreRefusals) {
  make("  optimizer: sgd\n  learning_rate: 0.1\n");
  double loss = 0;
  ASSERT_EQ(step(&loss), AEOLUS_OK);
  ASSERT_EQ(aeolus_trainer_save(tr_, dir_.file("s.pt").c_str(), dir_.file("sgd.state").c_str()),
            AEOLUS_OK)
      << aeolus_last_error();
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  refused(aeolus_trainer_save(nullptr, "a", "b"), AEOLUS_ERROR_ARGUMENT,
          {"aeolus_trainer_save: tr is NULL"});
  refused(aeolus_trainer_save(tr_, dir_.file("no/such/dir/m.pt").c_str(), nullptr), AEOLUS_ERROR_IO,
          {"aeolus_trainer_save: cannot write the model file ", "no/such/dir/m.pt"});
  // A failed save leaves the previous file as it was: its temporary file cannot be made here
  // (a directory of that name is in the way).
  std::ifstream before_in(dir_.file("sgd.state"), std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(before_in)),
                           std::istreambuf_iterator<char>());
  ASSERT_EQ(step(&loss), AEOLUS_OK);
  std::filesystem::create_directory(dir_.file("sgd.state.tmp-" + std::to_string(long(getpid()))));
  refused(aeolus_trainer_save(tr_, nullptr, dir_.file("sgd.state").c_str()), AEOLUS_ERROR_IO,
          {"cannot write the training state ", "sgd.state"});
  std::ifstream after_in(dir_.file("sgd.state"), std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(after_in)),
                          std::istreambuf_iterator<char>());
  EXPECT_EQ(after, before);
  EXPECT_GT(after.size(), 100u);

  refused(aeolus_trainer_restore(nullptr, "x"), AEOLUS_ERROR_ARGUMENT,
          {"aeolus_trainer_restore: tr is NULL"});
  refused(aeolus_trainer_restore(tr_, nullptr), AEOLUS_ERROR_ARGUMENT,
          {"aeolus_trainer_restore: state_path is NULL"});
  refused(aeolus_trainer_restore(tr_, dir_.file("missing.state").c_str()), AEOLUS_ERROR_IO,
          {"aeolus_trainer_restore: training state ", "missing.state does not exist"});
  // Truncated: the first half of a good file.
  write_text(dir_.file("cut.state"), before.substr(0, before.size() / 2));
  refused(aeolus_trainer_restore(tr_, dir_.file("cut.state").c_str()), AEOLUS_ERROR_MODEL,
          {"cut.state cannot be read: not a complete archive (truncated or damaged, " +
           std::to_string(before.size() / 2) + " bytes)"});
  write_text(dir_.file("empty.state"), "");
  refused(aeolus_trainer_restore(tr_, dir_.file("empty.state").c_str()), AEOLUS_ERROR_MODEL,
          {"empty.state is empty"});
  // A model file is an archive but no training state.
  refused(aeolus_trainer_restore(tr_, dir_.file("s.pt").c_str()), AEOLUS_ERROR_MODEL,
          {"s.pt is not an Aeolus training state: no aeolus_format record"});
  int64_t steps = 0;
  ASSERT_EQ(aeolus_trainer_steps(tr_, &steps), AEOLUS_OK);
  EXPECT_EQ(steps, 2);  // no refused restore changed the trainer

  // Another optimizer's state, and a state of other parameters.
  aeolus_model* m2 = nullptr;
  aeolus_trainer* t2 = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &m2), AEOLUS_OK);
  write_text(dir_.file("adam.yaml"), "training:\n  optimizer: adam\n");
  ASSERT_EQ(
      aeolus_trainer_create(m2, dir_.file("adam.yaml").c_str(), "training", AEOLUS_COMM_NONE, &t2),
      AEOLUS_OK);
  refused(aeolus_trainer_restore(t2, dir_.file("sgd.state").c_str()), AEOLUS_ERROR_MODEL,
          {"sgd.state holds the state of optimizer 'sgd'; this trainer's optimizer is 'adam'"});
  EXPECT_EQ(aeolus_trainer_free(t2), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m2), AEOLUS_OK);
  {
    torch::jit::Module m("Wider");
    m.register_parameter("w", torch::zeros({3, 3}, torch::kFloat64), false);
    m.register_parameter("b", torch::zeros({2}, torch::kFloat64), false);
    m.define("def forward(self, x):\n    return torch.matmul(x, self.w.t())\n");
    m.save(dir_.file("wider.pt"));
  }
  ASSERT_EQ(aeolus_model_load(dir_.file("wider.pt").c_str(), &m2), AEOLUS_OK);
  write_text(dir_.file("sgd.yaml"), "training:\n  optimizer: sgd\n");
  ASSERT_EQ(
      aeolus_trainer_create(m2, dir_.file("sgd.yaml").c_str(), "training", AEOLUS_COMM_NONE, &t2),
      AEOLUS_OK);
  refused(aeolus_trainer_restore(t2, dir_.file("sgd.state").c_str()), AEOLUS_ERROR_MODEL,
          {"sgd.state is for other parameters: parameter 0 is 'w [2, 3] float64' in the file and "
           "'w [3, 3] float64' in this model"});
  EXPECT_EQ(aeolus_trainer_free(t2), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m2), AEOLUS_OK);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(OnlineTraining, FreePutsTheModelBack) {
  make("  optimizer: sgd\n  learning_rate: 0.1\n");
  double loss = 0;
  ASSERT_EQ(step(&loss), AEOLUS_OK);
  const std::vector<double> trained = linear_parameters(model_);
  ASSERT_EQ(aeolus_trainer_free(tr_), AEOLUS_OK);
  tr_ = nullptr;
  // Forward goes on with the trained weights; a new trainer can be made on the model.
  EXPECT_EQ(linear_parameters(model_), trained);
  ASSERT_EQ(aeolus_trainer_create(model_, dir_.file("train.yaml").c_str(), "training",
                                  AEOLUS_COMM_NONE, &tr_),
            AEOLUS_OK)
      << aeolus_last_error();
}
