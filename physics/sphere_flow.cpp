#include "physics/sphere_flow.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <utility>

#include "grids/error.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;
// Nair & Lauritzen (2010) work on the unit sphere with T = 5.
constexpr real_t kNlPeriod = 5.0;

enum class Kind { williamson, nl1, nl2, nl3, nl4, lauritzen_divergent };

struct Flow {
  Kind kind = Kind::williamson;
  real_t alpha = 0;
  real_t period = 1;
};

Flow resolve(const SphereFlowParams& p) {
  if (!(p.period > 0) || !std::isfinite(p.period)) {
    std::ostringstream os;
    os << "flow: period = " << p.period << " s, expected a positive number";
    throw ConfigError(os.str());
  }
  Flow f;
  f.alpha = p.alpha;
  f.period = p.period;
  if (p.type == "williamson") {
    f.kind = Kind::williamson;
  } else if (p.type == "nair_lauritzen") {
    switch (p.nl_case) {
      case 1:
        f.kind = Kind::nl1;
        break;
      case 2:
        f.kind = Kind::nl2;
        break;
      case 3:
        f.kind = Kind::nl3;
        break;
      case 4:
        f.kind = Kind::nl4;
        break;
      default:
        throw ConfigError("flow: nl_case = " + std::to_string(p.nl_case) +
                          ", expected 1, 2, 3 or 4 (Nair & Lauritzen 2010 cases)");
    }
  } else if (p.type == "lauritzen_nondivergent") {
    f.kind = Kind::nl4;  // the same flow: NL2010 case 4 with T = period
  } else if (p.type == "lauritzen_divergent") {
    f.kind = Kind::lauritzen_divergent;
  } else {
    std::string names;
    for (const auto& n : sphere_flow_names()) names += (names.empty() ? "" : ", ") + n;
    throw ConfigError("flow: unknown type '" + p.type + "', expected one of: " + names);
  }
  return f;
}

bool divergent(Kind k) { return k == Kind::nl3 || k == Kind::lauritzen_divergent; }

// Winds from sin/cos of the latitude (so the grid's exact pole values can be used).
void wind_sc(const Flow& f, real_t a, real_t lon, real_t sl, real_t cl, real_t t, real_t& u,
             real_t& v) {
  if (f.kind == Kind::williamson) {
    const real_t u0 = 2 * kPi * a / f.period;
    const real_t ca = std::cos(f.alpha), sa = std::sin(f.alpha);
    u = u0 * (cl * ca + sl * std::cos(lon) * sa);
    v = -u0 * std::sin(lon) * sa;
    return;
  }
  const real_t s = kNlPeriod / f.period;  // unit-sphere time per second
  const real_t tu = s * t;
  const real_t c = std::cos(kPi * tu / kNlPeriod);
  const real_t sin2lat = 2 * sl * cl;
  real_t uu = 0, vu = 0;  // unit-sphere winds
  switch (f.kind) {
    case Kind::nl1: {
      const real_t k = 2.4, sh = std::sin(0.5 * lon);
      uu = k * sh * sh * sin2lat * c;
      vu = 0.5 * k * std::sin(lon) * cl * c;
      break;
    }
    case Kind::nl2: {
      const real_t k = 2.0, sn = std::sin(lon);
      uu = k * sn * sn * sin2lat * c;
      vu = k * std::sin(2 * lon) * cl * c;
      break;
    }
    case Kind::nl3: {
      const real_t k = 1.0, sh = std::sin(0.5 * lon);
      uu = -k * sh * sh * sin2lat * cl * cl * c;
      vu = 0.5 * k * std::sin(lon) * cl * cl * cl * c;
      break;
    }
    case Kind::nl4: {
      const real_t k = 2.0, lp = lon - 2 * kPi * tu / kNlPeriod, sn = std::sin(lp);
      uu = k * sn * sn * sin2lat * c + 2 * kPi * cl / kNlPeriod;
      vu = k * std::sin(2 * lp) * cl * c;
      break;
    }
    case Kind::lauritzen_divergent: {
      const real_t k = 1.0, lp = lon - 2 * kPi * tu / kNlPeriod, sh = std::sin(0.5 * lp);
      uu = -k * sh * sh * sin2lat * cl * cl * c + 2 * kPi * cl / kNlPeriod;
      vu = 0.5 * k * std::sin(lp) * cl * cl * cl * c;
      break;
    }
    case Kind::williamson:
      break;
  }
  u = a * s * uu;
  v = a * s * vu;
}

