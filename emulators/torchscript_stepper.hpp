#pragma once
// A model exported from PyTorch (TorchScript: torch.jit.script / torch.jit.trace + save, or
// trained online by a host code through the C API) behind the Stepper seam, so that `aeolus
// run` steps a 2D field with it in the common time loop, on any rank count. Torch-free on
// purpose, like flux_cnn.hpp: the case readers and the launcher include it.
//
// Model contract. Each rank calls forward on its own block:
//   input  [1, 1, ny_local + 2 halo, nx_local + 2 halo]: the rank's owned cells and `halo`
//          ghost cells on each side, rows along y, x fastest (the memory order of a Field's
//          ghosted block, and of a Fortran array q(1-h:nx+h, 1-h:ny+h)), in the dtype of the
//          model's parameters (converted from float64; float32 if it has none);
//   output [1, 1, ny_local, nx_local]: the owned cells only (converted back to float64),
//          either the increment (q_new = q + f(q)) or the new state (q_new = f(q)).
// Ghost cells come from the grid's halo exchange (periodic neighbours, or the zero-gradient
// ghosts of the advection scheme at a non-periodic boundary: fv_fill_outflow_ghosts), so no
// rank gathers the global field. The step is fixed: the one the model was trained for.
#include <memory>
#include <string>

#include "grids/cartesian_grid.hpp"
#include "solvers/stepper.hpp"

namespace aeolus::emulators {

// The case keys of the `torchscript` section; the defaults are these initial values.
struct TorchScriptStepperParams {
  std::string model = "models/online.pt";  // TorchScript file (a case resolves it to its dir)
  int halo = 2;                            // ghost cells the model reads on each side, >= 0
  std::string output = "increment";        // increment: q + f(q) | state: f(q)
  double dt = 0;                           // s: the trained step; required (> 0)
  std::string mass_fixer = "none";         // none | scale | shift (apply_flux_cnn_mass_fixer)
  int threads = 1;                         // LibTorch intra-op threads
};

// Loads params.model (as given: a case passes the path resolved against its directory) and
// wraps it as a Stepper on `grid`. Errors, the same on every rank (collective over
// grid.comm()):
// - ConfigError: grid not 2D (named 1D/3D), dt not > 0, halo < 0 or wider than the domain
//   along x or y, unknown output or mass_fixer, threads < 1;
// - IoError: the model file is missing or unreadable (named);
// - ModelError (at a step): forward fails, or its output's shape is not [1, 1, ny_local,
//   nx_local] (got and expected named); a step of another dt than params.dt;
// - NumericsError (at a step): a non-finite value in the output (step number and time named);
//   a mass fixer that cannot reach the mass ('scale' of a sign-flipped sum).
std::unique_ptr<Stepper> make_torchscript_stepper(const CartesianGrid& grid,
                                                  const TorchScriptStepperParams& params);

}  // namespace aeolus::emulators
