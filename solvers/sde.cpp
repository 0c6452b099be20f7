#include "solvers/sde.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace aeolus {

const std::vector<std::string>& sde_method_names() {
  static const std::vector<std::string> names = {"euler_maruyama", "milstein", "rk_milstein",
                                                 "sriw1",          "sra1",     "sra3"};
  return names;
}

SdeMethod sde_method_from_name(const std::string& name, const std::string& key) {
  static const SdeMethod methods[] = {SdeMethod::euler_maruyama, SdeMethod::milstein,
                                      SdeMethod::rk_milstein,    SdeMethod::sriw1,
                                      SdeMethod::sra1,           SdeMethod::sra3};
  const auto& names = sde_method_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return methods[i];
  throw_unknown_choice(key, name, names);
}

std::string sde_method_name(SdeMethod m) {
  return sde_method_names().at(static_cast<std::size_t>(m));
}

NoiseType noise_type_from_name(const std::string& name, const std::string& key) {
  if (name == "diagonal") return NoiseType::diagonal;
  if (name == "scalar") return NoiseType::scalar;
  throw_unknown_choice(key, name, {"diagonal", "scalar"});
}

std::string noise_type_name(NoiseType n) {
  return n == NoiseType::diagonal ? "diagonal" : "scalar";
}

double sde_strong_order(SdeMethod m) {
  switch (m) {
    case SdeMethod::euler_maruyama:
      return 0.5;
    case SdeMethod::milstein:
    case SdeMethod::rk_milstein:
      return 1.0;
    case SdeMethod::sriw1:
    case SdeMethod::sra1:
    case SdeMethod::sra3:
      return 1.5;
  }
  return 0.5;
}

bool sde_method_is_adaptive(SdeMethod m) {
  return m == SdeMethod::sriw1 || m == SdeMethod::sra1 || m == SdeMethod::sra3;
}

bool sde_method_needs_additive_noise(SdeMethod m) {
  return m == SdeMethod::sra1 || m == SdeMethod::sra3;
}

double sde_stability_boundary(SdeMethod m) {
  switch (m) {
    case SdeMethod::euler_maruyama:
    case SdeMethod::milstein:
    case SdeMethod::rk_milstein:
    case SdeMethod::sriw1:
    case SdeMethod::sra1:
      return 2.0;
    case SdeMethod::sra3:
      return 2.512745326618329;
  }
  return 2.0;
}

// Coefficients from Roessler (2010), SIAM J. Numer. Anal. 48(3), tables of SRI1 and SRA1/SRA3,
// in the form used by Rackauckas & Nie (2017). e: the drift part of their error estimate,
// h (f_2 - f_1), the difference between the two-stage drift quadrature and the embedded
// scheme's.
const SriTableau& sri_tableau(SdeMethod m) {
  if (m != SdeMethod::sriw1)
    throw ConfigError("sri_tableau: method '" + sde_method_name(m) +
                      "' is not an SRI method; expected: sriw1");
  static const SriTableau sriw1 = [] {
    SriTableau t;
    t.stages = 4;
    t.c0 = {0.0, 0.75, 0.0, 0.0};
    t.c1 = {0.0, 0.25, 1.0, 0.25};
    t.a0 = std::vector<double>(16, 0.0);
    t.a1 = std::vector<double>(16, 0.0);
    t.b0 = std::vector<double>(16, 0.0);
    t.b1 = std::vector<double>(16, 0.0);
    t.a0[1 * 4 + 0] = 0.75;
    t.b0[1 * 4 + 0] = 1.5;
    t.a1[1 * 4 + 0] = 0.25;
    t.a1[2 * 4 + 0] = 1.0;
    t.a1[3 * 4 + 0] = 0.25;
    t.b1[1 * 4 + 0] = 0.5;
    t.b1[2 * 4 + 0] = -1.0;
    t.b1[3 * 4 + 0] = -5.0;
    t.b1[3 * 4 + 1] = 3.0;
    t.b1[3 * 4 + 2] = 0.5;
    t.alpha = {1.0 / 3.0, 2.0 / 3.0, 0.0, 0.0};
    t.beta1 = {-1.0, 4.0 / 3.0, 2.0 / 3.0, 0.0};
    t.beta2 = {-1.0, 4.0 / 3.0, -1.0 / 3.0, 0.0};
    t.beta3 = {2.0, -4.0 / 3.0, -2.0 / 3.0, 0.0};
    t.beta4 = {-2.0, 5.0 / 3.0, -2.0 / 3.0, 1.0};
    t.e = {-1.0, 1.0, 0.0, 0.0};
    return t;
  }();
  return sriw1;
}

