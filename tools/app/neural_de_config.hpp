#pragma once
// The configuration of a neural ODE / SDE case (physics.equation: neural_ode | neural_sde).

#include "emulators/neural_ode.hpp"
#include "emulators/neural_sde.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// physics.equation: neural_ode | neural_sde (the spiral experiments of the neural
// differential equations: tools/app/neural_de_case.cpp reads them; aeolus dataset / train /
// eval run them).
struct NeuralDeCaseConfig : CaseSettings {
  emulators::SpiralOdeParams ode;                   // physics.spiral (neural_ode)
  emulators::NeuralOdeModelParams ode_model;        // model
  emulators::NeuralOdeTrainingParams ode_training;  // training
  emulators::NeuralOdePredictParams ode_predict;    // eval
  emulators::SpiralSdeParams sde;                   // physics.spiral (neural_sde)
  emulators::NeuralSdeTrainingParams sde_training;  // model + training
  int eval_paths = 10000;                           // eval.paths (neural_sde)
  std::uint64_t eval_seed = 7;                      // eval.seed (neural_sde)
  int run_paths = 1000;                             // stepper.paths (neural_sde: aeolus run)
  std::uint64_t run_seed = 11;                      // stepper.seed (neural_sde: aeolus run)
};

// True for a neural ODE case, false for a neural SDE case.
inline bool is_ode(const CaseConfig& c) { return c.equation == "neural_ode"; }

}  // namespace aeolus::app
