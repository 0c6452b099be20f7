#include "physics/co2_fluxes.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/random.hpp"
#include "physics/co2_met.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;
constexpr real_t kDeg = kPi / 180.0;
constexpr real_t kOmegaYear = 2.0 * kPi / co2::kYear;

real_t gauss(real_t x, real_t c, real_t w) {
  const real_t d = (x - c) / w;
  return std::exp(-d * d);
}

real_t wrap_degrees(real_t d) {
  d = std::fmod(d + 180.0, 360.0);
  if (d < 0) d += 360.0;
  return d - 180.0;
}

// Local solar hour angle (0 at local noon), as in co2_met.cpp.
real_t hour_angle(real_t lon, real_t t) { return 2.0 * kPi * t / co2::kDay - kPi + lon; }

struct HotSpot {
  real_t lon, lat, width, share;  // degrees, degrees, degrees, fraction
};
const HotSpot kHotSpots[] = {
    {116, 34, 6, 0.26},  {130, 37, 4, 0.05},   {79, 24, 6, 0.07},   {-82, 39, 6, 0.10},
    {-96, 32, 4, 0.025}, {-118, 36, 4, 0.025}, {6, 50, 6, 0.07},    {37, 55, 7, 0.05},
    {50, 28, 5, 0.06},   {105, 10, 6, 0.03},   {-99, 20, 3, 0.012}, {-46, -23, 4, 0.013},
    {28, -26, 3, 0.013}, {149, -34, 3, 0.012},
};
constexpr real_t kBackgroundShare = 0.22;

struct Ellipse {
  real_t lon, lat, alon, alat;  // degrees
};
const Ellipse kDeserts[] = {
    {10, 23, 20, 8}, {47, 23, 9, 6}, {100, 42, 14, 5}, {132, -25, 12, 7}, {-112, 33, 5, 4},
};

bool is_vegetated(real_t lon, real_t lat) {
  const real_t lond = lon / kDeg, latd = lat / kDeg;
  if (latd > 70.0 || latd < -60.0 || !co2_is_land(lon, lat)) return false;
  for (const Ellipse& e : kDeserts) {
    const real_t x = wrap_degrees(lond - e.lon) / e.alon, y = (latd - e.lat) / e.alat;
    if (x * x + y * y <= 1.0) return false;
  }
  return true;
}

real_t vegetated_fraction(const SphereGrid& g, index_t i, index_t j) {
  int n = 0;
  const real_t lat0 = g.lat_edge(j), lat1 = g.lat_edge(j + 1);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b)
      n += is_vegetated(g.lon_edge(i) + (a + 0.5) / 4.0 * g.dlon(),
                        lat0 + (b + 0.5) / 4.0 * (lat1 - lat0));
  return n / 16.0;
}

}  // namespace

real_t co2_kg_per_second(real_t gtc_per_year) {
  return gtc_per_year * 1e12 * co2::kKgCo2PerKgC / co2::kYear;
}

