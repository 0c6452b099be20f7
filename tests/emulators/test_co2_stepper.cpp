// The CO2 emulator steppers (emulators/co2_stepper.hpp) with an untrained tiny model on a small
// grid, at 1 and 2 ranks (what is tested is the seam, not skill):
//  - the emulator closes the CO2 budget of the classical physics (same surface source, the air
//    mass of the classical stepper);
//  - the hybrid wrapper re-initialises the emulated CO2 from its classical copy exactly at the
//    steps that cross a period, and the copy is bitwise the field a classical stepper of its own
//    produces;
//  - a missing model and an off-interval step fail with errors that say so.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/temp_dir.hpp"
#include "emulators/co2_models.hpp"
#include "emulators/co2_stepper.hpp"
#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "physics/co2_fluxes.hpp"

using namespace aeolus;
namespace fs = std::filesystem;

namespace {

constexpr index_t kNlat = 8, kNlon = 16, kNlev = 4;
constexpr real_t kInterval = 21600.0;

SphereGridParams grid_params() {
  SphereGridParams p;
  p.nlat = kNlat;
  p.nlon = kNlon;
  p.nlev = kNlev;
  p.halo = 3;
  return p;
}

std::shared_ptr<Co2TransportStepper> classical(const SphereGrid& g) {
  Co2TransportParams p;
  p.interval = kInterval;
  return std::make_shared<Co2TransportStepper>(g.grid(), g.radius(), p);
}

// An untrained tiny UNet for the grid with rough input statistics and a small increment scale.
void save_tiny_model(const std::string& path) {
  auto p = emulators::co2_model_preset("tiny");
  p.inputs.nlev = int(kNlev), p.inputs.nlat = int(kNlat), p.inputs.nlon = int(kNlon);
  emulators::Co2NormStats st;
  st.co2_mean = 6e-4, st.co2_scale = 1e-6;
  const auto names = emulators::co2_input_channel_names(p);
  for (size_t i = size_t(kNlev); i < size_t(kNlev) + emulators::co2_stat_channel_count(p); ++i) {
    const std::string& n = names[i];
    const bool air = n.rfind("airmass", 0) == 0, omega = n.rfind("omega", 0) == 0;
    st.input_mean.push_back(air ? 1e14 : n == "blh" ? 600.0 : n == "tisr" ? 1e6 : 0.0);
    st.input_std.push_back(air                                ? 1e14
                           : omega                            ? 0.1
                           : n == "blh"                       ? 300.0
                           : n == "tisr"                      ? 1e6
                           : n == "cell_area"                 ? 1e11
                           : n.find('[') != std::string::npos ? 10.0
                                                              : 1e-8);
  }
  st.increment_mean.assign(size_t(kNlev), 0.0);
  st.increment_std.assign(size_t(kNlev), 1e-8);
  st.samples = 1;
  emulators::Co2Model(p, st, 7).save(path);
}

emulators::Co2EmulatorStepperParams emulator_params(const std::string& path) {
  emulators::Co2EmulatorStepperParams p;
  p.model_path = path;
  p.train_hint = "aeolus train CASE";
  return p;
}

bool same_owned(const Field& a, const Field& b) {
  const ConstFieldView va = a.view(), vb = b.view();
  int same = 1;
  for (index_t k = 0; k < va.nz; ++k)
    for (index_t j = 0; j < va.ny; ++j)
      for (index_t i = 0; i < va.nx; ++i) same &= va(i, j, k) == vb(i, j, k);
  int all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, a.grid().comm());
  return all == 1;
}

}  // namespace

class Co2Stepper : public ::testing::Test {
 protected:
  void SetUp() override {
    if (comm_rank(PETSC_COMM_WORLD) == 0) save_tiny_model(model_);
    MPI_Barrier(PETSC_COMM_WORLD);
  }
  test::TempDir dir_{PETSC_COMM_WORLD};
  std::string model_ = dir_.file("co2.pt");
};

TEST_F(Co2Stepper, EmulatorClosesTheBudgetOfTheClassicalPhysics) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  auto c = classical(g);
  emulators::Co2EmulatorStepper e(c, emulator_params(model_));
  EXPECT_EQ(e.name(), "emulator");
  EXPECT_TRUE(e.fixed_step());
  ASSERT_EQ(e.state_fields().size(), 1u);
  EXPECT_EQ(e.state_fields()[0], &c->air_mass());
  Field q(g.grid(), "co2");
  physics::co2_initial_mixing_ratio(c->grid(), c->met().coordinate(), 400.0, q);
  // The same physics without the model: the surface source of each step.
  auto reference = classical(g);
  real_t t = 0;
  for (int n = 0; n < 2; ++n) {
    const real_t before = physics::co2_tracer_mass(g, c->air_mass(), q);
    const real_t source = reference->advance({}, t, kInterval, nullptr).source_kg;
    real_t dt = kInterval;
    e.step(q, t, dt);
    const real_t after = physics::co2_tracer_mass(g, c->air_mass(), q);
    EXPECT_NEAR(after - before, source, 1e-12 * before) << n;
    EXPECT_TRUE(same_owned(c->air_mass(), reference->air_mass()));
  }
  EXPECT_EQ(t, 2 * kInterval);
  real_t dt = kInterval / 2;
  try {
    e.step(q, t, dt);
    ADD_FAILURE() << "no error for half a step";
  } catch (const NumericsError& err) {
    EXPECT_NE(std::string(err.what()).find("expected exactly 21600 s"), std::string::npos)
        << err.what();
  }
}

TEST_F(Co2Stepper, HybridReinitialisesAtThePeriod) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  emulators::Co2HybridStepper h(classical(g), emulator_params(model_), 2 * kInterval);
  ASSERT_EQ(h.state_fields().size(), 2u);
  EXPECT_EQ(h.state_fields()[1], &h.classical_copy());
  auto alone = classical(g);  // the classical run the copy must reproduce
  Field q(g.grid(), "co2"), qa(g.grid(), "co2_alone");
  physics::co2_initial_mixing_ratio(alone->grid(), alone->met().coordinate(), 400.0, q);
  qa.copy_owned_from(q);
  real_t t = 0, ta = 0;
  for (int n = 1; n <= 4; ++n) {
    real_t dt = kInterval, dta = kInterval;
    h.step(q, t, dt);
    alone->step(qa, ta, dta);
    EXPECT_TRUE(same_owned(h.classical_copy(), qa)) << "step " << n;
    // Re-initialised after steps 2 and 4 (t = 12 h, 24 h), emulated after 1 and 3.
    EXPECT_EQ(same_owned(q, qa), n % 2 == 0) << "step " << n;
  }
}

TEST_F(Co2Stepper, MissingModelNamesTheCommand) {
  SphereGrid g(PETSC_COMM_WORLD, grid_params());
  try {
    emulators::Co2EmulatorStepper e(classical(g), emulator_params(dir_.file("none.pt")));
    ADD_FAILURE() << "no error without a model";
  } catch (const ModelError& err) {
    const std::string what = err.what();
    EXPECT_NE(what.find("none.pt not found"), std::string::npos) << what;
    EXPECT_NE(what.find("'aeolus train CASE'"), std::string::npos) << what;
  }
}
