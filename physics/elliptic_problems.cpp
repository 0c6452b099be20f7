#include "physics/elliptic_problems.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <random>
#include <sstream>

#include "grids/error.hpp"

namespace aeolus::physics {

namespace {

constexpr real_t pi = 3.14159265358979323846;

enum class MsType { sine, cosine, periodic, mixed, fishpack };

MsType ms_type(const ManufacturedParams& p) {
  if (p.type == "sine") return MsType::sine;
  if (p.type == "cosine") return MsType::cosine;
  if (p.type == "periodic") return MsType::periodic;
  if (p.type == "mixed") return MsType::mixed;
  if (p.type == "fishpack_hwscrt") return MsType::fishpack;
  throw_unknown_choice("manufactured solution type", p.type, manufactured_type_names());
}

// Phase of the periodic solution along d: nonzero and different per dimension so that the
// solution does not vanish on the faces and is not symmetric in the dimensions.
real_t periodic_phase(int d) { return 0.3 * real_t(d + 1); }
// Phase of the cosine factors of the mixed solution: value and derivative nonzero on both faces.
constexpr real_t mixed_phase = 0.25;

// One factor phi(s) of a separable solution with its first and second derivatives in s.
struct Factor {
  real_t v, d1, d2;
};

Factor factor(MsType t, int m, int d, real_t s) {
  const real_t w = pi * real_t(m);
  switch (t) {
    case MsType::sine:
      return {std::sin(w * s), w * std::cos(w * s), -w * w * std::sin(w * s)};
    case MsType::cosine:
      return {std::cos(w * s), -w * std::sin(w * s), -w * w * std::cos(w * s)};
    case MsType::periodic: {
      const real_t a = 2.0 * w * s + periodic_phase(d);
      return {std::sin(a), 2.0 * w * std::cos(a), -4.0 * w * w * std::sin(a)};
    }
    case MsType::mixed:
      if (d == 0) {
        const real_t e = std::exp(0.5 * s);
        return {e, 0.5 * e, 0.25 * e};
      } else {
        const real_t a = w * s + mixed_phase;
        return {std::cos(a), -w * std::sin(a), -w * w * std::cos(a)};
      }
    case MsType::fishpack:
      break;  // not separable in s; handled by the callers
  }
  return {0, 0, 0};
}

// Standard normal pairs from a 64-bit Mersenne twister by Box-Muller: unlike
// std::normal_distribution the sequence is the same with every standard library.
class NormalPairs {
 public:
  explicit NormalPairs(std::uint64_t seed) : gen_(seed) {}
  std::pair<real_t, real_t> next() {
    const real_t u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const real_t u2 = uniform();
    const real_t r = std::sqrt(-2.0 * std::log(u1));
    return {r * std::cos(2.0 * pi * u2), r * std::sin(2.0 * pi * u2)};
  }

