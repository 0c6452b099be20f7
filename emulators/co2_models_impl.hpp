#pragma once
// The torch side of emulators/co2_models.hpp (internal to emulators/: includes torch): batches of
// samples as float64 tensors, the differentiable conservation layer, the sphere padding and the
// Swin window helpers, the two networks, and Co2Core, the module that a training loop drives:
//
//   Co2Core& core = model.core();
//   core.train();
//   Co2Batch b = make_co2_batch(samples, core.shape(), device);    // inputs at t
//   torch::Tensor loss = core.loss(b, q_next);                      // one-step, lat-weighted
//   loss.backward();  ... optimizer step ...
//   // fine-tuning: k consecutive steps, conservation in the loop, gradients through all of them
//   torch::Tensor l_k = core.rollout_loss(steps, q_true);
//
// Tensors: 3D fields [B, nlev, nlat, nlon], 2D fields [B, nlat, nlon], cell_area [nlat], all
// float64 on the batch's device; the network itself runs in float32.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "emulators/co2_conservation.hpp"
#include "emulators/co2_models.hpp"

namespace aeolus::emulators {

// ---------------------------------------------------------------------------------------------
// Batches.

struct Co2Batch {
  torch::Tensor q, airmass, airmass_next, u, v, omega;                   // [B, nlev, nlat, nlon]
  torch::Tensor u_next, v_next, omega_next;                              // [B, nlev, nlat, nlon]
  torch::Tensor blh, tisr, co2flux_land, co2flux_ocean, co2flux_anthro;  // [B, nlat, nlon]
  torch::Tensor cell_area;                                               // [nlat]
  double dt = 21600.0;
  std::int64_t size() const { return q.size(0); }
  // The field called `name` (a Co2InputParams name, or q / airmass / ...); ModelError if the
  // name is unknown or the tensor undefined.
  const torch::Tensor& field(const std::string& name) const;
  // F_land + F_ocean + F_anthro [B, nlat, nlon].
  torch::Tensor total_flux() const;
  // Every defined tensor moved to `device` (the same tensors where they are there already).
  Co2Batch to(const torch::Device& device) const;
};

// Stacks samples into a float64 batch on `device`. Fields empty in the first sample stay
// undefined; ModelError if a sample lacks a required field, has a wrong size, or the samples
// disagree on which fields they carry or on dt.
Co2Batch make_co2_batch(const std::vector<const Co2StepInput*>& samples, const Co2Shape& shape,
                        const torch::Device& device = torch::Device(torch::kCPU));

// ---------------------------------------------------------------------------------------------
// Conservation (float64, differentiable; the formulas of emulators/co2_conservation.hpp,
// batched over dim 0).

torch::Tensor co2_mass(const torch::Tensor& q, const torch::Tensor& airmass);  // [B]
torch::Tensor co2_surface_source_mass(const Co2Batch& b);                      // [B]
// The surface source as a mixing-ratio increment of the lowest layer, zero above
// [B, nlev, nlat, nlon].
torch::Tensor co2_surface_source_field(const Co2Batch& b);
torch::Tensor co2_add_surface_flux(const torch::Tensor& q, const Co2Batch& b);
// target: [B].
torch::Tensor co2_fix_mass_scale(const torch::Tensor& q, const torch::Tensor& airmass_next,
                                 const torch::Tensor& target);
torch::Tensor co2_fix_mass_shift(const torch::Tensor& q, const torch::Tensor& airmass_next,
                                 const torch::Tensor& target);
// fx, fy [B, nlev, nlat, nlon] (fy's last row ignored), fz [B, nlev - 1, nlat, nlon].
torch::Tensor co2_flux_form_update(const torch::Tensor& q, const torch::Tensor& airmass,
                                   const torch::Tensor& airmass_next, const torch::Tensor& fx,
                                   const torch::Tensor& fy, const torch::Tensor& fz);

// cos(latitude) of the cell centres, normalised to mean 1 [nlat] (float64).
torch::Tensor co2_latitude_weights(int nlat, const torch::TensorOptions& options);
// mean(w_lat * (a - b)^2) over batch, channels, latitude and longitude; a, b [B, C, nlat, nlon].
torch::Tensor co2_latitude_weighted_mse(const torch::Tensor& a, const torch::Tensor& b,
                                        const torch::Tensor& w_lat);

// ---------------------------------------------------------------------------------------------
// Sphere geometry for the networks.

// Pads [B, C, H, W] by p cells on every side: circular in longitude; in latitude `fold` (row
// -r is row r - 1 rolled by W / 2, the neighbour across the pole) or `replicate`.
torch::Tensor co2_pad_sphere(const torch::Tensor& x, int p, const std::string& lat_padding);

// Swin windows: [B, H, W, C] -> [B * nW, wh * ww, C], windows in row-major order (latitude
// slowest), and back.
torch::Tensor co2_window_partition(const torch::Tensor& x, int wh, int ww);
torch::Tensor co2_window_reverse(const torch::Tensor& windows, int wh, int ww, std::int64_t h,
                                 std::int64_t w);
// The additive attention mask [nW, N, N] (0 or -100) of a block shifted by shift_lat rows: the
// rows that the roll brought across a pole attend only to each other. Longitude needs no mask
// (the sphere wraps). Undefined tensor if shift_lat == 0.
torch::Tensor co2_shift_mask(std::int64_t h, std::int64_t w, int wh, int ww, int shift_lat);

// ---------------------------------------------------------------------------------------------
// Networks: [B, C_in, nlat, nlon] float32 -> [B, C_out, nlat, nlon].

class Co2Network : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};

