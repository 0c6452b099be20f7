#include "solvers/sphere_vertical_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aeolus {

namespace {

// CW84 eq. (1.7)-(1.8): limited slope (difference across the cell) of the middle cell of three
// with widths dm, d0, dp.
inline real_t cw_slope(real_t qm, real_t q0, real_t qp, real_t dm, real_t d0, real_t dp) {
  const real_t a = q0 - qm, b = qp - q0;
  if (a * b <= 0) return 0.0;
  const real_t s =
      d0 / (dm + d0 + dp) * ((2.0 * dm + d0) / (dp + d0) * b + (d0 + 2.0 * dp) / (dm + d0) * a);
  const real_t mag = std::min({std::abs(s), 2.0 * std::abs(a), 2.0 * std::abs(b)});
  return std::copysign(mag, s);
}

// CW84 eq. (1.6): value at the interface between cells 0 and 1 of four cells m, 0, 1, 2 with
// widths dm, d0, d1, d2 and limited slopes s0, s1 of cells 0 and 1 (exact for cubics when
// unlimited).
inline real_t cw_interface(real_t q0, real_t q1, real_t dm, real_t d0, real_t d1, real_t d2,
                           real_t s0, real_t s1) {
  const real_t dq = q1 - q0;
  const real_t t1 =
      2.0 * d1 * d0 / (d0 + d1) * ((dm + d0) / (2.0 * d0 + d1) - (d2 + d1) / (2.0 * d1 + d0)) * dq;
  const real_t t2 = -d0 * (dm + d0) / (2.0 * d0 + d1) * s1;
  const real_t t3 = d1 * (d1 + d2) / (d0 + 2.0 * d1) * s0;
  return q0 + d0 / (d0 + d1) * dq + (t1 + t2 + t3) / (dm + d0 + d1 + d2);
}

// CW84 eq. (1.10): monotone edge values of a cell with mean q.
inline void cw_monotone(real_t q, real_t& al, real_t& ar) {
  if ((ar - q) * (q - al) <= 0) {
    al = q;
    ar = q;
    return;
  }
  const real_t da = ar - al, a6 = 6.0 * (q - 0.5 * (al + ar));
  if (da * a6 > da * da) {
    al = 3.0 * q - 2.0 * ar;
  } else if (-da * da > da * a6) {
    ar = 3.0 * q - 2.0 * al;
  }
}

}  // namespace

VerticalCourant vertical_courant_local(ConstFieldView dp, const real_t* w, real_t scale) {
  VerticalCourant c;
  const index_t nx = dp.nx, ny = dp.ny, nz = dp.nz;
  for (index_t kf = 1; kf < nz; ++kf)
    for (index_t j = 0; j < ny; ++j) {
      const real_t* wr = w + (kf * ny + j) * nx;
      const real_t* up = &dp(0, j, kf - 1);
      const real_t* dn = &dp(0, j, kf);
      for (index_t i = 0; i < nx; ++i) {
        const real_t W = scale * wr[i];
        const real_t cr = W > 0 ? W / up[i] : -W / dn[i];
        if (cr > c.max_c || !(cr == cr)) {
          c.max_c = cr == cr ? cr : std::numeric_limits<real_t>::infinity();
          c.kf = kf;
          c.j = j;
          c.i = i;
        }
      }
    }
  return c;
}

void vertical_air_mass_update(FieldView dp, const real_t* w, real_t scale) {
  const index_t nx = dp.nx, ny = dp.ny, nz = dp.nz;
  for (index_t k = 0; k < nz; ++k)
    for (index_t j = 0; j < ny; ++j) {
      const real_t* wt = w + (k * ny + j) * nx;
      const real_t* wb = w + ((k + 1) * ny + j) * nx;
      real_t* d = &dp(0, j, k);
      for (index_t i = 0; i < nx; ++i) d[i] += scale * wt[i] - scale * wb[i];
    }
}

