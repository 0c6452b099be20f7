// The emulator stepper on 1, 2 and 4 ranks against a serial run of the same model. Each rank
// runs the network on its own ghosted block, so the two differ only where float32 convolutions
// sum in another order on a differently sized block; mass is conserved to round-off on any
// decomposition because every face flux is evaluated once.
#include <gtest/gtest.h>

#include <cmath>

#include "emulators/flux_cnn.hpp"
#include "grids/error.hpp"
#include "flux_cnn_shift_data.hpp"

using namespace aeolus;
using namespace aeolus::emulators;

namespace {

CartesianGridParams grid_params(int n) {
  CartesianGridParams p;
  p.dim = 2;
  p.n = {n, n, 1};
  return p;
}

}  // namespace

TEST(EmulatorMpi, DistributedRunMatchesSerialRunAndConservesMass) {
  constexpr int n = 32;
  constexpr double courant = 0.5;
  const double dx = 1.0 / n;
  test::TempDir dir(PETSC_COMM_WORLD);
  const std::string model = dir.file("mpi.pt");
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) {
    FluxCnnParams p;
    p.channels = 8;
    p.layers = 3;
    p.stencil = 6;
    p.threads = 1;  // up to 4 ranks share the test machine's cores
    FluxCnnTrainingParams t;
    t.epochs = 2;
    t.batch_size = 8;
    t.learning_rate = 5e-3;
    t.threads = 1;
    train_flux_cnn(p, t, test::make_shift_dataset(n, 4, 4, courant, 51),
                   test::make_shift_dataset(n, 1, 4, courant, 52), model, dir.file("mpi.csv"));
  }
  MPI_Barrier(PETSC_COMM_WORLD);

  physics::VelocityParams velocity;
  velocity.type = "constant";
  velocity.u = {-0.6, 0.8, 0.0};
  std::mt19937_64 rng(8);
  const auto q0 = test::random_field(rng).sample(n, 0, 0, 0);
  const int steps = 30;

  CartesianGrid grid(PETSC_COMM_WORLD, grid_params(n));
  auto stepper = make_flux_cnn_stepper(grid, velocity, model, dx, dx);
  Field q(grid, "q");
  q.scatter_from_root(q0);
  const double mass0 = q.sum();
  double t = 0, worst_mass = 0;
  for (int s = 0; s < steps; ++s) {
    double dt = stepper->max_dt(q, t);
    stepper->step(q, t, dt);
    worst_mass = std::max(worst_mass, std::abs(q.sum() - mass0) / mass0);
  }
  EXPECT_LT(worst_mass, 1e-12);
  const auto distributed = q.gather_to_root();

  if (rank == 0) {
    CartesianGrid serial_grid(PETSC_COMM_SELF, grid_params(n));
    auto serial = make_flux_cnn_stepper(serial_grid, velocity, model, dx, dx);
    Field qs(serial_grid, "q");
    qs.scatter_from_root(q0);
    double ts = 0;
    for (int s = 0; s < steps; ++s) {
      double dt = serial->max_dt(qs, ts);
      serial->step(qs, ts, dt);
    }
    const auto reference = qs.gather_to_root();
    ASSERT_EQ(reference.size(), distributed.size());
    double diff = 0;
    for (size_t c = 0; c < reference.size(); ++c) {
      diff = std::max(diff, std::abs(reference[c] - distributed[c]));
    }
    std::printf("[ info ] %d ranks, %d steps: max |distributed - serial| = %.3e, mass drift %.1e\n",
                grid.size(), steps, diff, worst_mass);
    // Measured 1.3e-13 at 4 ranks (0 at 1 rank): the stepper runs the network once, in double,
    // and convolutions on blocks of another size sum in another order; the difference is
    // carried along for 30 steps (through the limiter's min/max switches).
    EXPECT_LT(diff, 1e-12);
  }
}
