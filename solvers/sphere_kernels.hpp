#pragma once
// Kernels of the Lin & Rood (1996) flux-form semi-Lagrangian transport on the latitude-longitude
// sphere (see solvers/sphere_transport.hpp for the scheme). Free functions over views and raw
// arrays: no allocation, no virtual call, caller-provided work buffers, so a CUDA version can
// mirror them. One horizontal level at a time: for level k of a 3D Field pass the level view
//   FieldView lev = v; lev.origin = v.origin + k * v.sz; lev.nz = 1;   (sphere_level_view)
// with the swept areas of that level.
//
// One step, for one level (the FV3 fv_tp_2d form of Lin & Rood 1996, Putman & Lin 2007, JCP
// 227): with A the cell area, x/y the swept areas of the west/south faces and Fx, Fy the 1D
// fluxes,
//   Vx = A + x_i - x_{i+1},  qx = (q A + Fx(q)_i - Fx(q)_{i+1}) / Vx   every real row of the block
//   qx's cross-pole ghost rows (and Vx) = the mirrored cells (as SphereGrid::fill_polar_halos)
//   Vy = A + y_j - y_{j+1},  qy = (q A + Fy(q)_j - Fy(q)_{j+1}) / Vy   owned rows
//   out = q + 1/2 [dFx(qy) + dFx(q) + dFy(qx) + dFy(q)] / A              owned rows
// where dF = F_i - F_{i+1} and F = swept area times the mean of the reconstruction over the
// swept region (zonal Courant numbers may exceed 1: whole cells plus a fraction, wrapping
// around the circle). The outer fluxes of qy and qx take fractions of the deformed cells Vy,
// Vx (whole deformed cells in the zonal integer shift). Why: with Vy = A - (x_i - x_{i+1}) for
// a non-divergent flow,
//   out = 1/2 [qy Vy + dFx(qy)] / A + 1/2 [qx Vx + dFy(qx)] / A,
// the mean of the two orders of 1D sweeps over deformed cells (Easter 1993), each the mean of
// the reconstruction over a departure interval of length A: a convex combination of means of
// monotone 1D reconstructions, so the monotone limiter makes no new extrema also in
// deformational flow (the LR96 advective inner form q + f/2 is not convex where x_i != x_{i+1}).
// Exceptions, for extreme 1D divergence only: a deformed area <= 0 keeps q and A, and a
// meridional swept area beyond the deformed upwind cell takes the whole cell (fraction 1).
// Every face value is a pure function of the same inputs on whichever rank computes it, so the
// result is bitwise independent of the number of latitude bands.
//
// Implementation: a single pass over the latitude rows (the meridional sweep row-wise, with
// ring buffers of a few rows for qx, slopes, interface and edge values), so every inner loop is
// unit-stride over a whole row and the intermediates stay in cache; the scheme is dispatched once
// per call, not per cell.
#include <vector>

#include "grids/field_view.hpp"
#include "grids/sphere_grid.hpp"
#include "solvers/sphere_scheme.hpp"

