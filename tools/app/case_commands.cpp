#include "tools/app/case_commands.hpp"

#include <map>
#include <stdexcept>

#include "grids/error.hpp"
#include "tools/app/case_model.hpp"

namespace aeolus::app {

namespace {

std::map<std::string, std::unique_ptr<CaseCommands>>& commands_registry() {
  static std::map<std::string, std::unique_ptr<CaseCommands>> r;
  return r;
}

std::map<std::string, StepperFactory>& stepper_registry() {
  static std::map<std::string, StepperFactory> r;
  return r;
}

std::string kind_of(const CaseConfig& c) {
  return "a " + c.equation + " case (physics.equation: " + c.equation + ")";
}

ConfigError no_emulator(const CaseConfig& c, const char* what) {
  return ConfigError(c.file + ": aeolus " + what + " has no " + c.equation +
                     " emulator (physics.equation: " + c.equation + "); 'aeolus run " + c.dir +
                     "' runs the case");
}

}  // namespace

RunResult CaseCommands::run(MPI_Comm, const CaseConfig& c, const RunOptions&) const {
  throw ConfigError(c.file + ": a " + c.equation + " case has no field to step; use 'aeolus " +
                    "train' and 'aeolus eval' on it");
}

void CaseCommands::dataset(MPI_Comm, const CaseConfig& c, bool) const {
  throw no_emulator(c, "dataset");
}

void CaseCommands::train(MPI_Comm, const CaseConfig& c, bool) const {
  throw no_emulator(c, "train");
}

void CaseCommands::eval(MPI_Comm, const CaseConfig& c, bool) const { throw no_emulator(c, "eval"); }

bool register_case_commands(const std::string& name, std::unique_ptr<CaseCommands> commands) {
  if (!commands_registry().emplace(name, std::move(commands)).second) {
    throw std::logic_error("commands of case type '" + name + "' registered twice");
  }
  return true;
}

const CaseCommands& case_commands(const CaseConfig& c) {
  auto it = commands_registry().find(c.type);
  if (it == commands_registry().end()) {
    throw std::logic_error("case type '" + c.type + "' has a reader but no commands registered");
  }
  return *it->second;
}

const TimeSteppingCase& time_stepping_case(const CaseConfig& c) {
  const auto* t = dynamic_cast<const TimeSteppingCase*>(&case_commands(c));
  if (!t) throw ConfigError(c.file + ": " + kind_of(c) + " does not step fields in time");
  return *t;
}

void register_stepper(const std::string& name, StepperFactory factory) {
  stepper_registry()[name] = std::move(factory);
  register_stepper_name(name);
}

std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                      const CartesianGrid& grid) {
  auto it = stepper_registry().find(name);
  if (it != stepper_registry().end()) return it->second(c, grid);
  return time_stepping_case(c).make_stepper(name, c, grid);
}

std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) {
  return time_stepping_case(c).make_grid(comm, c);
}

RunResult run_case(MPI_Comm comm, const CaseConfig& c, const RunOptions& opt) {
  const auto& cmd = case_commands(c);
  cmd.validate(c);
  return cmd.run(comm, c, opt);
}

void generate_dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& cmd = case_commands(c);
  cmd.validate(c);
  cmd.dataset(comm, c, overwrite);
}

void train_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& cmd = case_commands(c);
  cmd.validate(c);
  cmd.train(comm, c, overwrite);
}

void evaluate_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const auto& cmd = case_commands(c);
  cmd.validate(c);
  cmd.eval(comm, c, overwrite);
}

}  // namespace aeolus::app
