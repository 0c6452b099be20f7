#pragma once
// Separable Hamiltonian systems H(q, p) = T(p) + V(q), T = sum_i p_i^2 / (2 m_i), for the
// symplectic integrators of solvers/symplectic.hpp: harmonic oscillator, pendulum, Kepler
// two-body problem, Henon-Heiles and gravitational N-body. Plain arrays of length dim() for q
// and p; one virtual call per force evaluation (not per component), so the cost of dispatch is
// negligible against the force itself.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "grids/types.hpp"

namespace aeolus::physics {

class SeparableHamiltonian {
 public:
  virtual ~SeparableHamiltonian() = default;

  // Registry name ("kepler", ...), written to logs and outputs.
  virtual std::string name() const = 0;

  // Number of q components (= number of p components).
  int dim() const { return static_cast<int>(masses_.size()); }

  // Mass of every q component (length dim(); an N-body particle repeats its mass per axis).
  const std::vector<real_t>& masses() const { return masses_; }

  virtual real_t potential(const real_t* q) const = 0;
  // dV/dq into dvdq (length dim()); the force is -dvdq.
  virtual void grad_potential(const real_t* q, real_t* dvdq) const = 0;

  real_t kinetic(const real_t* p) const;
  real_t energy(const real_t* q, const real_t* p) const { return kinetic(p) + potential(q); }

  // Whether the system is rotationally invariant, so that the total angular momentum is
  // conserved; angular_momentum() is empty where it is not.
  virtual bool has_angular_momentum() const { return false; }
  // Total angular momentum sum q x p: one component (z) in 2D, three in 3D.
  virtual std::vector<real_t> angular_momentum(const real_t* q, const real_t* p) const;

  // The system's default initial state (resizes q and p to dim()).
  virtual void initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const = 0;

 protected:
  explicit SeparableHamiltonian(std::vector<real_t> masses) : masses_(std::move(masses)) {}

 private:
  std::vector<real_t> masses_;
};

// 1D harmonic oscillator V = m omega^2 q^2 / 2; starts at (q0, p0).
struct HarmonicOscillatorParams {
  real_t mass = 1.0;
  real_t omega = 1.0;
  real_t q0 = 1.0, p0 = 0.0;
};
class HarmonicOscillator : public SeparableHamiltonian {
 public:
  explicit HarmonicOscillator(const HarmonicOscillatorParams& params = {});
  std::string name() const override { return "harmonic_oscillator"; }
  real_t potential(const real_t* q) const override;
  void grad_potential(const real_t* q, real_t* dvdq) const override;
  void initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const override;
  // Exact state at time t from the default initial state at t = 0.
  void exact(real_t t, real_t* q, real_t* p) const;
  const HarmonicOscillatorParams& params() const { return params_; }

 private:
  HarmonicOscillatorParams params_;
};

// Plane pendulum in the angle q with unit moment of inertia: V = -(g/L) cos q. Starts at rest at
// q = theta0 (a libration for |theta0| < pi).
struct PendulumParams {
  real_t g_over_l = 1.0;  // 1/s^2
  real_t theta0 = 1.0;    // rad
};
class Pendulum : public SeparableHamiltonian {
 public:
  explicit Pendulum(const PendulumParams& params = {});
  std::string name() const override { return "pendulum"; }
  real_t potential(const real_t* q) const override;
  void grad_potential(const real_t* q, real_t* dvdq) const override;
  void initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const override;
  const PendulumParams& params() const { return params_; }

 private:
  PendulumParams params_;
};

// Kepler two-body problem in relative coordinates, 2D, unit reduced mass: V = -GM / |q|.
// Starts at pericentre q = (a (1 - e), 0), p = (0, sqrt(GM (1 + e) / (a (1 - e)))): energy
// -GM / (2a), period 2 pi sqrt(a^3 / GM) (2 pi with the defaults).
struct KeplerParams {
  real_t gm = 1.0;
  real_t eccentricity = 0.6;     // 0 <= e < 1
  real_t semi_major_axis = 1.0;  // a
};
class Kepler : public SeparableHamiltonian {
 public:
  explicit Kepler(const KeplerParams& params = {});
  std::string name() const override { return "kepler"; }
  real_t potential(const real_t* q) const override;
  void grad_potential(const real_t* q, real_t* dvdq) const override;
  bool has_angular_momentum() const override { return true; }
  void initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const override;
  real_t period() const;
  // Exact state at time t on the orbit of the default initial state (pericentre at t = 0),
  // from Kepler's equation M = E - e sin E solved by Newton's method to round-off.
  void exact(real_t t, real_t* q, real_t* p) const;
  const KeplerParams& params() const { return params_; }