Co2SurfaceFluxes::Co2SurfaceFluxes(const SphereGrid& g, const Co2FluxParams& p) : g_(g), p_(p) {
  validate(p_);
  const index_t nx = g.nlon(), ny = g.nlat(), nj = g.lat_count(), j0 = g.lat_start();
  std::mt19937_64 rng(p_.seed);
  std::vector<HotSpot> spots;
  for (HotSpot s : kHotSpots) {
    s.lon += 2.0 * uniform01(rng) - 1.0;
    s.lat += 2.0 * uniform01(rng) - 1.0;
    s.share *= 0.9 + 0.2 * uniform01(rng);
    spots.push_back(s);
  }
  const real_t lon_seed = 2.0 * kPi * uniform01(rng);

  // Global patterns on every rank (natural order), then the owned rows.
  std::vector<real_t> land(size_t(ny * nx));
  for (index_t j = 0; j < ny; ++j)
    for (index_t i = 0; i < nx; ++i) land[size_t(j * nx + i)] = co2_land_fraction(g, i, j);
  auto integral = [&](const std::vector<real_t>& f) {
    real_t s = 0;
    for (index_t j = 0; j < ny; ++j) {
      real_t row = 0;
      for (index_t i = 0; i < nx; ++i) row += f[size_t(j * nx + i)];
      s += row * g.area(j);
    }
    return s;
  };
  std::vector<real_t> fossil(size_t(ny * nx), 0.0), blob(size_t(ny * nx));
  for (const HotSpot& s : spots) {
    const real_t cl = std::cos(s.lat * kDeg);
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i) {
        const real_t dx = wrap_degrees(g.lon_center(i) / kDeg - s.lon) * cl;
        const real_t dy = g.lat_center(j) / kDeg - s.lat;
        blob[size_t(j * nx + i)] = std::exp(-(dx * dx + dy * dy) / (s.width * s.width));
      }
    const real_t norm = s.share / integral(blob);
    for (size_t c = 0; c < blob.size(); ++c) fossil[c] += norm * blob[c];
  }
  for (index_t j = 0; j < ny; ++j)
    for (index_t i = 0; i < nx; ++i)
      blob[size_t(j * nx + i)] =
          std::abs(g.lat_center(j)) < 60.0 * kDeg
              ? land[size_t(j * nx + i)] * gauss(g.lat_center(j), 25.0 * kDeg, 25.0 * kDeg)
              : 0.0;
  {
    const real_t norm = kBackgroundShare / integral(blob);
    for (size_t c = 0; c < blob.size(); ++c) fossil[c] += norm * blob[c];
  }
  const real_t fossil_scale = co2_kg_per_second(p_.fossil_gtc_per_year) / integral(fossil);

  std::vector<real_t> ocean(size_t(ny * nx));
  for (index_t j = 0; j < ny; ++j) {
    const real_t lat = g.lat_center(j);
    for (index_t i = 0; i < nx; ++i) {
      const real_t pac = 0.5 * (1.0 + std::cos(g.lon_center(i) - 240.0 * kDeg));
      ocean[size_t(j * nx + i)] =
          (1.0 - land[size_t(j * nx + i)]) *
          (-0.8 * gauss(lat, 45.0 * kDeg, 10.0 * kDeg) -
           1.0 * gauss(lat, -45.0 * kDeg, 10.0 * kDeg) + 0.6 * gauss(lat, 0.0, 8.0 * kDeg) * pac);
    }
  }
  const real_t ocean_scale = co2_kg_per_second(p_.ocean_gtc_per_year) / integral(ocean);

  for (index_t jl = 0; jl < nj; ++jl) {
    const index_t j = j0 + jl;
    const real_t lat = g.lat_center(j);
    for (index_t i = 0; i < nx; ++i) {
      const size_t c = size_t(j * nx + i);
      land_.push_back(land[c]);
      fossil_.push_back(fossil_scale * fossil[c]);
      ocean_.push_back(ocean_scale * ocean[c]);
      const real_t v = vegetated_fraction(g, i, j);
      bio_s_.push_back(p_.biosphere_amplitude * v *
                       (gauss(lat, 50.0 * kDeg, 15.0 * kDeg) + 0.25 * gauss(lat, 0.0, 15.0 * kDeg) +
                        0.4 * gauss(lat, -30.0 * kDeg, 12.0 * kDeg)));
      bio_d_.push_back(p_.biosphere_diurnal_amplitude * v *
                       (0.6 * gauss(lat, 50.0 * kDeg, 15.0 * kDeg) + gauss(lat, 0.0, 15.0 * kDeg) +
                        0.6 * gauss(lat, -25.0 * kDeg, 15.0 * kDeg)));
      t_north_.push_back((196.0 + 5.0 * std::sin(g.lon_center(i) - lon_seed)) * co2::kDay);
    }
  }
}

