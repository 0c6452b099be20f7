#include "solvers/sphere_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include "grids/error.hpp"

// The hot loops are compiled three times, for AVX-512 (8 doubles per instruction), AVX2 (4) and
// the baseline x86-64 (SSE2, 2), and the loader picks one per machine (GCC function
// multiversioning, ifunc). No clone contracts a * b + c into an FMA (-std=c++17 implies
// -ffp-contract=off, but a target attribute that enables FMA, as avx512f does, turns contraction
// back on in GCC 12 unless the pragma below is given), so all give bitwise the same results:
// ranks on different machines still agree exactly.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#pragma GCC optimize("fp-contract=off")
#define AEOLUS_SPHERE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define AEOLUS_SPHERE_CLONES
#endif
// Loop templates called from the cloned functions must be inlined into each clone to be
// compiled for its instruction set.
#if defined(__GNUC__)
#define AEOLUS_SPHERE_INLINE inline __attribute__((always_inline))
#else
#define AEOLUS_SPHERE_INLINE inline
#endif
// Pointers of a loop that do not alias each other (inputs may share storage with each other, not
// with the output). Without it GCC versions a loop with a run-time check per pair of arrays and
// gives up beyond 10 pairs: the many-array loops here stayed scalar.
#define AEOLUS_RESTRICT __restrict

