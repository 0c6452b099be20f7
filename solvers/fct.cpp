#include "solvers/fct.hpp"

#include <algorithm>

namespace aeolus {

namespace {
inline real_t donor(real_t c, real_t q_low_side, real_t q_high_side) {
  return c > 0 ? c * q_low_side : c * q_high_side;
}
}  // namespace

real_t fct_max_outflow_courant(ConstFieldView cx, ConstFieldView cy) {
  real_t worst = 0;
  for (index_t j = 0; j < cx.ny; ++j)
    for (index_t i = 0; i < cx.nx; ++i) {
      const real_t out = std::max(cx(i + 1, j), 0.0) - std::min(cx(i, j), 0.0) +
                         std::max(cy(i, j + 1), 0.0) - std::min(cy(i, j), 0.0);
      worst = std::max(worst, out);
    }
  return worst;
}

void fct_update_2d(ConstFieldView q, ConstFieldView cx, ConstFieldView cy, ConstFieldView gx,
                   ConstFieldView gy, bool limit, const FctWork& w, FieldView q_new) {
  const index_t nx = q.nx, ny = q.ny;
  if (!limit) {
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i)
        q_new(i, j) = q(i, j) - (gx(i + 1, j) - gx(i, j)) - (gy(i, j + 1) - gy(i, j));
    return;
  }
  const auto glx = [&](index_t i, index_t j) { return donor(cx(i, j), q(i - 1, j), q(i, j)); };
  const auto gly = [&](index_t i, index_t j) { return donor(cy(i, j), q(i, j - 1), q(i, j)); };
  // Antidiffusive fluxes: high order minus low order.
  const auto ax = [&](index_t i, index_t j) { return gx(i, j) - glx(i, j); };
  const auto ay = [&](index_t i, index_t j) { return gy(i, j) - gly(i, j); };

  // 1. Low-order (monotone) solution on owned cells and two rings.
  for (index_t j = -2; j < ny + 2; ++j)
    for (index_t i = -2; i < nx + 2; ++i)
      w.q_low(i, j) = q(i, j) - (glx(i + 1, j) - glx(i, j)) - (gly(i, j + 1) - gly(i, j));

  // 2. R+ and R-: the fraction of the incoming / outgoing antidiffusion each cell can take
  //    without leaving the range of q and q_low over its 3x3 neighbourhood.
  for (index_t j = -1; j < ny + 1; ++j)
    for (index_t i = -1; i < nx + 1; ++i) {
      real_t hi = -1e300, lo = 1e300;
      for (index_t b = -1; b <= 1; ++b)
        for (index_t a = -1; a <= 1; ++a) {
          hi = std::max({hi, q(i + a, j + b), w.q_low(i + a, j + b)});
          lo = std::min({lo, q(i + a, j + b), w.q_low(i + a, j + b)});
        }
      const real_t in_x = std::max(ax(i, j), 0.0) - std::min(ax(i + 1, j), 0.0);
      const real_t in_y = std::max(ay(i, j), 0.0) - std::min(ay(i, j + 1), 0.0);
      const real_t out_x = std::max(ax(i + 1, j), 0.0) - std::min(ax(i, j), 0.0);
      const real_t out_y = std::max(ay(i, j + 1), 0.0) - std::min(ay(i, j), 0.0);
      const real_t p_plus = in_x + in_y, p_minus = out_x + out_y;
      const real_t q_plus = hi - w.q_low(i, j), q_minus = w.q_low(i, j) - lo;
      w.r_plus(i, j) = p_plus > 0 ? std::min(1.0, q_plus / p_plus) : 1.0;
      w.r_minus(i, j) = p_minus > 0 ? std::min(1.0, q_minus / p_minus) : 1.0;
    }

  // 3. Limited antidiffusive flux through the low faces of cell (i, j): the receiving cell's
  //    R+ and the giving cell's R-. Both neighbours evaluate a face from the same numbers, so
  //    the update telescopes exactly.
  const auto cax = [&](index_t i, index_t j) {
    const real_t a = ax(i, j);
    const real_t c = a >= 0 ? std::min(w.r_plus(i, j), w.r_minus(i - 1, j))
                            : std::min(w.r_plus(i - 1, j), w.r_minus(i, j));
    return c * a;
  };
  const auto cay = [&](index_t i, index_t j) {
    const real_t a = ay(i, j);
    const real_t c = a >= 0 ? std::min(w.r_plus(i, j), w.r_minus(i, j - 1))
                            : std::min(w.r_plus(i, j - 1), w.r_minus(i, j));
    return c * a;
  };
  for (index_t j = 0; j < ny; ++j)
    for (index_t i = 0; i < nx; ++i)
      q_new(i, j) = w.q_low(i, j) - (cax(i + 1, j) - cax(i, j)) - (cay(i, j + 1) - cay(i, j));
}

}  // namespace aeolus
