// Aeolus model archives (what `aeolus train` writes) through the C API's model calls
// (aeolus_model_load / forward / output_shape): each kind's forward against the emulator's own
// C++ evaluation on the same inputs, its shape refusals, output_shape, and the trainer's refusal.
#include <gtest/gtest.h>
#include <petscvec.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "aeolus.h"
#include "common/temp_dir.hpp"
#include "emulators/co2_models.hpp"
#include "emulators/dcdm_model.hpp"
#include "emulators/flux_cnn_model.hpp"
#include "emulators/neural_ode.hpp"
#include "emulators/neural_ode_impl.hpp"
#include "emulators/neural_sde.hpp"
#include "emulators/neural_sde_impl.hpp"
#include "emulators/pinn.hpp"
#include "solvers/elliptic.hpp"

namespace em = aeolus::emulators;

namespace {

struct Model {
  aeolus_model* h = nullptr;
  explicit Model(const std::string& path) {
    EXPECT_EQ(aeolus_model_load(path.c_str(), &h), AEOLUS_OK) << aeolus_last_error();
  }
  ~Model() { aeolus_model_free(h); }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
};

// forward through the C API on a row-major float64 array; the status is returned.
int forward(aeolus_model* m, const std::vector<double>& in, std::vector<std::int64_t> in_shape,
            std::vector<double>& out, std::vector<std::int64_t> out_shape,
            int layout = AEOLUS_LAYOUT_C) {
  std::int64_t n = 1;
  for (std::int64_t e : out_shape) n *= e;
  out.assign(std::size_t(n), -7.0);
  return aeolus_model_forward(m, in.data(), int(in_shape.size()), in_shape.data(), AEOLUS_FLOAT64,
                              layout, out.data(), int(out_shape.size()), out_shape.data());
}

std::vector<std::int64_t> output_shape(aeolus_model* m, std::vector<std::int64_t> in_shape) {
  int rank = 0;
  std::int64_t shape[AEOLUS_MAX_RANK] = {};
  EXPECT_EQ(aeolus_model_output_shape(m, int(in_shape.size()), in_shape.data(), AEOLUS_LAYOUT_C,
                                      &rank, shape),
            AEOLUS_OK)
      << aeolus_last_error();
  return std::vector<std::int64_t>(shape, shape + rank);
}

void expect_refused(aeolus_model* m, std::vector<std::int64_t> in_shape,
                    std::vector<std::int64_t> out_shape, const std::string& expected) {
  std::int64_t n = 1;
  for (std::int64_t e : in_shape) n *= e;
  std::vector<double> in(std::size_t(n), 0.5), out;
  EXPECT_EQ(forward(m, in, in_shape, out, out_shape), AEOLUS_ERROR_MODEL);
  const std::string what = aeolus_last_error();
  EXPECT_NE(what.find(expected), std::string::npos) << what;
  for (double v : out) EXPECT_EQ(v, -7.0);  // out unchanged on an error
}

void expect_trainer_refused(aeolus_model* m, const std::string& kind) {
  aeolus_trainer* tr = nullptr;
  EXPECT_EQ(aeolus_trainer_create(m, "/nonexistent.yaml", "training", AEOLUS_COMM_NONE, &tr),
            AEOLUS_ERROR_ARGUMENT);
  EXPECT_EQ(tr, nullptr);
  const std::string what = aeolus_last_error();
  EXPECT_NE(what.find("is an " + kind + ": online training takes TorchScript models"),
            std::string::npos)
      << what;
}

em::PinnParams tiny_pinn(const std::string& type, const std::string& formulation) {
  em::PinnParams p = em::pinn_defaults(type, formulation);
  p.pde.beta = 2.0;
  p.network.width = 8;
  p.network.depth = 2;
  p.collocation.n_residual = 32;
  p.collocation.n_initial = 16;
  p.collocation.n_boundary = 8;
  p.training.adam_iterations = 3;
  p.training.lbfgs_iterations = 0;
  p.training.threads = 1;
  p.evaluation.nx = 16;
  p.evaluation.nt = 5;
  p.evaluation.threads = 1;
  return p;
}

}  // namespace

