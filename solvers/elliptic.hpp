#pragma once
// Second-order finite-volume / finite-difference discretisation of the elliptic problem
//
//     -div(k grad u) + c u = f      on the box [lo, hi] (1, 2 or 3 dimensions)
//
// with Dirichlet, Neumann or periodic conditions per face, cell-centred or vertex-centred
// unknowns, and its solution with PETSc KSP (any Krylov method / preconditioner from the
// options database). k = 1 is Poisson; a variable k (cell or node values, harmonic means on
// faces) is the Darcy problem; c != 0 is a Helmholtz term (FISHPACK's HWSCRT solves
// u_xx + u_yy + lambda u = g, i.e. k = 1, c = -lambda, f = -g).
//
// Unknowns and grids. Cell-centred: one unknown per cell, `panels[d]` cells along d.
// Vertex-centred: the vertices x_i = lo + i h, i = 0..panels, minus the Dirichlet ones (their
// value is known), and along a periodic dimension vertex `panels` is vertex 0. The unknowns
// are laid out on a CartesianGrid (make_elliptic_grid) whose "cell centres" are exactly the
// unknown vertices, so Field, halo exchange, gather and output work unchanged.
//
// The assembled matrix A is symmetric; it is positive definite unless the problem is singular
// (no Dirichlet face and c == 0: constant null space, attached to the matrix, and the right
// side is projected onto the range). Rows are the plain difference operator (units 1/length^2,
// A u = f for interior rows), except that a vertex-centred row on a Neumann face is scaled by
// 1/2 per Neumann face through that vertex (the half control volume that keeps A symmetric);
// rhs() applies the same scaling, and row_scale() exposes it for the FFT solver.
#include <petscksp.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grids/cartesian_grid.hpp"
#include "grids/field.hpp"
#include "grids/progress.hpp"
#include "physics/elliptic_problems.hpp"

namespace aeolus {

enum class BoundaryKind { periodic, dirichlet, neumann };
enum class Centering { cell, vertex };

// Names for configuration and messages: "periodic" | "dirichlet" | "neumann"; "cell" | "vertex".
BoundaryKind boundary_kind_from_name(const std::string& name);  // ConfigError if unknown
const char* boundary_kind_name(BoundaryKind k);
Centering centering_from_name(const std::string& name);  // ConfigError if unknown
const char* centering_name(Centering c);

// Boundary data on one face, a function of position (x, y, z) on that face. Dirichlet: the
// value of u; Neumann: the outward normal derivative du/dn (the flux is k du/dn). Empty: 0.
using BoundaryFunction = std::function<real_t(real_t x, real_t y, real_t z)>;

struct BoundaryCondition {
  BoundaryKind kind = BoundaryKind::periodic;
  BoundaryFunction value;
  // Optional k on a Neumann face, for the flux k du/dn of cell-centred unknowns (whose
  // nearest k is half a cell inside). Empty: the adjacent cell's k, an O(h) flux error where k
  // varies and the data is nonzero (first order there). Vertex-centred unknowns lie on the
  // face and use their own k; Dirichlet faces do not need it.
  BoundaryFunction face_k;
};

struct EllipticProblem {
  int dim = 2;
  std::array<index_t, 3> panels{64, 64, 1};  // cells (cell-centred) or vertex spacings
  std::array<real_t, 3> lo{0.0, 0.0, 0.0};
  std::array<real_t, 3> hi{1.0, 1.0, 1.0};
  Centering centering = Centering::cell;
  // boundary[d][0] at lo[d], boundary[d][1] at hi[d]; periodic on both sides or on neither.
  std::array<std::array<BoundaryCondition, 2>, 3> boundary{};
  real_t helmholtz = 0.0;  // c (>= 0 keeps A positive definite; FISHPACK's case has c = 4)
  std::array<int, 3> procs{0, 0, 0};  // process grid (0: PETSc chooses)

  real_t spacing(int d) const { return (hi[d] - lo[d]) / real_t(panels[d]); }
  // True if A has the constant null space (no Dirichlet face and helmholtz == 0).
  bool singular() const;
  // Throws ConfigError on an inconsistent problem (periodic on one side only, panels < 2, ...).
  void validate() const;
};

// Boundary data of an exact solution on every non-periodic face of `p` (kinds already set):
// Dirichlet faces get u, Neumann faces the outward normal derivative du/dn.
void set_boundary_data(EllipticProblem& p, const physics::ManufacturedSolution& exact);

// The grid of unknowns (see the file comment), halo 1, decomposed by PETSc (or `procs`).
std::unique_ptr<CartesianGrid> make_elliptic_grid(MPI_Comm comm, const EllipticProblem& p);

class EllipticOperator {
 public:
  // k: coefficient at the unknowns (cells or vertices) on `grid` (from make_elliptic_grid of
  // the same problem); nullptr means k = 1. Face coefficients are harmonic means of the two
  // neighbours (for a boundary face: the value of the cell or vertex itself). Assembles A.
  // A k field with one value throughout counts as constant (constant_k() is that value).
  // ConfigError if k is not positive and finite or the grid does not fit the problem.
  // Boundary rows: cell-centred Dirichlet through the ghost 2 g - u (face half a cell away),
  // Neumann through the flux k g / h; vertex-centred Dirichlet vertices are known values, a
  // Neumann vertex uses the mirror ghost (as FISHPACK) and the half control volume scaling.
  // Accuracy: second order everywhere, except cell-centred Neumann faces with nonzero data, a
  // variable k and no BoundaryCondition::face_k: the flux k du/dn then takes k half a cell from
  // the face, an O(h) flux error, so first order there (vertex-centred has k on the face;
  // Dirichlet faces stay second order).
  EllipticOperator(const CartesianGrid& grid, const EllipticProblem& p, const Field* k = nullptr);
  ~EllipticOperator();
  EllipticOperator(const EllipticOperator&) = delete;
  EllipticOperator& operator=(const EllipticOperator&) = delete;

