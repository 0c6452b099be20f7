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
//                         the relative L2 error in logs/run.json. neural_sde: an ensemble of
//                         stepper.paths sample paths of the true SDE (classical: the data's
//                         method and step) or of the learned one (emulator), the noise of each
//                         output interval seeded from (stepper.seed, interval): the ensemble's
//                         mean and variance against the data's at each observation time, and
//                         the largest differences in logs/run.json (solvers/sde_stepper.hpp).
//                         The state is small, so rank 0 steps it alone (steps_on_root).
// Case type "neural_de": neural_de_config.cpp reads it, neural_de_case.cpp registers its
// commands.
