#include "emulators/torchscript_training.hpp"

#include <mpi.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <new>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "emulators/torchscript_model_impl.hpp"
#include "grids/error.hpp"
#include "grids/format.hpp"

namespace aeolus::emulators {

namespace {

namespace fs = std::filesystem;

// The format of the training state files (save/restore): a torch serialize archive holding the
// optimizer's own records (torch::optim's) and these.
constexpr const char* kStateFormat = "aeolus-online-training-state";
constexpr std::int64_t kStateVersion = 1;

// ---- Errors shared over a communicator -----------------------------------------------------

// What an exception is, so that another rank can throw one of the same kind.
enum class Kind : int { argument = 1, io, config, numerics, model, memory, internal };

std::pair<Kind, std::string> classify(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::invalid_argument& x) {
    return {Kind::argument, x.what()};
  } catch (const ConfigError& x) {
    return {Kind::config, x.what()};
  } catch (const IoError& x) {
    return {Kind::io, x.what()};
  } catch (const NumericsError& x) {
    return {Kind::numerics, x.what()};
  } catch (const Error& x) {
    return {Kind::model, x.what()};
  } catch (const std::bad_alloc&) {
    return {Kind::memory, "out of memory"};
  } catch (const std::exception& x) {
    return {Kind::internal, x.what()};
  } catch (...) {
    return {Kind::internal, "unknown exception"};
  }
}

[[noreturn]] void throw_kind(Kind k, const std::string& m) {
  switch (k) {
    case Kind::argument:
      throw std::invalid_argument(m);
    case Kind::config:
      throw ConfigError(m);
    case Kind::io:
      throw IoError(m);
    case Kind::numerics:
      throw NumericsError(m);
    case Kind::model:
      throw ModelError(m);
    case Kind::memory:
      throw std::bad_alloc();
    case Kind::internal:
      break;
  }
  throw std::runtime_error(m);
}

void mpi_check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int n = 0;
  MPI_Error_string(code, text, &n);
  throw LibraryError(std::string(call) + " failed: " + std::string(text, size_t(n)));
}
#define TS_MPI(call) mpi_check((call), #call)

// See share_outcome: a failing rank throws its own error, the others that of the lowest failing
// rank; on more than one rank the message names the rank.
void share(MPI_Comm comm, std::exception_ptr local) {
  int rank = 0, size = 1;
  TS_MPI(MPI_Comm_rank(comm, &rank));
  TS_MPI(MPI_Comm_size(comm, &size));
  int first = local ? rank : size;
  TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first == size) return;
  if (size == 1) std::rethrow_exception(local);
  std::pair<Kind, std::string> mine{Kind::internal, ""};
  if (local) mine = classify(local);
  int kind = int(mine.first), length = int(mine.second.size());
  TS_MPI(MPI_Bcast(&kind, 1, MPI_INT, first, comm));
  TS_MPI(MPI_Bcast(&length, 1, MPI_INT, first, comm));
  std::string text = mine.second;
  text.resize(size_t(length));
  TS_MPI(MPI_Bcast(text.data(), length, MPI_CHAR, first, comm));
  if (local) throw_kind(mine.first, "rank " + std::to_string(rank) + ": " + mine.second);
  throw_kind(Kind(kind), "rank " + std::to_string(first) + ": " + text);
}

MPI_Comm host_comm(int comm) { return MPI_Comm_f2c(MPI_Fint(comm)); }

std::string dtype_text(const torch::Tensor& t) {
  return t.scalar_type() == torch::kFloat64   ? "float64"
         : t.scalar_type() == torch::kFloat32 ? "float32"
                                              : std::string(c10::toString(t.scalar_type()));
}

std::vector<std::int64_t> sizes_of(const torch::Tensor& t) {
  return std::vector<std::int64_t>(t.sizes().begin(), t.sizes().end());
}

