// Data-parallel online training through the C API over MPI_COMM_WORLD (1 and 2 ranks): each
// rank trains on its share of a batch; the parameters follow a one-process run on the whole
// batch (to 1e-12), are the same on every rank (bitwise), and start from rank 0's. An error on
// one rank is an error on every rank (named, no hang); save and restore continue bitwise.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <string>
#include <vector>

#include "aeolus.h"
#include "api/test_online_training_model.hpp"
#include "common/temp_dir.hpp"

using namespace aeolus::test;

namespace {

constexpr int kRows = 8;  // the whole batch; each of 1 or 2 ranks takes kRows / size rows

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

class OnlineTrainingMpi : public ::testing::Test {
 protected:
  void SetUp() override {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (rank_ == 0) {
      save_linear_model(dir_.file("m0.pt"), kW0, kB0);
      // Other starting weights: a rank that starts from them must get rank 0's.
      std::vector<double> w = kW0;
      for (double& v : w) v += 0.5;
      save_linear_model(dir_.file("other.pt"), w, kB0);
      write_text(dir_.file("t.yaml"),
                 "training:\n  optimizer: adam\n  learning_rate: 0.05\n  weight_decay: 0.01\n"
                 "  grad_clip: 1.0\n");
    }
    MPI_Barrier(MPI_COMM_WORLD);
    x_ = linear_inputs(kRows);
    t_ = linear_targets(x_, kWTrue, kBTrue);
    const int rows = kRows / size_;
    xl_.assign(x_.begin() + rank_ * rows * kLin, x_.begin() + (rank_ + 1) * rows * kLin);
    tl_.assign(t_.begin() + rank_ * rows * kLout, t_.begin() + (rank_ + 1) * rows * kLout);
    xls_[0] = tls_[0] = rows;
  }

  aeolus_trainer* make(const std::string& model_file, aeolus_model** m, int comm) {
    aeolus_trainer* tr = nullptr;
    EXPECT_EQ(aeolus_model_load(dir_.file(model_file).c_str(), m), AEOLUS_OK)
        << aeolus_last_error();
    EXPECT_EQ(aeolus_trainer_create(*m, dir_.file("t.yaml").c_str(), "training", comm, &tr),
              AEOLUS_OK)
        << aeolus_last_error();
    return tr;
  }

  aeolus_status local_step(aeolus_trainer* tr, double* loss) {
    return aeolus_trainer_step(tr, xl_.data(), 2, xls_, tl_.data(), 2, tls_, AEOLUS_FLOAT64,
                               AEOLUS_LAYOUT_C, loss);
  }
  aeolus_status full_step(aeolus_trainer* tr, double* loss) {
    return aeolus_trainer_step(tr, x_.data(), 2, xs_, t_.data(), 2, ts_, AEOLUS_FLOAT64,
                               AEOLUS_LAYOUT_C, loss);
  }

  // Every rank's `v`, compared bitwise with rank 0's.
  void expect_same_on_all_ranks(const std::vector<double>& v) {
    std::vector<double> all(v.size() * size_t(size_));
    MPI_Allgather(v.data(), int(v.size()), MPI_DOUBLE, all.data(), int(v.size()), MPI_DOUBLE,
                  MPI_COMM_WORLD);
    for (int r = 1; r < size_; ++r)
      for (size_t k = 0; k < v.size(); ++k) EXPECT_EQ(all[r * v.size() + k], all[k]) << r << k;
  }

  TempDir dir_;
  int rank_ = 0, size_ = 1;
  const int world_ = MPI_Comm_c2f(MPI_COMM_WORLD);
  std::vector<double> x_, t_, xl_, tl_;
  const int64_t xs_[2] = {kRows, kLin}, ts_[2] = {kRows, kLout};
  int64_t xls_[2] = {0, kLin}, tls_[2] = {0, kLout};
};

}  // namespace

TEST_F(OnlineTrainingMpi, DataParallelEqualsTheWholeBatch) {
  aeolus_model *m = nullptr, *ref = nullptr;
  // Ranks other than 0 start from other weights: the trainer gives them rank 0's.
  aeolus_trainer* tr = make(rank_ == 0 ? "m0.pt" : "other.pt", &m, world_);
  aeolus_trainer* one = make("m0.pt", &ref, AEOLUS_COMM_NONE);
  ASSERT_TRUE(tr && one);
  EXPECT_EQ(linear_parameters(m), linear_parameters(ref));
  const int k = 15;
  for (int s = 0; s < k; ++s) {
    double loss = 0, whole = 0;
    ASSERT_EQ(local_step(tr, &loss), AEOLUS_OK) << aeolus_last_error();
    ASSERT_EQ(full_step(one, &whole), AEOLUS_OK) << aeolus_last_error();
    // The mean of the ranks' means over equal shares is the mean over the whole batch.
    EXPECT_NEAR(loss, whole, 1e-12 * whole) << "step " << s;
    expect_same_on_all_ranks({loss});
  }
  const std::vector<double> p = linear_parameters(m), q = linear_parameters(ref);
  ASSERT_EQ(p.size(), q.size());
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], q[i], 1e-12) << i;
  std::vector<double> start = kW0;
  start.insert(start.end(), kB0.begin(), kB0.end());
  for (size_t i = 0; i < p.size(); ++i) EXPECT_GT(std::abs(p[i] - start[i]), 1e-3) << i;
  expect_same_on_all_ranks(p);
  int64_t steps = 0;
  ASSERT_EQ(aeolus_trainer_steps(tr, &steps), AEOLUS_OK);
  EXPECT_EQ(steps, k);
  EXPECT_EQ(aeolus_trainer_free(tr), AEOLUS_OK);
  EXPECT_EQ(aeolus_trainer_free(one), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(ref), AEOLUS_OK);
}

