#pragma once
// The case directory and its case.yaml: one struct with every section, filled through the
// schema reader (io/yaml_schema.hpp). Defaults are the initial values of these structs (and of
// the component Params structs they hold: physics/, solvers/, emulators/): the reader takes
// them as the defaults of the keys, so they live in one place; `aeolus check` prints the fully
// resolved configuration.
#include <cstdint>
#include <string>

#include "emulators/co2_training.hpp"
#include "emulators/dcdm_model.hpp"
#include "emulators/flux_cnn.hpp"
#include "emulators/neural_ode.hpp"
#include "emulators/neural_sde.hpp"
#include "emulators/pinn.hpp"
#include "grids/cartesian_grid.hpp"
#include "grids/sphere_grid.hpp"
#include "physics/advection.hpp"
#include "physics/co2_fluxes.hpp"
#include "physics/co2_met.hpp"
#include "physics/elliptic_problems.hpp"
#include "physics/hamiltonian.hpp"
#include "physics/sphere_flow.hpp"
#include "physics/sphere_tracers.hpp"
#include "solvers/dcdm.hpp"
#include "solvers/elliptic.hpp"
#include "solvers/fv_advection.hpp"
#include "solvers/sphere_transport.hpp"

namespace aeolus::io {
class Section;
}

namespace aeolus::app {

struct TimeParams {
  real_t t_end = 1.0;
  real_t cfl = 0.5;
  real_t dt_max = 0.0;  // 0: no cap beyond the CFL
  // A run whose remaining steps at the current step size, plus those taken, exceed this stops
  // with an error (checked every step): no sensible case comes near it, a runaway one does.
  long long max_steps = 10000000;
};

struct OutputParams {
  real_t interval = 0.1;           // simulated time between frames (frame 0 is the initial state)
  std::string file = "fields.nc";  // under CASE/output/
};

struct CheckpointParams {
  long long every_steps = 200;  // also one at the end of the run
  int keep = 2;
};

struct InitialConditionConfig {
  physics::InitialConditionParams params;
  std::uint64_t seed = 1;
  std::string file;  // type: file -> NetCDF file (relative to the case)
  std::string variable = "q";
};

struct DatasetParams {
  int train = 48, valid = 8, test = 8;  // trajectories per split
  int frames = 20;                      // frames after the initial one, per trajectory
  real_t dt_frame = 0.01;               // simulated time between frames (the emulator step)
  std::uint64_t seed = 1000;
  std::string velocity = "random_constant";  // case | random_constant
  real_t speed_min = 0.3, speed_max = 1.0;   // random_constant: |u| range
  // Initial conditions: random Gaussian blobs (counts, radii, amplitudes), down to one cell
  // wide on the default 64^2 grid so that short waves are in the data.
  physics::InitialConditionParams blobs = [] {
    physics::InitialConditionParams p;
    p.type = "random_blobs";
    p.radius_min = 0.012;
    return p;
  }();
};

struct EvalParams {
  int trajectories = 4;  // held-out initial conditions (test-split seeds)
  int steps = 100;       // emulator steps
};

// A tracer of a sphere case (physics.tracers.NAME).
struct TracerConfig {
  std::string name;
  std::string units = "1";
  std::string long_name;
  physics::SphereTracerParams initial;
  int dcmip_index = 0;  // type: dcmip (3D cases): tracer q<index> of the DCMIP test
  // type: file: variable (lat, lon) or (lev, lat, lon) of a NetCDF file (relative to the case)
  std::string file;
  std::string variable;
};

// Diagnostics of a sphere case (section diagnostics).
struct SphereDiagnosticsParams {
  bool error_norms = true;  // vs the exact solution wherever it is known (output frames, end)
  // Lauritzen et al. (2012) filament diagnostic of one tracer at one time (empty: none).
  std::string filament_tracer;
  real_t filament_time = 0;
  // Lauritzen et al. (2012) mixing diagnostics of a tracer pair at one time (empty: none).
  std::string mixing_tracer1, mixing_tracer2;
  real_t mixing_time = 0;
};

// grid.type: latlon (tracer transport on the sphere).
struct SphereCaseConfig {
  SphereGridParams grid;
  physics::SphereFlowParams flow;  // flow.type dcmip_1_1 / dcmip_1_2: the 3D DCMIP flows
  SphereSchemeParams scheme;
  std::vector<TracerConfig> tracers;
  SphereDiagnosticsParams diagnostics;
};

// physics.equation: neural_ode | neural_sde (the spiral experiments of the neural
// differential equations: tools/app/neural_de_case.cpp reads them; aeolus dataset / train /
// eval run them).
struct NeuralDeCaseConfig {
  emulators::SpiralOdeParams ode;                   // physics.spiral (neural_ode)
  emulators::NeuralOdeModelParams ode_model;        // model
  emulators::NeuralOdeTrainingParams ode_training;  // training
  emulators::NeuralOdePredictParams ode_predict;    // eval
  emulators::SpiralSdeParams sde;                   // physics.spiral (neural_sde)
  emulators::NeuralSdeTrainingParams sde_training;  // model + training
  int eval_paths = 10000;                           // eval.paths (neural_sde)
  std::uint64_t eval_seed = 7;                      // eval.seed (neural_sde)
};

// physics.equation: hamiltonian (a separable Hamiltonian system integrated by a symplectic
// method or RK4; tools/app/hamiltonian_case.cpp reads and runs it).
struct HamiltonianCaseConfig {
  physics::HamiltonianParams system;   // physics.system
  std::string method = "forest_ruth";  // integrator.method (solvers/symplectic.hpp names)
  real_t dt = 0.01;                    // integrator.dt
  real_t t_end = 100.0;                // time.t_end (a whole number of steps of dt)
  long long output_every = 10;         // output.every: steps between stored samples
};

// physics.equation: elliptic (-div(k grad u) + c u = f on a Cartesian box): the problem, its
// data and the solver (tools/app/elliptic_case.cpp reads and runs it).
struct EllipticCaseConfig {
  EllipticProblem problem;  // boundary kinds here; boundary functions are set at run time
  // Boundary values per face when the source is not manufactured: Dirichlet u or Neumann
  // du/dn (outward), constants.
  std::array<std::array<real_t, 2>, 3> boundary_values{};
  physics::DarcyPermeabilityParams coefficient;  // k (type constant: k = value everywhere)
  std::string source = "manufactured";           // manufactured | constant | file
  physics::ManufacturedParams manufactured;      // source manufactured: u exact, f and BCs
  real_t source_value = 1.0;                     // source constant
  std::string source_file, source_variable = "f";
  std::string solver = "ksp";  // ksp | fft | dcdm (aeolus run --solver overrides)
  KspParams ksp;               // options: the PETSc options of solver ksp
  DcdmParams dcdm;
  std::string model = "models/dcdm.pt";  // solver dcdm, relative to the case
  // DCDM training (aeolus dataset / train): the operator of the same problem on train_n.
  std::array<index_t, 3> train_n{64, 64, 1};
  emulators::DcdmNetParams net;
  emulators::DcdmDatasetParams dataset;
  emulators::DcdmTrainingParams training;
};

// physics.equation: co2_transport (tools/app/co2_case.cpp): CO2 on the sphere with synthetic
// meteorology and surface fluxes; `aeolus dataset` writes the CarbonBench-style data set.
struct Co2CaseConfig {
  SphereGridParams grid = [] {
    SphereGridParams g;
    g.nlon = 64;  // 5.625 deg, no pole points (CarbonBench LowRes)
    g.nlat = 32;
    g.nlev = 10;
    return g;
  }();
  physics::Co2MetParams met;        // physics.meteorology
  physics::Co2FluxParams fluxes;    // physics.fluxes
  physics::Co2MixingParams mixing;  // physics.mixing: sub-grid vertical mixing of the CO2
  real_t initial_ppmv = 400.0;      // physics.initial_ppmv: base value of the initial field
  SphereSchemeParams scheme;        // stepper.scheme
  // stepper.hybrid_days (emulator only): re-initialise the emulated CO2 from a classical copy
  // every hybrid_days days (0: pure emulator).
  real_t hybrid_days = 0;
  real_t cfl = 0.5;                  // time.cfl: meridional and vertical Courant limit
  real_t max_substep = 3600.0;       // time.max_substep (s): the flow is evaluated per sub-step
  real_t sample_interval = 21600.0;  // dataset.sample_hours * 3600: one emulator step
  int spinup_days = 30;              // dataset.spinup_days: simulated before year 0, not written
  int train_years = 4, valid_years = 1, test_years = 1;  // dataset: consecutive years
  int deflate = 4;                                       // dataset.deflate (0..9)
  emulators::Co2ModelParams model;  // model (aeolus train; the preset picks the sizes)
  // model.device: where the trained network runs in `aeolus run --stepper emulator` and
  // `aeolus eval` (cpu | cuda | cuda:N; not saved with the model). training.device is where it
  // trains.
  std::string model_device = "cpu";
  emulators::Co2TrainingParams training;  // training
  emulators::Co2EvalParams evaluation;    // evaluation (aeolus eval)
  // evaluation.validation_free_runs: aeolus eval also runs free runs of
  // evaluation.long_rollout_days from each quarter of the validation year on into the test
  // year (the two read as one sequence): the year-long stability from four more start dates.
  bool validation_free_runs = false;
  // dataset.file_days: days per file. 365 (a calendar year) for the data set; fewer only for
  // smoke tests (files then cover consecutive stretches of file_days, not calendar years).
  int file_days = 365;
  // dataset.directory: where the data set lives, relative to the case (several model cases
  // can share one data set, e.g. ../co2-carbonbench/data).
  std::string data_dir = "data";
};

struct CaseConfig {
  std::string dir;   // case directory
  std::string name;  // directory name
  std::string file;  // path of case.yaml
  std::string description;
  std::string grid_type = "cartesian";  // cartesian | latlon
  // advection | transport (latlon) | elliptic | hamiltonian | neural_ode | neural_sde | pinn |
  // co2_transport
  std::string equation = "advection";
  // The decomposition (for latlon: x = longitude, y = latitude in degrees, z = level).
  CartesianGridParams grid;
  SphereCaseConfig sphere;            // grid_type latlon only
  EllipticCaseConfig elliptic;        // equation elliptic only
  HamiltonianCaseConfig hamiltonian;  // equation hamiltonian only
  NeuralDeCaseConfig neural;          // equation neural_ode | neural_sde only
  emulators::PinnParams pinn;         // equation pinn only (tools/app/pinn_case.cpp)
  Co2CaseConfig co2;                  // equation co2_transport only
  physics::VelocityParams velocity;
  InitialConditionConfig initial;
  std::string stepper = "classical";  // classical | emulator
  FvSchemeParams scheme;
  TimeParams time;
  OutputParams output;
  CheckpointParams checkpoint;
  long long progress_every = 50;             // steps between progress lines (log.progress_every)
  double progress_seconds = 10.0;            // and at most this much wall time between them
  std::string model = "models/emulator.pt";  // relative to the case
  emulators::EmulatorParams emulator;
  emulators::TrainingParams training;
  DatasetParams dataset;
  EvalParams eval;