TEST(ArchiveModels, PinnForwardIsTheEvaluationGridsPrediction) {
  aeolus::test::TempDir dir;
  for (const std::string type : {"convection", "poisson2d"}) {
    SCOPED_TRACE(type);
    const em::PinnParams p = tiny_pinn(type, "pinn");
    const std::string path = dir.file(type + ".pt");
    em::train_pinn(p, path);
    const em::PinnEvaluation e = em::evaluate_pinn(path, p.evaluation);
    // The grid's points (x_i, t_j), t slowest, as u_pred.
    std::vector<double> in;
    for (int j = 0; j < e.nt; ++j)
      for (int i = 0; i < e.nx; ++i) {
        in.push_back(e.x[std::size_t(i)]);
        in.push_back(e.t[std::size_t(j)]);
      }
    const std::int64_t n = std::int64_t(e.nx) * e.nt;
    Model m(path);
    ASSERT_NE(m.h, nullptr);
    std::vector<double> out;
    ASSERT_EQ(forward(m.h, in, {n, 2}, out, {n, 1}), AEOLUS_OK) << aeolus_last_error();
    double worst = 0;
    for (std::size_t k = 0; k < out.size(); ++k)
      worst = std::max(worst, std::abs(out[k] - e.u_pred[k]));
    std::printf("pinn %s: max |C API - evaluate_pinn| = %.3g over %lld points\n", type.c_str(),
                worst, static_cast<long long>(n));
    EXPECT_LE(worst, 1e-12);
    // Fortran order of the same points: the transposed array x(2, n)... declared as (n, 2).
    std::vector<double> in_f(in.size()), out_f;
    for (std::int64_t k = 0; k < n; ++k) {
      in_f[std::size_t(k)] = in[std::size_t(2 * k)];
      in_f[std::size_t(n + k)] = in[std::size_t(2 * k + 1)];
    }
    ASSERT_EQ(forward(m.h, in_f, {n, 2}, out_f, {n, 1}, AEOLUS_LAYOUT_FORTRAN), AEOLUS_OK)
        << aeolus_last_error();
    for (std::size_t k = 0; k < out.size(); ++k) EXPECT_EQ(out_f[k], out[k]);

    EXPECT_EQ(output_shape(m.h, {7, 2}), (std::vector<std::int64_t>{7, 1}));
    const std::string coords = type == "poisson2d" ? "(x, y)" : "(x, t)";
    expect_refused(
        m.h, {5, 3}, {5, 1},
        "(Aeolus PINN archive (aeolus.pinn)) takes [N, 2] " + coords + " -> [N, 1] u; got [5, 3]");
    expect_refused(m.h, {10}, {10}, "got [10]");
    expect_refused(m.h, {5, 2}, {5, 2}, "output has shape [5, 1] for an input of shape [5, 2]");
    expect_trainer_refused(m.h, "Aeolus PINN archive (aeolus.pinn)");
  }
}

TEST(ArchiveModels, LpinnForwardGivesTheCharacteristicAndTheState) {
  aeolus::test::TempDir dir;
  const em::PinnParams p = tiny_pinn("convection", "lpinn");
  const std::string path = dir.file("lpinn.pt");
  em::train_pinn(p, path);
  Model m(path);
  ASSERT_NE(m.h, nullptr);
  // At t = 0 the characteristic starts where it is: x_L(x0, 0) = x0 by construction.
  std::vector<double> in, out;
  for (int k = 0; k < 8; ++k) {
    in.push_back(0.7 * k);
    in.push_back(k < 4 ? 0.0 : 0.1 * k);
  }
  ASSERT_EQ(forward(m.h, in, {8, 2}, out, {8, 2}), AEOLUS_OK) << aeolus_last_error();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(out[std::size_t(2 * k)], in[std::size_t(2 * k)]);
  for (double v : out) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(output_shape(m.h, {3, 2}), (std::vector<std::int64_t>{3, 2}));
  expect_refused(m.h, {4, 1}, {4, 2}, "takes [N, 2] (x0, t) -> [N, 2] (x_L, u); got [4, 1]");
}