// Writes through `write(temporary)` then renames the temporary over `path`: a failed write
// leaves a previous file intact. IoError naming `what` and the path otherwise.
template <class Write>
void write_atomically(const std::string& path, const std::string& what, Write&& write) {
  const std::string tmp = path + ".tmp-" + std::to_string(long(::getpid()));
  try {
    write(tmp);
    fs::rename(tmp, path);
  } catch (const c10::Error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw IoError("cannot write the " + what + " " + path + ": " +
                  detail::torch_cause(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw IoError("cannot write the " + what + " " + path + ": " + e.what());
  }
}

}  // namespace

// ---- Settings ------------------------------------------------------------------------------

const std::vector<std::string>& online_optimizers() {
  static const std::vector<std::string> names{"adam", "sgd", "adamw"};
  return names;
}
const std::vector<std::string>& online_losses() {
  static const std::vector<std::string> names{"mse", "l1"};
  return names;
}

void check_settings(const OnlineTrainingSettings& s) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  const auto& opts = online_optimizers();
  if (std::find(opts.begin(), opts.end(), s.optimizer) == opts.end()) {
    fail("optimizer = '" + s.optimizer + "'; expected one of: " + comma_list(opts));
  }
  const auto& losses = online_losses();
  if (std::find(losses.begin(), losses.end(), s.loss) == losses.end()) {
    fail("loss = '" + s.loss + "'; expected one of: " + comma_list(losses));
  }
  if (!(s.learning_rate > 0) || !std::isfinite(s.learning_rate)) {
    fail("learning_rate = " + fmt_exact(s.learning_rate) + "; expected a finite number > 0");
  }
  if (!(s.weight_decay >= 0) || !std::isfinite(s.weight_decay)) {
    fail("weight_decay = " + fmt_exact(s.weight_decay) + "; expected a finite number >= 0");
  }
  if (!(s.momentum >= 0 && s.momentum < 1)) {
    fail("momentum = " + fmt_exact(s.momentum) + "; expected a number in [0, 1)");
  }
  for (int k = 0; k < 2; ++k) {
    if (!(s.betas[size_t(k)] >= 0 && s.betas[size_t(k)] < 1)) {
      fail("betas[" + std::to_string(k) + "] = " + fmt_exact(s.betas[size_t(k)]) +
           "; expected a number in [0, 1)");
    }
  }
  if (!(s.grad_clip >= 0) || !std::isfinite(s.grad_clip)) {
    fail("grad_clip = " + fmt_exact(s.grad_clip) + "; expected a finite number >= 0 (0: no clip)");
  }
  if (s.threads < 0) {
    fail("threads = " + std::to_string(s.threads) +
         "; expected a number >= 0 (0: LibTorch's setting as it is)");
  }
}

void share_outcome(int comm, std::exception_ptr local) {
  if (comm == kNoComm) {
    if (local) std::rethrow_exception(local);
    return;
  }
  share(host_comm(comm), local);
}

// ---- The trainer ---------------------------------------------------------------------------

struct TorchScriptTrainer::Impl {
  TorchScriptModelAccess::Impl* model = nullptr;
  OnlineTrainingSettings settings;
  MPI_Comm comm = MPI_COMM_NULL;  // a duplicate of the host's; MPI_COMM_NULL without MPI
  int rank = 0, size = 1;
  std::vector<torch::Tensor> params;  // the floating-point parameters, in the module's order
  std::vector<std::string> names;
  std::vector<bool> requires_grad_before;
  torch::ScalarType flat_type = torch::kFloat64;  // of the buffers that cross MPI
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::int64_t steps = 0;

