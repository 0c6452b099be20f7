#include "physics/advection.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "grids/random.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t pi = 3.14159265358979323846;

enum class VelocityType { constant, rotating };

VelocityType velocity_type(const VelocityParams& p) {
  if (p.type == "constant") return VelocityType::constant;
  if (p.type == "rotating") return VelocityType::rotating;
  throw_unknown_choice("velocity.type", p.type, velocity_type_names());
}

enum class IcType { gaussian, cosine_bell, square, sine, random_blobs };

IcType ic_type(const InitialConditionParams& p) {
  if (p.type == "gaussian") return IcType::gaussian;
  if (p.type == "cosine_bell") return IcType::cosine_bell;
  if (p.type == "square") return IcType::square;
  if (p.type == "sine") return IcType::sine;
  if (p.type == "random_blobs") return IcType::random_blobs;
  throw_unknown_choice("initial_condition.type", p.type, initial_condition_type_names());
}

// What a point function needs to know about the domain: extents and periodicity of the used
// dimensions.
struct Domain {
  int dim = 1;
  Vec3 lo{0, 0, 0}, length{1, 1, 1};
  std::array<bool, 3> periodic{false, false, false};

  explicit Domain(const CartesianGrid& g) : dim(g.dim()) {
    for (int d = 0; d < 3; ++d) {
      lo[d] = g.lo(d);
      length[d] = g.hi(d) - g.lo(d);
      periodic[d] = g.periodic(d);
    }
  }

  // Signed separation x - c along d, shortest image on periodic dimensions.
  real_t separation(int d, real_t x, real_t c) const {
    real_t s = x - c;
    if (periodic[d]) s -= length[d] * std::round(s / length[d]);
    return s;
  }

  real_t distance_squared(const Vec3& x, const Vec3& c) const {
    real_t r2 = 0;
    for (int d = 0; d < dim; ++d) {
      const real_t s = separation(d, x[d], c[d]);
      r2 += s * s;
    }
    return r2;
  }

  // Map x into [lo, lo + length) along periodic dimensions.
  real_t wrap(int d, real_t x) const {
    if (!periodic[d]) return x;
    real_t w = x - length[d] * std::floor((x - lo[d]) / length[d]);
    // Rounding can land exactly on the upper end; the point is then the lower end.
    if (w >= lo[d] + length[d]) w -= length[d];
    return w;
  }
};

// Uniform in [0, 1) from the top 53 bits: exact and the same on every platform, unlike
// std::uniform_real_distribution whose algorithm the standard leaves open.
real_t uniform(std::mt19937_64& rng, real_t a, real_t b) { return a + (b - a) * uniform01(rng); }

// Point value of an initial condition; blobs are drawn once per fill, not per point.
class InitialCondition {
 public:
  InitialCondition(const InitialConditionParams& p, std::uint64_t seed, const CartesianGrid& g)
      : p_(p), type_(ic_type(p)), domain_(g) {
    if (type_ == IcType::random_blobs) blobs_ = draw_random_blobs(p, seed, g);
  }

  real_t operator()(const Vec3& x) const {
    switch (type_) {
      case IcType::gaussian:
        return p_.background + p_.amplitude * gaussian(x, p_.center, p_.radius);
      case IcType::cosine_bell: {
        const real_t r = std::sqrt(domain_.distance_squared(x, p_.center));
        if (r >= p_.radius) return p_.background;
        return p_.background + p_.amplitude * 0.5 * (1.0 + std::cos(pi * r / p_.radius));
      }
      case IcType::square: {
        for (int d = 0; d < domain_.dim; ++d) {
          if (!(std::abs(domain_.separation(d, x[d], p_.center[d])) < p_.radius)) {
            return p_.background;
          }
        }
        return p_.background + p_.amplitude;
      }
      case IcType::sine: {
        real_t s = 1.0;
        for (int d = 0; d < domain_.dim; ++d) {
          s *= std::sin(2.0 * pi * p_.wavenumber * (x[d] - domain_.lo[d]) / domain_.length[d]);
        }
        return p_.background + p_.amplitude * s;
      }
      case IcType::random_blobs: {
        real_t s = p_.background;
        for (const Blob& b : blobs_) s += b.amplitude * gaussian(x, b.center, b.radius);
        return s;
      }
    }
    return 0;
  }

