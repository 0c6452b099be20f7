#pragma once
// |a - b| over the owned cells, as a field on a's grid (a and b on the same decomposition);
// reduce it with max(), integral() or sum().
#include <cmath>

#include "grids/field.hpp"

namespace aeolus::test {

inline Field abs_difference(const Field& a, const Field& b) {
  Field diff(a);
  auto d = diff.view();
  auto bv = b.view();
  for (index_t k = 0; k < d.nz; ++k)
    for (index_t j = 0; j < d.ny; ++j)
      for (index_t i = 0; i < d.nx; ++i) d(i, j, k) = std::abs(d(i, j, k) - bv(i, j, k));
  return diff;
}

}  // namespace aeolus::test
