// Rank independence: the same problem on PETSC_COMM_WORLD (distributed) and on
// PETSC_COMM_SELF (every rank runs the whole grid alone) must give bitwise equal fields,
// because every face flux depends only on values that the halo exchange copies exactly and dt
// comes from an exact global max. Run at 1, 2 and 4 ranks.
#include <gtest/gtest.h>

#include <string>

#include "grids/petsc_util.hpp"
#include "tests/solvers/fv_test_util.hpp"

using namespace aeolus;
using namespace aeolus::test;

namespace {

struct Problem {
  CartesianGridParams grid;
  physics::VelocityParams velocity;
  physics::InitialConditionParams ic;
  FvSchemeParams scheme;
  real_t cfl = 0.9;
  int steps = 12;
};

// Runs the problem on comm and returns the gathered field on rank 0 of comm, and max_dt.
std::vector<real_t> run(MPI_Comm comm, const Problem& p, real_t& max_dt) {
  CartesianGrid grid(comm, p.grid);
  Field q(grid, "q");
  physics::fill_initial_condition(p.ic, 99, q);
  FvAdvectionStepper stepper(grid, p.velocity, p.scheme, p.cfl);
  real_t t = 0;
  max_dt = stepper.max_dt(q, t);
  for (int n = 0; n < p.steps; ++n) {
    real_t dt = stepper.max_dt(q, t);
    stepper.step(q, t, dt);
  }
  return q.gather_to_root();
}

void expect_rank_independent(const Problem& p) {
  real_t dt_world = 0, dt_self = 0;
  const std::vector<real_t> world = run(PETSC_COMM_WORLD, p, dt_world);
  const std::vector<real_t> self = run(PETSC_COMM_SELF, p, dt_self);
  EXPECT_EQ(dt_world, dt_self);
  if (comm_rank(PETSC_COMM_WORLD) != 0) return;
  ASSERT_EQ(world.size(), self.size());
  size_t differing = 0;
  for (size_t n = 0; n < world.size(); ++n) differing += world[n] != self[n];
  EXPECT_EQ(differing, 0u) << "of " << world.size() << " cells";
  for (size_t n = 0; n < world.size(); ++n) {
    EXPECT_EQ(world[n], self[n]) << "cell " << n;
    if (world[n] != self[n]) break;  // one is enough to see the values
  }
}

}  // namespace

class FvRankIndependence : public ::testing::TestWithParam<std::string> {};

TEST_P(FvRankIndependence, Rotating2dPeriodic) {
  Problem p;
  p.grid = square_grid(2, 24);
  p.grid.n[1] = 20;
  p.velocity.type = "rotating";
  p.ic.type = "random_blobs";
  p.scheme = scheme(GetParam());
  expect_rank_independent(p);
}

TEST_P(FvRankIndependence, Constant2dOutflowInX) {
  Problem p;
  p.grid = square_grid(2, 20);
  p.grid.n[1] = 24;
  p.grid.periodic = {false, true, true};
  p.velocity.u = {1.0, -0.6, 0.0};
  p.ic.type = "gaussian";
  p.ic.center = {0.8, 0.1, 0.0};
  p.scheme = scheme(GetParam());
  p.steps = 20;
  expect_rank_independent(p);
}

TEST_P(FvRankIndependence, Constant3dMixedBoundaries) {
  Problem p;
  p.grid = square_grid(3, 12);
  p.grid.periodic = {true, false, true};
  p.velocity.u = {0.7, -0.4, 0.3};
  p.ic.type = "cosine_bell";
  p.ic.radius = 0.3;
  p.scheme = scheme(GetParam());
  p.steps = 6;
  expect_rank_independent(p);
}

INSTANTIATE_TEST_SUITE_P(Reconstructions, FvRankIndependence,
                         ::testing::Values("upwind", "linear", "minmod", "van_leer", "mc", "ppm"),
                         [](const auto& info) { return info.param; });

TEST(FvRankIndependenceIntegrators, EulerAndSsprk2) {
  for (const char* ti : {"euler", "ssprk2"}) {
    Problem p;
    p.grid = square_grid(2, 16);
    p.velocity.type = "rotating";
    p.ic.type = "random_blobs";
    p.scheme = scheme("minmod", ti);
    p.cfl = 0.5;
    expect_rank_independent(p);
  }
}
