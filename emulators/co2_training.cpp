// Training and evaluation of the CO2 transport emulators (emulators/co2_training.hpp).
#include "emulators/co2_training.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <utility>

#include "emulators/co2_models_impl.hpp"
#include "emulators/device.hpp"
#include "emulators/device_impl.hpp"
#include "emulators/model_archive.hpp"
#include "emulators/param_text.hpp"
#include "grids/error.hpp"
#include "grids/format.hpp"
#include "grids/petsc_util.hpp"
#include "grids/progress.hpp"
#include "io/collective.hpp"
#include "io/json.hpp"
#include "io/netcdf_file.hpp"
#include "physics/co2_met.hpp"

namespace aeolus::emulators {

using torch::Tensor;
namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr const char* kCheckpointFormat = "aeolus.co2_training_checkpoint";
constexpr const char* kCheckpointKind = "Aeolus CO2 training checkpoint";
constexpr std::int64_t kCheckpointVersion = 1;
const char* const kStageNames[2] = {"one_step", "rollout"};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}
using detail::bad_value;

// Runs fn() on every rank; if it throws on any rank, every rank throws: the failing rank its
// own exception, the others the same type with the lowest failing rank's message. Keeps the
// ranks in step where a failure may be local (reading, memory).
template <class Fn>
void on_all_ranks(MPI_Comm comm, Fn&& fn) {
  std::exception_ptr error;
  int code = 0;  // 0 none, 1 ConfigError, 2 IoError, 3 NumericsError, 4 ModelError, 5 other
  std::string message;
  try {
    fn();
  } catch (const ConfigError& e) {
    error = std::current_exception(), code = 1, message = e.what();
  } catch (const IoError& e) {
    error = std::current_exception(), code = 2, message = e.what();
  } catch (const NumericsError& e) {
    error = std::current_exception(), code = 3, message = e.what();
  } catch (const ModelError& e) {
    error = std::current_exception(), code = 4, message = e.what();
  } catch (const std::exception& e) {
    error = std::current_exception(), code = 5, message = e.what();
  }
  const int rank = comm_rank(comm);
  int first = code ? rank : std::numeric_limits<int>::max();
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == std::numeric_limits<int>::max()) return;
  MPI_Bcast(&code, 1, MPI_INT, first, comm);
  std::vector<char> text(message.begin(), message.end());
  int len = int(text.size());
  MPI_Bcast(&len, 1, MPI_INT, first, comm);
  text.resize(std::size_t(len));
  MPI_Bcast(text.data(), len, MPI_CHAR, first, comm);
  if (error) std::rethrow_exception(error);
  const std::string m =
      "rank " + std::to_string(first) + ": " + std::string(text.begin(), text.end());
  switch (code) {
    case 1:
      throw ConfigError(m);
    case 2:
      throw IoError(m);
    case 3:
      throw NumericsError(m);
    case 4:
      throw ModelError(m);
    default:
      throw Error(m);
  }
}

// ---------------------------------------------------------------------------------------------
// Batches straight from the split's arrays (no Co2StepInput copies).

Tensor stack3(const Co2SplitData& d, const std::vector<std::size_t>& idx,
              const double* (Co2SplitData::*field)(std::size_t) const, std::size_t offset = 0) {
  const Co2Shape s = d.shape();
  const std::size_t n = s.cells3d();
  Tensor t = torch::empty({std::int64_t(idx.size()), s.nlev, s.nlat, s.nlon}, torch::kFloat64);
  double* dst = t.data_ptr<double>();
  for (std::size_t b = 0; b < idx.size(); ++b) {
    const double* src = (d.*field)(idx[b] + offset);
    std::copy(src, src + n, dst + b * n);
  }
  return t;
}

Tensor stack2(const Co2SplitData& d, const std::vector<std::size_t>& idx,
              const double* (Co2SplitData::*field)(std::size_t) const) {
  const Co2Shape s = d.shape();
  const std::size_t n = s.cells2d();
  Tensor t = torch::empty({std::int64_t(idx.size()), s.nlat, s.nlon}, torch::kFloat64);
  double* dst = t.data_ptr<double>();
  for (std::size_t b = 0; b < idx.size(); ++b) {
    const double* src = (d.*field)(idx[b]);
    std::copy(src, src + n, dst + b * n);
  }
  return t;
}

Tensor stack_float(const Co2SplitData& d, const std::vector<std::size_t>& idx,
                   const float* (Co2SplitData::*field)(std::size_t) const, bool three_d,
                   std::size_t offset = 0) {
  const Co2Shape s = d.shape();
  const std::size_t n = three_d ? s.cells3d() : s.cells2d();
  const auto b = std::int64_t(idx.size());
  Tensor t = three_d ? torch::empty({b, s.nlev, s.nlat, s.nlon}, torch::kFloat64)
                     : torch::empty({b, s.nlat, s.nlon}, torch::kFloat64);
  double* dst = t.data_ptr<double>();
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const float* src = (d.*field)(idx[k] + offset);
    for (std::size_t c = 0; c < n; ++c) dst[k * n + c] = double(src[c]);
  }
  return t;
}

bool uses(const std::vector<std::string>& fields, const char* name) {
  return std::find(fields.begin(), fields.end(), name) != fields.end();
}

// The batch of pairs idx: inputs at idx, air mass at idx + 1. Only the meteorology the model
// reads is stacked.
Co2Batch batch_of(const Co2SplitData& d, const std::vector<std::size_t>& idx,
                  const Co2ModelParams& p) {
  Co2Batch b;
  b.q = stack3(d, idx, &Co2SplitData::q);
  b.airmass = stack3(d, idx, &Co2SplitData::airmass);
  b.airmass_next = stack3(d, idx, &Co2SplitData::airmass, 1);
  b.co2flux_land = stack2(d, idx, &Co2SplitData::flux_land);
  b.co2flux_ocean = stack2(d, idx, &Co2SplitData::flux_ocean);
  b.co2flux_anthro = stack2(d, idx, &Co2SplitData::flux_anthro);
  b.cell_area = torch::tensor(d.cell_area(), torch::kFloat64);
  b.dt = d.dt();
  const auto& f3 = p.inputs.fields3d;
  const auto& f2 = p.inputs.fields2d;
  if (uses(f3, "u")) b.u = stack_float(d, idx, &Co2SplitData::u, true);
  if (uses(f3, "v")) b.v = stack_float(d, idx, &Co2SplitData::v, true);
  if (uses(f3, "omega")) b.omega = stack_float(d, idx, &Co2SplitData::omega, true);
  if (uses(f3, "u_next")) b.u_next = stack_float(d, idx, &Co2SplitData::u, true, 1);
  if (uses(f3, "v_next")) b.v_next = stack_float(d, idx, &Co2SplitData::v, true, 1);
  if (uses(f3, "omega_next")) b.omega_next = stack_float(d, idx, &Co2SplitData::omega, true, 1);
  if (uses(f2, "blh")) b.blh = stack_float(d, idx, &Co2SplitData::blh, false);
  if (uses(f2, "tisr")) b.tisr = stack_float(d, idx, &Co2SplitData::tisr, false);
  return b;
}