  std::string resolved_yaml;  // everything read, defaults included
  std::string config_hash;    // FNV-1a 64 of case.yaml's bytes, hex

  std::string path(const std::string& rel) const;  // rel resolved against the case dir
};

// physics.equation of a case file, read without consuming the key ("" if absent): how
// load_case dispatches to the loaders of the non-advection cases.
std::string peek_equation(io::Section& root);

// Reads and validates CASE_DIR/case.yaml. Throws ConfigError with file:line on any problem.
CaseConfig load_case(const std::string& case_dir);

// Checks what depends on the rank count (the latitude bands of a sphere grid), before any
// collective work, so that every rank throws the same ConfigError.
void check_rank_count(const CaseConfig& c, int ranks);

// grid.dim, n (each >= min_n), lo, hi (> lo) and procs of a box: the keys every Cartesian case
// shares (advection adds periodic; elliptic cases add centering). Does not call finish().
void read_box(io::Section& s, CartesianGridParams& g, long long min_n);

// The sections output (interval, file), checkpoint (every_steps, keep) and log
// (progress_every) of a time-stepping case, with the given defaults for the numbers.
void read_run_sections(io::Section& root, CaseConfig& c, real_t interval, long long every_steps,
                       long long progress_every);

// Names in the stepper registry (driver.cpp), for schema validation.
std::vector<std::string> stepper_names();

std::string fnv1a64_hex(const std::string& bytes);

}  // namespace aeolus::app
