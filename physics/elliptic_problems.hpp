#pragma once
// What the elliptic solvers solve: manufactured solutions, the FISHPACK HWSCRT reference
// problem, and the permeability fields of the Darcy problem (the MgNO / FNO benchmark).
// Plain functions of position; grids and solvers live elsewhere.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/types.hpp"

namespace aeolus::physics {

// A smooth exact solution u(x) with its gradient and Laplacian, for -div(k grad u) + c u = f
// with k = 1 (the manufactured f = -lap u + c u). With s_d = (x_d - lo_d) / L_d, L_d = hi_d -
// lo_d, m = wavenumber and products over the used dimensions d < dim:
//   sine:     prod_d sin(pi m s_d)                     (zero on every face)
//   cosine:   prod_d cos(pi m s_d)                     (zero normal derivative on every face)
//   periodic: prod_d sin(2 pi m s_d + 0.3 (d + 1))     (periodic, nonzero on the faces)
//   mixed:    exp(s_0 / 2) * prod_{d >= 1} cos(pi m s_d + 1/4)
//             (value and normal derivative nonzero on every face: tests the boundary terms of
//             the right side for any mix of Dirichlet and Neumann faces)
//   fishpack_hwscrt: FishpackHwscrt::exact below (2D; lo, hi and m are ignored), so that a case
//             can run the HWSCRT problem through the manufactured-solution path (c = 4).
// Throws ConfigError for an unknown type. du(d, ...) is 0 for d >= dim.
struct ManufacturedParams {
  std::string type = "sine";
  int wavenumber = 1;
};
const std::vector<std::string>& manufactured_type_names();

struct ManufacturedSolution {
  ManufacturedParams params;
  int dim = 2;
  std::array<real_t, 3> lo{0, 0, 0}, hi{1, 1, 1};
  real_t u(real_t x, real_t y, real_t z) const;
  real_t du(int d, real_t x, real_t y, real_t z) const;  // partial derivative along d
  real_t laplacian(real_t x, real_t y, real_t z) const;
};

// FISHPACK HWSCRT test problem (thwscrt.f): u_xx + u_yy + lambda u = g on [0,2] x [-1,3],
// lambda = -4, exact u = x^2 cos((y+1) pi/2) ... (see the .cpp for g and the boundary data),
// Dirichlet at x = 0, Neumann at x = 2, periodic in y, 40 x 80 panels, vertex-centred.
// FISHPACK documents a max discretisation error of 5.36508e-4.
struct FishpackHwscrt {
  static constexpr real_t lambda = -4.0;
  static constexpr real_t documented_error = 5.36508e-4;
  static real_t exact(real_t x, real_t y);
  static real_t source(real_t x, real_t y);  // g = u_xx + u_yy + lambda u
  static real_t neumann_x2(real_t y);        // du/dx at x = 2
};

// Darcy permeability a(x) on the unit square as in the FNO / MgNO benchmark: a Gaussian random
// field with covariance (-lap + tau^2)^(-alpha) (periodic spectral synthesis on the grid's
// nodes, seeded), thresholded: a = high where the field >= 0, low elsewhere. Values at the
// unknowns of `k` (cell centres or vertices), identical on every rank count.
// Synthesis: g(xi) = sum_{k != 0} (4 pi^2 |k|^2 + tau^2)^(-alpha/2) (a_k cos 2 pi k.xi +
// b_k sin 2 pi k.xi), xi_d = (x_d - lo_d) / (hi_d - lo_d) on the box of k's grid (the period),
// integer k with |k_d| <= min(32, n_d / 2) (16 in 3D), a_k, b_k standard normal from `seed`
// (mt19937_64 + Box-Muller, the same draws on every rank). std(g) in lognormal_grf is the exact
// one of the truncated spectrum. Collective (fills the halos too); ConfigError on bad values.
struct DarcyPermeabilityParams {
  std::string type = "thresholded_grf";  // thresholded_grf | constant | lognormal_grf
  real_t alpha = 2.0, tau = 3.0;
  real_t high = 12.0, low = 3.0;  // thresholded_grf
  real_t value = 1.0;             // constant
  real_t sigma = 1.0;             // lognormal_grf: k = exp(sigma * g / std(g))
  std::uint64_t seed = 1;
};
const std::vector<std::string>& permeability_type_names();
void fill_permeability(const DarcyPermeabilityParams& p, Field& k);

// f(x, y, z) at every owned unknown of `out` (its grid's cell centres, which for a vertex-centred
// elliptic grid are the vertices); unused coordinates are 0.
void fill_at_points(Field& out, const std::function<real_t(real_t, real_t, real_t)>& f);

}  // namespace aeolus::physics
