#include "physics/dcmip.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "grids/error.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;
using dcmip::kTau11;
using dcmip::kTau12;

// Test 1-1 parameters (Fortran test1_advection_deformation).
constexpr real_t kOmega0 = 23000.0 * kPi / kTau11;  // Pa/s
constexpr real_t kB = 0.2;                          // shape-function width, in units of ptop
constexpr real_t kHalfWidth = 0.5;                  // R, radians
constexpr real_t kZHalfWidth = 1000.0;              // Z, m
constexpr real_t kZ0 = 5000.0;                      // m
constexpr real_t kLambda0 = 5.0 * kPi / 6.0, kLambda1 = 7.0 * kPi / 6.0;

// Test 1-2 parameters (Fortran test1_advection_hadley).
constexpr real_t kU012 = 40.0;  // m/s
constexpr real_t kW0 = 0.15;    // m/s
constexpr real_t kK = 5.0;      // number of cells
constexpr real_t kZ1 = 2000.0, kZ2 = 5000.0, kZmid = 0.5 * (kZ1 + kZ2);

real_t u0_11(real_t a) { return 2.0 * kPi * a / kTau11; }
real_t k0_11(real_t a) { return 10.0 * a / kTau11; }

// 1-1 vertical shape function s(p) (zero at p0 and ptop) and the lambda' shift.
real_t shape_s(real_t p) {
  const real_t pt = dcmip::p_top(), bp = kB * pt;
  return 1.0 + std::exp((pt - dcmip::kP0) / bp) - std::exp((p - dcmip::kP0) / bp) -
         std::exp((pt - p) / bp);
}
real_t lon_shift_11(real_t t) { return 2.0 * kPi * t / kTau11; }

real_t height(real_t p) { return dcmip::kScaleHeight * std::log(dcmip::kP0 / p); }

// Stream functions of the non-divergent parts (u = -(1/a) dpsi/dlat, v = dpsi/dlon / (a cos)).
real_t psi_11(real_t a, real_t lon, real_t lat, real_t t) {
  const real_t sl = std::sin(lon - lon_shift_11(t)), cl = std::cos(lat);
  return a * k0_11(a) * sl * sl * cl * cl * std::cos(kPi * t / kTau11) -
         a * u0_11(a) * std::sin(lat);
}

// Gauss-Legendre nodes and weights on [-1, 1] for n = 1..5.
struct GaussRule {
  int n;
  real_t x[5], w[5];
};
GaussRule gauss_rule(int n) {
  switch (n) {
    case 1:
      return {1, {0.0}, {2.0}};
    case 2:
      return {2, {-0.57735026918962576451, 0.57735026918962576451}, {1.0, 1.0}};
    case 3:
      return {3,
              {-0.77459666924148337704, 0.0, 0.77459666924148337704},
              {5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0}};
    case 4:
      return {4,
              {-0.86113631159405257522, -0.33998104358485626480, 0.33998104358485626480,
               0.86113631159405257522},
              {0.34785484513745385737, 0.65214515486254614263, 0.65214515486254614263,
               0.34785484513745385737}};
    case 5:
      return {5,
              {-0.90617984593866399280, -0.53846931010568309104, 0.0, 0.53846931010568309104,
               0.90617984593866399280},
              {0.23692688505618908751, 0.47862867049936646804, 0.56888888888888888889,
               0.47862867049936646804, 0.23692688505618908751}};
    default: {
      std::ostringstream os;
      os << "dcmip: gauss_points = " << n << ", expected 1..5";
      throw ConfigError(os.str());
    }
  }
}

void check_tracer_index(DcmipTest test, int index) {
  if (index < 1 || index > dcmip_tracer_count(test)) {
    std::ostringstream os;
    os << "dcmip: tracer index " << index << ", expected 1.." << dcmip_tracer_count(test);
    throw ConfigError(os.str());
  }
}

void check_grid(const SphereGrid& g, const HybridCoordinate& c, const char* who) {
  if (g.nlev() != c.nlev()) {
    std::ostringstream os;
    os << who << ": vertical coordinate has " << c.nlev()
       << " levels, grid has nlev = " << g.nlev();
    throw ConfigError(os.str());
  }
}

}  // namespace

real_t dcmip::p_top() { return kP0 * std::exp(-kZtop / kScaleHeight); }

