// The emulator behind the Stepper seam. Each rank runs the network on its own ghosted block
// (a wide-halo copy of the state), so no rank needs the global field.
#include <cmath>
#include <sstream>

#include "emulators/device_impl.hpp"
#include "emulators/flux_cnn_model.hpp"
#include "emulators/flux_cnn_stencil.hpp"
#include "grids/error.hpp"
#include "solvers/fct.hpp"

namespace aeolus::emulators {

namespace {

using torch::indexing::Slice;

bool differs(double a, double b) {
  return std::abs(a - b) > 1e-12 * std::max(std::abs(a), std::abs(b));
}

// The ghosted block of a 2D field as a [1, rows, cols] tensor sharing its memory.
torch::Tensor block(Field& f) {
  const auto& g = f.grid();
  return torch::from_blob(f.data(), {1, g.ghosted_count(1), g.ghosted_count(0)},
                          torch::TensorOptions().dtype(torch::kFloat64));
}

// The owned cells of a field with halo h, as a view of block(f).
torch::Tensor owned(const torch::Tensor& block, int h) {
  return block.index({Slice(), Slice(h, block.size(1) - h), Slice(h, block.size(2) - h)});
}

// A rank's subdomain: the network's fluxes through the owned cells' low faces go into
// wide-halo fields and are exchanged, so every face flux in the domain is evaluated exactly
// once (two float32 evaluations of the same face on two ranks could differ) and the flux-form
// update (optionally FCT-limited, in double, by solvers/fct.hpp) conserves mass to round-off
// across ranks.
class SubdomainBoundary final : public detail::Boundary {
 public:
  SubdomainBoundary(const CartesianGrid& wide_grid, const CartesianGrid& grid, const Field& wide_q,
                    const Field& cx, const Field& cy, bool limit, std::string fixer)
      : gx_(wide_grid, "emulator_gx"),
        gy_(wide_grid, "emulator_gy"),
        q_low_(wide_grid, "emulator_q_low"),
        r_plus_(wide_grid, "emulator_r_plus"),
        r_minus_(wide_grid, "emulator_r_minus"),
        q_new_(wide_grid, "emulator_q_new"),
        wide_q_(wide_q),
        cx_(cx),
        cy_(cy),
        limit_(limit),
        before_(grid, "emulator_q_before"),
        after_(grid, "emulator_q_after"),
        fixer_(std::move(fixer)) {}

  torch::Tensor apply_fluxes(const torch::Tensor& q, const torch::Tensor& gx,
                             const torch::Tensor& gy) override {
    const int h = gx_.grid().halo();
    owned(block(gx_), h).copy_(gx);
    owned(block(gy_), h).copy_(gy);
    (void)q;  // the same values are in wide_q_, with the halo the limiter needs
    update_from_owned_fluxes();
    return owned(block(q_new_), h).clone();
  }

  // The fluxes of the owned cells' low faces are in gx(), gy(): exchange them and apply the
  // (limited) flux-form update into q_new().
  void update_from_owned_fluxes() {
    gx_.exchange_halos();
    gy_.exchange_halos();
    const FctWork work{q_low_.view(), r_plus_.view(), r_minus_.view()};
    fct_update_2d(wide_q_.view(), cx_.view(), cy_.view(), gx_.view(), gy_.view(), limit_, work,
                  q_new_.view());
  }
  Field& gx() { return gx_; }
  Field& gy() { return gy_; }
  const Field& q_new() const { return q_new_; }

  torch::Tensor fix_mass(const torch::Tensor& q_old, const torch::Tensor& q_new) override {
    const int h = before_.grid().halo();
    const torch::Tensor b = block(before_), a = block(after_);
    owned(b, h).copy_(q_old);
    owned(a, h).copy_(q_new);
    apply_flux_cnn_mass_fixer(fixer_, before_, after_, before_.sum());
    return owned(a, h).clone();
  }