// The registry of architectures (arch name -> factory); co2_network_names() lists them.
using Co2NetworkFactory =
    std::function<std::shared_ptr<Co2Network>(const Co2ModelParams&, int in, int out)>;
std::shared_ptr<Co2Network> make_co2_network(const Co2ModelParams& p, int in, int out);

// ---------------------------------------------------------------------------------------------
// The model: normalisation, network and conservation.

class Co2Core : public torch::nn::Module {
 public:
  Co2Core(const Co2ModelParams& params, const Co2NormStats& stats);
  const Co2ModelParams& params() const { return params_; }
  const Co2NormStats& stats() const { return stats_; }
  Co2Shape shape() const { return shape_; }
  int input_channels() const { return in_; }
  int output_channels() const { return out_; }
  Co2Network& network() { return *net_; }
  void set_threads(int threads) { params_.threads = threads; }

  // Normalised (and centred) network input [B, C_in, nlat, nlon], float32; computed in float64
  // and differentiable with respect to b.q (rollouts feed predictions back).
  torch::Tensor inputs(const Co2Batch& b) const;
  // The network on inputs(): float32 [B, C_out, nlat, nlon].
  torch::Tensor forward(const torch::Tensor& x);
  // Network output -> q at t + dt (float64), conservation included. fixer = false skips the
  // mass fixer of fixer_* models (the surface flux is still added), as CarbonBench trains (it
  // fixes only in evaluation); the default trains through the fixer, which is what the stepper
  // runs. flux_form always conserves.
  torch::Tensor conserve(const Co2Batch& b, const torch::Tensor& out, bool fixer = true) const;
  // flux_form: the physical face fluxes (kg per step) {fx, fy, fz} of a network output; the
  // normalised output times the increment std of the level (mean of the two levels for fz)
  // times the mean air mass (at t) of the two cells the face separates.
  std::vector<torch::Tensor> face_fluxes(const Co2Batch& b, const torch::Tensor& out) const;
  // One step: conserve(b, forward(inputs(b)), fixer).
  torch::Tensor step(const Co2Batch& b, bool fixer = true);
  // (q_new - b.q - surface source - increment_mean) / increment_std per level, float64: the
  // quantity the loss compares (a prediction's and the truth's).
  torch::Tensor normalised_increment(const Co2Batch& b, const torch::Tensor& q_new) const;
  // One-step loss: latitude-weighted MSE of the normalised increments of step(b) and of q_next.
  torch::Tensor loss(const Co2Batch& b, const torch::Tensor& q_next, bool fixer = true);
  // k = steps.size() consecutive steps: steps[0].q starts, steps[i > 0] supply the forcing of
  // step i (their q is replaced by the prediction). Returns q after each step. detach: cut the
  // gradient between steps (pushforward-style).
  std::vector<torch::Tensor> rollout(const std::vector<Co2Batch>& steps, bool fixer = true,
                                     bool detach = false);
  // Mean over the k steps of the latitude-weighted MSE of normalised increments, both taken
  // from the predicted state at the start of the step; q_true[i] is the truth after step i.
  // Equals loss() for k = 1.
  torch::Tensor rollout_loss(const std::vector<Co2Batch>& steps,
                             const std::vector<torch::Tensor>& q_true, bool fixer = true,
                             bool detach = false);

 private:
  torch::Tensor per_level(const std::vector<double>& v, const torch::Tensor& like) const;
  Co2ModelParams params_;
  Co2NormStats stats_;
  Co2Shape shape_;
  int in_ = 0, out_ = 0;
  std::shared_ptr<Co2Network> net_;
};

// The normalisation statistics as archive metadata "stats.*": write(key, IValue) and
// read(key) -> IValue are the archive's accessors (models and training checkpoints share them).
template <class Write>
void write_co2_stats(const Write& w, const Co2NormStats& s) {
  w("stats.co2_mean", s.co2_mean);
  w("stats.co2_scale", s.co2_scale);
  w("stats.input_mean", s.input_mean);
  w("stats.input_std", s.input_std);
  w("stats.increment_mean", s.increment_mean);
  w("stats.increment_std", s.increment_std);
  w("stats.samples", std::int64_t(s.samples));
}
template <class Read>
Co2NormStats read_co2_stats(const Read& r) {
  Co2NormStats s;
  s.co2_mean = r("stats.co2_mean").toDouble();
  s.co2_scale = r("stats.co2_scale").toDouble();
  s.input_mean = r("stats.input_mean").toDoubleVector();
  s.input_std = r("stats.input_std").toDoubleVector();
  s.increment_mean = r("stats.increment_mean").toDoubleVector();
  s.increment_std = r("stats.increment_std").toDoubleVector();
  s.samples = r("stats.samples").toInt();
  return s;
}

}  // namespace aeolus::emulators
