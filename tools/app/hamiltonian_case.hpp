#pragma once
// Hamiltonian systems as cases (physics.equation: hamiltonian): a separable system
// (physics/hamiltonian.hpp: harmonic oscillator, pendulum, Kepler, Henon-Heiles, N-body)
// integrated with a fixed step by a symplectic method or RK4 (solvers/symplectic.hpp).
// `aeolus run` writes the trajectory (q, p), the energy and its relative error, the angular
// momentum where the system conserves it, and for systems with an exact solution the error
// against it, to output/<file> (CF-1.8), and the run's figures (energy drift, force
// evaluations, wall time) to logs/run.json. The system is small: rank 0 integrates it, other
// ranks wait (the same output on any rank count).
#include <mpi.h>

#include "io/yaml_schema.hpp"
#include "tools/app/case_config.hpp"
#include "tools/app/driver.hpp"

namespace aeolus::app {

// True if the case file's physics.equation is hamiltonian (read without consuming the key).
bool is_hamiltonian_case(io::Section& root);
// Reads physics (system), integrator, time, output and log; rejects unknown keys.
void load_hamiltonian_case(io::Section& root, CaseConfig& c);

RunResult run_hamiltonian_case(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt);

}  // namespace aeolus::app
