// The Hamiltonian systems: forces consistent with potentials, the documented energies of the
// default initial states, and the exact solutions actually solving Hamilton's equations.
#include <gtest/gtest.h>

#include <cmath>

#include "grids/error.hpp"
#include "physics/hamiltonian.hpp"

using namespace aeolus;
using namespace aeolus::physics;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Central differences of the potential against grad_potential at q, relative to the largest
// gradient component (the O(h^2) truncation error with h = 1e-5 is ~1e-10 of it).
double fd_gradient_error(const SeparableHamiltonian& h, std::vector<double> q) {
  const int n = h.dim();
  std::vector<double> g(n);
  h.grad_potential(q.data(), g.data());
  double scale = 0, err = 0;
  for (int i = 0; i < n; ++i) {
    const double step = 1e-5 * std::max(1.0, std::abs(q[i])), qi = q[i];
    q[i] = qi + step;
    const double vp = h.potential(q.data());
    q[i] = qi - step;
    const double vm = h.potential(q.data());
    q[i] = qi;
    err = std::max(err, std::abs((vp - vm) / (2 * step) - g[i]));
    scale = std::max(scale, std::abs(g[i]));
  }
  return err / std::max(scale, 1e-300);
}

}  // namespace

TEST(Hamiltonian, RegistryBuildsEverySystem) {
  for (const auto& name : hamiltonian_names()) {
    auto h = make_hamiltonian(name);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->name(), name);
    std::vector<double> q, p;
    h->initial_state(q, p);
    EXPECT_EQ(static_cast<int>(q.size()), h->dim()) << name;
    EXPECT_EQ(static_cast<int>(p.size()), h->dim()) << name;
    EXPECT_EQ(static_cast<int>(h->masses().size()), h->dim()) << name;
  }
  EXPECT_THROW(make_hamiltonian("kepler2"), ConfigError);
  try {
    make_hamiltonian("harmonic");
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("harmonic_oscillator"), std::string::npos) << e.what();
  }
}

TEST(Hamiltonian, BadParametersThrow) {
  const KeplerParams unbound{1.0, 1.0, 1.0}, negative_gm{-1.0, 0.5, 1.0};
  EXPECT_THROW(Kepler{unbound}, ConfigError);
  EXPECT_THROW(Kepler{negative_gm}, ConfigError);
  EXPECT_THROW(HarmonicOscillator{HarmonicOscillatorParams{0.0}}, ConfigError);
  EXPECT_THROW(HenonHeiles{HenonHeilesParams{0.2}}, ConfigError);
  const HenonHeilesParams above_energy{1.0 / 12, 0.1, 0.5};
  EXPECT_THROW(HenonHeiles{above_energy}, ConfigError);
  NBodyParams nb;
  nb.masses = {1.0, 1.0};
  nb.positions = {0, 0, 0, 1, 0, 0};
  nb.velocities = {0, 0, 0};
  EXPECT_THROW(NBody{nb}, ConfigError);
}

TEST(Hamiltonian, GradientMatchesFiniteDifferences) {
  for (const auto& name : hamiltonian_names()) {
    auto h = make_hamiltonian(name);
    std::vector<double> q, p;
    h->initial_state(q, p);
    EXPECT_LT(fd_gradient_error(*h, q), 1e-8) << name << " at the initial state";
    // A generic point, off every symmetry axis of the initial state.
    for (int i = 0; i < h->dim(); ++i) q[i] += 0.05 * std::sin(1.0 + 2.3 * i);
    EXPECT_LT(fd_gradient_error(*h, q), 1e-8) << name << " at a perturbed state";
  }
  NBodyParams soft = NBody::figure_eight();
  soft.softening = 0.3;
  NBody nb(soft);
  std::vector<double> q, p;
  nb.initial_state(q, p);
  EXPECT_LT(fd_gradient_error(nb, q), 1e-8) << "softened nbody";
}

TEST(Hamiltonian, EnergiesOfDefaultStates) {
  auto energy_of = [](const SeparableHamiltonian& h) {
    std::vector<double> q, p;
    h.initial_state(q, p);
    return h.energy(q.data(), p.data());
  };
  EXPECT_NEAR(energy_of(HarmonicOscillator()), 0.5, 1e-15);
  EXPECT_NEAR(energy_of(Pendulum()), -std::cos(1.0), 1e-15);
  EXPECT_NEAR(energy_of(Kepler()), -0.5, 1e-14);  // -GM / (2a)
  EXPECT_NEAR(energy_of(Kepler(KeplerParams{2.0, 0.3, 1.5})), -2.0 / 3.0, 1e-14);
  EXPECT_NEAR(energy_of(HenonHeiles()), 1.0 / 12.0, 1e-15);
  // Figure eight from the published 8-digit initial conditions: |x1| = 1.0000000 to 8 digits,
  // so V = -(1/2 + 1 + 1) = -2.5, and T = 1.2128580 (by hand from the velocities).
  EXPECT_NEAR(energy_of(NBody()), -2.5 + 1.2128580, 1e-7);
}