real_t psi_sc(const Flow& f, real_t a, real_t lon, real_t sl, real_t cl, real_t t) {
  if (f.kind == Kind::williamson) {
    const real_t u0 = 2 * kPi * a / f.period;
    return -u0 * a * (sl * std::cos(f.alpha) - std::cos(lon) * cl * std::sin(f.alpha));
  }
  const real_t s = kNlPeriod / f.period;
  const real_t tu = s * t;
  const real_t c = std::cos(kPi * tu / kNlPeriod);
  real_t psi = 0;
  switch (f.kind) {
    case Kind::nl1: {
      const real_t sh = std::sin(0.5 * lon);
      psi = 2.4 * sh * sh * cl * cl * c;
      break;
    }
    case Kind::nl2: {
      const real_t sn = std::sin(lon);
      psi = 2.0 * sn * sn * cl * cl * c;
      break;
    }
    case Kind::nl4: {
      const real_t sn = std::sin(lon - 2 * kPi * tu / kNlPeriod);
      psi = 2.0 * sn * sn * cl * cl * c - (2 * kPi / kNlPeriod) * sl;
      break;
    }
    default:
      throw ConfigError("flow: the divergent flow has no stream function");
  }
  return a * a * s * psi;
}

// 3-point Gauss-Legendre on [-1, 1].
constexpr real_t kGaussX[3] = {-0.77459666924148337704, 0.0, 0.77459666924148337704};
constexpr real_t kGaussW[3] = {5.0 / 9.0, 8.0 / 9.0, 5.0 / 9.0};

// psi_sc with the longitude-dependent trigonometry of each corner column evaluated once per call
// (the same expressions in the same order, so the values are bitwise those of psi_sc): the
// face loops then cost a few multiplications per corner instead of sin/cos calls.
// Buffers of the swept-area evaluation, kept across steps by sphere_flow_function so that a
// step allocates nothing.
struct FlowScratch {
  std::vector<real_t> trig, prev, cur;
};

struct PsiColumns {
  std::vector<real_t>& trig;  // per corner column: cos(lon) or the sine psi_sc squares
  real_t cos_alpha = 0, sin_alpha = 0, c = 0, s = 0;

  // trig: a buffer kept by the caller across steps (resized to nlon).
  PsiColumns(const Flow& f, const SphereGrid& g, real_t t, std::vector<real_t>& trig_buffer)
      : trig(trig_buffer) {
    trig.resize(size_t(g.nlon()));
    cos_alpha = std::cos(f.alpha);
    sin_alpha = std::sin(f.alpha);
    s = kNlPeriod / f.period;
    const real_t tu = s * t;
    c = std::cos(kPi * tu / kNlPeriod);
    for (index_t i = 0; i < g.nlon(); ++i) {
      const real_t lon = g.lon_edge(i);
      real_t v = 0;
      switch (f.kind) {
        case Kind::williamson:
          v = std::cos(lon);
          break;
        case Kind::nl1:
          v = std::sin(0.5 * lon);
          break;
        case Kind::nl2:
          v = std::sin(lon);
          break;
        case Kind::nl4:
          v = std::sin(lon - 2 * kPi * tu / kNlPeriod);
          break;
        default:
          throw ConfigError("flow: the divergent flow has no stream function");
      }
      trig[size_t(i)] = v;
    }
  }

