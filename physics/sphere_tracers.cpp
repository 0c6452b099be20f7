#include "physics/sphere_tracers.hpp"

#include <algorithm>
#include <cmath>

#include "grids/error.hpp"
#include "physics/sphere_tracers_impl.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;

using detail::Kind;
using detail::resolve;
using detail::Tracer;

// Great-circle distance on the unit sphere between (lon, lat) with unit vector x and centre i.
real_t distance(const std::array<real_t, 3>& x, const std::array<real_t, 3>& c) {
  const real_t d = x[0] * c[0] + x[1] * c[1] + x[2] * c[2];
  return std::acos(std::clamp(d, -1.0, 1.0));
}

// Longitude difference in (-pi, pi].
real_t dlon(real_t lon, real_t lon0) {
  real_t d = std::fmod(lon - lon0, 2 * kPi);
  if (d > kPi) d -= 2 * kPi;
  if (d <= -kPi) d += 2 * kPi;
  return d;
}

real_t cosine_bells(const Tracer& t, const std::array<real_t, 3>& x) {
  for (const auto& c : t.xyz) {
    const real_t ri = distance(x, c);
    if (ri < t.p.r) return t.p.b + t.p.c * 0.5 * (1 + std::cos(kPi * ri / t.p.r));
  }
  return t.p.b;
}

real_t point(const Tracer& t, real_t lon, real_t lat) {
  const std::array<real_t, 3> x = {std::cos(lat) * std::cos(lon), std::cos(lat) * std::sin(lon),
                                   std::sin(lat)};
  const SphereTracerParams& p = t.p;
  switch (t.kind) {
    case Kind::cosine_bell: {
      const real_t rr = distance(x, t.xyz[0]) / p.bell_radius;  // r / R
      return rr < 1 ? 0.5 * p.h0 * (1 + std::cos(kPi * rr)) : 0.0;
    }
    case Kind::gaussian_hills: {
      real_t h = 0;
      for (const auto& c : t.xyz) {
        const real_t d2 = (x[0] - c[0]) * (x[0] - c[0]) + (x[1] - c[1]) * (x[1] - c[1]) +
                          (x[2] - c[2]) * (x[2] - c[2]);
        h += p.hmax * std::exp(-p.beta * d2);
      }
      return h;
    }
    case Kind::cosine_bells:
      return cosine_bells(t, x);
    case Kind::correlated: {
      const real_t q1 = cosine_bells(t, x);
      return -0.8 * q1 * q1 + 0.9;
    }
    case Kind::slotted_cylinders: {
      for (size_t i = 0; i < t.xyz.size(); ++i) {
        if (distance(x, t.xyz[i]) > p.r) continue;
        if (std::abs(dlon(lon, t.ll[i][0])) >= p.r / 6) return p.cylinder_value;
        const real_t dl = lat - t.ll[i][1];
        const bool solid = (i % 2 == 0) ? dl < -5 * p.r / 12 : dl > 5 * p.r / 12;
        if (solid) return p.cylinder_value;
      }
      return p.b;
    }
    case Kind::constant:
      return p.value;
  }
  return 0;
}

// Gauss-Legendre nodes and weights on [-1, 1] for n = 1..5.
void gauss_rule(int n, std::vector<real_t>& x, std::vector<real_t>& w) {
  switch (n) {
    case 1:
      x = {0.0};
      w = {2.0};
      break;
    case 2:
      x = {-0.57735026918962576451, 0.57735026918962576451};
      w = {1.0, 1.0};
      break;
    case 3:
      x = {-0.77459666924148337704, 0.0, 0.77459666924148337704};
      w = {5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0};
      break;
    case 4:
      x = {-0.86113631159405257522, -0.33998104358485626480, 0.33998104358485626480,
           0.86113631159405257522};
      w = {0.34785484513745385737, 0.65214515486254614263, 0.65214515486254614263,
           0.34785484513745385737};
      break;
    default:
      x = {-0.90617984593866399280, -0.53846931010664337760, 0.0, 0.53846931010664337760,
           0.90617984593866399280};
      w = {0.23692688505618908751, 0.47862867049936646804, 0.56888888888888888889,
           0.47862867049936646804, 0.23692688505618908751};
      break;
  }
}

}  // namespace

real_t sphere_tracer_point(const SphereTracerParams& p, real_t lon, real_t lat) {
  return point(resolve(p), lon, lat);
}

void fill_sphere_tracer(const SphereTracerParams& p, const SphereGrid& g, Field& q) {
  Tracer t = resolve(p);
  auto v = q.view();
  if (v.nx != g.nlon() || v.ny != g.lat_count() || q.grid().start(1) != g.lat_start()) {
    throw ConfigError("tracer: field '" + q.name() + "' (" + std::to_string(v.nx) + " x " +
                      std::to_string(v.ny) + " owned cells) does not match the sphere grid (" +
                      std::to_string(g.nlon()) + " x " + std::to_string(g.lat_count()) + ")");
  }
  // The correlated tracer is the relation applied to the cell averages of the cosine bells.
  const bool correlated = t.kind == Kind::correlated;
  if (correlated) t.kind = Kind::cosine_bells;
  std::vector<real_t> gx, gw;
  gauss_rule(p.quadrature, gx, gw);
  const int n = p.quadrature;
  const index_t j0 = g.lat_start();
  std::vector<real_t> lat_q(static_cast<size_t>(n)), wq(static_cast<size_t>(n * n));
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) wq[size_t(a * n + b)] = 0.25 * gw[size_t(a)] * gw[size_t(b)];
  const real_t hl = 0.5 * g.dlon();
  for (index_t j = 0; j < v.ny; ++j) {
    const index_t jg = j0 + j;
    const real_t s0 = g.sin_lat_edge(jg), s1 = g.sin_lat_edge(jg + 1);
    for (int b = 0; b < n; ++b) {
      const real_t mu = 0.5 * (s0 + s1) + 0.5 * (s1 - s0) * gx[size_t(b)];
      lat_q[size_t(b)] = std::asin(std::clamp(mu, -1.0, 1.0));
    }
    for (index_t i = 0; i < v.nx; ++i) {
      const real_t lmid = g.lon_edge(i) + hl;
      real_t avg = 0;
      if (t.kind == Kind::constant) {
        avg = p.value;  // exact, not a quadrature sum
      } else {
        for (int a = 0; a < n; ++a) {
          const real_t lon = lmid + hl * gx[size_t(a)];
          for (int b = 0; b < n; ++b)
            avg += wq[size_t(a * n + b)] * point(t, lon, lat_q[size_t(b)]);
        }
      }
      if (correlated) avg = -0.8 * avg * avg + 0.9;
      for (index_t k = 0; k < v.nz; ++k) v(i, j, k) = avg;
    }
  }
}

}  // namespace aeolus::physics
