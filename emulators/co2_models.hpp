#pragma once
// Neural emulators of global CO2 transport on a lat-lon grid, after CarbonBench (Benson et al.
// 2024, "Atmospheric Transport Modeling of CO2 with Neural Networks", JAMES; code
// vitusbenson/neural_transport). No torch type appears here: the networks, the batched and
// differentiable training API and the serialisation are behind emulators/co2_models.cpp and
// emulators/co2_models_impl.hpp.
//
// One step (dt, 6 h by default) maps the state at t to q at t + dt:
//  1. Inputs: CO2 normalised by one scale and centred to zero mean per sample over all levels
//     and cells (CarbonBench's `targshift`: the network never sees the rising background, so a
//     constant added to q leaves the prediction unchanged), then the chosen meteorological
//     fields at t (and air mass at t + dt) and surface fields, each normalised per channel
//     (3D fields per level) with statistics from the training data.
//  2. A network (arch: unet | swin) maps them to the normalised transport increment of every
//     level (fixer_scale, fixer_shift) or to normalised tracer mass fluxes through the cell
//     faces (flux_form).
//  3. Conservation, in double precision (emulators/co2_conservation.hpp):
//       fixer_scale / fixer_shift: q' = q + increment; the mass fixer makes sum(q' m(t+dt))
//         = sum(q m(t)) (the transported mass, CarbonBench's order); then the surface flux goes
//         explicitly into the lowest layer;
//       flux_form: q' = (q m(t) + convergence of the face fluxes) / m(t+dt), then the same
//         explicit surface flux.
//     Either way sum(q_new m(t+dt)) = sum(q m(t)) + sum(F area) dt to round-off at every step.
// The network runs in float32 (weights are trained in float32; its error is orders of magnitude
// above float32 rounding, and float64 would double the cost); normalisation, centring and the
// conservation run in float64, because the 6-hour increment is ~1e-3 of q and the budget must
// close to double round-off.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "emulators/co2_conservation.hpp"