namespace aeolus {

namespace {

constexpr index_t kH = 3;     // ghost rows/columns the scheme reads
constexpr real_t kCs = 1.25;  // Colella & Sekora (2008): second-derivative limiter constant

// Mean of the reconstruction over the rightmost (right) or leftmost (left) fraction f of a
// cell with mean q. PPM: a0 = left edge, a1 = right edge; van Leer: a0 = slope (difference
// across the cell), a1 unused.
struct Ppm {
  static real_t right(real_t q, real_t al, real_t ar, real_t f) {
    const real_t dq = ar - al, q6 = 6.0 * q - 3.0 * (al + ar);
    return ar - 0.5 * f * (dq - (1.0 - (2.0 / 3.0) * f) * q6);
  }
  static real_t left(real_t q, real_t al, real_t ar, real_t f) {
    const real_t dq = ar - al, q6 = 6.0 * q - 3.0 * (al + ar);
    return al + 0.5 * f * (dq + (1.0 - (2.0 / 3.0) * f) * q6);
  }
};

struct VanLeer {
  static real_t right(real_t q, real_t s, real_t /*unused*/, real_t f) {
    return q + 0.5 * (1.0 - f) * s;
  }
  static real_t left(real_t q, real_t s, real_t /*unused*/, real_t f) {
    return q - 0.5 * (1.0 - f) * s;
  }
};

// Branch-free upwind selection: F = max(x, 0) * (mean right of the west cell) + min(x, 0) *
// (mean left of the east cell). One term is an exact zero (times a finite mean), so F is exactly
// x times the upwind mean. (GCC keeps a ternary select of two computed doubles as a branch under
// the default -ftrapping-math, and the loop would not vectorise; min/max do.)
template <class R>
inline real_t upwind_flux(real_t x, real_t inv_w, real_t inv_e, real_t qw, real_t a0w, real_t a1w,
                          real_t qe, real_t a0e, real_t a1e) {
  const real_t xp = std::max(x, 0.0), xm = std::min(x, 0.0);
  return xp * R::right(qw, a0w, a1w, xp * inv_w) + xm * R::left(qe, a0e, a1e, -xm * inv_e);
}

// The same with per-cell inverse volumes of the west and east cells; the fraction is capped
// at 1 (a swept area larger than the deformed upwind cell; see sphere_y_flux_cells).
template <class R>
inline real_t upwind_flux_capped(real_t x, real_t inv_w, real_t inv_e, real_t qw, real_t a0w,
                                 real_t a1w, real_t qe, real_t a0e, real_t a1e) {
  const real_t xp = std::max(x, 0.0), xm = std::min(x, 0.0);
  return xp * R::right(qw, a0w, a1w, std::min(xp * inv_w, 1.0)) +
         xm * R::left(qe, a0e, a1e, std::min(-xm * inv_e, 1.0));
}

// All |c| < 1: the upwind cell is the neighbour.
template <class R>
AEOLUS_SPHERE_INLINE void x_flux_narrow(const real_t* AEOLUS_RESTRICT q,
                                        const real_t* AEOLUS_RESTRICT a0,
                                        const real_t* AEOLUS_RESTRICT a1,
                                        const real_t* AEOLUS_RESTRICT xa, real_t inv_area,
                                        index_t n, real_t* AEOLUS_RESTRICT F) {
  for (index_t i = 0; i < n; ++i)
    F[i] = upwind_flux<R>(xa[i], inv_area, inv_area, q[i - 1], a0[i - 1], a1[i - 1], q[i], a0[i],
                          a1[i]);
  F[n] = F[0];
}

// Sum of p[0..m) with four accumulators (a short dependency chain; the order is fixed, so the
// result is the same on every rank).
inline real_t contiguous_sum(const real_t* p, index_t m) {
  real_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  index_t i = 0;
  for (; i + 4 <= m; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  for (; i < m; ++i) s0 += p[i];
  return (s0 + s1) + (s2 + s3);
}

// Sum of the m cells (0 <= m < n) from `from` (0 <= from < n) eastwards around a circle of n:
// a plain loop for the few cells of most faces, contiguous pieces beyond.
inline real_t circle_sum(const real_t* q, index_t n, index_t from, index_t m) {
  if (m < 8) {
    real_t s = 0;
    for (index_t k = from, j = 0; j < m; ++j) {
      s += q[k];
      k = k + 1 == n ? 0 : k + 1;
    }
    return s;
  }
  const index_t first = std::min(m, n - from);
  return contiguous_sum(q + from, first) + contiguous_sum(q, m - first);
}

// Some |c| >= 1: integer shift (whole cells, wrapping around the circle, whole turns included)
// plus the fraction of the next cell. Every face first takes the one-cell formula (vectorised);
// the faces with |c| >= 1 are then redone (for |c| < 1 the shift formula gives bitwise the
// one-cell value, so which faces are redone does not change the result).
template <class R>
AEOLUS_SPHERE_INLINE void x_flux_wide(const real_t* AEOLUS_RESTRICT q,
                                      const real_t* AEOLUS_RESTRICT a0,
                                      const real_t* AEOLUS_RESTRICT a1,
                                      const real_t* AEOLUS_RESTRICT xa, real_t area,
                                      real_t inv_area, index_t n, real_t* AEOLUS_RESTRICT F) {
  x_flux_narrow<R>(q, a0, a1, xa, inv_area, n, F);
  for (index_t i = 0; i < n; ++i) {
    const real_t x = xa[i];
    const real_t c = std::abs(x) * inv_area;
    if (c < 1.0) continue;  // one cell: F[i] is final
    const index_t whole = index_t(c);
    const real_t f = c - real_t(whole);
    index_t m = whole;
    real_t turns = 0;
    if (m >= n) {  // only where a step sweeps past the whole circle
      turns = real_t(m / n) * contiguous_sum(q, n);
      m %= n;
    }
    if (x > 0) {
      // Cells i - whole .. i - 1, then the east part of cell i - 1 - whole.
      index_t from = i - m;
      if (from < 0) from += n;
      const index_t k = from == 0 ? n - 1 : from - 1;
      const real_t sum = turns + circle_sum(q, n, from, m);
      F[i] = (x - real_t(whole) * area) * R::right(q[k], a0[k], a1[k], f) + area * sum;
    } else {
      // Cells i .. i + whole - 1, then the west part of cell i + whole.
      const index_t k = i + m < n ? i + m : i + m - n;
      const real_t sum = turns + circle_sum(q, n, i, m);
      F[i] = (x + real_t(whole) * area) * R::left(q[k], a0[k], a1[k], f) - area * sum;
    }
  }
  F[n] = F[0];
}

// Whole turns around the circle in a swept amount rem (total = the row's volume): removes them
// from rem and returns their number.
inline real_t remove_whole_turns(real_t& rem, real_t total) {
  const real_t turns = std::floor(rem / total);
  rem = std::max(rem - turns * total, 0.0);
  return turns;
}

// The upwind walk of a swept amount rem over whole cells of volumes vol around a circle of n
// cells, from the face i (West: flow eastwards, the walk goes west from cell i - 1; else from
// cell i eastwards): while rem reaches the volume of the next cell, that cell is taken whole
// (whole(k)) and rem reduced by its volume. Returns the cell of which the fraction rem / vol is
// taken. Shared by the fluxes and by the bounded limiter, which must find the same cells.
template <bool West, class Whole>
inline index_t walk_whole_cells(index_t i, const real_t* vol, index_t n, real_t& rem,
                                Whole&& whole) {
  index_t k = West ? (i == 0 ? n - 1 : i - 1) : i;
  for (index_t m = 0; m < n && rem >= vol[k]; ++m) {
    whole(k);
    rem -= vol[k];
    if constexpr (West)
      k = k == 0 ? n - 1 : k - 1;
    else
      k = k + 1 == n ? 0 : k + 1;
  }
  return k;
}

// The faces of a row whose swept area reaches past the upwind cell (see x_flux_cells).
template <class R>
void x_flux_cells_wide(const real_t* q, const real_t* a0, const real_t* a1, const real_t* xa,
                       const real_t* vol, const real_t* inv_vol, real_t total, index_t n,
                       real_t* F) {
  real_t turn = 0;  // integral over the whole circle
  bool have_turn = false;
  for (index_t i = 0; i < n; ++i) {
    const real_t x = xa[i];
    if (x < vol[i - 1] && -x < vol[i]) continue;  // one cell: F[i] is final
    real_t rem = std::abs(x), sum = 0;
    if (rem >= total) {  // only where a step sweeps past the whole circle
      if (!have_turn) {
        for (index_t k = 0; k < n; ++k) turn += q[k] * vol[k];
        have_turn = true;
      }
      sum = remove_whole_turns(rem, total) * turn;
    }
    const auto take = [&](index_t k) { sum += q[k] * vol[k]; };
    if (x > 0) {
      const index_t k = walk_whole_cells<true>(i, vol, n, rem, take);
      F[i] = sum + rem * R::right(q[k], a0[k], a1[k], std::min(rem * inv_vol[k], 1.0));
    } else {
      const index_t k = walk_whole_cells<false>(i, vol, n, rem, take);
      F[i] = -(sum + rem * R::left(q[k], a0[k], a1[k], std::min(rem * inv_vol[k], 1.0)));
    }
  }
}

// Zonal fluxes of a row whose cells have their own volumes vol[i] (the areas deformed by the
// meridional inner update): the swept area x of a face covers whole upwind cells (vol each,
// walking around the circle) and then the fraction rem / vol of the next one, so that F_i -
// F_{i+1} + q_i vol_i is the integral of the reconstruction over the departure interval of
// cell i. vol, inv_vol on [0, n) with `total` their sum; q, a0, a1 on [-1, n].
// Every face first takes the one-cell formula (vectorised; exact where the swept area stays
// inside the upwind cell); faces that reach past it are then redone by the walk.
template <class R>
AEOLUS_SPHERE_INLINE void x_flux_cells(const real_t* AEOLUS_RESTRICT q,
                                       const real_t* AEOLUS_RESTRICT a0,
                                       const real_t* AEOLUS_RESTRICT a1,
                                       const real_t* AEOLUS_RESTRICT xa, const real_t* vol,
                                       const real_t* AEOLUS_RESTRICT inv_vol, real_t total,
                                       index_t n, bool wide, real_t* AEOLUS_RESTRICT F) {
  for (index_t i = 0; i < n; ++i)
    F[i] = upwind_flux<R>(xa[i], inv_vol[i - 1], inv_vol[i], q[i - 1], a0[i - 1], a1[i - 1], q[i],
                          a0[i], a1[i]);
  if (wide) x_flux_cells_wide<R>(q, a0, a1, xa, vol, inv_vol, total, n, F);
  F[n] = F[0];
}

template <class R>
AEOLUS_SPHERE_INLINE void y_flux_line(
    const real_t* AEOLUS_RESTRICT qs, const real_t* AEOLUS_RESTRICT a0s,
    const real_t* AEOLUS_RESTRICT a1s, real_t inv_s, const real_t* AEOLUS_RESTRICT qn,
    const real_t* AEOLUS_RESTRICT a0n, const real_t* AEOLUS_RESTRICT a1n, real_t inv_n,
    const real_t* AEOLUS_RESTRICT ya, index_t n, real_t* AEOLUS_RESTRICT G) {
  for (index_t i = 0; i < n; ++i)
    G[i] = upwind_flux<R>(ya[i], inv_s, inv_n, qs[i], a0s[i], a1s[i], qn[i], a0n[i], a1n[i]);
}

// The capped fraction is needed only where a swept area exceeds the deformed upwind cell (extreme
// divergence): the vector loop takes the plain fraction and flags such faces, which are redone.
template <class R>
AEOLUS_SPHERE_INLINE void y_flux_cells(
    const real_t* AEOLUS_RESTRICT qs, const real_t* AEOLUS_RESTRICT a0s,
    const real_t* AEOLUS_RESTRICT a1s, const real_t* AEOLUS_RESTRICT inv_s,
    const real_t* AEOLUS_RESTRICT qn, const real_t* AEOLUS_RESTRICT a0n,
    const real_t* AEOLUS_RESTRICT a1n, const real_t* AEOLUS_RESTRICT inv_n,
    const real_t* AEOLUS_RESTRICT ya, index_t n, real_t* AEOLUS_RESTRICT G) {
  for (index_t i = 0; i < n; ++i)
    G[i] = upwind_flux<R>(ya[i], inv_s[i], inv_n[i], qs[i], a0s[i], a1s[i], qn[i], a0n[i], a1n[i]);
  int beyond = 0;
  for (index_t i = 0; i < n; ++i)
    beyond |= int(ya[i] * inv_s[i] > 1.0) | int(-ya[i] * inv_n[i] > 1.0);
  if (!beyond) return;
  for (index_t i = 0; i < n; ++i)
    G[i] = upwind_flux_capped<R>(ya[i], inv_s[i], inv_n[i], qs[i], a0s[i], a1s[i], qn[i], a0n[i],
                                 a1n[i]);
}

// One cell of a 1D conservative update divided by the deformed area v = area + dx (the swept
// area gained): the mean of the departure region, a convex combination of the upwind means
// for monotone fluxes. Where the region degenerates (v <= 0, only for extreme 1D divergence)
// the cell keeps q and its area. o divides by d rather than multiplying by inv_v: one more
// (vectorised) division, but bitwise the values of the scalar kernel; with the reciprocal the
// extremum-preserving limiter's thresholds flip on round-off (1e-3 changes in slotted cylinders).
inline void deformed_cell(real_t q, real_t dF, real_t dx, real_t area, real_t& o, real_t& v,
                          real_t& inv_v) {
  const real_t d = area + dx;
  const bool ok = d > 0;
  v = ok ? d : area;
  inv_v = 1.0 / v;
  o = ok ? (q * area + dF) / d : q;
}

// A line of deformed cells: the vector loop assumes v > 0 (a select there would keep the loop
// scalar) and reports whether some cell breaks it; those lines are redone with deformed_cell.
AEOLUS_SPHERE_INLINE bool deformed_fast(real_t q, real_t dF, real_t dx, real_t area, real_t& o,
                                        real_t& v, real_t& inv_v) {
  const real_t d = area + dx;
  v = d;
  inv_v = 1.0 / d;
  o = (q * area + dF) / d;
  return !(d > 0);
}

// Zonal inner update of a row: fluxes F[0..n], swept areas x periodic (x_n = x_0).
AEOLUS_SPHERE_CLONES
void deformed_x_row(const real_t* AEOLUS_RESTRICT q, const real_t* AEOLUS_RESTRICT F,
                    const real_t* AEOLUS_RESTRICT x, real_t area, index_t n,
                    real_t* AEOLUS_RESTRICT o, real_t* AEOLUS_RESTRICT v,
                    real_t* AEOLUS_RESTRICT inv_v) {
  int bad = 0;
  for (index_t i = 0; i + 1 < n; ++i)
    bad |= int(deformed_fast(q[i], F[i] - F[i + 1], x[i] - x[i + 1], area, o[i], v[i], inv_v[i]));
  if (bad)
    for (index_t i = 0; i + 1 < n; ++i)
      deformed_cell(q[i], F[i] - F[i + 1], x[i] - x[i + 1], area, o[i], v[i], inv_v[i]);
  const index_t l = n - 1;
  deformed_cell(q[l], F[l] - F[l + 1], x[l] - x[0], area, o[l], v[l], inv_v[l]);
}

// Meridional inner update of a row: fluxes g0/g1 and swept areas y0/y1 of its south/north faces.
AEOLUS_SPHERE_CLONES
void deformed_y_line(const real_t* AEOLUS_RESTRICT q, const real_t* AEOLUS_RESTRICT g0,
                     const real_t* AEOLUS_RESTRICT g1, const real_t* AEOLUS_RESTRICT y0,
                     const real_t* AEOLUS_RESTRICT y1, real_t area, index_t n,
                     real_t* AEOLUS_RESTRICT o, real_t* AEOLUS_RESTRICT v,
                     real_t* AEOLUS_RESTRICT inv_v) {
  int bad = 0;
  for (index_t i = 0; i < n; ++i)
    bad |= int(deformed_fast(q[i], g0[i] - g1[i], y0[i] - y1[i], area, o[i], v[i], inv_v[i]));
  if (bad)
    for (index_t i = 0; i < n; ++i)
      deformed_cell(q[i], g0[i] - g1[i], y0[i] - y1[i], area, o[i], v[i], inv_v[i]);
}

// The tracer's inner updates in mass-weighted form are deformed_cell with the cell's air mass m
// in place of its area: with the net tracer flux dT and air-mass flux dM the cell becomes the
// mixing ratio of its departure region, o = (q m + dT) / (m + dM), a convex combination of
// upwind means when the fluxes are air-mass fluxes times means of q over the swept mass
// fractions; v = m + dM is the air mass the outer fluxes' fractions refer to. Where the air
// mass would not stay positive (extreme divergence only) the cell keeps q and m.

// Zonal tracer inner update of a row: air masses m, tracer fluxes T[0..n] and air-mass fluxes
// M[0..n] (T[n] = T[0], M[n] = M[0]).
AEOLUS_SPHERE_CLONES
void mass_x_row(const real_t* AEOLUS_RESTRICT q, const real_t* AEOLUS_RESTRICT m,
                const real_t* AEOLUS_RESTRICT T, const real_t* AEOLUS_RESTRICT M, index_t n,
                real_t* AEOLUS_RESTRICT o, real_t* AEOLUS_RESTRICT v,
                real_t* AEOLUS_RESTRICT inv_v) {
  int bad = 0;
  for (index_t i = 0; i < n; ++i)
    bad |= int(deformed_fast(q[i], T[i] - T[i + 1], M[i] - M[i + 1], m[i], o[i], v[i], inv_v[i]));
  if (bad)
    for (index_t i = 0; i < n; ++i)
      deformed_cell(q[i], T[i] - T[i + 1], M[i] - M[i + 1], m[i], o[i], v[i], inv_v[i]);
}

// Meridional tracer inner update of a row of densities rho (air mass rho * area): tracer fluxes
// t0/t1 and air-mass fluxes m0/m1 of its south/north faces.
AEOLUS_SPHERE_CLONES
void mass_y_line(const real_t* AEOLUS_RESTRICT q, const real_t* AEOLUS_RESTRICT rho, real_t area,
                 const real_t* AEOLUS_RESTRICT t0, const real_t* AEOLUS_RESTRICT t1,
                 const real_t* AEOLUS_RESTRICT m0, const real_t* AEOLUS_RESTRICT m1, index_t n,
                 real_t* AEOLUS_RESTRICT o, real_t* AEOLUS_RESTRICT v,
                 real_t* AEOLUS_RESTRICT inv_v) {
  int bad = 0;
  for (index_t i = 0; i < n; ++i)
    bad |=
        int(deformed_fast(q[i], t0[i] - t1[i], m0[i] - m1[i], rho[i] * area, o[i], v[i], inv_v[i]));
  if (bad)
    for (index_t i = 0; i < n; ++i)
      deformed_cell(q[i], t0[i] - t1[i], m0[i] - m1[i], rho[i] * area, o[i], v[i], inv_v[i]);
}

// Air masses rho * area of cells [lo, hi) and their inverses.
AEOLUS_SPHERE_CLONES
void mass_line(const real_t* AEOLUS_RESTRICT rho, real_t area, index_t lo, index_t hi,
               real_t* AEOLUS_RESTRICT m, real_t* AEOLUS_RESTRICT inv_m) {
  for (index_t i = lo; i < hi; ++i) {
    m[i] = rho[i] * area;
    inv_m[i] = 1.0 / m[i];
  }
}

// Whether some |x[i]| >= a (a row of swept areas reaching past cells of area a).
AEOLUS_SPHERE_CLONES
bool any_at_least(const real_t* x, real_t a, index_t n) {
  int any = 0;
  for (index_t i = 0; i < n; ++i) any |= int(std::abs(x[i]) >= a);
  return any != 0;
}

// Whether some swept area x[i] of a row reaches past its upwind cell (volumes vol on [-1, n)).
AEOLUS_SPHERE_CLONES
bool any_reaches_cell(const real_t* x, const real_t* vol, index_t n) {
  int any = 0;
  for (index_t i = 0; i < n; ++i) any |= int(x[i] >= vol[i - 1]) | int(-x[i] >= vol[i]);
  return any != 0;
}

// The outer update: the mean of the two orders of the 1D sweeps,
//   o = q + 1/2 [dFx(qy) + dFx(q) + dFy(qx) + dFy(q)] / A,
// with zonal fluxes Fa (of qy), Fb (of q) and meridional fluxes ga0/ga1 (of qx), gb0/gb1 (of q)
// through the south/north faces.
AEOLUS_SPHERE_CLONES
void outer_row(const real_t* q, const real_t* Fa, const real_t* Fb, const real_t* ga0,
               const real_t* ga1, const real_t* gb0, const real_t* gb1, real_t inv_area, index_t n,
               real_t* o) {
  for (index_t i = 0; i < n; ++i)
    o[i] = q[i] + 0.5 *
                      (((Fa[i] - Fa[i + 1]) + (Fb[i] - Fb[i + 1])) +
                       ((ga0[i] - ga1[i]) + (gb0[i] - gb1[i]))) *
                      inv_area;
}

inline real_t mc_slope(real_t m1, real_t p0, real_t p1) {
  const real_t a = p0 - m1, b = p1 - p0, c = 0.5 * (p1 - m1);
  const real_t mag = std::min(std::abs(c), 2.0 * std::min(std::abs(a), std::abs(b)));
  return a * b > 0 ? std::copysign(mag, c) : 0.0;
}

// The row-buffer layout inside SphereWork::buf: lines of nlon + 2 kH values, index 0 of a line
// at offset kH.
struct Lines {
  index_t len;
  real_t* base;
  real_t* line(index_t k) const { return base + k * len + kH; }
};
// Line indices. The meridional sweep keeps rings of rows (slot = row mod ring size): qx rows
// jf - 1 .. jf + 2 plus the rows mirrored across a pole (up to 5 back) in 8 slots, with their
// inverse deformed areas and the zonal fluxes of q of the same rows; slopes of rows jf - 1 ..
// jf + 1 and interfaces of face rows jf - 1 .. jf + 1 (unlimited PPM uses them as the edges of
// rows jf - 1 and jf) in 4; edges and fluxes of two consecutive rows in 2.
constexpr index_t kQxRing = 8, kRing4 = 4, kRing2 = 2;
constexpr index_t kQx = 0;
constexpr index_t kInvVx = kQx + kQxRing;
constexpr index_t kFq = kInvVx + kQxRing;
constexpr index_t kField0 = kFq + kQxRing;  // per field (q, qx): slope, iface, al, ar, flux
constexpr index_t kFieldLines = 2 * kRing4 + 3 * kRing2;
// Zonal sweep of one row: row, slope, iface, al, ar, F, deformed area, its inverse.
constexpr index_t kX = kField0 + 2 * kFieldLines;
// Tracer step only: air masses of a row and their inverses (zonal sweep scratch), and the
// inverse air masses of two consecutive rows (meridional fluxes of q).
constexpr index_t kMass = kX + 8;
constexpr index_t kInvMass = kMass + 1;
constexpr index_t kInvMassY = kInvMass + 1;
// Bounded limiter, zonal sweep: the two cut points of each cell and their count, and lines of
// the uniform area and its inverse.
constexpr index_t kBoundCut0 = kInvMassY + kRing2;
constexpr index_t kBoundCut1 = kBoundCut0 + 1;
constexpr index_t kBoundCount = kBoundCut1 + 1;
constexpr index_t kBoundVol = kBoundCount + 1;
constexpr index_t kBoundInv = kBoundVol + 1;
constexpr index_t kLines = kBoundInv + 1;

template <index_t N>
index_t slot(index_t r) {
  static_assert((N & (N - 1)) == 0, "ring sizes are powers of two");
  return (r + 2 * N) & (N - 1);  // rows start at -kH > -2N
}

// Rings of one field's meridional sweep.
struct YRings {
  Lines L;
  index_t first;
  real_t* slope(index_t r) const { return L.line(first + slot<kRing4>(r)); }
  real_t* iface(index_t r) const { return L.line(first + kRing4 + slot<kRing4>(r)); }
  real_t* al(index_t r) const { return L.line(first + 2 * kRing4 + slot<kRing2>(r)); }
  real_t* ar(index_t r) const { return L.line(first + 2 * kRing4 + kRing2 + slot<kRing2>(r)); }
  real_t* flux(index_t r) const {
    return L.line(first + 2 * kRing4 + 2 * kRing2 + slot<kRing2>(r));
  }
};

// The bounded limiter aims a few ulps inside the range: the steppers take the range anew each
// step, so an update rounded one ulp beyond it would otherwise widen the next step's range, and
// the round-off would creep outwards step after step (cases/lauritzen-2012 with the margin set
// to 0: the slotted cylinders 2e-14 of their range above their maximum after 110 steps).
inline real_t bound_margin(const SphereScheme& s) {
  return 4 * std::numeric_limits<real_t>::epsilon() *
         std::max(std::abs(s.lower), std::abs(s.upper));
}

template <class R>
struct LinRood {
  static constexpr bool ppm = std::is_same_v<R, Ppm>;
  static constexpr SphereReconstruction recon =
      ppm ? SphereReconstruction::ppm : SphereReconstruction::van_leer;

  const SphereGrid& g;
  SphereLimiter lim;  // of the 1D building blocks (bounded runs them as extremum_preserving)
  bool limited;       // PPM edges differ from the interface values (slopes/curvatures needed)
  bool bound;         // bounded: scale each parabola into [lo, hi]
  real_t lo, hi;
  const SphereFaceFluxes& f;
  ConstFieldView q;
  FieldView out;
  SphereWork& w;
  // Density step: where to record its air-mass fluxes (null: none). Tracer step: the recorded
  // air-mass fluxes and the density they moved (q is then a mixing ratio, out a tracer density).
  SphereAirFluxes* rec = nullptr;
  const SphereAirFluxes* air = nullptr;
  ConstFieldView rho;
  index_t nx, nj, j0, ny, half;
  Lines L;
  YRings yq, yqx;

  LinRood(const SphereGrid& g_, const SphereScheme& s_, const SphereFaceFluxes& f_,
          ConstFieldView q_, FieldView out_, SphereWork& w_)
      : g(g_),
        lim(s_.limiter == SphereLimiter::bounded ? SphereLimiter::extremum_preserving : s_.limiter),
        limited(s_.limiter != SphereLimiter::none),
        bound(s_.limiter == SphereLimiter::bounded),
        lo(s_.lower + bound_margin(s_)),
        hi(s_.upper - bound_margin(s_)),
        f(f_),
        q(q_),
        out(out_),
        w(w_),
        nx(g_.nlon()),
        nj(g_.lat_count()),
        j0(g_.lat_start()),
        ny(g_.nlat()),
        half(g_.nlon() / 2),
        L{g_.nlon() + 2 * kH, w_.buf.data()},
        yq{L, kField0},
        yqx{L, kField0 + kFieldLines} {}

  real_t area(index_t r) const { return w.area[size_t(r + kH)]; }
  real_t inv_area(index_t r) const { return w.inv_area[size_t(r + kH)]; }
  const real_t* xa(index_t r) const { return f.xa.data() + (r + g.halo()) * nx; }
  const real_t* ya(index_t r) const { return f.ya.data() + r * nx; }
  const real_t* qrow(index_t r) const { return &q(0, r); }
  real_t* qxrow(index_t r) const { return L.line(kQx + slot<kQxRing>(r)); }
  const real_t* rhorow(index_t r) const { return &rho(0, r); }
  real_t* inv_mass_y(index_t r) const { return L.line(kInvMassY + slot<kRing2>(r)); }
  bool real_row(index_t r) const { return j0 + r >= 0 && j0 + r < ny; }

  // What the bounded limiter needs of a zonal sweep: the swept amounts of the row's faces
  // (swept[i] through the west face of cell i, nx values, periodic), the volumes of the cells
  // the fluxes take their fractions of and their inverses on [-1, nx] (null: the row's uniform
  // area), their sum `total` where some face sweeps past the whole circle (0 otherwise).
  struct XSweep {
    const real_t* swept;
    const real_t* vol;
    const real_t* inv_vol;
    real_t area, total;
  };

  // Bounded limiter, zonal: where the departure point of each face lies (the cell k the face's
  // flux takes its fraction of, walking over whole cells as the flux does, and the cut point in
  // it), then every parabola of cells [0, nx) scaled so that the means over the pieces between
  // its cuts are inside [lo, hi] (ppm_bound_cut_line): all the means a flux-form sweep takes.
  // A cell cut more than twice (characteristics bunched into one cell) is bounded whole. The
  // periodic duplicates -1 and nx take the results of nx - 1 and 0.
  void x_bound(const real_t* p, const XSweep& sw, real_t* al, real_t* ar) const {
    const real_t *vol = sw.vol, *inv = sw.inv_vol;
    if (!vol) {
      real_t* v = L.line(kBoundVol);
      real_t* u = L.line(kBoundInv);
      std::fill(v - 1, v + nx + 1, sw.area);
      std::fill(u - 1, u + nx + 1, 1.0 / sw.area);
      vol = v;
      inv = u;
    }
    real_t* c0 = L.line(kBoundCut0);
    real_t* c1 = L.line(kBoundCut1);
    real_t* count = L.line(kBoundCount);
    std::fill(c0, c0 + nx, 0.0);
    std::fill(c1, c1 + nx, 1.0);
    std::fill(count, count + nx, 0.0);
    const auto cut = [&](index_t k, real_t pos) {
      if (!(pos > 0 && pos < 1)) return;
      if (count[k] == 0) {
        c0[k] = c1[k] = pos;
      } else if (count[k] == 1) {
        c0[k] = std::min(c0[k], pos);
        c1[k] = std::max(c1[k], pos);
      } else {
        c0[k] = std::numeric_limits<real_t>::quiet_NaN();  // bounded whole
      }
      count[k] += 1;
    };
    for (index_t i = 0; i < nx; ++i) {
      const real_t x = sw.swept[i];
      if (x == 0) continue;
      real_t rem = std::abs(x);
      if (sw.total > 0 && rem >= sw.total) remove_whole_turns(rem, sw.total);
      const auto skip = [](index_t) {};
      if (x > 0) {
        const index_t k = walk_whole_cells<true>(i, vol, nx, rem, skip);
        cut(k, 1.0 - rem * inv[k]);
      } else {
        const index_t k = walk_whole_cells<false>(i, vol, nx, rem, skip);
        cut(k, rem * inv[k]);
      }
    }
    ppm_bound_cut_line(p, c0, c1, lo, hi, nx, al, ar);
    al[-1] = al[nx - 1];
    ar[-1] = ar[nx - 1];
    al[nx] = al[0];
    ar[nx] = ar[0];
  }

  // Reconstruction of the padded row p (valid on [-kH, nx + kH)): a0/a1 on cells [-1, nx].
  void x_reconstruct(const real_t* p, const XSweep& sw, const real_t*& a0,
                     const real_t*& a1) const {
    real_t* s = L.line(kX + 1);
    real_t* e = L.line(kX + 2);
    if constexpr (ppm) {
      // Slopes of cells [-2, nx + 1], interfaces [-1, nx + 1], edges of cells [-1, nx].
      if (limited) sphere_slope_line(lim, p - 3, p - 2, p - 1, nx + 4, s - 2);
      ppm_interface_line(lim, p - 3, p - 2, p - 1, p, s - 2, s - 1, nx + 3, e - 1);
      if (limited) {
        real_t* al = L.line(kX + 3);
        real_t* ar = L.line(kX + 4);
        if (lim == SphereLimiter::extremum_preserving)
          ppm_edge_line_ep(p - 2, p - 1, p, s - 2, s - 1, s, e - 1, e, nx + 2, al - 1, ar - 1);
        else
          ppm_edge_line(lim, p - 1, e - 1, e, nx + 2, al - 1, ar - 1);
        if (bound) x_bound(p, sw, al, ar);
        a0 = al;
        a1 = ar;
      } else {
        a0 = e;
        a1 = e + 1;
      }
    } else {
      sphere_slope_line(lim, p - 2, p - 1, p, nx + 2, s - 1);
      a0 = s;
      a1 = s;
    }
  }

  // Zonal fluxes F[0..nx] of the padded row p of local row r (cells of area A).
  void x_fluxes(const real_t* p, index_t r, real_t* F) const {
    const real_t *a0, *a1;
    const bool wide = w.wide_row[size_t(r + kH)] != 0;
    x_reconstruct(p, {xa(r), nullptr, nullptr, area(r), area(r) * real_t(nx)}, a0, a1);
    sphere_x_flux_row(recon, p, a0, a1, xa(r), area(r), inv_area(r), nx, wide, F);
  }

  real_t* fq_row(index_t r) const { return L.line(kFq + slot<kQxRing>(r)); }
  real_t* inv_vx_row(index_t r) const { return L.line(kInvVx + slot<kQxRing>(r)); }

  // qx of local row r (a real row): the zonal inner update over the deformed areas; the zonal
  // fluxes of q are kept for the outer update.
  void make_qx(index_t r) const {
    if (air) return make_qx_tracer(r);
    const real_t* x = xa(r);
    const real_t a = area(r);
    w.wide_row[size_t(r + kH)] = any_at_least(x, a, nx);
    real_t* F = fq_row(r);
    const real_t* p = qrow(r);
    x_fluxes(p, r, F);
    deformed_x_row(p, F, x, a, nx, qxrow(r), L.line(kX + 6), inv_vx_row(r));
    if (rec) std::copy(F, F + nx + 1, rec->xb_row(r));
  }

  // Tracer step: qx of row r over the air masses of the zonal inner update, with tracer fluxes
  // = the density step's air-mass fluxes times the means of q over the swept mass fractions
  // (whole upwind cells m_k q_k where a flux takes more than the upwind cell's air mass).
  void make_qx_tracer(index_t r) const {
    const real_t* p = qrow(r);
    real_t* m = L.line(kMass);
    real_t* inv_m = L.line(kInvMass);
    mass_line(rhorow(r), area(r), -1, nx + 1, m, inv_m);
    const real_t* M = air->xb_row(r);
    const bool wide = any_reaches_cell(M, m, nx);
    real_t total = 0;
    if (wide)
      for (index_t i = 0; i < nx; ++i) total += m[i];
    const real_t *a0, *a1;
    x_reconstruct(p, {M, m, inv_m, 0, total}, a0, a1);
    real_t* F = fq_row(r);
    sphere_x_flux_cells(recon, p, a0, a1, M, m, inv_m, total, nx, wide, F);
    mass_x_row(p, m, F, M, nx, qxrow(r), L.line(kX + 6), inv_vx_row(r));
  }

  // Cross-pole ghost row r of qx: the mirrored cells of the row it reflects.
  void mirror_qx(index_t r) const {
    const index_t gr = j0 + r;
    const index_t src = (gr < 0 ? -1 - gr : 2 * ny - 1 - gr) - j0;
    for (auto line : {&LinRood::qxrow, &LinRood::inv_vx_row}) {
      const real_t* s = (this->*line)(src);
      real_t* d = (this->*line)(r);
      for (index_t i = 0; i < half; ++i) d[i] = s[i + half];
      for (index_t i = half; i < nx; ++i) d[i] = s[i - half];
    }
  }

  void ensure_qx(index_t r) const {
    if (real_row(r))
      make_qx(r);
    else
      mirror_qx(r);
  }

  template <class Row>
  void y_slope(const YRings& y, Row row, index_t r) const {
    sphere_slope_line(lim, row(r - 1), row(r), row(r + 1), nx, y.slope(r));
  }
  template <class Row>
  void y_iface(const YRings& y, Row row, index_t r) const {
    ppm_interface_line(lim, row(r - 2), row(r - 1), row(r), row(r + 1), y.slope(r - 1), y.slope(r),
                       nx, y.iface(r));
  }
  template <class Row>
  void y_edges(const YRings& y, Row row, index_t r) const {
    if (lim == SphereLimiter::extremum_preserving)
      ppm_edge_line_ep(row(r - 1), row(r), row(r + 1), y.slope(r - 1), y.slope(r), y.slope(r + 1),
                       y.iface(r), y.iface(r + 1), nx, y.al(r), y.ar(r));
    else if (lim == SphereLimiter::monotone)
      ppm_edge_line(lim, row(r), y.iface(r), y.iface(r + 1), nx, y.al(r), y.ar(r));
    if (bound) ppm_bound_line(row(r), lo, hi, nx, y.al(r), y.ar(r));
  }
  const real_t* y_a0(const YRings& y, index_t r) const {
    if constexpr (ppm) return limited ? y.al(r) : y.iface(r);
    return y.slope(r);
  }
  const real_t* y_a1(const YRings& y, index_t r) const {
    if constexpr (ppm) return limited ? y.ar(r) : y.iface(r + 1);
    return y.slope(r);
  }
  // Reconstruction stages that row r of the meridional sweep needs (see run()).
  template <class Row>
  void y_stage(const YRings& y, Row row, index_t r) const {
    const bool slopes = !ppm || limited;
    if (slopes) y_slope(y, row, r + 1);
    if constexpr (ppm) {
      y_iface(y, row, r + 1);
      y_edges(y, row, r);
    }
  }
  // Meridional fluxes of q (cells of area A) and of qx (cells of the zonally deformed areas).
  void y_flux_q(index_t jf) const {
    if (air) {
      mass_line(rhorow(jf), area(jf), 0, nx, L.line(kX + 6), inv_mass_y(jf));
      sphere_y_flux_cells(recon, qrow(jf - 1), y_a0(yq, jf - 1), y_a1(yq, jf - 1),
                          inv_mass_y(jf - 1), qrow(jf), y_a0(yq, jf), y_a1(yq, jf), inv_mass_y(jf),
                          air->yb_row(jf), nx, yq.flux(jf));
      return;
    }
    sphere_y_flux_line(recon, qrow(jf - 1), y_a0(yq, jf - 1), y_a1(yq, jf - 1), inv_area(jf - 1),
                       qrow(jf), y_a0(yq, jf), y_a1(yq, jf), inv_area(jf), ya(jf), nx, yq.flux(jf));
    if (rec) std::copy(yq.flux(jf), yq.flux(jf) + nx, rec->yb_row(jf));
  }
  void y_flux_qx(index_t jf) const {
    sphere_y_flux_cells(recon, qxrow(jf - 1), y_a0(yqx, jf - 1), y_a1(yqx, jf - 1),
                        inv_vx_row(jf - 1), qxrow(jf), y_a0(yqx, jf), y_a1(yqx, jf), inv_vx_row(jf),
                        air ? air->ya_row(jf) : ya(jf), nx, yqx.flux(jf));
    if (rec) std::copy(yqx.flux(jf), yqx.flux(jf) + nx, rec->ya_row(jf));
  }

  // Periodic ghosts of an inner-updated zonal row qy and of its deformed volumes, whether some
  // face's swept amount reaches past its upwind cell (`wide`), and then the row's total volume
  // for the integer shift (a serial sum, its order fixed; 0 when not wide).
  real_t wrap_deformed_row(real_t* qy, real_t* vol, real_t* inv_vol, const real_t* swept,
                           bool& wide) const {
    for (index_t i = 1; i <= kH; ++i) {
      qy[-i] = qy[nx - i];
      qy[nx - 1 + i] = qy[i - 1];
    }
    vol[-1] = vol[nx - 1];
    inv_vol[-1] = inv_vol[nx - 1];
    vol[nx] = vol[0];
    inv_vol[nx] = inv_vol[0];
    wide = any_reaches_cell(swept, vol, nx);
    real_t total = 0;
    if (wide)
      for (index_t i = 0; i < nx; ++i) total += vol[i];
    return total;
  }

  // Owned row r: qy (the meridional inner update over the deformed areas), its zonal fluxes
  // over those areas, and the new values.
  void finish(index_t r) const {
    if (air) return finish_tracer(r);
    const real_t* p = qrow(r);
    const real_t* x = xa(r);
    real_t* qy = L.line(kX);
    real_t* vol = L.line(kX + 6);
    real_t* inv_vol = L.line(kX + 7);
    deformed_y_line(p, yq.flux(r), yq.flux(r + 1), ya(r), ya(r + 1), area(r), nx, qy, vol, inv_vol);
    bool wide = false;
    const real_t total = wrap_deformed_row(qy, vol, inv_vol, x, wide);
    const real_t *a0, *a1;
    x_reconstruct(qy, {x, vol, inv_vol, 0, total}, a0, a1);
    real_t* F = L.line(kX + 5);
    sphere_x_flux_cells(recon, qy, a0, a1, x, vol, inv_vol, total, nx, wide, F);
    outer_row(p, F, fq_row(r), yqx.flux(r), yqx.flux(r + 1), yq.flux(r), yq.flux(r + 1),
              inv_area(r), nx, &out(0, r));
    if (rec) std::copy(F, F + nx + 1, rec->xa_row(r));
  }

  // Tracer step, owned row r: qy over the air masses of the meridional inner update, its zonal
  // fluxes (the density step's air-mass fluxes of the outer update times means of qy over swept
  // mass fractions of those air masses), and the new tracer density.
  void finish_tracer(index_t r) const {
    const real_t* p = qrow(r);
    const real_t* rr = rhorow(r);
    real_t* qy = L.line(kX);
    real_t* vol = L.line(kX + 6);
    real_t* inv_vol = L.line(kX + 7);
    mass_y_line(p, rr, area(r), yq.flux(r), yq.flux(r + 1), air->yb_row(r), air->yb_row(r + 1), nx,
                qy, vol, inv_vol);
    const real_t* M = air->xa_row(r);
    bool wide = false;
    const real_t total = wrap_deformed_row(qy, vol, inv_vol, M, wide);
    const real_t *a0, *a1;
    x_reconstruct(qy, {M, vol, inv_vol, 0, total}, a0, a1);
    real_t* F = L.line(kX + 5);
    sphere_x_flux_cells(recon, qy, a0, a1, M, vol, inv_vol, total, nx, wide, F);
    // The tracer density rho q: exactly rho for q = 1, so a uniform q = 1 gives bitwise the
    // density step's result.
    real_t* tq = L.line(kMass);
    for (index_t i = 0; i < nx; ++i) tq[i] = rr[i] * p[i];
    outer_row(tq, F, fq_row(r), yqx.flux(r), yqx.flux(r + 1), yq.flux(r), yq.flux(r + 1),
              inv_area(r), nx, &out(0, r));
  }

  // The pipeline over face rows jf = 0..nj. At iteration jf: qx row jf + 2 is made; slopes of
  // row jf + 1 (rows jf..jf+2), interfaces of face row jf + 1 (rows jf-1..jf+2), edges of
  // row jf, meridional fluxes through face row jf (cells jf-1, jf) of q and qx; then owned
  // row jf - 1 is complete. Rows of q are read only at or above jf - 1 after row jf - 1 is
  // written, which makes out == q safe.
  void run() const {
    auto qr = [this](index_t r) { return qrow(r); };
    auto xr = [this](index_t r) -> const real_t* { return qxrow(r); };
    // Prologue: qx rows [-3, 2] (real rows first: the mirrored ones copy rows 0..2), and the
    // stages of rows -2..-1 so that iteration 0 finds slopes -1..0, interfaces -1..0, edges -1.
    for (index_t r = -kH; r < kH; ++r)
      if (real_row(r)) make_qx(r);
    for (index_t r = -kH; r < kH; ++r)
      if (!real_row(r)) mirror_qx(r);
    const bool slopes = !ppm || limited;
    if (slopes) {
      y_slope(yq, qr, -2);
      y_slope(yq, qr, -1);
      y_slope(yqx, xr, -2);
      y_slope(yqx, xr, -1);
    }
    if constexpr (ppm) {
      y_iface(yq, qr, -1);
      y_iface(yqx, xr, -1);
    }
    y_stage(yq, qr, -1);
    y_stage(yqx, xr, -1);
    if (air) mass_line(rhorow(-1), area(-1), 0, nx, L.line(kX + 6), inv_mass_y(-1));
    for (index_t jf = 0; jf <= nj; ++jf) {
      if (jf >= 1) ensure_qx(jf + 2);
      y_stage(yq, qr, jf);
      y_stage(yqx, xr, jf);
      y_flux_q(jf);
      y_flux_qx(jf);
      if (jf >= 1) finish(jf - 1);
    }
  }
};

}  // namespace

SphereWork::SphereWork(const SphereGrid& g)
    : nlon(g.nlon()), lat_count(g.lat_count()), lat_start(g.lat_start()), nlat(g.nlat()) {
  const size_t rows = size_t(lat_count + 2 * kH);
  area.resize(rows);
  inv_area.resize(rows);
  for (index_t r = -kH; r < lat_count + kH; ++r) {
    index_t gr = lat_start + r;
    if (gr < 0) gr = -1 - gr;
    if (gr >= nlat) gr = 2 * nlat - 1 - gr;
    area[size_t(r + kH)] = g.area(gr);
    inv_area[size_t(r + kH)] = 1.0 / g.area(gr);
  }
  wide_row.assign(rows, 0);
  buf.assign(size_t(kLines * (nlon + 2 * kH)), 0.0);
}

SphereCourant sphere_courant_local(const SphereGrid& g, const SphereFaceFluxes& f) {
  // Row maxima with four running maxima each (one is a chain of dependent compares; max is
  // exact in any order); the column of the largest |cy| is searched only in a row that raises
  // it, so the first column of the first row with the largest value is reported, as by a scan.
  auto row_max = [](const real_t* v, index_t n, auto&& value) {
    real_t m0 = 0, m1 = 0, m2 = 0, m3 = 0;
    index_t i = 0;
    for (; i + 4 <= n; i += 4) {
      m0 = std::max(m0, value(v[i]));
      m1 = std::max(m1, value(v[i + 1]));
      m2 = std::max(m2, value(v[i + 2]));
      m3 = std::max(m3, value(v[i + 3]));
    }
    for (; i < n; ++i) m0 = std::max(m0, value(v[i]));
    return std::max(std::max(m0, m1), std::max(m2, m3));
  };
  SphereCourant c;
  const index_t nx = g.nlon(), nj = g.lat_count(), j0 = g.lat_start(), ny = g.nlat();
  for (index_t jf = 0; jf <= nj; ++jf) {
    const index_t gf = j0 + jf;
    if (gf == 0 || gf == ny) continue;  // pole edges carry no flux
    const real_t inv_s = 1.0 / g.area(gf - 1), inv_n = 1.0 / g.area(gf);
    const real_t* y = f.ya.data() + jf * nx;
    // |cy| of the upwind cell: y inv_s for y > 0, -y inv_n else (the other term is <= 0).
    auto cy = [inv_s, inv_n](real_t v) { return std::max(v * inv_s, -v * inv_n); };
    const real_t m = row_max(y, nx, cy);
    if (m > c.max_cy) {
      c.max_cy = m;
      c.cy_face_row = gf;
      for (index_t i = 0; i < nx; ++i)
        if (cy(y[i]) == m) {
          c.cy_column = i;
          break;
        }
    }
  }
  const index_t h = g.halo();
  for (index_t r = 0; r < nj; ++r) {
    const real_t inv = 1.0 / g.area(j0 + r);
    const real_t* x = f.xa.data() + (r + h) * nx;
    c.max_cx = std::max(c.max_cx, row_max(x, nx, [inv](real_t v) { return std::abs(v) * inv; }));
  }
  return c;
}

AEOLUS_SPHERE_CLONES
void sphere_slope_line(SphereLimiter lim, const real_t* AEOLUS_RESTRICT m1,
                       const real_t* AEOLUS_RESTRICT p0, const real_t* AEOLUS_RESTRICT p1,
                       index_t n, real_t* AEOLUS_RESTRICT s) {
  if (lim == SphereLimiter::monotone) {
    for (index_t i = 0; i < n; ++i) s[i] = mc_slope(m1[i], p0[i], p1[i]);
  } else if (lim == SphereLimiter::extremum_preserving) {
    for (index_t i = 0; i < n; ++i) s[i] = (m1[i] + p1[i]) - 2.0 * p0[i];
  } else {
    for (index_t i = 0; i < n; ++i) s[i] = 0.5 * (p1[i] - m1[i]);
  }
}

AEOLUS_SPHERE_CLONES
void ppm_interface_line(SphereLimiter lim, const real_t* AEOLUS_RESTRICT m2,
                        const real_t* AEOLUS_RESTRICT m1, const real_t* AEOLUS_RESTRICT p0,
                        const real_t* AEOLUS_RESTRICT p1, const real_t* AEOLUS_RESTRICT sm1,
                        const real_t* AEOLUS_RESTRICT sp0, index_t n, real_t* AEOLUS_RESTRICT e) {
  if (lim == SphereLimiter::monotone) {
    // CW84 (1.6): 1/2 (m1 + p0) - (sp0 - sm1) / 6; exactly the mean for a uniform field.
    for (index_t i = 0; i < n; ++i) e[i] = 0.5 * (m1[i] + p0[i]) - (1.0 / 6.0) * (sp0[i] - sm1[i]);
  } else {
    // 7/12 (m1 + p0) - 1/12 (m2 + p1), written so that a uniform field gives its value exactly.
    for (index_t i = 0; i < n; ++i) {
      const real_t inner = m1[i] + p0[i], outer = m2[i] + p1[i];
      e[i] = 0.5 * inner + (1.0 / 12.0) * (inner - outer);
    }
    if (lim != SphereLimiter::extremum_preserving) return;
    // Colella & Sekora (2008, JCP 227) eqs. (18)-(19), as in McCorquodale & Colella (2011,
    // CAMCoS 6) sec. 2.4.1: where the value is not between its two cells, replace it by the
    // mean minus a limited second derivative (C = 1.25; zero unless the three second
    // differences, sm1/sp0 = the cells' curvatures, agree in sign).
    for (index_t i = 0; i < n; ++i) {
      const real_t a = e[i];
      const real_t d2 = 3.0 * ((m1[i] + p0[i]) - 2.0 * a), d2l = sm1[i], d2r = sp0[i];
      const bool same = (d2 > 0 && d2l > 0 && d2r > 0) || (d2 < 0 && d2l < 0 && d2r < 0);
      const real_t lim2 =
          same ? std::copysign(std::min({kCs * std::abs(d2l), kCs * std::abs(d2r), std::abs(d2)}),
                               d2)
               : 0.0;
      if ((a - m1[i]) * (p0[i] - a) < 0) e[i] = 0.5 * (m1[i] + p0[i]) - (1.0 / 6.0) * lim2;
    }
  }
}

AEOLUS_SPHERE_CLONES
void ppm_edge_line_ep(const real_t* qm1, const real_t* q, const real_t* qp1, const real_t* cm1,
                      const real_t* c0, const real_t* cp1, const real_t* e_lo, const real_t* e_hi,
                      index_t n, real_t* al, real_t* ar) {
  // Colella & Sekora (2008) eqs. (20)-(26) with the extremum test of McCorquodale & Colella
  // (2011) eqs. (2.29)-(2.31) (as in Athena++ ppm.cpp): at a cell or parabola extremum, the
  // parabola's curvature d2 = 6 (al + ar - 2 q) is scaled to the smallest of C times the three
  // cell curvatures and |d2| where they all agree in sign (a smooth extremum keeps its shape),
  // else flattened; elsewhere the CW84 steepening.
  for (index_t i = 0; i < n; ++i) {
    const real_t c = q[i];
    real_t l = e_lo[i], r = e_hi[i];
    const real_t dm = c - l, dp = r - c;
    if (dm * dp <= 0 || (qp1[i] - c) * (c - qm1[i]) <= 0) {
      const real_t d2 = 6.0 * ((l + r) - 2.0 * c);
      const bool same = (d2 > 0 && cm1[i] > 0 && c0[i] > 0 && cp1[i] > 0) ||
                        (d2 < 0 && cm1[i] < 0 && c0[i] < 0 && cp1[i] < 0);
      const real_t lim2 = same ? std::min({kCs * std::abs(cm1[i]), kCs * std::abs(c0[i]),
                                           kCs * std::abs(cp1[i]), std::abs(d2)})
                               : 0.0;
      const real_t scale = std::max({std::abs(qm1[i]), std::abs(c), std::abs(qp1[i])});
      const real_t rho = std::abs(d2) > 1e-12 * scale ? lim2 / std::abs(d2) : 0.0;
      if (rho <= 1.0 - 1e-12) {
        l = c - rho * dm;
        r = c + rho * dp;
      }
    } else {
      if (std::abs(dm) >= 2.0 * std::abs(dp)) l = c - 2.0 * dp;
      if (std::abs(dp) >= 2.0 * std::abs(dm)) r = c + 2.0 * dm;
    }
    al[i] = l;
    ar[i] = r;
  }
}

namespace {

// Scales the parabola of mean c and edges l, r about c, a' = c + theta (a - c), with the largest
// theta in [0, 1] that brings values vmax >= c >= vmin of it (which scale alike) into [lo, hi]; a
// mean outside the range (round-off) flattens it.
inline void scale_into_range(real_t c, real_t vmax, real_t vmin, real_t lo, real_t hi, real_t& l,
                             real_t& r) {
  real_t theta = 1.0;
  if (vmax > hi) theta = std::min(theta, (hi - c) / (vmax - c));
  if (vmin < lo) theta = std::min(theta, (c - lo) / (c - vmin));
  if (!(theta >= 1.0)) {
    theta = std::max(theta, 0.0);
    l = c + theta * (l - c);
    r = c + theta * (r - c);
  }
}

}  // namespace

// The largest theta in [0, 1] with q + theta (P(x) - q) in [lo, hi] over the cell: the values
// of the parabola P are its edges and, where |dq| < |q6|, its extremum q + dq^2 / (4 q6) + q6 /
// 12 at x = 1/2 + dq / (2 q6) (P(x) = q + dq (x - 1/2) + q6 (x (1 - x) - 1/6)).
AEOLUS_SPHERE_CLONES
void ppm_bound_line(const real_t* q, real_t lo, real_t hi, index_t n, real_t* al, real_t* ar) {
  for (index_t i = 0; i < n; ++i) {
    const real_t c = q[i], l = al[i], r = ar[i];
    const real_t dq = r - l, q6 = 6.0 * c - 3.0 * (l + r);
    real_t pmax = std::max(l, r), pmin = std::min(l, r);
    if (std::abs(dq) < std::abs(q6)) {
      const real_t ext = c + dq * dq / (4.0 * q6) + q6 / 12.0;
      pmax = std::max(pmax, ext);
      pmin = std::min(pmin, ext);
    }
    scale_into_range(c, pmax, pmin, lo, hi, al[i], ar[i]);
  }
}

// The same with the weaker condition of a flux-form sweep: cell i is cut at c0[i] <= c1[i] (the
// departure points of faces inside it; c0 = 0 / c1 = 1 where there is none, c0 NaN: bound the
// whole parabola), and only the means over the pieces [0, c0], [c0, c1], [c1, 1] must lie in
// [lo, hi]. The mean of P over [a, b] is
//   q + dq ((a + b)/2 - 1/2) + q6 ((a + b)/2 - (a^2 + a b + b^2)/3 - 1/6).
AEOLUS_SPHERE_CLONES
void ppm_bound_cut_line(const real_t* q, const real_t* c0, const real_t* c1, real_t lo, real_t hi,
                        index_t n, real_t* al, real_t* ar) {
  auto mean = [](real_t c, real_t dq, real_t q6, real_t a, real_t b) {
    const real_t m = 0.5 * (a + b);
    return c + dq * (m - 0.5) + q6 * (m - (a * a + a * b + b * b) / 3.0 - 1.0 / 6.0);
  };
  for (index_t i = 0; i < n; ++i) {
    if (!(c0[i] == c0[i])) {
      ppm_bound_line(q + i, lo, hi, 1, al + i, ar + i);
      continue;
    }
    const real_t c = q[i], l = al[i], r = ar[i];
    const real_t dq = r - l, q6 = 6.0 * c - 3.0 * (l + r);
    const real_t cuts[4] = {0.0, c0[i], c1[i], 1.0};
    real_t mmax = c, mmin = c;
    for (int j = 0; j < 3; ++j) {
      if (!(cuts[j + 1] > cuts[j])) continue;
      const real_t m = mean(c, dq, q6, cuts[j], cuts[j + 1]);
      mmax = std::max(mmax, m);
      mmin = std::min(mmin, m);
    }
    scale_into_range(c, mmax, mmin, lo, hi, al[i], ar[i]);
  }
}

AEOLUS_SPHERE_CLONES
void ppm_edge_line(SphereLimiter lim, const real_t* AEOLUS_RESTRICT q,
                   const real_t* AEOLUS_RESTRICT e_lo, const real_t* AEOLUS_RESTRICT e_hi,
                   index_t n, real_t* AEOLUS_RESTRICT al, real_t* AEOLUS_RESTRICT ar) {
  if (lim == SphereLimiter::none) {
    std::copy(e_lo, e_lo + n, al);
    std::copy(e_hi, e_hi + n, ar);
    return;
  }
  // CW84 (1.10): at a local extremum the parabola is flattened to the mean; otherwise the edge
  // opposite the side where the parabola would overshoot is moved so that the extremum lies on
  // that cell edge (al = 3q - 2ar or ar = 3q - 2al; the two cases exclude each other). In
  // median form (min/max only, so the loop vectorises):
  //   al = median(al, 3q - 2ar, q),  ar = median(ar, 3q - 2al, q)
  // For monotone al < q < ar this is max(al, 3q - 2ar) and min(ar, 3q - 2al), CW84's two
  // conditions (dq q6 > dq^2 is al < 3q - 2ar); at an extremum both 3q - 2a lie beyond q on the
  // far side, so the median is q: the flattening.
  auto median = [](real_t a, real_t b, real_t c) {
    return std::max(std::min(a, b), std::min(std::max(a, b), c));
  };
  for (index_t i = 0; i < n; ++i) {
    const real_t c = q[i], l = e_lo[i], r = e_hi[i];
    al[i] = median(l, 3.0 * c - 2.0 * r, c);
    ar[i] = median(r, 3.0 * c - 2.0 * l, c);
  }
}

AEOLUS_SPHERE_CLONES
void sphere_x_flux_row(SphereReconstruction r, const real_t* q, const real_t* a0, const real_t* a1,
                       const real_t* xa, real_t area, real_t inv_area, index_t nlon, bool wide,
                       real_t* F) {
  if (r == SphereReconstruction::ppm) {
    if (wide)
      x_flux_wide<Ppm>(q, a0, a1, xa, area, inv_area, nlon, F);
    else
      x_flux_narrow<Ppm>(q, a0, a1, xa, inv_area, nlon, F);
  } else {
    if (wide)
      x_flux_wide<VanLeer>(q, a0, a1, xa, area, inv_area, nlon, F);
    else
      x_flux_narrow<VanLeer>(q, a0, a1, xa, inv_area, nlon, F);
  }
}

AEOLUS_SPHERE_CLONES
void sphere_y_flux_line(SphereReconstruction r, const real_t* qs, const real_t* a0s,
                        const real_t* a1s, real_t inv_s, const real_t* qn, const real_t* a0n,
                        const real_t* a1n, real_t inv_n, const real_t* ya, index_t n, real_t* G) {
  if (r == SphereReconstruction::ppm)
    y_flux_line<Ppm>(qs, a0s, a1s, inv_s, qn, a0n, a1n, inv_n, ya, n, G);
  else
    y_flux_line<VanLeer>(qs, a0s, a1s, inv_s, qn, a0n, a1n, inv_n, ya, n, G);
}

AEOLUS_SPHERE_CLONES
void sphere_x_flux_cells(SphereReconstruction r, const real_t* q, const real_t* a0,
                         const real_t* a1, const real_t* xa, const real_t* vol,
                         const real_t* inv_vol, real_t total, index_t nlon, bool wide, real_t* F) {
  if (r == SphereReconstruction::ppm)
    x_flux_cells<Ppm>(q, a0, a1, xa, vol, inv_vol, total, nlon, wide, F);
  else
    x_flux_cells<VanLeer>(q, a0, a1, xa, vol, inv_vol, total, nlon, wide, F);
}

AEOLUS_SPHERE_CLONES
void sphere_y_flux_cells(SphereReconstruction r, const real_t* qs, const real_t* a0s,
                         const real_t* a1s, const real_t* inv_s, const real_t* qn,
                         const real_t* a0n, const real_t* a1n, const real_t* inv_n,
                         const real_t* ya, index_t n, real_t* G) {
  if (r == SphereReconstruction::ppm)
    y_flux_cells<Ppm>(qs, a0s, a1s, inv_s, qn, a0n, a1n, inv_n, ya, n, G);
  else
    y_flux_cells<VanLeer>(qs, a0s, a1s, inv_s, qn, a0n, a1n, inv_n, ya, n, G);
}

namespace {

void check_step(const SphereGrid& g, const SphereFaceFluxes& f, ConstFieldView q, FieldView out,
                const SphereWork& w) {
  const index_t nx = g.nlon(), nj = g.lat_count();
  auto bad = [](const std::string& what) { throw ConfigError("sphere transport kernel: " + what); };
  if (g.halo() < kH) bad("grid halo " + std::to_string(g.halo()) + " < 3");
  if (q.hx < kH || q.hy < kH)
    bad("field halo " + std::to_string(q.hx) + "x" + std::to_string(q.hy) + " < 3");
  if (q.nx != nx || q.ny != nj || out.nx != nx || out.ny != nj)
    bad("field of " + std::to_string(q.nx) + "x" + std::to_string(q.ny) + " owned cells on a " +
        std::to_string(nx) + "x" + std::to_string(nj) + " rank block");
  if (index_t(f.xa.size()) != (nj + 2 * g.halo()) * nx || index_t(f.ya.size()) != (nj + 1) * nx)
    bad("swept areas sized " + std::to_string(f.xa.size()) + "/" + std::to_string(f.ya.size()) +
        " for a " + std::to_string(nx) + "x" + std::to_string(nj) + " rank block");
  if (w.nlon != nx || w.lat_count != nj || w.lat_start != g.lat_start() || w.nlat != g.nlat())
    bad("work buffers built for another grid");
}

void check_air(const SphereGrid& g, const SphereAirFluxes& a) {
  if (a.nlon != g.nlon() || a.lat_count != g.lat_count())
    throw ConfigError("sphere transport kernel: air-mass fluxes sized for " +
                      std::to_string(a.nlon) + "x" + std::to_string(a.lat_count) + " on a " +
                      std::to_string(g.nlon()) + "x" + std::to_string(g.lat_count()) +
                      " rank block");
}

template <class R>
void run_step(const SphereGrid& g, const SphereScheme& s, const SphereFaceFluxes& f,
              ConstFieldView q, FieldView out, SphereWork& w, SphereAirFluxes* rec,
              const SphereAirFluxes* air, ConstFieldView rho) {
  if (s.limiter == SphereLimiter::bounded &&
      !(std::isfinite(s.lower) && std::isfinite(s.upper) && s.lower <= s.upper)) {
    std::ostringstream os;
    os << "sphere transport kernel: limiter 'bounded' needs the field's range (SphereScheme "
          "lower <= upper, both finite), got ["
       << s.lower << ", " << s.upper << "]";
    throw ConfigError(os.str());
  }
  LinRood<R> k(g, s, f, q, out, w);
  k.rec = rec;
  k.air = air;
  k.rho = rho;
  k.run();
}

}  // namespace

SphereAirFluxes::SphereAirFluxes(const SphereGrid& g)
    : nlon(g.nlon()),
      lat_count(g.lat_count()),
      xb(size_t((g.lat_count() + 2 * kH) * (g.nlon() + 1))),
      xa(size_t(g.lat_count() * (g.nlon() + 1))),
      yb(size_t((g.lat_count() + 1) * g.nlon())),
      ya(size_t((g.lat_count() + 1) * g.nlon())) {}

void lin_rood_step_2d(const SphereGrid& g, const SphereScheme& s, const SphereFaceFluxes& f,
                      ConstFieldView q, FieldView out, SphereWork& w, SphereAirFluxes* record) {
  check_step(g, f, q, out, w);
  if (record) check_air(g, *record);
  if (s.reconstruction == SphereReconstruction::ppm)
    run_step<Ppm>(g, s, f, q, out, w, record, nullptr, q);
  else
    run_step<VanLeer>(g, s, f, q, out, w, record, nullptr, q);
}

void lin_rood_tracer_step_2d(const SphereGrid& g, const SphereScheme& s, const SphereFaceFluxes& f,
                             const SphereAirFluxes& air, ConstFieldView rho, ConstFieldView q,
                             FieldView out, SphereWork& w) {
  check_step(g, f, q, out, w);
  check_air(g, air);
  if (rho.hx < kH || rho.hy < kH || rho.nx != g.nlon() || rho.ny != g.lat_count())
    throw ConfigError("sphere transport kernel: density of " + std::to_string(rho.nx) + "x" +
                      std::to_string(rho.ny) + " owned cells, halo " + std::to_string(rho.hx) +
                      "x" + std::to_string(rho.hy) + ", on a " + std::to_string(g.nlon()) + "x" +
                      std::to_string(g.lat_count()) + " rank block with halo >= 3");
  if (s.reconstruction == SphereReconstruction::ppm)
    run_step<Ppm>(g, s, f, q, out, w, nullptr, &air, rho);
  else
    run_step<VanLeer>(g, s, f, q, out, w, nullptr, &air, rho);
}

void lin_rood_step_2d(const SphereGrid& g, const SphereSchemeParams& s, const SphereFaceFluxes& f,
                      ConstFieldView q, FieldView out, SphereWork& w) {
  lin_rood_step_2d(g, sphere_scheme_from_params(s), f, q, out, w);
}

}  // namespace aeolus
