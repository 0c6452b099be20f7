#pragma once
// A latitude-longitude grid on the sphere, cell-centred, equiangular, without pole points:
// nlon x nlat cells of dlon = 360/nlon, dlat = 180/nlat degrees; cell (i, j) spans longitudes
// [i dlon, (i+1) dlon] and latitudes [-90 + j dlat, -90 + (j+1) dlat]. The first and last rows
// touch the poles with an edge of zero length (the CarbonBench / WeatherBench2 layout: 32 x 64
// at 5.625 deg has latitudes +-87.1875). Optional vertical levels make it 3D (k = level index,
// the vertical coordinate is defined by physics/, e.g. hybrid sigma-pressure).
//
// Decomposition: latitude bands. Every rank owns whole longitude circles (PETSc DMDA with one
// process along x), because
//  - the zonal flux-form semi-Lagrangian sweep shifts by an integer number of cells that near
//    the poles can exceed any halo width (Courant numbers of 10-100 at 1 deg), and a full circle
//    on the rank makes that shift a local index operation;
//  - the ghost rows across a pole are the first rows on the opposite meridian (lon + 180 deg),
//    which a rank holds among its own or ghost rows: no extra communication and no special
//    pole rank;
//  - a transport step then needs one halo exchange of `halo` rows with the latitude
//    neighbours: the messages are 2 * halo * nlon values per rank, independent of the rank count.
// Any rank count up to nlat (one row per rank). Bands of at least `halo` rows (up to nlat / halo
// ranks: 60 at 1 deg with halo 3) exchange with the adjacent ranks through the DMDA; narrower
// bands take their ghost rows from ranks further away through CartesianGrid's multi-hop halo
// scatter (same values, more messages). Results do not depend on the rank count. Beyond nlat
// ranks a 2D (lat x lon) decomposition would be needed, with a transpose of each polar row per
// step; we leave that for multi-node work.
#include <functional>
#include <memory>
#include <vector>

#include "grids/cartesian_grid.hpp"
#include "grids/field.hpp"

namespace aeolus {

struct SphereGridParams {
  index_t nlon = 128;
  index_t nlat = 64;
  index_t nlev = 1;           // 1: a 2D (surface) grid; > 1: a 3D grid with levels along z
  real_t radius = 6.37122e6;  // m
  int halo = 3;               // ghost rows (and columns) a stepper needs
  int procs = 0;              // ranks along latitude (0 = all ranks of the communicator)
};

class SphereGrid;

// Swept areas (m^2) of one step through every face a rank needs. Sign: positive eastward /
// northward.
//  xa: west faces of the rows of the ghosted block that are real rows, i.e. local rows
//      jl in [-h, lat_count + h) (h = grid halo), nlon faces each, index (jl + h) * nlon + i
//      (face i is the west face of column i, periodic). Entries of rows beyond a pole are
//      unused.
//  ya: south faces of local rows jl in [0, lat_count] (lat_count + 1 face rows), index
//      jl * nlon + i; zero on pole edges.
struct SphereFaceFluxes {
  std::vector<real_t> xa;
  std::vector<real_t> ya;
  void resize(const SphereGrid& g);  // sizes both arrays for g (values unspecified)
};

// The flow: fills the swept areas of the step [t, t + dt] (e.g. winds at t + dt/2 times dt, or
// exact stream-function differences). Called on every rank for its own rows.
using SweptAreaFunction = std::function<void(real_t t, real_t dt, SphereFaceFluxes& out)>;

class SphereGrid {
 public:
  // Creates and owns the decomposition (a DMDA: x = longitude periodic, y = latitude, z = level).
  SphereGrid(MPI_Comm comm, const SphereGridParams& params);
  // Metrics for an existing decomposition (not owned; must outlive this object). The grid must
  // span x in [0, 360], y in [-90, 90] degrees, periodic in x only, with one process along x
  // and (3D) along z. Throws ConfigError otherwise.
  SphereGrid(const CartesianGrid& decomposition, real_t radius);

  // The CartesianGrid parameters of the DMDA for `p` on `ranks` processes (x/y in degrees,
  // latitude bands). Throws ConfigError for an odd nlon, or for more ranks than latitude rows,
  // naming the numbers.
  static CartesianGridParams decomposition_params(const SphereGridParams& p, int ranks);

  const CartesianGrid& grid() const { return *grid_; }
  index_t nlon() const { return grid_->n(0); }
  index_t nlat() const { return grid_->n(1); }
  index_t nlev() const { return grid_->dim() == 3 ? grid_->n(2) : 1; }
  real_t radius() const { return radius_; }
  int halo() const { return grid_->halo(); }

  // Owned rows [lat_start, lat_start + lat_count).
  index_t lat_start() const { return grid_->start(1); }
  index_t lat_count() const { return grid_->count(1); }
  // Owned levels [lev_start, lev_start + lev_count) (3D; 0 and 1 on a 2D grid).
  index_t lev_start() const { return grid_->dim() == 3 ? grid_->start(2) : 0; }
  index_t lev_count() const { return grid_->dim() == 3 ? grid_->count(2) : 1; }

  // Geometry in radians (global indices; edges j = 0..nlat, edge j is the south edge of row j).
  real_t dlon() const { return dlon_; }
  real_t dlat() const { return dlat_; }
  real_t lon_center(index_t i) const { return (real_t(i) + 0.5) * dlon_; }
  real_t lon_edge(index_t i) const { return real_t(i) * dlon_; }  // west edge of column i
  real_t lat_center(index_t j) const { return lat_center_[size_t(j)]; }
  real_t lat_edge(index_t j) const { return lat_edge_[size_t(j)]; }
  real_t sin_lat_edge(index_t j) const { return sin_edge_[size_t(j)]; }
  real_t cos_lat_edge(index_t j) const { return cos_edge_[size_t(j)]; }  // exactly 0 at poles
  // Cell area a^2 dlon (sin lat_{j+1/2} - sin lat_{j-1/2}) (m^2); the same for every column.
  real_t area(index_t j) const { return area_[size_t(j)]; }
  const std::vector<real_t>& areas() const { return area_; }
  // Length of the western edge of a cell (a dlat) and of the southern edge of row j
  // (a cos lat_{j-1/2} dlon), m.
  real_t x_edge_length() const { return radius_ * dlat_; }
  real_t y_edge_length(index_t j) const { return radius_ * cos_edge_[size_t(j)] * dlon_; }
  // Sum of all cell areas of one level (4 pi a^2 to round-off).
  real_t total_area() const;

  // Ghost rows beyond a pole: row -1-k is row k at lon + 180 deg (and likewise at the north
  // pole). Fills those ghost cells (and their x-ghost columns) of q from q's own owned rows on
  // the polar rank; a no-op elsewhere. Call after Field::exchange_halos(). Scalars only: a
  // vector component would change sign across the pole.
  void fill_polar_halos(Field& q) const;
  void fill_polar_halos(FieldView q) const;

  // Area-weighted integral sum_ij q_ij area_j over owned cells, summed over levels (collective).
  // Deterministic for a given rank count; rank counts differ only in summation order.
  real_t integral(const Field& q) const;

 private:
  void init_metrics();
  std::unique_ptr<CartesianGrid> owned_;
  const CartesianGrid* grid_ = nullptr;
  real_t radius_ = 0;
  real_t dlon_ = 0, dlat_ = 0;
  std::vector<real_t> lat_center_, lat_edge_, sin_edge_, cos_edge_, area_;
};

}  // namespace aeolus
