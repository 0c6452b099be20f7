#include "tools/app/pinn_config.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <utility>

#include "grids/error.hpp"
#include "grids/format.hpp"
#include "io/yaml_schema.hpp"
#include "tools/app/case_type.hpp"

namespace aeolus::app {

namespace {

using io::Range;

void load_pinn_case(io::Section& root, CaseConfig& c) {
  auto settings = std::make_shared<PinnCaseConfig>();
  auto& cfg = *settings;
  c.equation = "pinn";
  auto ph = root.section("physics");
  ph.get_choice("equation", "pinn", {"pinn"});
  auto pde = ph.section("pde");
  // The PDE type and the formulation choose the defaults of everything else.
  const std::string type = pde.get_choice(
      "type", "convection", {"convection", "convection_diffusion", "burgers", "poisson2d"});
  const std::string formulation = root.get_choice("formulation", "pinn", {"pinn", "lpinn"});
  emulators::PinnParams p = emulators::pinn_defaults(type, formulation);
  p.pde.beta = pde.get_double("beta", p.pde.beta);
  p.pde.nu = pde.get_double("nu", p.pde.nu, Range::non_negative());
  p.pde.t_end = pde.get_double("t_end", p.pde.t_end, Range::positive());
  pde.finish();
  ph.finish();
  {
    auto s = root.section("network");
    auto& n = p.network;
    n.width = int(s.get_int("width", n.width, Range::closed(1, 1e6)));
    n.depth = int(s.get_int("depth", n.depth, Range::closed(1, 1000)));
    n.features = s.get_choice("features", n.features, {"none", "periodic", "fourier"});
    n.periodic_modes = int(s.get_int("periodic_modes", n.periodic_modes, Range::closed(1, 1e4)));
    n.fourier_features =
        int(s.get_int("fourier_features", n.fourier_features, Range::closed(1, 1e6)));
    n.fourier_scale = s.get_double("fourier_scale", n.fourier_scale, Range::positive());
    s.finish();
  }
  {
    auto s = root.section("collocation");
    auto& k = p.collocation;
    k.n_residual = int(s.get_int("n_residual", k.n_residual, Range::closed(1, 1e8)));
    k.n_initial = int(s.get_int("n_initial", k.n_initial, Range::closed(1, 1e8)));
    k.n_boundary = int(s.get_int("n_boundary", k.n_boundary, Range::closed(1, 1e8)));
    k.sampling = s.get_choice("sampling", k.sampling, {"grid", "random"});
    k.resample_every = int(s.get_int("resample_every", k.resample_every, Range::closed(0, 1e9)));
    s.finish();
  }
  {
    auto s = root.section("training");
    auto& t = p.training;
    t.adam_iterations = int(s.get_int("adam_iterations", t.adam_iterations, Range::closed(0, 1e9)));
    t.learning_rate = s.get_double("learning_rate", t.learning_rate, Range::positive());
    t.lbfgs_iterations =
        int(s.get_int("lbfgs_iterations", t.lbfgs_iterations, Range::closed(0, 1e9)));
    t.lbfgs_history = int(s.get_int("lbfgs_history", t.lbfgs_history, Range::closed(1, 1e4)));
    t.weight_residual = s.get_double("weight_residual", t.weight_residual, Range::non_negative());
    t.weight_initial = s.get_double("weight_initial", t.weight_initial, Range::non_negative());
    t.weight_boundary = s.get_double("weight_boundary", t.weight_boundary, Range::non_negative());
    t.precision = s.get_choice("precision", t.precision, {"float32", "float64"});
    t.max_seconds = s.get_double("max_seconds", t.max_seconds, Range::non_negative());
    t.seed = std::uint64_t(s.get_int("seed", (long long)t.seed, Range::non_negative()));
    t.threads = int(s.get_int("threads", t.threads, Range::closed(1, 1024)));
    t.log_every = int(s.get_int("log_every", t.log_every, Range::closed(1, 1e9)));
    s.finish();
  }
  {
    auto s = root.section("evaluation");
    auto& e = p.evaluation;
    e.nx = int(s.get_int("nx", e.nx, Range::closed(2, 1e7)));
    e.nt = int(s.get_int("nt", e.nt, Range::closed(2, 1e7)));
    e.lagrangian_refine =
        int(s.get_int("lagrangian_refine", e.lagrangian_refine, Range::closed(1, 1e4)));
    e.threads = int(s.get_int("threads", e.threads, Range::closed(1, 1024)));
    s.finish();
  }
  try {
    emulators::check_pinn_params(p);
  } catch (const ConfigError& e) {
    throw ConfigError(c.file + ": " + e.what());
  }
  cfg.pinn = p;
  c.model = "models/pinn.pt";
  c.settings = std::move(settings);
}

class PinnReader : public CaseReader {
 public:
  std::string name() const override { return "pinn"; }
  std::vector<std::string> equations() const override { return {"pinn"}; }
  bool recognises(const CaseKind& k) const override { return k.equation == "pinn"; }
  void read(io::Section& root, CaseConfig& c) const override { load_pinn_case(root, c); }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(PinnReader)

}  // namespace aeolus::app