void vertical_ppm_tracer_update(ConstFieldView dp, ConstFieldView q, const real_t* w, real_t scale,
                                FieldView qm, real_t* work) {
  const index_t nx = qm.nx, ny = qm.ny, nz = qm.nz;
  if (nz < 2) return;  // no interior interface
  const index_t stride = (nz + 1) * nx;
  real_t* sl = work;         // limited slopes, cell k at k * nx
  real_t* e = sl + stride;   // interface values, interface kf at kf * nx
  real_t* al = e + stride;   // top edge of cell k
  real_t* ar = al + stride;  // bottom edge of cell k
  real_t* fl = ar + stride;  // tracer flux through interface kf (q Pa), downward
  for (index_t j = 0; j < ny; ++j) {
    for (index_t k = 1; k + 1 < nz; ++k) {
      const real_t *qa = &q(0, j, k - 1), *qb = &q(0, j, k), *qc = &q(0, j, k + 1);
      const real_t *da = &dp(0, j, k - 1), *db = &dp(0, j, k), *dc = &dp(0, j, k + 1);
      real_t* s = sl + k * nx;
      for (index_t i = 0; i < nx; ++i) s[i] = cw_slope(qa[i], qb[i], qc[i], da[i], db[i], dc[i]);
    }
    for (index_t kf = 1; kf < nz; ++kf) {
      const real_t *q0 = &q(0, j, kf - 1), *q1 = &q(0, j, kf);
      const real_t *d0 = &dp(0, j, kf - 1), *d1 = &dp(0, j, kf);
      real_t* ef = e + kf * nx;
      if (kf >= 2 && kf + 2 <= nz) {
        const real_t *dm = &dp(0, j, kf - 2), *d2 = &dp(0, j, kf + 1);
        const real_t *s0 = sl + (kf - 1) * nx, *s1 = sl + kf * nx;
        for (index_t i = 0; i < nx; ++i)
          ef[i] = cw_interface(q0[i], q1[i], dm[i], d0[i], d1[i], d2[i], s0[i], s1[i]);
      } else {
        // Next to the top or the surface: linear interpolation between the two cell centres.
        for (index_t i = 0; i < nx; ++i) ef[i] = q0[i] + d0[i] / (d0[i] + d1[i]) * (q1[i] - q0[i]);
      }
      for (index_t i = 0; i < nx; ++i)
        ef[i] = std::clamp(ef[i], std::min(q0[i], q1[i]), std::max(q0[i], q1[i]));
    }
    for (index_t k = 0; k < nz; ++k) {
      const real_t* qk = &q(0, j, k);
      real_t *l = al + k * nx, *r = ar + k * nx;
      if (k == 0 || k == nz - 1) {
        // Top and surface layers: constant. With no neighbour beyond, any slope would put the
        // mean of the part that stays behind outside the neighbours' range (a new extremum).
        for (index_t i = 0; i < nx; ++i) {
          l[i] = qk[i];
          r[i] = qk[i];
        }
      } else {
        const real_t *et = e + k * nx, *eb = e + (k + 1) * nx;
        for (index_t i = 0; i < nx; ++i) {
          l[i] = et[i];
          r[i] = eb[i];
          cw_monotone(qk[i], l[i], r[i]);
        }
      }
    }
    for (index_t i = 0; i < nx; ++i) {
      fl[i] = 0;
      fl[nz * nx + i] = 0;
    }
    for (index_t kf = 1; kf < nz; ++kf) {
      const real_t* wr = w + (kf * ny + j) * nx;
      const real_t *qu = &q(0, j, kf - 1), *qd = &q(0, j, kf);
      const real_t *du = &dp(0, j, kf - 1), *dd = &dp(0, j, kf);
      const real_t *lu = al + (kf - 1) * nx, *ru = ar + (kf - 1) * nx;
      const real_t *ld = al + kf * nx, *rd = ar + kf * nx;
      real_t* f = fl + kf * nx;
      for (index_t i = 0; i < nx; ++i) {
        const real_t W = scale * wr[i];
        if (W > 0) {
          // Mass leaves the layer above through its bottom: the lowest fraction c of it.
          const real_t c = W / du[i], da = ru[i] - lu[i];
          const real_t a6 = 6.0 * (qu[i] - 0.5 * (lu[i] + ru[i]));
          f[i] = W * (ru[i] - 0.5 * c * (da - (1.0 - 2.0 / 3.0 * c) * a6));
        } else if (W < 0) {
          // Mass leaves the layer below through its top: the highest fraction c of it.
          const real_t c = -W / dd[i], da = rd[i] - ld[i];
          const real_t a6 = 6.0 * (qd[i] - 0.5 * (ld[i] + rd[i]));
          f[i] = W * (ld[i] + 0.5 * c * (da + (1.0 - 2.0 / 3.0 * c) * a6));
        } else {
          f[i] = 0;
        }
      }
    }
    for (index_t k = 0; k < nz; ++k) {
      const real_t *ft = fl + k * nx, *fb = fl + (k + 1) * nx;
      real_t* m = &qm(0, j, k);
      for (index_t i = 0; i < nx; ++i) m[i] += ft[i] - fb[i];
    }
  }
}

}  // namespace aeolus