 private:
  KeplerParams params_;
};

// Henon-Heiles: V = (x^2 + y^2)/2 + x^2 y - y^3/3, unit masses. No rotational symmetry (only a
// three-fold one), so angular momentum is not conserved. The initial state is given on the
// surface of section x = 0 by (y0, py0) and the energy; px0 = +sqrt(2 (E - V) - py0^2).
// Default: E = 1/12, y0 = 0.1, py0 = 0, a regular (quasi-periodic) orbit — at E = 1/12 most of
// the section is regular (Henon & Heiles 1964), and nearby orbits from this one separate only
// linearly in time.
struct HenonHeilesParams {
  real_t energy = 1.0 / 12.0;  // must stay below the escape energy 1/6
  real_t y0 = 0.1;
  real_t py0 = 0.0;
};
class HenonHeiles : public SeparableHamiltonian {
 public:
  explicit HenonHeiles(const HenonHeilesParams& params = {});
  std::string name() const override { return "henon_heiles"; }
  real_t potential(const real_t* q) const override;
  void grad_potential(const real_t* q, real_t* dvdq) const override;
  void initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const override;
  const HenonHeilesParams& params() const { return params_; }

 private:
  HenonHeilesParams params_;
};

// Gravitational N-body problem in 3D: V = -G sum_{i<j} m_i m_j / sqrt(|x_i - x_j|^2 + eps^2).
// q = (x_1, y_1, z_1, x_2, ...), p_i = m_i v_i. Empty masses select the figure-eight
// three-body choreography of Chenciner & Montgomery (2000), with the initial conditions
// published there (equal masses 1, G = 1, in the z = 0 plane, period about 6.3259, total
// momentum and angular momentum zero).
struct NBodyParams {
  real_t g = 1.0;
  real_t softening = 0.0;  // eps (length)
  std::vector<real_t> masses;
  std::vector<real_t> positions;   // 3 per body
  std::vector<real_t> velocities;  // 3 per body
};
class NBody : public SeparableHamiltonian {
 public:
  explicit NBody(const NBodyParams& params = {});
  std::string name() const override { return "nbody"; }
  int bodies() const { return dim() / 3; }
  real_t potential(const real_t* q) const override;
  void grad_potential(const real_t* q, real_t* dvdq) const override;
  bool has_angular_momentum() const override { return true; }
  void initial_state(std::vector<real_t>& q, std::vector<real_t>& p) const override;
  const NBodyParams& params() const { return params_; }

  static NBodyParams figure_eight();
  static constexpr real_t figure_eight_period = 6.32591398;

 private:
  NBodyParams params_;
};

// The parameters of every system, selected by `type` (as in a case file's hamiltonian section).
struct HamiltonianParams {
  std::string type = "kepler";
  HarmonicOscillatorParams harmonic_oscillator;
  PendulumParams pendulum;
  KeplerParams kepler;
  HenonHeilesParams henon_heiles;
  NBodyParams nbody;
};

// "harmonic_oscillator", "pendulum", "kepler", "henon_heiles", "nbody".
const std::vector<std::string>& hamiltonian_names();
// Builds params.type with its parameters; ConfigError for an unknown type (listing the valid
// ones) or a parameter out of range (naming it and its value).
std::unique_ptr<SeparableHamiltonian> make_hamiltonian(const HamiltonianParams& params);
// The named system with its default parameters.
std::unique_ptr<SeparableHamiltonian> make_hamiltonian(const std::string& name);

}  // namespace aeolus::physics
