#include "physics/hamiltonian.hpp"

#include <algorithm>
#include <cmath>

#include "grids/error.hpp"
#include "grids/format.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t kPi = 3.14159265358979323846;

void require(bool ok, const std::string& key, real_t value, const std::string& expected) {
  if (!ok) throw ConfigError(key + " = " + fmt_exact(value) + " is invalid; expected " + expected);
}

}  // namespace

real_t SeparableHamiltonian::kinetic(const real_t* p) const {
  real_t t = 0;
  for (size_t i = 0; i < masses_.size(); ++i) t += p[i] * p[i] / masses_[i];
  return 0.5 * t;
}

std::vector<real_t> SeparableHamiltonian::angular_momentum(const real_t* q, const real_t* p) const {
  if (!has_angular_momentum()) return {};
  const int n = dim();
  if (n == 2) return {q[0] * p[1] - q[1] * p[0]};
  std::vector<real_t> l(3, 0.0);
  for (int i = 0; i + 2 < n; i += 3) {
    l[0] += q[i + 1] * p[i + 2] - q[i + 2] * p[i + 1];
    l[1] += q[i + 2] * p[i] - q[i] * p[i + 2];
    l[2] += q[i] * p[i + 1] - q[i + 1] * p[i];
  }
  return l;
}

// ---- harmonic oscillator ----

HarmonicOscillator::HarmonicOscillator(const HarmonicOscillatorParams& params)
    : SeparableHamiltonian({params.mass}), params_(params) {
  require(params.mass > 0, "harmonic_oscillator.mass", params.mass, "> 0");
  require(params.omega > 0, "harmonic_oscillator.omega", params.omega, "> 0");
}

real_t HarmonicOscillator::potential(const real_t* q) const {
  return 0.5 * params_.mass * params_.omega * params_.omega * q[0] * q[0];
}

void HarmonicOscillator::grad_potential(const real_t* q, real_t* dvdq) const {
  dvdq[0] = params_.mass * params_.omega * params_.omega * q[0];
}

void HarmonicOscillator::initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const {
  q = {params_.q0};
  p = {params_.p0};
}

void HarmonicOscillator::exact(real_t t, real_t* q, real_t* p) const {
  const real_t w = params_.omega, m = params_.mass;
  const real_t c = std::cos(w * t), s = std::sin(w * t);
  q[0] = params_.q0 * c + params_.p0 / (m * w) * s;
  p[0] = params_.p0 * c - m * w * params_.q0 * s;
}

// ---- pendulum ----

Pendulum::Pendulum(const PendulumParams& params) : SeparableHamiltonian({1.0}), params_(params) {
  require(params.g_over_l > 0, "pendulum.g_over_l", params.g_over_l, "> 0");
  require(std::isfinite(params.theta0), "pendulum.theta0", params.theta0, "a finite angle");
}

real_t Pendulum::potential(const real_t* q) const { return -params_.g_over_l * std::cos(q[0]); }

void Pendulum::grad_potential(const real_t* q, real_t* dvdq) const {
  dvdq[0] = params_.g_over_l * std::sin(q[0]);
}

void Pendulum::initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const {
  q = {params_.theta0};
  p = {0.0};
}

// ---- Kepler ----

Kepler::Kepler(const KeplerParams& params) : SeparableHamiltonian({1.0, 1.0}), params_(params) {
  require(params.gm > 0, "kepler.gm", params.gm, "> 0");
  require(params.eccentricity >= 0 && params.eccentricity < 1, "kepler.eccentricity",
          params.eccentricity, "0 <= e < 1 (a bound orbit)");
  require(params.semi_major_axis > 0, "kepler.semi_major_axis", params.semi_major_axis, "> 0");
}

real_t Kepler::potential(const real_t* q) const {
  return -params_.gm / std::sqrt(q[0] * q[0] + q[1] * q[1]);
}

void Kepler::grad_potential(const real_t* q, real_t* dvdq) const {
  const real_t r2 = q[0] * q[0] + q[1] * q[1];
  const real_t s = params_.gm / (r2 * std::sqrt(r2));
  dvdq[0] = s * q[0];
  dvdq[1] = s * q[1];
}