  std::unique_ptr<torch::optim::Optimizer> make_optimizer() const {
    const OnlineTrainingSettings& s = settings;
    const auto betas = std::make_tuple(s.betas[0], s.betas[1]);
    if (s.optimizer == "sgd") {
      return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(s.learning_rate)
                                                             .momentum(s.momentum)
                                                             .weight_decay(s.weight_decay));
    }
    if (s.optimizer == "adamw") {
      return std::make_unique<torch::optim::AdamW>(
          params,
          torch::optim::AdamWOptions(s.learning_rate).betas(betas).weight_decay(s.weight_decay));
    }
    return std::make_unique<torch::optim::Adam>(
        params,
        torch::optim::AdamOptions(s.learning_rate).betas(betas).weight_decay(s.weight_decay));
  }

  // "name [shape] dtype" of every parameter, one a line: what a state file must match.
  std::string layout_text() const {
    std::string out;
    for (size_t k = 0; k < params.size(); ++k) {
      out += names[k] + " " + shape_text(sizes_of(params[k])) + " " + dtype_text(params[k]) + "\n";
    }
    return out;
  }

  std::int64_t numel() const {
    std::int64_t n = 0;
    for (const torch::Tensor& p : params) n += p.numel();
    return n;
  }

  MPI_Datatype mpi_type() const { return flat_type == torch::kFloat64 ? MPI_DOUBLE : MPI_FLOAT; }

  // The message of one rank's step, before any collective: zero grads, forward in train mode,
  // loss, backward. Returns the loss (a 0-dim tensor).
  torch::Tensor local_step(const ConstArrayRef& in, const ConstArrayRef& target) {
    if (!target.data) throw std::invalid_argument("target is NULL; expected the target array");
    for (torch::Tensor& p : params) {
      if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
    }
    struct TrainMode {
      torch::jit::Module& m;
      explicit TrainMode(torch::jit::Module& module) : m(module) { m.train(true); }
      ~TrainMode() { m.train(false); }
    } mode(model->module);
    const torch::Tensor y = model->run(in, /*grad=*/true);
    const std::vector<std::int64_t> out_shape = sizes_of(y);
    if (target.shape != out_shape) {
      throw std::invalid_argument("target has shape " + shape_text(target.shape) +
                                  "; expected the model's output shape " + shape_text(out_shape) +
                                  " (for the input of shape " + shape_text(in.shape) + ")");
    }
    if (y.numel() == 0) {
      throw std::invalid_argument("the output (shape " + shape_text(out_shape) +
                                  ") has no elements; expected at least one to take a loss over");
    }
    if (!y.is_floating_point()) {
      throw ModelError("model " + model->path + ": forward returned a " + dtype_text(y) +
                       " tensor; expected a floating-point output to train");
    }
    torch::Tensor t =
        detail::wrap(const_cast<void*>(target.data), target.dtype, target.shape, target.layout);
    if (t.scalar_type() != y.scalar_type()) t = t.to(y.scalar_type());
    torch::Tensor loss;
    try {
      loss = settings.loss == "l1" ? torch::l1_loss(y, t) : torch::mse_loss(y, t);
      loss.backward();
    } catch (const c10::Error& e) {
      throw ModelError("model " + model->path + ": backward failed on an input of shape " +
                       shape_text(in.shape) + ": " +
                       detail::torch_cause(e.what_without_backtrace()));
    }
    return loss.detach();
  }

  // After the gradients are final: the loss check, clip, optimizer step.
  double apply(double loss) {
    if (!std::isfinite(loss)) {
      throw NumericsError("the loss is " + fmt_exact(loss) +
                          (size > 1 ? " (averaged over " + std::to_string(size) + " ranks)" : "") +
                          "; no step taken (parameters unchanged)");
    }
    if (settings.grad_clip > 0) {
      torch::NoGradGuard no_grad;
      double sum = 0;
      for (const torch::Tensor& p : params) {
        if (p.grad().defined()) sum += p.grad().to(torch::kFloat64).pow(2).sum().item<double>();
      }
      const double norm = std::sqrt(sum);
      if (norm > settings.grad_clip) {
        const double scale = settings.grad_clip / norm;
        for (torch::Tensor& p : params) {
          if (p.grad().defined()) p.mutable_grad().mul_(scale);
        }
      }
    }
    optimizer->step();
    ++steps;
    return loss;
  }

  void drop_grads() {
    for (torch::Tensor& p : params) p.mutable_grad() = torch::Tensor();
  }

  // The step's one collective: every gradient, the loss and a failure flag in one buffer, summed
  // over the ranks; a failure anywhere is then shared (share), otherwise the sums are averaged.
  double finish(std::exception_ptr failure, const torch::Tensor& loss) {
    if (comm == MPI_COMM_NULL) {
      if (failure) {
        drop_grads();
        std::rethrow_exception(failure);
      }
      return apply(loss.item<double>());
    }
    const std::int64_t n = numel();
    torch::Tensor flat = torch::zeros({n + 2}, torch::TensorOptions().dtype(flat_type));
    if (!failure) {
      torch::NoGradGuard no_grad;
      std::int64_t at = 0;
      for (const torch::Tensor& p : params) {
        if (p.grad().defined()) flat.narrow(0, at, p.numel()).copy_(p.grad().reshape({-1}));
        at += p.numel();
      }
      flat[n] = loss.item<double>();
    } else {
      flat[n + 1] = 1;
    }
    if (n + 2 > INT_MAX) throw ModelError("more than INT_MAX parameters to average over MPI");
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr(), int(n + 2), mpi_type(), MPI_SUM, comm));
    if (flat[n + 1].item<double>() > 0) {
      drop_grads();
      share(comm, failure);
      throw std::logic_error("a rank failed but none says so");  // share() has thrown
    }
    {
      torch::NoGradGuard no_grad;
      flat.div_(size);
      std::int64_t at = 0;
      for (torch::Tensor& p : params) {
        if (p.grad().defined()) {
          p.mutable_grad().copy_(flat.narrow(0, at, p.numel()).view(p.sizes()));
        }
        at += p.numel();
      }
    }
    return apply(flat[n].item<double>());
  }
};