TEST(ArchiveModels, NeuralOdeForwardIsTheLearnedVectorField) {
  aeolus::test::TempDir dir;
  em::SpiralOdeParams sp;
  sp.points = 40;
  sp.t_end = 2.0;
  const em::SpiralOdeData data = em::make_spiral_ode_data(sp);
  em::NeuralOdeModelParams model;
  model.hidden = {16, 8};
  model.activation = "softplus";
  em::NeuralOdeTrainingParams tr;
  tr.iterations = 2;
  tr.batch_time = 4;
  tr.batch_size = 3;
  tr.learning_rate = 1e-2;
  const std::string path = dir.file("spiral.pt");
  em::train_spiral_ode(data, model, tr, path);

  // The emulator's own network, its weights read from the archive.
  em::MlpOptions o;
  o.widths = {2, 16, 8, 2};
  o.activation = "softplus";
  em::Mlp net(o);
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  net->load(archive);

  const std::int64_t n = 9;
  std::vector<double> in;
  for (std::int64_t k = 0; k < n; ++k) {
    in.push_back(-1.5 + 0.37 * double(k));
    in.push_back(1.1 - 0.29 * double(k));
  }
  torch::Tensor y = torch::tensor(in, torch::kFloat64).reshape({n, 2});
  torch::Tensor f;
  {
    torch::NoGradGuard no_grad;
    f = net->forward(y.pow(3)).contiguous();
  }
  Model m(path);
  ASSERT_NE(m.h, nullptr);
  std::vector<double> out;
  ASSERT_EQ(forward(m.h, in, {n, 2}, out, {n, 2}), AEOLUS_OK) << aeolus_last_error();
  double worst = 0;
  for (std::int64_t k = 0; k < 2 * n; ++k) {
    worst = std::max(worst, std::abs(out[std::size_t(k)] - f.data_ptr<double>()[k]));
  }
  std::printf("neural ODE: max |C API - net(y^3)| = %.3g\n", worst);
  EXPECT_LE(worst, 1e-12);
  EXPECT_EQ(output_shape(m.h, {4, 2}), (std::vector<std::int64_t>{4, 2}));
  expect_refused(m.h, {3, 3}, {3, 3},
                 "(Aeolus neural ODE (spiral) archive (aeolus.neural_ode_spiral)) takes [N, 2] y "
                 "-> [N, 2] dy/dt = net(y^3); got [3, 3]");
  expect_trainer_refused(m.h, "Aeolus neural ODE (spiral) archive (aeolus.neural_ode_spiral)");
}