TEST_F(OnlineTrainingMpi, AnErrorOnOneRankIsAnErrorOnAll) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int last = size_ - 1;
  const std::string named = size_ > 1 ? "rank " + std::to_string(last) + ": " : "";
  aeolus_model* m = nullptr;
  aeolus_trainer* tr = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &m), AEOLUS_OK);
  // create: the last rank names a section that is not there.
  EXPECT_EQ(aeolus_trainer_create(m, dir_.file("t.yaml").c_str(),
                                  rank_ == last ? "trainin" : "training", world_, &tr),
            AEOLUS_ERROR_CASE);
  EXPECT_EQ(tr, nullptr);
  EXPECT_TRUE(contains(aeolus_last_error(), "aeolus_trainer_create: " + named +
                                                dir_.file("t.yaml") + ": no section 'trainin'"))
      << aeolus_last_error();
  // Invalid communicators, on every rank.
  EXPECT_EQ(aeolus_trainer_create(m, dir_.file("t.yaml").c_str(), "training",
                                  MPI_Comm_c2f(MPI_COMM_NULL), &tr),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "is MPI_COMM_NULL or no communicator's handle"))
      << aeolus_last_error();
  EXPECT_EQ(aeolus_trainer_create(m, dir_.file("t.yaml").c_str(), "training", 77777, &tr),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "comm = 77777 is MPI_COMM_NULL"))
      << aeolus_last_error();

  ASSERT_EQ(aeolus_trainer_create(m, dir_.file("t.yaml").c_str(), "training", world_, &tr),
            AEOLUS_OK)
      << aeolus_last_error();
  double loss = 0;
  ASSERT_EQ(local_step(tr, &loss), AEOLUS_OK);
  const std::vector<double> before = linear_parameters(m);
  // step: the last rank's target has another shape; a NULL input on the last rank.
  const int64_t wrong[2] = {tls_[0], 3};
  std::vector<double> tw(size_t(tls_[0]) * 3, 0.0);
  EXPECT_EQ(
      aeolus_trainer_step(tr, xl_.data(), 2, xls_, rank_ == last ? tw.data() : tl_.data(), 2,
                          rank_ == last ? wrong : tls_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
      AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "aeolus_trainer_step: " + named + "target has shape [" +
                                                std::to_string(tls_[0]) +
                                                ", 3]; expected the model's output shape"))
      << aeolus_last_error();
  EXPECT_EQ(aeolus_trainer_step(tr, rank_ == last ? nullptr : xl_.data(), 2, xls_, tl_.data(), 2,
                                tls_, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), "aeolus_trainer_step: " + named + "in is NULL"))
      << aeolus_last_error();
  EXPECT_EQ(linear_parameters(m), before);
  // restore: the last rank passes no path.
  EXPECT_EQ(aeolus_trainer_restore(tr, rank_ == last ? nullptr : "x.state"), AEOLUS_ERROR_ARGUMENT);
  EXPECT_TRUE(contains(aeolus_last_error(), named + "state_path is NULL")) << aeolus_last_error();
  // A missing file (read on rank 0 only): the same on every rank.
  EXPECT_EQ(aeolus_trainer_restore(tr, dir_.file("none.state").c_str()), AEOLUS_ERROR_IO);
  EXPECT_TRUE(contains(aeolus_last_error(), "none.state does not exist")) << aeolus_last_error();
  // Then the trainer steps on as if nothing had happened.
  int64_t steps = 0;
  ASSERT_EQ(local_step(tr, &loss), AEOLUS_OK) << aeolus_last_error();
  ASSERT_EQ(aeolus_trainer_steps(tr, &steps), AEOLUS_OK);
  EXPECT_EQ(steps, 2);
  expect_same_on_all_ranks(linear_parameters(m));
  EXPECT_EQ(aeolus_trainer_free(tr), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(OnlineTrainingMpi, SaveRestoreContinuesBitwise) {
  aeolus_model* m = nullptr;
  aeolus_trainer* tr = make("m0.pt", &m, world_);
  std::vector<double> straight, resumed;
  double loss = 0;
  for (int s = 0; s < 8; ++s) {
    ASSERT_EQ(local_step(tr, &loss), AEOLUS_OK);
    straight.push_back(loss);
  }
  const std::vector<double> end = linear_parameters(m);
  EXPECT_EQ(aeolus_trainer_free(tr), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);

  tr = make("m0.pt", &m, world_);
  for (int s = 0; s < 4; ++s) {
    ASSERT_EQ(local_step(tr, &loss), AEOLUS_OK);
    resumed.push_back(loss);
  }
  ASSERT_EQ(aeolus_trainer_save(tr, dir_.file("c.pt").c_str(), dir_.file("c.state").c_str()),
            AEOLUS_OK)
      << aeolus_last_error();
  EXPECT_EQ(aeolus_trainer_free(tr), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
  tr = make("c.pt", &m, world_);
  ASSERT_EQ(aeolus_trainer_restore(tr, dir_.file("c.state").c_str()), AEOLUS_OK)
      << aeolus_last_error();
  for (int s = 0; s < 4; ++s) {
    ASSERT_EQ(local_step(tr, &loss), AEOLUS_OK);
    resumed.push_back(loss);
  }
  EXPECT_EQ(resumed, straight);
  EXPECT_EQ(linear_parameters(m), end);
  EXPECT_EQ(aeolus_trainer_free(tr), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
}

TEST_F(OnlineTrainingMpi, Float32ModelAveragesInFloat32) {
  // A float32 model: the gradients cross MPI as float32; the ranks stay identical and follow the
  // whole-batch run to float32's precision.
  if (rank_ == 0) {
    save_linear_model(dir_.file("m32.pt"), kW0, kB0, torch::kFloat32);
    write_text(dir_.file("sgd.yaml"), "training:\n  optimizer: sgd\n  learning_rate: 0.1\n");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  aeolus_model *m = nullptr, *ref = nullptr;
  aeolus_trainer *tr = nullptr, *one = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file("m32.pt").c_str(), &m), AEOLUS_OK);
  ASSERT_EQ(aeolus_model_load(dir_.file("m32.pt").c_str(), &ref), AEOLUS_OK);
  ASSERT_EQ(aeolus_trainer_create(m, dir_.file("sgd.yaml").c_str(), "training", world_, &tr),
            AEOLUS_OK)
      << aeolus_last_error();
  ASSERT_EQ(
      aeolus_trainer_create(ref, dir_.file("sgd.yaml").c_str(), "training", AEOLUS_COMM_NONE, &one),
      AEOLUS_OK);
  for (int s = 0; s < 10; ++s) {
    double loss = 0, whole = 0;
    ASSERT_EQ(local_step(tr, &loss), AEOLUS_OK) << aeolus_last_error();
    ASSERT_EQ(full_step(one, &whole), AEOLUS_OK);
    EXPECT_NEAR(loss, whole, 1e-5 * whole);
    expect_same_on_all_ranks({loss});
  }
  const std::vector<double> p = linear_parameters(m), q = linear_parameters(ref);
  ASSERT_EQ(p.size(), q.size());
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], q[i], 1e-5) << i;
  expect_same_on_all_ranks(p);
  EXPECT_EQ(aeolus_trainer_free(tr), AEOLUS_OK);
  EXPECT_EQ(aeolus_trainer_free(one), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(ref), AEOLUS_OK);
}

