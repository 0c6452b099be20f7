#pragma once
// Physics-informed networks as cases (physics.equation: pinn): a PINN or Lagrangian PINN
// (emulators/pinn.hpp) for 1D convection, convection-diffusion, viscous Burgers or 2D Poisson.
//   aeolus train CASE   trains (Adam, then L-BFGS) and saves models/pinn.pt (+ .csv log);
//                       logs/train.log.
//   aeolus eval CASE    the saved model on the evaluation grid (256 x 100 by default) against
//                       the exact solution (Burgers: Cole-Hopf): eval/solution.nc (x, t, u_pred,
//                       u_ref, error; CF-1.8) and eval/metrics.json.
// There is no dataset (the residual needs none and the references are exact) and nothing to
// `aeolus run`; both say so.
// Case type "pinn": pinn_config.cpp reads it, pinn_case.cpp registers its commands (a training,
// not a time loop).
