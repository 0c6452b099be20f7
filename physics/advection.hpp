#pragma once
// Linear advection q_t + div(u q) = 0: prescribed velocity fields, initial conditions and
// exact solutions. Plain functions of position and time; the grid only supplies coordinates.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/types.hpp"

namespace aeolus::physics {

using Vec3 = std::array<real_t, 3>;

// constant: u = (u[0], u[1], u[2]).
// rotating: solid-body rotation about `center` in the x-y plane with angular velocity omega
//   (rad per unit time): u = -omega (y - yc), v = omega (x - xc). On a periodic box this field
//   is not periodic at the seam, so initial data must vanish near the boundary (the classic
//   rotating-cone test); fluxes stay conservative regardless.
struct VelocityParams {
  std::string type = "constant";  // constant | rotating
  Vec3 u{1.0, 0.5, 0.0};
  real_t omega = 6.283185307179586;  // one revolution per unit time
  Vec3 center{0.5, 0.5, 0.5};
};

// Names accepted for VelocityParams::type (for schema errors).
const std::vector<std::string>& velocity_type_names();

// Velocity component d at point x, time t. Throws ConfigError for an unknown type.
real_t velocity(const VelocityParams& p, int d, const Vec3& x, real_t t);

// Normal velocity on the low face (x_{i-1/2}) of cell (i,j,k) along dimension d, for every
// cell of the ghosted block (owned and ghost), evaluated analytically at time t. Ghost indices
// along periodic dimensions are wrapped first, so the seam face gets one value on both sides
// (needed for exact conservation where the field is not periodic, e.g. rotation).
// Requires 0 <= d < grid dim.
void fill_face_velocity(const VelocityParams& p, int d, real_t t, Field& out);

// Collective: max over owned cells of sum_d |u_d| / dx_d using face velocities (1/s).
real_t max_inverse_cfl_time(const VelocityParams& p, const CartesianGrid& grid, real_t t);

// gaussian:     background + amplitude * exp(-|x - c|^2 / (2 radius^2)), periodic minimum image
// cosine_bell:  background + amplitude * (1 + cos(pi r / radius)) / 2 for r < radius
// square:       background + amplitude inside the box |x_d - c_d| < radius
// sine:         background + amplitude * prod_d sin(2 pi k (x_d - lo_d) / L_d), k = wavenumber
// random_blobs: background + sum of n Gaussians, n uniform in [blobs_min, blobs_max], centres
//               uniform in the box, radii uniform in [radius_min, radius_max], amplitudes
//               uniform in [amplitude_min, amplitude_max]; drawn from `seed` identically on
//               every rank, so the field does not depend on the rank count.
// Values are cell averages (3-point Gauss rule per used dimension), not point values. Distances
// (gaussian, cosine_bell, square, random_blobs) use the minimum image along periodic
// dimensions, so every initial condition is periodic there. Only used dimensions enter.
struct InitialConditionParams {
  std::string type = "gaussian";
  Vec3 center{0.5, 0.5, 0.5};
  real_t radius = 0.1;
  real_t amplitude = 1.0;
  real_t background = 0.0;
  int wavenumber = 1;
  int blobs_min = 1, blobs_max = 4;
  real_t radius_min = 0.04, radius_max = 0.12;
  real_t amplitude_min = 0.2, amplitude_max = 1.0;
};

// Names accepted for InitialConditionParams::type (for schema errors).
const std::vector<std::string>& initial_condition_type_names();

// One Gaussian of a random_blobs field: amplitude * exp(-|x - center|^2 / (2 radius^2)).
struct Blob {
  Vec3 center{0, 0, 0};
  real_t radius = 0, amplitude = 0;
};
// The blobs drawn for `seed`, in draw order, with centres mapped into the domain [lo, hi) of
// `grid` (unused dimensions at their cell centre). Portable: std::mt19937_64 (whose output
// the C++ standard fixes) with our own uniform mapping, never std::uniform_*_distribution
// (implementation-defined). Draw order: count, then per blob centre x, y, z (all three
// always, so the sequence does not depend on dim), radius, amplitude. Throws ConfigError for
// blobs_min < 0, blobs_min > blobs_max or reversed radius/amplitude ranges.
std::vector<Blob> draw_random_blobs(const InitialConditionParams& p, std::uint64_t seed,
                                    const CartesianGrid& grid);

// Fill the owned cells of q with the initial condition (halos untouched). Throws ConfigError
// for an unknown type.
void fill_initial_condition(const InitialConditionParams& p, std::uint64_t seed, Field& q);

// Exact solution at time t for the constant (periodic shift) and rotating (rigid rotation)
// velocities, as cell averages in the owned cells of q: each Gauss point is traced back to
// time 0 (shifted by -u t and wrapped on periodic dimensions, or rotated by -omega t about
// the centre) and the initial condition is evaluated there. Throws ConfigError for other
// velocity types and for rotation on a 1D grid. Ignores boundary inflow on non-periodic
// dimensions (the back-traced point is used as if the initial condition extended there).
void fill_exact_solution(const InitialConditionParams& ic, std::uint64_t seed,
                         const VelocityParams& vel, real_t t, Field& q);

// Diagnostics used by logs and evaluation (collective).
struct Diagnostics {
  real_t mass = 0;  // integral of q over the domain
  real_t min = 0, max = 0;
};
Diagnostics diagnose(const Field& q);

}  // namespace aeolus::physics