 private:
  real_t gaussian(const Vec3& x, const Vec3& c, real_t radius) const {
    return std::exp(-domain_.distance_squared(x, c) / (2.0 * radius * radius));
  }

  InitialConditionParams p_;
  IcType type_;
  Domain domain_;
  std::vector<Blob> blobs_;
};

// Global index along d mapped into [0, n) on periodic dimensions: ghost cells then see exactly
// the coordinates of the cells they copy, on every rank.
index_t wrapped_index(const CartesianGrid& g, int d, index_t global) {
  if (!g.periodic(d) || d >= g.dim()) return global;
  const index_t n = g.n(d);
  return ((global % n) + n) % n;
}

// Centre of the low face along `face_dim` of the cell with global indices gi.
Vec3 face_center(const CartesianGrid& g, int face_dim, const std::array<index_t, 3>& gi) {
  Vec3 x{};
  for (int d = 0; d < 3; ++d) {
    const index_t w = wrapped_index(g, d, gi[d]);
    x[d] = d == face_dim ? g.lo(d) + real_t(w) * g.dx(d) : g.center(d, w);
  }
  return x;
}

// Cell averages over owned cells of q of f(x) by the tensor 3-point Gauss-Legendre rule along
// used dimensions (exact for polynomials of degree 5 per dimension).
template <class PointFn>
void fill_cell_averages(Field& q, const PointFn& f) {
  const CartesianGrid& g = q.grid();
  const real_t xi = 0.5 * std::sqrt(0.6);
  const real_t node[3] = {-xi, 0.0, xi};
  const real_t weight[3] = {5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0};
  int npts[3];
  for (int d = 0; d < 3; ++d) npts[d] = d < g.dim() ? 3 : 1;
  auto v = q.view();
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) {
        const index_t gi[3] = {g.start(0) + i, g.start(1) + j, g.start(2) + k};
        real_t acc = 0;
        for (int c = 0; c < npts[2]; ++c)
          for (int b = 0; b < npts[1]; ++b)
            for (int a = 0; a < npts[0]; ++a) {
              const int idx[3] = {a, b, c};
              Vec3 x{};
              real_t w = 1.0;
              for (int d = 0; d < 3; ++d) {
                x[d] = g.center(d, gi[d]);
                if (npts[d] == 3) {
                  x[d] += node[idx[d]] * g.dx(d);
                  w *= weight[idx[d]];
                }
              }
              acc += w * f(x);
            }
        v(i, j, k) = acc;
      }
}

}  // namespace

const std::vector<std::string>& velocity_type_names() {
  static const std::vector<std::string> names{"constant", "rotating"};
  return names;
}

const std::vector<std::string>& initial_condition_type_names() {
  static const std::vector<std::string> names{"gaussian", "cosine_bell", "square", "sine",
                                              "random_blobs"};
  return names;
}

real_t velocity(const VelocityParams& p, int d, const Vec3& x, real_t /*t: steady fields*/) {
  switch (velocity_type(p)) {
    case VelocityType::constant:
      return p.u[d];
    case VelocityType::rotating:
      if (d == 0) return -p.omega * (x[1] - p.center[1]);
      if (d == 1) return p.omega * (x[0] - p.center[0]);
      return 0.0;
  }
  return 0.0;
}

void fill_face_velocity(const VelocityParams& p, int d, real_t t, Field& out) {
  const CartesianGrid& g = out.grid();
  if (d < 0 || d >= g.dim()) {
    throw Error("fill_face_velocity: dimension " + std::to_string(d) + " outside [0, " +
                std::to_string(g.dim()) + ")");
  }
  velocity_type(p);  // reject an unknown type before touching the field
  auto v = out.view();
  for (index_t k = -v.hz; k < v.nz + v.hz; ++k)
    for (index_t j = -v.hy; j < v.ny + v.hy; ++j)
      for (index_t i = -v.hx; i < v.nx + v.hx; ++i) {
        const Vec3 x = face_center(g, d, {g.start(0) + i, g.start(1) + j, g.start(2) + k});
        v(i, j, k) = velocity(p, d, x, t);
      }
}

