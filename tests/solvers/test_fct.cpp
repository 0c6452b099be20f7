// Flux-corrected transport: whatever high-order fluxes come in (here: wild random ones, as an
// untrained network might give), the limited update conserves mass to round-off and creates no
// value outside the range of the old state; zero antidiffusion reproduces the donor-cell step;
// unlimited mode is the plain flux-form update.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "grids/field.hpp"
#include "solvers/fct.hpp"

using namespace aeolus;

namespace {

struct FctFixture {
  CartesianGrid grid;
  Field q, cx, cy, gx, gy, q_low, rp, rm, q_new;
  explicit FctFixture(index_t n)
      : grid(PETSC_COMM_SELF,
             [n] {
               CartesianGridParams p;
               p.dim = 2;
               p.n = {n, n + 3, 1};
               p.halo = 3;
               return p;
             }()),
        q(grid, "q"),
        cx(grid, "cx"),
        cy(grid, "cy"),
        gx(grid, "gx"),
        gy(grid, "gy"),
        q_low(grid, "q_low"),
        rp(grid, "rp"),
        rm(grid, "rm"),
        q_new(grid, "q_new") {}
  FctWork work() { return {q_low.view(), rp.view(), rm.view()}; }
};

double uniform(std::mt19937_64& g) { return double(g() >> 11) * 0x1.0p-53; }

void fill(Field& f, std::mt19937_64& g, double lo, double hi) {
  auto v = f.view();
  for (index_t j = 0; j < v.ny; ++j)
    for (index_t i = 0; i < v.nx; ++i) v(i, j) = lo + (hi - lo) * uniform(g);
  f.exchange_halos();
}

}  // namespace

TEST(Fct, RandomHighOrderFluxesStayBoundedAndConservative) {
  FctFixture s(24);
  std::mt19937_64 g(7);
  fill(s.q, g, 0.0, 1.0);
  // A constant (divergence-free) velocity: the donor-cell step is then a convex combination,
  // so the global range of q bounds the result. (Under a divergent velocity the bounds are
  // those of q and the donor-cell solution, which may compress beyond the range of q.)
  s.cx.fill(0.3);
  s.cy.fill(-0.45);
  EXPECT_DOUBLE_EQ(fct_max_outflow_courant(s.cx.view(), s.cy.view()), 0.75);
  fill(s.gx, g, -2.0, 2.0);  // far outside anything sensible
  fill(s.gy, g, -2.0, 2.0);
  const real_t lo = s.q.min(), hi = s.q.max(), mass = s.q.sum();
  fct_update_2d(s.q.view(), s.cx.view(), s.cy.view(), s.gx.view(), s.gy.view(), true, s.work(),
                s.q_new.view());
  EXPECT_GE(s.q_new.min(), lo - 1e-14);
  EXPECT_LE(s.q_new.max(), hi + 1e-14);
  EXPECT_NEAR(s.q_new.sum(), mass, 1e-14 * mass);
  // Unlimited, the same fluxes leave the range by far (the test above is not vacuous).
  fct_update_2d(s.q.view(), s.cx.view(), s.cy.view(), s.gx.view(), s.gy.view(), false, s.work(),
                s.q_new.view());
  EXPECT_LT(s.q_new.min(), lo - 0.5);
  EXPECT_NEAR(s.q_new.sum(), mass, 1e-13 * mass);
}

TEST(Fct, DonorCellFluxesGiveTheDonorCellStep) {
  FctFixture s(16);
  std::mt19937_64 g(3);
  fill(s.q, g, 0.0, 1.0);
  s.cx.fill(0.3);
  s.cy.fill(-0.2);
  auto q = s.q.view();
  auto gx = s.gx.view(), gy = s.gy.view();
  for (index_t j = -2; j < q.ny + 2; ++j)
    for (index_t i = -2; i < q.nx + 2; ++i) {
      gx(i, j) = 0.3 * q(i - 1, j);
      gy(i, j) = -0.2 * q(i, j);
    }
  fct_update_2d(s.q.view(), s.cx.view(), s.cy.view(), s.gx.view(), s.gy.view(), true, s.work(),
                s.q_new.view());
  auto out = s.q_new.view();
  for (index_t j = 0; j < q.ny; ++j)
    for (index_t i = 0; i < q.nx; ++i) {
      const double expect = q(i, j) - 0.3 * (q(i, j) - q(i - 1, j)) + 0.2 * (q(i, j + 1) - q(i, j));
      ASSERT_NEAR(out(i, j), expect, 1e-15);
    }
}

TEST(Fct, OutflowCourantSumsOutgoingFaces) {
  FctFixture s(8);
  s.cx.fill(0.25);  // each cell: out through its high x-face
  s.cy.fill(-0.5);  // out through its low y-face
  EXPECT_DOUBLE_EQ(fct_max_outflow_courant(s.cx.view(), s.cy.view()), 0.75);
}
