#include "solvers/symplectic.hpp"

#include <cmath>
#include <cstring>
#include <iterator>

#include "grids/error.hpp"
#include "grids/format.hpp"

namespace aeolus {

namespace {

struct MethodInfo {
  SymplecticMethod method;
  const char* name;
  int order;
  bool symplectic, symmetric;
  int force_evals;
};

// One row per method: the single place that names and classifies them.
const MethodInfo kMethods[] = {
    {SymplecticMethod::euler, "euler", 1, true, false, 1},
    {SymplecticMethod::verlet, "verlet", 2, true, true, 1},
    {SymplecticMethod::ruth3, "ruth3", 3, true, false, 3},
    {SymplecticMethod::forest_ruth, "forest_ruth", 4, true, true, 3},
    {SymplecticMethod::suzuki4, "suzuki4", 4, true, true, 5},
    {SymplecticMethod::yoshida6, "yoshida6", 6, true, true, 7},
    {SymplecticMethod::suzuki6, "suzuki6", 6, true, true, 25},
    {SymplecticMethod::yoshida8, "yoshida8", 8, true, true, 15},
    {SymplecticMethod::rk4, "rk4", 4, false, false, 4},
};

const MethodInfo& info(SymplecticMethod m) {
  for (const auto& row : kMethods)
    if (row.method == m) return row;
  throw ConfigError("symplectic method " + std::to_string(static_cast<int>(m)) + " is unknown");
}

// Suzuki's fractal step: S(h) = S'(s h)^2 S'((1 - 4s) h) S'(s h)^2 with s = 1/(4 - 4^(1/(2k+1)))
// raises a symmetric method S' of order 2k to order 2k + 2.
std::vector<real_t> suzuki_weights(const std::vector<real_t>& inner, int inner_order) {
  const real_t s = 1.0 / (4.0 - std::pow(4.0, 1.0 / (inner_order + 1)));
  const real_t outer[5] = {s, s, 1 - 4 * s, s, s};
  std::vector<real_t> w;
  for (real_t o : outer)
    for (real_t i : inner) w.push_back(o * i);
  return w;
}

std::vector<SplittingTable> build_tables() {
  std::vector<SplittingTable> t(std::size(kMethods));
  auto at = [&](SymplecticMethod m) -> SplittingTable& { return t[static_cast<int>(m)]; };
  at(SymplecticMethod::euler) = {{0.0, 1.0}, {1.0, 0.0}};
  at(SymplecticMethod::verlet) = verlet_composition({1.0});
  // Ruth, IEEE Trans. Nucl. Sci. 30 (1983) 2669, in the drift-first ordering (as tabulated e.g.
  // by PETSc's TSBASICSYMPLECTIC "3").
  at(SymplecticMethod::ruth3) = {{1.0, -2.0 / 3.0, 2.0 / 3.0},
                                 {-1.0 / 24.0, 3.0 / 4.0, 7.0 / 24.0}};
  const real_t x = 1.0 / (2.0 - std::cbrt(2.0));
  at(SymplecticMethod::forest_ruth) = verlet_composition({x, 1 - 2 * x, x});
  const auto s4 = suzuki_weights({1.0}, 2);
  at(SymplecticMethod::suzuki4) = verlet_composition(s4);
  at(SymplecticMethod::suzuki6) = verlet_composition(suzuki_weights(s4, 4));
  // Yoshida, Phys. Lett. A 150 (1990) 262, Table 1 (order 6, solution A) and Table 2 (order 8,
  // solution D): w_1 .. w_m.
  at(SymplecticMethod::yoshida6) = verlet_composition(
      yoshida_weights({-0.117767998417887e1, 0.235573213359357e0, 0.784513610477560e0}));
  at(SymplecticMethod::yoshida8) = verlet_composition(yoshida_weights(
      {0.102799849391985e0, -0.196061023297549e1, 0.193813913762276e1, -0.158240635368243e0,
       -0.144485223686048e1, 0.253693336566229e0, 0.914844246229740e0}));
  return t;
}

void check_finite(const physics::SeparableHamiltonian& h, SymplecticMethod m, long step, real_t t,
                  const real_t* q, const real_t* p) {
  // One sum instead of 2 dim tests: NaN and Inf propagate through it.
  real_t sum = 0;
  for (int i = 0; i < h.dim(); ++i) sum += q[i] + p[i];
  if (std::isfinite(sum)) return;
  throw NumericsError("symplectic integration of " + h.name() + " with " +
                      symplectic_method_name(m) + ": state not finite at step " +
                      std::to_string(step) + ", t = " + fmt("%.6g", t));
}

void rk4_step(const physics::SeparableHamiltonian& h, real_t dt, real_t* q, real_t* p,
              SymplecticWorkspace& ws) {
  const int n = h.dim();
  const auto& m = h.masses();
  real_t* qs = ws.rk_buffer(0);  // stage state
  real_t* ps = ws.rk_buffer(1);
  real_t* aq = ws.rk_buffer(2);  // weighted sums of the stage slopes
  real_t* ap = ws.rk_buffer(3);
  static constexpr real_t kA[4] = {0.0, 0.5, 0.5, 1.0};  // stage offsets
  static constexpr real_t kB[4] = {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6};
  for (int i = 0; i < n; ++i) aq[i] = ap[i] = 0;
  // Slopes of stage k are computed from (qs, ps) = (q, p) + a_k dt * slopes of stage k - 1.
  std::memcpy(qs, q, n * sizeof(real_t));
  std::memcpy(ps, p, n * sizeof(real_t));
  for (int k = 0; k < 4; ++k) {
    const real_t* g = ws.grad_potential(h, qs);
    real_t* kq = ws.rk_buffer(4);  // the slope dq/dt = p/m of this stage, before ps moves
    for (int i = 0; i < n; ++i) kq[i] = ps[i] / m[i];
    for (int i = 0; i < n; ++i) {
      aq[i] += kB[k] * kq[i];
      ap[i] -= kB[k] * g[i];
    }
    if (k == 3) break;
    const real_t a = kA[k + 1] * dt;
    for (int i = 0; i < n; ++i) {
      qs[i] = q[i] + a * kq[i];
      ps[i] = p[i] - a * g[i];
    }
  }
  for (int i = 0; i < n; ++i) {
    q[i] += dt * aq[i];
    p[i] += dt * ap[i];
  }
}

}  // namespace

SymplecticMethod symplectic_method_from_name(const std::string& name, const std::string& key) {
  if (name == "yoshida4") return SymplecticMethod::forest_ruth;
  for (const auto& row : kMethods)
    if (name == row.name) return row.method;
  auto names = symplectic_method_names();
  names.push_back("yoshida4");
  throw_unknown_choice(key, name, names);
}

std::string symplectic_method_name(SymplecticMethod m) { return info(m).name; }

const std::vector<std::string>& symplectic_method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& row : kMethods) n.push_back(row.name);
    return n;
  }();
  return names;
}

