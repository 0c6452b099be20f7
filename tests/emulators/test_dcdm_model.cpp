// The learned part of DCDM (emulators/dcdm_model.hpp): the sparse operator and loss used in
// training, the Ritz-vector dataset, training of a tiny network, saving and loading, and DCDM
// with the trained network. Small grids (16 x 16) so that the whole suite takes seconds.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "emulators/dcdm_model.hpp"
#include "grids/error.hpp"
#include "grids/field.hpp"
#include "grids/petsc_util.hpp"
#include "io/netcdf_file.hpp"
#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"

namespace {

using aeolus::BoundaryKind;
using aeolus::EllipticOperator;
using aeolus::EllipticProblem;
namespace em = aeolus::emulators;

// -div grad u = f on the unit box, cell-centred; kinds[d] on both faces of dimension d, except
// that x_hi may differ.
struct Poisson {
  EllipticProblem p;
  std::unique_ptr<aeolus::CartesianGrid> grid;
  std::unique_ptr<EllipticOperator> op;
  Poisson(int dim, int nx, int ny, std::array<BoundaryKind, 3> kinds, BoundaryKind x_hi) {
    p.dim = dim;
    p.panels = {nx, ny, dim == 3 ? ny : 1};
    p.centering = aeolus::Centering::cell;
    for (int d = 0; d < dim; ++d)
      for (int side = 0; side < 2; ++side)
        p.boundary[size_t(d)][size_t(side)].kind = kinds[size_t(d)];
    p.boundary[0][1].kind = x_hi;
    grid = aeolus::make_elliptic_grid(PETSC_COMM_WORLD, p);
    op = std::make_unique<EllipticOperator>(*grid, p);
  }
  Poisson(int dim, int nx, int ny, BoundaryKind kind, BoundaryKind x_hi)
      : Poisson(dim, nx, ny, {kind, kind, kind}, x_hi) {}
  explicit Poisson(int n) : Poisson(2, n, n, BoundaryKind::dirichlet, BoundaryKind::dirichlet) {}
  // 2D, n x n, `x` on both x faces and `y` on both y faces.
  Poisson(int n, BoundaryKind x, BoundaryKind y) : Poisson(2, n, n, {x, y, y}, x) {}