  // psi at the corners of one edge row (sin/cos of its latitude), into out.
  void row(const Flow& f, real_t a, real_t sl, real_t cl, std::vector<real_t>& out) const {
    const size_t n = trig.size();
    switch (f.kind) {
      case Kind::williamson: {
        const real_t u0 = 2 * kPi * a / f.period;
        for (size_t i = 0; i < n; ++i)
          out[i] = -u0 * a * (sl * cos_alpha - trig[i] * cl * sin_alpha);
        break;
      }
      case Kind::nl1:
        for (size_t i = 0; i < n; ++i) out[i] = a * a * s * (2.4 * trig[i] * trig[i] * cl * cl * c);
        break;
      case Kind::nl2:
        for (size_t i = 0; i < n; ++i) out[i] = a * a * s * (2.0 * trig[i] * trig[i] * cl * cl * c);
        break;
      case Kind::nl4:
        for (size_t i = 0; i < n; ++i)
          out[i] = a * a * s * (2.0 * trig[i] * trig[i] * cl * cl * c - (2 * kPi / kNlPeriod) * sl);
        break;
      default:
        throw ConfigError("flow: the divergent flow has no stream function");
    }
  }
};

void swept_nondivergent(const Flow& f, const SphereGrid& g, real_t th, real_t dt,
                        SphereFaceFluxes& out, FlowScratch& w) {
  const index_t nx = g.nlon(), ny = g.nlat(), h = g.halo();
  const index_t j0 = g.lat_start(), nj = g.lat_count();
  const real_t a = g.radius();
  const index_t e0 = std::max<index_t>(0, j0 - h), e1 = std::min<index_t>(ny, j0 + nj + h);
  const PsiColumns cols(f, g, th, w.trig);
  std::vector<real_t>& prev = w.prev;
  std::vector<real_t>& cur = w.cur;
  prev.resize(size_t(nx));
  cur.resize(size_t(nx));
  for (index_t e = e0; e <= e1; ++e) {
    cols.row(f, a, g.sin_lat_edge(e), g.cos_lat_edge(e), cur);
    if (e > e0) {
      // West faces of row e - 1: psi(south corner) - psi(north corner).
      real_t* xa = out.xa.data() + (e - 1 - j0 + h) * nx;
      for (index_t i = 0; i < nx; ++i) xa[i] = dt * (prev[size_t(i)] - cur[size_t(i)]);
    }
    if (e >= j0 && e <= j0 + nj) {
      // South faces of row e: psi(east corner) - psi(west corner); zero-length pole edges.
      real_t* ya = out.ya.data() + (e - j0) * nx;
      if (e == 0 || e == ny) {
        std::fill(ya, ya + nx, 0.0);
      } else {
        // (The periodic wrap of the last face apart: an integer modulo per face cost most of
        // this function's time.)
        for (index_t i = 0; i + 1 < nx; ++i) ya[i] = dt * (cur[size_t(i + 1)] - cur[size_t(i)]);
        ya[nx - 1] = dt * (cur[0] - cur[size_t(nx - 1)]);
      }
    }
    std::swap(prev, cur);
  }
}

