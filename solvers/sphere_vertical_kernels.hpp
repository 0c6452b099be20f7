#pragma once
// Vertical kernels of the 3D sphere transport (solvers/sphere_transport_3d.hpp describes the
// scheme: flux-form PPM in the air-mass coordinate, Colella & Woodward 1984), over the rank's
// owned columns. Free functions over views and raw arrays: no allocation, caller-provided work.
// `w` is laid out as SphereFluxes3d::vertical for a view of nx x ny owned columns and nz levels
// ((kf * ny + j) * nx + i, kf = 0..nz, positive downward, Pa per step); `scale` multiplies it
// (1/2 for a Strang sub-step).
#include <cstddef>

#include "grids/field_view.hpp"
#include "grids/types.hpp"

namespace aeolus {

// Largest swept fraction |scale w| / dp_upwind over all interior interfaces (no reduction), with
// its location.
struct VerticalCourant {
  real_t max_c = 0;
  index_t kf = 0, j = 0, i = 0;  // interface and local column of the maximum
};
VerticalCourant vertical_courant_local(ConstFieldView dp, const real_t* w, real_t scale);

// Air mass: dp_k += scale (w_k - w_{k+1}).
void vertical_air_mass_update(FieldView dp, const real_t* w, real_t scale);

// Tracer mass: qm_k += scale (w_k <q>_k - w_{k+1} <q>_{k+1}), where <q> is the mean of the PPM
// reconstruction of the mixing ratio q (on layer masses dp) over the swept mass of the upwind
// layer. dp, q are at the start of the sub-step; requires all swept fractions < 1 (not checked
// here: see vertical_courant_local). `work` holds at least 6 * (nz + 1) * nx values. qm may
// alias neither dp nor q.
void vertical_ppm_tracer_update(ConstFieldView dp, ConstFieldView q, const real_t* w, real_t scale,
                                FieldView qm, real_t* work);
inline size_t vertical_ppm_work_size(index_t nx, index_t nz) { return size_t(6 * (nz + 1) * nx); }

}  // namespace aeolus
