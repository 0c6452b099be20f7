// The CO2 emulator's presets and the checks of its model, training and evaluation parameters
// (emulators/co2_models.hpp, emulators/co2_training.hpp): light, no LibTorch call, so that the
// aeolus launcher checks a case file without loading LibTorch.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "emulators/co2_models.hpp"
#include "emulators/co2_training.hpp"
#include "emulators/device.hpp"
#include "emulators/param_text.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

namespace {

const std::vector<std::string> kFields3d = {
    "u", "v", "omega", "airmass", "airmass_next", "u_next", "v_next", "omega_next"};
const std::vector<std::string> kFields2d = {"blh",           "tisr",           "co2flux_land",
                                            "co2flux_ocean", "co2flux_anthro", "cell_area"};
const std::vector<std::string> kConservations = {"fixer_scale", "fixer_shift", "flux_form"};
const std::vector<std::string> kLatPaddings = {"fold", "replicate"};

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}
using detail::bad_value;

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

// The architectures of network_registry() in co2_models.cpp (whose factories build LibTorch
// modules), sorted: keep in step with it.
std::vector<std::string> co2_network_names() { return {"swin", "unet"}; }

// ---------------------------------------------------------------------------------------------
// Parameters.

std::vector<std::string> co2_model_preset_names() { return {"cpu_small", "gpu_large", "tiny"}; }

Co2ModelParams co2_model_preset(const std::string& name) {
  Co2ModelParams p;
  p.preset = name;
  if (name == "cpu_small") return p;
  if (name == "gpu_large") {
    p.unet.base_channels = 128;
    p.unet.max_channels = 512;
    p.unet.depth = 3;
    p.unet.blocks = 2;
    p.swin.embed_dim = 512;
    p.swin.depth = 12;
    p.swin.heads = 8;
    p.swin.window_lat = 4;
    p.swin.window_lon = 8;
    p.swin.patch = 1;
    return p;
  }
  if (name == "tiny") {
    p.unet.base_channels = 8;
    p.unet.max_channels = 16;
    p.unet.depth = 2;
    p.unet.blocks = 1;
    p.swin.embed_dim = 16;
    p.swin.depth = 2;
    p.swin.heads = 2;
    p.swin.window_lat = 4;
    p.swin.window_lon = 8;
    p.swin.patch = 2;
    p.swin.mlp_ratio = 2.0;
    return p;
  }
  throw_unknown_choice("preset", name, co2_model_preset_names());
}

void check_co2_model_params(const Co2ModelParams& p, const std::string& section) {
  const std::string k = section.empty() ? "" : section + ".";
  if (!contains(co2_model_preset_names(), p.preset))
    throw_unknown_choice(k + "preset", p.preset, co2_model_preset_names());
  if (!contains(co2_network_names(), p.arch))
    throw_unknown_choice(k + "arch", p.arch, co2_network_names());
  if (!contains(kConservations, p.conservation))
    throw_unknown_choice(k + "conservation", p.conservation, kConservations);
  const auto& in = p.inputs;
  if (in.nlev < 1) bad_value(k + "inputs.nlev", str(in.nlev), ">= 1");
  if (in.nlat < 2) bad_value(k + "inputs.nlat", str(in.nlat), ">= 2");
  if (in.nlon < 2 || in.nlon % 2 != 0)
    bad_value(k + "inputs.nlon", str(in.nlon), "an even number >= 2 (the grid is periodic)");
  const auto check_fields = [&](const std::string& key, const std::vector<std::string>& fields,
                                const std::vector<std::string>& known) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (!contains(known, fields[i])) throw_unknown_choice(k + key, fields[i], known);
      if (std::find(fields.begin(), fields.begin() + std::ptrdiff_t(i), fields[i]) !=
          fields.begin() + std::ptrdiff_t(i))
        throw ConfigError(k + key + " lists '" + fields[i] + "' twice; expected each once");
    }
  };
  check_fields("inputs.fields3d", in.fields3d, kFields3d);
  check_fields("inputs.fields2d", in.fields2d, kFields2d);
  check_fields("inputs.co2_products", in.co2_products, in.fields3d);
  if (!(p.dt > 0.0) || !std::isfinite(p.dt)) bad_value(k + "dt", str(p.dt), "> 0 seconds");
  if (p.threads < 1) bad_value(k + "threads", str(p.threads), ">= 1");

  if (p.arch == "unet") {
    const auto& u = p.unet;
    if (u.base_channels < 1) bad_value(k + "unet.base_channels", str(u.base_channels), ">= 1");
    if (u.max_channels < u.base_channels)
      bad_value(k + "unet.max_channels", str(u.max_channels),
                ">= unet.base_channels = " + str(u.base_channels));
    if (u.blocks < 1) bad_value(k + "unet.blocks", str(u.blocks), ">= 1");
    if (!contains(kLatPaddings, u.lat_padding))
      throw_unknown_choice(k + "unet.lat_padding", u.lat_padding, kLatPaddings);
    if (u.depth < 0 || u.depth > 8) bad_value(k + "unet.depth", str(u.depth), "0..8");
    const long long f = 1LL << u.depth;
    const long long f_lon = u.lat_padding == "fold" ? 2 * f : f;
    if (in.nlat % f != 0 || in.nlon % f_lon != 0)
      bad_value(
          k + "unet.depth", str(u.depth),
          "a depth at which the grid halves evenly: nlat = " + str(in.nlat) +
              " divisible by 2^depth and nlon = " + str(in.nlon) + " by 2^depth" +
              (u.lat_padding == "fold" ? " * 2 (the pole fold shifts by half a circle)" : ""));
  } else if (p.arch == "swin") {
    const auto& s = p.swin;
    if (s.embed_dim < 1) bad_value(k + "swin.embed_dim", str(s.embed_dim), ">= 1");
    if (s.depth < 1) bad_value(k + "swin.depth", str(s.depth), ">= 1");
    if (s.heads < 1 || s.embed_dim % s.heads != 0)
      bad_value(k + "swin.heads", str(s.heads),
                ">= 1 and dividing swin.embed_dim = " + str(s.embed_dim));
    if (!(s.mlp_ratio > 0.0)) bad_value(k + "swin.mlp_ratio", str(s.mlp_ratio), "> 0");
    if (s.patch < 1 || in.nlat % s.patch != 0 || in.nlon % s.patch != 0)
      bad_value(k + "swin.patch", str(s.patch),
                ">= 1 and dividing nlat = " + str(in.nlat) + " and nlon = " + str(in.nlon));
    const int ht = in.nlat / s.patch, wt = in.nlon / s.patch;
    if (s.window_lat < 1 || ht % s.window_lat != 0)
      bad_value(k + "swin.window_lat", str(s.window_lat),
                ">= 1 and dividing the token rows nlat / patch = " + str(ht));
    if (s.window_lon < 1 || wt % s.window_lon != 0)
      bad_value(k + "swin.window_lon", str(s.window_lon),
                ">= 1 and dividing the token columns nlon / patch = " + str(wt));
  }
}

