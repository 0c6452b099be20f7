#pragma once
// The configuration of a Hamiltonian case (physics.equation: hamiltonian).

#include "physics/hamiltonian.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// physics.equation: hamiltonian (a separable Hamiltonian system integrated by a symplectic
// method or RK4; tools/app/hamiltonian_case.cpp reads and runs it).
struct HamiltonianCaseConfig : CaseSettings {
  physics::HamiltonianParams system;   // physics.system
  std::string method = "forest_ruth";  // integrator.method (solvers/symplectic.hpp names)
  real_t dt = 0.01;                    // integrator.dt
  real_t t_end = 100.0;                // time.t_end (a whole number of steps of dt)
  long long output_every = 10;         // output.every: steps between stored samples
};

}  // namespace aeolus::app
