#pragma once
// Neural emulators of 2D periodic advection that plug into the same Stepper seam as the
// classical schemes. This header is torch-free on purpose: LibTorch headers take tens of seconds
// to compile, so the network, training and serialisation stay behind the .cpp files.
//
// The model is a "flux-stencil CNN" (after Bar-Sinai et al. 2019, learned data-driven
// discretisations): a small CNN looks at normalised q and the face Courant numbers and predicts,
// for each cell face, the weights of a `stencil`-cell interpolation of q whose time-integrated
// flux G = c * sum_k w_k q_k moves tracer between the two neighbours. Weights are projected to
// sum to 1 (constants are transported exactly) and each face flux enters both neighbours with
// opposite signs, so total mass is conserved to round-off without a fixer.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grids/cartesian_grid.hpp"
#include "grids/field.hpp"
#include "grids/progress.hpp"
#include "grids/types.hpp"
#include "physics/advection.hpp"
#include "solvers/stepper.hpp"

namespace aeolus::emulators {

struct FluxCnnParams {
  std::string output = "flux";      // flux | state (increment of normalised q per cell)
  std::string mass_fixer = "none";  // none | scale | shift; 'state' output requires scale or shift
  int channels = 16;                // width of every hidden conv layer
  int layers = 4;                   // 3x3 'valid' conv layers (= receptive radius in cells)
  int stencil = 6;                  // cells along each face normal (even, >= 2); x 3 across
  int threads = 2;                  // torch threads of the stepper (saved with the model)
  // fct: the stepper passes the network's fluxes through a flux-corrected-transport limiter
  // (solvers/fct.hpp): no new extrema, so long rollouts stay bounded; needs the outgoing
  // Courant numbers of every cell to sum to <= 1 per step. none: fluxes as predicted.
  std::string limiter = "fct";
  // What the network sees. courant: only the face Courant numbers, so the flux weights are a
  // learned linear scheme that varies with the local velocity (stable in long rollouts, limited
  // by FCT); courant+q: also the normalised state (data-dependent, nonlinear weights).
  std::string inputs = "courant";
};

struct FluxCnnTrainingParams {
  int epochs = 30;
  int batch_size = 16;
  double learning_rate = 2e-3;    // peak; cosine decay to 0 over `epochs`
  int rollout_steps = 1;          // >1: train through k consecutive steps, loss averaged over k
  int rollout_epochs = 0;         // with rollout_steps > 1: only the last rollout_epochs epochs
                                  // roll out (fine-tuning after one-step training); 0 = all
  std::uint64_t seed = 1;         // minibatch shuffling and weight initialisation
  bool mirror = true;             // train on a random mirror image (x and/or y) of each minibatch
  double stability_weight = 1.0;  // weight of the von Neumann penalty (flux output): keeps
                                  // the learned scheme from amplifying unseen short waves
  int threads = 2;                // torch intra-op threads during training
  double max_minutes = 8;         // wall-clock cap; training stops after the epoch that crosses it
};

struct FluxCnnTrainReport {
  int epochs = 0;               // epochs completed
  double seconds = 0;           // wall-clock training time
  double first_train_loss = 0;  // mean minibatch loss of epoch 1
  double final_train_loss = 0;  // mean minibatch loss of the last epoch
  double final_valid_loss = 0;  // validation loss after the last epoch (the saved model is
                                // the epoch with the best validation loss)
  long long parameters = 0;     // trainable parameters of the network
};

// One split of the training data (see io/dataset_format.hpp), held in memory. Arrays are row
// major with x fastest: q[((traj * frames + frame) * ny + j) * nx + i], u_face/v_face
// [(traj * ny + j) * nx + i] = normal velocity on the low x/y face of cell (i, j).
struct FluxCnnDataset {
  int nx = 0, ny = 0;
  int trajectories = 0;
  int frames = 0;         // frames per trajectory, frame 0 = initial state
  double dt_frame = 0;    // simulated time between frames (s)
  double dx = 0, dy = 0;  // cell sizes (m)
  std::vector<double> q, u_face, v_face;
};

// Reads and validates one split file. Missing variable/attribute, wrong dimensions or shape,
// wrong units or non-finite values -> IoError naming the file, the variable, got and expected.
FluxCnnDataset read_flux_cnn_dataset(const std::string& nc_path);

// Trains a model on `train`, selects the epoch with the best loss on `valid` and saves it to
// model_path (network weights plus everything needed to run it). log_path receives one CSV row
// per epoch: epoch,train_loss,valid_loss,seconds. Deterministic for a given seed, thread count
// and machine. Throws ConfigError for bad parameters, IoError if a file cannot be written.
// progress: lines "batch K/N  epoch E/EPOCHS  loss ...  valid ..." with elapsed time and ETA,
// at most every 10 s (grids/progress.hpp).
FluxCnnTrainReport train_flux_cnn(const FluxCnnParams& params,
                                  const FluxCnnTrainingParams& training,
                                  const FluxCnnDataset& train, const FluxCnnDataset& valid,
                                  const std::string& model_path, const std::string& log_path,
                                  const ProgressSink& progress = {});
// Same, reading data_dir/train.nc and data_dir/valid.nc.
FluxCnnTrainReport train_flux_cnn(const FluxCnnParams& params,
                                  const FluxCnnTrainingParams& training,
                                  const std::string& data_dir, const std::string& model_path,
                                  const std::string& log_path, const ProgressSink& progress = {});

// Loads and validates a saved model and wraps it as a Stepper on `grid` (2D, periodic in x and
// y). dx, dy are the case's cell sizes; they, and the grid spacing, must match the training data
// to 1e-12 relative. Missing file -> IoError; not a model, wrong format version or a mismatch
// with the case -> ModelError naming the file and both values. Collective over grid.comm().
std::unique_ptr<Stepper> make_flux_cnn_stepper(const CartesianGrid& grid,
                                               const physics::VelocityParams& velocity,
                                               const std::string& model_path, real_t dx, real_t dy);

// Mass fixers for state-predicting models: adjusts the owned cells of `after` so that
// after.sum() == target_mass to round-off. "scale" multiplies by target / sum (keeps zeros and
// signs; needs a non-zero target and a sum of its sign), "shift" adds the same amount to every
// cell. `before` is the state the step started from; it must live on the same decomposition and is
// only used to explain a refusal. Collective. Unknown type -> ConfigError; a sum that scale
// cannot fix -> NumericsError.
void apply_flux_cnn_mass_fixer(const std::string& type, const Field& before, Field& after,
                               real_t target_mass);

}  // namespace aeolus::emulators
