#include "physics/sphere_tracers.hpp"

#include <algorithm>
#include <cmath>

#include "grids/error.hpp"
#include "grids/format.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;

enum class Kind {
  cosine_bell,
  gaussian_hills,
  cosine_bells,
  slotted_cylinders,
  correlated,
  constant
};

Kind kind_of(const std::string& type) {
  if (type == "cosine_bell") return Kind::cosine_bell;
  if (type == "gaussian_hills") return Kind::gaussian_hills;
  if (type == "cosine_bells") return Kind::cosine_bells;
  if (type == "slotted_cylinders") return Kind::slotted_cylinders;
  if (type == "correlated_cosine_bells") return Kind::correlated;
  if (type == "constant") return Kind::constant;
  std::string names;
  for (const auto& n : sphere_tracer_names()) names += (names.empty() ? "" : ", ") + n;
  throw ConfigError("tracer: unknown type '" + type + "', expected one of: " + names);
}

// Resolved parameters: centres as unit vectors plus (lon, lat).
struct Tracer {
  Kind kind = Kind::constant;
  SphereTracerParams p;
  std::vector<std::array<real_t, 2>> ll;
  std::vector<std::array<real_t, 3>> xyz;
};

Tracer resolve(const SphereTracerParams& p) {
  Tracer t;
  t.kind = kind_of(p.type);
  t.p = p;
  if (p.quadrature < 1 || p.quadrature > 5) {
    throw ConfigError("tracer: quadrature = " + std::to_string(p.quadrature) +
                      ", expected 1..5 Gauss points per direction");
  }
  if (t.kind == Kind::cosine_bell && !(p.bell_radius > 0)) {
    throw ConfigError("tracer: bell_radius = " + fmt("%g", p.bell_radius) +
                      ", expected > 0 (R / a)");
  }
  if ((t.kind == Kind::cosine_bells || t.kind == Kind::slotted_cylinders ||
       t.kind == Kind::correlated) &&
      !(p.r > 0)) {
    throw ConfigError("tracer: r = " + fmt("%g", p.r) + ", expected > 0 (rad)");
  }
  t.ll = p.centers;
  if (t.ll.empty()) {
    if (t.kind == Kind::cosine_bell) {
      t.ll = {{1.5 * kPi, 0.0}};
    } else {
      t.ll = {{5 * kPi / 6, 0.0}, {7 * kPi / 6, 0.0}};
    }
  }
  if (t.kind == Kind::cosine_bell && t.ll.size() != 1) {
    throw ConfigError("tracer: cosine_bell takes exactly one centre, got " +
                      std::to_string(t.ll.size()));
  }
  for (const auto& c : t.ll) {
    t.xyz.push_back(
        {std::cos(c[1]) * std::cos(c[0]), std::cos(c[1]) * std::sin(c[0]), std::sin(c[1])});
  }
  return t;
}

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

const std::vector<std::string>& sphere_tracer_names() {
  static const std::vector<std::string> names = {
      "cosine_bell",       "gaussian_hills",          "cosine_bells",
      "slotted_cylinders", "correlated_cosine_bells", "constant"};
  return names;
}

void validate(const SphereTracerParams& p) { resolve(p); }

std::vector<std::array<real_t, 2>> nair_lauritzen_centers(int nl_case) {
  switch (nl_case) {
    case 1:
      return {{kPi, kPi / 3}, {kPi, -kPi / 3}};
    case 2:
    case 4:
      return {{5 * kPi / 6, 0.0}, {7 * kPi / 6, 0.0}};
    case 3:
      return {{3 * kPi / 4, 0.0}, {5 * kPi / 4, 0.0}};
    default:
      throw ConfigError("tracer: nl_case = " + std::to_string(nl_case) + ", expected 1..4");
  }
}

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