namespace aeolus::emulators {

// ---------------------------------------------------------------------------------------------
// Parameters.

struct Co2InputParams {
  int nlev = 10;  // levels (k = 0 model top .. nlev - 1 surface); the 64x128x20 grid works too
  int nlat = 32;  // rows, south to north, no pole points
  int nlon = 64;  // columns, periodic
  // 3D inputs, nlev channels each: u | v | omega | airmass at t, airmass_next (the air mass at
  // t + dt, which the step must map onto), and u_next | v_next | omega_next (the winds at t + dt:
  // with both ends of the step the network sees how the flow changes within it).
  std::vector<std::string> fields3d = {"u", "v", "omega", "airmass", "airmass_next"};
  // 2D inputs, one channel each: blh | tisr | co2flux_land | co2flux_ocean | co2flux_anthro |
  // cell_area (the only input that tells a convolution or window where in latitude it is).
  std::vector<std::string> fields2d = {"blh",           "tisr",           "co2flux_land",
                                       "co2flux_ocean", "co2flux_anthro", "cell_area"};
  bool centre_co2 = true;  // subtract the per-sample mean of the normalised CO2 (see above)
  // Flux channels: for each named 3D input (a subset of fields3d), its normalised value times
  // the normalised (centred) CO2 of the same level, one channel per level, after the 2D
  // inputs. A transport increment is the divergence of such products (u q, v q, omega q): with
  // them as inputs a convolution can form it linearly instead of learning to multiply two
  // channels. Empty: none (CarbonBench's inputs).
  std::vector<std::string> co2_products;
};

struct Co2UnetParams {
  int base_channels = 32;  // channels at full resolution, doubled per level up to max_channels
  int max_channels = 128;
  int depth = 3;   // 2x downsamplings: nlat divisible by 2^depth, nlon by 2^(depth+1) for fold
  int blocks = 1;  // residual blocks per level, in the encoder and in the decoder
  // Latitude halo. fold: the row beyond a pole is the first row on the far side, half a turn
  // away in longitude (the sphere's true neighbour; vector components are not sign-flipped);
  // replicate: the edge row repeated.
  std::string lat_padding = "fold";
};

struct Co2SwinParams {
  int embed_dim = 96;
  int depth = 6;  // transformer blocks of one flat stage; odd blocks use shifted windows
  int heads = 4;
  int window_lat = 4;  // window size in tokens
  int window_lon = 8;
  int patch = 2;           // cells per token side
  double mlp_ratio = 4.0;  // hidden width of the MLP / embed_dim
};

struct Co2ModelParams {
  std::string preset = "cpu_small";          // which preset the sizes started from (recorded)
  std::string arch = "unet";                 // unet | swin
  std::string conservation = "fixer_scale";  // fixer_scale | fixer_shift | flux_form
  Co2InputParams inputs;
  Co2UnetParams unet;
  Co2SwinParams swin;
  double dt = 21600.0;  // seconds per step; predict_step refuses another dt
  int threads = 2;      // torch intra-op threads of predict_step (saved with the model)
};

// Named sizes. cpu_small (the member defaults): trains on 2 CPU cores in under an hour on ~4
// years of 6-hourly samples (see co2_model_forward_macs). gpu_large: CarbonBench's sizes (Swin
// "S": patch 1, window 4x8, embed 512, 12 blocks, 8 heads; UNet 128 channels widening to 512).
// tiny: seconds-long tests and smoke runs. Sets unet and swin; arch and conservation keep
// their defaults. ConfigError for an unknown name.
Co2ModelParams co2_model_preset(const std::string& name);
std::vector<std::string> co2_model_preset_names();
// The network architectures (model.arch), sorted.
std::vector<std::string> co2_network_names();

// ConfigError naming the key (SECTION.arch, SECTION.unet.depth, SECTION.inputs.fields3d, ...),
// the value and what was expected: unknown names, sizes out of range, a grid the chosen
// network cannot tile. Only the chosen arch's sizes are checked.
void check_co2_model_params(const Co2ModelParams& p, const std::string& section = "model");

// The network's input channels in order: "co2[0]".."co2[nlev-1]", then each 3D field per level
// ("u[0]"...), then the 2D fields, then the flux channels ("co2*u[0]"...).
std::vector<std::string> co2_input_channel_names(const Co2ModelParams& p);
// How many channels Co2NormStats::input_mean/std cover: the 3D and 2D fields (not the CO2
// channels, nor the flux channels, which are products of normalised channels).
std::size_t co2_stat_channel_count(const Co2ModelParams& p);
// Output channels: nlev (fixers) or 3 nlev - 1 (flux_form: x faces, y faces, z interfaces).
int co2_output_channels(const Co2ModelParams& p);

// Multiply-adds of one forward pass for one sample (analytic: convolutions, linear layers and
// attention products). Forward + backward is about 3x forward, 2 FLOP per multiply-add.
double co2_model_forward_macs(const Co2ModelParams& p);

// ---------------------------------------------------------------------------------------------
// Data of one step.

// Raw physical fields of one sample at t (layout of emulators/co2_conservation.hpp). Fields the
// model does not use may be left empty; q, airmass, airmass_next, the three fluxes and cell_area
// are always needed.
struct Co2StepInput {
  std::vector<double> q;                           // [nlev][nlat][nlon] kg/kg
  std::vector<double> airmass;                     // [nlev][nlat][nlon] kg at t
  std::vector<double> airmass_next;                // [nlev][nlat][nlon] kg at t + dt
  std::vector<double> u, v, omega;                 // [nlev][nlat][nlon] m/s, m/s, Pa/s
  std::vector<double> u_next, v_next, omega_next;  // the same at t + dt
  std::vector<double> blh, tisr;                   // [nlat][nlon] m, J m-2
  std::vector<double> co2flux_land, co2flux_ocean, co2flux_anthro;  // [nlat][nlon] kg m-2 s-1
  std::vector<double> cell_area;                                    // [nlat] m^2
  double dt = 21600.0;                                              // s
};

struct Co2StepOutput {
  std::vector<double> q;      // [nlev][nlat][nlon] at t + dt, after conservation
  double mass_before = 0;     // sum(q * airmass) at t (kg)
  double surface_source = 0;  // sum(F * cell_area) * dt (kg)
  double mass_after = 0;      // sum(q_new * airmass_next): mass_before + surface_source
  // Fixers: relative mass error of the raw prediction, sum((q + increment) m_next) / M(t) - 1,
  // i.e. how much the fixer had to correct. flux_form: 0.
  double raw_mass_error = 0;
};

// ---------------------------------------------------------------------------------------------
// Normalisation statistics (saved with the model).

struct Co2NormStats {
  // CO2 input: (q - co2_mean) / co2_scale. With centring the sample mean replaces co2_mean and
  // co2_scale is the std of the centred q (the spatial spread, not the multi-year trend).
  double co2_mean = 0.0, co2_scale = 1.0;
  // The 3D and 2D input channels (co2_stat_channel_count), in co2_input_channel_names order
  // after the nlev CO2 channels; the flux channels need none (products of normalised ones).
  std::vector<double> input_mean, input_std;
  // Per level: the transport increment q(t+dt) - q(t) - surface source (the source only in the
  // lowest layer, F area dt / airmass_next), which is what the network predicts (fixers) or
  // what scales its fluxes (flux_form).
  std::vector<double> increment_mean, increment_std;
  long long samples = 0;
};

// ModelError naming the statistic, the channel and the value: sizes that do not fit p, a std
// that is not positive and finite.
void check_co2_norm_stats(const Co2NormStats& s, const Co2ModelParams& p);

// Streams training samples into Co2NormStats (exact per-channel means and variances, merged
// with Chan's formula). The training driver adds every training sample; data-parallel ranks
// merge their partial accumulators (merge) before finish().
class Co2StatsAccumulator {
 public:
  explicit Co2StatsAccumulator(const Co2ModelParams& p);
  // One sample: the inputs at t and the true q at t + dt. ModelError for a missing field or a
  // wrong size.
  void add(const Co2StepInput& in, const std::vector<double>& q_next);
  void merge(const Co2StatsAccumulator& other);
  long long samples() const { return samples_; }
  // Stds below 1e-12 of the channel's magnitude (a constant channel) become 1. ModelError if
  // no sample was added.
  Co2NormStats finish() const;

