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
//   aeolus run CASE       neural_ode: the spiral from y0 to t_end through the common time loop
//                         (checkpoints, --restart, progress lines), a sample at each of the
//                         data's points, with stepper classical (the true right-hand side,
//                         dopri5 at physics.spiral.rtol/atol: solvers/ode_stepper.hpp) or
//                         emulator (the trained network, --stepper emulator), to
//                         output/trajectory.nc with the truth and the error at each sample and
//                         the relative L2 error in logs/run.json. The state is two numbers, so
//                         rank 0 steps it alone (steps_on_root). neural_sde: no run yet (it
//                         says so).
// Case type "neural_de": neural_de_config.cpp reads it, neural_de_case.cpp registers its
// commands.