void Co2SurfaceFluxes::fluxes(real_t t, std::vector<real_t>& anthro, std::vector<real_t>& land,
                              std::vector<real_t>& ocean) const {
  const index_t nx = g_.nlon(), nj = g_.lat_count(), j0 = g_.lat_start();
  const size_t n = size_t(nx * nj);
  anthro.resize(n);
  land.resize(n);
  ocean.resize(n);
  const real_t season = std::cos(kOmegaYear * (t - 15.0 * co2::kDay));
  const real_t h14 = 2.0 * kPi * 2.0 / 24.0, h13 = 2.0 * kPi / 24.0;
  for (index_t jl = 0; jl < nj; ++jl) {
    const real_t lat = g_.lat_center(j0 + jl), hemi = std::tanh(lat / (10.0 * kDeg));
    const real_t wn = 0.5 * (1.0 + hemi);
    const real_t fos_season = 1.0 + p_.fossil_seasonal * hemi * season;
    const real_t ocn_season = 1.0 + p_.ocean_seasonal * hemi * season;
    for (index_t i = 0; i < nx; ++i) {
      const size_t c = size_t(jl * nx + i);
      const real_t h = hour_angle(g_.lon_center(i), t);
      anthro[c] = fossil_[c] * fos_season * (1.0 + p_.fossil_diurnal * std::cos(h - h14));
      ocean[c] = ocean_[c] * ocn_season;
      const real_t xn = kOmegaYear * (t - t_north_[c]);
      const real_t xs = xn + kOmegaYear * 181.0 * co2::kDay;
      const real_t seasonal = wn * (std::cos(xn) + 0.5 * std::cos(2.0 * xn)) +
                              (1.0 - wn) * (std::cos(xs) + 0.5 * std::cos(2.0 * xs));
      const real_t growing =
          wn * 0.5 * (1.0 + std::cos(xn)) + (1.0 - wn) * 0.5 * (1.0 + std::cos(xs));
      land[c] = -bio_s_[c] * seasonal - bio_d_[c] * growing * std::cos(h - h13);
    }
  }
}

void Co2SurfaceFluxes::total_flux(real_t t, std::vector<real_t>& flux) const {
  std::vector<real_t> l, o;
  fluxes(t, flux, l, o);
  for (size_t c = 0; c < flux.size(); ++c) flux[c] += l[c] + o[c];
}

real_t co2_surface_integral(const SphereGrid& g, const std::vector<real_t>& f) {
  const index_t nx = g.nlon(), nj = g.lat_count(), j0 = g.lat_start();
  real_t local = 0;
  for (index_t jl = 0; jl < nj; ++jl) {
    real_t row = 0;
    for (index_t i = 0; i < nx; ++i) row += f[size_t(jl * nx + i)];
    local += row * g.area(j0 + jl);
  }
  real_t global = 0;
  AEOLUS_MPI(MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, g.grid().comm()));
  return global;
}

void co2_initial_mixing_ratio(const SphereGrid& g, const HybridCoordinate& c, real_t mean_ppmv,
                              Field& q) {
  if (c.nlev() != g.nlev()) {
    std::ostringstream os;
    os << "co2_initial_mixing_ratio: coordinate has " << c.nlev()
       << " levels, grid nlev = " << g.nlev();
    throw ConfigError(os.str());
  }
  FieldView v = q.view();
  for (index_t k = 0; k < v.nz; ++k) {
    const index_t kg = g.lev_start() + k;
    const real_t sigma = 0.5 * (c.p_interface(kg, c.p0) + c.p_interface(kg + 1, c.p0)) / c.p0;
    for (index_t j = 0; j < v.ny; ++j) {
      const real_t lat = g.lat_center(g.lat_start() + j);
      for (index_t i = 0; i < v.nx; ++i) {
        const real_t ppm = mean_ppmv + 2.0 * std::tanh(lat / (20.0 * kDeg)) * (0.3 + 0.7 * sigma) -
                           3.0 * (1.0 - sigma) * (1.0 - sigma) +
                           gauss(lat, 45.0 * kDeg, 15.0 * kDeg) * std::pow(sigma, 4) *
                               std::cos(g.lon_center(i) - 100.0 * kDeg);
        v(i, j, k) = ppm * co2::kMassMixingPerPpmv;
      }
    }
  }
}