  const CartesianGrid& grid() const { return *grid_; }
  const EllipticProblem& problem() const { return problem_; }
  bool constant_coefficient() const { return constant_k_; }
  real_t constant_k() const { return k0_; }  // the value of k where constant_coefficient()
  bool singular() const { return problem_.singular(); }

  Mat matrix() const { return A_; }
  // New global vector with the layout of A (DMDA global vector of the grid); caller destroys.
  Vec create_vector() const;

  // b for A u = b: f at the unknowns (cell averages are not needed: second order either way)
  // plus the boundary data, with the row scaling. For a singular problem b is projected onto
  // the range of A (its plain mean removed) and `compatibility` (if given) receives the mean
  // that was removed relative to the rms of b before projection. Collective.
  void rhs(const Field& f, Vec b, real_t* compatibility = nullptr) const;
  // Row scaling of A at each unknown (1, 1/2, 1/4, 1/8; see the file comment).
  void row_scale(Field& out) const;

  // Copies between a Field on grid() (owned values) and a vector of A's layout.
  void to_vec(const Field& u, Vec v) const;
  void from_vec(Vec v, Field& u) const;

  // out = A u. Collective.
  void apply(const Field& u, Field& out) const;

 private:
  const CartesianGrid* grid_;
  EllipticProblem problem_;
  bool constant_k_ = true;
  real_t k0_ = 1.0;
  Mat A_ = nullptr;
  // Per owned unknown (x fastest): the boundary-data part of b (scaled) and the row scaling.
  std::vector<real_t> boundary_rhs_, scale_;
};

// What every linear solve reports (KSP, FFT, DCDM).
struct SolveStats {
  int iterations = 0;        // Krylov / conjugate-direction iterations (FFT: 0)
  real_t rhs_norm = 0;       // ||b||_2
  real_t residual_norm = 0;  // final true residual ||b - A x||_2
  bool converged = false;
  std::string reason;           // PETSc's converged reason or the solver's own words
  double seconds = 0;           // wall time of the solve (set-up excluded)
  double setup_seconds = 0;     // preconditioner / plan / model set-up
  std::vector<real_t> history;  // ||r_k||_2 / ||b||_2 per iteration (when recorded)
  real_t relative_residual() const { return rhs_norm > 0 ? residual_norm / rhs_norm : 0; }
};

struct KspParams {
  // PETSc options for this solver, e.g. "-ksp_type cg -pc_type gamg". They are applied under
  // `prefix`; options given on the command line (with the same prefix) take precedence.
  std::string options = "-ksp_type cg -pc_type gamg";
  std::string prefix;  // e.g. "elliptic_" (empty: none)
  real_t rtol = 1e-8;  // on the unpreconditioned residual, relative to ||b||
  real_t atol = 0.0;
  int max_it = 10000;
  bool record_history = false;
  // Where progress lines go during a solve (iteration, relative residual, elapsed) at most
  // every progress_seconds; empty: none. For long solves run from a case (aeolus run).
  ProgressSink progress;
  double progress_seconds = 10.0;
};

// KspSolver sets rtol/atol/max_it and the unpreconditioned norm, then the options database
// (which may override them). params.options are put into PETSc's global database, under the
// prefix, only while the constructor (KSPSetFromOptions, KSPSetUp, KSPSetUpOnBlocks) and
// solve() run, and never over a name that is already there; so the command line wins, and
// two solvers with the same prefix do not share options. A method without the unpreconditioned
// norm (preonly, or a PC side that excludes it) keeps its default norm; the reported residual
// is the true one, computed after the solve. The constructor sets the solver up (ConfigError
// for a malformed options string) and every solve reports that time as setup_seconds.
class KspSolver {
 public:
  KspSolver(const EllipticOperator& op, const KspParams& params);
  ~KspSolver();
  KspSolver(const KspSolver&) = delete;
  KspSolver& operator=(const KspSolver&) = delete;

  // Solve A x = b; x holds the initial guess on entry. Throws NumericsError naming the KSP
  // type, reason and residual if the solve diverges (not when it merely stops at max_it:
  // converged = false then). A Krylov breakdown (DIVERGED_INDEFINITE_PC / _MAT, BREAKDOWN) is
  // judged by the true residual: at or below max(rtol ||b||, atol) it counts as converged
  // (reason CONVERGED_TRUE_RESIDUAL ...); above, the solve restarts from the current iterate
  // (at most 3 times, while the residual halves) before it throws. iterations and history
  // cover every restart. For a singular A the returned x has zero plain mean, and unless the
  // options name another, the multigrid coarse solver is the pseudo-inverse
  // (-mg_coarse_pc_type svd), robust for the singular coarse matrix.
  SolveStats solve(Vec b, Vec x);
  // Convenience: b = op.rhs(f); u in/out as the initial guess / solution.
  SolveStats solve(const Field& f, Field& u);
  KSP ksp() const { return ksp_; }
  std::string describe() const;  // "cg + gamg" etc.

 private:
  const EllipticOperator* op_;
  KspParams params_;
  KSP ksp_ = nullptr;
  std::vector<std::pair<std::string, std::string>> options_;  // prefixed (name, value)
  double setup_seconds_ = 0;  // KSPSetUp in the constructor; reported by every solve
  // The meter of the solve in progress (params.progress set); read by the KSP monitor.
  std::unique_ptr<ProgressMeter> meter_;
  real_t meter_bnorm_ = 1;
  static PetscErrorCode monitor(KSP ksp, PetscInt it, PetscReal rnorm, void* self);
};

}  // namespace aeolus