 private:
  Field gx_, gy_, q_low_, r_plus_, r_minus_, q_new_;
  const Field& wide_q_;
  const Field& cx_;
  const Field& cy_;
  bool limit_;
  Field before_, after_;
  std::string fixer_;
};

class EmulatorStepper final : public Stepper {
 public:
  EmulatorStepper(const CartesianGrid& grid, const physics::VelocityParams& velocity,
                  const std::string& model_path, real_t dx, real_t dy)
      : path_(model_path), model_(detail::load_model(model_path)) {
    const detail::ModelSpec& spec = model_.second;
    if (grid.dim() != 2 || !grid.periodic(0) || !grid.periodic(1)) {
      throw ConfigError("emulator " + path_ +
                        " runs on 2D grids periodic in x and y; the case "
                        "grid has dim " +
                        std::to_string(grid.dim()) + " or is not periodic");
    }
    check_spacing("dx", spec.dx, dx);
    check_spacing("dy", spec.dy, dy);
    check_spacing("dx", spec.dx, grid.dx(0));
    check_spacing("dy", spec.dy, grid.dx(1));
    halo_ = detail::halo_width(spec.params);
    // The process's torch threads for the run (the per-step scope then changes nothing).
    torch::set_num_threads(spec.params.threads);
    if (spec.params.inputs == "courant") model_.first->to(torch::kFloat64);
    wide_grid_ = grid.with_halo(halo_);
    wide_q_ = std::make_unique<Field>(*wide_grid_, "emulator_q");
    u_ = std::make_unique<Field>(*wide_grid_, "emulator_u_face");
    v_ = std::make_unique<Field>(*wide_grid_, "emulator_v_face");
    // Face velocities are steady in every velocity type the datasets hold. Ghosts are taken
    // from the periodic neighbours, not evaluated analytically, because training padded its
    // inputs periodically too (they differ at the seam of the rotating field).
    physics::fill_face_velocity(velocity, 0, 0.0, *u_);
    physics::fill_face_velocity(velocity, 1, 0.0, *v_);
    u_->exchange_halos();
    v_->exchange_halos();
    cx_field_ = std::make_unique<Field>(*wide_grid_, "emulator_cx");
    cy_field_ = std::make_unique<Field>(*wide_grid_, "emulator_cy");
    {
      const real_t sx = spec.dt_frame / spec.dx, sy = spec.dt_frame / spec.dy;
      const size_t n = size_t(wide_grid_->ghosted_size());
      for (size_t k = 0; k < n; ++k) {
        cx_field_->data()[k] = u_->data()[k] * sx;
        cy_field_->data()[k] = v_->data()[k] * sy;
      }
    }
    cx_ = block(*cx_field_);
    cy_ = block(*cy_field_);
    const bool limit = spec.params.limiter == "fct";
    if (limit) {
      const real_t local = fct_max_outflow_courant(cx_field_->view(), cy_field_->view());
      real_t worst = 0;
      MPI_Allreduce(&local, &worst, 1, MPI_DOUBLE, MPI_MAX, grid.comm());
      if (worst > 1.0 + 1e-12) {
        std::ostringstream os;
        os << "emulator " << path_ << " uses the FCT limiter, which needs the outgoing Courant "
           << "numbers of each cell to sum to <= 1 per step; this velocity gives " << worst
           << " with the trained step " << spec.dt_frame << " s (train with a smaller "
           << "dataset.dt_frame or slower dataset velocities)";
        throw ModelError(os.str());
      }
    }
    boundary_ = std::make_unique<SubdomainBoundary>(*wide_grid_, grid, *wide_q_, *cx_field_,
                                                    *cy_field_, limit, spec.params.mass_fixer);
    if (spec.params.inputs == "courant" && spec.params.output == "flux") {
      // The weights depend on the steady Courant numbers only: run the network once, here
      // (collective), so that every step, also the first after a restart, is the same stencil
      // kernel.
      torch::NoGradGuard no_grad;
      auto [wx, wy] = detail::flux_weights(model_.first, spec, block(*wide_q_), cx_, cy_);
      wx_ = wx.contiguous();
      wy_ = wy.contiguous();
    }
    // For the progress logs (the velocity is steady).
    inverse_cfl_time_ = physics::max_inverse_cfl_time(velocity, grid, 0.0);
  }

  std::string name() const override { return "emulator"; }
  bool fixed_step() const override { return true; }

  real_t max_dt(const Field&, real_t) const override { return model_.second.dt_frame; }

  void step(Field& q, real_t& t, real_t& dt) override {
    const real_t trained = model_.second.dt_frame;
    if (differs(dt, trained)) {
      std::ostringstream os;
      os.precision(17);
      os << "emulator " << path_ << " was trained for steps of dt = " << trained
         << " and cannot take dt = " << dt << "; set the case's dt to the trained step";
      throw ModelError(os.str());
    }
    wide_q_->copy_owned_from(q);
    wide_q_->exchange_halos();
    if (wx_.defined()) {
      const auto& p = model_.second.params;
      stencil_fluxes_2d(wide_q_->view(), cx_field_->view(), cy_field_->view(),
                        wx_.data_ptr<double>(), wy_.data_ptr<double>(), p.stencil,
                        detail::kTransverse, boundary_->gx().view(), boundary_->gy().view());
      boundary_->update_from_owned_fluxes();
      q.copy_owned_from(boundary_->q_new());
    } else {
      detail::ThreadScope threads(model_.second.params.threads);
      torch::NoGradGuard no_grad;
      const torch::Tensor q_new =
          detail::advance(model_.first, model_.second, block(*wide_q_), cx_, cy_, *boundary_);
      owned(block(*wide_q_), halo_).copy_(q_new);
      q.copy_owned_from(*wide_q_);
    }
    t += trained;
    dt = trained;
  }

  real_t courant(real_t, real_t dt) const override { return inverse_cfl_time_ * dt; }

 private:
  void check_spacing(const char* name, double trained, double here) const {
    if (differs(trained, here)) {
      std::ostringstream os;
      os.precision(17);
      os << "model " << path_ << " was trained with " << name << " = " << trained
         << ", the case has " << name << " = " << here;
      throw ModelError(os.str());
    }
  }

  std::string path_;
  std::pair<detail::FluxStencilNet, detail::ModelSpec> model_;
  int halo_ = 0;
  std::unique_ptr<CartesianGrid> wide_grid_;
  std::unique_ptr<Field> wide_q_, u_, v_, cx_field_, cy_field_;
  torch::Tensor cx_, cy_;
  std::unique_ptr<SubdomainBoundary> boundary_;
  torch::Tensor wx_, wy_;  // cached stencil weights (inputs = courant; steady velocity)
  real_t inverse_cfl_time_ = 0;
};

}  // namespace

std::unique_ptr<Stepper> make_flux_cnn_stepper(const CartesianGrid& grid,
                                               const physics::VelocityParams& velocity,
                                               const std::string& model_path, real_t dx,
                                               real_t dy) {
  return std::make_unique<EmulatorStepper>(grid, velocity, model_path, dx, dy);
}

}  // namespace aeolus::emulators
