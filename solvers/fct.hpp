#pragma once
// Flux-corrected transport (Zalesak 1979, J. Comput. Phys. 31) for one explicit step of 2D
// advection written with time-integrated face fluxes.
//
// A face flux here is in units of q: the amount that crosses the face during the step divided
// by the cell volume, positive towards +x (+y). Given any high-order fluxes (a classical
// scheme's or a neural network's), the limiter blends them with first-order donor-cell fluxes
// so that the new state has no value outside the range of q and the low-order solution over
// each cell's 3x3 neighbourhood. The update stays in flux form, so mass is conserved to
// round-off, and the result is bounded, so an emulator that is accurate but not provably
// stable cannot blow up. Requires the low-order step to be monotone: for every cell the
// outgoing Courant numbers sum to at most 1 (checked by fct_max_outflow_courant).
#include "grids/field_view.hpp"

namespace aeolus {

// Scratch arrays of the limiter, shaped like the state's ghosted block.
struct FctWork {
  FieldView q_low;            // first-order solution (valid on owned cells + 2 rings)
  FieldView r_plus, r_minus;  // Zalesak's R+ and R- (owned cells + 1 ring)
};

// Largest sum over a cell of its outgoing Courant numbers (owned cells only; the caller reduces
// over ranks). cx(i,j), cy(i,j): Courant numbers u dt/dx, v dt/dy on the low x-/y-face of cell
// (i, j); halo >= 1.
real_t fct_max_outflow_courant(ConstFieldView cx, ConstFieldView cy);

// q_new(owned) = limited update of q. Halos: q >= 3, cx/cy >= 3, gx/gy >= 2 (valid values),
// work views >= 2. gx(i,j), gy(i,j): high-order fluxes through the low faces of cell (i, j).
// If `limit` is false the high-order fluxes are applied as they are (no correction).
void fct_update_2d(ConstFieldView q, ConstFieldView cx, ConstFieldView cy, ConstFieldView gx,
                   ConstFieldView gy, bool limit, const FctWork& work, FieldView q_new);

}  // namespace aeolus