// ---------------------------------------------------------------------------------------------
// Parameters.

void check_co2_training_params(const Co2TrainingParams& p, const std::string& section) {
  const std::string k = section.empty() ? "" : section + ".";
  if (p.epochs < 0) bad_value(k + "epochs", str(p.epochs), ">= 0");
  if (p.batch_size < 1) bad_value(k + "batch_size", str(p.batch_size), ">= 1");
  if (!(p.learning_rate > 0) || !std::isfinite(p.learning_rate))
    bad_value(k + "learning_rate", str(p.learning_rate), "> 0");
  if (!(p.weight_decay >= 0) || !std::isfinite(p.weight_decay))
    bad_value(k + "weight_decay", str(p.weight_decay), ">= 0");
  if (p.schedule != "cosine" && p.schedule != "constant")
    throw_unknown_choice(k + "schedule", p.schedule, {"cosine", "constant"});
  if (!(p.min_lr_fraction >= 0 && p.min_lr_fraction <= 1))
    bad_value(k + "min_lr_fraction", str(p.min_lr_fraction), "0..1");
  if (p.threads < 1) bad_value(k + "threads", str(p.threads), ">= 1");
  check_device_name(p.device, k + "device");
  if (p.samples_per_epoch < 0)
    bad_value(k + "samples_per_epoch", str(p.samples_per_epoch), ">= 0 (0 = all)");
  if (p.valid_samples < 0) bad_value(k + "valid_samples", str(p.valid_samples), ">= 0 (0 = all)");
  if (p.rollout_steps < 1) bad_value(k + "rollout_steps", str(p.rollout_steps), ">= 1");
  if (p.rollout_epochs < 0) bad_value(k + "rollout_epochs", str(p.rollout_epochs), ">= 0");
  if (!(p.rollout_learning_rate > 0) || !std::isfinite(p.rollout_learning_rate))
    bad_value(k + "rollout_learning_rate", str(p.rollout_learning_rate), "> 0");
  if (p.rollout_batch_size < 0)
    bad_value(k + "rollout_batch_size", str(p.rollout_batch_size), ">= 0 (0 = batch_size)");
  if (p.epochs + p.rollout_epochs < 1)
    bad_value(k + "epochs", str(p.epochs), ">= 1 (or rollout_epochs >= 1)");
  if (!(p.max_minutes >= 0) || !std::isfinite(p.max_minutes))
    bad_value(k + "max_minutes", str(p.max_minutes), ">= 0 (0 = no cap)");
  if (!(p.input_noise >= 0) || !std::isfinite(p.input_noise))
    bad_value(k + "input_noise", str(p.input_noise), ">= 0 (increment stds; 0 = none)");
  if (p.checkpoint_every < 1) bad_value(k + "checkpoint_every", str(p.checkpoint_every), ">= 1");
  if (p.checkpoint_keep < 1) bad_value(k + "checkpoint_keep", str(p.checkpoint_keep), ">= 1");
}

void check_co2_eval_params(const Co2EvalParams& p, const std::string& section) {
  const std::string k = section.empty() ? "" : section + ".";
  for (int d : p.start_days)
    if (d < 0) bad_value(k + "start_days", str(d), "days >= 0 from the test split's start");
  if (p.horizon_days < 1) bad_value(k + "horizon_days", str(p.horizon_days), ">= 1");
  for (int d : p.report_days)
    if (d < 1) bad_value(k + "report_days", str(d), "lead days >= 1");
  if (!(p.decorrelation_r2 > 0 && p.decorrelation_r2 <= 1))
    bad_value(k + "decorrelation_r2", str(p.decorrelation_r2), "in (0, 1]");
  if (p.long_rollout_days < 0)
    bad_value(k + "long_rollout_days", str(p.long_rollout_days), ">= 0 (0 = none)");
  if (p.threads < 0) bad_value(k + "threads", str(p.threads), ">= 0 (0 = the model's)");
  check_device_name(p.device, "model.device");
}

}  // namespace aeolus::emulators
