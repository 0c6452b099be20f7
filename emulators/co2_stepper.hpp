#pragma once
// The CO2 emulator behind the Stepper seam (`aeolus run --stepper emulator` on a co2_transport
// case), and its hybrid form.
//
// Co2EmulatorStepper: one step is one sample interval (6 h). The air mass advances with the
// classical physics (solvers/co2_transport.hpp, which it shares); the CO2 step is the trained
// model (emulators/co2_models.hpp), fed with the meteorology at t (and t + dt where the model
// reads the winds at the end of the step), the mean surface fluxes over the step and the air
// mass at t and t + dt, run on rank 0 on the gathered global fields (the CO2 networks are
// global) and scattered back.
//
// Co2HybridStepper: the emulator, with the emulated CO2 re-initialised from a classical copy
// every `period` seconds of simulated time. It owns the classical stepper, which carries the
// copy in the same pass as the air mass, and the emulator stepper built on it.
// No torch type appears here.
#include <memory>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "solvers/co2_transport.hpp"
#include "solvers/stepper.hpp"

namespace aeolus::emulators {

class Co2Model;

struct Co2EmulatorStepperParams {
  std::string model_path;                   // the trained model (Co2Model::save)
  std::string device = "cpu";               // where the network runs: cpu | cuda | cuda:N
  std::string device_key = "model.device";  // how errors name the device setting
  // How to make the model, for the error when model_path does not exist (e.g. "aeolus train
  // CASE").
  std::string train_hint;
};

class Co2EmulatorStepper : public Stepper {
 public:
  // Loads the model on rank 0 and checks that it fits the grid and the classical stepper's
  // interval: IoError if the file is missing, ModelError if it does not fit, ConfigError for the
  // device (the same error on every rank). Collective.
  Co2EmulatorStepper(std::shared_ptr<Co2TransportStepper> classical,
                     const Co2EmulatorStepperParams& p);
  ~Co2EmulatorStepper() override;

  std::string name() const override { return "emulator"; }
  real_t max_dt(const Field&, real_t) const override { return classical_->params().interval; }
  bool fixed_step() const override { return true; }
  real_t courant(real_t t, real_t dt) const override { return classical_->courant(t, dt); }
  // The air mass (Pa) of the classical stepper: a bitwise restart needs it.
  std::vector<Field*> state_fields() override { return classical_->state_fields(); }
  // One step of exactly the interval (NumericsError otherwise).
  void step(Field& q, real_t& t, real_t& dt) override { step_alongside(q, {}, t, dt); }

  // One step of q by the model, while the classical stepper advances the air mass and the
  // fields `carried` (mixing ratios; the hybrid copy) over the same interval in one pass.
  void step_alongside(Field& q, const std::vector<Field*>& carried, real_t& t, real_t& dt);

  Co2TransportStepper& classical() { return *classical_; }

 private:
  void load_model(const Co2EmulatorStepperParams& p);
  std::vector<real_t> airmass_kg();  // dp area / g of every cell, gathered on rank 0

  std::shared_ptr<Co2TransportStepper> classical_;
  std::unique_ptr<Co2Model> model_;  // rank 0 only
  // Work fields of a step (allocated once: a Field holds PETSc vectors).
  Field u_, v_, omega_, airmass_;
  bool next_winds_ = false;  // the model reads u_next / v_next / omega_next
};

class Co2HybridStepper : public Stepper {
 public:
  // The emulator of `p` on `classical`, re-initialised from the classical copy whenever a step
  // crosses a multiple of `period` (s, > 0). Collective.
  Co2HybridStepper(std::shared_ptr<Co2TransportStepper> classical,
                   const Co2EmulatorStepperParams& p, real_t period);
  ~Co2HybridStepper() override;

  std::string name() const override { return emulator_->name(); }
  real_t max_dt(const Field& q, real_t t) const override { return emulator_->max_dt(q, t); }
  bool fixed_step() const override { return true; }
  real_t courant(real_t t, real_t dt) const override { return emulator_->courant(t, dt); }
  // The air mass and the classical copy (both needed for a bitwise restart).
  std::vector<Field*> state_fields() override;
  // At t = 0 the copy starts from q (a restart takes it from the checkpoint).
  void step(Field& q, real_t& t, real_t& dt) override;

  const Field& classical_copy() const { return qc_; }

 private:
  std::shared_ptr<Co2TransportStepper> classical_;
  std::unique_ptr<Co2EmulatorStepper> emulator_;
  real_t period_;
  Field qc_;
};

}  // namespace aeolus::emulators
