#pragma once
// The learned part of the Deep Conjugate Direction Method (Kaneda et al., ICML 2023): a CNN
// that maps a normalised residual to a search direction, its training data (right-hand sides
// built from Ritz vectors of the discrete operator, weighted towards the low spectrum), its
// training with the scale-invariant loss ||b - A q (q^T b)/(q^T A q)||^2, and the adapter that
// makes a saved model a DirectionModel for solvers/dcdm.hpp. No torch type appears here.
#include <cstdint>
#include <memory>
#include <string>

#include "emulators/device.hpp"
#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"

namespace aeolus::emulators {

struct DcdmNetParams {
  int channels = 16;           // feature channels at full resolution (doubled after downsampling)
  int blocks = 2;              // residual blocks per level
  int threads = 2;             // torch intra-op threads
  std::string device = "cpu";  // where the network runs in the solver: cpu | cuda | cuda:N
};

struct DcdmDatasetParams {
  int ritz = 400;      // Lanczos steps (Ritz vectors) on the training operator
  int samples = 2000;  // right-hand sides (train; valid adds `valid` more)
  int valid = 100;
  real_t low_weight = 9.0;  // weight of the low half of the spectrum (paper: 9)
  // Fraction of the Ritz vectors, lowest Ritz values first, that get low_weight. The authors'
  // script weights the first m/2 + theta of m = 10000 with theta = 500, i.e. 0.55.
  real_t low_fraction = 0.55;
  std::uint64_t seed = 7;
};

struct DcdmTrainingParams {
  int epochs = 50;
  int batch_size = 16;
  real_t learning_rate = 1e-3;
  real_t max_minutes = 55;  // wall-clock cap; the best validation model is kept
  std::uint64_t seed = 1;
  int threads = 2;
  // cpu | cuda | cuda:N. On CUDA the convolutions use torch's generic path and the sparse A
  // of the loss lives on the device; the saved model is the same file either way.
  std::string device = "cpu";
};

// Writes `path` (NetCDF, CF-1.8): right-hand sides b (sample, [z,] y, x), unit 2-norm, built
// from the Ritz vectors of op.matrix(), plus the Ritz values. Collective; rank 0 writes.
// The validation samples are the variable b_valid (valid_sample, [z,] y, x) of the same file,
// drawn after the training ones from the same stream; the global attribute dcdm_operator
// records the operator, and training refuses a file made for another one. Written to
// path + ".part" and renamed, so an interrupted run leaves no file that looks complete. The
// Ritz pairs and the samples do not depend on the number of ranks.
// progress: the Lanczos lines (solvers/dcdm.hpp), then "sample K/N" at most every 10 s.
void generate_dcdm_dataset(const EllipticOperator& op, const DcdmDatasetParams& p,
                           const std::string& path, const ProgressSink& progress = {});

struct DcdmTrainReport {
  int epochs = 0;
  double seconds = 0;
  double train_loss = 0, valid_loss = 0;  // final (best) mean loss
  double initial_valid_loss = 0;          // of the untrained network (epoch 0 of the CSV)
  long long parameters = 0;
  double flops_per_sample = 0;    // forward + backward estimate
  double seconds_per_sample = 0;  // measured: training-pass wall time / samples seen
};

// Trains on `dataset` (from generate_dcdm_dataset on `op`) and saves the model to `model_path`
// with everything needed to run it (architecture, dimension, boundary kinds, centring, the
// training grid and step), atomically; a per-epoch CSV next to it (model_path + ".csv"; epoch 0
// is the untrained network). Rank 0 trains; collective; the report is the same on all ranks.
// The network: 2D or 3D by the operator, grid sizes even (ModelError otherwise); see
// dcdm_model.cpp for the architecture and dcdm_forward_macs for its cost.
// progress (rank 0): "batch K/N  epoch E/EPOCHS, loss ..." lines at most every 10 s.
DcdmTrainReport train_dcdm(const EllipticOperator& op, const std::string& dataset,
                           const DcdmNetParams& net, const DcdmTrainingParams& training,
                           const std::string& model_path, const ProgressSink& progress = {});

// A saved model as a DirectionModel for operators of the same dimension, boundary kinds and
// centring on any grid whose sizes the network accepts (even); ModelError otherwise, naming
// the file and what differs.
// The CNN runs on rank 0 only: direction() gathers r there in natural order, runs the network
// (float32) and scatters q back. Halo-exchanged convolutions on every rank are future work.
// `device` (cpu | cuda | cuda:N) is where rank 0 runs it; ConfigError where that device is
// not available.
std::unique_ptr<DirectionModel> load_dcdm_model(const std::string& model_path,
                                                const EllipticOperator& op, int threads,
                                                const std::string& device = "cpu");

// The mean loss of a saved model over the `valid` right-hand sides of `dataset` (the same
// number train_dcdm reports as valid_loss for the model it saved). Collective.
double evaluate_dcdm_model(const std::string& model_path, const EllipticOperator& op,
                           const std::string& dataset, int threads);

// Multiply-adds of one forward pass of the network on a grid with `cells` unknowns (analytic:
// the convolutions only). Forward + backward is about 3x forward, 2 FLOP per multiply-add.
double dcdm_forward_macs(int dim, double cells, const DcdmNetParams& net);

// Diagnostics (collective; b, q, v, out with op.matrix()'s layout). The loss of one direction,
// ||b - A q (q^T b)/(q^T A q)||^2, and A v, both with the sparse copy of op.matrix() in natural
// order that training uses (gathered to rank 0, double precision).
double dcdm_loss(const EllipticOperator& op, Vec b, Vec q);
void dcdm_training_operator_apply(const EllipticOperator& op, Vec v, Vec out);

}  // namespace aeolus::emulators
