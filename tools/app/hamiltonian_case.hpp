#pragma once
// Hamiltonian systems as cases (physics.equation: hamiltonian): a separable system
// (physics/hamiltonian.hpp: harmonic oscillator, pendulum, Kepler, Henon-Heiles, N-body)
// integrated with a fixed step by a symplectic method or RK4 (solvers/symplectic.hpp).
// `aeolus run` writes the trajectory (q, p), the energy and its relative error, the angular
// momentum where the system conserves it, and for systems with an exact solution the error
// against it, to output/<file> (CF-1.8), and the run's figures (energy drift, force
// evaluations, wall time) to logs/run.json.
// Case type "hamiltonian": hamiltonian_config.cpp reads it, hamiltonian_case.cpp registers its
// commands. A time-stepping case: its run is the common time loop (checkpoints, --restart,
// --stop-after-steps, progress lines) with solvers/hamiltonian_stepper.hpp as the "classical"
// stepper. The state is a few numbers, so rank 0 steps it alone (steps_on_root; the same output
// on any rank count); it has no dataset, training or evaluation.
