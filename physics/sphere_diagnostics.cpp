#include "physics/sphere_diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;

// LSPT (2012) supplement diag.F90 constants.
constexpr real_t kQ1Min = 0.1, kQ1Max = 1.0;
constexpr real_t kScale1 = 0.9, kScale2 = 0.792;
constexpr real_t kClassTol = 1e-7;      // correlation_diag: eps
constexpr real_t kFilamentTol = 1e-12;  // filament_diag: tiny

real_t curve(real_t x) { return -0.8 * x * x + 0.9; }

// Chord through the curve's end points (0.1, psi(0.1)) and (1, psi(1)).
real_t chord(real_t x) {
  const real_t y0 = curve(kQ1Min), y1 = curve(kQ1Max);
  const real_t slope = (y1 - y0) / (kQ1Max - kQ1Min);
  return y0 + slope * (x - kQ1Min);
}

void check_field(const SphereGrid& g, const Field& q, const char* what) {
  const auto v = q.view();
  if (v.nx != g.nlon() || v.ny != g.lat_count() || q.grid().start(1) != g.lat_start()) {
    throw ConfigError(std::string(what) + ": field '" + q.name() + "' (" + std::to_string(v.nx) +
                      " x " + std::to_string(v.ny) + " owned cells from row " +
                      std::to_string(q.grid().start(1)) + ") does not match the sphere grid (" +
                      std::to_string(g.nlon()) + " x " + std::to_string(g.lat_count()) +
                      " from row " + std::to_string(g.lat_start()) + ")");
  }
}

// Accumulates `nv` per-row sums for every (level, owned row); combine() returns their global
// sums in a fixed order (levels, then rows south to north).
class RowSums {
 public:
  RowSums(const SphereGrid& g, index_t nz, int nv)
      : g_(g), nz_(nz), nv_(nv), rows_(size_t(nz * g.nlat() * nv), 0.0) {}
  real_t& at(index_t k, index_t j_local, int m) {
    return rows_[size_t(((k * g_.nlat()) + g_.lat_start() + j_local) * nv_ + m)];
  }
  std::vector<real_t> combine() {
    std::vector<real_t> all(rows_.size(), 0.0);
    // Every entry has one owner; the others add exact zeros, so the result is bitwise the
    // owner's value whatever the reduction order.
    AEOLUS_MPI(MPI_Allreduce(rows_.data(), all.data(), int(all.size()), MPI_DOUBLE, MPI_SUM,
                             g_.grid().comm()));
    std::vector<real_t> out(size_t(nv_), 0.0);
    for (index_t r = 0; r < nz_ * g_.nlat(); ++r)
      for (int m = 0; m < nv_; ++m) out[size_t(m)] += all[size_t(r * nv_ + m)];
    return out;
  }

 private:
  const SphereGrid& g_;
  index_t nz_;
  int nv_;
  std::vector<real_t> rows_;
};

real_t global_max(const SphereGrid& g, real_t x) {
  real_t y = 0;
  AEOLUS_MPI(MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_MAX, g.grid().comm()));
  return y;
}

real_t global_min(const SphereGrid& g, real_t x) {
  real_t y = 0;
  AEOLUS_MPI(MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_MIN, g.grid().comm()));
  return y;
}

real_t scaled_distance2(real_t x, real_t q1, real_t q2) {
  const real_t a = (q1 - x) / kScale1, b = (q2 - curve(x)) / kScale2;
  return a * a + b * b;
}

// Real roots of x^3 + p x + q = 0.
int cubic_roots(real_t p, real_t q, real_t roots[3]) {
  const real_t disc = 0.25 * q * q + p * p * p / 27.0;
  if (disc > 0) {
    const real_t s = std::sqrt(disc);
    roots[0] = std::cbrt(-0.5 * q + s) + std::cbrt(-0.5 * q - s);
    return 1;
  }
  if (p == 0) {  // then q == 0 too
    roots[0] = 0;
    return 1;
  }
  const real_t m = 2 * std::sqrt(-p / 3);
  const real_t arg = std::clamp(3 * q / (p * m), -1.0, 1.0);
  const real_t phi = std::acos(arg) / 3;
  for (int k = 0; k < 3; ++k) roots[k] = m * std::cos(phi - 2 * kPi * k / 3);
  return 3;
}

}  // namespace

ErrorNorms error_norms(const SphereGrid& g, const Field& q, const Field& exact) {
  check_field(g, q, "error_norms");
  check_field(g, exact, "error_norms");
  const auto a = q.view();
  const auto e = exact.view();
  RowSums rows(g, a.nz, 4);
  real_t max_err = 0, max_exact = 0;
  for (index_t k = 0; k < a.nz; ++k) {
    for (index_t j = 0; j < a.ny; ++j) {
      real_t s[4] = {0, 0, 0, 0};
      for (index_t i = 0; i < a.nx; ++i) {
        const real_t d = a(i, j, k) - e(i, j, k), x = e(i, j, k);
        s[0] += std::abs(d);
        s[1] += std::abs(x);
        s[2] += d * d;
        s[3] += x * x;
        max_err = std::max(max_err, std::abs(d));
        max_exact = std::max(max_exact, std::abs(x));
      }
      const real_t area = g.area(g.lat_start() + j);
      for (int m = 0; m < 4; ++m) rows.at(k, j, m) = s[m] * area;
    }
  }
  const auto sums = rows.combine();
  max_err = global_max(g, max_err);
  max_exact = global_max(g, max_exact);
  if (!(sums[1] > 0) || !(max_exact > 0)) {
    throw NumericsError("error_norms: the exact field '" + exact.name() +
                        "' is zero everywhere; the normalised norms are undefined");
  }
  ErrorNorms n;
  n.l1 = sums[0] / sums[1];
  n.l2 = std::sqrt(sums[2]) / std::sqrt(sums[3]);
  n.linf = max_err / max_exact;
  return n;
}