namespace aeolus {

enum class SphereReconstruction { ppm, van_leer };
// bounded: the extremum-preserving PPM reconstruction, each cell's parabola then scaled about
// its mean (Zhang & Shu 2010, JCP 229) into [lower, upper], the range of the field at the start
// of the step (the steppers set it): in the zonal sweeps only the means over the pieces between
// the departure points of the faces that fall inside the cell must lie in the range
// (ppm_bound_cut_line: all a flux-form sweep averages, whole-cell shifts included); in the
// meridional sweeps the whole parabola (ppm_bound_line; the pieces of a ghost row would need
// the swept areas of a face row this rank does not hold, and every rank must scale a cell
// alike). Every mean the sweeps take is then inside the range, and
// the convex-combination argument of the monotone limiter applies: no new extrema, while
// smooth extrema below the range's ends keep their curvature.
enum class SphereLimiter { monotone, extremum_preserving, none, bounded };
struct SphereScheme {
  SphereReconstruction reconstruction = SphereReconstruction::ppm;
  SphereLimiter limiter = SphereLimiter::monotone;
  // The bounded limiter's range for the next call (per step state, not configuration: the
  // steppers set it to the global minimum and maximum of the transported field, a mixing
  // ratio in the tracer step). The kernel refuses the bounded limiter without a finite range.
  real_t lower = 0, upper = -1;
};
// Parses the option strings; throws ConfigError naming the key, the value and the valid names.
SphereScheme sphere_scheme_from_params(const SphereSchemeParams& p);
const std::vector<std::string>& sphere_reconstruction_names();
const std::vector<std::string>& sphere_limiter_names();

// The view of level k of a (2D or 3D) field view: origin offset by k * sz, nz = 1.
inline FieldView sphere_level_view(FieldView v, index_t k) {
  v.origin += k * v.sz;
  v.nz = 1;
  return v;
}
inline ConstFieldView sphere_level_view(ConstFieldView v, index_t k) {
  v.origin += k * v.sz;
  v.nz = 1;
  return v;
}

// Work buffers of lin_rood_step_2d for one grid (a few rows of nlon values each, plus per-row
// metrics); allocated once here, reused for every level and step. Not shareable between
// threads running concurrently.
struct SphereWork {
  explicit SphereWork(const SphereGrid& g);
  index_t nlon = 0, lat_count = 0, lat_start = 0, nlat = 0;
  // Per local row r in [-3, lat_count + 3): area and 1/area (m^2), cross-pole ghost rows taking
  // the area of the row they mirror. Index r + 3.
  std::vector<real_t> area, inv_area;
  std::vector<unsigned char> wide_row;  // per row: some |zonal Courant| >= 1 (set per call)
  // Ring buffers and row buffers (layout private to sphere_kernels.cpp).
  std::vector<real_t> buf;
};

// Largest Courant numbers of the swept areas `f` over this rank's owned rows (no reduction):
// meridional |cy| = |ya| / area of the upwind row over the faces of local face rows
// [0, lat_count], zonal |cx| = |xa| / area over the owned rows. The location of the largest
// |cy| is given as a global face row (south edge of that latitude row) and column.
struct SphereCourant {
  real_t max_cy = 0, max_cx = 0;
  index_t cy_face_row = 0, cy_column = 0;
};
SphereCourant sphere_courant_local(const SphereGrid& g, const SphereFaceFluxes& f);

// The air-mass fluxes of one level's density step (density times m^2 per step, e.g. Pa m^2),
// recorded by lin_rood_step_2d for lin_rood_tracer_step_2d: for the density rho they are the
// fluxes F of the scheme above,
//   xb: Fx(rho) of local rows [-3, lat_count + 3) (real rows only; cross-pole rows unused),
//       nlon + 1 faces each (the last = the first), row r at (r + 3) * (nlon + 1);
//   xa: Fx(rho_y) of the owned rows, row r at r * (nlon + 1);
//   yb: Fy(rho) and ya: Fy(rho_x) of face rows [0, lat_count], row jf at jf * nlon.
// Sized once for a grid, reused for every level and step.
struct SphereAirFluxes {
  explicit SphereAirFluxes(const SphereGrid& g);
  index_t nlon = 0, lat_count = 0;
  std::vector<real_t> xb, xa, yb, ya;
  real_t* xb_row(index_t r) { return xb.data() + (r + 3) * (nlon + 1); }
  const real_t* xb_row(index_t r) const { return xb.data() + (r + 3) * (nlon + 1); }
  real_t* xa_row(index_t r) { return xa.data() + r * (nlon + 1); }
  const real_t* xa_row(index_t r) const { return xa.data() + r * (nlon + 1); }
  real_t* yb_row(index_t jf) { return yb.data() + jf * nlon; }
  const real_t* yb_row(index_t jf) const { return yb.data() + jf * nlon; }
  real_t* ya_row(index_t jf) { return ya.data() + jf * nlon; }
  const real_t* ya_row(index_t jf) const { return ya.data() + jf * nlon; }
};

// One Lin-Rood step of one level.
//  q:   the level at time t; owned cells plus 3 ghost rows and columns valid, cross-pole ghost
//       rows included (Field::exchange_halos() then SphereGrid::fill_polar_halos()).
//  f:   swept areas of the step for g's layout (SphereFaceFluxes), |meridional Courant| < 1
//       (not checked here: see sphere_courant_local).
//  out: receives the owned cells at t + dt (its halos are not touched). May be the same view
//       as q (in place); must not overlap q otherwise.
//  w:   SphereWork built for g.
//  record: if given, receives the step's air-mass fluxes (q taken as the air density) for
//       lin_rood_tracer_step_2d; the result is bitwise the same with or without.
// Requires g.halo() >= 3, q.hx, q.hy >= 3, q.nx = nlon, q.ny = lat_count (ConfigError else).
void lin_rood_step_2d(const SphereGrid& g, const SphereScheme& s, const SphereFaceFluxes& f,
                      ConstFieldView q, FieldView out, SphereWork& w,
                      SphereAirFluxes* record = nullptr);
void lin_rood_step_2d(const SphereGrid& g, const SphereSchemeParams& s, const SphereFaceFluxes& f,
                      ConstFieldView q, FieldView out, SphereWork& w);

// The tracer step of one level in mixing-ratio form (FV3 fv_tp_2d with mass fluxes, Putman &
// Lin 2007 sec. 4): the same scheme with every swept area replaced by the air mass it carries
// and every fraction of a cell by a fraction of its air mass. With m = rho A the air masses,
// M the recorded air-mass fluxes (air) and T = M times the mean of the reconstruction of the
// mixing ratio over the swept fraction |M| / (air mass of the upwind cell),
//   mx = m + Mxb_i - Mxb_{i+1},  qx = (q m + Tx(q)_i - Tx(q)_{i+1}) / mx   (my, qy alike)
//   out = rho q + 1/2 [dTx(qy) + dTx(q) + dTy(qx) + dTy(q)] / A,
// the outer fluxes taking fractions of the deformed air masses mx, my, and a flux that takes
// more than its upwind cell's air mass taking whole cells (m_k q_k each, walking around the
// circle) and then the fraction of the next one. out is the tracer density (rho q) at t + dt:
// divided by the density step's result it gives the new mixing ratio, which is a convex
// combination of means of monotone reconstructions of q (so the monotone limiter makes no new
// extrema, in divergent flow too) as long as each 1D sweep leaves positive air masses. q = 1
// gives bitwise the density step's result; T sums to zero over the sphere, so the tracer mass
// is conserved to round-off. Where an inner air mass would not stay positive the cell keeps q.
//  air: recorded by lin_rood_step_2d of the density rho with the same g, s, f.
//  rho: that step's input density (owned cells and halos as for q; cross-pole halos included).
//  q:   the mixing ratio at t (halos as for lin_rood_step_2d). out may be the same view as q
//       (in place), must overlap neither q otherwise nor rho.
void lin_rood_tracer_step_2d(const SphereGrid& g, const SphereScheme& s, const SphereFaceFluxes& f,
                             const SphereAirFluxes& air, ConstFieldView rho, ConstFieldView q,
                             FieldView out, SphereWork& w);

// The 1D building blocks (exposed for tests and for other sphere kernels). Output arrays must
// not overlap the inputs (the loops are compiled as non-aliasing); inputs may share storage.
// Lines are arrays of n values; "rows m2..p2" are the neighbouring lines two cells before .. two
// cells after along the sweep direction (for a zonal sweep: the same row pointer shifted by
// -2..+2).
//
// PPM interface values e[i] between cells m1[i] and p0[i]: limiter none: the 4th-order value
// 7/12 (m1 + p0) - 1/12 (m2 + p1); monotone: CW84 eq. (1.6) with the monotonised-central slopes
// sm1, sp0 of the two cells (sphere_slope_line); extremum_preserving: the 4th-order value,
// limited as in Colella & Sekora (2008) where it is not between m1 and p0 (sm1, sp0 are then
// the cells' second differences).
void ppm_interface_line(SphereLimiter lim, const real_t* m2, const real_t* m1, const real_t* p0,
                        const real_t* p1, const real_t* sm1, const real_t* sp0, index_t n,
                        real_t* e);
// Cell slopes (difference across the cell): monotone = monotonised central (MC), none = centred
// (p1 - m1) / 2; extremum_preserving: the second difference m1 - 2 p0 + p1 instead.
void sphere_slope_line(SphereLimiter lim, const real_t* m1, const real_t* p0, const real_t* p1,
                       index_t n, real_t* s);
// PPM edge values of cells q[i] from their low/high interface values: monotone = the CW84
// constraints (flatten at extrema, steepen the overshooting side); none = copies
// (extremum_preserving: ppm_edge_line_ep).
void ppm_edge_line(SphereLimiter lim, const real_t* q, const real_t* e_lo, const real_t* e_hi,
                   index_t n, real_t* al, real_t* ar);
// Extremum-preserving PPM edges (Colella & Sekora 2008, McCorquodale & Colella 2011) of cells
// q[i] with neighbours qm1/qp1, second differences cm1/c0/cp1 of the three cells and interface
// values e_lo/e_hi: smooth extrema keep a limited curvature instead of being flattened.
void ppm_edge_line_ep(const real_t* qm1, const real_t* q, const real_t* qp1, const real_t* cm1,
                      const real_t* c0, const real_t* cp1, const real_t* e_lo, const real_t* e_hi,
                      index_t n, real_t* al, real_t* ar);
// The bounded limiter's scaling: the parabola of each cell q[i] with edges al[i], ar[i] is
// scaled about its mean, a' = q + theta (a - q), with the largest theta in [0, 1] that keeps its
// values over the whole cell (edges and interior extremum) inside [lo, hi]. Cells whose mean
// lies outside the range (by round-off) are flattened.
void ppm_bound_line(const real_t* q, real_t lo, real_t hi, index_t n, real_t* al, real_t* ar);
// The same scaling with the weaker condition of a flux-form sweep: cell i is cut at c0[i] <=
// c1[i] (the departure points of the faces inside it; c0 = 0 and c1 = 1 where there is none; c0
// NaN: bound the whole parabola), and only the means over the pieces [0, c0], [c0, c1], [c1, 1]
// must lie in [lo, hi]: the means a flux-form sweep takes of that cell.
void ppm_bound_cut_line(const real_t* q, const real_t* c0, const real_t* c1, real_t lo, real_t hi,
                        index_t n, real_t* al, real_t* ar);
// Zonal fluxes of one row: F[i] (i = 0..nlon, F[nlon] = F[0]) through the west face of cell i,
// in q m^2, for swept areas xa[0..nlon) and row area `area`. q must be valid on [-1, nlon]
// (periodic ghosts) and a0/a1 (PPM: al/ar; van Leer: slope/unused) on cells [-1, nlon].
// `wide`: some |xa| >= area (the integer-shift path; otherwise the fraction-only loop).
void sphere_x_flux_row(SphereReconstruction r, const real_t* q, const real_t* a0, const real_t* a1,
                       const real_t* xa, real_t area, real_t inv_area, index_t nlon, bool wide,
                       real_t* F);
// Meridional fluxes through one row of faces between the south cells (qs, a0s, a1s; 1/area
// inv_s) and the north cells (qn, ...; inv_n), swept areas ya (|Courant| < 1): G[i] in q m^2.
void sphere_y_flux_line(SphereReconstruction r, const real_t* qs, const real_t* a0s,
                        const real_t* a1s, real_t inv_s, const real_t* qn, const real_t* a0n,
                        const real_t* a1n, real_t inv_n, const real_t* ya, index_t n, real_t* G);

// The same for cells with their own volumes vol[i] (m^2; the areas deformed by an inner
// update), vol and inv_vol valid on [-1, nlon], `total` = the sum over [0, nlon). `wide`: some
// swept area reaches the volume of its upwind cell; the flux then takes whole upwind cells
// (vol each, around the circle) plus the fraction of the next one.
void sphere_x_flux_cells(SphereReconstruction r, const real_t* q, const real_t* a0,
                         const real_t* a1, const real_t* xa, const real_t* vol,
                         const real_t* inv_vol, real_t total, index_t nlon, bool wide, real_t* F);
// Meridional fluxes with per-cell inverse volumes of the south and north cells; a fraction
// above 1 (swept area beyond the deformed upwind cell) is capped at 1.
void sphere_y_flux_cells(SphereReconstruction r, const real_t* qs, const real_t* a0s,
                         const real_t* a1s, const real_t* inv_s, const real_t* qn,
                         const real_t* a0n, const real_t* a1n, const real_t* inv_n,
                         const real_t* ya, index_t n, real_t* G);

}  // namespace aeolus
