#include "grids/sphere_grid.hpp"

#include <cmath>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus {

namespace {
constexpr real_t kPi = 3.14159265358979323846;
}

SphereGrid::SphereGrid(MPI_Comm comm, const SphereGridParams& params)
    : owned_(std::make_unique<CartesianGrid>(comm, decomposition_params(params, comm_size(comm)))),
      grid_(owned_.get()),
      radius_(params.radius) {
  init_metrics();
}

SphereGrid::SphereGrid(const CartesianGrid& decomposition, real_t radius)
    : grid_(&decomposition), radius_(radius) {
  const auto& g = decomposition.params();
  const bool ok = (g.dim == 2 || g.dim == 3) && g.lo[0] == 0.0 && g.hi[0] == 360.0 &&
                  g.lo[1] == -90.0 && g.hi[1] == 90.0 && g.periodic[0] && !g.periodic[1] &&
                  (g.dim == 2 || !g.periodic[2]);
  if (!ok) {
    throw ConfigError(
        "grid: a latitude-longitude grid needs a 2D/3D decomposition spanning x in [0, 360] and y "
        "in [-90, 90] degrees, periodic in x only");
  }
  if (g.n[0] % 2 != 0) {
    throw ConfigError("grid: nlon = " + std::to_string(g.n[0]) + ", expected an even number");
  }
  if (decomposition.count(0) != decomposition.n(0) ||
      (g.dim == 3 && decomposition.count(2) != decomposition.n(2))) {
    throw ConfigError(
        "grid: a latitude-longitude grid is decomposed in latitude bands only (procs = [1, P, 1])");
  }
  if (!(radius > 0) || !std::isfinite(radius)) {
    std::ostringstream os;
    os << "grid: radius = " << radius << ", expected a positive number (m)";
    throw ConfigError(os.str());
  }
  init_metrics();
}

void SphereGrid::init_metrics() {
  const index_t nx = grid_->n(0), ny = grid_->n(1);
  // Cross-pole ghost rows mirror rows 0 .. halo - 1 (and their northern counterparts).
  if (ny < grid_->halo()) {
    throw ConfigError("grid: nlat = " + std::to_string(ny) + " is below the halo width " +
                      std::to_string(grid_->halo()));
  }
  dlon_ = 2 * kPi / real_t(nx);
  dlat_ = kPi / real_t(ny);
  lat_edge_.resize(size_t(ny) + 1);
  sin_edge_.resize(size_t(ny) + 1);
  cos_edge_.resize(size_t(ny) + 1);
  lat_center_.resize(size_t(ny));
  area_.resize(size_t(ny));
  for (index_t j = 0; j <= ny; ++j) {
    // Exact symmetric edges: -pi/2 + j pi/ny, with sin/cos of the poles set exactly.
    const real_t lat = -0.5 * kPi + real_t(j) * dlat_;
    lat_edge_[size_t(j)] = lat;
    sin_edge_[size_t(j)] = std::sin(lat);
    cos_edge_[size_t(j)] = std::cos(lat);
  }
  sin_edge_.front() = -1.0;
  sin_edge_.back() = 1.0;
  cos_edge_.front() = 0.0;
  cos_edge_.back() = 0.0;
  // Mirror symmetry to the bit: sin(-x) = -sin(x).
  for (index_t j = 0; j <= ny / 2; ++j) {
    const size_t a = size_t(j), b = size_t(ny - j);
    sin_edge_[b] = -sin_edge_[a];
    cos_edge_[b] = cos_edge_[a];
    lat_edge_[b] = -lat_edge_[a];
  }
  if (ny % 2 == 0) sin_edge_[size_t(ny / 2)] = 0.0;
  for (index_t j = 0; j < ny; ++j) {
    lat_center_[size_t(j)] = 0.5 * (lat_edge_[size_t(j)] + lat_edge_[size_t(j) + 1]);
    area_[size_t(j)] =
        radius_ * radius_ * dlon_ * (sin_edge_[size_t(j) + 1] - sin_edge_[size_t(j)]);
  }
}

real_t SphereGrid::total_area() const {
  real_t s = 0;
  for (real_t a : area_) s += a;
  return s * real_t(nlon());
}

void SphereGrid::fill_polar_halos(Field& q) const { fill_polar_halos(q.view()); }

void SphereGrid::fill_polar_halos(FieldView q) const {
  const index_t nx = nlon(), ny = nlat(), half = nx / 2;
  const index_t j0 = lat_start(), nj = lat_count();
  const index_t h = q.hy;
  // Every ghost row beyond a pole (global row -1-g mirrors row g; row ny+g mirrors ny-1-g). On
  // a band narrower than the halo a rank next to the polar one has such rows too; the rows they
  // mirror are then among its ghost rows (filled by the exchange), never beyond a pole.
  for (index_t k = 0; k < q.nz; ++k) {
    for (index_t r = -h; r < nj + h; ++r) {
      const index_t gr = j0 + r;
      if (gr >= 0 && gr < ny) continue;
      const index_t src = (gr < 0 ? -1 - gr : 2 * ny - 1 - gr) - j0;
      for (index_t i = -q.hx; i < nx + q.hx; ++i) {
        const index_t is = ((i + half) % nx + nx) % nx;
        q(i, r, k) = q(is, src, k);
      }
    }
  }
}

real_t SphereGrid::integral(const Field& q) const {
  const auto v = q.view();
  const index_t j0 = lat_start();
  real_t local = 0;
  for (index_t k = 0; k < v.nz; ++k) {
    for (index_t j = 0; j < v.ny; ++j) {
      real_t row = 0;
      for (index_t i = 0; i < v.nx; ++i) row += v(i, j, k);
      local += row * area_[size_t(j0 + j)];
    }
  }
  real_t global = 0;
  AEOLUS_MPI(MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, grid_->comm()));
  return global;
}

}  // namespace aeolus

namespace aeolus {
void SphereFaceFluxes::resize(const SphereGrid& g) {
  const size_t nx = size_t(g.nlon()), h = size_t(g.halo()), nj = size_t(g.lat_count());
  xa.assign((nj + 2 * h) * nx, 0.0);
  ya.assign((nj + 1) * nx, 0.0);
}
}  // namespace aeolus