void TorchScriptTrainer::check(const TorchScriptModel& model,
                               const OnlineTrainingSettings& settings, int comm) {
  check_settings(settings);
  auto& impl = TorchScriptModelAccess::impl(const_cast<TorchScriptModel&>(model));
  if (impl.training) {
    throw std::invalid_argument("model " + impl.path +
                                " already has a trainer; expected one trainer per model at a time "
                                "(free the other first)");
  }
  bool any = false;
  for (const torch::Tensor& p : impl.module.parameters(/*recurse=*/true)) {
    any = any || p.is_floating_point();
  }
  if (!any) {
    throw ModelError("model " + impl.path +
                     " has no floating-point parameters; expected parameters to train");
  }
  if (comm == kNoComm) return;
  int up = 0, down = 0;
  MPI_Initialized(&up);
  MPI_Finalized(&down);
  if (!up || down) {
    throw std::invalid_argument("comm = " + std::to_string(comm) + " but MPI is " +
                                (down ? "finalized" : "not initialised") +
                                "; expected MPI initialised by the host, or AEOLUS_COMM_NONE (" +
                                std::to_string(kNoComm) + ") for no MPI");
  }
  const MPI_Comm c = host_comm(comm);
  if (c == MPI_COMM_NULL || c == MPI_Comm{}) {
    throw std::invalid_argument(
        "comm = " + std::to_string(comm) +
        " is MPI_COMM_NULL or no communicator's handle; expected a communicator as a Fortran "
        "handle (MPI_Comm_c2f(comm) in C), or AEOLUS_COMM_NONE (" +
        std::to_string(kNoComm) + ") for no MPI");
  }
}

TorchScriptTrainer::TorchScriptTrainer(TorchScriptModel& model,
                                       const OnlineTrainingSettings& settings, int comm)
    : impl_(std::make_unique<Impl>()) {
  check(model, settings, comm);
  Impl& t = *impl_;
  t.model = &TorchScriptModelAccess::impl(model);
  t.settings = settings;
  bool mixed = false;
  for (const auto& item : t.model->module.named_parameters(/*recurse=*/true)) {
    if (!item.value.is_floating_point()) continue;
    if (!t.params.empty() && item.value.scalar_type() != t.params[0].scalar_type()) mixed = true;
    t.params.push_back(item.value);
    t.names.push_back(item.name);
    t.requires_grad_before.push_back(item.value.requires_grad());
  }
  t.flat_type = mixed ? torch::kFloat64 : t.params[0].scalar_type();
  if (t.flat_type != torch::kFloat32) t.flat_type = torch::kFloat64;
  if (comm != kNoComm) {
    TS_MPI(MPI_Comm_dup(host_comm(comm), &t.comm));
    // MPI errors on the trainer's communicator come back as codes (exceptions), not aborts.
    TS_MPI(MPI_Comm_set_errhandler(t.comm, MPI_ERRORS_RETURN));
    TS_MPI(MPI_Comm_rank(t.comm, &t.rank));
    TS_MPI(MPI_Comm_size(t.comm, &t.size));
    // The same parameters (names, shapes, dtypes) on every rank, or the flat buffers would not
    // match: one reduction of a hash of their list and its complement (max of both: all equal
    // iff max(h) == ~max(~h)).
    const std::string layout = t.layout_text();
    unsigned long long h[2] = {std::hash<std::string>{}(layout), 0};
    h[1] = ~h[0];
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, h, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, t.comm));
    if (h[0] != ~h[1]) {
      std::exception_ptr differs;
      // Rank 0's list against each rank's own: the ranks whose list differs say so.
      std::string zero = layout;
      long long length = (long long)zero.size();
      TS_MPI(MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, t.comm));
      zero.resize(size_t(length));
      TS_MPI(MPI_Bcast(zero.data(), int(length), MPI_CHAR, 0, t.comm));
      if (zero != layout) {
        auto lines = [](const std::string& text) {
          std::string out;
          for (char c : text) out += c == '\n' ? std::string("; ") : std::string(1, c);
          return out.empty() ? out : out.substr(0, out.size() - 2);
        };
        differs = std::make_exception_ptr(std::invalid_argument(
            "model " + t.model->path + " has the parameters " + lines(layout) + ", rank 0's " +
            lines(zero) + "; expected the same model on every rank of comm"));
      }
      MPI_Comm_free(&t.comm);
      share_outcome(comm, differs);
      throw std::logic_error("parameter lists differ but no rank says so");
    }
    // Rank 0's parameters everywhere, in one broadcast.
    torch::NoGradGuard no_grad;
    const std::int64_t n = t.numel();
    torch::Tensor flat = torch::empty({n}, torch::TensorOptions().dtype(t.flat_type));
    std::int64_t at = 0;
    for (const torch::Tensor& p : t.params) {
      flat.narrow(0, at, p.numel()).copy_(p.reshape({-1}));
      at += p.numel();
    }
    if (n > INT_MAX) throw ModelError("more than INT_MAX parameters to broadcast over MPI");
    TS_MPI(MPI_Bcast(flat.data_ptr(), int(n), t.mpi_type(), 0, t.comm));
    at = 0;
    for (torch::Tensor& p : t.params) {
      p.copy_(flat.narrow(0, at, p.numel()).view(p.sizes()));
      at += p.numel();
    }
  }
  for (torch::Tensor& p : t.params) p.requires_grad_(true);
  t.optimizer = t.make_optimizer();
  // One process-wide setting in LibTorch; each change rebuilds its thread pool (milliseconds),
  // so it is set once here, not around every step.
  if (settings.threads > 0 && at::get_num_threads() != settings.threads) {
    at::set_num_threads(settings.threads);
  }
  t.model->training = true;
}

