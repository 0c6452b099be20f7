// The latitude-band decomposition of a sphere grid (SphereGrid::decomposition_params): light,
// no PETSc or MPI calls, so that the aeolus launcher checks a case file without loading them.
#include <cmath>
#include <sstream>

#include "grids/error.hpp"
#include "grids/sphere_grid.hpp"

namespace aeolus {

CartesianGridParams SphereGrid::decomposition_params(const SphereGridParams& p, int ranks) {
  if (p.nlon < 2 || p.nlon % 2 != 0) {
    throw ConfigError("grid: nlon = " + std::to_string(p.nlon) +
                      ", expected an even number >= 2 (ghost rows across a pole are taken from "
                      "the opposite meridian)");
  }
  if (p.nlat < 2) throw ConfigError("grid: nlat = " + std::to_string(p.nlat) + ", expected >= 2");
  if (p.nlev < 1) throw ConfigError("grid: nlev = " + std::to_string(p.nlev) + ", expected >= 1");
  if (!(p.radius > 0) || !std::isfinite(p.radius)) {
    std::ostringstream os;
    os << "grid: radius = " << p.radius << ", expected a positive number (m)";
    throw ConfigError(os.str());
  }
  const int bands = p.procs > 0 ? p.procs : ranks;
  if (bands != ranks) {
    throw ConfigError("grid: procs = " + std::to_string(p.procs) + " latitude bands on " +
                      std::to_string(ranks) + " ranks; the sphere grid is decomposed in latitude " +
                      "bands only, so procs must equal the rank count (or 0)");
  }
  // Bands narrower than the halo are fine: their ghost rows come from ranks further away
  // (CartesianGrid's multi-hop halo scatter), and cross-pole ghosts from the mirrored rows,
  // which every rank holds among its own or ghost rows (fill_polar_halos).
  if (p.nlat < index_t(bands)) {
    throw ConfigError("grid: " + std::to_string(ranks) + " ranks for nlat = " +
                      std::to_string(p.nlat) + " latitude rows; every rank needs a row: use at " +
                      "most " + std::to_string(p.nlat) + " ranks for this grid");
  }
  CartesianGridParams g;
  g.dim = p.nlev > 1 ? 3 : 2;
  g.n = {p.nlon, p.nlat, p.nlev};
  g.lo = {0.0, -90.0, 0.0};
  g.hi = {360.0, 90.0, real_t(p.nlev)};
  g.periodic = {true, false, false};
  g.halo = p.halo;
  g.procs = {1, bands, 1};
  return g;
}

}  // namespace aeolus
