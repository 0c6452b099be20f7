#include "tools/app/pinn_case.hpp"

#include <filesystem>

#include "grids/error.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;
using io::Range;

bool is_pinn_case(io::Section& root) { return peek_equation(root) == "pinn"; }

void load_pinn_case(io::Section& root, CaseConfig& c) {
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
  c.pinn = p;
  c.model = "models/pinn.pt";
}

void train_pinn_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string model = c.path(c.model);
  refuse_existing(model, overwrite);
  RunLog log(comm, c.path("logs") + "/train.log", true);
  const auto& p = c.pinn;
  log.line("aeolus train " + c.name + ": " + p.formulation + " for " + p.pde.type +
           (p.pde.type == "convection" ? ", beta " + fmt("%g", p.pde.beta) : std::string()) + ", " +
           std::to_string(p.network.depth) + " x " + std::to_string(p.network.width) +
           " tanh, Adam " + std::to_string(p.training.adam_iterations) + " + L-BFGS " +
           std::to_string(p.training.lbfgs_iterations) + ", " + std::to_string(p.training.threads) +
           " threads");
  on_rank0(comm, [&] {
    fs::create_directories(fs::path(model).parent_path());
    const auto r = emulators::train_pinn(p, model, log.sink());
    log.line("done in " + fmt("%.1f", r.seconds) + " s (Adam " + fmt("%.1f", r.adam_seconds) +
             " s, " + std::to_string(r.adam_iterations) + " iterations; L-BFGS " +
             fmt("%.1f", r.lbfgs_seconds) + " s, " + std::to_string(r.lbfgs_iterations) +
             " iterations, " + std::to_string(r.lbfgs_evaluations) + " evaluations), loss " +
             fmt("%.4e", r.initial_loss) + " -> " + fmt("%.4e", r.final_loss) +
             ", relative L2 on the evaluation grid " + fmt("%.4e", r.relative_l2) + " -> " + model);
  });
}

void evaluate_pinn_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string model = c.path(c.model);
  if (!fs::exists(model)) {
    throw IoError(model + " not found; run `aeolus train " + c.dir + "` first");
  }
  const std::string nc = c.path("eval/solution.nc"), json = c.path("eval/metrics.json");
  refuse_existing(nc, overwrite);
  refuse_existing(json, overwrite);
  RunLog log(comm, c.path("logs") + "/eval.log", true);
  on_rank0(comm, [&] {
    const auto e = emulators::evaluate_pinn(model, c.pinn.evaluation);
    std::vector<double> error(e.u_pred.size());
    for (size_t i = 0; i < error.size(); ++i) error[i] = e.u_pred[i] - e.u_ref[i];
    fs::create_directories(fs::path(nc).parent_path());
    const std::string part = nc + ".part";
    fs::remove(part);
    {
      const bool poisson = e.pde_type == "poisson2d";
      const std::string second = poisson ? "y" : "time";
      io::NetcdfFile f(part, io::NetcdfFile::Mode::create);
      f.def_dim(second, size_t(e.nt));
      f.def_dim("x", size_t(e.nx));
      f.def_var("x", "double", {"x"});
      f.put_att("x", "units", "1");
      f.put_att("x", "long_name", "x (nondimensional)");
      f.def_var(second, "double", {second});
      f.put_att(second, "units", "1");
      f.put_att(second, "long_name", poisson ? "y (nondimensional)" : "time (nondimensional)");
      const std::vector<std::pair<std::string, std::string>> vars = {
          {"u_pred", "network solution"},
          {"u_ref",
           e.pde_type == "burgers" ? "reference (Cole-Hopf quadrature)" : "exact solution"},
          {"error", "u_pred - u_ref"}};
      for (const auto& [name, long_name] : vars) {
        f.def_var(name, "double", {second, "x"});
        f.put_att(name, "units", "1");
        f.put_att(name, "long_name", long_name);
      }
      f.put_att("", "Conventions", "CF-1.8");
      f.put_att("", "title", "Aeolus " + e.formulation + " for " + e.pde_type + ", case " + c.name);
      f.put_att("", "source",
                std::string("aeolus ") + AEOLUS_VERSION + " (" + AEOLUS_GIT_HASH + ")");
      f.put_att("", "case", c.name);
      f.put_att("", "relative_l2", e.relative_l2);
      f.end_def();
      f.put("x", {}, {}, e.x.data());
      f.put(second, {}, {}, e.t.data());
      f.put("u_pred", {}, {}, e.u_pred.data());
      f.put("u_ref", {}, {}, e.u_ref.data());
      f.put("error", {}, {}, error.data());
      f.close();
    }
    fs::rename(part, nc);
    JsonRecord m;
    m.set_string("case", c.dir);
    m.set_string("model", model);
    m.set_string("git_hash", AEOLUS_GIT_HASH);
    m.set_string("pde", e.pde_type);
    m.set_string("formulation", e.formulation);
    m.set_int("nx", e.nx);
    m.set_int("nt", e.nt);
    m.set_number("relative_l2", e.relative_l2);
    m.set_number("max_error", e.max_error);
    m.set_number("seconds", e.seconds);
    m.write_atomic(json);
    log.line(e.formulation + " on the " + std::to_string(e.nx) + " x " + std::to_string(e.nt) +
             " grid: relative L2 " + fmt("%.4e", e.relative_l2) + ", max error " +
             fmt("%.4e", e.max_error) + " (" + fmt("%.3f", e.seconds) + " s)");
  });
  log.line("eval: " + nc + ", " + json);
}

}  // namespace aeolus::app
