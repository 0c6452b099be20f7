#pragma once
// The configuration of an advection case (physics.equation: advection, grid.type: cartesian).

#include "emulators/flux_cnn.hpp"
#include "emulators/torchscript_stepper.hpp"
#include "physics/advection.hpp"
#include "solvers/fv_advection.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

struct InitialConditionConfig {
  physics::InitialConditionParams params;
  std::uint64_t seed = 1;
  std::string file;  // type: file -> NetCDF file (relative to the case)
  std::string variable = "q";
};

struct DatasetParams {
  int train = 48, valid = 8, test = 8;  // trajectories per split
  int frames = 20;                      // frames after the initial one, per trajectory
  real_t dt_frame = 0.01;               // simulated time between frames (the emulator step)
  std::uint64_t seed = 1000;
  std::string velocity = "random_constant";  // case | random_constant
  real_t speed_min = 0.3, speed_max = 1.0;   // random_constant: |u| range
  // Initial conditions: random Gaussian blobs (counts, radii, amplitudes), down to one cell
  // wide on the default 64^2 grid so that short waves are in the data.
  physics::InitialConditionParams blobs = [] {
    physics::InitialConditionParams p;
    p.type = "random_blobs";
    p.radius_min = 0.012;
    return p;
  }();
};

struct EvalParams {
  int trajectories = 4;  // held-out initial conditions (test-split seeds)
  int steps = 100;       // emulator steps
};

// physics.equation: advection on a Cartesian box (grid.type cartesian): the velocity, the
// initial condition, the classical scheme, the flux-CNN emulator with its data set, training
// and evaluation, and a TorchScript model as a stepper (tools/app/advection_case.cpp runs them).
struct AdvectionCaseConfig : CaseSettings {
  physics::VelocityParams velocity;
  InitialConditionConfig initial;
  FvSchemeParams scheme;
  emulators::FluxCnnParams emulator;
  emulators::FluxCnnTrainingParams training;
  // stepper.type torchscript; model as written (relative to the case dir, resolved by the case).
  emulators::TorchScriptStepperParams torchscript;
  DatasetParams dataset;
  EvalParams eval;
};

}  // namespace aeolus::app