TEST(ArchiveModels, FluxStencilForwardIsOnePeriodicStepOfAdvance) {
  aeolus::test::TempDir dir;
  for (const std::string inputs : {"courant", "courant+q"}) {
    SCOPED_TRACE(inputs);
    // A fresh (untrained) network saved as `aeolus train` saves it.
    em::FluxCnnParams p;
    p.channels = 4;
    p.layers = 2;
    p.stencil = 4;
    p.inputs = inputs;
    torch::manual_seed(3);
    em::detail::FluxStencilNet net(p);
    em::detail::ModelSpec spec;
    spec.params = p;
    spec.q_mean = 0.4;
    spec.q_std = 0.2;
    spec.dt_frame = 0.1;
    spec.dx = spec.dy = 0.05;
    const std::string path = dir.file("flux_" + inputs + ".pt");
    em::detail::save_model(path, net, spec);

    const std::int64_t b = 2, ny = 6, nx = 9;
    std::vector<double> in;
    for (std::int64_t s = 0; s < b; ++s)
      for (int c = 0; c < 3; ++c)
        for (std::int64_t j = 0; j < ny; ++j)
          for (std::int64_t i = 0; i < nx; ++i) {
            const double x = double(i) / nx, y = double(j) / ny;
            in.push_back(c == 0   ? 0.5 + 0.3 * std::sin(6.283 * x + s) * std::cos(6.283 * y)
                         : c == 1 ? 0.3 + 0.1 * std::cos(6.283 * y) - 0.5 * double(s)
                                  : -0.2 + 0.1 * std::sin(6.283 * x));
          }
    Model m(path);
    ASSERT_NE(m.h, nullptr);
    std::vector<double> out;
    ASSERT_EQ(forward(m.h, in, {b, 3, ny, nx}, out, {b, ny, nx}), AEOLUS_OK) << aeolus_last_error();

    // The emulator's own step: the archive loaded as the stepper loads it, advance on
    // periodically padded inputs.
    auto [own, own_spec] = em::detail::load_model(path);
    if (inputs == "courant") own->to(torch::kFloat64);
    const int h = em::detail::halo_width(own_spec.params);
    const torch::Tensor x = torch::tensor(in, torch::kFloat64).reshape({b, 3, ny, nx});
    em::detail::PeriodicBoundary boundary(own_spec.params.mass_fixer);
    torch::Tensor expected;
    {
      torch::NoGradGuard no_grad;
      expected = em::detail::advance(own, own_spec, em::detail::periodic_pad(x.select(1, 0), h),
                                     em::detail::periodic_pad(x.select(1, 1), h),
                                     em::detail::periodic_pad(x.select(1, 2), h), boundary)
                     .contiguous();
    }
    double worst = 0, mass_in[2] = {0, 0}, mass_out[2] = {0, 0};
    for (std::int64_t k = 0; k < b * ny * nx; ++k) {
      worst = std::max(worst, std::abs(out[std::size_t(k)] - expected.data_ptr<double>()[k]));
      mass_out[k / (ny * nx)] += out[std::size_t(k)];
      mass_in[k / (ny * nx)] += in[std::size_t(3 * ny * nx * (k / (ny * nx)) + k % (ny * nx))];
    }
    std::printf("flux stencil (%s): max |C API - advance| = %.3g, mass change %.3g, %.3g\n",
                inputs.c_str(), worst, mass_out[0] - mass_in[0], mass_out[1] - mass_in[1]);
    EXPECT_LE(worst, 1e-12);
    // A flux form on a periodic domain conserves the mass of each sample.
    for (int s = 0; s < 2; ++s) EXPECT_NEAR(mass_out[s], mass_in[s], 1e-12 * ny * nx);
    // The step changed q (not an identity).
    double change = 0;
    for (std::int64_t k = 0; k < ny * nx; ++k)
      change += std::abs(out[std::size_t(k)] - in[std::size_t(k)]);
    EXPECT_GT(change, 1e-3);

    EXPECT_EQ(output_shape(m.h, {3, 3, 5, 7}), (std::vector<std::int64_t>{3, 5, 7}));
    expect_refused(m.h, {1, 2, 4, 4}, {1, 4, 4},
                   "(Aeolus flux-stencil CNN archive (aeolus.flux_stencil_cnn)) takes [B, 3, ny, "
                   "nx] (q, cx, cy)");
    expect_refused(m.h, {3, 4, 4}, {4, 4}, "got [3, 4, 4]");
    expect_trainer_refused(m.h, "Aeolus flux-stencil CNN archive (aeolus.flux_stencil_cnn)");
  }
}