HybridCoordinate dcmip_vertical_coordinate(index_t nlev) {
  if (nlev < 1) {
    throw ConfigError("dcmip: nlev = " + std::to_string(nlev) + ", expected >= 1");
  }
  HybridCoordinate c;
  c.p0 = dcmip::kP0;
  c.a.resize(size_t(nlev) + 1);
  c.b.resize(size_t(nlev) + 1);
  // dcmip12_wrapper.F90: get_evenly_spaced_z (z_kf = ztop - kf ztop / nlev, top first),
  // eta = exp(-z / H), set_hybrid_coefficients(eta_top, c = 1).
  const real_t eta_top = std::exp(-dcmip::kZtop / dcmip::kScaleHeight);
  for (index_t kf = 0; kf <= nlev; ++kf) {
    const real_t z = dcmip::kZtop * real_t(nlev - kf) / real_t(nlev);
    const real_t eta = kf == nlev ? 1.0 : std::exp(-z / dcmip::kScaleHeight);
    const real_t b = kf == 0 ? 0.0 : std::max((eta - eta_top) / (1.0 - eta_top), 0.0);
    c.b[size_t(kf)] = b;
    c.a[size_t(kf)] = kf == 0 ? eta_top : eta - b;
  }
  return c;
}

std::vector<real_t> dcmip_reference_dp(const HybridCoordinate& c) {
  std::vector<real_t> dp(size_t(c.nlev()));
  for (index_t k = 0; k < c.nlev(); ++k) dp[size_t(k)] = c.dp(k, c.p0);
  return dp;
}

void dcmip_air_mass(const SphereGrid& g, const HybridCoordinate& c, Field& dp) {
  check_grid(g, c, "dcmip_air_mass");
  const auto ref = dcmip_reference_dp(c);
  auto v = dp.view();
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) v(i, j, k) = ref[size_t(k)];
}

void dcmip_wind(DcmipTest test, real_t a, real_t lon, real_t lat, real_t p, real_t t, real_t& u,
                real_t& v) {
  if (test == DcmipTest::deformation_1_1) {
    const real_t lp = lon - lon_shift_11(t);
    const real_t c1 = std::cos(kPi * t / kTau11), c2 = std::cos(2.0 * kPi * t / kTau11);
    const real_t pt = dcmip::p_top(), bp = kB * pt, cl = std::cos(lat);
    const real_t ud = kOmega0 * a / bp * std::cos(lp) * cl * cl * c2 *
                      (-std::exp((p - dcmip::kP0) / bp) + std::exp((pt - p) / bp));
    const real_t sl = std::sin(lp);
    u = k0_11(a) * sl * sl * std::sin(2.0 * lat) * c1 + u0_11(a) * cl + ud;
    v = k0_11(a) * std::sin(2.0 * lp) * cl * c1;
  } else {
    const real_t z = height(p);
    u = kU012 * std::cos(lat);
    v = -(dcmip::kP0 / p) * (a * kW0 * kPi) / (kK * dcmip::kZtop) * std::cos(lat) *
        std::sin(kK * lat) * std::cos(kPi * z / dcmip::kZtop) * std::cos(kPi * t / kTau12);
  }
}

real_t dcmip_omega(DcmipTest test, real_t lon, real_t lat, real_t p, real_t t) {
  if (test == DcmipTest::deformation_1_1) {
    return kOmega0 * std::sin(lon - lon_shift_11(t)) * std::cos(lat) *
           std::cos(2.0 * kPi * t / kTau11) * shape_s(p);
  }
  // omega = -g rho w with rho = p / (Rd T0): -g rho (rho0 / rho) (...) = -(p0 / H) (...).
  const real_t z = height(p);
  const real_t w_over =
      (kW0 / kK) *
      (-2.0 * std::sin(kK * lat) * std::sin(lat) + kK * std::cos(lat) * std::cos(kK * lat)) *
      std::sin(kPi * z / dcmip::kZtop) * std::cos(kPi * t / kTau12);
  return -(dcmip::kP0 / dcmip::kScaleHeight) * w_over;
}

real_t dcmip_tracer(DcmipTest test, int index, real_t lon, real_t lat, real_t p) {
  check_tracer_index(test, index);
  const real_t z = height(p);
  if (test == DcmipTest::hadley_1_2) {
    if (z > kZ1 && z < kZ2) return 0.5 * (1.0 + std::cos(2.0 * kPi * (z - kZmid) / (kZ2 - kZ1)));
    return 0.0;
  }
  // Great-circle distances to (lambda_i, 0): acos(cos(lat) cos(lon - lambda_i)), clamped.
  const real_t cl = std::cos(lat);
  const real_t r0 = std::acos(std::clamp(cl * std::cos(lon - kLambda0), -1.0, 1.0));
  const real_t r1 = std::acos(std::clamp(cl * std::cos(lon - kLambda1), -1.0, 1.0));
  const real_t dz = (z - kZ0) / kZHalfWidth;
  const real_t d0 = std::min(1.0, (r0 / kHalfWidth) * (r0 / kHalfWidth) + dz * dz);
  const real_t d1 = std::min(1.0, (r1 / kHalfWidth) * (r1 / kHalfWidth) + dz * dz);
  const real_t q1 = 0.5 * (1.0 + std::cos(kPi * d0)) + 0.5 * (1.0 + std::cos(kPi * d1));
  if (index == 1) return q1;
  const real_t q2 = 0.9 - 0.8 * q1 * q1;
  if (index == 2) return q2;
  real_t q3 = (d0 <= kHalfWidth || d1 <= kHalfWidth) ? 1.0 : 0.1;
  if (z > kZ0 && std::abs(lat) < 0.125) q3 = 0.1;
  if (index == 3) return q3;
  return 1.0 - 0.3 * (q1 + q2 + q3);
}

