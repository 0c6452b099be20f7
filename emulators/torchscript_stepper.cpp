// A TorchScript model behind the Stepper seam (emulators/torchscript_stepper.hpp has the model
// contract). Each rank runs the model on its own ghosted block: the state is copied into a
// field with `halo` ghost layers, the halo exchange fills them, and forward writes the owned
// cells into a buffer reused from step to step.
#include "emulators/torchscript_stepper.hpp"

#include <ATen/Parallel.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <vector>

#include "emulators/flux_cnn.hpp"
#include "emulators/torchscript_model.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/format.hpp"
#include "solvers/fv_advection.hpp"

namespace aeolus::emulators {

namespace {

bool differs(double a, double b) {
  return std::abs(a - b) > 1e-12 * std::max(std::abs(a), std::abs(b));
}

// Runs f on every rank; if it throws an aeolus::Error on some rank, every rank throws the
// error of the lowest such rank (same type and text), so that no rank is left waiting in the
// next collective call. One MPI_Allreduce when nothing fails.
template <class F>
void agree(MPI_Comm comm, F&& f) {
  enum Kind : int { kNone, kConfig, kIo, kModel, kNumerics, kOther };
  int kind = kNone;
  std::string what;
  try {
    f();
  } catch (const ConfigError& e) {
    kind = kConfig;
    what = e.what();
  } catch (const IoError& e) {
    kind = kIo;
    what = e.what();
  } catch (const ModelError& e) {
    kind = kModel;
    what = e.what();
  } catch (const NumericsError& e) {
    kind = kNumerics;
    what = e.what();
  } catch (const std::exception& e) {
    kind = kOther;
    what = e.what();
  }
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const int mine = kind == kNone ? size : rank;
  int first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  int len = int(what.size());
  MPI_Bcast(&kind, 1, MPI_INT, first, comm);
  MPI_Bcast(&len, 1, MPI_INT, first, comm);
  what.resize(size_t(len));
  MPI_Bcast(what.data(), len, MPI_CHAR, first, comm);
  switch (kind) {
    case kConfig:
      throw ConfigError(what);
    case kIo:
      throw IoError(what);
    case kModel:
      throw ModelError(what);
    case kNumerics:
      throw NumericsError(what);
    default:
      throw Error(what);
  }
}

class TorchScriptStepper final : public Stepper {
 public:
  TorchScriptStepper(const CartesianGrid& grid, const TorchScriptStepperParams& p) : p_(p) {
    check_params(grid);
    agree(grid.comm(), [&] { model_ = std::make_unique<TorchScriptModel>(p_.model); });
    at::set_num_threads(p_.threads);  // the process's intra-op threads for the run
    wide_grid_ = grid.with_halo(p_.halo);
    wide_ = std::make_unique<Field>(*wide_grid_, "torchscript_q");
    nx_ = grid.count(0);
    ny_ = grid.count(1);
    out_.assign(size_t(nx_ * ny_), 0.0);
    in_ref_ = {wide_->data(),
               DType::float64,
               {1, 1, wide_grid_->ghosted_count(1), wide_grid_->ghosted_count(0)},
               Layout::c};
    out_ref_ = {out_.data(), DType::float64, {1, 1, ny_, nx_}, Layout::c};
    non_periodic_ = !grid.periodic(0) || !grid.periodic(1);
  }

  std::string name() const override { return "torchscript"; }
  std::string describe() const override {
    return "torchscript model " + p_.model + " (" + dtype_name(model_->parameter_dtype()) +
           ", halo " + std::to_string(p_.halo) + ", output " + p_.output + ", mass fixer " +
           p_.mass_fixer + ", dt " + fmt("%.9g", p_.dt) + " s, " + std::to_string(p_.threads) +
           (p_.threads == 1 ? " thread)" : " threads)");
  }
  bool fixed_step() const override { return true; }
  real_t max_dt(const Field&, real_t) const override { return p_.dt; }
  real_t courant(real_t, real_t) const override { return 0; }  // the model's velocity is its own
  std::map<std::string, double> counters() const override {
    return {{"model_forward_calls", double(calls_)}, {"model_forward_seconds", forward_seconds_}};
  }

