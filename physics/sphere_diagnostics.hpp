#pragma once
// Diagnostics of the standard spherical transport tests (Williamson et al. 1992; Lauritzen et al.
// 2012, LSPT; Lauritzen & Thuburn 2012). All functions taking a SphereGrid are collective over
// the grid's communicator, weight cells by SphereGrid::area(j), use owned cells of every level,
// and return the same numbers on every rank.
//
// Determinism: a latitude row is always owned by a single rank, so each rank forms per-row
// partial sums (in longitude order), the rows are combined with one Allreduce of a global
// per-row array in which every other rank contributes exact zeros, and the rows are then summed
// in global order. The results are therefore bitwise independent of the rank count (unlike
// SphereGrid::integral, which sums per-rank partials).
#include <vector>

#include "grids/sphere_grid.hpp"

namespace aeolus::physics {

// Williamson et al. (1992) normalised errors, I = area integral:
//  l1 = I(|q - qT|) / I(|qT|), l2 = sqrt(I((q - qT)^2)) / sqrt(I(qT^2)),
//  linf = max|q - qT| / max|qT|.
// Throws NumericsError if `exact` is zero everywhere.
struct ErrorNorms {
  real_t l1 = 0, l2 = 0, linf = 0;
};
ErrorNorms error_norms(const SphereGrid& g, const Field& q, const Field& exact);

// Normalised extrema (Williamson et al. 1992; LSPT 2012):
//  phi_min = (min q - min qT) / (max qT - min qT), phi_max = (max q - max qT) / (max qT - min qT).
// Throws NumericsError if `exact` is constant.
struct ExtremaDiagnostics {
  real_t phi_min = 0, phi_max = 0;
};
ExtremaDiagnostics extrema_diagnostics(const SphereGrid& g, const Field& q, const Field& exact);

// LSPT filament thresholds tau_k = 0.1 + (k / 18) 0.9, k = 0..18 (19 values, 0.1 ... 1.0).
std::vector<real_t> filament_thresholds();
// A(q >= tau) (m^2, summed over levels) for every threshold. As in the LSPT supplement's
// diag.F90 (filament_diag), a cell counts when q >= tau - 1e-12. The filament diagnostic is
// l_f(tau) = 100 A(tau, t) / A(tau, 0), formed by the caller from two calls.
std::vector<real_t> area_above(const SphereGrid& g, const Field& q,
                               const std::vector<real_t>& thresholds);

// Numerical mixing diagnostics of Lauritzen & Thuburn (2012) / LSPT (2012) for q1 = cosine
// bells and q2 = the correlated tracer, pre-existing relation psi(x) = -0.8 x^2 + 0.9 on
// x in [0.1, 1] (end points (0.1, 0.892) and (1, 0.1)):
//  - d = the normalised distance from (q1, q2) to the nearest point (x*, psi(x*)) of that
//    curve segment: d^2 = ((q1 - x*) / 0.9)^2 + ((q2 - psi(x*)) / 0.792)^2, x* in [0.1, 1]
//    minimising d (0.9 and 0.792 are the ranges of q1 and q2);
//  - classes: real mixing if line(q1) <= q2 <= psi(q1) (between the curve and the chord
//    through its end points); else range-preserving unmixing if 0.1 <= q1 <= 1 and
//    0.1 <= q2 <= 0.892; else overshooting; each comparison with the tolerance 1e-7;
//  - l_r, l_u, l_o = (1 / A_total) sum over the cells of the class of d A_cell, with A_total
//    the total area (all cells, all levels), NOT the area of the class.
// Source: the LSPT (2012) supplement's diag.F90 (correlation_diag), as redistributed in
// E3SM-Project/COMPOSE methods/slmm/slmmir_lauritzen_diag_f90.f90 and HOMME's state_mod
// ("PL's code"): it divides each class sum by the total area and solves the cubic for x* in the
// normalised metric. We solve the same cubic for all its real roots (the reference stops where
// there are three) and also try x* = 0.1, 1 and clamp(q1), so points on the curve give d = 0.
struct MixingDiagnostics {
  real_t real_mixing = 0, range_preserving_unmixing = 0, overshooting = 0;
};
MixingDiagnostics mixing_diagnostics(const SphereGrid& g, const Field& q1, const Field& q2);

// Per-point pieces of the mixing diagnostics (exposed for tests and plots).
enum class MixingClass { real_mixing, range_preserving_unmixing, overshooting };
MixingClass mixing_class(real_t q1, real_t q2);
real_t mixing_distance(real_t q1, real_t q2);

// Area integral sum_ij q_ij area_j over owned cells and levels (kg for a density in kg/m^2),
// bitwise independent of the rank count.
real_t total_mass(const SphereGrid& g, const Field& q);

}  // namespace aeolus::physics