void dcmip_tracer_init(DcmipTest test, int index, const SphereGrid& g, const HybridCoordinate& c,
                       Field& q, int gauss_points) {
  check_tracer_index(test, index);
  check_grid(g, c, "dcmip_tracer_init");
  const GaussRule r = gauss_rule(gauss_points);
  auto v = q.view();
  const index_t j0 = g.lat_start();
  for (index_t k = 0; k < v.nz; ++k) {
    const real_t pa = c.p_interface(k, c.p0), pb = c.p_interface(k + 1, c.p0);
    for (index_t j = 0; j < v.ny; ++j) {
      const real_t ma = g.sin_lat_edge(j0 + j), mb = g.sin_lat_edge(j0 + j + 1);
      for (index_t i = 0; i < v.nx; ++i) {
        const real_t la = g.lon_edge(i), lb = g.lon_edge(i + 1);
        real_t sum = 0;
        for (int a = 0; a < r.n; ++a) {
          const real_t lon = 0.5 * (la + lb) + 0.5 * (lb - la) * r.x[a];
          for (int b = 0; b < r.n; ++b) {
            const real_t mu = 0.5 * (ma + mb) + 0.5 * (mb - ma) * r.x[b];
            const real_t lat = std::asin(std::clamp(mu, -1.0, 1.0));
            for (int e = 0; e < r.n; ++e) {
              const real_t p = 0.5 * (pa + pb) + 0.5 * (pb - pa) * r.x[e];
              sum += r.w[a] * r.w[b] * r.w[e] * dcmip_tracer(test, index, lon, lat, p);
            }
          }
        }
        v(i, j, k) = sum / 8.0;
      }
    }
  }
}

void dcmip_fluxes(DcmipTest test, const SphereGrid& g, const HybridCoordinate& c, real_t t,
                  real_t dt, SphereFluxes3d& out) {
  check_grid(g, c, "dcmip_fluxes");
  out.resize(g);
  const index_t nx = g.nlon(), ny = g.nlat(), nj = g.lat_count(), j0 = g.lat_start();
  const index_t h = g.halo(), nl = g.nlev();
  const real_t a = g.radius(), tm = t + 0.5 * dt;
  const auto dp = dcmip_reference_dp(c);
  std::vector<real_t> pint(size_t(nl) + 1);
  for (index_t kf = 0; kf <= nl; ++kf) pint[size_t(kf)] = c.p_interface(kf, c.p0);

  if (test == DcmipTest::deformation_1_1) {
    const real_t c2 = std::cos(2.0 * kPi * tm / kTau11), shift = lon_shift_11(tm);
    std::vector<real_t> ds_dp(static_cast<size_t>(nl));  // (s_{k+1} - s_k) / dp_k
    for (index_t k = 0; k < nl; ++k) {
      ds_dp[size_t(k)] = (shape_s(pint[size_t(k) + 1]) - shape_s(pint[size_t(k)])) / dp[size_t(k)];
    }
    // Zonal: psi(S) - psi(N) along the west edge, plus u_d integrated over the edge and layer.
    for (index_t jl = -h; jl < nj + h; ++jl) {
      const index_t j = j0 + jl;
      if (j < 0 || j >= ny) {
        for (index_t k = 0; k < nl; ++k)
          for (index_t i = 0; i < nx; ++i)
            out.horizontal[size_t(k)].xa[size_t((jl + h) * nx + i)] = 0;
        continue;
      }
      const real_t ls = g.lat_edge(j), ln = g.lat_edge(j + 1);
      const real_t gint =
          (0.5 * ln + 0.25 * std::sin(2.0 * ln)) - (0.5 * ls + 0.25 * std::sin(2.0 * ls));
      for (index_t i = 0; i < nx; ++i) {
        const real_t lon = g.lon_edge(i);
        const real_t nd = psi_11(a, lon, ls, tm) - psi_11(a, lon, ln, tm);
        const real_t dv = a * a * kOmega0 * std::cos(lon - shift) * c2 * gint;
        for (index_t k = 0; k < nl; ++k) {
          out.horizontal[size_t(k)].xa[size_t((jl + h) * nx + i)] =
              dt * (nd + dv * ds_dp[size_t(k)]);
        }
      }
    }
    // Meridional: psi(E) - psi(W) along the south edge (v has no divergent part).
    for (index_t jl = 0; jl <= nj; ++jl) {
      const index_t j = j0 + jl;
      for (index_t i = 0; i < nx; ++i) {
        real_t f = 0;
        if (j > 0 && j < ny) {
          const real_t lat = g.lat_edge(j);
          f = dt * (psi_11(a, g.lon_edge(i + 1), lat, tm) - psi_11(a, g.lon_edge(i), lat, tm));
        }
        for (index_t k = 0; k < nl; ++k) out.horizontal[size_t(k)].ya[size_t(jl * nx + i)] = f;
      }
    }
  } else {
    const real_t ct = std::cos(kPi * tm / kTau12);
    std::vector<real_t> sz(size_t(nl) + 1);
    for (index_t kf = 0; kf <= nl; ++kf) {
      sz[size_t(kf)] = std::sin(kPi * height(pint[size_t(kf)]) / dcmip::kZtop);
    }
    for (index_t jl = -h; jl < nj + h; ++jl) {
      const index_t j = j0 + jl;
      const real_t f =
          (j < 0 || j >= ny) ? 0.0 : dt * a * kU012 * (g.sin_lat_edge(j + 1) - g.sin_lat_edge(j));
      for (index_t k = 0; k < nl; ++k)
        for (index_t i = 0; i < nx; ++i)
          out.horizontal[size_t(k)].xa[size_t((jl + h) * nx + i)] = f;
    }
    for (index_t jl = 0; jl <= nj; ++jl) {
      const index_t j = j0 + jl;
      real_t edge = 0;
      if (j > 0 && j < ny) {
        const real_t lat = g.lat_edge(j), cl = g.cos_lat_edge(j);
        edge = -a * a * g.dlon() * (kW0 / kK) * (dcmip::kP0 / dcmip::kScaleHeight) * cl * cl *
               std::sin(kK * lat) * ct;
      }
      for (index_t k = 0; k < nl; ++k) {
        const real_t f = dt * edge * (sz[size_t(k)] - sz[size_t(k) + 1]) / dp[size_t(k)];
        for (index_t i = 0; i < nx; ++i) out.horizontal[size_t(k)].ya[size_t(jl * nx + i)] = f;
      }
    }
  }
  vertical_flux_from_divergence(g, dp, out);
}