int order(SymplecticMethod m) { return info(m).order; }
bool is_symplectic(SymplecticMethod m) { return info(m).symplectic; }
bool is_symmetric(SymplecticMethod m) { return info(m).symmetric; }
int force_evaluations_per_step(SymplecticMethod m) { return info(m).force_evals; }

SplittingTable verlet_composition(const std::vector<real_t>& weights) {
  SplittingTable t;
  const size_t s = weights.size();
  t.drift.push_back(0.0);
  t.kick.push_back(weights.empty() ? 0.0 : 0.5 * weights[0]);
  for (size_t j = 0; j < s; ++j) {
    t.drift.push_back(weights[j]);
    t.kick.push_back(0.5 * (weights[j] + (j + 1 < s ? weights[j + 1] : 0.0)));
  }
  return t;
}

std::vector<real_t> yoshida_weights(const std::vector<real_t>& w) {
  real_t w0 = 1.0;
  for (real_t x : w) w0 -= 2 * x;
  std::vector<real_t> out(w.rbegin(), w.rend());
  out.push_back(w0);
  out.insert(out.end(), w.begin(), w.end());
  return out;
}

const SplittingTable& splitting_table(SymplecticMethod m) {
  static const std::vector<SplittingTable> tables = build_tables();
  if (m == SymplecticMethod::rk4)
    throw ConfigError("method = rk4 is not a splitting method; it has no splitting table");
  return tables.at(static_cast<size_t>(m));
}

