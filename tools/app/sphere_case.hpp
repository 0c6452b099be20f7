#pragma once
// Tracer transport on the sphere as a case (grid.type: latlon): its case.yaml sections, its
// stepper and its model (tracers, outputs, the diagnostics of the standard test suites).
#include <mpi.h>

#include <memory>

#include "io/yaml_schema.hpp"
#include "solvers/stepper.hpp"
#include "tools/app/case_config.hpp"
#include "tools/app/case_model.hpp"

namespace aeolus::app {

// grid: nlon, nlat, nlev, radius, procs (grid.type already read).
void read_sphere_grid(io::Section& s, CaseConfig& c);
// physics: flow {type, alpha, nl_case, period}, tracers {NAME: {type, ...}, ...}.
void read_sphere_physics(io::Section& s, CaseConfig& c);
// diagnostics: error_norms, filament {tracer, time}, mixing {tracers, time}.
void read_sphere_diagnostics(io::Section s, CaseConfig& c);

// The latitude-band decomposition with the halo the scheme needs.
std::unique_ptr<CartesianGrid> make_sphere_decomposition(MPI_Comm comm, const CaseConfig& c);
std::unique_ptr<Stepper> make_sphere_stepper(const CaseConfig& c, const CartesianGrid& grid);
std::unique_ptr<CaseModel> make_sphere_model(const CaseConfig& c, const CartesianGrid& grid);

}  // namespace aeolus::app
