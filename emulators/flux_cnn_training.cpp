// Training of the flux-stencil CNN on full periodic frames: Adam with cosine learning-rate
// decay, MSE of normalised q after 1..k steps, best-validation checkpointing.
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "emulators/device_impl.hpp"
#include "emulators/flux_cnn_model.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

namespace {

constexpr double kPi = 3.14159265358979323846;
using detail::FluxStencilNet;
using detail::ModelSpec;

void check_dataset(const FluxCnnDataset& d, const char* which, int rollout_steps) {
  const auto fail = [&](const std::string& what) {
    throw ConfigError(std::string("training data (") + which + "): " + what);
  };
  if (d.nx < 1 || d.ny < 1 || d.trajectories < 1) {
    fail("nx, ny and trajectories must be >= 1, got " + std::to_string(d.nx) + ", " +
         std::to_string(d.ny) + ", " + std::to_string(d.trajectories));
  }
  if (d.frames < rollout_steps + 1) {
    fail(std::to_string(d.frames) + " frames per trajectory, need at least rollout_steps + 1 = " +
         std::to_string(rollout_steps + 1));
  }
  if (!(d.dt_frame > 0) || !(d.dx > 0) || !(d.dy > 0)) fail("dt_frame, dx and dy must be > 0");
  const size_t cells = size_t(d.nx) * size_t(d.ny);
  const size_t q_expected = size_t(d.trajectories) * size_t(d.frames) * cells;
  const size_t u_expected = size_t(d.trajectories) * cells;
  if (d.q.size() != q_expected || d.u_face.size() != u_expected || d.v_face.size() != u_expected) {
    std::ostringstream os;
    os << "array sizes q " << d.q.size() << ", u_face " << d.u_face.size() << ", v_face "
       << d.v_face.size() << "; expected " << q_expected << ", " << u_expected << ", "
       << u_expected;
    fail(os.str());
  }
}

bool differs(double a, double b) {
  return std::abs(a - b) > 1e-12 * std::max(std::abs(a), std::abs(b));
}

void check_compatible(const FluxCnnDataset& train, const FluxCnnDataset& valid) {
  if (train.nx != valid.nx || train.ny != valid.ny || differs(train.dt_frame, valid.dt_frame) ||
      differs(train.dx, valid.dx) || differs(train.dy, valid.dy)) {
    std::ostringstream os;
    os.precision(17);
    os << "training and validation data differ: train nx, ny, dt_frame, dx, dy = " << train.nx
       << ", " << train.ny << ", " << train.dt_frame << ", " << train.dx << ", " << train.dy
       << "; valid = " << valid.nx << ", " << valid.ny << ", " << valid.dt_frame << ", " << valid.dx
       << ", " << valid.dy;
    throw ConfigError(os.str());
  }
}

void check_training(const FluxCnnTrainingParams& t) {
  const auto fail = [](const std::string& what) { throw ConfigError("training: " + what); };
  if (t.epochs < 1) fail("epochs = " + std::to_string(t.epochs) + ", expected >= 1");
  if (t.batch_size < 1) fail("batch_size = " + std::to_string(t.batch_size) + ", expected >= 1");
  if (!(t.learning_rate > 0)) fail("learning_rate must be > 0");
  if (t.rollout_steps < 1) {
    fail("rollout_steps = " + std::to_string(t.rollout_steps) + ", expected >= 1");
  }
  if (t.rollout_epochs < 0) {
    fail("rollout_epochs = " + std::to_string(t.rollout_epochs) + ", expected >= 0");
  }
  if (!(t.stability_weight >= 0)) fail("stability_weight must be >= 0");
  if (t.threads < 1) fail("threads = " + std::to_string(t.threads) + ", expected >= 1");
  if (!(t.max_minutes > 0)) fail("max_minutes must be > 0");
}

// A split as tensors: q [trajectories * frames, ny, nx], Courant numbers [trajectories, ny, nx].
struct Split {
  torch::Tensor q, cx, cy;
  int frames = 0;
  std::vector<std::int64_t> samples;  // row of q of each sample's first frame
};

Split to_tensors(const FluxCnnDataset& d, int rollout_steps) {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  Split s;
  // from_blob does not own; clone so the tensors outlive nothing but themselves.
  s.q = torch::from_blob(const_cast<double*>(d.q.data()),
                         {std::int64_t(d.trajectories) * d.frames, d.ny, d.nx}, opts)
            .clone();
  const auto faces = [&](const std::vector<double>& v, double spacing) {
    return torch::from_blob(const_cast<double*>(v.data()), {d.trajectories, d.ny, d.nx}, opts) *
           (d.dt_frame / spacing);
  };
  s.cx = faces(d.u_face, d.dx);
  s.cy = faces(d.v_face, d.dy);
  s.frames = d.frames;
  for (int t = 0; t < d.trajectories; ++t)
    for (int f = 0; f + rollout_steps < d.frames; ++f)
      s.samples.push_back(std::int64_t(t) * d.frames + f);
  return s;
}

// A mirror image of a periodic sample: flip_x reverses x (dim 2) and flip_y y (dim 1). The
// state and the targets are flipped; a face Courant number field, staggered on the low faces,
// moves to the other side of its cell and changes sign: in the flipped frame the low face of
// cell i' = W-1-i is the high face of cell i, so c'(i') = -c(i+1). Exact on periodic samples,
// so every sample also teaches the other three flow directions.
struct Mirror {
  bool x = false, y = false;
  torch::Tensor state(torch::Tensor t) const {
    if (x) t = t.flip({2});
    if (y) t = t.flip({1});
    return t;
  }
  torch::Tensor courant(torch::Tensor c, int dim) const {
    const bool along = dim == 2 ? x : y;
    if (along) c = -torch::roll(c, {-1}, {dim}).flip({dim});
    const int other = dim == 2 ? 1 : 2;
    if (other == 2 ? x : y) c = c.flip({other});
    return c;
  }
};

// Mean over the k rollout steps of the MSE of normalised q.
torch::Tensor batch_loss(FluxStencilNet& net, const ModelSpec& spec, const Split& split,
                         const std::vector<std::int64_t>& rows, int rollout_steps,
                         double stability_weight, const Mirror& mirror = {}) {
  const int h = detail::halo_width(spec.params);
  const torch::Tensor index = torch::tensor(rows, torch::kLong);
  const torch::Tensor traj = torch::div(index, split.frames, "floor");
  const torch::Tensor cx_pad =
      detail::periodic_pad(mirror.courant(split.cx.index_select(0, traj), 2), h);
  const torch::Tensor cy_pad =
      detail::periodic_pad(mirror.courant(split.cy.index_select(0, traj), 1), h);
  detail::PeriodicBoundary boundary(spec.params.mass_fixer);
  torch::Tensor q = mirror.state(split.q.index_select(0, index));
  torch::Tensor loss = torch::zeros({}, torch::kFloat64);
  const bool penalise = stability_weight > 0 && spec.params.output == "flux";
  for (int k = 1; k <= rollout_steps; ++k) {
    torch::Tensor penalty;
    q = detail::advance(net, spec, detail::periodic_pad(q, h), cx_pad, cy_pad, boundary,
                        penalise && k == 1 ? &penalty : nullptr);
    if (penalise && k == 1) loss = loss + stability_weight * double(rollout_steps) * penalty;
    const torch::Tensor target = mirror.state(split.q.index_select(0, index + k));
    loss = loss + ((q - target) / spec.q_std).pow(2).mean();
  }
  return loss / double(rollout_steps);
}

double evaluate(FluxStencilNet& net, const ModelSpec& spec, const Split& split, int batch_size,
                int rollout_steps) {
  torch::NoGradGuard no_grad;
  double total = 0;
  size_t count = 0;
  for (size_t b = 0; b < split.samples.size(); b += size_t(batch_size)) {
    const size_t e = std::min(split.samples.size(), b + size_t(batch_size));
    std::vector<std::int64_t> rows(split.samples.begin() + std::ptrdiff_t(b),
                                   split.samples.begin() + std::ptrdiff_t(e));
    total += batch_loss(net, spec, split, rows, rollout_steps, 0.0).item<double>() * double(e - b);
    count += e - b;
  }
  return total / double(count);
}

}  // namespace

