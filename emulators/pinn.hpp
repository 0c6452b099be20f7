#pragma once
// Physics-informed neural networks (PINNs) and Lagrangian PINNs (LPINNs), trained with Adam and
// then full-batch L-BFGS (strong Wolfe line search), and scored against an exact or quadrature
// reference on an evaluation grid. No torch type appears here (the network side is
// emulators/pinn_impl.hpp); the cases cases/pinn-* and cases/lpinn-* map their case.yaml
// sections one to one onto PinnParams.
//
// PDEs (pde.type), each on a fixed domain:
//   convection            u_t + beta u_x = 0             x in [0, 2 pi) periodic, t in [0, t_end],
//                                                        u0 = sin x; exact sin(x - beta t)
//                                                        (Krishnapriyan et al. 2021)
//   convection_diffusion  u_t + beta u_x = nu u_xx       same domain and u0;
//                                                        exact exp(-nu t) sin(x - beta t)
//   burgers               u_t + u u_x = nu u_xx          x in [-1, 1], u(-1, t) = u(1, t) = 0,
//                                                        u0 = -sin(pi x) (Raissi et al. 2019);
//                                                        reference: Cole-Hopf quadrature
//   poisson2d             -(u_xx + u_yy) = f             (x, y) in [0, 1]^2, Dirichlet data and f
//                                                        of u = sin(pi x) sin(2 pi y) + x^2 - y^2
// The Burgers solution is odd about x = 0 and vanishes at x = +-1, so it is also the 2-periodic
// solution: periodic features and the LPINN treat [-1, 1] as periodic.
//
// Formulations:
//   pinn   u(x, t) = net(features(x, t)); loss = w_r mean(r^2) + w_i mean((u(x, 0) - u0)^2)
//          + w_b mean(b^2), r the PDE residual by autograd, b the boundary mismatch (periodic:
//          u(lo, t) - u(hi, t), and u_x too for second-order PDEs; Dirichlet: u - g).
//   lpinn  Mojgani, Balajewicz & Hassanzadeh (2022): two networks on (cos k x0, sin k x0, t),
//          k = 2 pi / L: the characteristic x_L(x0, t) = x0 + (t / t_end) * s * net_x and the
//          state u(x0, t) = net_u along it, with residuals dx_L/dt - c (c = beta, or u for
//          Burgers) and du/dt - nu u_xx, u_xx taken through the map x0 -> x_L. Writing x_L as
//          x0 plus a periodic displacement that vanishes at t = 0 makes x_L(x0, 0) = x0 exact
//          on both sides of the 0 / L seam (a network fed only (cos x0, sin x0, t) cannot be).
//          s = max(|beta|, max |u0|) t_end, the PDE's own speed scale times the interval, so
//          net_x is of order one whatever beta is. Only the initial loss and the two residuals are
//          trained (periodicity holds by construction).
//
// Evaluation (PinnEvaluation): the grid x_i (periodic: L i / nx from lo, endpoint excluded, as
// Krishnapriyan et al.; otherwise nx points from lo to hi), t_j = t_end j / (nt - 1) (poisson2d:
// y_j from 0 to 1). An LPINN is put on this Eulerian grid by interpolation: for each t_j the
// network is run on nx * lagrangian_refine equispaced x0, the points (x_L wrapped into the
// period, u) are sorted by position and u is interpolated linearly (periodically) at x_i. Where
// characteristics converge (a Burgers shock) the samples crowd into the steep region, so the
// interpolation is finest where the solution varies fastest.
#include <cstdint>
#include <string>
#include <vector>

#include "grids/progress.hpp"

