#pragma once
// DCMIP 2012 3D transport tests 1-1 (deformational flow with vertical motion, 12 days) and 1-2
// (Hadley-like meridional circulation, 1 day) on the latitude-longitude grid, in pressure
// coordinates.
//
// Sources. The formulas follow the DCMIP 2012 test case document (Ullrich, Jablonowski, Kent,
// Lauritzen, Nair & Taylor 2012, v1.7, sections 1.1 and 1.2) and Kent, Ullrich & Jablonowski
// (2014, MWR 142, "Dynamical core model intercomparison project: tracer transport test cases"),
// as coded in the reference Fortran module dcmip2012_test1_2_3.F90 (version 5, 20 July 2012;
// public, e.g. E3SM-Project/E3SM components/homme/src/test_src/). The vertical grid is the one
// the reference driver builds (dcmip12_wrapper.F90 in the same directory: get_evenly_spaced_z +
// set_hybrid_coefficients with exponent 1). Each formula below names its origin.
//
// Conventions (those of physics/sphere_flow_3d.hpp, restated here for the formulas).
//  - Level k = 0 .. nlev-1 is the DMDA z index, ordered from the model TOP (k = 0) to the
//    surface (k = nlev-1). Interface kf = 0 .. nlev is the top edge of layer kf (interface
//    kf = nlev is the surface), so layer k lies between interfaces k (above) and k + 1 (below)
//    and dp_k = p_{k+1} - p_k > 0.
//  - Pressure p in Pa, omega = Dp/Dt in Pa/s (positive DOWNWARD, towards larger k).
//  - The state's air mass is the pressure thickness dp (Pa) of each cell; its mass in kg is
//    dp * area(j) / g.
//  - Tracers are mixing ratios (kg/kg). Cell values are mass-weighted averages: Gauss rules in
//    (lon, sin lat) (area weighting) and in p (air-mass weighting, since ps is uniform).
#include <string>
#include <vector>

#include "grids/field.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/sphere_flow_3d.hpp"  // SphereFluxes3d, HybridCoordinate

