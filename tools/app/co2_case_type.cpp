// The CO2 transport case type in the registry (transitional: the reader still calls
// load_co2_case of co2_case.cpp, so it lives on the command side until that moves to
// co2_config.cpp with the CO2 split; see docs/status.md).
#include "tools/app/case_commands.hpp"
#include "tools/app/case_model.hpp"
#include "tools/app/co2_case.hpp"
#include "tools/app/sphere_case.hpp"

namespace aeolus::app {

namespace {

class Co2Reader : public CaseReader {
 public:
  std::string name() const override { return "co2_transport"; }
  std::vector<std::string> equations() const override { return {"co2_transport"}; }
  bool recognises(const CaseKind& k) const override { return k.equation == "co2_transport"; }
  void read(io::Section& root, CaseConfig& c) const override { load_co2_case(root, c); }
  void check_rank_count(const CaseConfig& c, int ranks) const override {
    check_sphere_rank_count(c, c.co2.grid, c.co2.scheme, ranks);
  }
};

class Co2Case : public TimeSteppingCase {
 public:
  std::unique_ptr<CartesianGrid> make_grid(MPI_Comm comm, const CaseConfig& c) const override {
    return make_sphere_decomposition(comm, c.co2.grid, c.co2.scheme);
  }
  std::unique_ptr<Stepper> make_stepper(const std::string& name, const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    return make_co2_stepper(c, grid, name);
  }
  std::unique_ptr<CaseModel> make_model(const CaseConfig& c,
                                        const CartesianGrid& grid) const override {
    return make_co2_model(c, grid);
  }
  void dataset(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    generate_co2_dataset(comm, c, overwrite);
  }
  void train(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    train_co2_case(comm, c, overwrite);
  }
  void eval(MPI_Comm comm, const CaseConfig& c, bool overwrite) const override {
    evaluate_co2_case(comm, c, overwrite);
  }
};

}  // namespace

AEOLUS_REGISTER_CASE_READER(Co2Reader)
AEOLUS_REGISTER_CASE_COMMANDS("co2_transport", Co2Case)

}  // namespace aeolus::app