TEST_F(OnlineTrainingMpi, OtherParametersOnSomeRankAreRefused) {
  if (size_ < 2) GTEST_SKIP() << "needs 2 ranks";
  if (rank_ == 0) {
    torch::jit::Module m("Wider");
    m.register_parameter("w", torch::zeros({kLout, kLin + 1}, torch::kFloat64), false);
    m.register_parameter("b", torch::zeros({kLout}, torch::kFloat64), false);
    m.define("def forward(self, x):\n    return torch.matmul(x, self.w.t()) + self.b\n");
    m.save(dir_.file("wider.pt"));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  ::testing::internal::CaptureStderr();
  aeolus_model* m = nullptr;
  aeolus_trainer* tr = nullptr;
  ASSERT_EQ(aeolus_model_load(dir_.file(rank_ == 1 ? "wider.pt" : "m0.pt").c_str(), &m), AEOLUS_OK);
  EXPECT_EQ(aeolus_trainer_create(m, dir_.file("t.yaml").c_str(), "training", world_, &tr),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_EQ(tr, nullptr);
  EXPECT_TRUE(contains(aeolus_last_error(),
                       "aeolus_trainer_create: rank 1: model " + dir_.file("wider.pt") +
                           " has the parameters w [2, 4] float64; b [2] float64, rank 0's w [2, "
                           "3] float64; b [2] float64; expected the same model on every rank"))
      << aeolus_last_error();
  // The model is free of a trainer and trains with a matching one afterwards.
  aeolus_model_free(m);
  ASSERT_EQ(aeolus_model_load(dir_.file("m0.pt").c_str(), &m), AEOLUS_OK);
  ASSERT_EQ(aeolus_trainer_create(m, dir_.file("t.yaml").c_str(), "training", world_, &tr),
            AEOLUS_OK)
      << aeolus_last_error();
  double loss = 0;
  EXPECT_EQ(local_step(tr, &loss), AEOLUS_OK);
  EXPECT_EQ(aeolus_trainer_free(tr), AEOLUS_OK);
  EXPECT_EQ(aeolus_model_free(m), AEOLUS_OK);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}
