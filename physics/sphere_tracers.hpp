#pragma once
// Initial tracer fields of the standard spherical transport tests. Positions in radians;
// distances r_i are great-circle distances on the unit sphere (the papers' convention).
//
//  cosine_bell              Williamson et al. (1992) case 1: h = (h0/2)(1 + cos(pi r / R)) for
//                           r < R, else 0; R = bell_radius (a fraction of a: R/a = 1/3), one
//                           centre, default (3 pi/2, 0).
//  gaussian_hills           Lauritzen et al. (2012, LSPT): sum_i hmax exp(-beta |x - x_i|^2) with
//                           unit Cartesian vectors; hmax = 0.95, beta = 5.
//  cosine_bells             LSPT: b + c h_i(r_i) for the first centre with r_i < r, else b;
//                           h_i = (1 + cos(pi r_i / r)) / 2; r = 1/2, b = 0.1, c = 0.9.
//  slotted_cylinders        LSPT: cylinder_value where r_i <= r, except in the slot
//                           |lambda - lambda_i| < r/6, where it is cylinder_value only for
//                           theta - theta_i < -5r/12 (even i: slot open to the north) or
//                           theta - theta_i > 5r/12 (odd i: slot open to the south); b elsewhere.
//                           r = 1/2, b = 0.1, cylinder_value = 1. lambda - lambda_i is taken in
//                           (-pi, pi] (identical to the paper for its centres).
//  correlated_cosine_bells  LSPT: q2 = -0.8 q1^2 + 0.9 with q1 the cosine_bells.
//  constant                 `value` everywhere.
// LSPT types default to the centres (5 pi/6, 0) and (7 pi/6, 0); `centers` overrides them
// (e.g. nair_lauritzen_centers(case)).
//
// Sources (confirmed with search):
//  - slot geometry (|dlambda| >= r/6 or the strip end beyond -+5r/12), values b = 0.1, c = 1,
//    r = 1/2, Gaussian hmax = 0.95, beta = 5: LSPT (2012) as coded in E3SM-Project/COMPOSE
//    methods/slmm/slmm_gallery.cpp (InitialCondition::init) and in ICON mo_nh_df_test.f90
//    (init_df_tracer); both agree (the slot geometry also matches CAM's ic_baroclinic
//    test_func case 4).
//  - Nair & Lauritzen (2010) centres: case 1 (pi, +-pi/3) (ICON mo_nh_df_test.f90,
//    schreiberx/sweet BenchmarksSphereAdvection_nair_lauritzen_sl.hpp, dongli's
//    DeformationTestbed.f90 all agree); cases 2 and 4 (5 pi/6, 0), (7 pi/6, 0); case 3
//    (3 pi/4, 0), (5 pi/4, 0) per SWEET and the original NL2010 lines in ICON (which later
//    switched to (5 pi/6, 0), (7 pi/6, 0) "following Lauritzen 2011"); dongli's code uses
//    (pi/2, pi/3), (3 pi/2, pi/3) instead. The paper's own text was not reachable.
//
// Values are CELL AVERAGES: a tensor Gauss-Legendre rule in (lambda, sin theta) with
// `quadrature` points per direction (default 4 x 4). Because the cell area is
// a^2 dlambda d(sin theta), the rule integrates constants exactly, so area-weighted sums of the
// field equal the rule's integral of the point function (mass-consistent initial data). The
// result is a pure function of the global cell indices, hence independent of the rank count.
// Exception, correlated_cosine_bells: the cell value is the relation applied to the cell average
// of the cosine bells, -0.8 avg(q1)^2 + 0.9, so a (q1, q2) pair starts exactly on the curve and
// the mixing diagnostics are zero at t = 0 (averaging the relation pointwise would start every
// bell cell off the curve, inside the "real mixing" region).
#include <array>
#include <string>
#include <vector>

#include "grids/sphere_grid.hpp"

namespace aeolus::physics {

struct SphereTracerParams {
  std::string type = "cosine_bell";
  // cosine_bell
  real_t h0 = 1000.0;            // peak height (m)
  real_t bell_radius = 1.0 / 3;  // R / a
  // cosine_bells, slotted_cylinders
  real_t r = 0.5;               // radius on the unit sphere (rad)
  real_t b = 0.1;               // background
  real_t c = 0.9;               // cosine_bells amplitude
  real_t cylinder_value = 1.0;  // slotted_cylinders value inside
  // gaussian_hills
  real_t hmax = 0.95;
  real_t beta = 5.0;
  // constant
  real_t value = 1.0;
  // (lon, lat) in radians; empty = the type's default centres. cosine_bell takes exactly one.
  std::vector<std::array<real_t, 2>> centers;
  int quadrature = 4;  // Gauss points per direction for the cell averages, 1..5
};

const std::vector<std::string>& sphere_tracer_names();
// Throws ConfigError for an unknown type, a bad quadrature order, non-positive radii or a wrong
// number of centres.
void validate(const SphereTracerParams& p);

// Initial cosine-bell / cylinder centres of Nair & Lauritzen (2010) case 1..4 (see above).
std::vector<std::array<real_t, 2>> nair_lauritzen_centers(int nl_case);

// Point value at (lon, lat). correlated_cosine_bells returns the relation applied to the point
// value of the cosine bells.
real_t sphere_tracer_point(const SphereTracerParams& p, real_t lon, real_t lat);

// Cell averages of the owned cells of q (every level gets the same 2D field); halos untouched.
void fill_sphere_tracer(const SphereTracerParams& p, const SphereGrid& g, Field& q);

}  // namespace aeolus::physics