void swept_divergent(const Flow& f, const SphereGrid& g, real_t th, real_t dt,
                     SphereFaceFluxes& out) {
  const index_t nx = g.nlon(), ny = g.nlat(), h = g.halo();
  const index_t j0 = g.lat_start(), nj = g.lat_count();
  const real_t a = g.radius();
  const index_t r0 = std::max<index_t>(0, j0 - h), r1 = std::min<index_t>(ny, j0 + nj + h);
  real_t sl[3], cl[3];
  for (index_t j = r0; j < r1; ++j) {
    const real_t mid = 0.5 * (g.lat_edge(j) + g.lat_edge(j + 1));
    const real_t half = 0.5 * (g.lat_edge(j + 1) - g.lat_edge(j));
    for (int k = 0; k < 3; ++k) {
      sl[k] = std::sin(mid + half * kGaussX[k]);
      cl[k] = std::cos(mid + half * kGaussX[k]);
    }
    real_t* xa = out.xa.data() + (j - j0 + h) * nx;
    for (index_t i = 0; i < nx; ++i) {
      real_t sum = 0;
      for (int k = 0; k < 3; ++k) {
        real_t u = 0, v = 0;
        wind_sc(f, a, g.lon_edge(i), sl[k], cl[k], th, u, v);
        sum += kGaussW[k] * u;
      }
      xa[i] = dt * a * half * sum;
    }
  }
  const real_t hl = 0.5 * g.dlon();
  for (index_t e = j0; e <= j0 + nj; ++e) {
    real_t* ya = out.ya.data() + (e - j0) * nx;
    if (e == 0 || e == ny) {
      std::fill(ya, ya + nx, 0.0);
      continue;
    }
    const real_t sle = g.sin_lat_edge(e), cle = g.cos_lat_edge(e);
    for (index_t i = 0; i < nx; ++i) {
      const real_t mid = g.lon_edge(i) + hl;
      real_t sum = 0;
      for (int k = 0; k < 3; ++k) {
        real_t u = 0, v = 0;
        wind_sc(f, a, mid + hl * kGaussX[k], sle, cle, th, u, v);
        sum += kGaussW[k] * v;
      }
      ya[i] = dt * a * cle * hl * sum;
    }
  }
}

}  // namespace

void validate(const SphereFlowParams& p) { resolve(p); }

bool is_divergent(const SphereFlowParams& p) { return divergent(resolve(p).kind); }

void sphere_wind(const SphereFlowParams& p, real_t a, real_t lon, real_t lat, real_t t, real_t& u,
                 real_t& v) {
  wind_sc(resolve(p), a, lon, std::sin(lat), std::cos(lat), t, u, v);
}

real_t stream_function(const SphereFlowParams& p, real_t a, real_t lon, real_t lat, real_t t) {
  const Flow f = resolve(p);
  if (divergent(f.kind)) {
    throw ConfigError("flow: type '" + p.type + "'" +
                      (p.type == "nair_lauritzen" ? " (nl_case 3)" : "") +
                      " is divergent and has no stream function");
  }
  return psi_sc(f, a, lon, std::sin(lat), std::cos(lat), t);
}

namespace {
void swept_areas(const SphereFlowParams& p, const SphereGrid& g, real_t t, real_t dt,
                 SphereFaceFluxes& out, FlowScratch& w) {
  const Flow f = resolve(p);
  const index_t nx = g.nlon(), h = g.halo(), nj = g.lat_count(), j0 = g.lat_start();
  if (out.xa.size() != size_t((nj + 2 * h) * nx) || out.ya.size() != size_t((nj + 1) * nx)) {
    out.resize(g);
  }
  // Rows beyond the poles are 0; every other entry is overwritten below.
  for (index_t r = -h; r < nj + h; ++r) {
    const index_t j = j0 + r;
    if (j < 0 || j >= g.nlat()) {
      std::fill(out.xa.begin() + (r + h) * nx, out.xa.begin() + (r + h + 1) * nx, 0.0);
    }
  }
  const real_t th = t + 0.5 * dt;
  if (divergent(f.kind)) {
    swept_divergent(f, g, th, dt, out);
  } else {
    swept_nondivergent(f, g, th, dt, out, w);
  }
}
}  // namespace

void sphere_swept_areas(const SphereFlowParams& p, const SphereGrid& g, real_t t, real_t dt,
                        SphereFaceFluxes& out) {
  FlowScratch w;
  swept_areas(p, g, t, dt, out, w);
}

SweptAreaFunction sphere_flow_function(const SphereFlowParams& p, const SphereGrid& g) {
  validate(p);
  auto w = std::make_shared<FlowScratch>();
  return
      [p, &g, w](real_t t, real_t dt, SphereFaceFluxes& out) { swept_areas(p, g, t, dt, out, *w); };
}

}  // namespace aeolus::physics
