// The classical CO2 stepper (solvers/co2_transport.hpp) on a small grid, at 1 and 2 ranks:
//  - over a few steps the CO2 mass changes by exactly the surface source the fluxes applied
//    (to round-off), and the reported flux integrals are that source;
//  - step_all of two tracers advances the shared air mass once: each tracer ends bitwise where
//    a stepper of its own takes it;
//  - a step longer than the interval is refused.
#include <gtest/gtest.h>

#include <cmath>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/co2_fluxes.hpp"
#include "solvers/co2_transport.hpp"

using namespace aeolus;

namespace {

SphereGridParams grid_params() {
  SphereGridParams p;
  p.nlat = 8;
  p.nlon = 16;
  p.nlev = 4;
  p.halo = 3;
  return p;
}

Co2TransportParams transport_params() {
  Co2TransportParams p;
  p.max_substep = 3600.0;
  p.interval = 21600.0;
  return p;
}

}  // namespace

TEST(Co2Transport, ConservesCo2MassPlusTheSurfaceSource) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  Co2TransportStepper s(g.grid(), g.radius(), transport_params());
  Field q(g.grid(), "co2");
  physics::co2_initial_mixing_ratio(s.grid(), s.met().coordinate(), 400.0, q);
  const size_t ncol = size_t(g.lat_count() * g.nlon());
  real_t t = 0;
  for (int n = 0; n < 3; ++n) {
    const real_t before = physics::co2_tracer_mass(s.grid(), s.air_mass(), q);
    Co2FluxSums sums;
    sums.reset(ncol);
    const auto r = s.advance({&q}, t, 21600.0, &sums);
    EXPECT_GE(r.substeps, 6);  // max_substep 1 h
    const real_t after = physics::co2_tracer_mass(s.grid(), s.air_mass(), q);
    EXPECT_NEAR(after - before, r.source_kg, 1e-12 * before) << "step " << n;
    std::vector<real_t> total(ncol);
    for (size_t i = 0; i < ncol; ++i) total[i] = sums.anthro[i] + sums.land[i] + sums.ocean[i];
    const real_t integral = physics::co2_surface_integral(s.grid(), total);
    EXPECT_NEAR(integral, r.source_kg, 1e-12 * std::abs(r.source_kg) + 1e-6) << "step " << n;
    EXPECT_NE(r.source_kg, 0.0);
    t += 21600.0;
  }
  EXPECT_GT(q.min(), 0.0);
}

TEST(Co2Transport, StepAllMovesTheAirMassOnce) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  Co2TransportStepper both(g.grid(), g.radius(), transport_params());
  Co2TransportStepper one(g.grid(), g.radius(), transport_params());
  Co2TransportStepper other(g.grid(), g.radius(), transport_params());
  Field a(g.grid(), "a"), b(g.grid(), "b"), a1(g.grid(), "a1"), b1(g.grid(), "b1");
  physics::co2_initial_mixing_ratio(both.grid(), both.met().coordinate(), 400.0, a);
  physics::co2_initial_mixing_ratio(both.grid(), both.met().coordinate(), 300.0, b);
  a1.copy_owned_from(a);
  b1.copy_owned_from(b);
  real_t t = 0, t1 = 0, t2 = 0;
  for (int n = 0; n < 2; ++n) {
    real_t dt = 21600.0, dt1 = dt, dt2 = dt;
    both.step_all({&a, &b}, t, dt);
    one.step(a1, t1, dt1);
    other.step(b1, t2, dt2);
    EXPECT_EQ(dt, 21600.0);
  }
  EXPECT_EQ(t, 43200.0);
  EXPECT_EQ(t1, t);
  const ConstFieldView va = a.view(), vb = b.view(), va1 = a1.view(), vb1 = b1.view(),
                       m = both.air_mass().view(), m1 = one.air_mass().view();
  for (index_t k = 0; k < va.nz; ++k)
    for (index_t j = 0; j < va.ny; ++j)
      for (index_t i = 0; i < va.nx; ++i) {
        ASSERT_EQ(va(i, j, k), va1(i, j, k)) << i << " " << j << " " << k;
        ASSERT_EQ(vb(i, j, k), vb1(i, j, k)) << i << " " << j << " " << k;
        ASSERT_EQ(m(i, j, k), m1(i, j, k)) << i << " " << j << " " << k;
      }
}

TEST(Co2Transport, RefusesStepsLongerThanTheInterval) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  Co2TransportStepper s(g.grid(), g.radius(), transport_params());
  Field q(g.grid(), "co2");
  q.fill(1e-3);
  real_t t = 0, dt = 2 * 21600.0;
  EXPECT_EQ(s.max_dt(q, t), 21600.0);
  EXPECT_FALSE(s.fixed_step());
  EXPECT_EQ(s.state_fields().size(), 1u);
  try {
    s.step(q, t, dt);
    ADD_FAILURE() << "no error for dt = 2 intervals";
  } catch (const NumericsError& e) {
    EXPECT_NE(std::string(e.what()).find("expected at most 21600 s"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(t, 0.0);
}
