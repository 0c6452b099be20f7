#include "tools/app/case_type.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <stdexcept>

#include "grids/error.hpp"
#include "io/yaml_schema.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

// Function-local statics: registration runs during static initialisation of other files.
std::map<std::string, std::unique_ptr<CaseReader>>& readers() {
  static std::map<std::string, std::unique_ptr<CaseReader>> r;
  return r;
}

std::vector<std::string>& extra_stepper_names() {
  static std::vector<std::string> names;
  return names;
}

// physics.equation as written ("" if absent), without consuming the key.
std::string peek_equation(io::Section& root) {
  if (!root.has("physics")) return "";
  auto ph = root.section("physics");
  return ph.has("equation") ? ph.get_string("equation", "") : "";
}

// physics.equation and grid.type as written ("" where absent), without consuming them: the
// reader of the case type reads them again, with its own choices.
CaseKind peek_kind(io::Section& root) {
  CaseKind k;
  k.equation = peek_equation(root);
  if (root.has("grid")) {
    auto g = root.section("grid");
    if (g.has("type")) k.grid_type = g.get_string("type", "");
  }
  return k;
}

}  // namespace

bool register_case_reader(std::unique_ptr<CaseReader> reader) {
  const std::string name = reader->name();
  if (!readers().emplace(name, std::move(reader)).second) {
    throw std::logic_error("case type '" + name + "' registered twice");
  }
  return true;
}

const CaseReader& case_reader(const std::string& name) {
  auto it = readers().find(name);
  if (it == readers().end()) throw std::logic_error("no case type '" + name + "' is registered");
  return *it->second;
}

void check_sphere_rank_count(const CaseConfig& c, SphereGridParams grid,
                             const SphereSchemeParams& scheme, int ranks) {
  grid.halo = sphere_halo_width(scheme);
  try {
    SphereGrid::decomposition_params(grid, ranks);
  } catch (const ConfigError& e) {
    throw ConfigError(c.file + ": " + e.what());
  }
}

CaseConfig load_case(const std::string& case_dir) {
  CaseConfig c;
  fs::path dir(case_dir);
  if (!fs::is_directory(dir)) {
    throw ConfigError(case_dir + ": not a case directory (expected a directory with case.yaml)");
  }
  c.dir = fs::absolute(dir).lexically_normal().string();
  if (!c.dir.empty() && c.dir.back() == '/') c.dir.pop_back();
  c.name = fs::path(c.dir).filename().string();
  c.file = (fs::path(c.dir) / "case.yaml").string();
  auto doc = io::Document::load_file(c.file);
  c.config_hash = fnv1a64_hex(doc->text());
  auto root = doc->root();
  c.description = root.get_string("description", c.description);

  const CaseKind kind = peek_kind(root);
  const CaseReader* chosen = nullptr;
  for (const auto& [name, reader] : readers()) {
    if (!reader->recognises(kind)) continue;
    if (chosen) {
      throw std::logic_error("case types '" + chosen->name() + "' and '" + name +
                             "' both claim physics.equation '" + kind.equation + "', grid.type '" +
                             kind.grid_type + "'");
    }
    chosen = reader.get();
  }
  if (!chosen) {
    // No case type has this equation (on this grid): the schema's message, with the closest
    // equation as a hint.
    std::vector<std::string> all;
    for (const auto& kv : readers()) {
      for (const auto& e : kv.second->equations()) {
        if (std::find(all.begin(), all.end(), e) == all.end()) all.push_back(e);
      }
    }
    auto ph = root.section("physics");
    ph.get_choice("equation", "advection", all);
    throw ConfigError(ph.where("equation") + ": physics.equation = '" + kind.equation +
                      "' is not available on grid.type = '" + kind.grid_type + "'");
  }
  c.type = chosen->name();
  chosen->read(root, c);
  root.finish();
  c.resolved_yaml = doc->resolved_yaml();
  return c;
}

void check_rank_count(const CaseConfig& c, int ranks) {
  case_reader(c.type).check_rank_count(c, ranks);
}

std::vector<std::string> stepper_names() {
  std::vector<std::string> names{"classical", "emulator"};
  for (const auto& n : extra_stepper_names()) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void register_stepper_name(const std::string& name) { extra_stepper_names().push_back(name); }

bool check_command(const std::string& case_dir) {
  const CaseConfig c = load_case(case_dir);
  if (case_reader(c.type).needs_full_check(c)) return false;
  check_rank_count(c, 1);
  std::cout << "# " << c.file << ": valid (config hash " << c.config_hash << ")\n"
            << c.resolved_yaml << std::endl;
  return true;
}

}  // namespace aeolus::app
