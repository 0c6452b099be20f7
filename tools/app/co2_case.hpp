#pragma once
// CO2 transport on the sphere, CarbonBench-style (physics.equation: co2_transport): synthetic
// meteorology (physics/co2_met.hpp) drives the 3D Lin-Rood transport with the hybrid vertical
// closure (solvers/sphere_transport_3d.hpp), surface fluxes (physics/co2_fluxes.hpp) enter the
// lowest layer after every transport sub-step: the classical stepper of solvers/co2_transport.hpp.
// This file holds the case's reading of case.yaml and its commands; the emulator steppers are in
// emulators/co2_stepper.hpp, the year files' writer in io/co2_year_writer.hpp.
//   aeolus dataset CASE   writes CASE/data/{train,valid,test}/co2_yearNNNN.nc
//                         (io/co2_dataset_format.hpp): consecutive 365-day years after a
//                         spin-up, 6-hourly samples, fluxes as the means of what the solver
//                         applied, so the CO2 budget of the files closes to round-off (checked
//                         while writing; the largest relative error goes to logs/dataset.log
//                         and data/dataset.json). Collective (mpirun).
//   aeolus run CASE       the same physics through the common time loop (output/fields.nc:
//                         CO2 and dp per frame); --stepper emulator replaces the CO2 step by
//                         the trained model (models/co2.pt), the air mass still comes from the
//                         classical physics; stepper.hybrid_days = K re-initialises the
//                         emulated CO2 from a classical copy every K days.
#include <mpi.h>

#include <memory>
#include <string>

#include "io/yaml_schema.hpp"
#include "solvers/stepper.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

void generate_co2_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite);
// aeolus train: the model of section `model` on the train split (validation: valid split),
// data-parallel under mpirun; models/co2.pt, checkpoints under checkpoints/co2_training (an
// interrupted training continues from them; --overwrite starts afresh), logs/train.log.
void train_co2_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);
// aeolus eval: CarbonBench's rollouts on the test split (emulators/co2_training.hpp):
// eval/metrics.json (with the classical and emulator step times of this process),
// eval/co2_eval.nc, logs/eval.log. The evaluation runs on rank 0.
void evaluate_co2_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);

class CaseModel;
// The stepper ("classical" or "emulator") and the case model of `aeolus run` (the
// case type's commands call these; co2_config.cpp reads the case).
std::unique_ptr<Stepper> make_co2_stepper(const CaseConfig& c, const CartesianGrid& grid,
                                          const std::string& name);
std::unique_ptr<CaseModel> make_co2_model(const CaseConfig& c, const CartesianGrid& grid);

}  // namespace aeolus::app
