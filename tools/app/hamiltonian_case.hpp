#pragma once
// Hamiltonian systems as cases (physics.equation: hamiltonian): a separable system
// (physics/hamiltonian.hpp: harmonic oscillator, pendulum, Kepler, Henon-Heiles, N-body)
// integrated with a fixed step by a symplectic method or RK4 (solvers/symplectic.hpp).
// `aeolus run` writes the trajectory (q, p), the energy and its relative error, the angular
// momentum where the system conserves it, and for systems with an exact solution the error
// against it, to output/<file> (CF-1.8), and the run's figures (energy drift, force
// evaluations, wall time) to logs/run.json. The system is small: rank 0 integrates it, other
// ranks wait (the same output on any rank count).
// Case type "hamiltonian": hamiltonian_config.cpp reads it, hamiltonian_case.cpp registers its
// commands. Its run is one fixed-step integration on rank 0, outside the field time loop (the
// state is a few particles, not a field); it has no dataset, training or evaluation.
