// EllipticProblem's checks and the boundary and centering names (solvers/elliptic.hpp): light,
// no PETSc or MPI calls, so that the aeolus launcher checks a case file without loading them.
#include <cmath>
#include <string>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "solvers/elliptic.hpp"

namespace aeolus {

namespace {

// As in elliptic.cpp.
const char* kAxis[3] = {"x", "y", "z"};

BoundaryKind kind(const EllipticProblem& p, int d, int side) {
  return p.boundary[size_t(d)][size_t(side)].kind;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Names

BoundaryKind boundary_kind_from_name(const std::string& name) {
  if (name == "periodic") return BoundaryKind::periodic;
  if (name == "dirichlet") return BoundaryKind::dirichlet;
  if (name == "neumann") return BoundaryKind::neumann;
  throw ConfigError("boundary kind '" + name + "' is unknown; expected periodic, dirichlet or " +
                    "neumann");
}

const char* boundary_kind_name(BoundaryKind k) {
  switch (k) {
    case BoundaryKind::periodic:
      return "periodic";
    case BoundaryKind::dirichlet:
      return "dirichlet";
    case BoundaryKind::neumann:
      return "neumann";
  }
  return "?";
}

Centering centering_from_name(const std::string& name) {
  if (name == "cell") return Centering::cell;
  if (name == "vertex") return Centering::vertex;
  throw ConfigError("centering '" + name + "' is unknown; expected cell or vertex");
}

const char* centering_name(Centering c) { return c == Centering::cell ? "cell" : "vertex"; }

// ---------------------------------------------------------------------------------------------
// EllipticProblem

bool EllipticProblem::singular() const {
  for (int d = 0; d < dim && d < 3; ++d)
    for (int side = 0; side < 2; ++side)
      if (kind(*this, d, side) == BoundaryKind::dirichlet) return false;
  return helmholtz == 0.0;
}

void EllipticProblem::validate() const {
  if (dim < 1 || dim > 3) {
    throw ConfigError("elliptic problem: dim = " + std::to_string(dim) + ", expected 1, 2 or 3");
  }
  for (int d = 0; d < dim; ++d) {
    const size_t u = size_t(d);
    if (panels[u] < 2) {
      throw ConfigError("elliptic problem: panels along " + std::string(kAxis[d]) + " = " +
                        std::to_string(panels[u]) + ", expected >= 2");
    }
    if (!(hi[u] > lo[u]) || !std::isfinite(lo[u]) || !std::isfinite(hi[u])) {
      throw ConfigError("elliptic problem: extent along " + std::string(kAxis[d]) + " is [" +
                        fmt("%.6g", lo[u]) + ", " + fmt("%.6g", hi[u]) +
                        "], expected finite hi > lo");
    }
    const BoundaryKind a = kind(*this, d, 0), b = kind(*this, d, 1);
    if ((a == BoundaryKind::periodic) != (b == BoundaryKind::periodic)) {
      throw ConfigError("elliptic problem: boundary along " + std::string(kAxis[d]) +
                        " is periodic on one side only (low = " + boundary_kind_name(a) +
                        ", high = " + boundary_kind_name(b) + ")");
    }
  }
  if (!std::isfinite(helmholtz)) {
    throw ConfigError("elliptic problem: helmholtz = " + fmt("%.6g", helmholtz) +
                      ", expected finite");
  }
  for (int d = 0; d < 3; ++d) {
    if (procs[size_t(d)] < 0) {
      throw ConfigError("elliptic problem: procs[" + std::to_string(d) +
                        "] = " + std::to_string(procs[size_t(d)]) + ", expected >= 0");
    }
  }
}

}  // namespace aeolus
