#pragma once
// Online training of a TorchScript model (TorchScriptModel) on the caller's arrays: a loss
// against a target, backward, gradients averaged over an MPI communicator (data parallel), an
// optional global-norm clip, and an optimizer step; saving the model (TorchScript) and the
// training state (optimizer state, step count), restoring the latter. Torch-free, like
// torchscript_model.hpp: the C API (api/) includes it.
//
// MPI. The communicator crosses as its Fortran handle (MPI_Fint as an int, as in the C API) or
// kNoComm (no MPI at all: MPI need not be initialised). With a communicator, the constructor,
// step, save and restore are collective, and an error found on any rank is thrown on every rank
// (of the kind it has where it was found: std::invalid_argument, IoError, ModelError, ...), its
// message prefixed with the rank that found it ("rank 1: ..."), so no rank is left waiting.
#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "emulators/torchscript_model.hpp"

namespace aeolus::emulators {

// No communicator: no gradient averaging, no MPI call (aeolus.h's AEOLUS_COMM_NONE).
inline constexpr int kNoComm = -1;

// The settings of online training, with their defaults: the one place they are defined (the C
// API reads them from a YAML section, docs/coupling.md lists them).
struct OnlineTrainingSettings {
  std::string optimizer = "adam";  // adam | sgd | adamw
  double learning_rate = 1e-3;     // > 0
  double weight_decay = 0.0;       // >= 0: L2 added to the gradient (adam, sgd); decoupled (adamw)
  double momentum = 0.9;           // sgd only, in [0, 1)
  std::array<double, 2> betas{0.9, 0.999};  // adam, adamw: each in [0, 1)
  std::string loss = "mse";                 // mse | l1: the mean over the output's elements
  double grad_clip = 0.0;  // > 0: the averaged gradient's global 2-norm is clipped to it
  int threads = 1;  // LibTorch's intra-op threads, set at creation; 0 leaves them as they are
};

const std::vector<std::string>& online_optimizers();  // adam, sgd, adamw
const std::vector<std::string>& online_losses();      // mse, l1
// std::invalid_argument naming the setting, its value and the expected range, if one is out of
// range (the YAML reader checks the same ranges with the file's line).
void check_settings(const OnlineTrainingSettings& s);

// Shares one rank's outcome over `comm` (collective; nothing with kNoComm): if any rank failed
// (`local` holds its exception), every rank throws the failure of the lowest failing rank, of its
// kind, its message prefixed "rank r: " where the communicator has more than one rank. With
// kNoComm or on one rank, `local` is rethrown as it is. Returns if no rank failed.
void share_outcome(int comm, std::exception_ptr local);

class TorchScriptTrainer {
 public:
  // Makes `model` trainable (its floating-point parameters require grad) with the optimizer of
  // `settings`. With a communicator: collective; the communicator is duplicated, rank 0's
  // parameters are broadcast so that every rank starts from the same ones. `model` must outlive
  // the trainer, and has at most one trainer at a time (std::invalid_argument otherwise).
  // Call check() first on every rank with the same arguments (it is not collective).
  TorchScriptTrainer(TorchScriptModel& model, const OnlineTrainingSettings& settings, int comm);
  ~TorchScriptTrainer();  // the parameters' requires_grad as they were; the model in eval mode
  TorchScriptTrainer(const TorchScriptTrainer&) = delete;
  TorchScriptTrainer& operator=(const TorchScriptTrainer&) = delete;

  // The local checks of the constructor (settings, model free of another trainer, parameters to
  // train, the communicator's handle): throws what the constructor would.
  static void check(const TorchScriptModel& model, const OnlineTrainingSettings& settings,
                    int comm);

  // One optimizer step; returns the loss before it, averaged over the ranks. Collective: `in`
  // and `target` are this rank's arrays (converted to the parameters' dtype when they are not of
  // it); target's shape must be the output's. On an error nothing is changed (no parameter, no
  // optimizer state, no step counted) on any rank; a loss that is not finite on some rank is a
  // NumericsError.
  double step(const ConstArrayRef& in, const ConstArrayRef& target);
  // The step this rank cannot take (its caller refused its arguments, `why`): takes part in the
  // step's collective so that every rank throws that error. Always throws.
  [[noreturn]] void refuse_step(std::exception_ptr why);

  // Writes the model as a TorchScript file (eval mode, loadable by TorchScriptModel and by
  // torch.jit.load) to model_path and the training state to state_path (empty: skipped). Rank 0
  // writes each file atomically (a temporary file beside it, renamed over it). Collective.
  void save(const std::string& model_path, const std::string& state_path);
  // Restores a state written by save: the optimizer's state (Adam's moments...) and the step
  // count; the settings stay this trainer's. Rank 0 reads the file and broadcasts it. A state of
  // another optimizer or of other parameters (count, shapes, dtype) is refused, named (ModelError);
  // a missing file is an IoError. Collective.
  void restore(const std::string& state_path);

  // Shares the outcome of a caller's own checks over the trainer's communicator, as
  // share_outcome does (collective; with kNoComm `local` is rethrown if set).
  void agree(std::exception_ptr local);

  std::int64_t steps() const;
  const OnlineTrainingSettings& settings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aeolus::emulators
