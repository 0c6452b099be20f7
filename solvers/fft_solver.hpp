#pragma once
// Spectral direct solver for the constant-coefficient problem of solvers/elliptic.hpp
// (-k lap u + c u = f with k, c constant): it inverts exactly the same discrete matrix A that
// EllipticOperator assembles (the eigenvalues of the 3/5/7-point operator, not those of the
// continuous Laplacian), so its answer agrees with a converged KSP solve to round-off.
//
// Transforms per dimension (FFTW real-to-real kinds), chosen by the boundary pair and centring:
//   periodic                          R2HC / HC2R  (separable half-complex DFT)
//   cell-centred   D-D / N-N / D-N / N-D   RODFT10 / REDFT10 / RODFT11 / REDFT11 and inverses
//   vertex-centred D-D / N-N / D-N / N-D   RODFT00 / REDFT00 / RODFT01 / REDFT01 and inverses
// Parallel with fftw-mpi (slabs along the slowest dimension); data are redistributed between
// the operator's DMDA decomposition and the slabs internally, so any rank count and any
// decomposition of the operator's grid work. Plans are made once (FFTW_MEASURE is not used:
// results must not depend on timing) and reused.
//
// The vertex-centred Neumann row scaling of EllipticOperator (row_scale) is undone before the
// transform. A singular problem (no Dirichlet face, c = 0) gets the zero mode set to zero and
// then the plain mean removed, as KspSolver returns it.
#include <memory>

#include "solvers/elliptic.hpp"

namespace aeolus {

class FftSolver {
 public:
  // Throws ConfigError if the operator's coefficient is not constant.
  explicit FftSolver(const EllipticOperator& op);
  ~FftSolver();
  FftSolver(const FftSolver&) = delete;
  FftSolver& operator=(const FftSolver&) = delete;

  // x = A^{-1} b (b and x with A's layout; x's content on entry is ignored). Collective.
  // Reports iterations = 0, the true residual, converged = true, reason "direct".
  SolveStats solve(Vec b, Vec x);
  SolveStats solve(const Field& f, Field& u);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aeolus
