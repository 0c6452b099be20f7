// The finite-volume scheme's names, halo width and CFL limit (solvers/fv_advection.hpp): light,
// no PETSc or MPI calls, so that the aeolus launcher checks a case file without loading them.
#include <string>
#include <vector>

#include "grids/error.hpp"
#include "solvers/fv_advection.hpp"

namespace aeolus {

const std::vector<std::string>& fv_reconstruction_names() {
  static const std::vector<std::string> names{"upwind",   "linear", "minmod",
                                              "van_leer", "mc",     "ppm"};
  return names;
}

const std::vector<std::string>& fv_time_integrator_names() {
  static const std::vector<std::string> names{"euler", "ssprk2", "ssprk3"};
  return names;
}

FvReconstruction fv_reconstruction_from_name(const std::string& name) {
  static const FvReconstruction values[] = {FvReconstruction::upwind, FvReconstruction::linear,
                                            FvReconstruction::minmod, FvReconstruction::van_leer,
                                            FvReconstruction::mc,     FvReconstruction::ppm};
  const auto& names = fv_reconstruction_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return values[i];
  throw ConfigError("scheme.reconstruction = '" + name +
                    "' is unknown; expected one of: " + comma_list(names));
}

FvTimeIntegrator fv_time_integrator_from_name(const std::string& name) {
  static const FvTimeIntegrator values[] = {FvTimeIntegrator::euler, FvTimeIntegrator::ssprk2,
                                            FvTimeIntegrator::ssprk3};
  const auto& names = fv_time_integrator_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return values[i];
  throw ConfigError("scheme.time_integrator = '" + name +
                    "' is unknown; expected one of: " + comma_list(names));
}

int fv_halo_width(const FvSchemeParams& p) {
  switch (fv_reconstruction_from_name(p.reconstruction)) {
    case FvReconstruction::upwind:
      return 1;
    case FvReconstruction::ppm:
      return 3;
    default:
      return 2;
  }
}

real_t fv_max_cfl(const FvSchemeParams& p) {
  const FvReconstruction r = fv_reconstruction_from_name(p.reconstruction);
  const FvTimeIntegrator ti = fv_time_integrator_from_name(p.time_integrator);
  switch (r) {
    case FvReconstruction::upwind:
      return 1.0;
    case FvReconstruction::linear:
      return ti == FvTimeIntegrator::euler ? 0.0 : 1.0;
    case FvReconstruction::minmod:
    case FvReconstruction::van_leer:
    case FvReconstruction::mc:
      return ti == FvTimeIntegrator::euler ? 0.5 : 1.0;
    case FvReconstruction::ppm:
      return ti == FvTimeIntegrator::ssprk3 ? 1.0 : 0.0;
  }
  return 0.0;
}

}  // namespace aeolus