  // A rough vector with many modes, defined in natural order (rank-count independent).
  Vec rough(double phase) const {
    aeolus::Field f(*grid, "f");
    std::vector<double> values;
    if (grid->rank() == 0) {
      for (aeolus::index_t g = 0; g < grid->global_cells(); ++g) {
        values.push_back(std::sin(0.37 * double(g) + phase) + 0.5 * std::cos(0.011 * double(g)));
      }
    }
    f.scatter_from_root(values);
    Vec v = op->create_vector();
    op->to_vec(f, v);
    return v;
  }
};

double norm(Vec v) {
  PetscReal n;
  VecNorm(v, NORM_2, &n);
  return n;
}

TEST(DcdmModel, SparseOperatorMatchesMatMult) {
  Poisson poisson(2, 16, 12, BoundaryKind::dirichlet, BoundaryKind::neumann);
  Vec v = poisson.rough(0.3), petsc = poisson.op->create_vector(),
      torch_side = poisson.op->create_vector();
  MatMult(poisson.op->matrix(), v, petsc);
  em::dcdm_training_operator_apply(*poisson.op, v, torch_side);
  VecAXPY(torch_side, -1.0, petsc);
  EXPECT_LE(norm(torch_side), 1e-12 * norm(petsc));
  VecDestroy(&v);
  VecDestroy(&petsc);
  VecDestroy(&torch_side);
}

TEST(DcdmModel, LossVanishesAtTheSolutionAndIsScaleInvariant) {
  Poisson poisson(16);
  Vec b = poisson.rough(1.1), q = poisson.op->create_vector();
  VecNormalize(b, nullptr);
  aeolus::KspParams kp;
  kp.options = "-ksp_type cg -pc_type none";
  kp.rtol = 1e-14;
  aeolus::KspSolver ksp(*poisson.op, kp);
  VecSet(q, 0.0);
  ksp.solve(b, q);
  EXPECT_LE(em::dcdm_loss(*poisson.op, b, q), 1e-20);
  // Scale invariance, for a direction that is not the solution: q = b and q = 3 b.
  VecCopy(b, q);
  const double loss1 = em::dcdm_loss(*poisson.op, b, q);
  VecScale(q, 3.0);
  const double loss3 = em::dcdm_loss(*poisson.op, b, q);
  EXPECT_GT(loss1, 1e-3);
  EXPECT_NEAR(loss1, loss3, 1e-13 * loss1);
  VecDestroy(&b);
  VecDestroy(&q);
}

TEST(DcdmModel, ForwardMacsCountTheConvolutions) {
  // 2D, C = 1, blocks 0: input conv 9 N + down conv 9*1*2*N/4 + 1x1 2*N/4 + output N.
  em::DcdmNetParams net;
  net.channels = 1;
  net.blocks = 0;
  EXPECT_DOUBLE_EQ(em::dcdm_forward_macs(2, 64, net), 9 * 64 + 18 * 16 + 2 * 16 + 64);
}

TEST(DcdmModel, PeriodicAndNeumannBoundariesTrainAndSolve) {
  // Circular, replicate and mixed padding, and singular operators (no Dirichlet face): a
  // barely trained network on 8 x 8 still gives a working solver once every direction is
  // A-orthogonalised against all previous ones (orthogonalise = 64 = the number of unknowns).
  aeolus::test::TempDir dir(PETSC_COMM_WORLD);
  const BoundaryKind periodic = BoundaryKind::periodic, neumann = BoundaryKind::neumann;
  const BoundaryKind kinds[3][2] = {{periodic, periodic}, {neumann, neumann}, {periodic, neumann}};
  for (const auto& k : kinds) {
    Poisson poisson(8, k[0], k[1]);
    ASSERT_TRUE(poisson.op->singular());
    const std::string data = dir.file("data.nc"), model = dir.file("model.pt");
    em::DcdmDatasetParams dp;
    dp.ritz = 12;
    dp.samples = 16;
    dp.valid = 4;
    em::generate_dcdm_dataset(*poisson.op, dp, data);
    em::DcdmNetParams net;
    net.channels = 2;
    net.blocks = 1;
    em::DcdmTrainingParams tp;
    tp.epochs = 2;
    tp.batch_size = 4;
    tp.threads = 1;
    const em::DcdmTrainReport report = em::train_dcdm(*poisson.op, data, net, tp, model);
    EXPECT_TRUE(std::isfinite(report.valid_loss));
    auto direction = em::load_dcdm_model(model, *poisson.op, 1);
    Vec b = poisson.rough(0.5), x = poisson.op->create_vector();
    PetscScalar sum;
    VecSum(b, &sum);
    VecShift(b, -sum / 64.0);  // into the range of A
    VecSet(x, 0.0);
    aeolus::DcdmParams params;
    params.orthogonalise = 64;
    params.max_it = 200;
    const aeolus::SolveStats st =
        aeolus::dcdm_solve(poisson.op->matrix(), b, x, *direction, params);
    // Finite termination: 63 range directions (a few more for round-off).
    EXPECT_TRUE(st.converged) << aeolus::boundary_kind_name(k[0]) << "/"
                              << aeolus::boundary_kind_name(k[1]) << ": " << st.reason;
    EXPECT_LE(st.iterations, 66);
    VecDestroy(&b);
    VecDestroy(&x);
  }
}

// One dataset and one trained model, shared by the tests below (training takes seconds).
class TrainedDcdm : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new aeolus::test::TempDir(PETSC_COMM_WORLD);
    poisson = new Poisson(16);
    dataset = dir->file("dcdm_train.nc");
    model = dir->file("models/dcdm.pt");
    em::DcdmDatasetParams dp;
    dp.ritz = 40;
    dp.samples = 128;
    dp.valid = 16;
    dp.seed = 3;
    em::generate_dcdm_dataset(*poisson->op, dp, dataset);
    em::DcdmNetParams net;
    net.channels = 4;
    net.blocks = 1;
    em::DcdmTrainingParams tp;
    tp.epochs = 20;
    tp.batch_size = 8;
    tp.learning_rate = 3e-3;
    tp.threads = 1;
    tp.seed = 5;
    report = em::train_dcdm(*poisson->op, dataset, net, tp, model);
    if (aeolus::comm_rank(PETSC_COMM_WORLD) == 0) {
      std::printf(
          "[dcdm model] %d epochs, %.2f s, valid loss %.4e -> %.4e, %lld parameters, "
          "%.3g FLOP/sample, %.3g s/sample\n",
          report.epochs, report.seconds, report.initial_valid_loss, report.valid_loss,
          report.parameters, report.flops_per_sample, report.seconds_per_sample);
    }
  }
  static void TearDownTestSuite() {
    delete poisson;
    delete dir;
  }
  static aeolus::test::TempDir* dir;
  static Poisson* poisson;
  static std::string dataset, model;
  static em::DcdmTrainReport report;
};
aeolus::test::TempDir* TrainedDcdm::dir = nullptr;
Poisson* TrainedDcdm::poisson = nullptr;
std::string TrainedDcdm::dataset, TrainedDcdm::model;
em::DcdmTrainReport TrainedDcdm::report;

