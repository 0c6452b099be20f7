#pragma once
// The Deep Conjugate Direction Method (Kaneda, Akar, Chen, Kim, Teran; ICML 2023) as an
// iteration over PETSc objects, with the learned part behind a small interface so that this
// folder stays free of LibTorch (emulators/dcdm_model implements it with a CNN).
//
// Iteration (A symmetric positive definite, or semi-definite with the constant null space):
//   r_0 = b - A x_0
//   for k = 1, 2, ...:
//     q_k = model(r_{k-1} / ||r_{k-1}||)                       (a search direction)
//     q_k -= sum_{j = k-m..k-1} (q_k^T A q_j / q_j^T A q_j) q_j  (A-orthogonal to the last m)
//     alpha = q_k^T r_{k-1} / q_k^T A q_k                        (exact line search)
//     x_k = x_{k-1} + alpha q_k
//     r_k = b - A x_k                                            (the true residual)
//   until ||r_k|| <= rtol ||b||.
// With model = identity and m = 2 this is CG up to round-off (a test checks it). The
// A-orthogonalisation is done twice (classical Gram-Schmidt, one reduction per pass): a single
// pass loses conjugacy when a learned direction lies nearly in the span of the stored ones.
#include <petscksp.h>

#include <cstdint>
#include <vector>

#include "grids/progress.hpp"
#include "solvers/elliptic.hpp"

namespace aeolus {

// A learned (or any) map from a normalised residual to a search direction. Collective.
class DirectionModel {
 public:
  virtual ~DirectionModel() = default;
  // r: unit 2-norm residual with A's layout; q: the direction (same layout), overwritten.
  virtual void direction(Vec r, Vec q) = 0;
};

// q = r: DCDM then reproduces CG.
class IdentityDirection : public DirectionModel {
 public:
  void direction(Vec r, Vec q) override;
};

struct DcdmParams {
  real_t rtol = 1e-8;  // on ||b - A x|| / ||b||
  int max_it = 1000;
  int orthogonalise = 2;  // A-orthogonalise against the last m directions
  bool record_history = false;
  // Progress lines (iteration, relative residual) once a solve has run progress_seconds, and
  // then at most every progress_seconds; empty: none.
  ProgressSink progress;
  double progress_seconds = 10.0;
};

// Solves A x = b; x holds the initial guess on entry. Singular A (null space attached to the
// matrix): b is expected in the range; each direction is projected onto the range. Throws
// NumericsError if a direction has q^T A q <= 0 or is not finite (names the iteration).
SolveStats dcdm_solve(Mat A, Vec b, Vec x, DirectionModel& model, const DcdmParams& params);

// Makes `ksp`'s preconditioner a PCSHELL that applies the model to the normalised residual
// (and scales the direction back by ||r||), for flexible Krylov methods (KSPFCG, KSPGCR) in
// codes that already use PETSc. The model must outlive the KSP. A model that throws or returns
// a non-finite direction makes KSPSolve fail with a PETSc error (which AEOLUS_PETSC turns into
// a LibraryError): exceptions must not cross PETSc's C frames.
void set_dcdm_preconditioner(KSP ksp, DirectionModel& model);

// Lanczos with full reorthogonalisation on A from a seeded random start: the m Ritz pairs of
// the m-step Krylov space, eigenvalues ascending. Vectors with A's layout (caller destroys).
// Fewer than m pairs if the Krylov space is invariant earlier (or m > the size of A).
// The random start is drawn in the natural (x fastest) order of `dm` (a DMDA with A's layout;
// nullptr: the DM attached to A, if any, else A's own global order), so that the pairs do not
// depend on the number of ranks. If A carries a null space, it is projected out of every
// Lanczos vector: the pairs are those of A on its range.
struct RitzPairs {
  std::vector<real_t> values;
  std::vector<Vec> vectors;
  std::vector<real_t> residuals;  // ||A v - theta v|| estimated by beta_m |s_mi| (Paige)
};
// progress: "lanczos J/M" and "ritz vectors I/K" lines at most every 10 s (grids/progress.hpp).
RitzPairs lanczos_ritz(Mat A, int m, std::uint64_t seed, DM dm = nullptr,
                       const ProgressSink& progress = {});
void destroy(RitzPairs& pairs);

}  // namespace aeolus
