#pragma once
// The flux-stencil emulator's per-step kernel, torch-free: once the network has produced the
// stencil weights (they depend on the steady Courant numbers only), a step is
//   gx(i,j) = cx(i,j) * sum_{m,k} wx[m*s+k](i,j) * q(i - s/2 + k, j - T/2 + m)
//   gy(i,j) = cy(i,j) * sum_{m,k} wy[m*s+k](i,j) * q(i - T/2 + m, j - s/2 + k)
// (s cells along the face normal, T across it), then the flux-form update. Plain loops over
// the owned cells, the same arithmetic as the training graph; a CUDA version can mirror it.
#include "grids/field_view.hpp"

namespace aeolus::emulators {

// wx, wy: [s*T][ny][nx] over the owned cells, contiguous (x fastest). q needs a halo of
// max(s/2, T/2); gx, gy receive the fluxes through the low faces of the owned cells.
void stencil_fluxes_2d(ConstFieldView q, ConstFieldView cx, ConstFieldView cy, const real_t* wx,
                       const real_t* wy, int s, int transverse, FieldView gx, FieldView gy);

}  // namespace aeolus::emulators
