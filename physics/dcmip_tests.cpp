// The DCMIP tests' names, periods and tracer counts (physics/dcmip.hpp): light, no PETSc or MPI
// calls, so that the aeolus launcher checks a case file without loading them.
#include <string>
#include <vector>

#include "grids/error.hpp"
#include "physics/dcmip.hpp"

namespace aeolus::physics {

const std::vector<std::string>& dcmip_test_names() {
  static const std::vector<std::string> names{"1-1", "1-2"};
  return names;
}

DcmipTest dcmip_test_from_name(const std::string& name) {
  if (name == "1-1") return DcmipTest::deformation_1_1;
  if (name == "1-2") return DcmipTest::hadley_1_2;
  throw ConfigError("dcmip: test = '" + name + "', expected one of: 1-1, 1-2");
}

real_t dcmip_period(DcmipTest test) {
  return test == DcmipTest::deformation_1_1 ? dcmip::kTau11 : dcmip::kTau12;
}

int dcmip_tracer_count(DcmipTest test) { return test == DcmipTest::deformation_1_1 ? 4 : 1; }

}  // namespace aeolus::physics