TEST(ArchiveModels, NeuralSdeForwardIsTheDriftThenTheDiffusion) {
  aeolus::test::TempDir dir;
  em::SpiralSdeParams spiral;
  spiral.paths = 50;
  spiral.observations = 4;
  spiral.t_end = 0.3;
  spiral.dt = 0.01;
  em::NeuralSdeTrainingParams t;
  t.drift_hidden = 8;
  t.diffusion_hidden = 4;
  t.iterations = 1;
  t.batch_paths = 8;
  t.eval_paths = 8;
  t.dt = 0.05;
  t.dtype = "float64";
  const std::string path = dir.file("spiral_sde.pt");
  em::train_spiral_sde(spiral, t, path);

  // The emulator's own network, its weights read from the archive.
  em::SpiralSdeNetOptions o;
  o.drift_hidden = 8;
  o.diffusion_hidden = 4;
  em::SpiralSdeNet net(o);
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  net->load(archive);
  net->to(torch::kFloat64);

  const std::int64_t n = 7;
  std::vector<double> in;
  for (std::int64_t k = 0; k < n; ++k) {
    in.push_back(1.9 - 0.5 * double(k));
    in.push_back(-0.8 + 0.3 * double(k));
  }
  const torch::Tensor y = torch::tensor(in, torch::kFloat64).reshape({n, 2});
  torch::Tensor f, g;
  {
    torch::NoGradGuard no_grad;
    f = net->drift(y).contiguous();
    g = net->diffusion(y).contiguous();
  }
  Model m(path);
  ASSERT_NE(m.h, nullptr);
  std::vector<double> out;
  ASSERT_EQ(forward(m.h, in, {n, 2}, out, {n, 4}), AEOLUS_OK) << aeolus_last_error();
  double worst = 0;
  for (std::int64_t k = 0; k < n; ++k)
    for (int i = 0; i < 2; ++i) {
      worst =
          std::max(worst, std::abs(out[std::size_t(4 * k + i)] - f.data_ptr<double>()[2 * k + i]));
      worst = std::max(worst,
                       std::abs(out[std::size_t(4 * k + 2 + i)] - g.data_ptr<double>()[2 * k + i]));
      EXPECT_GE(out[std::size_t(4 * k + 2 + i)], 0.0);  // a softplus diffusion
    }
  std::printf("neural SDE: max |C API - (drift, diffusion)| = %.3g\n", worst);
  EXPECT_LE(worst, 1e-12);
  EXPECT_EQ(output_shape(m.h, {5, 2}), (std::vector<std::int64_t>{5, 4}));
  expect_refused(m.h, {2, 4}, {2, 4},
                 "(Aeolus neural SDE (spiral) archive (aeolus.neural_sde_spiral)) takes [N, 2] y "
                 "-> [N, 4] (drift f_1, f_2, diffusion g_1, g_2); got [2, 4]");
  expect_trainer_refused(m.h, "Aeolus neural SDE (spiral) archive (aeolus.neural_sde_spiral)");
}

