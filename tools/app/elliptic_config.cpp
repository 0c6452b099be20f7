#include "tools/app/elliptic_config.hpp"

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

const char* kAxis[3] = {"x", "y", "z"};

void read_grid(io::Section s, EllipticCaseConfig& cfg) {
  auto& p = cfg.problem;
  s.get_choice("type", "cartesian", {"cartesian"});
  CartesianGridParams box;
  read_box(s, box, 2);
  p.dim = box.dim;
  p.panels = box.n;
  p.lo = box.lo;
  p.hi = box.hi;
  p.procs = box.procs;
  p.centering = centering_from_name(s.get_choice("centering", "cell", {"cell", "vertex"}));
  s.finish();
}

void read_physics(io::Section s, EllipticCaseConfig& cfg) {
  auto& e = cfg;
  auto& p = e.problem;
  s.get_choice("equation", "elliptic", {"elliptic"});
  p.helmholtz = s.get_double("helmholtz", p.helmholtz);
  {
    auto k = s.section("coefficient");
    auto& cp = e.coefficient;
    cp.type = k.get_choice("type", "constant", physics::permeability_type_names());
    cp.value = k.get_double("value", cp.value, Range::positive());
    if (cp.type != "constant") {
      cp.alpha = k.get_double("alpha", cp.alpha, Range::positive());
      cp.tau = k.get_double("tau", cp.tau, Range::non_negative());
      cp.seed = std::uint64_t(k.get_int("seed", (long long)cp.seed, Range::non_negative()));
    }
    if (cp.type == "thresholded_grf") {
      cp.high = k.get_double("high", cp.high, Range::positive());
      cp.low = k.get_double("low", cp.low, Range::positive());
    }
    if (cp.type == "lognormal_grf") cp.sigma = k.get_double("sigma", cp.sigma, Range::positive());
    k.finish();
  }
  {
    auto f = s.section("source");
    e.source = f.get_choice("type", e.source, {"manufactured", "constant", "file"});
    if (e.source == "manufactured") {
      e.manufactured.type =
          f.get_choice("solution", e.manufactured.type, physics::manufactured_type_names());
      e.manufactured.wavenumber =
          int(f.get_int("wavenumber", e.manufactured.wavenumber, Range::closed(1, 1e6)));
      if (e.coefficient.type != "constant") {
        throw ConfigError(f.where("type") +
                          ": physics.source.type = manufactured needs a constant coefficient "
                          "(physics.coefficient.type = constant; got " +
                          e.coefficient.type + ")");
      }
    } else if (e.source == "constant") {
      e.source_value = f.get_double("value", e.source_value);
    } else {
      e.source_file = f.require_string("file");
      e.source_variable = f.get_string("variable", e.source_variable);
    }
    f.finish();
  }
  {
    auto b = s.section("boundary");
    for (int d = 0; d < p.dim; ++d) {
      auto a = b.section(kAxis[d]);
      const std::vector<std::string> kinds{"dirichlet", "neumann", "periodic"};
      const std::string lo = a.get_choice("low", "dirichlet", kinds);
      const std::string hi = a.get_choice("high", lo == "periodic" ? "periodic" : lo, kinds);
      p.boundary[size_t(d)][0].kind = boundary_kind_from_name(lo);
      p.boundary[size_t(d)][1].kind = boundary_kind_from_name(hi);
      if ((lo == "periodic") != (hi == "periodic")) {
        throw ConfigError(a.where("high") + ": physics.boundary." + kAxis[d] + " is periodic on " +
                          "one side only (low = " + lo + ", high = " + hi + ")");
      }
      if (e.source != "manufactured") {
        e.boundary_values[size_t(d)][0] = a.get_double("low_value", 0.0);
        e.boundary_values[size_t(d)][1] = a.get_double("high_value", 0.0);
      }
      a.finish();
    }
    b.finish();
  }
  try {
    p.validate();
  } catch (const ConfigError& err) {
    throw ConfigError(s.where() + ": " + err.what());
  }
  s.finish();
}