void Kepler::initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const {
  const real_t e = params_.eccentricity, a = params_.semi_major_axis;
  q = {a * (1 - e), 0.0};
  p = {0.0, std::sqrt(params_.gm * (1 + e) / (a * (1 - e)))};
}

real_t Kepler::period() const {
  const real_t a = params_.semi_major_axis;
  return 2 * kPi * std::sqrt(a * a * a / params_.gm);
}

void Kepler::exact(real_t t, real_t* q, real_t* p) const {
  const real_t e = params_.eccentricity, a = params_.semi_major_axis;
  const real_t n = std::sqrt(params_.gm / (a * a * a));  // mean motion
  // Reducing the mean anomaly to [-pi, pi) keeps Newton's start E = M (+ e sin M) close.
  real_t m = std::remainder(n * t, 2 * kPi);
  real_t ea = m + e * std::sin(m);
  for (int it = 0; it < 50; ++it) {
    const real_t f = ea - e * std::sin(ea) - m;
    const real_t d = f / (1 - e * std::cos(ea));
    ea -= d;
    if (std::abs(d) <= 1e-16 * (1 + std::abs(ea))) break;
  }
  const real_t b = a * std::sqrt(1 - e * e);
  const real_t c = std::cos(ea), s = std::sin(ea);
  const real_t edot = n / (1 - e * c);
  q[0] = a * (c - e);
  q[1] = b * s;
  p[0] = -a * s * edot;
  p[1] = b * c * edot;
}

// ---- Henon-Heiles ----

HenonHeiles::HenonHeiles(const HenonHeilesParams& params)
    : SeparableHamiltonian({1.0, 1.0}), params_(params) {
  require(params.energy > 0 && params.energy < 1.0 / 6.0, "henon_heiles.energy", params.energy,
          "0 < E < 1/6 (bound motion)");
  const real_t q[2] = {0.0, params.y0};
  const real_t px2 = 2 * (params.energy - potential(q)) - params.py0 * params.py0;
  require(px2 >= 0, "henon_heiles.y0", params.y0,
          "a point (x = 0, y0, py0) with V + py0^2/2 <= energy");
}

real_t HenonHeiles::potential(const real_t* q) const {
  const real_t x = q[0], y = q[1];
  return 0.5 * (x * x + y * y) + x * x * y - y * y * y / 3.0;
}

void HenonHeiles::grad_potential(const real_t* q, real_t* dvdq) const {
  const real_t x = q[0], y = q[1];
  dvdq[0] = x + 2 * x * y;
  dvdq[1] = y + x * x - y * y;
}

void HenonHeiles::initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const {
  q = {0.0, params_.y0};
  const real_t px2 = 2 * (params_.energy - potential(q.data())) - params_.py0 * params_.py0;
  p = {std::sqrt(std::max(px2, 0.0)), params_.py0};
}

// ---- N-body ----

namespace {

std::vector<real_t> repeat3(const std::vector<real_t>& m) {
  std::vector<real_t> out;
  out.reserve(3 * m.size());
  for (real_t mi : m) out.insert(out.end(), 3, mi);
  return out;
}

NBodyParams resolved(const NBodyParams& params) {
  if (!params.masses.empty()) return params;
  NBodyParams out = NBody::figure_eight();
  out.g = params.g;
  out.softening = params.softening;
  return out;
}

}  // namespace

NBodyParams NBody::figure_eight() {
  // Chenciner & Montgomery, Ann. Math. 152 (2000) 881, from Simo's computation:
  // x1 = -x2 = (0.97000436, -0.24308753), x3 = 0, v3 = -2 v1 = -2 v2 = (-0.93240737, -0.86473146).
  NBodyParams p;
  p.g = 1.0;
  p.masses = {1.0, 1.0, 1.0};
  p.positions = {0.97000436, -0.24308753, 0.0, -0.97000436, 0.24308753, 0.0, 0.0, 0.0, 0.0};
  const real_t vx = -0.93240737, vy = -0.86473146;
  p.velocities = {-vx / 2, -vy / 2, 0.0, -vx / 2, -vy / 2, 0.0, vx, vy, 0.0};
  return p;
}