void SymplecticWorkspace::resize(int dim) {
  dim_ = dim;
  force_.assign(dim, 0.0);
  force_q_.assign(dim, 0.0);
  rk_.assign(5 * static_cast<size_t>(dim), 0.0);
  force_valid_ = false;
}

void SymplecticWorkspace::prepare(const physics::SeparableHamiltonian& h) {
  if (h.dim() != dim_) resize(h.dim());
}

const real_t* SymplecticWorkspace::grad_potential(const physics::SeparableHamiltonian& h,
                                                  const real_t* q) {
  prepare(h);
  const size_t bytes = dim_ * sizeof(real_t);
  if (force_valid_ && force_h_ == &h && std::memcmp(q, force_q_.data(), bytes) == 0)
    return force_.data();
  h.grad_potential(q, force_.data());
  std::memcpy(force_q_.data(), q, bytes);
  force_h_ = &h;
  force_valid_ = true;
  ++stats.force_evals;
  return force_.data();
}

void splitting_step(const physics::SeparableHamiltonian& h, const SplittingTable& table, real_t dt,
                    real_t* q, real_t* p, SymplecticWorkspace& ws) {
  ws.prepare(h);
  const int n = h.dim();
  const real_t* m = h.masses().data();
  for (size_t s = 0; s < table.drift.size(); ++s) {
    if (table.drift[s] != 0) {
      const real_t c = table.drift[s] * dt;
      for (int i = 0; i < n; ++i) q[i] += c * p[i] / m[i];
    }
    if (table.kick[s] != 0) {
      const real_t d = table.kick[s] * dt;
      const real_t* g = ws.grad_potential(h, q);
      for (int i = 0; i < n; ++i) p[i] -= d * g[i];
    }
  }
  ++ws.stats.steps;
}

void hamiltonian_step(const physics::SeparableHamiltonian& h, SymplecticMethod m, real_t dt,
                      real_t* q, real_t* p, SymplecticWorkspace& ws) {
  if (m == SymplecticMethod::rk4) {
    ws.prepare(h);
    rk4_step(h, dt, q, p, ws);
    ++ws.stats.steps;
    return;
  }
  splitting_step(h, splitting_table(m), dt, q, p, ws);
}

SymplecticStats integrate(const physics::SeparableHamiltonian& h, SymplecticMethod m, real_t dt,
                          long n_steps, real_t* q, real_t* p, SymplecticWorkspace& ws,
                          const SymplecticObserver& observer, long observe_every, real_t t0) {
  const SymplecticStats before = ws.stats;
  check_finite(h, m, 0, t0, q, p);
  if (observer) observer(0, t0, q, p);
  for (long s = 1; s <= n_steps; ++s) {
    hamiltonian_step(h, m, dt, q, p, ws);
    // Multiplying instead of accumulating keeps t free of summed round-off over long runs.
    const real_t t = t0 + static_cast<real_t>(s) * dt;
    check_finite(h, m, s, t, q, p);
    if (observer && ((observe_every > 0 && s % observe_every == 0) || s == n_steps))
      observer(s, t, q, p);
  }
  return {ws.stats.steps - before.steps, ws.stats.force_evals - before.force_evals};
}

}  // namespace aeolus