  void step(Field& q, real_t& t, real_t& dt) override {
    if (differs(dt, p_.dt)) {
      throw ModelError("torchscript model " + p_.model +
                       " was trained for steps of dt = " + fmt_exact(p_.dt) +
                       " s (torchscript.dt) and cannot take dt = " + fmt_exact(dt) + " s");
    }
    const long long step_no = calls_ + 1;
    wide_->copy_owned_from(q);
    wide_->exchange_halos();
    if (non_periodic_) fv_fill_outflow_ghosts(*wide_);
    agree(wide_grid_->comm(), [&] { forward(step_no, t); });
    ++calls_;
    const bool fix = p_.mass_fixer != "none";
    const real_t target = fix ? wide_->sum() : 0;  // collective
    auto v = q.view();
    const auto w = static_cast<const Field&>(*wide_).view();
    const bool increment = p_.output == "increment";
    for (index_t j = 0; j < ny_; ++j) {
      const double* f = out_.data() + j * nx_;
      for (index_t i = 0; i < nx_; ++i) v(i, j) = increment ? w(i, j) + f[i] : f[i];
    }
    if (fix) apply_flux_cnn_mass_fixer(p_.mass_fixer, *wide_, q, target);
    t += p_.dt;
    dt = p_.dt;
  }

 private:
  void check_params(const CartesianGrid& grid) const {
    const std::string what = "torchscript stepper (model " + p_.model + ")";
    if (grid.dim() != 2) {
      throw ConfigError(what + " runs on 2D grids only; the case grid is " +
                        std::to_string(grid.dim()) + "D (grid.dim = " + std::to_string(grid.dim()) +
                        ")");
    }
    if (!(p_.dt > 0) || !std::isfinite(p_.dt)) {
      throw ConfigError(what + ": torchscript.dt = " + fmt_exact(p_.dt) +
                        "; expected the step the model was trained for, > 0 s");
    }
    if (p_.halo < 0) {
      throw ConfigError(what + ": torchscript.halo = " + std::to_string(p_.halo) +
                        "; expected >= 0");
    }
    for (int d = 0; d < 2; ++d) {
      if (p_.halo > grid.n(d)) {
        throw ConfigError(what + ": torchscript.halo = " + std::to_string(p_.halo) +
                          " is wider than the domain along " + (d == 0 ? "x" : "y") + " (" +
                          std::to_string(grid.n(d)) +
                          " cells); expected <= " + std::to_string(grid.n(d)));
      }
    }
    if (p_.output != "increment" && p_.output != "state") {
      throw ConfigError(what + ": torchscript.output = '" + p_.output +
                        "'; expected increment or state");
    }
    if (p_.mass_fixer != "none" && p_.mass_fixer != "scale" && p_.mass_fixer != "shift") {
      throw ConfigError(what + ": torchscript.mass_fixer = '" + p_.mass_fixer +
                        "'; expected none, scale or shift");
    }
    if (p_.threads < 1) {
      throw ConfigError(what + ": torchscript.threads = " + std::to_string(p_.threads) +
                        "; expected >= 1");
    }
  }

  // forward into out_, with the step and time in the messages; NumericsError on a non-finite
  // output value.
  void forward(long long step_no, real_t t) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      model_->forward(in_ref_, out_ref_);
    } catch (const ModelError& e) {
      throw ModelError(
          std::string(e.what()) + " (torchscript stepper, step " + std::to_string(step_no) +
          " at t = " + fmt("%.9g", t) + " s: expected an output of shape " +
          shape_text(out_ref_.shape) + ", the rank's owned cells, for its block of shape " +
          shape_text(in_ref_.shape) + " with torchscript.halo = " + std::to_string(p_.halo) + ")");
    }
    forward_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    long long bad = 0;
    index_t first = -1;
    for (size_t k = 0; k < out_.size(); ++k) {
      if (!std::isfinite(out_[k])) {
        if (bad++ == 0) first = index_t(k);
      }
    }
    if (bad > 0) {
      std::ostringstream os;
      os << "torchscript model " << p_.model << " returned " << bad << " non-finite value"
         << (bad == 1 ? "" : "s") << " (first: " << out_[size_t(first)]
         << " at cell x = " << wide_grid_->start(0) + first % nx_
         << ", y = " << wide_grid_->start(1) + first / nx_ << ") at step " << step_no
         << " from t = " << fmt("%.9g", t) << " s to t = " << fmt("%.9g", t + p_.dt) << " s";
      throw NumericsError(os.str());
    }
  }

  TorchScriptStepperParams p_;
  std::unique_ptr<TorchScriptModel> model_;
  std::unique_ptr<CartesianGrid> wide_grid_;
  std::unique_ptr<Field> wide_;  // the state with torchscript.halo ghost layers
  index_t nx_ = 0, ny_ = 0;      // owned cells of this rank
  std::vector<double> out_;      // the model's output, [ny_][nx_]
  ConstArrayRef in_ref_;
  ArrayRef out_ref_;
  bool non_periodic_ = false;
  long long calls_ = 0;
  double forward_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Stepper> make_torchscript_stepper(const CartesianGrid& grid,
                                                  const TorchScriptStepperParams& params) {
  return std::make_unique<TorchScriptStepper>(grid, params);
}

}  // namespace aeolus::emulators
