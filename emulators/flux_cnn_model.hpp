#pragma once
// Private to emulators/ (includes torch): the flux-stencil CNN, the metadata saved with it, and
// the one step function that both training (periodic batches) and the stepper (a rank's ghosted
// subdomain) run. Only the Boundary differs between the two, so what is trained is what runs.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <utility>

#include "emulators/flux_cnn.hpp"

namespace aeolus::emulators::detail {

// Bumped whenever the saved layout or the meaning of a saved value changes.
inline constexpr std::int64_t kFormatVersion = 2;
// Cells across each face in the flux stencil (odd: centred on the face's row/column).
inline constexpr int kTransverse = 3;
inline constexpr const char* kFormatName = "aeolus.flux_stencil_cnn";

// Everything a saved model needs besides its weights.
struct ModelSpec {
  FluxCnnParams params;
  double q_mean = 0, q_std = 1;  // normalisation of q (training set, all frames)
  double dt_frame = 0, dx = 0, dy = 0;
};

// Throws ConfigError naming the offending parameter.
void validate(const FluxCnnParams& p);

// Ghost layers the step reads around the cells it updates: the receptive radius of the CNN
// and the reach of the flux stencil on the low side of the first face.
int halo_width(const FluxCnnParams& p);

// `layers` 3x3 'valid' convolutions of `channels` with GELU, then a 1x1 linear head with
// 2*kTransverse*stencil outputs (flux mode: weights of the low x-face then the low y-face) or 1
// output (state mode: increment of normalised q). Input [B, 3, H + 2L, W + 2L] float, output [B,
// out, H, W].
class FluxStencilNetImpl : public torch::nn::Module {
 public:
  explicit FluxStencilNetImpl(const FluxCnnParams& p);
  torch::Tensor forward(const torch::Tensor& x);
  long long parameter_count() const;

 private:
  torch::nn::Sequential body_{nullptr};
  torch::nn::Conv2d head_{nullptr};
};
TORCH_MODULE(FluxStencilNet);

// Where the two callers differ. Tensors are double, [B, H, W] over the updated cells.
class Boundary {
 public:
  virtual ~Boundary() = default;
  // The updated cells q after applying the fluxes gx, gy through their low x- and y-faces;
  // the fluxes through their high faces are the low faces of the next cells, which may belong
  // to a neighbour. (Training applies them as they are; the stepper may limit them.)
  virtual torch::Tensor apply_fluxes(const torch::Tensor& q, const torch::Tensor& gx,
                                     const torch::Tensor& gy) = 0;
  // State mode: restore the total mass of q_old in q_new.
  virtual torch::Tensor fix_mass(const torch::Tensor& q_old, const torch::Tensor& q_new) = 0;
};

// One step of the emulator. q_pad, cx_pad, cy_pad: [B, H + 2h, W + 2h] double with
// h = halo_width (raw q; Courant numbers of the low x/y face of each cell). Returns q at
// t + dt_frame on the inner [B, H, W] cells. Differentiable (training) or not (NoGradGuard).
// If `stability` is given (flux output only), it receives the mean over samples of the von
// Neumann penalty mean(relu(|A(alpha, beta)|^2 - 1)) of the scheme the predicted weights define
// (each sample's weights averaged over its cells, a grid of wavenumbers): a learned linear
// scheme fitted to smooth data is otherwise free to amplify the short waves it never saw.
torch::Tensor advance(FluxStencilNet& net, const ModelSpec& spec, const torch::Tensor& q_pad,
                      const torch::Tensor& cx_pad, const torch::Tensor& cy_pad, Boundary& boundary,
                      torch::Tensor* stability = nullptr);

// Flux output only: the projected stencil weights [B, kTransverse * stencil, H, W] (double) of
// the low x- and y-faces of the updated cells, in the grid frame. With inputs = courant they
// depend on the Courant numbers only, so a stepper with a steady velocity computes them once
// and applies them with stencil_fluxes_2d (emulators/flux_cnn_stencil.hpp).
std::pair<torch::Tensor, torch::Tensor> flux_weights(FluxStencilNet& net, const ModelSpec& spec,
                                                     const torch::Tensor& q_pad,
                                                     const torch::Tensor& cx_pad,
                                                     const torch::Tensor& cy_pad);

// The periodic boundary of full-domain training samples.
class PeriodicBoundary final : public Boundary {
 public:
  explicit PeriodicBoundary(std::string mass_fixer) : mass_fixer_(std::move(mass_fixer)) {}
  torch::Tensor apply_fluxes(const torch::Tensor& q, const torch::Tensor& gx,
                             const torch::Tensor& gy) override;
  torch::Tensor fix_mass(const torch::Tensor& q_old, const torch::Tensor& q_new) override;

 private:
  std::string mass_fixer_;
};

// [B, H, W] -> [B, H + 2h, W + 2h] by circular indexing (any h, also h > H).
torch::Tensor periodic_pad(const torch::Tensor& t, int h);

// Save/load weights and spec in one torch archive. save: IoError if unwritable.
// load: IoError if missing/unreadable; ModelError if not a model or a wrong version.
void save_model(const std::string& path, FluxStencilNet& net, const ModelSpec& spec);
std::pair<FluxStencilNet, ModelSpec> load_model(const std::string& path);

}  // namespace aeolus::emulators::detail