FluxCnnTrainReport train_flux_cnn(const FluxCnnParams& params,
                                  const FluxCnnTrainingParams& training,
                                  const FluxCnnDataset& train, const FluxCnnDataset& valid,
                                  const std::string& model_path, const std::string& log_path,
                                  const ProgressSink& progress) {
  detail::validate(params);
  check_training(training);
  check_dataset(train, "train", training.rollout_steps);
  check_dataset(valid, "valid", training.rollout_steps);
  check_compatible(train, valid);

  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  detail::ThreadScope threads(training.threads);
  torch::manual_seed(training.seed);

  ModelSpec spec;
  spec.params = params;
  spec.dt_frame = train.dt_frame;
  spec.dx = train.dx;
  spec.dy = train.dy;
  const Split train_split = to_tensors(train, training.rollout_steps);
  const Split valid_split = to_tensors(valid, training.rollout_steps);
  spec.q_mean = train_split.q.mean().item<double>();
  spec.q_std = train_split.q.std().item<double>();
  // A constant training field has no scale; any positive value keeps the maths finite.
  if (!(spec.q_std > 0) || !std::isfinite(spec.q_std)) spec.q_std = 1.0;

  FluxStencilNet net(params);
  torch::optim::Adam optimizer(net->parameters(),
                               torch::optim::AdamOptions(training.learning_rate));

  std::ofstream log(log_path);
  if (!log) throw IoError("cannot write training log " + log_path);
  log << "epoch,train_loss,valid_loss,seconds\n";
  log.precision(9);

  FluxCnnTrainReport report;
  report.parameters = net->parameter_count();
  double best_valid = std::numeric_limits<double>::infinity();
  std::mt19937_64 rng(training.seed);
  std::vector<std::int64_t> order = train_split.samples;
  const size_t batches_per_epoch =
      (order.size() + size_t(training.batch_size) - 1) / size_t(training.batch_size);
  const double total_batches = double(batches_per_epoch) * training.epochs;
  size_t batch_counter = 0;
  ProgressMeter meter(progress, "batch", (long long)(batches_per_epoch) * training.epochs);
  std::string last_valid;  // ", valid LOSS" of the last epoch, for the progress lines

  // One-step training first, then multi-step rollout fine-tuning: the rollout exposes the
  // network to its own errors so it learns to damp them instead of amplifying them over long
  // rollouts. Validation always scores the k-step rollout, so the saved model is the one that
  // rolls out best.
  const int first_rollout_epoch =
      training.rollout_epochs > 0 ? std::max(1, training.epochs - training.rollout_epochs + 1) : 1;
  for (int epoch = 1; epoch <= training.epochs; ++epoch) {
    const int steps = epoch >= first_rollout_epoch ? training.rollout_steps : 1;
    net->train();
    // Fisher-Yates with our own draws: std::shuffle's algorithm is implementation-defined.
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    double sum = 0;
    for (size_t b = 0; b < order.size(); b += size_t(training.batch_size)) {
      const double lr = training.learning_rate * 0.5 *
                        (1.0 + std::cos(kPi * double(batch_counter++) / total_batches));
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
      const size_t e = std::min(order.size(), b + size_t(training.batch_size));
      std::vector<std::int64_t> rows(order.begin() + std::ptrdiff_t(b),
                                     order.begin() + std::ptrdiff_t(e));
      optimizer.zero_grad();
      // A random mirror image per minibatch (drawn after the shuffle, from the same stream).
      Mirror mirror;
      if (training.mirror) {
        const std::uint64_t draw = rng();
        mirror.x = draw & 1;
        mirror.y = (draw >> 1) & 1;
      }
      torch::Tensor loss =
          batch_loss(net, spec, train_split, rows, steps, training.stability_weight, mirror);
      loss.backward();
      optimizer.step();
      sum += loss.item<double>() * double(e - b);
      if (meter.due((long long)batch_counter)) {
        meter.emit((long long)batch_counter, "epoch " + std::to_string(epoch) + "/" +
                                                 std::to_string(training.epochs) + ", loss " +
                                                 format_sci(sum / double(e)) + last_valid);
      }
    }
    const double train_loss = sum / double(order.size());
    net->eval();
    const double valid_loss =
        evaluate(net, spec, valid_split, training.batch_size, training.rollout_steps);
    if (!std::isfinite(train_loss) || !std::isfinite(valid_loss)) {
      std::ostringstream os;
      os << "training diverged at epoch " << epoch << ": train loss " << train_loss
         << ", valid loss " << valid_loss << "; lower learning_rate (" << training.learning_rate
         << ")";
      throw NumericsError(os.str());
    }
    if (valid_loss < best_valid) {
      best_valid = valid_loss;
      detail::save_model(model_path, net, spec);
    }
    if (epoch == 1) report.first_train_loss = train_loss;
    report.final_train_loss = train_loss;
    report.final_valid_loss = valid_loss;
    report.epochs = epoch;
    last_valid = ", valid " + format_sci(valid_loss);
    log << epoch << ',' << train_loss << ',' << valid_loss << ',' << elapsed() << '\n'
        << std::flush;
    if (elapsed() > training.max_minutes * 60.0) break;
  }
  report.seconds = elapsed();
  return report;
}

}  // namespace aeolus::emulators
