// The PINN case's defaults and parameter checks (emulators/pinn.hpp): light, no LibTorch call,
// so that the aeolus launcher checks a case file without loading LibTorch.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "emulators/param_text.hpp"
#include "emulators/pinn.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

namespace {

constexpr double kPi = 3.14159265358979323846;

const std::vector<std::string> kFormulations = {"pinn", "lpinn"};
const std::vector<std::string> kFeatures = {"none", "periodic", "fourier"};
const std::vector<std::string> kSamplings = {"grid", "random"};
const std::vector<std::string> kPrecisions = {"float32", "float64"};

template <class T>
std::string str(const T& v) {
  return detail::param_str(v);
}
using detail::bad_value;

void check_choice(const std::string& key, const std::string& value,
                  const std::vector<std::string>& names) {
  if (std::find(names.begin(), names.end(), value) == names.end())
    throw_unknown_choice(key, value, names);
}

// What the checks need to know of each PDE type without building its problem (a LibTorch
// object): keep in step with problem_registry() and the PinnProblem classes in pinn.cpp
// (periodic(), lagrangian()).
struct ProblemFacts {
  bool periodic;
  bool lagrangian;
};

const std::map<std::string, ProblemFacts>& problem_facts() {
  static const std::map<std::string, ProblemFacts> facts = {
      {"convection", {true, true}},
      {"convection_diffusion", {true, true}},
      {"burgers", {true, true}},
      {"poisson2d", {false, false}},
  };
  return facts;
}

}  // namespace

std::vector<std::string> pinn_problem_names() {
  std::vector<std::string> names;
  for (const auto& [name, facts] : problem_facts()) names.push_back(name);
  return names;
}

// ---------------------------------------------------------------------------------------------
// Parameters.

PinnParams pinn_defaults(const std::string& pde_type, const std::string& formulation) {
  PinnParams p;
  p.pde.type = pde_type;
  p.formulation = formulation;
  if (problem_facts().count(pde_type) == 0)
    throw_unknown_choice("pde.type", pde_type, pinn_problem_names());
  check_choice("formulation", formulation, kFormulations);
  if (pde_type == "convection_diffusion") {
    p.pde.beta = 10.0;
    p.pde.nu = 1.0;
  } else if (pde_type == "burgers") {
    p.pde.nu = 0.01 / kPi;
    // The shock needs a longer L-BFGS run (Raissi et al. run it to convergence).
    p.training.lbfgs_iterations = 4000;
  } else if (pde_type == "poisson2d") {
    p.training.lbfgs_iterations = 3000;
  }
  if (formulation == "lpinn") p.network.features = "periodic";
  return p;
}

void check_pinn_params(const PinnParams& p) {
  if (problem_facts().count(p.pde.type) == 0)
    throw_unknown_choice("pde.type", p.pde.type, pinn_problem_names());
  check_choice("formulation", p.formulation, kFormulations);
  const bool time = p.pde.type != "poisson2d";
  if (!std::isfinite(p.pde.beta)) bad_value("pde.beta", str(p.pde.beta), "a finite number");
  if (p.pde.type == "convection_diffusion" || p.pde.type == "burgers") {
    if (!(p.pde.nu > 0.0)) bad_value("pde.nu", str(p.pde.nu), "> 0 for pde.type " + p.pde.type);
  } else if (!(p.pde.nu >= 0.0)) {
    bad_value("pde.nu", str(p.pde.nu), ">= 0");
  }
  if (time && !(p.pde.t_end > 0.0)) bad_value("pde.t_end", str(p.pde.t_end), "> 0");
  if (p.formulation == "lpinn") {
    if (!problem_facts().at(p.pde.type).lagrangian)
      throw ConfigError("formulation = 'lpinn' is not available for pde.type = '" + p.pde.type +
                        "' (it has no characteristics); use 'pinn'");
    if (p.network.features != "periodic")
      throw ConfigError("network.features = '" + p.network.features +
                        "' with formulation = 'lpinn'; expected 'periodic' (the characteristic "
                        "displacement and the state are periodic in x0)");
  }
  const auto& n = p.network;
  if (n.width < 1) bad_value("network.width", str(n.width), ">= 1");
  if (n.depth < 1) bad_value("network.depth", str(n.depth), ">= 1");
  check_choice("network.features", n.features, kFeatures);
  if (n.features == "periodic" && !problem_facts().at(p.pde.type).periodic)
    throw ConfigError("network.features = 'periodic' for pde.type = '" + p.pde.type +
                      "', whose solution is not periodic in x; expected none or fourier");
  if (n.periodic_modes < 1) bad_value("network.periodic_modes", str(n.periodic_modes), ">= 1");
  if (n.fourier_features < 1)
    bad_value("network.fourier_features", str(n.fourier_features), ">= 1");
  if (!(n.fourier_scale > 0.0)) bad_value("network.fourier_scale", str(n.fourier_scale), "> 0");
  const auto& c = p.collocation;
  if (c.n_residual < 1) bad_value("collocation.n_residual", str(c.n_residual), ">= 1");
  if (time && c.n_initial < 1) bad_value("collocation.n_initial", str(c.n_initial), ">= 1");
  if (c.n_boundary < 0) bad_value("collocation.n_boundary", str(c.n_boundary), ">= 0");
  check_choice("collocation.sampling", c.sampling, kSamplings);
  if (c.resample_every < 0)
    bad_value("collocation.resample_every", str(c.resample_every), ">= 0 (0: never)");
  const auto& t = p.training;
  if (t.adam_iterations < 0) bad_value("training.adam_iterations", str(t.adam_iterations), ">= 0");
  if (t.lbfgs_iterations < 0)
    bad_value("training.lbfgs_iterations", str(t.lbfgs_iterations), ">= 0");
  if (t.adam_iterations + t.lbfgs_iterations < 1)
    throw ConfigError("training.adam_iterations + training.lbfgs_iterations = 0; expected >= 1");
  if (!(t.learning_rate > 0.0)) bad_value("training.learning_rate", str(t.learning_rate), "> 0");
  if (t.lbfgs_history < 1) bad_value("training.lbfgs_history", str(t.lbfgs_history), ">= 1");
  for (const auto& [key, w] :
       {std::pair<const char*, double>{"training.weight_residual", t.weight_residual},
        {"training.weight_initial", t.weight_initial},
        {"training.weight_boundary", t.weight_boundary}})
    if (!(w >= 0.0)) bad_value(key, str(w), ">= 0");
  check_choice("training.precision", t.precision, kPrecisions);
  if (!(t.max_seconds >= 0.0)) bad_value("training.max_seconds", str(t.max_seconds), ">= 0");
  if (t.threads < 1) bad_value("training.threads", str(t.threads), ">= 1");
  if (t.log_every < 1) bad_value("training.log_every", str(t.log_every), ">= 1");
  const auto& e = p.evaluation;
  if (e.nx < 2) bad_value("evaluation.nx", str(e.nx), ">= 2");
  if (e.nt < 2) bad_value("evaluation.nt", str(e.nt), ">= 2");
  if (e.lagrangian_refine < 1)
    bad_value("evaluation.lagrangian_refine", str(e.lagrangian_refine), ">= 1");
  if (e.threads < 1) bad_value("evaluation.threads", str(e.threads), ">= 1");
}

}  // namespace aeolus::emulators