bool needs_meteorology(const Co2ModelParams& p) {
  for (const char* f : {"u", "v", "omega", "u_next", "v_next", "omega_next"})
    if (uses(p.inputs.fields3d, f)) return true;
  for (const char* f : {"blh", "tisr"})
    if (uses(p.inputs.fields2d, f)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Parameters as text: what a checkpoint must agree on to be resumed.

std::vector<std::pair<std::string, std::string>> run_config(const Co2ModelParams& m,
                                                            const Co2TrainingParams& t) {
  const auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
    return s;
  };
  return {{"model.preset", m.preset},
          {"model.arch", m.arch},
          {"model.conservation", m.conservation},
          {"model.inputs.nlev", str(m.inputs.nlev)},
          {"model.inputs.nlat", str(m.inputs.nlat)},
          {"model.inputs.nlon", str(m.inputs.nlon)},
          {"model.inputs.fields3d", join(m.inputs.fields3d)},
          {"model.inputs.fields2d", join(m.inputs.fields2d)},
          {"model.inputs.centre_co2", str(m.inputs.centre_co2)},
          {"model.inputs.co2_products", join(m.inputs.co2_products)},
          {"model.unet.base_channels", str(m.unet.base_channels)},
          {"model.unet.max_channels", str(m.unet.max_channels)},
          {"model.unet.depth", str(m.unet.depth)},
          {"model.unet.blocks", str(m.unet.blocks)},
          {"model.unet.lat_padding", m.unet.lat_padding},
          {"model.swin.embed_dim", str(m.swin.embed_dim)},
          {"model.swin.depth", str(m.swin.depth)},
          {"model.swin.heads", str(m.swin.heads)},
          {"model.swin.window_lat", str(m.swin.window_lat)},
          {"model.swin.window_lon", str(m.swin.window_lon)},
          {"model.swin.patch", str(m.swin.patch)},
          {"model.swin.mlp_ratio", str(m.swin.mlp_ratio)},
          {"model.dt", str(m.dt)},
          {"training.epochs", str(t.epochs)},
          {"training.batch_size", str(t.batch_size)},
          {"training.learning_rate", str(t.learning_rate)},
          {"training.weight_decay", str(t.weight_decay)},
          {"training.schedule", t.schedule},
          {"training.min_lr_fraction", str(t.min_lr_fraction)},
          {"training.seed", str(t.seed)},
          {"training.samples_per_epoch", str(t.samples_per_epoch)},
          {"training.valid_samples", str(t.valid_samples)},
          {"training.rollout_steps", str(t.rollout_steps)},
          {"training.rollout_epochs", str(t.rollout_epochs)},
          {"training.rollout_learning_rate", str(t.rollout_learning_rate)},
          {"training.rollout_batch_size", str(t.rollout_batch_size)},
          {"training.train_through_fixer", str(t.train_through_fixer)},
          {"training.input_noise", str(t.input_noise)}};
}

std::string encode_config(const std::vector<std::pair<std::string, std::string>>& c) {
  std::string s;
  for (const auto& [k, v] : c) s += k + "=" + v + "\n";
  return s;
}

std::map<std::string, std::string> decode_config(const std::string& s) {
  std::map<std::string, std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Flat parameter buffers for MPI.

std::int64_t total_numel(const std::vector<Tensor>& params) {
  std::int64_t n = 0;
  for (const auto& p : params) n += p.numel();
  return n;
}

// Sums the gradients of all ranks (one MPI_Allreduce over a CPU buffer, whatever device the
// parameters are on); undefined gradients count as zero.
void allreduce_gradients(MPI_Comm comm, std::vector<Tensor>& params, std::vector<float>& flat) {
  flat.assign(std::size_t(total_numel(params)), 0.0f);
  std::size_t off = 0;
  for (const auto& p : params) {
    const auto n = std::size_t(p.numel());
    if (p.grad().defined()) {
      const Tensor g = p.grad().to(torch::kCPU).contiguous();
      std::copy(g.data_ptr<float>(), g.data_ptr<float>() + n, flat.data() + off);
    }
    off += n;
  }
  MPI_Allreduce(MPI_IN_PLACE, flat.data(), int(flat.size()), MPI_FLOAT, MPI_SUM, comm);
  off = 0;
  for (auto& p : params) {
    const Tensor src = torch::from_blob(flat.data() + off, p.sizes(), torch::kFloat32);
    if (!p.grad().defined()) {
      p.mutable_grad() = src.to(p.device(), src.scalar_type(), false, /*copy=*/true);
    } else {
      p.mutable_grad().copy_(src);
    }
    off += std::size_t(p.numel());
  }
}

// Rank 0's parameter values on every rank.
void broadcast_parameters(MPI_Comm comm, std::vector<Tensor> params) {
  std::vector<float> flat(std::size_t(total_numel(params)));
  torch::NoGradGuard no_grad;
  std::size_t off = 0;
  for (const auto& p : params) {
    const Tensor c = p.detach().to(torch::kCPU).contiguous();
    std::copy(c.data_ptr<float>(), c.data_ptr<float>() + p.numel(), flat.data() + off);
    off += std::size_t(p.numel());
  }
  MPI_Bcast(flat.data(), int(flat.size()), MPI_FLOAT, 0, comm);
  off = 0;
  for (auto& p : params) {
    p.copy_(torch::from_blob(flat.data() + off, p.sizes(), torch::kFloat32));
    off += std::size_t(p.numel());
  }
}

// The AdamW moments onto `device` (a loaded optimizer state is on the CPU).
void optimizer_to(torch::optim::AdamW& opt, const torch::Device& device) {
  for (auto& [key, state] : opt.state()) {
    auto& s = static_cast<torch::optim::AdamWParamState&>(*state);
    if (s.exp_avg().defined()) s.exp_avg(s.exp_avg().to(device));
    if (s.exp_avg_sq().defined()) s.exp_avg_sq(s.exp_avg_sq().to(device));
    if (s.max_exp_avg_sq().defined()) s.max_exp_avg_sq(s.max_exp_avg_sq().to(device));
  }
}

// This rank's rank among the ranks of its node (collective).
int node_local_rank(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int local = 0;
  MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  return local;
}

// training.device on this rank: "cuda" takes the node's GPUs in turn (by node-local rank).
torch::Device training_device(const std::string& name, int local_rank) {
  const torch::Device d = detail::torch_device(name, "training.device");
  if (!d.is_cuda() || d.has_index()) return d;
  const int n = std::max<int>(1, int(torch::cuda::device_count()));
  return torch::Device(torch::kCUDA, torch::DeviceIndex(local_rank % n));
}

void broadcast_stats(MPI_Comm comm, Co2NormStats& s, const Co2ModelParams& p) {
  const std::size_t nin = co2_stat_channel_count(p);
  const std::size_t nlev = std::size_t(p.inputs.nlev);
  std::vector<double> buf;
  if (comm_rank(comm) == 0) {
    buf = {s.co2_mean, s.co2_scale, double(s.samples)};
    buf.insert(buf.end(), s.input_mean.begin(), s.input_mean.end());
    buf.insert(buf.end(), s.input_std.begin(), s.input_std.end());
    buf.insert(buf.end(), s.increment_mean.begin(), s.increment_mean.end());
    buf.insert(buf.end(), s.increment_std.begin(), s.increment_std.end());
  }
  buf.resize(3 + 2 * nin + 2 * nlev);
  MPI_Bcast(buf.data(), int(buf.size()), MPI_DOUBLE, 0, comm);
  s.co2_mean = buf[0];
  s.co2_scale = buf[1];
  s.samples = (long long)(buf[2]);
  auto it = buf.begin() + 3;
  const auto take = [&](std::vector<double>& v, std::size_t n) {
    v.assign(it, it + std::ptrdiff_t(n));
    it += std::ptrdiff_t(n);
  };
  take(s.input_mean, nin);
  take(s.input_std, nin);
  take(s.increment_mean, nlev);
  take(s.increment_std, nlev);
}

// ---------------------------------------------------------------------------------------------
// The training state that a checkpoint holds.

struct Position {
  int stage = 0;             // 0 one-step, 1 rollout, 2 done
  int epoch = 0;             // next epoch of the stage (from 0)
  long long batch = 0;       // next batch of that epoch
  bool stage_ready = false;  // the stage's optimizer exists (its first batch may have run)
};

struct TrainState {
  Position pos;
  double epoch_loss_sum = 0;  // the current epoch's batches so far
  long long epoch_batches = 0;
  double epoch_seconds = 0;
  double best_valid = std::numeric_limits<double>::infinity();
  int best_stage = 0, best_epoch = 0;
  std::vector<Tensor> best;  // parameter values of the best weights
  std::vector<Co2EpochRecord> history;
  double training_seconds = 0;
  double stats_seconds = 0;
};

std::string checkpoint_name(const Position& p) {
  char b[64];
  std::snprintf(b, sizeof b, "co2_ckpt_s%d_e%04d_b%06lld.pt", p.stage, p.epoch, p.batch);
  return b;
}

// The complete checkpoints in dir, oldest first (names sort in training order).
std::vector<std::string> list_checkpoints(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("co2_ckpt_", 0) == 0 && name.size() > 3 &&
        name.compare(name.size() - 3, 3, ".pt") == 0)
      out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  for (auto& n : out) n = (fs::path(dir) / n).string();
  return out;
}

void write_checkpoint(const std::string& path, Co2Core& core, torch::optim::Optimizer* optimizer,
                      const TrainState& st, const Co2NormStats& stats, const std::string& config) {
  torch::serialize::OutputArchive archive;
  {
    torch::serialize::OutputArchive model;
    core.save(model);
    archive.write("model", model);
  }
  for (std::size_t i = 0; i < st.best.size(); ++i) archive.write("best." + str(i), st.best[i]);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("torch_rng", gen.get_state());
  }
  const auto w = [&](const std::string& key, c10::IValue v) {
    archive.write("meta." + key, std::move(v));
  };
  w("format", std::string(kCheckpointFormat));
  w("version", kCheckpointVersion);
  w("config", config);
  w("stage", std::int64_t(st.pos.stage));
  w("epoch", std::int64_t(st.pos.epoch));
  w("batch", std::int64_t(st.pos.batch));
  w("stage_ready", st.pos.stage_ready);
  w("has_optimizer", optimizer != nullptr);
  w("epoch_loss_sum", st.epoch_loss_sum);
  w("epoch_batches", std::int64_t(st.epoch_batches));
  w("epoch_seconds", st.epoch_seconds);
  w("best_valid", st.best_valid);
  w("best_stage", std::int64_t(st.best_stage));
  w("best_epoch", std::int64_t(st.best_epoch));
  w("best_count", std::int64_t(st.best.size()));
  w("training_seconds", st.training_seconds);
  w("stats_seconds", st.stats_seconds);
  std::vector<std::int64_t> h_stage, h_epoch, h_best;
  std::vector<double> h_train, h_valid, h_lr, h_sec;
  for (const auto& r : st.history) {
    h_stage.push_back(r.stage == kStageNames[1] ? 1 : 0);
    h_epoch.push_back(r.epoch);
    h_best.push_back(r.best ? 1 : 0);
    h_train.push_back(r.train_loss);
    h_valid.push_back(r.valid_loss);
    h_lr.push_back(r.learning_rate);
    h_sec.push_back(r.seconds);
  }
  w("history.count", std::int64_t(st.history.size()));
  if (!st.history.empty()) {
    w("history.stage", h_stage);
    w("history.epoch", h_epoch);
    w("history.best", h_best);
    w("history.train_loss", h_train);
    w("history.valid_loss", h_valid);
    w("history.learning_rate", h_lr);
    w("history.seconds", h_sec);
  }
  write_co2_stats(w, stats);
  detail::save_model_archive(archive, path);
}

struct LoadedCheckpoint {
  TrainState state;
  Co2NormStats stats;
  std::string config;
  bool has_optimizer = false;
};

// Reads the metadata and statistics (weights later, into the built model).
LoadedCheckpoint read_checkpoint_meta(detail::ModelArchive& file) {
  file.check_version(kCheckpointVersion);
  LoadedCheckpoint c;
  file.parse_metadata([&] {
    const auto r = [&](const std::string& key) { return file.read("meta." + key); };
    TrainState& st = c.state;
    c.config = r("config").toStringRef();
    st.pos.stage = int(r("stage").toInt());
    st.pos.epoch = int(r("epoch").toInt());
    st.pos.batch = r("batch").toInt();
    st.pos.stage_ready = r("stage_ready").toBool();
    c.has_optimizer = r("has_optimizer").toBool();
    st.epoch_loss_sum = r("epoch_loss_sum").toDouble();
    st.epoch_batches = r("epoch_batches").toInt();
    st.epoch_seconds = r("epoch_seconds").toDouble();
    st.best_valid = r("best_valid").toDouble();
    st.best_stage = int(r("best_stage").toInt());
    st.best_epoch = int(r("best_epoch").toInt());
    st.training_seconds = r("training_seconds").toDouble();
    st.stats_seconds = r("stats_seconds").toDouble();
    const auto nb = r("best_count").toInt();
    for (std::int64_t i = 0; i < nb; ++i) {
      Tensor t;
      file.archive().read("best." + str(i), t);
      st.best.push_back(t);
    }
    const auto nh = r("history.count").toInt();
    if (nh > 0) {
      const auto stage = r("history.stage").toIntVector();
      const auto epoch = r("history.epoch").toIntVector();
      const auto best = r("history.best").toIntVector();
      const auto train = r("history.train_loss").toDoubleVector();
      const auto valid = r("history.valid_loss").toDoubleVector();
      const auto lr = r("history.learning_rate").toDoubleVector();
      const auto sec = r("history.seconds").toDoubleVector();
      for (std::int64_t i = 0; i < nh; ++i) {
        Co2EpochRecord e;
        e.stage = kStageNames[stage.at(std::size_t(i)) ? 1 : 0];
        e.epoch = int(epoch.at(std::size_t(i)));
        e.best = best.at(std::size_t(i)) != 0;
        e.train_loss = train.at(std::size_t(i));
        e.valid_loss = valid.at(std::size_t(i));
        e.learning_rate = lr.at(std::size_t(i));
        e.seconds = sec.at(std::size_t(i));
        st.history.push_back(e);
      }
    }
    Co2NormStats& s = c.stats;
    s = read_co2_stats(r);
  });
  return c;
}

// ---------------------------------------------------------------------------------------------
// The schedule.

// The permutation of the stage's items for one epoch: a function of (seed, stage, epoch).
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed, int stage, int epoch) {
  std::seed_seq seq{std::uint32_t(seed), std::uint32_t(seed >> 32), std::uint32_t(stage),
                    std::uint32_t(epoch), 0x5eedc02u};
  std::mt19937_64 rng(seq);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  return order;
}

// The input noise of items idx (training.input_noise): [B, nlev, nlat, nlon] float64, each
// item's drawn from a generator seeded by (seed, stage, epoch, item), scaled by the level's
// increment std and shifted to zero air-mass-weighted mean per item.
Tensor input_noise(const Co2TrainingParams& t, const Co2NormStats& stats, const Tensor& airmass,
                   const std::vector<std::size_t>& idx, int stage, int epoch) {
  const auto sizes = airmass.sizes();
  std::vector<Tensor> items;
  for (std::size_t item : idx) {
    std::seed_seq seq{std::uint32_t(t.seed),
                      std::uint32_t(t.seed >> 32),
                      std::uint32_t(stage),
                      std::uint32_t(epoch),
                      std::uint32_t(item),
                      std::uint32_t(item >> 32),
                      0x2015eu};
    std::uint64_t words[2];
    seq.generate(words, words + 2);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(words[0]);
    items.push_back(torch::randn({sizes[1], sizes[2], sizes[3]}, gen, torch::kFloat64));
  }
  const Tensor sigma =
      torch::tensor(stats.increment_std, torch::kFloat64).view({1, -1, 1, 1}) * t.input_noise;
  const Tensor noise = torch::stack(items) * sigma;
  const Tensor mean = (noise * airmass).sum({1, 2, 3}, true) / airmass.sum({1, 2, 3}, true);
  return noise - mean;
}