namespace aeolus::physics {

enum class DcmipTest { deformation_1_1, hadley_1_2 };
// Names: "1-1" | "1-2". Throws ConfigError naming the value and the valid names.
DcmipTest dcmip_test_from_name(const std::string& name);
const std::vector<std::string>& dcmip_test_names();

// Constants of the reference Fortran (dcmip2012_test1_2_3.F90; the sphere radius is taken from
// the grid, DCMIP's a = 6371220 m is SphereGridParams' default).
namespace dcmip {
constexpr real_t kRd = 287.0;                    // J kg^-1 K^-1
constexpr real_t kG = 9.80616;                   // m s^-2
constexpr real_t kP0 = 1.0e5;                    // Pa, reference and surface pressure
constexpr real_t kT0 = 300.0;                    // K, isothermal
constexpr real_t kZtop = 12000.0;                // m, model top
constexpr real_t kScaleHeight = kRd * kT0 / kG;  // H = Rd T0 / g = 8780.2 m
constexpr real_t kDay = 86400.0;                 // s
constexpr real_t kTau11 = 12.0 * kDay;           // s, period of test 1-1 (dcmip_period)
constexpr real_t kTau12 = 1.0 * kDay;            // s, period of test 1-2
real_t p_top();                                  // p0 exp(-ztop / H) = 25494.4 Pa
}  // namespace dcmip

real_t dcmip_period(DcmipTest test);     // tau: 12 days (1-1), 1 day (1-2); s
int dcmip_tracer_count(DcmipTest test);  // 4 (1-1: q1..q4), 1 (1-2: q1)

// Vertical grid of the reference driver: nlev layers equally spaced in height z between 0 and
// ztop = 12 km, eta_kf = exp(-z_kf / H), b = (eta - eta_top) / (1 - eta_top), a = eta - b (pure
// pressure at the top, sigma at the surface). DCMIP recommends 60 levels (200 m) at 1 degree.
// With ps = p0 every level has p = p0 eta, z = H ln(p0 / p). Throws ConfigError for nlev < 1.
HybridCoordinate dcmip_vertical_coordinate(index_t nlev);
// dp_k with ps = p0 (Pa), k = 0 .. nlev-1.
std::vector<real_t> dcmip_reference_dp(const HybridCoordinate& c);
// Fills the owned cells of dp with dp_k(ps = p0) (Pa).
void dcmip_air_mass(const SphereGrid& g, const HybridCoordinate& c, Field& dp);

// Point winds (m/s) and omega (Pa/s) at (lon, lat) in radians, pressure p (Pa), time t (s);
// a = sphere radius (m).
//  1-1 (DCMIP doc eq. 1.1.x; Fortran test1_advection_deformation): lambda' = lon - 2 pi t / tau,
//    u = k0 sin^2(lambda') sin(2 lat) cos(pi t / tau) + u0 cos(lat) + u_d,
//    u_d = (omega0 a / (b ptop)) cos(lambda') cos^2(lat) cos(2 pi t / tau)
//          (-exp((p - p0) / (b ptop)) + exp((ptop - p) / (b ptop))),
//    v = k0 sin(2 lambda') cos(lat) cos(pi t / tau),
//    omega = omega0 sin(lambda') cos(lat) cos(2 pi t / tau) s(p),
//    s(p) = 1 + exp((ptop - p0) / (b ptop)) - exp((p - p0) / (b ptop)) - exp((ptop - p) / (b
//    ptop)), tau = 12 d, u0 = 2 pi a / tau, k0 = 10 a / tau, omega0 = 23000 pi / tau, b = 0.2.
//    (omega from the Fortran's w = -(Rd T0 / (g p)) omega.)
//  1-2 (Fortran test1_advection_hadley, v5 with the rho0/rho factors): z = H ln(p0 / p),
//    u = u0 cos(lat),
//    v = -(rho0 / rho) (a w0 pi / (K ztop)) cos(lat) sin(K lat) cos(pi z / ztop) cos(pi t / tau),
//    w = (rho0 / rho) (w0 / K) (-2 sin(K lat) sin(lat) + K cos(lat) cos(K lat))
//        sin(pi z / ztop) cos(pi t / tau),  omega = -g rho w,
//    rho0 / rho = p0 / p, tau = 1 d, u0 = 40 m/s, w0 = 0.15 m/s, K = 5.
// Both flows satisfy (1 / (a cos lat)) (du/dlon + d(v cos lat)/dlat) + d(omega)/dp = 0 and
// omega = 0 at p0 and ptop.
void dcmip_wind(DcmipTest test, real_t a, real_t lon, real_t lat, real_t p, real_t t, real_t& u,
                real_t& v);
real_t dcmip_omega(DcmipTest test, real_t lon, real_t lat, real_t p, real_t t);

// Point value of tracer `index` (1-based) at (lon, lat, p).
//  1-1 (Fortran test1_advection_deformation, v5): z = H ln(p0 / p), r_i great-circle distance
//    (radians) to (lambda_i, 0), lambda_0 = 5 pi / 6, lambda_1 = 7 pi / 6,
//    d_i = min(1, (r_i / R)^2 + ((z - z0) / Z)^2), R = 1/2, Z = 1000 m, z0 = 5000 m;
//    q1 = (1 + cos(pi d_0)) / 2 + (1 + cos(pi d_1)) / 2 (cosine bells), q2 = 0.9 - 0.8 q1^2,
//    q3 = 1 where d_0 <= 1/2 or d_1 <= 1/2, else 0.1, and 0.1 in the slot z > z0, |lat| < 1/8
//    (slotted ellipse), q4 = 1 - 0.3 (q1 + q2 + q3).
//  1-2 (Fortran test1_advection_hadley, v5): q1 = (1 + cos(2 pi (z - z0) / (z2 - z1))) / 2 for
//    z1 < z < z2, else 0; z1 = 2 km, z2 = 5 km, z0 = 3.5 km.
// Throws ConfigError for an index outside 1 .. dcmip_tracer_count(test).
real_t dcmip_tracer(DcmipTest test, int index, real_t lon, real_t lat, real_t p);
// Owned cells of q = mass-weighted cell averages of tracer `index`: n-point Gauss-Legendre rules
// in lon, sin(lat) and p over each cell (n = gauss_points in 1..5; the discontinuous q3 of 1-1
// is then only approximated).
void dcmip_tracer_init(DcmipTest test, int index, const SphereGrid& g, const HybridCoordinate& c,
                       Field& q, int gauss_points = 3);

// Fluxes of the step [t, t + dt] for the rank's rows, from the flow at the midpoint
// tm = t + dt / 2 (DCMIP's flows vary slowly: tau >= 1 day), integrated exactly in space:
//  horizontal: (dt / dp_k) * (integral over the face and over the layer in p of the normal
//    wind). Non-divergent parts through a stream function: 1-1 psi = a k0 sin^2(lambda')
//    cos^2(lat) cos(pi t / tau) - a u0 sin(lat), 1-2 psi = -a u0 sin(lat) (face flux = psi
//    difference between its ends, zero on pole edges); the divergent parts in closed form:
//    1-1 u_d through a meridian segment: a^2 omega0 cos(lambda') cos(2 pi t / tau)
//    (s_{k+1} - s_k) / dp_k [lat/2 + sin(2 lat)/4]_S^N; 1-2 v through a latitude segment:
//    -a^2 dlon (w0 / K) (p0 / H) cos^2(lat) sin(K lat) cos(pi t / tau)
//    (sin(pi z_k / ztop) - sin(pi z_{k+1} / ztop)) / dp_k.
//  vertical: vertical_flux_from_divergence with dp_k(ps = p0). With the exact face and layer
//    integrals this equals the cell-averaged analytic omega * dt at the interfaces to round-off
//    (dcmip_exact_vertical_flux; the test suite checks both).
void dcmip_fluxes(DcmipTest test, const SphereGrid& g, const HybridCoordinate& c, real_t t,
                  real_t dt, SphereFluxes3d& out);
// Cell-averaged analytic omega at tm times dt (Pa per step) at every interface of the owned
// columns (SphereFluxes3d::vertical layout): 1-1 a^2 omega0 cos(2 pi t / tau) s(p)
// (cos lambda'_W - cos lambda'_E) [lat/2 + sin(2 lat)/4]_S^N / area; 1-2 -(p0 / H) (w0 / K)
// a^2 dlon sin(pi z / ztop) cos(pi t / tau) [cos^2(lat) sin(K lat)]_S^N / area.
void dcmip_exact_vertical_flux(DcmipTest test, const SphereGrid& g, const HybridCoordinate& c,
                               real_t t, real_t dt, std::vector<real_t>& w);
// dcmip_fluxes as a stepper input (g must outlive it; the coordinate is copied).
SphereFlow3dFunction dcmip_flow_function(DcmipTest test, const SphereGrid& g,
                                         const HybridCoordinate& c);

}  // namespace aeolus::physics
