#include "tools/app/pinn_case.hpp"

#include <filesystem>

#include "grids/error.hpp"
#include "io/netcdf_file.hpp"
#include "tools/app/case_commands.hpp"
#include "tools/app/pinn_config.hpp"
#include "tools/app/run_log.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

namespace {

const emulators::PinnParams& pinn_of(const CaseConfig& c) {
  return c.settings_as<PinnCaseConfig>().pinn;
}

void train_pinn_case(MPI_Comm comm, const CaseConfig& c, bool overwrite) {
  const std::string model = c.path(c.model);
  refuse_existing(comm, model, overwrite);
  RunLog log(comm, c.path("logs") + "/train.log", true);
  const auto& p = pinn_of(c);
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
  refuse_existing(comm, nc, overwrite);
  refuse_existing(comm, json, overwrite);
  RunLog log(comm, c.path("logs") + "/eval.log", true);
  on_rank0(comm, [&] {
    const auto e = emulators::evaluate_pinn(model, pinn_of(c).evaluation);
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

// A training and its evaluation: no field to step and no data set.
class PinnCase : public CaseCommands {
 public:
  void dataset(MPI_Comm, const CaseConfig& c, bool) const override {
    throw ConfigError(c.file + ": a PINN case needs no dataset (the residual is computed at " +
                      "collocation points and the reference solutions are exact); run 'aeolus " +
                      "train " + c.dir + "'");
  }
  void train(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    train_pinn_case(comm, c, overwrite);
  }
  void eval(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    evaluate_pinn_case(comm, c, overwrite);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_COMMANDS("pinn", PinnCase)

}  // namespace aeolus::app