 private:
  real_t uniform() { return real_t(gen_() >> 11) * 0x1.0p-53; }
  std::mt19937_64 gen_;
};

enum class PermType { thresholded_grf, constant, lognormal_grf };

PermType perm_type(const DarcyPermeabilityParams& p) {
  if (p.type == "thresholded_grf") return PermType::thresholded_grf;
  if (p.type == "constant") return PermType::constant;
  if (p.type == "lognormal_grf") return PermType::lognormal_grf;
  throw_unknown_choice("permeability type", p.type, permeability_type_names());
}

void require(bool ok, const std::string& name, real_t value, const char* expected) {
  if (ok) return;
  std::ostringstream os;
  os << "permeability: " << name << " = " << value << ", expected " << expected;
  throw ConfigError(os.str());
}

// A Gaussian random field with spectrum (4 pi^2 |k|^2 + tau^2)^(-alpha/2) (amplitude) on the
// periodic box of the field's grid, in the unit coordinates xi_d = (x_d - lo_d) / L_d:
//   g(xi) = sum_{k != 0, |k_d| <= K_d} lambda_k (a_k cos(2 pi k.xi) + b_k sin(2 pi k.xi)),
// a_k, b_k independent standard normal drawn from `seed` in a fixed order, so every rank draws
// the same coefficients. K_d = min(Kmax, n_d / 2) truncates the spectrum (the amplitudes of
// the default alpha = 2 fall off like |k|^-2, so the dropped tail is small and smooth).
// Evaluated as g = Re sum_k c_k exp(2 pi i k.xi) with c_k = lambda_k (a_k - i b_k), one
// dimension at a time (cost (2K+1)^3 n instead of (2K+1)^3 n^3 in 3D); every owned point is
// computed by the same arithmetic in the same order whatever the decomposition, so the values
// are bitwise identical on every rank count. Returns the owned values (x fastest) and the
// standard deviation of g (exact, from the spectrum: sum lambda_k^2).
std::vector<real_t> gaussian_random_field(const DarcyPermeabilityParams& p, const Field& field,
                                          real_t& std_dev) {
  using cplx = std::complex<real_t>;
  const CartesianGrid& g = field.grid();
  const int kmax = g.dim() == 3 ? 16 : 32;
  std::array<int, 3> K{0, 0, 0};
  std::array<index_t, 3> nk{1, 1, 1}, cnt{1, 1, 1};
  for (int d = 0; d < 3; ++d) {
    cnt[d] = g.count(d);
    if (d < g.dim()) K[d] = int(std::min<index_t>(kmax, g.n(d) / 2));
    nk[d] = 2 * K[d] + 1;
  }
  // Coefficients c[k3][k2][k1], drawn in this order.
  std::vector<cplx> c(size_t(nk[0] * nk[1] * nk[2]));
  NormalPairs normal(p.seed);
  real_t var = 0;
  for (int k3 = -K[2]; k3 <= K[2]; ++k3)
    for (int k2 = -K[1]; k2 <= K[1]; ++k2)
      for (int k1 = -K[0]; k1 <= K[0]; ++k1) {
        const auto [a, b] = normal.next();
        const real_t kk = real_t(k1 * k1 + k2 * k2 + k3 * k3);
        const real_t lambda =
            kk == 0 ? 0.0 : std::pow(4.0 * pi * pi * kk + p.tau * p.tau, -0.5 * p.alpha);
        var += lambda * lambda;
        c[size_t(((k3 + K[2]) * nk[1] + (k2 + K[1])) * nk[0] + (k1 + K[0]))] = lambda * cplx(a, -b);
      }
  std_dev = std::sqrt(var);
  // e[d][(k + K) * cnt + i] = exp(2 pi i k xi_d(i)) at the owned global indices.
  std::array<std::vector<cplx>, 3> e;
  for (int d = 0; d < 3; ++d) {
    e[d].resize(size_t(nk[d] * cnt[d]));
    for (int k = -K[d]; k <= K[d]; ++k)
      for (index_t i = 0; i < cnt[d]; ++i) {
        real_t xi = 0;
        if (d < g.dim()) xi = (g.center(d, g.start(d) + i) - g.lo(d)) / (g.hi(d) - g.lo(d));
        const real_t a = 2.0 * pi * real_t(k) * xi;
        e[d][size_t((k + K[d]) * cnt[d] + i)] = cplx(std::cos(a), std::sin(a));
      }
  }
  // Stage 1: q1[k3][k2][i] = sum_k1 c e1.
  std::vector<cplx> q1(size_t(nk[2] * nk[1] * cnt[0]));
  for (index_t k3 = 0; k3 < nk[2]; ++k3)
    for (index_t k2 = 0; k2 < nk[1]; ++k2)
      for (index_t i = 0; i < cnt[0]; ++i) {
        cplx s = 0;
        for (index_t k1 = 0; k1 < nk[0]; ++k1)
          s += c[size_t((k3 * nk[1] + k2) * nk[0] + k1)] * e[0][size_t(k1 * cnt[0] + i)];
        q1[size_t((k3 * nk[1] + k2) * cnt[0] + i)] = s;
      }
  // Stage 2: q2[k3][j][i] = sum_k2 q1 e2.
  std::vector<cplx> q2(size_t(nk[2] * cnt[1] * cnt[0]));
  for (index_t k3 = 0; k3 < nk[2]; ++k3)
    for (index_t j = 0; j < cnt[1]; ++j)
      for (index_t i = 0; i < cnt[0]; ++i) {
        cplx s = 0;
        for (index_t k2 = 0; k2 < nk[1]; ++k2)
          s += q1[size_t((k3 * nk[1] + k2) * cnt[0] + i)] * e[1][size_t(k2 * cnt[1] + j)];
        q2[size_t((k3 * cnt[1] + j) * cnt[0] + i)] = s;
      }
  // Stage 3: g[l][j][i] = Re sum_k3 q2 e3.
  std::vector<real_t> out(size_t(cnt[0] * cnt[1] * cnt[2]));
  for (index_t l = 0; l < cnt[2]; ++l)
    for (index_t j = 0; j < cnt[1]; ++j)
      for (index_t i = 0; i < cnt[0]; ++i) {
        cplx s = 0;
        for (index_t k3 = 0; k3 < nk[2]; ++k3)
          s += q2[size_t((k3 * cnt[1] + j) * cnt[0] + i)] * e[2][size_t(k3 * cnt[2] + l)];
        out[size_t((l * cnt[1] + j) * cnt[0] + i)] = s.real();
      }
  return out;
}

}  // namespace

real_t ManufacturedSolution::u(real_t x, real_t y, real_t z) const {
  const MsType t = ms_type(params);
  if (t == MsType::fishpack) return FishpackHwscrt::exact(x, y);
  const real_t pos[3] = {x, y, z};
  real_t v = 1.0;
  for (int d = 0; d < dim; ++d) {
    v *= factor(t, params.wavenumber, d, (pos[d] - lo[size_t(d)]) / (hi[size_t(d)] - lo[size_t(d)]))
             .v;
  }
  return v;
}

real_t ManufacturedSolution::du(int dd, real_t x, real_t y, real_t z) const {
  const MsType t = ms_type(params);
  if (dd < 0 || dd >= dim) return 0.0;
  if (t == MsType::fishpack) {
    const real_t c = std::cos((y + 1.0) * pi / 2.0);
    if (dd == 0) return 2.0 * x * c;
    return -x * x * (pi / 2.0) * std::sin((y + 1.0) * pi / 2.0);
  }
  const real_t pos[3] = {x, y, z};
  real_t v = 1.0;
  for (int d = 0; d < dim; ++d) {
    const real_t len = hi[size_t(d)] - lo[size_t(d)];
    const Factor f = factor(t, params.wavenumber, d, (pos[d] - lo[size_t(d)]) / len);
    v *= d == dd ? f.d1 / len : f.v;
  }
  return v;
}

real_t ManufacturedSolution::laplacian(real_t x, real_t y, real_t z) const {
  const MsType t = ms_type(params);
  if (t == MsType::fishpack)
    return FishpackHwscrt::source(x, y) - FishpackHwscrt::lambda * FishpackHwscrt::exact(x, y);
  const real_t pos[3] = {x, y, z};
  std::array<Factor, 3> f{};
  for (int d = 0; d < dim; ++d) {
    f[size_t(d)] =
        factor(t, params.wavenumber, d, (pos[d] - lo[size_t(d)]) / (hi[size_t(d)] - lo[size_t(d)]));
  }
  real_t lap = 0;
  for (int dd = 0; dd < dim; ++dd) {
    const real_t len = hi[size_t(dd)] - lo[size_t(dd)];
    real_t term = f[size_t(dd)].d2 / (len * len);
    for (int d = 0; d < dim; ++d)
      if (d != dd) term *= f[size_t(d)].v;
    lap += term;
  }
  return lap;
}

// thwscrt.f: u = x^2 cos((y+1) pi/2), so u_xx = 2 cos(.), u_yy = -(pi/2)^2 x^2 cos(.) and
// g = u_xx + u_yy + lambda u = (2 - (4 + pi^2/4) x^2) cos((y+1) pi/2) with lambda = -4.
real_t FishpackHwscrt::exact(real_t x, real_t y) { return x * x * std::cos((y + 1.0) * pi / 2.0); }

real_t FishpackHwscrt::source(real_t x, real_t y) {
  return (2.0 - (4.0 + pi * pi / 4.0) * x * x) * std::cos((y + 1.0) * pi / 2.0);
}

real_t FishpackHwscrt::neumann_x2(real_t y) { return 4.0 * std::cos((y + 1.0) * pi / 2.0); }

void fill_permeability(const DarcyPermeabilityParams& p, Field& k) {
  const PermType t = perm_type(p);
  auto v = k.view();
  const CartesianGrid& g = k.grid();
  if (t == PermType::constant) {
    require(p.value > 0 && std::isfinite(p.value), "value", p.value, "a finite value > 0");
    k.fill(p.value);
    return;
  }
  require(p.alpha > 0 && std::isfinite(p.alpha), "alpha", p.alpha, "a finite value > 0");
  require(p.tau >= 0 && std::isfinite(p.tau), "tau", p.tau, "a finite value >= 0");
  if (t == PermType::thresholded_grf) {
    require(p.high > 0 && std::isfinite(p.high), "high", p.high, "a finite value > 0");
    require(p.low > 0 && std::isfinite(p.low), "low", p.low, "a finite value > 0");
  } else {
    require(p.sigma >= 0 && std::isfinite(p.sigma), "sigma", p.sigma, "a finite value >= 0");
  }
  real_t std_dev = 0;
  const std::vector<real_t> grf = gaussian_random_field(p, k, std_dev);
  size_t n = 0;
  for (index_t l = 0; l < g.count(2); ++l)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i, ++n) {
        if (t == PermType::thresholded_grf) {
          v(i, j, l) = grf[n] >= 0 ? p.high : p.low;
        } else {
          v(i, j, l) = std_dev > 0 ? std::exp(p.sigma * grf[n] / std_dev) : 1.0;
        }
      }
  // Ghosts too, so that an operator can read neighbour coefficients straight away.
  k.exchange_halos();
}

void fill_at_points(Field& out, const std::function<real_t(real_t, real_t, real_t)>& f) {
  const auto& g = out.grid();
  auto v = out.view();
  for (index_t l = 0; l < g.count(2); ++l)
    for (index_t j = 0; j < g.count(1); ++j)
      for (index_t i = 0; i < g.count(0); ++i) {
        const real_t x = g.center(0, g.start(0) + i);
        const real_t y = g.dim() > 1 ? g.center(1, g.start(1) + j) : 0.0;
        const real_t z = g.dim() > 2 ? g.center(2, g.start(2) + l) : 0.0;
        v(i, j, l) = f(x, y, z);
      }
}

}  // namespace aeolus::physics