TEST_F(TrainedDcdm, DatasetHoldsUnitRitzCombinations) {
  if (aeolus::comm_rank(PETSC_COMM_WORLD) != 0) return;
  aeolus::io::NetcdfFile f(dataset, aeolus::io::NetcdfFile::Mode::read);
  EXPECT_EQ(f.get_att_string("", "Conventions"), "CF-1.8");
  EXPECT_EQ(f.var_shape("b"), (std::vector<size_t>{128, 16, 16}));
  EXPECT_EQ(f.var_shape("b_valid"), (std::vector<size_t>{16, 16, 16}));
  EXPECT_EQ(f.get_att_string("b", "units"), "1");
  std::vector<double> b(128 * 256), ritz(40);
  f.get("b", {}, {}, b.data());
  f.get("ritz_value", {}, {}, ritz.data());
  for (int s = 0; s < 128; ++s) {
    double sum = 0;
    for (int i = 0; i < 256; ++i) sum += b[size_t(s * 256 + i)] * b[size_t(s * 256 + i)];
    EXPECT_NEAR(std::sqrt(sum), 1.0, 1e-6) << "sample " << s;  // stored as float
  }
  // Ascending, inside (0, 8 / h^2] (the 2D Dirichlet Laplacian with h = 1/16).
  for (size_t i = 1; i < ritz.size(); ++i) EXPECT_LE(ritz[i - 1], ritz[i]);
  EXPECT_GT(ritz.front(), 0.0);
  EXPECT_LE(ritz.back(), 8.0 * 256 * (1 + 1e-12));  // Gershgorin
}

TEST_F(TrainedDcdm, ValidationLossFalls) {
  EXPECT_EQ(report.epochs, 20);
  EXPECT_LT(report.valid_loss, report.initial_valid_loss);
  EXPECT_GT(report.parameters, 0);
  EXPECT_GT(report.flops_per_sample, 0.0);
  EXPECT_TRUE(std::filesystem::exists(model));
  EXPECT_FALSE(std::filesystem::exists(model + ".part"));
  if (aeolus::comm_rank(PETSC_COMM_WORLD) == 0) {
    std::ifstream csv(model + ".csv");
    std::string line;
    int lines = 0;
    while (std::getline(csv, line)) ++lines;
    EXPECT_EQ(lines, 1 + 1 + 20);  // header, epoch 0 (untrained), 20 epochs
  }
}

TEST_F(TrainedDcdm, SaveLoadRoundTrip) {
  // The saved model scores on the validation set exactly what training reported for it.
  const double loss = em::evaluate_dcdm_model(model, *poisson->op, dataset, 1);
  EXPECT_NEAR(loss, report.valid_loss, 1e-5 * report.valid_loss);
  // Two loads give bitwise the same direction; it is not the identity.
  auto m1 = em::load_dcdm_model(model, *poisson->op, 1);
  auto m2 = em::load_dcdm_model(model, *poisson->op, 1);
  Vec r = poisson->rough(0.7), q1 = poisson->op->create_vector(), q2 = poisson->op->create_vector();
  VecNormalize(r, nullptr);
  m1->direction(r, q1);
  m2->direction(r, q2);
  PetscBool equal = PETSC_FALSE;
  VecEqual(q1, q2, &equal);
  EXPECT_TRUE(equal);
  double dot = 0;
  VecDot(q1, r, &dot);
  EXPECT_LT(std::abs(dot) / norm(q1), 0.999);
  // No biases: the network is positively homogeneous, q(3 r) = 3 q(r) (to float round-off).
  VecScale(r, 3.0);
  m1->direction(r, q2);
  VecAXPY(q2, -3.0, q1);
  EXPECT_LE(norm(q2), 1e-5 * 3.0 * norm(q1));
  VecDestroy(&r);
  VecDestroy(&q1);
  VecDestroy(&q2);
}