TEST(ArchiveModels, DcdmForwardIsTheSolversSearchDirection) {
  aeolus::test::TempDir dir;
  // A barely trained network on an 8 x 6 Poisson problem, periodic in x, Dirichlet in y.
  aeolus::EllipticProblem p;
  p.dim = 2;
  p.panels = {8, 6, 1};
  p.centering = aeolus::Centering::cell;
  for (int side = 0; side < 2; ++side) {
    p.boundary[0][std::size_t(side)].kind = aeolus::BoundaryKind::periodic;
    p.boundary[1][std::size_t(side)].kind = aeolus::BoundaryKind::dirichlet;
  }
  const auto grid = aeolus::make_elliptic_grid(PETSC_COMM_WORLD, p);
  aeolus::EllipticOperator op(*grid, p);
  const std::string data = dir.file("dcdm.nc"), path = dir.file("dcdm.pt");
  em::DcdmDatasetParams dp;
  dp.ritz = 8;
  dp.samples = 8;
  dp.valid = 2;
  em::generate_dcdm_dataset(op, dp, data);
  em::DcdmNetParams net;
  net.channels = 2;
  net.blocks = 1;
  em::DcdmTrainingParams tp;
  tp.epochs = 1;
  tp.batch_size = 4;
  tp.threads = 1;
  em::train_dcdm(op, data, net, tp, path);

  // The solver's direction for one residual (one rank: natural order, x fastest).
  const std::int64_t ny = 6, nx = 8;
  std::vector<double> in;
  for (std::int64_t k = 0; k < ny * nx; ++k) in.push_back(std::sin(0.37 * double(k)) + 0.2);
  auto direction = em::load_dcdm_model(path, op, 1);
  Vec r = op.create_vector(), q = op.create_vector();
  double* a = nullptr;
  VecGetArray(r, &a);
  std::copy(in.begin(), in.end(), a);
  VecRestoreArray(r, &a);
  direction->direction(r, q);
  std::vector<double> expected(in.size());
  const double* qa = nullptr;
  VecGetArrayRead(q, &qa);
  std::copy(qa, qa + in.size(), expected.begin());
  VecRestoreArrayRead(q, &qa);
  VecDestroy(&r);
  VecDestroy(&q);

  Model m(path);
  ASSERT_NE(m.h, nullptr);
  // A batch of two: the residual and its double (the network is not linear: each its own).
  std::vector<double> batch = in;
  for (double v : in) batch.push_back(2 * v);
  std::vector<double> out;
  ASSERT_EQ(forward(m.h, batch, {2, ny, nx}, out, {2, ny, nx}), AEOLUS_OK) << aeolus_last_error();
  double worst = 0, size = 0;
  for (std::size_t k = 0; k < in.size(); ++k) {
    worst = std::max(worst, std::abs(out[k] - expected[k]));
    size = std::max(size, std::abs(expected[k]));
  }
  std::printf("dcdm: max |C API - CnnDirection| = %.3g (direction up to %.3g)\n", worst, size);
  EXPECT_EQ(worst, 0.0);  // the same float32 network on the same float32 input
  EXPECT_GT(size, 0.0);
  EXPECT_EQ(output_shape(m.h, {3, 4, 10}), (std::vector<std::int64_t>{3, 4, 10}));
  expect_refused(
      m.h, {1, 6, 7}, {1, 6, 7},
      "(Aeolus DCDM archive (aeolus.dcdm_cnn)) takes [B, ny, nx] residuals, even extents "
      "-> [B, ny, nx] search directions; got [1, 6, 7] (the network pools by 2");
  expect_refused(m.h, {6, 8}, {6, 8}, "got [6, 8]");
  expect_trainer_refused(m.h, "Aeolus DCDM archive (aeolus.dcdm_cnn)");
}

namespace {

// A smooth sample of every field predict_step can read, on the model's grid.
em::Co2StepInput co2_sample(const em::Co2ModelParams& p, double phase) {
  const int nlev = p.inputs.nlev, nlat = p.inputs.nlat, nlon = p.inputs.nlon;
  const std::size_t n2 = std::size_t(nlat) * std::size_t(nlon), n3 = std::size_t(nlev) * n2;
  em::Co2StepInput in;
  in.dt = p.dt;
  for (int j = 0; j < nlat; ++j)
    in.cell_area.push_back(1e10 * (1.0 + std::sin(0.1 + 3.0 * j / nlat)));
  for (auto* v : {&in.q, &in.airmass, &in.airmass_next, &in.u, &in.v, &in.omega, &in.u_next,
                  &in.v_next, &in.omega_next})
    v->resize(n3);
  for (auto* v : {&in.blh, &in.tisr, &in.co2flux_land, &in.co2flux_ocean, &in.co2flux_anthro})
    v->resize(n2);
  for (std::size_t c = 0; c < n3; ++c) {
    const double a = 0.37 * double(c) + phase;
    const std::size_t row = (c % n2) / std::size_t(nlon);
    in.q[c] = 6e-4 + 1e-5 * std::sin(a);
    in.airmass[c] = 4e3 / 9.81 * in.cell_area[row] * (1.0 + 0.1 * std::cos(a));
    in.airmass_next[c] = in.airmass[c] * (1.0 + 1e-3 * std::sin(2 * a));
    in.u[c] = 20 * std::cos(a);
    in.v[c] = 5 * std::sin(1.3 * a);
    in.omega[c] = 0.1 * std::sin(0.7 * a);
    in.u_next[c] = 1.1 * in.u[c];
    in.v_next[c] = 0.9 * in.v[c];
    in.omega_next[c] = in.omega[c] + 0.01;
  }
  for (std::size_t c = 0; c < n2; ++c) {
    const double a = 0.53 * double(c) + phase;
    in.blh[c] = 800 + 300 * std::sin(a);
    in.tisr[c] = 1e6 * std::max(0.0, std::cos(a));
    in.co2flux_land[c] = 1e-8 * std::sin(1.7 * a);
    in.co2flux_ocean[c] = 5e-9 * std::cos(a);
    in.co2flux_anthro[c] = 2e-9 * (1.0 + std::sin(a));
  }
  return in;
}

}  // namespace

