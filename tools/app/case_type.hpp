#pragma once
// The case-type registry, reading side: every kind of case (advection, sphere transport,
// elliptic, Hamiltonian, neural DE, PINN, CO2, ...) registers one CaseReader, in its own file,
// with AEOLUS_REGISTER_CASE_READER. load_case() asks each reader whether case.yaml is of its
// type and lets the one that says yes read it; nothing else compares equation or grid type
// strings. The commands (run, dataset, train, eval) of a case type are its CaseCommands
// (tools/app/case_commands.hpp), registered under the same name in its other file.
//
// Light: no MPI, PETSc or LibTorch here (aeolus check runs on this alone).
#include <memory>
#include <string>
#include <vector>

#include "grids/sphere_grid.hpp"
#include "solvers/sphere_scheme.hpp"
#include "tools/app/case_config.hpp"

namespace aeolus::app {

// What decides a case's type, read from case.yaml without consuming keys: physics.equation
// and grid.type, empty where absent.
struct CaseKind {
  std::string equation;
  std::string grid_type;
};

class CaseReader {
 public:
  virtual ~CaseReader() = default;
  // The registry name (also CaseConfig::type and the name of the case type's CaseCommands).
  virtual std::string name() const = 0;
  // The physics.equation values this case type accepts: hints for a misspelt equation.
  virtual std::vector<std::string> equations() const = 0;
  // True if a case file of this kind is of this type. Exactly one reader may say yes.
  virtual bool recognises(const CaseKind& kind) const = 0;
  // Reads every section but `description` (load_case reads that, and the common file facts),
  // rejecting unknown keys with a did-you-mean hint; fills the common part of `c` and
  // c.settings. Throws ConfigError naming file:line, the key, the value and what was expected.
  virtual void read(io::Section& root, CaseConfig& c) const = 0;
  // Checks what depends on the rank count (the latitude bands of a sphere grid), before any
  // collective work, so that every rank throws the same ConfigError. Default: nothing.
  virtual void check_rank_count(const CaseConfig& c, int ranks) const { (void)c, (void)ranks; }
  // True if checking this case needs more than the reader (its CaseCommands::validate, e.g.
  // whether a CUDA device named by the case exists in this LibTorch): the launcher then hands
  // `aeolus check` to the application library. Default: false.
  virtual bool needs_full_check(const CaseConfig& c) const {
    (void)c;
    return false;
  }
};

// Adds a reader (at static initialisation, through the macro); returns true. A second reader of
// the same name is a programming error (std::logic_error).
bool register_case_reader(std::unique_ptr<CaseReader> reader);
// The registered reader of case type `name` (std::logic_error if none).
const CaseReader& case_reader(const std::string& name);

// Reads and validates CASE_DIR/case.yaml. Throws ConfigError with file:line on any problem.
CaseConfig load_case(const std::string& case_dir);

// The case type's rank-count check (see CaseReader::check_rank_count).
void check_rank_count(const CaseConfig& c, int ranks);
// The latitude-band check of a sphere decomposition (sphere and CO2 cases): ConfigError naming
// the case file if `ranks` ranks cannot share grid.nlat.
void check_sphere_rank_count(const CaseConfig& c, SphereGridParams grid,
                             const SphereSchemeParams& scheme, int ranks);

// Stepper names the schema accepts for stepper.type: the built-in "classical" and "emulator"
// and every name registered by register_stepper (tools/app/case_commands.hpp) or here.
std::vector<std::string> stepper_names();
void register_stepper_name(const std::string& name);

// `aeolus check CASE_DIR` on one process without the application library (the launcher):
// validates and prints the resolved configuration, and returns true; returns false, printing
// nothing, if the case needs the full check (CaseReader::needs_full_check). Throws ConfigError
// as load_case does.
bool check_command(const std::string& case_dir);

}  // namespace aeolus::app

// In the case type's own NAME_config.cpp, at namespace scope: AEOLUS_REGISTER_CASE_READER(Type)
#define AEOLUS_REGISTER_CASE_READER(Type)                            \
  namespace {                                                        \
  const bool aeolus_case_reader_registered_##Type =                  \
      ::aeolus::app::register_case_reader(std::make_unique<Type>()); \
  }
