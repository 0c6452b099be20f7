#pragma once
// The configuration of a tracer-transport case on the sphere (grid.type: latlon).

#include "grids/sphere_grid.hpp"
#include "physics/dcmip.hpp"
#include "physics/sphere_flow.hpp"
#include "physics/sphere_tracers.hpp"
#include "solvers/sphere_transport.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

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
struct SphereCaseConfig : CaseSettings {
  SphereGridParams grid;
  physics::SphereFlowParams flow;  // flow.type dcmip_1_1 / dcmip_1_2: the 3D DCMIP flows
  SphereSchemeParams scheme;
  std::vector<TracerConfig> tracers;
  SphereDiagnosticsParams diagnostics;
};

// physics.flow.type of the 3D DCMIP flows, and their test.
inline bool is_dcmip(const std::string& flow) { return flow == "dcmip_1_1" || flow == "dcmip_1_2"; }
inline physics::DcmipTest dcmip_test(const std::string& flow) {
  return physics::dcmip_test_from_name(flow == "dcmip_1_1" ? "1-1" : "1-2");
}

}  // namespace aeolus::app