TEST(ArchiveModels, Co2ForwardIsPredictStepOnTheRawFields) {
  aeolus::test::TempDir dir;
  em::Co2ModelParams p = em::co2_model_preset("tiny");
  p.threads = 1;
  const int nlev = p.inputs.nlev, nlat = p.inputs.nlat, nlon = p.inputs.nlon;
  const std::size_t n2 = std::size_t(nlat) * std::size_t(nlon);
  std::vector<em::Co2StepInput> samples = {co2_sample(p, 0.0), co2_sample(p, 1.0)};
  em::Co2StatsAccumulator acc(p);
  for (const auto& in : samples) {
    std::vector<double> next = in.q;
    for (std::size_t c = 0; c < next.size(); ++c) next[c] += 1e-7 * std::sin(0.11 * double(c));
    acc.add(in, next);
  }
  const std::string path = dir.file("co2.pt");
  em::Co2Model(p, acc.finish(), 5).save(path);
  const em::Co2Model own = em::Co2Model::load(path);

  // The documented channel order: co2 per level, fields3d per level, then the 2D fields, then
  // cell_area's row values repeated along longitude.
  std::vector<double> in;
  for (const auto& s : samples) {
    in.insert(in.end(), s.q.begin(), s.q.end());
    for (const auto& f : p.inputs.fields3d) {
      const std::vector<double>& v = f == "u"              ? s.u
                                     : f == "v"            ? s.v
                                     : f == "omega"        ? s.omega
                                     : f == "airmass"      ? s.airmass
                                     : f == "airmass_next" ? s.airmass_next
                                     : f == "u_next"       ? s.u_next
                                     : f == "v_next"       ? s.v_next
                                                           : s.omega_next;
      in.insert(in.end(), v.begin(), v.end());
    }
    for (const char* f : {"airmass", "airmass_next"}) {
      if (std::find(p.inputs.fields3d.begin(), p.inputs.fields3d.end(), f) ==
          p.inputs.fields3d.end()) {
        const auto& v = std::string(f) == "airmass" ? s.airmass : s.airmass_next;
        in.insert(in.end(), v.begin(), v.end());
      }
    }
    std::vector<std::string> f2 = p.inputs.fields2d;
    for (const char* f : {"co2flux_land", "co2flux_ocean", "co2flux_anthro", "cell_area"})
      if (std::find(f2.begin(), f2.end(), f) == f2.end()) f2.push_back(f);
    for (const auto& f : f2) {
      if (f == "cell_area") {
        for (int j = 0; j < nlat; ++j)
          for (int i = 0; i < nlon; ++i) in.push_back(s.cell_area[std::size_t(j)]);
        continue;
      }
      const std::vector<double>& v = f == "blh"             ? s.blh
                                     : f == "tisr"          ? s.tisr
                                     : f == "co2flux_land"  ? s.co2flux_land
                                     : f == "co2flux_ocean" ? s.co2flux_ocean
                                                            : s.co2flux_anthro;
      in.insert(in.end(), v.begin(), v.end());
    }
  }
  const std::int64_t channels = std::int64_t(in.size() / (2 * n2));
  Model m(path);
  ASSERT_NE(m.h, nullptr);
  std::vector<double> out;
  ASSERT_EQ(forward(m.h, in, {2, channels, nlat, nlon}, out, {2, nlev, nlat, nlon}), AEOLUS_OK)
      << aeolus_last_error();
  double worst = 0, change = 0;
  for (std::size_t b = 0; b < 2; ++b) {
    const em::Co2StepOutput y = own.predict_step(samples[b]);
    for (std::size_t c = 0; c < y.q.size(); ++c) {
      worst = std::max(worst, std::abs(out[b * y.q.size() + c] - y.q[c]));
      change = std::max(change, std::abs(y.q[c] - samples[b].q[c]));
    }
  }
  std::printf(
      "co2: %lld input channels; max |C API - predict_step| = %.3g (step changes q by up "
      "to %.3g)\n",
      static_cast<long long>(channels), worst, change);
  EXPECT_EQ(worst, 0.0);
  EXPECT_GT(change, 0.0);
  EXPECT_EQ(output_shape(m.h, {3, channels, nlat, nlon}),
            (std::vector<std::int64_t>{3, nlev, nlat, nlon}));
  expect_refused(m.h, {1, channels - 1, nlat, nlon}, {1, nlev, nlat, nlon},
                 "(Aeolus CO2 transport archive (aeolus.co2_model)) takes [B, " +
                     std::to_string(channels) + ", " + std::to_string(nlat) + ", " +
                     std::to_string(nlon) + "] (co2[0.." + std::to_string(nlev - 1) + "], ");
  expect_trainer_refused(m.h, "Aeolus CO2 transport archive (aeolus.co2_model)");
}

