#pragma once
// The conservation layer of the CO2 transport emulators (emulators/co2_models.hpp), in double
// precision and without torch: the stepper runs these after the network; the differentiable
// torch versions used in training (emulators/co2_models_impl.hpp) compute the same formulas and
// are tested against these.
//
// Layout (the dataset's): 3D fields [nlev][nlat][nlon] row major, k = 0 the model top and
// k = nlev - 1 the surface layer, row j = 0 the southernmost (no pole points), longitude
// periodic; 2D fields [nlat][nlon]; cell_area [nlat] (m^2, the same for every longitude).
// q is the CO2 mass mixing ratio (kg/kg), airmass the air mass of a cell (kg), so a cell holds
// q * airmass kg of CO2. One step of dt seconds closes the budget
//   sum(q_new * airmass_next) = sum(q * airmass) + sum(F * cell_area) * dt,
// F = co2flux_land + co2flux_ocean + co2flux_anthro (kg m-2 s-1).
//
// Kernels are free functions over plain arrays (pointer + Co2Shape); none allocates.
#include <cstddef>

namespace aeolus::emulators {

struct Co2Shape {
  int nlev = 10, nlat = 32, nlon = 64;
  std::size_t cells2d() const { return std::size_t(nlat) * std::size_t(nlon); }
  std::size_t cells3d() const { return std::size_t(nlev) * cells2d(); }
};

// sum(q * airmass) over all cells (kg), with Neumaier-compensated summation so that the budget
// checks resolve round-off rather than the order of summation.
double co2_mass(const Co2Shape& s, const double* q, const double* airmass);

// sum(flux_total * cell_area) * dt (kg): the CO2 that enters through the surface in one step.
// flux_total [nlat][nlon].
double co2_surface_source_mass(const Co2Shape& s, const double* flux_total, const double* cell_area,
                               double dt);

// The explicit surface flux into the lowest layer (CarbonBench's last step):
// q[nlev-1] += flux_total * cell_area * dt / airmass_next[nlev-1].
void co2_add_surface_flux(const Co2Shape& s, const double* flux_total, const double* cell_area,
                          const double* airmass_next, double dt, double* q);

// Mass fixers: change q so that sum(q * airmass_next) == target_mass to round-off.
// scale: q *= target / sum(q * airmass_next) (keeps zeros and the pattern's relative structure);
// returns the factor. NumericsError if the sum is not positive or not finite.
double co2_fix_mass_scale(const Co2Shape& s, const double* airmass_next, double target_mass,
                          double* q);
// shift: q += c, one mixing-ratio offset for every cell, c = (target - sum) / sum(airmass_next);
// returns c. (CarbonBench's 'shift' adds one *mass* per cell instead, which is c * m_mean / m_i
// in mixing ratio and so largest in the thin top layers; a uniform mixing ratio is what a
// well-mixed background error looks like.)
double co2_fix_mass_shift(const Co2Shape& s, const double* airmass_next, double target_mass,
                          double* q);

// Flux form: q_new = (q * airmass + div) / airmass_next, div the convergence of tracer mass
// fluxes (kg of CO2 per step) through the cell faces:
//   fx [nlev][nlat][nlon]: through the east face of cell (k, j, i), i.e. from i to i + 1
//                          (periodic: the east face of i = nlon - 1 is the west face of i = 0);
//   fy [nlev][nlat][nlon]: through the north face of (k, j, i), from j to j + 1; the north face
//                          of the last row is the pole and carries nothing (fy there is ignored);
//   fz [nlev-1][nlat][nlon]: through the interface below level k, from k to k + 1 (downwards);
//                          nothing crosses the model top or the surface.
// Every flux leaves one cell and enters its neighbour, so sum(q_new * airmass_next) =
// sum(q * airmass) to round-off whatever the fluxes are. The surface flux is added separately
// (co2_add_surface_flux). q_new may alias q.
void co2_flux_form_update(const Co2Shape& s, const double* q, const double* airmass,
                          const double* airmass_next, const double* fx, const double* fy,
                          const double* fz, double* q_new);

}  // namespace aeolus::emulators