double learning_rate(const Co2TrainingParams& t, int stage, long long step, long long steps) {
  const double lr0 = stage == 0 ? t.learning_rate : t.rollout_learning_rate;
  if (t.schedule == "constant" || steps <= 1) return lr0;
  const double end = t.min_lr_fraction * lr0;
  return end + (lr0 - end) * 0.5 * (1.0 + std::cos(kPi * double(step) / double(steps)));
}

void set_learning_rate(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

// Evenly spaced subset of 0..n-1 of size m (all if m <= 0 or m >= n).
std::vector<std::size_t> spaced(std::size_t n, long long m) {
  std::vector<std::size_t> out;
  if (m <= 0 || std::size_t(m) >= n) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(i);
  } else {
    for (long long j = 0; j < m; ++j) out.push_back(std::size_t(j) * n / std::size_t(m));
  }
  return out;
}

// This rank's part [begin, end) of the global batch [b0, b1).
std::pair<std::size_t, std::size_t> shard(std::size_t b0, std::size_t b1, int rank, int ranks) {
  const std::size_t n = b1 - b0;
  return {b0 + n * std::size_t(rank) / std::size_t(ranks),
          b0 + n * std::size_t(rank + 1) / std::size_t(ranks)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Training.

namespace {

class Trainer {
 public:
  Trainer(MPI_Comm comm, const Co2ModelParams& mp, const Co2TrainingParams& tp,
          const Co2SplitData& train, const Co2SplitData* valid, const Co2TrainLog& log,
          const torch::Device& device)
      : comm_(comm),
        rank_(comm_rank(comm)),
        ranks_(comm_size(comm)),
        device_(device),
        mp_(mp),
        tp_(tp),
        train_(train),
        valid_(valid),
        log_(log) {}

  void say(const std::string& line) const {
    if (rank_ == 0 && log_) log_(line);
  }

  // Items of a stage: pairs (one-step) or rollout start indices.
  std::size_t items(int stage) const {
    if (stage == 0) return train_.pairs();
    const std::size_t k = std::size_t(tp_.rollout_steps);
    return train_.pairs() >= k ? train_.pairs() - k + 1 : 0;
  }
  std::size_t per_epoch(int stage) const {
    const std::size_t n = items(stage);
    return tp_.samples_per_epoch > 0 ? std::min(n, std::size_t(tp_.samples_per_epoch)) : n;
  }
  std::size_t batch_size(int stage) const {
    return std::size_t(stage == 1 && tp_.rollout_batch_size > 0 ? tp_.rollout_batch_size
                                                                : tp_.batch_size);
  }
  long long batches(int stage) const {
    const std::size_t b = batch_size(stage);
    return (long long)((per_epoch(stage) + b - 1) / b);
  }
  int epochs(int stage) const { return stage == 0 ? tp_.epochs : tp_.rollout_epochs; }

  // The loss of items [begin, end) of `order` (this rank's shard), times its share of the
  // global batch; backward included when `train`. The batch is stacked (and its noise drawn)
  // on the CPU, then moved to the training device.
  // epoch: the stage's epoch (seeds the input noise of training batches).
  double shard_loss(Co2Core& core, int stage, const Co2SplitData& data,
                    const std::vector<std::size_t>& idx, double share, bool train, int epoch = 0) {
    const bool fixer = tp_.train_through_fixer;
    const bool noisy = train && tp_.input_noise > 0;
    Tensor loss;
    if (stage == 0) {
      Co2Batch b = batch_of(data, idx, mp_);
      if (noisy) b.q = b.q + input_noise(tp_, core.stats(), b.airmass, idx, stage, epoch);
      loss = core.loss(b.to(device_), stack3(data, idx, &Co2SplitData::q, 1).to(device_), fixer);
    } else {
      std::vector<Co2Batch> steps;
      std::vector<Tensor> truth;
      std::vector<std::size_t> at = idx;
      for (int s = 0; s < tp_.rollout_steps; ++s) {
        steps.push_back(batch_of(data, at, mp_));
        truth.push_back(stack3(data, at, &Co2SplitData::q, 1).to(device_));
        for (auto& i : at) ++i;
      }
      if (noisy)
        steps[0].q =
            steps[0].q + input_noise(tp_, core.stats(), steps[0].airmass, idx, stage, epoch);
      for (auto& b : steps) b = b.to(device_);
      loss = core.rollout_loss(steps, truth, fixer);
    }
    const Tensor scaled = loss * share;
    if (train) scaled.backward();
    return scaled.item<double>();
  }

  // Validation loss of the stage's metric (mean over items), collective. NaN without data.
  double validate(Co2Core& core, int stage) {
    if (!valid_) return kNaN;
    const std::size_t k = stage == 0 ? 1 : std::size_t(tp_.rollout_steps);
    if (valid_->pairs() < k) return kNaN;
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i + k <= valid_->pairs(); i += k) starts.push_back(i);
    const auto pick = spaced(starts.size(), tp_.valid_samples);
    std::vector<std::size_t> items;
    for (auto j : pick) items.push_back(starts[j]);
    torch::NoGradGuard no_grad;
    const bool training = core.is_training();
    core.eval();
    double sum = 0;
    const std::size_t bs = batch_size(stage);
    const auto [lo, hi] = shard(0, items.size(), rank_, ranks_);
    for (std::size_t b0 = lo; b0 < hi; b0 += bs) {
      const std::size_t b1 = std::min(hi, b0 + bs);
      std::vector<std::size_t> idx(items.begin() + std::ptrdiff_t(b0),
                                   items.begin() + std::ptrdiff_t(b1));
      sum += shard_loss(core, stage, *valid_, idx, double(b1 - b0), false);
    }
    core.train(training);
    if (ranks_ > 1) MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, comm_);
    return sum / double(items.size());
  }

  std::vector<Tensor> snapshot(Co2Core& core) const {
    std::vector<Tensor> out;
    for (const auto& p : core.parameters()) out.push_back(p.detach().clone());
    return out;
  }
  static void restore(Co2Core& core, const std::vector<Tensor>& values) {
    torch::NoGradGuard no_grad;
    const auto params = core.parameters();
    if (params.size() != values.size())
      throw ModelError("CO2 training: " + str(values.size()) + " saved parameter tensors for " +
                       str(params.size()) + " in the model");
    for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(values[i]);
  }

  // Runs from st.pos to the end (true) or to the wall cap (false, after a checkpoint).
  bool run(Co2Core& core, TrainState& st, std::unique_ptr<torch::optim::AdamW>& opt,
           const std::function<void(const TrainState&, torch::optim::Optimizer*)>& checkpoint,
           Clock::time_point call_start) {
    std::vector<Tensor> params = core.parameters();
    std::vector<float> flat;
    core.train();
    const auto over_time = [&] {
      int stop = tp_.max_minutes > 0 && seconds_since(call_start) > 60.0 * tp_.max_minutes;
      if (ranks_ > 1) MPI_Bcast(&stop, 1, MPI_INT, 0, comm_);
      return stop != 0;
    };
    // Skips stages without epochs; true when nothing is left.
    const auto settle = [&] {
      while (st.pos.stage < 2 && st.pos.epoch >= epochs(st.pos.stage))
        st.pos = Position{st.pos.stage + 1, 0, 0, false};
      return st.pos.stage >= 2;
    };
    ProgressMeter meter(rank_ == 0 ? log_ : ProgressSink{}, "batch",
                        batches_before(Position{2, 0, 0, false}), 10.0, batches_before(st.pos));
    while (!settle()) {
      const int stage = st.pos.stage, epoch = st.pos.epoch;
      if (items(stage) == 0)
        throw ConfigError("training.rollout_steps = " + str(tp_.rollout_steps) +
                          " needs at least " + str(tp_.rollout_steps) +
                          " consecutive training pairs; the split has " + str(train_.pairs()));
      const double lr0 = stage == 0 ? tp_.learning_rate : tp_.rollout_learning_rate;
      if (!st.pos.stage_ready) start_stage(core, st, opt, params, stage, lr0);
      const long long nb = batches(stage);
      const auto order = permutation(items(stage), tp_.seed, stage, epoch);
      const auto epoch_start = Clock::now();
      const double seconds_before = st.epoch_seconds;
      double lr = lr0;
      for (; st.pos.batch < nb; ++st.pos.batch) {
        lr = train_batch(core, st, *opt, params, flat, order);
        const long long done = batches_before(st.pos) + 1;
        if (meter.due(done)) {
          meter.emit(done, std::string(kStageNames[stage]) + " epoch " + str(epoch + 1) + "/" +
                               str(epochs(stage)) + " batch " + str(st.pos.batch + 1) + "/" +
                               str(nb) + ", loss " +
                               format_sci(st.epoch_loss_sum / double(st.epoch_batches)));
        }
        if (st.pos.batch + 1 < nb && over_time()) {
          ++st.pos.batch;
          st.epoch_seconds = seconds_before + seconds_since(epoch_start);
          checkpoint(st, opt.get());
          say("stopped by max_minutes = " + str(tp_.max_minutes) + " in " + kStageNames[stage] +
              " epoch " + str(epoch + 1) + " after batch " + str(st.pos.batch) + " of " + str(nb) +
              "; resume continues from there");
          return false;
        }
      }
      finish_epoch(core, st, lr, seconds_before, epoch_start);
      if (settle()) return true;  // the caller writes the final checkpoint
      const bool stage_end = st.pos.stage != stage;
      bool written = false;
      if (stage_end || st.pos.epoch % tp_.checkpoint_every == 0) {
        checkpoint(st, opt.get());
        written = true;
      }
      if (over_time()) {
        if (!written) checkpoint(st, opt.get());
        say("stopped by max_minutes = " + str(tp_.max_minutes) + " after " + kStageNames[stage] +
            " epoch " + str(epoch + 1) + "; resume continues from there");
        return false;
      }
    }
    return true;
  }

 private:
  // Batches of both stages before position p, for the progress lines (an epoch can take
  // minutes).
  long long batches_before(const Position& p) const {
    long long n = 0;
    for (int s = 0; s < std::min(p.stage, 2); ++s) n += (long long)epochs(s) * batches(s);
    if (p.stage < 2) n += (long long)p.epoch * batches(p.stage) + p.batch;
    return n;
  }

  // The optimizer of a stage (learning rate lr0). The rollout stage fine-tunes from the best
  // one-step weights; they stay the best unless a fine-tuned epoch beats their k-step
  // validation loss.
  void start_stage(Co2Core& core, TrainState& st, std::unique_ptr<torch::optim::AdamW>& opt,
                   std::vector<Tensor>& params, int stage, double lr0) {
    if (stage == 1) {
      if (!st.best.empty()) restore(core, st.best);
      st.best = snapshot(core);
      st.best_valid = validate(core, 1);
      if (std::isnan(st.best_valid)) st.best_valid = std::numeric_limits<double>::infinity();
      say("rollout fine-tuning (" + str(tp_.rollout_steps) + " steps) from " +
          kStageNames[st.best_stage] + " epoch " + str(st.best_epoch) + ": " +
          str(tp_.rollout_steps) + "-step validation loss " + fmt("%.6g", st.best_valid));
    }
    opt = std::make_unique<torch::optim::AdamW>(
        params, torch::optim::AdamWOptions(lr0).weight_decay(tp_.weight_decay));
    st.pos.stage_ready = true;
  }

  // Batch st.pos.batch of the epoch's item order: this rank's shard, gradients summed over the
  // ranks, one optimizer step; the epoch's loss sums and training time grow. Returns the
  // learning rate of the batch. NumericsError if the loss is not finite.
  double train_batch(Co2Core& core, TrainState& st, torch::optim::AdamW& opt,
                     std::vector<Tensor>& params, std::vector<float>& flat,
                     const std::vector<std::size_t>& order) {
    const int stage = st.pos.stage, epoch = st.pos.epoch;
    const long long nb = batches(stage);
    const std::size_t n = per_epoch(stage), bs = batch_size(stage);
    const auto batch_start = Clock::now();
    const std::size_t b0 = std::size_t(st.pos.batch) * bs, b1 = std::min(n, b0 + bs);
    const auto [lo, hi] = shard(b0, b1, rank_, ranks_);
    const double lr = learning_rate(tp_, stage, (long long)epoch * nb + st.pos.batch,
                                    (long long)epochs(stage) * nb);
    set_learning_rate(opt, lr);
    opt.zero_grad();
    double loss = 0;
    if (hi > lo) {
      const std::vector<std::size_t> idx(order.begin() + std::ptrdiff_t(lo),
                                         order.begin() + std::ptrdiff_t(hi));
      loss = shard_loss(core, stage, train_, idx, double(hi - lo) / double(b1 - b0), true, epoch);
    }
    if (ranks_ > 1) {
      allreduce_gradients(comm_, params, flat);
      MPI_Allreduce(MPI_IN_PLACE, &loss, 1, MPI_DOUBLE, MPI_SUM, comm_);
    }
    if (!std::isfinite(loss))
      throw NumericsError("CO2 training: the " + std::string(kStageNames[stage]) + " loss is " +
                          str(loss) + " at epoch " + str(epoch + 1) + " batch " +
                          str(st.pos.batch + 1) + " (learning rate " + fmt("%.3g", lr) +
                          "); lower the learning rate");
    opt.step();
    st.epoch_loss_sum += loss;
    ++st.epoch_batches;
    st.training_seconds += seconds_since(batch_start);
    return lr;
  }

  // The end of epoch st.pos.epoch: its validation loss, its record (best weights kept), its
  // log line; the position moves to the next epoch. lr: the last batch's learning rate; the
  // epoch's wall time (validation included) is seconds_before (before a resume) plus the time
  // since epoch_start.
  void finish_epoch(Co2Core& core, TrainState& st, double lr, double seconds_before,
                    Clock::time_point epoch_start) {
    const int stage = st.pos.stage, epoch = st.pos.epoch;
    const auto valid_start = Clock::now();
    const double valid = validate(core, stage);
    st.training_seconds += seconds_since(valid_start);
    Co2EpochRecord rec;
    rec.stage = kStageNames[stage];
    rec.epoch = epoch + 1;
    rec.train_loss = st.epoch_loss_sum / double(std::max<long long>(1, st.epoch_batches));
    rec.valid_loss = valid;
    rec.learning_rate = lr;
    rec.seconds = seconds_before + seconds_since(epoch_start);
    // Without validation data the newest weights are the best.
    rec.best = std::isnan(valid) || valid < st.best_valid;
    if (rec.best) {
      st.best_valid = std::isnan(valid) ? std::numeric_limits<double>::infinity() : valid;
      st.best_stage = stage;
      st.best_epoch = epoch + 1;
      st.best = snapshot(core);
    }
    st.history.push_back(rec);
    say(std::string(kStageNames[stage]) + " epoch " + str(epoch + 1) + "/" + str(epochs(stage)) +
        ": train loss " + fmt("%.6g", rec.train_loss) + ", validation loss " + fmt("%.6g", valid) +
        (rec.best ? " (best)" : "") + ", learning rate " + fmt("%.3g", lr) + ", " +
        fmt("%.1f", rec.seconds) + " s");
    st.pos.batch = 0;
    st.epoch_loss_sum = 0;
    st.epoch_batches = 0;
    st.epoch_seconds = 0;
    ++st.pos.epoch;
  }

  MPI_Comm comm_;
  int rank_, ranks_;
  torch::Device device_;
  Co2ModelParams mp_;
  Co2TrainingParams tp_;
  const Co2SplitData& train_;
  const Co2SplitData* valid_;
  Co2TrainLog log_;
};

// The steps of train_co2_model.

// The newest checkpoint of an earlier run of this training, "" for a fresh start (rank 0 looks,
// all agree). IoError if checkpoints exist and resume is false.
std::string checkpoint_to_resume(MPI_Comm comm, const std::string& checkpoint_dir, bool resume) {
  std::string ckpt;
  io::on_root(comm, [&] {
    const auto found = list_checkpoints(checkpoint_dir);
    if (!found.empty() && !resume)
      throw IoError("CO2 training: " + checkpoint_dir + " holds checkpoints of an earlier run (" +
                    found.back() + "); pass resume to continue it or remove them");
    if (!found.empty()) ckpt = found.back();
  });
  return io::broadcast_string(comm, ckpt);
}

// Reads the training and validation splits on every rank (the validation split's first file
// ends the training split's last pair) and checks them against the model's step; the report
// gets the data facts.
void read_training_data(MPI_Comm comm, const Co2ModelParams& model,
                        const std::vector<std::string>& train_files,
                        const std::vector<std::string>& valid_files, Co2SplitData& train,
                        Co2SplitData& valid, Co2TrainReport& report, const Co2TrainLog& say) {
  const auto data_start = Clock::now();
  const Co2ReadOptions ro = co2_read_options(model);
  on_all_ranks(comm, [&] {
    train = Co2SplitData::read(train_files, valid_files.empty() ? "" : valid_files.front(), ro);
    if (!valid_files.empty()) valid = Co2SplitData::read(valid_files, "", ro);
  });
  if (std::abs(train.dt() - model.dt) > 1e-9 * model.dt)
    throw ConfigError("CO2 training: the data's dt_sample = " + str(train.dt()) +
                      " s, but model.dt = " + str(model.dt) + " s");
  report.data_seconds = seconds_since(data_start);
  report.train_pairs = (long long)train.pairs();
  report.valid_pairs = valid_files.empty() ? 0 : (long long)valid.pairs();
  say("CO2 training data: " + str(train.pairs()) + " training pairs (" + str(train_files.size()) +
      " files), " + str(report.valid_pairs) + " validation pairs, " +
      fmt("%.2f", double(train.bytes() + valid.bytes()) / 1e9) + " GB per rank, read in " +
      fmt("%.1f", report.data_seconds) + " s; " + str(comm_size(comm)) + " rank(s)");
}

// Opens checkpoint `ckpt` on every rank and takes its training state and statistics; the run's
// settings must be those the checkpoint was written with (ConfigError naming the first that
// differs). Returns the open archive for the weights (load_checkpoint_weights).
std::unique_ptr<detail::ModelArchive> resume_state(MPI_Comm comm, const std::string& ckpt,
                                                   const Co2ModelParams& model,
                                                   const Co2TrainingParams& training,
                                                   LoadedCheckpoint& loaded, TrainState& st,
                                                   Co2NormStats& stats, const Co2TrainLog& say) {
  std::unique_ptr<detail::ModelArchive> archive;
  on_all_ranks(comm, [&] {
    archive = std::make_unique<detail::ModelArchive>(ckpt, kCheckpointFormat, kCheckpointKind);
    loaded = read_checkpoint_meta(*archive);
  });
  const auto have = decode_config(loaded.config);
  for (const auto& [key, value] : run_config(model, training)) {
    const auto it = have.find(key);
    const std::string old = it == have.end() ? "(absent)" : it->second;
    if (old != value)
      throw ConfigError("CO2 training: checkpoint " + ckpt + " was written with " + key + " = " +
                        old + "; this run has " + value +
                        ": resume with the same settings or start afresh");
  }
  st = loaded.state;
  stats = loaded.stats;
  say("resuming from " + ckpt + " (" + kStageNames[std::min(st.pos.stage, 1)] + " epoch " +
      str(st.pos.epoch + 1) + ", batch " + str(st.pos.batch + 1) + ")");
  return archive;
}

// The normalisation statistics of the training pairs (rank 0 computes, all receive them).
Co2NormStats training_stats(MPI_Comm comm, const Co2ModelParams& model, const Co2SplitData& train,
                            TrainState& st, const Co2TrainLog& say) {
  const auto stats_start = Clock::now();
  Co2NormStats stats;
  io::on_root(comm, [&] {
    Co2StatsAccumulator acc(model);
    for (std::size_t i = 0; i < train.pairs(); ++i) acc.add(train.step_input(i), train.q_next(i));
    stats = acc.finish();
  });
  broadcast_stats(comm, stats, model);
  st.stats_seconds = seconds_since(stats_start);
  say("normalisation statistics of " + str(stats.samples) + " pairs in " +
      fmt("%.1f", st.stats_seconds) + " s");
  return stats;
}

// The weights, the current stage's optimizer and torch's generator from the checkpoint, onto
// `device`, on every rank.
void load_checkpoint_weights(MPI_Comm comm, detail::ModelArchive& archive, const std::string& ckpt,
                             const LoadedCheckpoint& loaded, const TrainState& st,
                             const Co2TrainingParams& training, const torch::Device& device,
                             Co2Core& core, std::unique_ptr<torch::optim::AdamW>& opt) {
  on_all_ranks(comm, [&] {
    // The archive was read onto the CPU; loading places the weights there, then they move.
    torch::serialize::InputArchive sub;
    archive.archive().read("model", sub);
    core.load(sub);
    core.to(device);
    if (st.pos.stage < 2 && st.pos.stage_ready) {
      if (!loaded.has_optimizer)
        throw ModelError("checkpoint " + ckpt + " lacks the optimizer state of its stage");
      const double lr0 =
          st.pos.stage == 0 ? training.learning_rate : training.rollout_learning_rate;
      opt = std::make_unique<torch::optim::AdamW>(
          core.parameters(), torch::optim::AdamWOptions(lr0).weight_decay(training.weight_decay));
      torch::serialize::InputArchive os;
      archive.archive().read("optimizer", os);
      opt->load(os);
      optimizer_to(*opt, device);
    }
    Tensor rng;
    archive.archive().read("torch_rng", rng);
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  });
}

// The provenance saved with the trained model (Co2Model::info).
std::map<std::string, std::string> trained_model_info(const Co2TrainingParams& training,
                                                      const std::vector<std::string>& train_files,
                                                      const std::vector<std::string>& valid_files,
                                                      const TrainState& st,
                                                      const Co2TrainReport& report, int ranks) {
  std::map<std::string, std::string> info;
  const auto names = [](const std::vector<std::string>& files) {
    std::string s;
    for (std::size_t i = 0; i < files.size(); ++i)
      s += (i ? "," : "") + fs::path(files[i]).filename().string();
    return s;
  };
  std::string train_losses, valid_losses;
  for (std::size_t i = 0; i < st.history.size(); ++i) {
    train_losses += (i ? "," : "") + fmt("%.6g", st.history[i].train_loss);
    valid_losses += (i ? "," : "") + fmt("%.6g", st.history[i].valid_loss);
  }
  info["data.train_files"] = names(train_files);
  info["data.valid_files"] = names(valid_files);
  info["data.train_pairs"] = str(report.train_pairs);
  info["data.valid_pairs"] = str(report.valid_pairs);
  info["training.epochs"] = str(training.epochs);
  info["training.rollout_epochs"] = str(training.rollout_epochs);
  info["training.rollout_steps"] = str(training.rollout_steps);
  info["training.batch_size"] = str(training.batch_size);
  info["training.learning_rate"] = str(training.learning_rate);
  info["training.seed"] = str(training.seed);
  info["training.ranks"] = str(ranks);
  info["training.device"] = report.device;
  info["training.seconds"] = fmt("%.1f", st.training_seconds);
  info["training.train_losses"] = train_losses;
  info["training.valid_losses"] = valid_losses;
  info["training.best"] = report.best_stage + " epoch " + str(report.best_epoch);
  info["training.best_valid_loss"] = fmt("%.6g", report.best_valid_loss);
  return info;
}

}  // namespace