void co2_add_surface_flux(const SphereGrid& g, const Field& dp, const std::vector<real_t>& flux,
                          real_t dt, Field& q) {
  const index_t nx = g.nlon(), nj = g.lat_count();
  if (index_t(flux.size()) != nx * nj) {
    std::ostringstream os;
    os << "co2_add_surface_flux: flux has " << flux.size() << " values, expected nlon * "
       << "lat_count = " << nx * nj;
    throw ConfigError(os.str());
  }
  if (g.lev_start() + g.lev_count() != g.nlev()) return;
  const ConstFieldView d = dp.view();
  FieldView v = q.view();
  const index_t kb = v.nz - 1;
  for (index_t jl = 0; jl < nj; ++jl)
    for (index_t i = 0; i < nx; ++i)
      v(i, jl, kb) += flux[size_t(jl * nx + i)] * dt * co2::kGravity / d(i, jl, kb);
}

void co2_mix_vertical(const SphereGrid& g, const HybridCoordinate& c, const Field& dp,
                      const std::vector<real_t>& blh, const Co2MixingParams& p, real_t dt,
                      Field& q) {
  validate(p);
  const index_t nx = g.nlon(), nj = g.lat_count(), nl = g.nlev();
  if (index_t(blh.size()) != nx * nj || g.lev_count() != nl || c.nlev() != nl) {
    std::ostringstream os;
    os << "co2_mix_vertical: blh has " << blh.size() << " values (expected " << nx * nj
       << "), the rank owns " << g.lev_count() << " of " << nl << " levels (expected all), the "
       << "coordinate has " << c.nlev() << " levels";
    throw ConfigError(os.str());
  }
  const ConstFieldView d = dp.view();
  FieldView v = q.view();
  std::vector<real_t> top(static_cast<size_t>(nl) + 1), f(static_cast<size_t>(nl));
  // Relaxes the layers between p_mix and the surface towards their dp-weighted mean.
  auto relax = [&](index_t i, index_t j, real_t p_mix, real_t rate) {
    real_t mass = 0, tracer = 0;
    for (index_t k = 0; k < nl; ++k) {
      const real_t lo = std::max(top[size_t(k)], p_mix);
      f[size_t(k)] = std::clamp((top[size_t(k) + 1] - lo) / d(i, j, k), 0.0, 1.0);
      mass += f[size_t(k)] * d(i, j, k);
      tracer += f[size_t(k)] * d(i, j, k) * v(i, j, k);
    }
    if (!(mass > 0)) return;
    const real_t mean = tracer / mass;
    for (index_t k = 0; k < nl; ++k)
      if (f[size_t(k)] > 0) v(i, j, k) += rate * f[size_t(k)] * (mean - v(i, j, k));
  };
  const real_t rate_bl = -std::expm1(-dt / p.boundary_layer_time);
  const real_t rate_cv = p.convective_time > 0 ? -std::expm1(-dt / p.convective_time) : 0.0;
  for (index_t j = 0; j < nj; ++j)
    for (index_t i = 0; i < nx; ++i) {
      top[0] = c.p_interface(0, 0.0);
      for (index_t k = 0; k < nl; ++k) top[size_t(k) + 1] = top[size_t(k)] + d(i, j, k);
      const real_t ps = top[size_t(nl)];
      relax(i, j, ps * std::exp(-blh[size_t(j * nx + i)] / p.scale_height), rate_bl);
      if (rate_cv > 0) relax(i, j, p.convective_top_sigma * ps, rate_cv);
    }
}

real_t co2_tracer_mass(const SphereGrid& g, const Field& dp, const Field& q) {
  const ConstFieldView d = dp.view(), v = q.view();
  real_t local = 0;
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j) {
      real_t row = 0;
      for (index_t i = 0; i < v.nx; ++i) row += v(i, j, k) * d(i, j, k);
      local += row * g.area(g.lat_start() + j) / co2::kGravity;
    }
  real_t global = 0;
  AEOLUS_MPI(MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, g.grid().comm()));
  return global;
}

}  // namespace aeolus::physics