NBody::NBody(const NBodyParams& params)
    : SeparableHamiltonian(repeat3(resolved(params).masses)), params_(resolved(params)) {
  const size_t n = params_.masses.size();
  require(n >= 2, "nbody.masses (count)", static_cast<real_t>(n), ">= 2 bodies");
  require(params_.positions.size() == 3 * n, "nbody.positions (count)",
          static_cast<real_t>(params_.positions.size()), "3 per body = " + std::to_string(3 * n));
  require(params_.velocities.size() == 3 * n, "nbody.velocities (count)",
          static_cast<real_t>(params_.velocities.size()), "3 per body = " + std::to_string(3 * n));
  for (real_t m : params_.masses) require(m > 0, "nbody.masses", m, "> 0");
  require(params_.g > 0, "nbody.g", params_.g, "> 0");
  require(params_.softening >= 0, "nbody.softening", params_.softening, ">= 0");
}

real_t NBody::potential(const real_t* q) const {
  const int n = bodies();
  const real_t eps2 = params_.softening * params_.softening;
  real_t v = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      const real_t dx = q[3 * i] - q[3 * j], dy = q[3 * i + 1] - q[3 * j + 1],
                   dz = q[3 * i + 2] - q[3 * j + 2];
      v -= params_.masses[i] * params_.masses[j] / std::sqrt(dx * dx + dy * dy + dz * dz + eps2);
    }
  }
  return params_.g * v;
}

void NBody::grad_potential(const real_t* q, real_t* dvdq) const {
  const int n = bodies();
  const real_t eps2 = params_.softening * params_.softening;
  for (int k = 0; k < 3 * n; ++k) dvdq[k] = 0;
  // Each pair once, with equal and opposite contributions, so that the total force (and torque)
  // cancels to round-off: what keeps momentum and angular momentum conserved in the integrators.
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      const real_t d[3] = {q[3 * i] - q[3 * j], q[3 * i + 1] - q[3 * j + 1],
                           q[3 * i + 2] - q[3 * j + 2]};
      const real_t r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + eps2;
      const real_t s = params_.g * params_.masses[i] * params_.masses[j] / (r2 * std::sqrt(r2));
      for (int c = 0; c < 3; ++c) {
        dvdq[3 * i + c] += s * d[c];
        dvdq[3 * j + c] -= s * d[c];
      }
    }
  }
}

void NBody::initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const {
  q = params_.positions;
  p.resize(q.size());
  for (size_t i = 0; i < p.size(); ++i) p[i] = params_.masses[i / 3] * params_.velocities[i];
}

// ---- registry ----

const std::vector<std::string>& hamiltonian_names() {
  static const std::vector<std::string> names = {"harmonic_oscillator", "pendulum", "kepler",
                                                 "henon_heiles", "nbody"};
  return names;
}

std::unique_ptr<SeparableHamiltonian> make_hamiltonian(const HamiltonianParams& params) {
  const std::string& t = params.type;
  if (t == "harmonic_oscillator")
    return std::make_unique<HarmonicOscillator>(params.harmonic_oscillator);
  if (t == "pendulum") return std::make_unique<Pendulum>(params.pendulum);
  if (t == "kepler") return std::make_unique<Kepler>(params.kepler);
  if (t == "henon_heiles") return std::make_unique<HenonHeiles>(params.henon_heiles);
  if (t == "nbody") return std::make_unique<NBody>(params.nbody);
  throw_unknown_choice("hamiltonian.type", t, hamiltonian_names());
}

std::unique_ptr<SeparableHamiltonian> make_hamiltonian(const std::string& name) {
  HamiltonianParams params;
  params.type = name;
  return make_hamiltonian(params);
}

}  // namespace aeolus::physics