Co2TrainReport train_co2_model(MPI_Comm comm, const Co2ModelParams& model,
                               const Co2TrainingParams& training,
                               const std::vector<std::string>& train_files,
                               const std::vector<std::string>& valid_files,
                               const std::string& model_path, const std::string& checkpoint_dir,
                               bool resume, const Co2TrainLog& log) {
  const auto call_start = Clock::now();
  check_co2_model_params(model);
  check_co2_training_params(training);
  if (train_files.empty()) throw ConfigError("CO2 training: no training files");
  if (model_path.empty()) throw ConfigError("CO2 training: no model path");
  if (checkpoint_dir.empty()) throw ConfigError("CO2 training: no checkpoint folder");
  const int rank = comm_rank(comm), ranks = comm_size(comm);
  const Co2TrainLog say = [&](const std::string& s) {
    if (rank == 0 && log) log(s);
  };
  detail::ThreadScope threads(training.threads);
  const std::string config = encode_config(run_config(model, training));
  torch::Device device(torch::kCPU);
  const int local_rank = node_local_rank(comm);
  on_all_ranks(comm, [&] { device = training_device(training.device, local_rank); });
  const std::string ckpt = checkpoint_to_resume(comm, checkpoint_dir, resume);

  Co2TrainReport report;
  report.ranks = ranks;
  report.device = device.str();
  report.model_path = model_path;
  report.resumed = !ckpt.empty();
  report.resumed_from = ckpt;
  Co2SplitData train, valid;
  read_training_data(comm, model, train_files, valid_files, train, valid, report, say);

  // The state, the statistics and the model: from the checkpoint, or fresh.
  TrainState st;
  Co2NormStats stats;
  LoadedCheckpoint loaded;
  std::unique_ptr<detail::ModelArchive> archive;
  if (!ckpt.empty()) {
    archive = resume_state(comm, ckpt, model, training, loaded, st, stats, say);
  } else {
    stats = training_stats(comm, model, train, st, say);
  }
  report.stats_seconds = st.stats_seconds;
  Co2Model net(model, stats, training.seed);
  Co2Core& core = net.core();
  report.parameters = net.parameter_count();
  std::unique_ptr<torch::optim::AdamW> opt;
  Trainer trainer(comm, model, training, train, valid_files.empty() ? nullptr : &valid, log,
                  device);
  if (archive) {
    load_checkpoint_weights(comm, *archive, ckpt, loaded, st, training, device, core, opt);
    archive.reset();
  } else {
    // Same seed, same weights; the broadcast makes it so whatever torch's initialisers do.
    broadcast_parameters(comm, core.parameters());
    on_all_ranks(comm, [&] { core.to(device); });
  }

  const auto checkpoint = [&](const TrainState& s, torch::optim::Optimizer* o) {
    const std::string path = (fs::path(checkpoint_dir) / checkpoint_name(s.pos)).string();
    io::on_root(comm, [&] {
      write_checkpoint(path, core, o, s, stats, config);
      const auto all = list_checkpoints(checkpoint_dir);
      for (std::size_t i = 0; i + std::size_t(training.checkpoint_keep) < all.size(); ++i) {
        std::error_code ec;
        fs::remove(all[i], ec);
      }
    });
    report.last_checkpoint = path;
    say("checkpoint " + path);
  };

  bool done = true;
  on_all_ranks(comm, [&] { done = trainer.run(core, st, opt, checkpoint, call_start); });

  report.epochs = st.history;
  report.training_seconds = st.training_seconds;
  report.best_valid_loss = st.best_valid;
  report.best_stage = kStageNames[st.best_stage];
  report.best_epoch = st.best_epoch;
  if (!done) return report;

  // Done: the final checkpoint (position past the end) and the best weights as the model.
  st.pos = Position{2, 0, 0, false};
  checkpoint(st, nullptr);
  if (!st.best.empty()) Trainer::restore(core, st.best);
  const auto info = trained_model_info(training, train_files, valid_files, st, report, ranks);
  io::on_root(comm, [&] { net.save(model_path, info); });
  say("saved " + model_path + " (" + report.best_stage + " epoch " + str(report.best_epoch) +
      ", validation loss " + fmt("%.6g", report.best_valid_loss) + "); " +
      fmt("%.1f", st.training_seconds) + " s of training");
  report.finished = true;
  return report;
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

namespace {

constexpr double kPpmvPerMassMixing = 1.0 / physics::co2::kMassMixingPerPpmv;
constexpr double kPgCPerKgCo2 = physics::co2::kMolarMassC / physics::co2::kMolarMassCo2 / 1e12;

struct FieldScore {
  double r2 = 0, mse = 0, nse = 0;
};

// CarbonBench's per-time scores of the 3D field in ppmv with weights w_lat[j] on every level
// and longitude (xskillscore.pearson_r / mse / r2 with dim = level, lat, lon).
FieldScore score(const Co2Shape& s, const std::vector<double>& w_lat, const double* pred,
                 const double* truth) {
  const std::size_t n2 = s.cells2d(), nlon = std::size_t(s.nlon);
  double W = 0, sp = 0, st = 0;
  for (std::size_t c = 0; c < s.cells3d(); ++c) {
    const double w = w_lat[(c % n2) / nlon];
    W += w;
    sp += w * pred[c];
    st += w * truth[c];
  }
  const double mp = sp / W * kPpmvPerMassMixing, mt = st / W * kPpmvPerMassMixing;
  double cov = 0, vp = 0, vt = 0, se = 0;
  for (std::size_t c = 0; c < s.cells3d(); ++c) {
    const double w = w_lat[(c % n2) / nlon];
    const double p = pred[c] * kPpmvPerMassMixing - mp, t = truth[c] * kPpmvPerMassMixing - mt;
    const double e = (pred[c] - truth[c]) * kPpmvPerMassMixing;
    cov += w * p * t;
    vp += w * p * p;
    vt += w * t * t;
    se += w * e * e;
  }
  FieldScore f;
  f.r2 = vp > 0 && vt > 0 ? cov * cov / (vp * vt) : 0.0;
  f.mse = se / W;
  f.nse = vt > 0 ? 1.0 - se / vt : kNaN;
  return f;
}

double mass_of(const Co2SplitData& d, const double* q, std::size_t t) {
  return co2_mass(d.shape(), q, d.airmass(t));
}

double air_mass_of(const Co2SplitData& d, std::size_t t) {
  const std::size_t n = d.shape().cells3d();
  const double* m = d.airmass(t);
  double sum = 0;
  for (std::size_t c = 0; c < n; ++c) sum += m[c];
  return sum;
}

std::vector<double> total_flux(const Co2SplitData& d, std::size_t t) {
  const std::size_t n = d.shape().cells2d();
  std::vector<double> f(n);
  for (std::size_t c = 0; c < n; ++c)
    f[c] = d.flux_land(t)[c] + d.flux_ocean(t)[c] + d.flux_anthro(t)[c];
  return f;
}

// One persistence step from state t: keep q, fix the transported mass onto the air mass at
// t + 1 (as fixer_scale does), add the surface flux.
void persistence_step(const Co2SplitData& d, std::size_t t, std::vector<double>& q) {
  const Co2Shape s = d.shape();
  const double target = mass_of(d, q.data(), t);
  co2_fix_mass_scale(s, d.airmass(t + 1), target, q.data());
  const auto f = total_flux(d, t);
  co2_add_surface_flux(s, f.data(), d.cell_area().data(), d.airmass(t + 1), d.dt(), q.data());
}

// Lead-time accumulators over rollouts.
struct LeadSums {
  std::vector<double> r2, mse, nse, mass2, p_r2, p_mse, p_nse;
  std::vector<int> count;
  std::vector<char> failed;
  explicit LeadSums(std::size_t h)
      : r2(h), mse(h), nse(h), mass2(h), p_r2(h), p_mse(h), p_nse(h), count(h), failed(h) {}
};

class ThreadsOverride {
 public:
  ThreadsOverride(Co2Model& m, int threads) : model_(m), old_(m.params().threads) {
    if (threads > 0) model_.set_threads(threads);
  }
  ~ThreadsOverride() { model_.set_threads(old_); }
  ThreadsOverride(const ThreadsOverride&) = delete;
  ThreadsOverride& operator=(const ThreadsOverride&) = delete;

 private:
  Co2Model& model_;
  int old_;
};

// ConfigError unless `d` suits `model` (grid, dt, meteorology); the steps per day.
int steps_per_day(const Co2Model& model, const Co2SplitData& d) {
  const Co2ModelParams& mp = model.params();
  const Co2Shape s = model.shape();
  const Co2Shape ts = d.shape();
  if (ts.nlev != s.nlev || ts.nlat != s.nlat || ts.nlon != s.nlon)
    throw ConfigError("CO2 evaluation: the data's grid (level, lat, lon) = (" + str(ts.nlev) +
                      ", " + str(ts.nlat) + ", " + str(ts.nlon) + ") differs from the model's (" +
                      str(s.nlev) + ", " + str(s.nlat) + ", " + str(s.nlon) + ")");
  if (std::abs(d.dt() - mp.dt) > 1e-9 * mp.dt)
    throw ConfigError("CO2 evaluation: the data's dt_sample = " + str(d.dt()) +
                      " s; the model steps " + str(mp.dt) + " s");
  if (needs_meteorology(mp) && !d.has_meteorology())
    throw ConfigError("CO2 evaluation: the model reads meteorology; read the data with it");
  const double per_day = 86400.0 / d.dt();
  const int spd = int(std::lround(per_day));
  if (spd < 1 || std::abs(per_day - spd) > 1e-9)
    throw ConfigError("CO2 evaluation: dt_sample = " + str(d.dt()) +
                      " s does not divide a day; the lead times are counted in days");
  return spd;
}

std::vector<double> latitude_weights(const Co2SplitData& d) {
  std::vector<double> w(d.lat().size());
  for (std::size_t j = 0; j < w.size(); ++j) w[j] = std::cos(d.lat()[j] * kPi / 180.0);
  return w;
}

// The free run of up to L steps from state `start` of `d` into lr (spd states a day; `days`:
// the length asked for, for the message when the data end first). step(t, q) advances q from
// state t and returns the surface source it added (NumericsError when the model fails: the run
// ends there and fail(k, what) is told); after(k, q) sees the prediction after step k.
template <class Step, class After, class Fail>
void free_run(const Co2SplitData& d, const std::vector<double>& w_lat, std::size_t start,
              std::size_t L, int spd, int days, double r2_threshold, Co2LongRollout& lr,
              Step&& step, After&& after, Fail&& fail) {
  const Co2Shape s = d.shape();
  const std::size_t n3 = s.cells3d();
  std::vector<double> q(d.q(start), d.q(start) + n3);
  const double m0 = mass_of(d, q.data(), start);
  double budget = m0;
  const auto mean_ppmv = [&](double mass, std::size_t t) {
    return mass / air_mass_of(d, t) * kPpmvPerMassMixing;
  };
  lr.time_hours.push_back(d.time_hours(start));
  lr.mean_ppmv.push_back(mean_ppmv(m0, start));
  lr.mean_truth_ppmv.push_back(mean_ppmv(m0, start));
  lr.mean_budget_ppmv.push_back(mean_ppmv(m0, start));
  lr.mean_start_ppmv = lr.mean_ppmv.back();
  lr.q_min_ppmv = lr.truth_min_ppmv = std::numeric_limits<double>::infinity();
  lr.q_max_ppmv = lr.truth_max_ppmv = -std::numeric_limits<double>::infinity();
  {
    const auto [lo, hi] = std::minmax_element(q.begin(), q.end());
    lr.min_ppmv.push_back(*lo * kPpmvPerMassMixing);
    lr.max_ppmv.push_back(*hi * kPpmvPerMassMixing);
    lr.r2.push_back(1.0);
  }
  bool positive_so_far = true, correlated_so_far = true;
  for (std::size_t k = 1; k <= L; ++k) {
    const std::size_t t = start + k;
    try {
      budget += step(t - 1, q);
    } catch (const NumericsError& e) {
      lr.finite = false;
      lr.message = "the model failed at step " + str(k) + " (day " + fmt("%.2f", double(k) / spd) +
                   "): " + e.what();
      fail(k, std::string(e.what()));
      break;
    }
    lr.steps = int(k);
    const double* truth = d.q(t);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t c = 0; c < n3; ++c) {
      lo = std::min(lo, q[c] * kPpmvPerMassMixing);
      hi = std::max(hi, q[c] * kPpmvPerMassMixing);
      lr.truth_min_ppmv = std::min(lr.truth_min_ppmv, truth[c] * kPpmvPerMassMixing);
      lr.truth_max_ppmv = std::max(lr.truth_max_ppmv, truth[c] * kPpmvPerMassMixing);
      if (!(q[c] > 0)) lr.positive = false;
    }
    lr.q_min_ppmv = std::min(lr.q_min_ppmv, lo);
    lr.q_max_ppmv = std::max(lr.q_max_ppmv, hi);
    lr.min_ppmv.push_back(lo);
    lr.max_ppmv.push_back(hi);
    const FieldScore f = score(s, w_lat, q.data(), truth);
    lr.r2.push_back(f.r2);
    lr.r2_end = f.r2;  // of the last state reached
    lr.rmse_end_ppmv = std::sqrt(f.mse);
    if (positive_so_far && !lr.positive) {
      positive_so_far = false;
      lr.days_positive = double(k - 1) / spd;
    }
    if (correlated_so_far && !(lr.r2.back() >= r2_threshold)) {
      correlated_so_far = false;
      lr.decorrelation_days = double(k) / spd;
    }
    const double mp_k = mass_of(d, q.data(), t);
    lr.worst_budget_relative =
        std::max(lr.worst_budget_relative, std::abs(mp_k - budget) / std::abs(budget));
    lr.time_hours.push_back(d.time_hours(t));
    lr.mean_ppmv.push_back(mean_ppmv(mp_k, t));
    lr.mean_truth_ppmv.push_back(mean_ppmv(mass_of(d, truth, t), t));
    lr.mean_budget_ppmv.push_back(mean_ppmv(budget, t));
    after(k, q);
  }
  lr.days = double(lr.steps) / spd;
  if (positive_so_far) lr.days_positive = lr.days;
  if (correlated_so_far) lr.decorrelation_days = lr.days;
  lr.mean_end_ppmv = lr.mean_ppmv.back();
  lr.mean_end_truth_ppmv = lr.mean_truth_ppmv.back();
  lr.mean_end_budget_ppmv = lr.mean_budget_ppmv.back();
  if (lr.finite && lr.steps < int(std::size_t(days) * std::size_t(spd)))
    lr.message = "the data ends after " + fmt("%.2f", lr.days) + " of " + str(days) + " days";
}

// The rollouts of an evaluation: the start days (ep.start_days, else the quarters of the test
// split), sorted and unique, each cut to the data (with a message when it is).
std::vector<Co2RolloutInfo> plan_rollouts(const Co2SplitData& test, const Co2EvalParams& ep,
                                          int spd) {
  const std::size_t P = test.pairs();
  std::vector<int> starts = ep.start_days;
  if (starts.empty()) starts = co2_quarter_start_days((long long)(test.times() / std::size_t(spd)));
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  const std::size_t H = std::size_t(ep.horizon_days) * std::size_t(spd);
  std::vector<Co2RolloutInfo> rollouts;
  for (int d : starts) {
    Co2RolloutInfo r;
    r.start_day = d;
    r.start_index = std::size_t(d) * std::size_t(spd);
    if (r.start_index >= P) {
      r.message = "starts beyond the test data (" + str(test.times()) + " states)";
    } else {
      r.steps = int(std::min(H, P - r.start_index));
      if (std::size_t(r.steps) < H)
        r.message = "the data ends after " + fmt("%.2f", double(r.steps) / spd) + " of " +
                    str(ep.horizon_days) + " days";
    }
    rollouts.push_back(r);
  }
  return rollouts;
}

// One evaluation of a model on a test split, in the order evaluate_co2_model runs the steps:
// the long free run from state 0 (which also scores the rollouts that start there and fit into
// it), the other rollouts, persistence on the same rollouts, then the summaries. The model steps
// are timed and their budget closure checked; scores accumulate per lead step.
class Evaluation {
 public:
  // m holds the rollouts (plan_rollouts) and the model's facts; the rest is filled here.
  Evaluation(Co2Model& model, const Co2SplitData& test, const Co2EvalParams& ep, int spd,
             Co2EvalMetrics& m, const ProgressSink& progress)
      : model_(model),
        mp_(model.params()),
        test_(test),
        ep_(ep),
        s_(model.shape()),
        spd_(spd),
        m_(m),
        n2_(s_.cells2d()),
        n3_(s_.cells3d()),
        w_lat_(latitude_weights(test)),
        hmax_(longest_rollout(m.rollouts)),
        sums_(hmax_),
        L_(ep.long_rollout_days > 0
               ? std::min(std::size_t(ep.long_rollout_days) * std::size_t(spd), test.pairs())
               : 0),
        meter_(progress, "eval", model_steps(m.rollouts, L_)),
        done_(m.rollouts.size(), 0),
        from_long_(m.rollouts.size(), 0) {
    for (std::size_t r = 0; r < m_.rollouts.size(); ++r) from_long_[r] = covered_by_long_run(r);
  }

  // The long free run from state 0; the rollouts that start at state 0 are scored from it.
  void long_run() {
    if (L_ == 0) return;
    free_run(
        test_, w_lat_, 0, L_, spd_, ep_.long_rollout_days, ep_.decorrelation_r2, m_.long_rollout,
        [&](std::size_t t, std::vector<double>& q) { return model_step(t, q).surface_source; },
        [&](std::size_t k, const std::vector<double>& q) {
          for (std::size_t r = 0; r < m_.rollouts.size(); ++r)
            if (from_long_[r] && k <= std::size_t(m_.rollouts[r].steps)) {
              record(m_.rollouts[r], k, q);
              keep_surface(r, k, q);
              if (k == std::size_t(m_.rollouts[r].steps)) done_[r] = 1;
            }
        },
        [&](std::size_t k, const std::string& what) {
          for (std::size_t r = 0; r < m_.rollouts.size(); ++r)
            if (from_long_[r] && !done_[r]) {
              fail(m_.rollouts[r], k, what);
              done_[r] = 1;
            }
        });
  }

  // The rollouts the long run did not cover.
  void other_rollouts() {
    for (std::size_t r = 0; r < m_.rollouts.size(); ++r) {
      Co2RolloutInfo& ro = m_.rollouts[r];
      if (done_[r] || ro.steps == 0) continue;
      std::vector<double> q(test_.q(ro.start_index), test_.q(ro.start_index) + n3_);
      for (std::size_t k = 1; k <= std::size_t(ro.steps); ++k) {
        try {
          model_step(ro.start_index + k - 1, q);
        } catch (const NumericsError& e) {
          fail(ro, k, e.what());
          break;
        }
        record(ro, k, q);
        keep_surface(r, k, q);
      }
    }
  }

  // Persistence (persistence_step) on the same rollouts.
  void persistence() {
    if (!ep_.persistence) return;
    for (std::size_t r = 0; r < m_.rollouts.size(); ++r) {
      const Co2RolloutInfo& ro = m_.rollouts[r];
      std::vector<double> q(test_.q(ro.start_index), test_.q(ro.start_index) + n3_);
      for (std::size_t k = 1; k <= std::size_t(ro.steps); ++k) {
        persistence_step(test_, ro.start_index + k - 1, q);
        const FieldScore f = score(s_, w_lat_, q.data(), test_.q(ro.start_index + k));
        sums_.p_r2[k - 1] += f.r2;
        sums_.p_mse[k - 1] += f.mse;
        sums_.p_nse[k - 1] += f.nse;
      }
      if (r == 0 && ro.steps > 0) surface_persistence_ = surface_ppmv(q.data());
    }
  }

  // Lead curves, the report days, decorrelation times, mass errors, step time, surface maps.
  void summarise() {
    lead_curves();
    m_.horizon_days = double(hmax_) / spd_;
    for (int d : ep_.report_days) {
      const std::size_t k = std::size_t(d) * std::size_t(spd_);
      if (k >= 1 && k <= hmax_) m_.at_days.push_back(m_.leads[k - 1]);
    }
    m_.decorrelation_days = decorrelation(false);
    m_.decorrelation_days_persistence = ep_.persistence ? decorrelation(true) : kNaN;
    m_.mass_rmse_pgc = any_failed_ || mass_n_ == 0 ? kNaN : std::sqrt(mass_sq_ / double(mass_n_));
    m_.mass_rmse_relative =
        any_failed_ || mass_n_ == 0 ? kNaN : std::sqrt(mass_rel_sq_ / double(mass_n_));
    m_.step_ms = m_.steps_timed > 0 ? 1e3 * step_seconds_ / double(m_.steps_timed) : kNaN;
    if (!m_.rollouts.empty() && m_.rollouts[0].steps > 0) {
      const auto& r0 = m_.rollouts[0];
      const std::size_t t = r0.start_index + std::size_t(r0.steps);
      m_.surface_lead_days = double(r0.steps) / spd_;
      m_.surface_truth = surface_ppmv(test_.q(t));
      m_.surface_pred = surface_pred_.empty() ? std::vector<double>(n2_, kNaN) : surface_pred_;
      m_.surface_persistence = surface_persistence_;
    }
  }

 private:
  static std::size_t longest_rollout(const std::vector<Co2RolloutInfo>& rollouts) {
    std::size_t hmax = 0;
    for (const auto& r : rollouts) hmax = std::max(hmax, std::size_t(r.steps));
    return hmax;
  }
  // Model steps of the whole evaluation (for the progress lines): the long run and the
  // rollouts it does not cover.
  static long long model_steps(const std::vector<Co2RolloutInfo>& rollouts, std::size_t L) {
    long long total = (long long)L;
    for (const auto& r : rollouts)
      if (!(r.start_index == 0 && r.steps > 0 && std::size_t(r.steps) <= L)) total += r.steps;
    return total;
  }
  bool covered_by_long_run(std::size_t r) const {
    const Co2RolloutInfo& ro = m_.rollouts[r];
    return ro.start_index == 0 && ro.steps > 0 && std::size_t(ro.steps) <= L_;
  }

  // One model step from state t with q; the closure error goes into m.
  Co2StepOutput model_step(std::size_t t, std::vector<double>& q) {
    Co2StepInput in = test_.step_input(t, needs_meteorology(mp_));
    in.q.swap(q);
    const auto t0 = Clock::now();
    Co2StepOutput out = model_.predict_step(in);
    step_seconds_ += seconds_since(t0);
    ++m_.steps_timed;
    if (meter_.due(m_.steps_timed))
      meter_.emit(m_.steps_timed, "model steps, at day " + fmt("%.2f", double(t + 1) / spd_) +
                                      " of the test split");
    const double expect = out.mass_before + out.surface_source;
    m_.worst_step_mass_error =
        std::max(m_.worst_step_mass_error, std::abs(out.mass_after - expect) / std::abs(expect));
    q.swap(out.q);
    return out;
  }

  // Scores lead step k (from 1) of rollout r with prediction q.
  void record(const Co2RolloutInfo& r, std::size_t k, const std::vector<double>& q) {
    const std::size_t t = r.start_index + k;
    const FieldScore f = score(s_, w_lat_, q.data(), test_.q(t));
    sums_.r2[k - 1] += f.r2;
    sums_.mse[k - 1] += f.mse;
    sums_.nse[k - 1] += f.nse;
    const double mt = mass_of(test_, test_.q(t), t);
    const double e = (mass_of(test_, q.data(), t) - mt) * kPgCPerKgCo2;
    sums_.mass2[k - 1] += e * e;
    ++sums_.count[k - 1];
    mass_sq_ += e * e;
    mass_rel_sq_ += (e / (mt * kPgCPerKgCo2)) * (e / (mt * kPgCPerKgCo2));
    ++mass_n_;
  }

  void fail(Co2RolloutInfo& r, std::size_t k, const std::string& what) {
    r.failed = true;
    any_failed_ = true;
    r.message = "the model failed at step " + str(k) + ": " + what;
    for (std::size_t j = k; j <= std::size_t(r.steps); ++j) sums_.failed[j - 1] = 1;
  }

  // The lowest layer at the first rollout's last lead (the map eval writes).
  void keep_surface(std::size_t r, std::size_t k, const std::vector<double>& q) {
    if (r != 0 || k != std::size_t(m_.rollouts[0].steps)) return;
    surface_pred_ = surface_ppmv(q.data());
  }
  std::vector<double> surface_ppmv(const double* q) const {
    const std::size_t off = std::size_t(s_.nlev - 1) * n2_;
    std::vector<double> out(n2_, 0.0);
    for (std::size_t c = 0; c < n2_; ++c) out[c] = q[off + c] * kPpmvPerMassMixing;
    return out;
  }

  void lead_curves() {
    for (std::size_t k = 1; k <= hmax_; ++k) {
      Co2LeadMetrics l;
      l.lead_days = double(k) / spd_;
      const int n = sums_.count[k - 1];
      // Every rollout that reaches lead k counts, the failed ones included (as NaN).
      int reach = 0;
      for (const auto& ro : m_.rollouts) reach += std::size_t(ro.steps) >= k;
      l.rollouts = reach;
      if (sums_.failed[k - 1] || n == 0) {
        l.r2 = l.rmse_ppmv = l.nse = l.mass_error_pgc = kNaN;
      } else {
        l.r2 = sums_.r2[k - 1] / n;
        l.rmse_ppmv = std::sqrt(sums_.mse[k - 1] / n);
        l.nse = sums_.nse[k - 1] / n;
        l.mass_error_pgc = std::sqrt(sums_.mass2[k - 1] / n);
      }
      if (ep_.persistence && reach > 0) {
        l.r2_persistence = sums_.p_r2[k - 1] / reach;
        l.rmse_persistence_ppmv = std::sqrt(sums_.p_mse[k - 1] / reach);
        l.nse_persistence = sums_.p_nse[k - 1] / reach;
      } else {
        l.r2_persistence = l.rmse_persistence_ppmv = l.nse_persistence = kNaN;
      }
      m_.leads.push_back(l);
    }
  }

  // The first lead whose R^2 falls below the threshold (or is NaN); -1 if none does.
  double decorrelation(bool persistence) const {
    for (const auto& l : m_.leads) {
      const double r2 = persistence ? l.r2_persistence : l.r2;
      if (std::isnan(r2) || r2 < ep_.decorrelation_r2) return l.lead_days;
    }
    return -1.0;
  }

  Co2Model& model_;
  const Co2ModelParams& mp_;
  const Co2SplitData& test_;
  const Co2EvalParams& ep_;
  const Co2Shape s_;
  const int spd_;
  Co2EvalMetrics& m_;
  const std::size_t n2_, n3_;
  const std::vector<double> w_lat_;
  const std::size_t hmax_;
  LeadSums sums_;
  const std::size_t L_;  // steps of the long run
  ProgressMeter meter_;
  std::vector<char> done_, from_long_;
  double step_seconds_ = 0, mass_sq_ = 0, mass_rel_sq_ = 0;
  long long mass_n_ = 0;
  bool any_failed_ = false;
  std::vector<double> surface_pred_, surface_persistence_;
};

}  // namespace