const SraTableau& sra_tableau(SdeMethod m) {
  static const SraTableau sra1 = [] {
    SraTableau t;
    t.stages = 2;
    t.c0 = {0.0, 0.75};
    t.c1 = {1.0, 0.0};
    t.a0 = {0.0, 0.0, 0.75, 0.0};
    t.b0 = {0.0, 0.0, 1.5, 0.0};
    t.alpha = {1.0 / 3.0, 2.0 / 3.0};
    t.beta1 = {1.0, 0.0};
    t.beta2 = {-1.0, 1.0};
    t.e = {-1.0, 1.0};
    return t;
  }();
  static const SraTableau sra3 = [] {
    SraTableau t;
    t.stages = 3;
    t.c0 = {0.0, 1.0, 0.5};
    t.c1 = {1.0, 0.0, 0.0};
    t.a0 = {0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.25, 0.25, 0.0};
    t.b0 = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.5, 0.0};
    t.alpha = {1.0 / 6.0, 1.0 / 6.0, 2.0 / 3.0};
    t.beta1 = {1.0, 0.0, 0.0};
    t.beta2 = {-1.0, 1.0, 0.0};
    t.e = {-1.0, 1.0, 0.0};
    return t;
  }();
  if (m == SdeMethod::sra1) return sra1;
  if (m == SdeMethod::sra3) return sra3;
  throw ConfigError("sra_tableau: method '" + sde_method_name(m) +
                    "' is not an SRA method; expected one of: sra1, sra3");
}

BrownianPath::BrownianPath(std::size_t dim, std::uint64_t seed, double t0)
    : dim_(dim), t0_(t0), t_last_(t0), normal_(seed) {
  if (dim == 0) throw ConfigError("BrownianPath: dim = 0; need at least one Wiener component");
}

double BrownianPath::snap_tol(double t) const {
  return 1e-13 * std::max({1.0, std::abs(t), std::abs(t0_)});
}

void BrownianPath::extend_to(double t) {
  // A fresh interval [t_last, t] is independent of the past. In units of the interval length
  // (W = sqrt(h) w, Z = h^{3/2} z): Var w = 1, Cov(w, z) = 1/2, Var z = 1/3, so
  // z = w / 2 + eta / sqrt(12) with eta ~ N(0, 1) independent.
  const double h = t - t_last_;
  const double sqh = std::sqrt(h);
  Leaf leaf{t, std::vector<double>(dim_), std::vector<double>(dim_)};
  for (std::size_t i = 0; i < dim_; ++i) {
    const double w = normal_.next();
    const double eta = normal_.next();
    leaf.dw[i] = sqh * w;
    leaf.dz[i] = h * sqh * (0.5 * w + eta / std::sqrt(12.0));
  }
  leaves_.emplace(t_last_, std::move(leaf));
  t_last_ = t;
}