real_t max_inverse_cfl_time(const VelocityParams& p, const CartesianGrid& g, real_t t) {
  velocity_type(p);
  real_t local = 0;
  for (index_t k = 0; k < g.count(2); ++k)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i) {
        const std::array<index_t, 3> gi{g.start(0) + i, g.start(1) + j, g.start(2) + k};
        real_t s = 0;
        for (int d = 0; d < g.dim(); ++d) {
          std::array<index_t, 3> hi = gi;
          ++hi[d];
          const real_t u_lo = std::abs(velocity(p, d, face_center(g, d, gi), t));
          const real_t u_hi = std::abs(velocity(p, d, face_center(g, d, hi), t));
          s += std::max(u_lo, u_hi) / g.dx(d);
        }
        local = std::max(local, s);
      }
  real_t global = 0;
  AEOLUS_MPI(MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_MAX, g.comm()));
  return global;
}

std::vector<Blob> draw_random_blobs(const InitialConditionParams& p, std::uint64_t seed,
                                    const CartesianGrid& grid) {
  if (p.blobs_min < 0 || p.blobs_min > p.blobs_max) {
    throw ConfigError("initial_condition: blobs_min = " + std::to_string(p.blobs_min) +
                      ", blobs_max = " + std::to_string(p.blobs_max) +
                      "; expected 0 <= blobs_min <= blobs_max");
  }
  if (!(p.radius_min > 0 && p.radius_min <= p.radius_max)) {
    std::ostringstream os;
    os << "initial_condition: radius_min = " << p.radius_min << ", radius_max = " << p.radius_max
       << "; expected 0 < radius_min <= radius_max";
    throw ConfigError(os.str());
  }
  if (!(p.amplitude_min <= p.amplitude_max)) {
    std::ostringstream os;
    os << "initial_condition: amplitude_min = " << p.amplitude_min
       << ", amplitude_max = " << p.amplitude_max << "; expected amplitude_min <= amplitude_max";
    throw ConfigError(os.str());
  }
  std::mt19937_64 rng(seed);
  const int span = p.blobs_max - p.blobs_min + 1;
  const int n = p.blobs_min + std::min(span - 1, int(uniform01(rng) * span));
  std::vector<Blob> blobs(static_cast<size_t>(n));
  for (Blob& b : blobs) {
    for (int d = 0; d < 3; ++d) {
      const real_t u = uniform01(rng);
      b.center[d] = d < grid.dim() ? grid.lo(d) + u * (grid.hi(d) - grid.lo(d)) : grid.center(d, 0);
    }
    b.radius = uniform(rng, p.radius_min, p.radius_max);
    b.amplitude = uniform(rng, p.amplitude_min, p.amplitude_max);
  }
  return blobs;
}

void fill_initial_condition(const InitialConditionParams& p, std::uint64_t seed, Field& q) {
  const InitialCondition ic(p, seed, q.grid());
  fill_cell_averages(q, ic);
}

void fill_exact_solution(const InitialConditionParams& ic_params, std::uint64_t seed,
                         const VelocityParams& vel, real_t t, Field& q) {
  const CartesianGrid& g = q.grid();
  const InitialCondition ic(ic_params, seed, g);
  const Domain domain(g);
  switch (velocity_type(vel)) {
    case VelocityType::constant:
      fill_cell_averages(q, [&](const Vec3& x) {
        Vec3 x0 = x;
        for (int d = 0; d < g.dim(); ++d) x0[d] = domain.wrap(d, x[d] - vel.u[d] * t);
        return ic(x0);
      });
      return;
    case VelocityType::rotating: {
      if (g.dim() < 2) {
        throw ConfigError("exact solution: velocity.type = 'rotating' needs dim >= 2, got dim = " +
                          std::to_string(g.dim()));
      }
      const real_t c = std::cos(vel.omega * t), s = std::sin(vel.omega * t);
      fill_cell_averages(q, [&](const Vec3& x) {
        const real_t rx = x[0] - vel.center[0], ry = x[1] - vel.center[1];
        Vec3 x0 = x;
        x0[0] = vel.center[0] + c * rx + s * ry;
        x0[1] = vel.center[1] - s * rx + c * ry;
        return ic(x0);
      });
      return;
    }
  }
}

Diagnostics diagnose(const Field& q) {
  Diagnostics out;
  out.mass = q.integral();
  out.min = q.min();
  out.max = q.max();
  return out;
}

}  // namespace aeolus::physics