Co2EvalMetrics evaluate_co2_model(Co2Model& model, const Co2SplitData& test,
                                  const Co2EvalParams& ep, const ProgressSink& progress) {
  check_co2_eval_params(ep);
  const Co2ModelParams& mp = model.params();
  const int spd = steps_per_day(model, test);
  if (test.pairs() < 1)
    throw ConfigError("CO2 evaluation: the test split holds " + str(test.times()) +
                      " state(s); at least 2 are needed for one step");
  const ThreadsOverride threads_guard(model, ep.threads);

  Co2EvalMetrics m;
  m.arch = mp.arch;
  m.conservation = mp.conservation;
  m.preset = mp.preset;
  m.parameters = model.parameter_count();
  m.model_info = model.info();
  m.dt = test.dt();
  m.steps_per_day = spd;
  m.threads = model.params().threads;
  m.device = model.device();
  m.rollouts = plan_rollouts(test, ep, spd);
  Evaluation e(model, test, ep, spd, m, progress);
  e.long_run();
  e.other_rollouts();
  e.persistence();
  e.summarise();
  return m;
}

// ---------------------------------------------------------------------------------------------
// Output.

namespace {

// The metrics files' numbers: 10 significant digits (null for NaN/Inf).
std::string json_number(double v) { return io::json_number(v, 10); }
using io::json_string;

template <class Get>
std::string json_array(const std::vector<Co2LeadMetrics>& v, Get get) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json_number(get(v[i]));
  return out + "]";
}