TEST(ArchiveModels, AnArchiveOfAnUnknownFormatIsRefusedWithTheFormatsThatRun) {
  aeolus::test::TempDir dir;
  const std::string path = dir.file("other.pt");
  torch::serialize::OutputArchive archive;
  archive.write("meta.format", c10::IValue(std::string("aeolus.some_future_kind")));
  archive.write("weight", torch::ones({2, 2}));
  archive.save_to(path);
  aeolus_model* m = nullptr;
  EXPECT_EQ(aeolus_model_load(path.c_str(), &m), AEOLUS_ERROR_MODEL);
  EXPECT_EQ(m, nullptr);
  const std::string what = aeolus_last_error();
  EXPECT_NE(what.find("is an Aeolus model archive of format 'aeolus.some_future_kind', which the "
                      "C API does not run; it runs TorchScript models and the Aeolus archives of "
                      "formats aeolus.co2_model, aeolus.dcdm_cnn, aeolus.flux_stencil_cnn, "
                      "aeolus.neural_ode_spiral, aeolus.neural_sde_spiral, aeolus.pinn"),
            std::string::npos)
      << what;
}

TEST(ArchiveModels, Float32ArraysAreConvertedToTheModelsDtypeAndBack) {
  aeolus::test::TempDir dir;
  const em::PinnParams p = tiny_pinn("convection", "pinn");  // float64
  const std::string path = dir.file("pinn.pt");
  em::train_pinn(p, path);
  Model m(path);
  ASSERT_NE(m.h, nullptr);
  const std::vector<double> in64 = {0.1, 0.2, 3.0, 0.5, 6.0, 0.9};
  std::vector<double> out64;
  ASSERT_EQ(forward(m.h, in64, {3, 2}, out64, {3, 1}), AEOLUS_OK) << aeolus_last_error();
  const std::vector<float> in32(in64.begin(), in64.end());
  std::vector<float> out32(3, -7.0f);
  const std::int64_t in_shape[2] = {3, 2}, out_shape[2] = {3, 1};
  ASSERT_EQ(aeolus_model_forward(m.h, in32.data(), 2, in_shape, AEOLUS_FLOAT32, AEOLUS_LAYOUT_C,
                                 out32.data(), 2, out_shape),
            AEOLUS_OK)
      << aeolus_last_error();
  std::vector<double> from32;
  const std::vector<double> in_rounded(in32.begin(), in32.end());
  ASSERT_EQ(forward(m.h, in_rounded, {3, 2}, from32, {3, 1}), AEOLUS_OK);
  // float32 in: converted to float64 exactly, the float64 output rounded once to float32.
  for (int k = 0; k < 3; ++k) EXPECT_EQ(out32[std::size_t(k)], float(from32[std::size_t(k)]));
}
