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
// With model = identity and m = 2 this is CG up to round-off (a test checks it).
#include <petscksp.h>

#include <cstdint>
#include <vector>

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
  real_t rtol = 1e-8;      // on ||b - A x|| / ||b||
  int max_it = 1000;
  int orthogonalise = 2;   // A-orthogonalise against the last m directions
  bool record_history = false;
};

// Solves A x = b; x holds the initial guess on entry. Singular A (null space attached to the
// matrix): b is expected in the range; each direction is projected onto the range. Throws
// NumericsError if a direction has q^T A q <= 0 or is not finite (names the iteration).
SolveStats dcdm_solve(Mat A, Vec b, Vec x, DirectionModel& model, const DcdmParams& params);

// Makes `ksp`'s preconditioner a PCSHELL that applies the model to the normalised residual
// (and scales the direction back by ||r||), for flexible Krylov methods (KSPFCG, KSPGCR) in
// codes that already use PETSc. The model must outlive the KSP.
void set_dcdm_preconditioner(KSP ksp, DirectionModel& model);

// Lanczos with full reorthogonalisation on A from a seeded random start: the m Ritz pairs of
// the m-step Krylov space, eigenvalues ascending. Vectors with A's layout (caller destroys).
struct RitzPairs {
  std::vector<real_t> values;
  std::vector<Vec> vectors;
};
RitzPairs lanczos_ritz(Mat A, int m, std::uint64_t seed);
void destroy(RitzPairs& pairs);

}  // namespace aeolus