std::string json_lead(const Co2LeadMetrics& l) {
  return "{\"lead_days\": " + json_number(l.lead_days) + ", \"rollouts\": " + str(l.rollouts) +
         ", \"r2\": " + json_number(l.r2) + ", \"rmse_ppmv\": " + json_number(l.rmse_ppmv) +
         ", \"nse\": " + json_number(l.nse) +
         ", \"mass_error_pgc\": " + json_number(l.mass_error_pgc) +
         ", \"r2_persistence\": " + json_number(l.r2_persistence) +
         ", \"rmse_persistence_ppmv\": " + json_number(l.rmse_persistence_ppmv) +
         ", \"nse_persistence\": " + json_number(l.nse_persistence) + "}";
}

void write_text_atomic(const std::string& path, const std::string& text) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  const std::string part = path + ".part";
  std::FILE* f = std::fopen(part.c_str(), "w");
  if (!f) throw IoError("cannot write " + part);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw IoError("cannot write " + part + " (disk full?)");
  fs::rename(part, path, ec);
  if (ec) throw IoError("cannot rename " + part + " to " + path + ": " + ec.message());
}

void write_netcdf(const std::string& path, const Co2EvalMetrics& m, const Co2SplitData& test) {
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  const std::string part = path + ".part";
  fs::remove(part, ec);
  {
    io::NetcdfFile f(part, io::NetcdfFile::Mode::create);
    const Co2Shape s = test.shape();
    const std::size_t nl = m.leads.size(), nt = m.long_rollout.mean_ppmv.size();
    const bool maps = !m.surface_truth.empty();
    if (nl > 0) f.def_dim("lead", nl);
    f.def_dim("lat", std::size_t(s.nlat));
    f.def_dim("lon", std::size_t(s.nlon));
    if (nt > 0) f.def_dim("time", nt);
    const auto var = [&](const std::string& name, const std::vector<std::string>& dims,
                         const std::string& units, const std::string& long_name) {
      f.def_var(name, "double", dims);
      if (!units.empty()) f.put_att(name, "units", units);
      f.put_att(name, "long_name", long_name);
    };
    if (nl > 0) {
      var("lead", {"lead"}, "days", "lead time of the rollout (since its true initial state)");
      var("r2", {"lead"}, "1",
          "squared cos(lat)-weighted Pearson correlation of the 3D CO2 field (mean over starts)");
      var("rmse", {"lead"}, "1e-6", "cos(lat)-weighted RMSE of the 3D CO2 mole fraction (ppmv)");
      var("nse", {"lead"}, "1", "cos(lat)-weighted Nash-Sutcliffe efficiency of the 3D CO2 field");
      var("mass_error", {"lead"}, "Pg", "RMS error of the total CO2 mass, as carbon (PgC)");
      var("r2_persistence", {"lead"}, "1", "r2 of the persistence baseline");
      var("rmse_persistence", {"lead"}, "1e-6", "rmse of the persistence baseline (ppmv)");
      var("nse_persistence", {"lead"}, "1", "nse of the persistence baseline");
      var("rollouts", {"lead"}, "1", "number of rollouts that reach the lead time");
    }
    var("lat", {"lat"}, "degrees_north", "latitude");
    f.put_att("lat", "standard_name", "latitude");
    f.put_att("lat", "axis", "Y");
    var("lon", {"lon"}, "degrees_east", "longitude");
    f.put_att("lon", "standard_name", "longitude");
    f.put_att("lon", "axis", "X");
    const std::string at = fmt("%g", m.surface_lead_days);
    if (maps) {
      var("co2_surface_truth", {"lat", "lon"}, "1e-6",
          "CO2 mole fraction (ppmv) of the lowest layer, truth, " + at +
              " days into the first rollout");
      var("co2_surface_pred", {"lat", "lon"}, "1e-6",
          "CO2 mole fraction (ppmv) of the lowest layer, emulator, " + at +
              " days into the first rollout");
      if (!m.surface_persistence.empty())
        var("co2_surface_persistence", {"lat", "lon"}, "1e-6",
            "CO2 mole fraction (ppmv) of the lowest layer, persistence, " + at +
                " days into the first rollout");
    }
    if (nt > 0) {
      var("time", {"time"}, "hours since 2000-01-01 00:00:00", "time of the long rollout's state");
      f.put_att("time", "standard_name", "time");
      f.put_att("time", "calendar", "noleap");
      f.put_att("time", "axis", "T");
      var("global_mean_pred", {"time"}, "1e-6",
          "mass-weighted global mean CO2 mole fraction (ppmv), long emulator rollout");
      var("global_mean_truth", {"time"}, "1e-6",
          "mass-weighted global mean CO2 mole fraction (ppmv), truth");
      var("global_mean_budget", {"time"}, "1e-6",
          "initial CO2 mass plus the integrated surface fluxes over the air mass (ppmv)");
      var("min_pred", {"time"}, "1e-6",
          "smallest CO2 mole fraction (ppmv) of the long emulator rollout");
      var("max_pred", {"time"}, "1e-6",
          "largest CO2 mole fraction (ppmv) of the long emulator rollout");
      var("r2_long", {"time"}, "1",
          "latitude-weighted R^2 of the long emulator rollout against the truth");
    }
    f.put_att("", "Conventions", "CF-1.8");
    f.put_att("", "title", "Aeolus CO2 emulator evaluation (CarbonBench metrics)");
    f.put_att("", "source", "aeolus eval: emulators/co2_training.cpp");
    f.put_att("", "model", m.model_path);
    f.put_att("", "arch", m.arch);
    f.put_att("", "conservation", m.conservation);
    f.put_att("", "step_ms", m.step_ms);
    f.end_def();
    const auto put = [&](const std::string& name, const std::vector<double>& v) {
      f.put(name, {}, {}, v.data());
    };
    const auto column = [&](double Co2LeadMetrics::*member) {
      std::vector<double> v;
      for (const auto& l : m.leads) v.push_back(l.*member);
      return v;
    };
    if (nl > 0) {
      put("lead", column(&Co2LeadMetrics::lead_days));
      put("r2", column(&Co2LeadMetrics::r2));
      put("rmse", column(&Co2LeadMetrics::rmse_ppmv));
      put("nse", column(&Co2LeadMetrics::nse));
      put("mass_error", column(&Co2LeadMetrics::mass_error_pgc));
      put("r2_persistence", column(&Co2LeadMetrics::r2_persistence));
      put("rmse_persistence", column(&Co2LeadMetrics::rmse_persistence_ppmv));
      put("nse_persistence", column(&Co2LeadMetrics::nse_persistence));
      std::vector<double> count;
      for (const auto& l : m.leads) count.push_back(l.rollouts);
      put("rollouts", count);
    }
    put("lat", test.lat());
    put("lon", test.lon());
    if (maps) {
      put("co2_surface_truth", m.surface_truth);
      put("co2_surface_pred", m.surface_pred);
      if (!m.surface_persistence.empty()) put("co2_surface_persistence", m.surface_persistence);
    }
    if (nt > 0) {
      put("time", m.long_rollout.time_hours);
      put("global_mean_pred", m.long_rollout.mean_ppmv);
      put("global_mean_truth", m.long_rollout.mean_truth_ppmv);
      put("global_mean_budget", m.long_rollout.mean_budget_ppmv);
      put("min_pred", m.long_rollout.min_ppmv);
      put("max_pred", m.long_rollout.max_ppmv);
      put("r2_long", m.long_rollout.r2);
    }
    f.close();
  }
  fs::rename(part, path, ec);
  if (ec) throw IoError("cannot rename " + part + " to " + path + ": " + ec.message());
}

}  // namespace

