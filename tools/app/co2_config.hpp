#pragma once
// The configuration of a CO2 transport case (physics.equation: co2_transport).

#include "emulators/co2_training.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/co2_fluxes.hpp"
#include "physics/co2_met.hpp"
#include "solvers/sphere_scheme.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// physics.equation: co2_transport (tools/app/co2_case.cpp): CO2 on the sphere with synthetic
// meteorology and surface fluxes; `aeolus dataset` writes the CarbonBench-style data set.
struct Co2CaseConfig : CaseSettings {
  SphereGridParams grid = [] {
    SphereGridParams g;
    g.nlon = 64;  // 5.625 deg, no pole points (CarbonBench LowRes)
    g.nlat = 32;
    g.nlev = 10;
    return g;
  }();
  physics::Co2MetParams met;        // physics.meteorology
  physics::Co2FluxParams fluxes;    // physics.fluxes
  physics::Co2MixingParams mixing;  // physics.mixing: sub-grid vertical mixing of the CO2
  real_t initial_ppmv = 400.0;      // physics.initial_ppmv: base value of the initial field
  SphereSchemeParams scheme;        // stepper.scheme
  // stepper.hybrid_days (emulator only): re-initialise the emulated CO2 from a classical copy
  // every hybrid_days days (0: pure emulator).
  real_t hybrid_days = 0;
  real_t cfl = 0.5;                  // time.cfl: meridional and vertical Courant limit
  real_t max_substep = 3600.0;       // time.max_substep (s): the flow is evaluated per sub-step
  real_t sample_interval = 21600.0;  // dataset.sample_hours * 3600: one emulator step
  int spinup_days = 30;              // dataset.spinup_days: simulated before year 0, not written
  int train_years = 4, valid_years = 1, test_years = 1;  // dataset: consecutive years
  int deflate = 4;                                       // dataset.deflate (0..9)
  emulators::Co2ModelParams model;  // model (aeolus train; the preset picks the sizes)
  // model.device: where the trained network runs in `aeolus run --stepper emulator` and
  // `aeolus eval` (cpu | cuda | cuda:N; not saved with the model). training.device is where it
  // trains.
  std::string model_device = "cpu";
  emulators::Co2TrainingParams training;  // training
  emulators::Co2EvalParams evaluation;    // evaluation (aeolus eval)
  // evaluation.validation_free_runs: aeolus eval also runs free runs of
  // evaluation.long_rollout_days from each quarter of the validation year on into the test
  // year (the two read as one sequence): the year-long stability from four more start dates.
  bool validation_free_runs = false;
  // dataset.file_days: days per file. 365 (a calendar year) for the data set; fewer only for
  // smoke tests (files then cover consecutive stretches of file_days, not calendar years).
  int file_days = 365;
  // dataset.directory: where the data set lives, relative to the case (several model cases
  // can share one data set, e.g. ../co2-carbonbench/data).
  std::string data_dir = "data";
};

// Reads every section of a CO2 case into c (common part) and its Co2CaseConfig settings.
void load_co2_case(io::Section& root, CaseConfig& c);

}  // namespace aeolus::app