// Bridge of (W, int W) inside one interval. Shift to [0, h] with W(0) = 0 and write
// W = W(h), Z = int_0^h W; the split point is s = r h with W1 = W(s), Z1 = int_0^s W. In units
// W = sqrt(h) w, Z = h^{3/2} z (so h = 1) the covariances are
//   Var w1 = r, Cov(w1, z1) = r^2/2, Var z1 = r^3/3,
//   Cov(w1, w) = r, Cov(w1, z) = r - r^2/2, Cov(z1, w) = r^2/2, Cov(z1, z) = r^2/2 - r^3/6,
//   Var w = 1, Cov(w, z) = 1/2, Var z = 1/3  (inverse [[4, -6], [-6, 12]]).
// Conditioning (Schur complement) gives the mean and covariance of (w1, z1) given (w, z):
//   E[w1] = (3r^2 - 2r) w + (6r - 6r^2) z,   E[z1] = (r^3 - r^2) w + (3r^2 - 2r^3) z,
//   Var w1 = r (1-r) (1 - 3r + 3r^2),  Cov = r^2 (1-r)^2 (1 - 2r) / 2,  Var z1 = r^3 (1-r)^3 / 3,
// with determinant r^4 (1-r)^4 / 12, sampled through its Cholesky factor. The pair process
// (W, int W) is Markov, so conditioning on the interval's two ends is conditioning on
// everything sampled so far. The right piece follows exactly from the left:
//   W2 = W - W1,  Z2 = int_s^h (W - W(s)) = Z - Z1 - (h - s) W1,
// so the two pieces recombine to the stored (W, Z) to round-off.
void BrownianPath::split(std::map<double, Leaf>::iterator it, double s) {
  const double a = it->first;
  Leaf& leaf = it->second;
  const double b = leaf.right;
  const double h = b - a;
  const double r = (s - a) / h;
  const double q = 1.0 - r;
  const double sqh = std::sqrt(h);
  const double k_ww = 3.0 * r * r - 2.0 * r, k_wz = 6.0 * r * q;
  const double k_zw = r * r * r - r * r, k_zz = 3.0 * r * r - 2.0 * r * r * r;
  const double c11 = r * q * (1.0 - 3.0 * r + 3.0 * r * r);
  const double c12 = 0.5 * r * r * q * q * (1.0 - 2.0 * r);
  const double l11 = std::sqrt(c11);
  const double l21 = c12 / l11;
  const double l22 = r * r * q * q / std::sqrt(12.0 * c11);
  Leaf right{b, std::vector<double>(dim_), std::vector<double>(dim_)};
  for (std::size_t i = 0; i < dim_; ++i) {
    const double w = leaf.dw[i] / sqh;
    const double z = leaf.dz[i] / (h * sqh);
    const double n1 = normal_.next();
    const double n2 = normal_.next();
    const double w1 = k_ww * w + k_wz * z + l11 * n1;
    const double z1 = k_zw * w + k_zz * z + l21 * n1 + l22 * n2;
    const double dw1 = sqh * w1;
    const double dz1 = h * sqh * z1;
    right.dw[i] = leaf.dw[i] - dw1;
    right.dz[i] = leaf.dz[i] - dz1 - (b - s) * dw1;
    leaf.dw[i] = dw1;
    leaf.dz[i] = dz1;
  }
  leaf.right = s;
  leaves_.emplace_hint(std::next(it), s, std::move(right));
}

double BrownianPath::ensure_point(double t) {
  if (!std::isfinite(t) || t < t0_ - snap_tol(t))
    throw ConfigError("BrownianPath: time " + std::to_string(t) + " is before t0 = " +
                      std::to_string(t0_) + " (the path runs forward from t0)");
  if (std::abs(t - t0_) <= snap_tol(t)) return t0_;
  if (std::abs(t - t_last_) <= snap_tol(t)) return t_last_;
  if (t > t_last_) {
    extend_to(t);
    return t;
  }
  auto it = std::prev(leaves_.upper_bound(t));  // the interval [a, b) holding t; a <= t
  if (std::abs(t - it->first) <= snap_tol(t)) return it->first;
  if (std::abs(it->second.right - t) <= snap_tol(t)) return it->second.right;
  auto nx = std::next(it);
  if (nx != leaves_.end() && std::abs(nx->first - t) <= snap_tol(t)) return nx->first;
  split(it, t);
  return t;
}

BrownianPath::Increment BrownianPath::increment(double a, double b) {
  if (!(b >= a))
    throw ConfigError("BrownianPath::increment: need a <= b; got a = " + std::to_string(a) +
                      ", b = " + std::to_string(b));
  const double ka = ensure_point(a);
  const double kb = ensure_point(b);
  Increment inc{std::vector<double>(dim_, 0.0), std::vector<double>(dim_, 0.0)};
  // Over consecutive intervals [t_k, t_{k+1}]: dZ adds each interval's own dz plus the level
  // W(t_k) - W(a) held over its length.
  for (auto it = leaves_.find(ka); it != leaves_.end() && it->first < kb; ++it) {
    const double len = it->second.right - it->first;
    for (std::size_t i = 0; i < dim_; ++i) {
      inc.dz[i] += it->second.dz[i] + inc.dw[i] * len;
      inc.dw[i] += it->second.dw[i];
    }
  }
  return inc;
}

std::vector<double> BrownianPath::w_at(double t) { return increment(t0_, t).dw; }

}  // namespace aeolus