std::string co2_free_run_json(const Co2LongRollout& l) {
  std::ostringstream o;
  o << "{\"steps\": " << l.steps << ", \"days\": " << json_number(l.days)
    << ", \"finite\": " << (l.finite ? "true" : "false")
    << ", \"positive\": " << (l.positive ? "true" : "false")
    << ", \"message\": " << json_string(l.message)
    << ", \"q_min_ppmv\": " << json_number(l.q_min_ppmv)
    << ", \"q_max_ppmv\": " << json_number(l.q_max_ppmv)
    << ", \"truth_min_ppmv\": " << json_number(l.truth_min_ppmv)
    << ", \"truth_max_ppmv\": " << json_number(l.truth_max_ppmv)
    << ", \"mean_start_ppmv\": " << json_number(l.mean_start_ppmv)
    << ", \"mean_end_ppmv\": " << json_number(l.mean_end_ppmv)
    << ", \"mean_end_truth_ppmv\": " << json_number(l.mean_end_truth_ppmv)
    << ", \"mean_end_budget_ppmv\": " << json_number(l.mean_end_budget_ppmv)
    << ", \"worst_budget_relative\": " << json_number(l.worst_budget_relative)
    << ", \"days_positive\": " << json_number(l.days_positive)
    << ", \"decorrelation_days\": " << json_number(l.decorrelation_days)
    << ", \"r2_end\": " << json_number(l.r2_end)
    << ", \"rmse_end_ppmv\": " << json_number(l.rmse_end_ppmv) << "}";
  return o.str();
}

