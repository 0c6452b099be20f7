#pragma once
// The learned part of the Deep Conjugate Direction Method (Kaneda et al., ICML 2023): a CNN
// that maps a normalised residual to a search direction, its training data (right-hand sides
// built from Ritz vectors of the discrete operator, weighted towards the low spectrum), its
// training with the scale-invariant loss ||b - A q (q^T b)/(q^T A q)||^2, and the adapter that
// makes a saved model a DirectionModel for solvers/dcdm.hpp. No torch type appears here.
#include <cstdint>
#include <memory>
#include <string>

#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"

namespace aeolus::emulators {

struct DcdmNetParams {
  int channels = 16;     // feature channels at full resolution (doubled after downsampling)
  int blocks = 2;        // residual blocks per level
  int threads = 2;       // torch intra-op threads
};

struct DcdmDatasetParams {
  int ritz = 400;          // Lanczos steps (Ritz vectors) on the training operator
  int samples = 2000;      // right-hand sides (train; valid adds `valid` more)
  int valid = 100;
  real_t low_weight = 9.0; // weight of the low half of the spectrum (paper: 9)
  std::uint64_t seed = 7;
};

struct DcdmTrainingParams {
  int epochs = 50;
  int batch_size = 16;
  real_t learning_rate = 1e-3;
  real_t max_minutes = 55;   // wall-clock cap; the best validation model is kept
  std::uint64_t seed = 1;
  int threads = 2;
};

// Writes `path` (NetCDF, CF-1.8): right-hand sides b (sample, [z,] y, x), unit 2-norm, built
// from the Ritz vectors of op.matrix(), plus the Ritz values. Collective; rank 0 writes.
void generate_dcdm_dataset(const EllipticOperator& op, const DcdmDatasetParams& p,
                           const std::string& path);

struct DcdmTrainReport {
  int epochs = 0;
  double seconds = 0;
  double train_loss = 0, valid_loss = 0;  // final (best) mean loss
  long long parameters = 0;
  double flops_per_sample = 0;            // forward + backward estimate
};

// Trains on `dataset` (from generate_dcdm_dataset on `op`) and saves the model to `model_path`
// with everything needed to run it (architecture, dimension, boundary kinds, centring, the
// training grid and step), atomically; a per-epoch CSV next to it. Rank 0 trains.
DcdmTrainReport train_dcdm(const EllipticOperator& op, const std::string& dataset,
                           const DcdmNetParams& net, const DcdmTrainingParams& training,
                           const std::string& model_path);

// A saved model as a DirectionModel for operators of the same dimension, boundary kinds and
// centring on any grid whose sizes the network accepts (even); ModelError otherwise, naming
// the file and what differs.
std::unique_ptr<DirectionModel> load_dcdm_model(const std::string& model_path,
                                                const EllipticOperator& op, int threads);

}  // namespace aeolus::emulators