TEST_F(TrainedDcdm, IncompatibleOperatorsAreRejected) {
  const auto expect_model_error = [&](const EllipticOperator& op, const std::string& needle) {
    try {
      em::load_dcdm_model(model, op, 1);
      ADD_FAILURE() << "expected ModelError mentioning " << needle;
    } catch (const aeolus::ModelError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_NE(what.find(model), std::string::npos) << what;
    }
  };
  Poisson neumann(2, 16, 16, BoundaryKind::dirichlet, BoundaryKind::neumann);
  expect_model_error(*neumann.op, "x_hi");
  Poisson odd(2, 15, 16, BoundaryKind::dirichlet, BoundaryKind::dirichlet);
  expect_model_error(*odd.op, "even");
  Poisson cube(3, 8, 8, BoundaryKind::dirichlet, BoundaryKind::dirichlet);
  expect_model_error(*cube.op, "2D");
  EXPECT_THROW(em::load_dcdm_model(dir->file("missing.pt"), *poisson->op, 1), aeolus::IoError);
  if (aeolus::comm_rank(PETSC_COMM_WORLD) == 0)
    std::ofstream(dir->file("junk.pt")) << "not a model";
  MPI_Barrier(PETSC_COMM_WORLD);
  EXPECT_THROW(em::load_dcdm_model(dir->file("junk.pt"), *poisson->op, 1), aeolus::ModelError);
  // Devices: an unknown name, and CUDA on a LibTorch without it, are ConfigErrors that name
  // the device; "cpu" is the default and gives the same direction.
  const auto expect_device_error = [&](const std::string& device) {
    try {
      em::load_dcdm_model(model, *poisson->op, 1, device);
      ADD_FAILURE() << "expected ConfigError for device " << device;
    } catch (const aeolus::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("'" + device + "'"), std::string::npos) << e.what();
    }
  };
  expect_device_error("tpu");
  if (!em::cuda_available()) expect_device_error("cuda");
  EXPECT_NO_THROW(em::load_dcdm_model(model, *poisson->op, 1, "cpu"));
  // A dataset made for another operator is refused by training.
  em::DcdmNetParams net;
  net.channels = 2;
  net.blocks = 0;
  em::DcdmTrainingParams tp;
  tp.epochs = 1;
  Poisson other(2, 16, 8, BoundaryKind::dirichlet, BoundaryKind::dirichlet);
  EXPECT_THROW(em::train_dcdm(*other.op, dataset, net, tp, dir->file("other.pt")),
               aeolus::ConfigError);
}

TEST_F(TrainedDcdm, DcdmWithTheTrainedModelConverges) {
  // A rough right-hand side unlike the training data. The tiny network (20 epochs on 128
  // samples, about a second) is a weak model: it converges with the default A-orthogonalisation
  // against 2 directions, and faster with more (it undertrained, the method stalls with 2).
  auto net = em::load_dcdm_model(model, *poisson->op, 1);
  Vec b = poisson->rough(2.0), x = poisson->op->create_vector();
  aeolus::DcdmParams params;
  params.rtol = 1e-8;
  params.max_it = 500;
  std::vector<int> iterations;
  for (int m : {2, 8}) {
    params.orthogonalise = m;
    VecSet(x, 0.0);
    const aeolus::SolveStats st = aeolus::dcdm_solve(poisson->op->matrix(), b, x, *net, params);
    EXPECT_TRUE(st.converged) << "orthogonalise " << m << ": " << st.reason;
    EXPECT_LE(st.relative_residual(), 1e-8);
    iterations.push_back(st.iterations);
  }
  aeolus::IdentityDirection identity;
  params.orthogonalise = 2;
  VecSet(x, 0.0);
  const aeolus::SolveStats cg = aeolus::dcdm_solve(poisson->op->matrix(), b, x, identity, params);
  if (aeolus::comm_rank(PETSC_COMM_WORLD) == 0) {
    std::printf(
        "[dcdm model] 16x16 Dirichlet, rtol 1e-8: DCDM (tiny CNN) %d iterations "
        "(orthogonalise 2), %d (orthogonalise 8); CG %d\n",
        iterations[0], iterations[1], cg.iterations);
  }
  VecDestroy(&b);
  VecDestroy(&x);
}

}  // namespace