void dcmip_exact_vertical_flux(DcmipTest test, const SphereGrid& g, const HybridCoordinate& c,
                               real_t t, real_t dt, std::vector<real_t>& w) {
  check_grid(g, c, "dcmip_exact_vertical_flux");
  const index_t nx = g.nlon(), nj = g.lat_count(), j0 = g.lat_start(), nl = g.nlev();
  const real_t a = g.radius(), tm = t + 0.5 * dt;
  w.assign(size_t((nl + 1) * nj * nx), 0.0);
  for (index_t kf = 0; kf <= nl; ++kf) {
    const real_t p = c.p_interface(kf, c.p0);
    for (index_t jl = 0; jl < nj; ++jl) {
      const index_t j = j0 + jl;
      const real_t ls = g.lat_edge(j), ln = g.lat_edge(j + 1), area = g.area(j);
      for (index_t i = 0; i < nx; ++i) {
        real_t omega_int;  // cell integral of omega (Pa m^2 / s)
        if (test == DcmipTest::deformation_1_1) {
          const real_t shift = lon_shift_11(tm);
          const real_t gint =
              (0.5 * ln + 0.25 * std::sin(2.0 * ln)) - (0.5 * ls + 0.25 * std::sin(2.0 * ls));
          omega_int = a * a * kOmega0 * std::cos(2.0 * kPi * tm / kTau11) * shape_s(p) *
                      (std::cos(g.lon_edge(i) - shift) - std::cos(g.lon_edge(i + 1) - shift)) *
                      gint;
        } else {
          const real_t cn = std::cos(ln), cs = std::cos(ls);
          const real_t fn = (j + 1 == g.nlat() ? 0.0 : cn * cn * std::sin(kK * ln));
          const real_t fs = (j == 0 ? 0.0 : cs * cs * std::sin(kK * ls));
          omega_int = -(dcmip::kP0 / dcmip::kScaleHeight) * (kW0 / kK) * a * a * g.dlon() *
                      std::sin(kPi * height(p) / dcmip::kZtop) * std::cos(kPi * tm / kTau12) *
                      (fn - fs);
        }
        w[size_t((kf * nj + jl) * nx + i)] = omega_int * dt / area;
      }
    }
  }
}

SphereFlow3dFunction dcmip_flow_function(DcmipTest test, const SphereGrid& g,
                                         const HybridCoordinate& c) {
  const SphereGrid* gp = &g;
  return [test, gp, c](real_t t, real_t dt, SphereFluxes3d& out) {
    dcmip_fluxes(test, *gp, c, t, dt, out);
  };
}

}  // namespace aeolus::physics
