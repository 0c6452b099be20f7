// The prescribed sphere flows' names (physics/sphere_flow.hpp): light, no PETSc or MPI calls,
// so that the aeolus launcher checks a case file without loading them.
#include <string>
#include <vector>

#include "physics/sphere_flow.hpp"

namespace aeolus::physics {

const std::vector<std::string>& sphere_flow_names() {
  static const std::vector<std::string> names = {"williamson", "nair_lauritzen",
                                                 "lauritzen_nondivergent", "lauritzen_divergent"};
  return names;
}

}  // namespace aeolus::physics