ExtremaDiagnostics extrema_diagnostics(const SphereGrid& g, const Field& q, const Field& exact) {
  check_field(g, q, "extrema_diagnostics");
  check_field(g, exact, "extrema_diagnostics");
  const auto a = q.view();
  const auto e = exact.view();
  constexpr real_t inf = std::numeric_limits<real_t>::infinity();
  real_t qmin = inf, qmax = -inf, emin = inf, emax = -inf;
  for (index_t k = 0; k < a.nz; ++k)
    for (index_t j = 0; j < a.ny; ++j)
      for (index_t i = 0; i < a.nx; ++i) {
        qmin = std::min(qmin, a(i, j, k));
        qmax = std::max(qmax, a(i, j, k));
        emin = std::min(emin, e(i, j, k));
        emax = std::max(emax, e(i, j, k));
      }
  qmin = global_min(g, qmin);
  qmax = global_max(g, qmax);
  emin = global_min(g, emin);
  emax = global_max(g, emax);
  const real_t range = emax - emin;
  if (!(range > 0)) {
    std::ostringstream os;
    os << "extrema_diagnostics: the exact field '" << exact.name() << "' is constant (" << emin
       << "); the normalised extrema are undefined";
    throw NumericsError(os.str());
  }
  return {(qmin - emin) / range, (qmax - emax) / range};
}

std::vector<real_t> filament_thresholds() {
  std::vector<real_t> t(19);
  for (int k = 0; k <= 18; ++k) t[size_t(k)] = 0.1 + (real_t(k) / 18.0) * 0.9;
  return t;
}

std::vector<real_t> area_above(const SphereGrid& g, const Field& q,
                               const std::vector<real_t>& thresholds) {
  check_field(g, q, "area_above");
  const auto a = q.view();
  const int nt = int(thresholds.size());
  if (nt == 0) return {};
  RowSums rows(g, a.nz, nt);
  for (index_t k = 0; k < a.nz; ++k)
    for (index_t j = 0; j < a.ny; ++j) {
      const real_t area = g.area(g.lat_start() + j);
      for (int m = 0; m < nt; ++m) {
        const real_t tau = thresholds[size_t(m)] - kFilamentTol;
        index_t count = 0;
        for (index_t i = 0; i < a.nx; ++i) count += a(i, j, k) >= tau ? 1 : 0;
        rows.at(k, j, m) = real_t(count) * area;
      }
    }
  return rows.combine();
}

MixingClass mixing_class(real_t q1, real_t q2) {
  if (q2 < curve(q1) + kClassTol && q2 > chord(q1) - kClassTol) return MixingClass::real_mixing;
  const real_t q2_lo = curve(kQ1Max), q2_hi = curve(kQ1Min);
  if (q1 < kQ1Max + kClassTol && q1 > kQ1Min - kClassTol && q2 < q2_hi + kClassTol &&
      q2 > q2_lo - kClassTol) {
    return MixingClass::range_preserving_unmixing;
  }
  return MixingClass::overshooting;
}

real_t mixing_distance(real_t q1, real_t q2) {
  // Stationary points of the scaled squared distance: x^3 + p x + r = 0 with
  // c = (0.792 / 0.9)^2 / 1.28, p = c - 1.25 (0.9 - q2), r = -c q1.
  const real_t c = (kScale2 / kScale1) * (kScale2 / kScale1) / 1.28;
  real_t roots[3];
  const int n = cubic_roots(c - 1.25 * (0.9 - q2), -c * q1, roots);
  real_t best = std::min(scaled_distance2(kQ1Min, q1, q2), scaled_distance2(kQ1Max, q1, q2));
  best = std::min(best, scaled_distance2(std::clamp(q1, kQ1Min, kQ1Max), q1, q2));
  for (int k = 0; k < n; ++k)
    best = std::min(best, scaled_distance2(std::clamp(roots[k], kQ1Min, kQ1Max), q1, q2));
  return std::sqrt(best);
}

MixingDiagnostics mixing_diagnostics(const SphereGrid& g, const Field& q1, const Field& q2) {
  check_field(g, q1, "mixing_diagnostics");
  check_field(g, q2, "mixing_diagnostics");
  const auto a = q1.view();
  const auto b = q2.view();
  RowSums rows(g, a.nz, 4);  // real mixing, unmixing, overshooting, total area
  for (index_t k = 0; k < a.nz; ++k)
    for (index_t j = 0; j < a.ny; ++j) {
      real_t s[3] = {0, 0, 0};
      for (index_t i = 0; i < a.nx; ++i) {
        const real_t x = a(i, j, k), y = b(i, j, k);
        s[int(mixing_class(x, y))] += mixing_distance(x, y);
      }
      const real_t area = g.area(g.lat_start() + j);
      for (int m = 0; m < 3; ++m) rows.at(k, j, m) = s[m] * area;
      rows.at(k, j, 3) = real_t(a.nx) * area;
    }
  const auto sums = rows.combine();
  return {sums[0] / sums[3], sums[1] / sums[3], sums[2] / sums[3]};
}

real_t total_mass(const SphereGrid& g, const Field& q) {
  check_field(g, q, "total_mass");
  const auto a = q.view();
  RowSums rows(g, a.nz, 1);
  for (index_t k = 0; k < a.nz; ++k)
    for (index_t j = 0; j < a.ny; ++j) {
      real_t s = 0;
      for (index_t i = 0; i < a.nx; ++i) s += a(i, j, k);
      rows.at(k, j, 0) = s * g.area(g.lat_start() + j);
    }
  return rows.combine()[0];
}

}  // namespace aeolus::physics
