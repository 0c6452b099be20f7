#pragma once
// Shared by the finite-volume tests: build a problem, advance it to a final time in equal steps.
#include <cmath>
#include <memory>

#include "common/field_compare.hpp"
#include "physics/advection.hpp"
#include "solvers/fv_advection.hpp"

namespace aeolus::test {

inline CartesianGridParams square_grid(int dim, index_t n, int halo = 2) {
  CartesianGridParams p;
  p.dim = dim;
  p.n = {n, dim > 1 ? n : 1, dim > 2 ? n : 1};
  p.halo = halo;
  return p;
}

inline FvSchemeParams scheme(const std::string& reconstruction,
                             const std::string& integrator = "ssprk3") {
  FvSchemeParams s;
  s.reconstruction = reconstruction;
  s.time_integrator = integrator;
  return s;
}

// Advance q from 0 to t_end in the fewest equal steps the stepper allows; returns the count.
inline int advance(Stepper& stepper, Field& q, real_t t_end) {
  const int steps = int(std::ceil(t_end / stepper.max_dt(q, 0.0) - 1e-9));
  real_t t = 0;
  for (int n = 0; n < steps; ++n) {
    real_t dt = t_end / steps;
    stepper.step(q, t, dt);
  }
  return steps;
}

// L1 norm of a - b over owned cells times the cell volume (collective).
inline real_t l1_difference(const Field& a, const Field& b) {
  return abs_difference(a, b).integral();
}

}  // namespace aeolus::test