 private:
  struct Moments {
    double n = 0, mean = 0, m2 = 0;
    void merge(double n_b, double mean_b, double m2_b);
  };
  Co2ModelParams params_;
  Moments co2_raw_, co2_centred_;
  std::vector<Moments> inputs_, increments_;
  long long samples_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The model.

class Co2Core;  // the torch module (emulators/co2_models_impl.hpp)

class Co2Model {
 public:
  // A new network with weights drawn from `seed` (torch's global generator is reseeded, so every
  // rank of a data-parallel run starts from the same weights), normalising with `stats`.
  // ConfigError / ModelError as check_co2_model_params / check_co2_norm_stats.
  Co2Model(const Co2ModelParams& params, const Co2NormStats& stats, std::uint64_t seed = 0);
  // Reads a saved model: IoError if the file cannot be read, ModelError if it is not a CO2
  // model, has another format version or malformed metadata, or weights that do not fit.
  static Co2Model load(const std::string& path);
  ~Co2Model();
  Co2Model(Co2Model&&) noexcept;
  Co2Model& operator=(Co2Model&&) noexcept;
  Co2Model(const Co2Model&) = delete;
  Co2Model& operator=(const Co2Model&) = delete;

  // Writes weights, params, stats and `info` (free provenance: data set, epochs, losses) to
  // `path` atomically: a saved model carries everything needed to run it. IoError on failure.
  void save(const std::string& path, const std::map<std::string, std::string>& info = {}) const;
  // The info saved with the model (empty for a new one).
  const std::map<std::string, std::string>& info() const { return info_; }

  // One step: in at t -> q at t + in.dt after conservation; the budget closes to round-off
  // (see Co2StepOutput). The network runs in float32 on device() (the CPU unless set_device
  // moved it), the normalisation there in double; the conservation runs on the CPU in double.
  // Runs with params().threads torch threads, in eval mode; deterministic for a given thread
  // count; not for concurrent calls. ModelError for a missing or mis-sized field or another dt;
  // NumericsError if the prediction is not finite or a fixer cannot act.
  Co2StepOutput predict_step(const Co2StepInput& in) const;

  const Co2ModelParams& params() const;
  const Co2NormStats& stats() const;
  Co2Shape shape() const;
  long long parameter_count() const;
  void set_threads(int threads);
  // Moves the network to `device` (cpu | cuda | cuda:N). ConfigError naming `key` for an
  // unknown name or a device this LibTorch cannot see (Debian's LibTorch is CPU-only). A saved
  // model does not record its device: load() reads it onto the CPU.
  void set_device(const std::string& device, const std::string& key = "model.device");
  std::string device() const;  // "cpu", "cuda:0", ...

  // The torch side, for the training code inside emulators/ (co2_models_impl.hpp).
  Co2Core& core() { return *core_; }
  const Co2Core& core() const { return *core_; }

 private:
  explicit Co2Model(std::shared_ptr<Co2Core> core);
  std::shared_ptr<Co2Core> core_;
  std::map<std::string, std::string> info_;
};

}  // namespace aeolus::emulators
