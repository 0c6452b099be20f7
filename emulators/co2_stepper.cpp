#include "emulators/co2_stepper.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "emulators/co2_models.hpp"
#include "grids/error.hpp"
#include "grids/format.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"
#include "io/column_gather.hpp"

namespace aeolus::emulators {

namespace fs = std::filesystem;

Co2EmulatorStepper::Co2EmulatorStepper(std::shared_ptr<Co2TransportStepper> classical,
                                       const Co2EmulatorStepperParams& p)
    : classical_(std::move(classical)),
      u_(classical_->grid().grid(), "u"),
      v_(classical_->grid().grid(), "v"),
      omega_(classical_->grid().grid(), "omega"),
      airmass_(classical_->grid().grid(), "airmass") {
  load_model(p);
}

Co2EmulatorStepper::~Co2EmulatorStepper() = default;

void Co2EmulatorStepper::load_model(const Co2EmulatorStepperParams& p) {
  const SphereGrid& g = classical_->grid();
  const real_t interval = classical_->params().interval;
  MPI_Comm comm = g.grid().comm();
  std::string error;
  if (comm_rank(comm) == 0) {
    try {
      if (!fs::exists(p.model_path)) {
        throw IoError(p.model_path + " not found; the emulator stepper needs a trained model ('" +
                      p.train_hint + "')");
      }
      model_ = std::make_unique<Co2Model>(Co2Model::load(p.model_path));
      model_->set_device(p.device, p.device_key);
      const auto sh = model_->shape();
      if (sh.nlev != g.nlev() || sh.nlat != g.nlat() || sh.nlon != g.nlon() ||
          model_->params().dt != interval) {
        std::ostringstream os;
        os << p.model_path << ": the model is for " << sh.nlat << " x " << sh.nlon << " x "
           << sh.nlev << " and steps of " << model_->params().dt << " s; the case has " << g.nlat()
           << " x " << g.nlon() << " x " << g.nlev() << " and samples of " << interval << " s";
        throw ModelError(os.str());
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  error = io::broadcast_string(comm, error);
  if (!error.empty()) throw ModelError(error);
  int next = 0;
  if (model_) {
    for (const auto& f : model_->params().inputs.fields3d)
      if (f == "u_next" || f == "v_next" || f == "omega_next") next = 1;
  }
  AEOLUS_MPI(MPI_Bcast(&next, 1, MPI_INT, 0, comm));
  next_winds_ = next != 0;
}

void Co2EmulatorStepper::step_alongside(Field& q, const std::vector<Field*>& carried, real_t& t,
                                        real_t& dt) {
  const real_t interval = classical_->params().interval;
  if (!(dt > 0) || dt > interval * (1 + 1e-12) || std::abs(dt - interval) > 1e-9 * interval) {
    throw NumericsError("co2 " + name() + " step: dt = " + fmt("%g", dt) + " s, expected exactly " +
                        fmt("%g", interval) + " s (dataset.sample_hours)");
  }
  const SphereGrid& g = classical_->grid();
  MPI_Comm comm = g.grid().comm();
  const bool root = comm_rank(comm) == 0;
  const physics::SyntheticMeteorology& met = classical_->met();
  // The model's inputs at t, gathered on rank 0.
  Co2StepInput in;
  in.dt = dt;
  met.winds(t, u_, v_);
  met.omega(t, omega_);
  std::vector<real_t> blh, tisr;
  met.boundary_layer_height(t, blh);
  met.toa_incident_solar_radiation(t, tisr);
  const std::vector<real_t> gq = q.gather_to_root(), gm = airmass_kg(), gu = u_.gather_to_root(),
                            gv = v_.gather_to_root(), go = omega_.gather_to_root(),
                            gb = io::gather_columns(comm, blh), gt = io::gather_columns(comm, tisr);
  // Models that read the winds at the end of the step (model.inputs.fields3d u_next, ...).
  std::vector<real_t> gun, gvn, gon;
  if (next_winds_) {
    met.winds(t + dt, u_, v_);
    met.omega(t + dt, omega_);
    gun = u_.gather_to_root(), gvn = v_.gather_to_root(), gon = omega_.gather_to_root();
  }
  // The classical part: air mass (and the carried fields) to t + dt, mean fluxes over the step.
  Co2FluxSums sums;
  sums.reset(size_t(g.lat_count() * g.nlon()));
  classical_->advance(carried, t, dt, &sums);
  for (auto* f : {&sums.anthro, &sums.land, &sums.ocean})
    for (auto& x : *f) x /= dt;
  const std::vector<real_t> gn = airmass_kg(), gfa = io::gather_columns(comm, sums.anthro),
                            gfl = io::gather_columns(comm, sums.land),
                            gfo = io::gather_columns(comm, sums.ocean);
  // The model on rank 0, its error on every rank.
  std::vector<real_t> q_new;
  std::string error;
  if (root) {
    in.q = gq, in.airmass = gm, in.airmass_next = gn;
    in.u = gu, in.v = gv, in.omega = go, in.blh = gb, in.tisr = gt;
    in.u_next = gun, in.v_next = gvn, in.omega_next = gon;
    in.co2flux_anthro = gfa, in.co2flux_land = gfl, in.co2flux_ocean = gfo;
    in.cell_area.resize(size_t(g.nlat()));
    for (index_t j = 0; j < g.nlat(); ++j) in.cell_area[size_t(j)] = g.area(j);
    try {
      q_new = model_->predict_step(in).q;
    } catch (const Error& e) {
      error = e.what();
    }
  }
  error = io::broadcast_string(comm, error);
  if (!error.empty()) {
    throw NumericsError("co2 emulator step at t = " + fmt("%g", t) + ": " + error);
  }
  q.scatter_from_root(q_new);
  t += dt;
}

std::vector<real_t> Co2EmulatorStepper::airmass_kg() {
  const SphereGrid& g = classical_->grid();
  const ConstFieldView d = classical_->air_mass().view();
  FieldView mv = airmass_.view();
  for (index_t k = 0; k < d.nz; ++k)
    for (index_t j = 0; j < d.ny; ++j) {
      const real_t a = g.area(g.lat_start() + j) / physics::co2::kGravity;
      for (index_t i = 0; i < d.nx; ++i) mv(i, j, k) = d(i, j, k) * a;
    }
  return airmass_.gather_to_root();
}

Co2HybridStepper::Co2HybridStepper(std::shared_ptr<Co2TransportStepper> classical,
                                   const Co2EmulatorStepperParams& p, real_t period)
    : classical_(classical),
      emulator_(std::make_unique<Co2EmulatorStepper>(classical, p)),
      period_(period),
      qc_(classical->grid().grid(), "co2_classical") {
  if (!(period > 0)) {
    throw ConfigError("co2 hybrid stepper: re-initialisation period = " + fmt("%g", period) +
                      " s, expected > 0");
  }
}

Co2HybridStepper::~Co2HybridStepper() = default;

std::vector<Field*> Co2HybridStepper::state_fields() {
  std::vector<Field*> f = emulator_->state_fields();
  f.push_back(&qc_);
  return f;
}

void Co2HybridStepper::step(Field& q, real_t& t, real_t& dt) {
  if (t == 0) qc_.copy_owned_from(q);  // restarts take qc_ from the checkpoint
  emulator_->step_alongside(q, {&qc_}, t, dt);
  if (std::floor((t + 1e-6) / period_) > std::floor((t - dt + 1e-6) / period_)) {
    q.copy_owned_from(qc_);
  }
}

}  // namespace aeolus::emulators