namespace aeolus::emulators {

struct PinnPdeParams {
  std::string type = "convection";  // convection | convection_diffusion | burgers | poisson2d
  double beta = 30.0;               // convection speed (convection, convection_diffusion)
  double nu = 0.0;                  // viscosity (convection_diffusion, burgers)
  double t_end = 1.0;               // time interval [0, t_end] (not poisson2d)
};

struct PinnNetworkParams {
  int width = 50;  // neurons per hidden layer (tanh)
  int depth = 4;   // hidden layers (Krishnapriyan et al.: 4 x 50)
  // Input features before the first layer, on inputs scaled to [-1, 1]:
  //   none      the coordinates themselves
  //   periodic  x -> cos(m k x), sin(m k x), m = 1..periodic_modes, k = 2 pi / L (lpinn: always)
  //   fourier   random Fourier features cos(2 pi B v), sin(2 pi B v), B ~ N(0, fourier_scale^2)
  std::string features = "none";
  int periodic_modes = 1;
  int fourier_features = 64;  // rows of B (the network sees twice as many inputs)
  double fourier_scale = 1.0;
};

struct PinnCollocationParams {
  int n_residual = 2000;  // PDE residual points in the interior (lpinn: x0, t points)
  int n_initial = 256;    // points on t = 0
  int n_boundary = 200;   // boundary points (periodic: pairs (lo, t), (hi, t); 2D: on 4 edges)
  std::string sampling = "random";  // grid (cell-centred tensor grid) | random (uniform)
  int resample_every = 1;  // random: fresh points every this many Adam iterations (0: never).
                           // L-BFGS keeps the last set: it needs one fixed objective.
};

struct PinnTrainingParams {
  int adam_iterations = 500;
  double learning_rate = 1e-3;  // Adam
  int lbfgs_iterations = 1000;  // L-BFGS iterations (function evaluations are reported too)
  int lbfgs_history = 50;
  double weight_residual = 1.0;
  double weight_initial = 1.0;
  double weight_boundary = 1.0;
  std::string precision = "float64";  // float32 | float64
  double max_seconds = 0.0;           // > 0: stop either phase once training has run this long
  std::uint64_t seed = 0;             // network initialisation and random collocation points
  int threads = 2;                    // torch intra-op threads during training
  int log_every = 100;                // CSV row every this many iterations of each phase
};

struct PinnEvaluationParams {
  int nx = 256;               // evaluation grid (Krishnapriyan et al.: 256 x 100)
  int nt = 100;               // poisson2d: points in y
  int lagrangian_refine = 8;  // lpinn: x0 samples per grid point for the interpolation
  int threads = 2;
};

struct PinnParams {
  PinnPdeParams pde;
  std::string formulation = "pinn";  // pinn | lpinn (not poisson2d)
  PinnNetworkParams network;
  PinnCollocationParams collocation;
  PinnTrainingParams training;
  PinnEvaluationParams evaluation;
};

// The PDE types (pde.type), sorted.
std::vector<std::string> pinn_problem_names();

// The defaults for a PDE type and formulation: the member defaults above (convection, beta 30)
// with beta = 10, nu = 1 for convection_diffusion; nu = 0.01 / pi and 4000 L-BFGS iterations
// for burgers; 3000 L-BFGS iterations for poisson2d; periodic features for an lpinn. Read pde.type
// and formulation first, then every other key with this as its default. ConfigError for an unknown
// type or formulation.
PinnParams pinn_defaults(const std::string& pde_type = "convection",
                         const std::string& formulation = "pinn");

// ConfigError naming the key (pde.nu, network.width, collocation.sampling, ...) and the value,
// before any work: unknown names, sizes out of range, nu <= 0 where the PDE needs it, an lpinn
// for poisson2d or without periodic features.
void check_pinn_params(const PinnParams& p);

struct PinnTrainReport {
  double seconds = 0;  // training wall time (both phases; sampling included, evaluation not)
  double adam_seconds = 0;
  double lbfgs_seconds = 0;
  int adam_iterations = 0;    // done (fewer than asked if max_seconds ran out)
  int lbfgs_iterations = 0;   // done (fewer if it converged or max_seconds ran out)
  int lbfgs_evaluations = 0;  // loss + gradient evaluations, line search included
  double initial_loss = 0;    // weighted loss of the untrained network on the first points
  double final_loss = 0;      // weighted loss at the end, on the last points
  double final_residual = 0;  // its terms, unweighted: mean squared PDE residual (lpinn: sum
  double final_initial = 0;   // of both), initial and boundary mismatch
  double final_boundary = 0;
  double relative_l2 = 0;  // of the trained model on the evaluation grid (as evaluate_pinn)
  long long parameters = 0;
  int threads = 0;
};

// Trains a model for p and saves it to model_path atomically with everything needed to run it
// (PDE, formulation, network, features, precision); a CSV next to it (model_path + ".csv":
// phase, iteration, loss, residual, initial, boundary, seconds). ConfigError as
// check_pinn_params; NumericsError if the loss stops being finite. progress: lines "adam
// IT/N  loss ..." and "lbfgs IT/N  loss ..." with elapsed time and ETA, at most every 10 s
// (grids/progress.hpp; L-BFGS reports inside its chunks).
PinnTrainReport train_pinn(const PinnParams& p, const std::string& model_path,
                           const ProgressSink& progress = {});

struct PinnEvaluation {
  std::string pde_type, formulation;
  int nx = 0, nt = 0;
  std::vector<double> x;       // [nx]
  std::vector<double> t;       // [nt] (poisson2d: y)
  std::vector<double> u_pred;  // [nt][nx], row-major: u_pred[j * nx + i] at (x_i, t_j)
  std::vector<double> u_ref;   // [nt][nx]: exact (Burgers: Cole-Hopf quadrature)
  double relative_l2 = 0;      // ||u_pred - u_ref||_2 / ||u_ref||_2 over the whole grid
  double max_error = 0;        // max |u_pred - u_ref|
  double seconds = 0;          // wall time of the network evaluation (reference excluded)
};

// Runs a saved model on the evaluation grid of e and compares it with the reference. IoError if
// model_path cannot be read, ModelError if it is not a PINN model, ConfigError for a bad e.
PinnEvaluation evaluate_pinn(const std::string& model_path, const PinnEvaluationParams& e = {});

// The viscous Burgers solution for u0 = -sin(pi x) on [-1, 1] by the Cole-Hopf transform:
// u = -int sin(pi (x - s)) F(x - s) G(s) ds / int F(x - s) G(s) ds, F(y) = exp(-cos(pi y) /
// (2 pi nu)), G the heat kernel of width 2 sqrt(nu t). Exact to about 1e-12 for nu >= 1e-3 / pi.
double burgers_cole_hopf(double x, double t, double nu);

}  // namespace aeolus::emulators