TEST(Hamiltonian, AngularMomentumOnlyWhereRotationInvariant) {
  EXPECT_FALSE(HenonHeiles().has_angular_momentum());
  EXPECT_FALSE(HarmonicOscillator().has_angular_momentum());
  EXPECT_FALSE(Pendulum().has_angular_momentum());
  std::vector<double> q, p;
  HenonHeiles().initial_state(q, p);
  EXPECT_TRUE(HenonHeiles().angular_momentum(q.data(), p.data()).empty());

  Kepler k;
  k.initial_state(q, p);
  const auto l = k.angular_momentum(q.data(), p.data());
  ASSERT_EQ(l.size(), 1u);
  EXPECT_NEAR(l[0], std::sqrt(1 - 0.36), 1e-15);  // sqrt(GM a (1 - e^2))

  NBody nb;
  nb.initial_state(q, p);
  EXPECT_EQ(nb.angular_momentum(q.data(), p.data()).size(), 3u);
}

TEST(Hamiltonian, FigureEightHasZeroMomentum) {
  NBody nb;
  EXPECT_EQ(nb.bodies(), 3);
  std::vector<double> q, p;
  nb.initial_state(q, p);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(p[c] + p[3 + c], -p[6 + c], 1e-15);
    EXPECT_NEAR(q[c] + q[3 + c] + q[6 + c], 0.0, 1e-15);  // centre of mass at the origin
  }
  for (double l : nb.angular_momentum(q.data(), p.data())) EXPECT_NEAR(l, 0.0, 1e-15);
}

TEST(Hamiltonian, KeplerExactSolution) {
  for (double e : {0.0, 0.6, 0.95}) {
    Kepler k(KeplerParams{1.0, e, 1.0});
    std::vector<double> q0, p0;
    k.initial_state(q0, p0);
    const double e0 = k.energy(q0.data(), p0.data());
    const double l0 = k.angular_momentum(q0.data(), p0.data())[0];
    double q[2], p[2];
    for (double t : {0.0, 0.3, 1.7, 3.1, 4.4, 6.0, 2 * kPi, 17.5, -2.2}) {
      k.exact(t, q, p);
      EXPECT_NEAR(k.energy(q, p), e0, 1e-13) << "e = " << e << " t = " << t;
      EXPECT_NEAR(k.angular_momentum(q, p)[0], l0, 1e-13) << "e = " << e << " t = " << t;
      // Hamilton's equations: central differences of the exact path against (p, -dV/dq).
      // Step on the local time scale r^(3/2), short at the pericentre of e = 0.95.
      const double r = std::hypot(q[0], q[1]), h = 1e-4 * r * std::sqrt(r);
      double qa[2], pa[2], qb[2], pb[2], g[2];
      k.exact(t + h, qa, pa);
      k.exact(t - h, qb, pb);
      k.grad_potential(q, g);
      for (int i = 0; i < 2; ++i) {
        EXPECT_NEAR((qa[i] - qb[i]) / (2 * h), p[i], 1e-7 * std::hypot(p[0], p[1]));
        EXPECT_NEAR((pa[i] - pb[i]) / (2 * h), -g[i], 1e-7 * std::hypot(g[0], g[1]));
      }
    }
    EXPECT_NEAR(k.period(), 2 * kPi, 1e-15);
    k.exact(k.period(), q, p);
    for (int i = 0; i < 2; ++i) {
      EXPECT_NEAR(q[i], q0[i], 1e-13) << "e = " << e;
      EXPECT_NEAR(p[i], p0[i], 1e-13) << "e = " << e;
    }
    // Half a period later the body is at apocentre, (-a (1 + e), 0).
    k.exact(0.5 * k.period(), q, p);
    EXPECT_NEAR(q[0], -(1 + e), 1e-13);
    EXPECT_NEAR(q[1], 0.0, 1e-13);
  }
}

TEST(Hamiltonian, HarmonicOscillatorExactSolution) {
  HarmonicOscillator ho(HarmonicOscillatorParams{2.0, 3.0, 0.5, 1.5});
  double q, p;
  ho.exact(0.0, &q, &p);
  EXPECT_DOUBLE_EQ(q, 0.5);
  EXPECT_DOUBLE_EQ(p, 1.5);
  const double e0 = ho.energy(&q, &p);
  for (double t : {0.1, 1.0, 7.3}) {
    ho.exact(t, &q, &p);
    EXPECT_NEAR(ho.energy(&q, &p), e0, 1e-13);
    double qa, pa, qb, pb, g;
    const double h = 1e-5;
    ho.exact(t + h, &qa, &pa);
    ho.exact(t - h, &qb, &pb);
    ho.grad_potential(&q, &g);
    EXPECT_NEAR((qa - qb) / (2 * h), p / 2.0, 1e-8);
    EXPECT_NEAR((pa - pb) / (2 * h), -g, 1e-8);
  }
}