std::string co2_eval_json(const Co2EvalMetrics& m) {
  std::ostringstream o;
  o << "{\n  \"model\": {\"path\": " << json_string(m.model_path)
    << ", \"arch\": " << json_string(m.arch)
    << ", \"conservation\": " << json_string(m.conservation)
    << ", \"preset\": " << json_string(m.preset) << ", \"parameters\": " << m.parameters
    << ", \"info\": {";
  std::size_t i = 0;
  for (const auto& [k, v] : m.model_info)
    o << (i++ ? ", " : "") << json_string(k) << ": " << json_string(v);
  o << "}},\n";
  o << "  \"definitions\": {\"r2\": \"squared cos(lat)-weighted Pearson correlation over (level, "
       "lat, lon) of the CO2 mole fraction, mean over start dates (CarbonBench R2_3D)\", "
       "\"rmse_ppmv\": \"sqrt of the start-date mean of the cos(lat)-weighted MSE in ppmv\", "
       "\"nse\": \"1 - weighted SSE / weighted variance of the truth\", "
       "\"mass_rmse_pgc\": \"RMS over all rollout steps of the total CO2 mass error, as carbon "
       "(12.0107/44.0095)\", \"decorrelation_days\": \"first lead (6-hourly) at which the mean "
       "r2 falls below the threshold; null: not within the horizon\", \"persistence\": \"q kept, "
       "mass-fixed to the transported mass, plus the surface flux\"},\n";
  o << "  \"dt_s\": " << json_number(m.dt) << ", \"steps_per_day\": " << m.steps_per_day << ",\n";
  o << "  \"rollouts\": [";
  for (std::size_t r = 0; r < m.rollouts.size(); ++r) {
    const auto& ro = m.rollouts[r];
    o << (r ? ", " : "") << "{\"start_day\": " << ro.start_day
      << ", \"start_index\": " << ro.start_index << ", \"steps\": " << ro.steps
      << ", \"days\": " << json_number(m.steps_per_day ? double(ro.steps) / m.steps_per_day : 0)
      << ", \"failed\": " << (ro.failed ? "true" : "false")
      << ", \"message\": " << json_string(ro.message) << "}";
  }
  o << "],\n  \"at_days\": [";
  for (std::size_t k = 0; k < m.at_days.size(); ++k)
    o << (k ? ",\n    " : "\n    ") << json_lead(m.at_days[k]);
  o << "],\n";
  o << "  \"horizon_days\": " << json_number(m.horizon_days) << ",\n";
  o << "  \"decorrelation_days\": "
    << (m.decorrelation_days < 0 ? "null" : json_number(m.decorrelation_days))
    << ", \"decorrelation\": "
    << json_string(m.decorrelation_days < 0 ? "> " + fmt("%g", m.horizon_days) + " days"
                                            : fmt("%g", m.decorrelation_days) + " days")
    << ", \"decorrelation_days_persistence\": "
    << (m.decorrelation_days_persistence < 0 ? "null"
                                             : json_number(m.decorrelation_days_persistence))
    << ",\n";
  o << "  \"mass_rmse_pgc\": " << json_number(m.mass_rmse_pgc)
    << ", \"mass_rmse_relative\": " << json_number(m.mass_rmse_relative)
    << ", \"worst_step_mass_error\": " << json_number(m.worst_step_mass_error) << ",\n";
  o << "  \"long_rollout\": " << co2_free_run_json(m.long_rollout) << ",\n";
  o << "  \"step_ms\": " << json_number(m.step_ms) << ", \"device\": " << json_string(m.device)
    << ", \"threads\": " << m.threads << ", \"steps_timed\": " << m.steps_timed << ",\n";
  o << "  \"leads\": {\"lead_days\": "
    << json_array(m.leads, [](const Co2LeadMetrics& x) { return x.lead_days; })
    << ",\n    \"r2\": " << json_array(m.leads, [](const Co2LeadMetrics& x) { return x.r2; })
    << ",\n    \"rmse_ppmv\": "
    << json_array(m.leads, [](const Co2LeadMetrics& x) { return x.rmse_ppmv; })
    << ",\n    \"nse\": " << json_array(m.leads, [](const Co2LeadMetrics& x) { return x.nse; })
    << ",\n    \"mass_error_pgc\": "
    << json_array(m.leads, [](const Co2LeadMetrics& x) { return x.mass_error_pgc; })
    << ",\n    \"r2_persistence\": "
    << json_array(m.leads, [](const Co2LeadMetrics& x) { return x.r2_persistence; })
    << ",\n    \"rmse_persistence_ppmv\": "
    << json_array(m.leads, [](const Co2LeadMetrics& x) { return x.rmse_persistence_ppmv; })
    << "}\n}\n";
  return o.str();
}

std::vector<int> co2_quarter_start_days(long long days) {
  std::vector<int> starts;
  for (int k = 0; k < 4; ++k) starts.push_back(int(k * days / 4));
  return starts;
}

Co2ReadOptions co2_read_options(const Co2ModelParams& p) {
  Co2ReadOptions ro;
  ro.meteorology = needs_meteorology(p);
  ro.nlev = p.inputs.nlev;
  ro.nlat = p.inputs.nlat;
  ro.nlon = p.inputs.nlon;
  return ro;
}

Co2LongRollout co2_free_run(Co2Model& model, const Co2SplitData& data, std::size_t start, int days,
                            double decorrelation_r2, int threads, const ProgressSink& progress) {
  const int spd = steps_per_day(model, data);
  if (days < 1) bad_value("days", str(days), ">= 1");
  if (start >= data.pairs())
    throw ConfigError("CO2 free run: start state " + str(start) + " leaves no step in data of " +
                      str(data.times()) + " state(s)");
  const ThreadsOverride threads_guard(model, threads);
  const bool met = needs_meteorology(model.params());
  const std::size_t L = std::min(std::size_t(days) * std::size_t(spd), data.pairs() - start);
  Co2LongRollout lr;
  ProgressMeter meter(progress, "free run", (long long)L);
  free_run(
      data, latitude_weights(data), start, L, spd, days, decorrelation_r2, lr,
      [&](std::size_t t, std::vector<double>& q) {
        Co2StepInput in = data.step_input(t, met);
        in.q.swap(q);
        Co2StepOutput out = model.predict_step(in);
        q.swap(out.q);
        const long long k = (long long)(t + 1 - start);
        if (meter.due(k)) meter.emit(k, "steps, day " + fmt("%.2f", double(k) / spd));
        return out.surface_source;
      },
      [](std::size_t, const std::vector<double>&) {}, [](std::size_t, const std::string&) {});
  return lr;
}

Co2EvalMetrics evaluate_co2_model(const std::string& model_path,
                                  const std::vector<std::string>& test_files,
                                  const Co2EvalParams& params, const std::string& json_path,
                                  const std::string& netcdf_path, const ProgressSink& progress) {
  check_co2_eval_params(params);
  Co2Model model = Co2Model::load(model_path);
  model.set_device(params.device);
  const Co2ModelParams& mp = model.params();
  const Co2SplitData test = Co2SplitData::read(test_files, "", co2_read_options(mp));
  Co2EvalMetrics m = evaluate_co2_model(model, test, params, progress);
  m.model_path = model_path;
  if (!json_path.empty()) write_text_atomic(json_path, co2_eval_json(m));
  if (!netcdf_path.empty()) write_netcdf(netcdf_path, m, test);
  return m;
}

}  // namespace aeolus::emulators