TorchScriptTrainer::~TorchScriptTrainer() {
  Impl& t = *impl_;
  try {
    t.model->module.eval();
    for (size_t k = 0; k < t.params.size(); ++k) {
      t.params[k].mutable_grad() = torch::Tensor();
      t.params[k].requires_grad_(t.requires_grad_before[k]);
    }
  } catch (...) {
    // Nothing to report from a destructor; the model stays usable for forward in any case.
  }
  t.model->training = false;
  int down = 0;
  MPI_Finalized(&down);
  if (t.comm != MPI_COMM_NULL && !down) MPI_Comm_free(&t.comm);
}

double TorchScriptTrainer::step(const ConstArrayRef& in, const ConstArrayRef& target) {
  std::exception_ptr failure;
  torch::Tensor loss;
  try {
    loss = impl_->local_step(in, target);
  } catch (...) {
    failure = std::current_exception();
  }
  return impl_->finish(failure, loss);
}

void TorchScriptTrainer::refuse_step(std::exception_ptr why) {
  if (!why) why = std::make_exception_ptr(std::logic_error("refuse_step without a reason"));
  impl_->finish(why, torch::Tensor());
  throw std::logic_error("refuse_step returned");  // finish() has thrown
}

void TorchScriptTrainer::save(const std::string& model_path, const std::string& state_path) {
  Impl& t = *impl_;
  std::exception_ptr failure;
  if (t.rank == 0) {
    try {
      if (!model_path.empty()) {
        write_atomically(model_path, "model file",
                         [&](const std::string& tmp) { t.model->module.save(tmp); });
      }
      if (!state_path.empty()) {
        write_atomically(state_path, "training state", [&](const std::string& tmp) {
          torch::serialize::OutputArchive archive;
          t.optimizer->save(archive);
          archive.write("aeolus_format", c10::IValue(std::string(kStateFormat)));
          archive.write("aeolus_version", c10::IValue(kStateVersion));
          archive.write("aeolus_optimizer", c10::IValue(t.settings.optimizer));
          archive.write("aeolus_parameters", c10::IValue(t.layout_text()));
          archive.write("aeolus_steps", c10::IValue(t.steps));
          archive.save_to(tmp);
        });
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  if (t.comm == MPI_COMM_NULL) {
    if (failure) std::rethrow_exception(failure);
    return;
  }
  share(t.comm, failure);
}

void TorchScriptTrainer::restore(const std::string& state_path) {
  Impl& t = *impl_;
  const std::string what = "training state " + state_path;
  // The file's bytes, read on rank 0 and broadcast (other ranks need not see rank 0's disk).
  std::string bytes;
  std::exception_ptr failure;
  if (t.rank == 0) {
    try {
      std::error_code ec;
      if (fs::is_directory(state_path, ec)) {
        throw IoError(what + " is a directory; expected a file written by aeolus_trainer_save");
      }
      std::ifstream in(state_path, std::ios::binary);
      if (!in.good()) throw IoError(what + " does not exist or cannot be read");
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (in.bad()) throw IoError(what + ": read error");
    } catch (...) {
      failure = std::current_exception();
    }
  }
  if (t.comm != MPI_COMM_NULL) {
    share(t.comm, failure);
    long long n = (long long)bytes.size();
    TS_MPI(MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, t.comm));
    bytes.resize(size_t(n));
    for (long long at = 0; at < n; at += INT_MAX) {
      const int chunk = int(std::min<long long>(INT_MAX, n - at));
      TS_MPI(MPI_Bcast(bytes.data() + at, chunk, MPI_CHAR, 0, t.comm));
    }
  } else if (failure) {
    std::rethrow_exception(failure);
  }

  // Every rank reads the same bytes: the same outcome, shared anyway so that none could differ.
  std::unique_ptr<torch::optim::Optimizer> fresh;
  std::int64_t steps_done = 0;
  try {
    if (bytes.empty()) throw ModelError(what + " is empty; expected a training state");
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(bytes.data(), bytes.size());
    } catch (const c10::Error& e) {
      throw ModelError(what + " cannot be read: not a complete archive (truncated or damaged, " +
                       std::to_string(bytes.size()) +
                       " bytes): " + detail::torch_cause(e.what_without_backtrace()));
    }
    auto record = [&](const char* key) {
      c10::IValue v;
      if (!archive.try_read(key, v)) {
        throw ModelError(what + " is not an Aeolus training state: no " + key +
                         " record; expected a file written by aeolus_trainer_save");
      }
      return v;
    };
    const c10::IValue format = record("aeolus_format");
    if (!format.isString() || format.toStringRef() != kStateFormat) {
      throw ModelError(what + " is not an Aeolus training state (aeolus_format is not '" +
                       kStateFormat + "')");
    }
    const c10::IValue version = record("aeolus_version");
    if (!version.isInt() || version.toInt() > kStateVersion || version.toInt() < 1) {
      throw ModelError(what + " has format version " +
                       (version.isInt() ? std::to_string(version.toInt()) : "?") +
                       "; this build reads version 1 to " + std::to_string(kStateVersion));
    }
    const std::string optimizer = record("aeolus_optimizer").toStringRef();
    if (optimizer != t.settings.optimizer) {
      throw ModelError(what + " holds the state of optimizer '" + optimizer +
                       "'; this trainer's optimizer is '" + t.settings.optimizer +
                       "' (a state cannot move between optimizers)");
    }
    const std::string saved = record("aeolus_parameters").toStringRef();
    const std::string mine = t.layout_text();
    if (saved != mine) {
      // The first line that differs, named.
      std::istringstream a(saved), b(mine);
      std::string la, lb;
      size_t k = 0;
      while (true) {
        const bool ha = bool(std::getline(a, la)), hb = bool(std::getline(b, lb));
        if (!ha || !hb || la != lb) {
          throw ModelError(what + " is for other parameters: parameter " + std::to_string(k) +
                           " is " + (ha ? "'" + la + "'" : "absent") + " in the file and " +
                           (hb ? "'" + lb + "'" : "absent") + " in this model (" + t.model->path +
                           "); expected the same names, shapes and dtypes in the same order");
        }
        ++k;
      }
    }
    const c10::IValue steps = record("aeolus_steps");
    if (!steps.isInt() || steps.toInt() < 0) {
      throw ModelError(what + ": aeolus_steps is not a count");
    }
    // Into a fresh optimizer first: a state that fails half way leaves this one as it was.
    fresh = t.make_optimizer();
    try {
      fresh->load(archive);
    } catch (const c10::Error& e) {
      throw ModelError(what + ": the optimizer's state cannot be read: " +
                       detail::torch_cause(e.what_without_backtrace()));
    }
    steps_done = steps.toInt();
  } catch (...) {
    failure = std::current_exception();
  }
  if (t.comm != MPI_COMM_NULL) {
    share(t.comm, failure);
  } else if (failure) {
    std::rethrow_exception(failure);
  }
  t.optimizer = std::move(fresh);
  t.steps = steps_done;
}

void TorchScriptTrainer::agree(std::exception_ptr local) {
  if (impl_->comm == MPI_COMM_NULL) {
    if (local) std::rethrow_exception(local);
    return;
  }
  share(impl_->comm, local);
}

std::int64_t TorchScriptTrainer::steps() const { return impl_->steps; }
const OnlineTrainingSettings& TorchScriptTrainer::settings() const { return impl_->settings; }

}  // namespace aeolus::emulators