void read_solver(io::Section s, EllipticCaseConfig& cfg) {
  auto& e = cfg;
  e.solver = s.get_choice("type", e.solver, {"ksp", "fft", "dcdm"});
  const double rtol = s.get_double("rtol", e.ksp.rtol, Range{0.0, 1.0, true, true});
  const long long max_it = s.get_int("max_it", e.ksp.max_it, Range::closed(1, 1e9));
  e.ksp.rtol = e.dcdm.rtol = rtol;
  e.ksp.max_it = e.dcdm.max_it = int(max_it);
  {
    auto k = s.section("ksp");
    e.ksp.options = k.get_string("options", e.ksp.options);
    k.finish();
  }
  {
    auto d = s.section("dcdm");
    e.model = d.get_string("model", e.model);
    e.dcdm.orthogonalise =
        int(d.get_int("orthogonalise", e.dcdm.orthogonalise, Range::closed(1, 64)));
    e.net.threads = int(d.get_int("threads", e.net.threads, Range::closed(1, 1024)));
    e.net.device = d.get_string("device", e.net.device);
    d.finish();
  }
  if (e.solver == "fft" && e.coefficient.type != "constant") {
    throw ConfigError(s.where("type") + ": solver.type = fft needs a constant coefficient " +
                      "(physics.coefficient.type = constant; got " + e.coefficient.type + ")");
  }
  s.finish();
}

void read_dcdm(io::Section s, EllipticCaseConfig& cfg) {
  auto& e = cfg;
  const size_t d = size_t(e.problem.dim);
  std::vector<long long> def(d, 64);
  const auto n = s.get_ints("train_n", def, d, d, Range::closed(4, 1e6));
  e.train_n = {1, 1, 1};
  for (size_t i = 0; i < d; ++i) e.train_n[i] = n[i];
  e.net.channels = int(s.get_int("channels", e.net.channels, Range::closed(1, 4096)));
  e.net.blocks = int(s.get_int("blocks", e.net.blocks, Range::closed(1, 64)));
  {
    auto ds = s.section("dataset");
    auto& p = e.dataset;
    p.ritz = int(ds.get_int("ritz", p.ritz, Range::closed(2, 1e6)));
    p.samples = int(ds.get_int("samples", p.samples, Range::closed(1, 1e8)));
    p.valid = int(ds.get_int("valid", p.valid, Range::closed(1, 1e8)));
    p.low_weight = ds.get_double("low_weight", p.low_weight, Range::positive());
    p.seed = std::uint64_t(ds.get_int("seed", (long long)p.seed, Range::non_negative()));
    ds.finish();
  }
  {
    auto t = s.section("training");
    auto& p = e.training;
    p.epochs = int(t.get_int("epochs", p.epochs, Range::closed(1, 1e7)));
    p.batch_size = int(t.get_int("batch_size", p.batch_size, Range::closed(1, 1e6)));
    p.learning_rate = t.get_double("learning_rate", p.learning_rate, Range::positive());
    p.max_minutes = t.get_double("max_minutes", p.max_minutes, Range::positive());
    p.seed = std::uint64_t(t.get_int("seed", (long long)p.seed, Range::non_negative()));
    p.threads = int(t.get_int("threads", p.threads, Range::closed(1, 1024)));
    p.device = t.get_string("device", p.device);
    t.finish();
  }
  s.finish();
}

void load_elliptic_case(io::Section& root, CaseConfig& c) {
  auto settings = std::make_shared<EllipticCaseConfig>();
  auto& cfg = *settings;
  c.equation = "elliptic";
  read_grid(root.section("grid"), cfg);
  read_physics(root.section("physics"), cfg);
  read_solver(root.section("solver"), cfg);
  read_dcdm(root.section("dcdm"), cfg);
  {
    auto s = root.section("output");
    c.output.file = "solution.nc";
    read_output_file(s, c);
    if (c.output.file.find('/') != std::string::npos || c.output.file.empty()) {
      throw ConfigError(s.where("file") + ": output.file = '" + c.output.file +
                        "' must be a plain file name (it is written under output/)");
    }
    s.finish();
  }
  // The decomposition as the Cartesian fields see it (for messages and rank checks).
  c.grid.dim = cfg.problem.dim;
  c.grid.n = cfg.problem.panels;
  c.grid.procs = cfg.problem.procs;
  c.settings = std::move(settings);
}

class EllipticReader : public CaseReader {
 public:
  std::string name() const override { return "elliptic"; }
  std::vector<std::string> equations() const override { return {"elliptic"}; }
  bool recognises(const CaseKind& k) const override { return k.equation == "elliptic"; }
  void read(io::Section& root, CaseConfig& c) const override { load_elliptic_case(root, c); }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(EllipticReader)

}  // namespace aeolus::app
