#pragma once
// Neural differential equations as cases (physics.equation: neural_ode | neural_sde): the spiral
// experiments of emulators/neural_ode.hpp and emulators/neural_sde.hpp.
//   aeolus dataset CASE   the truth (neural_ode: the spiral trajectory, its noisy observations
//                         and the held-out trajectory; neural_sde: the ensemble's mean and
//                         variance) to data/spiral.nc (CF-1.8). Training regenerates the same
//                         data from the case (it is deterministic and takes well under a
//                         second for the ODE), so this file is for inspection and other tools.
//   aeolus train CASE     trains and saves models/<kind>.pt (+ .csv log); logs/train.log.
//   aeolus eval CASE      rollouts of the saved model against the truth: eval/prediction.nc and
//                         eval/metrics.json (function evaluations, wall time, errors).
// `aeolus run` does not apply (there is no field to step); it says so.
#include <mpi.h>

#include "io/yaml_schema.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// True if physics.equation is neural_ode or neural_sde (read without consuming the key).
bool is_neural_de_case(io::Section& root);
void load_neural_de_case(io::Section& root, CaseConfig& c);

void generate_neural_de_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite);
void train_neural_de_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);
void evaluate_neural_de_case(MPI_Comm comm, const CaseConfig& c, bool overwrite);

}  // namespace aeolus::app
