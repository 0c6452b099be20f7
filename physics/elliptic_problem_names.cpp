// The elliptic problems' names (physics/elliptic_problems.hpp): light, no PETSc or MPI calls,
// so that the aeolus launcher checks a case file without loading them.
#include <string>
#include <vector>

#include "physics/elliptic_problems.hpp"

namespace aeolus::physics {

const std::vector<std::string>& manufactured_type_names() {
  static const std::vector<std::string> names{"sine", "cosine", "periodic", "mixed",
                                              "fishpack_hwscrt"};
  return names;
}

const std::vector<std::string>& permeability_type_names() {
  static const std::vector<std::string> names{"thresholded_grf", "constant", "lognormal_grf"};
  return names;
}

}  // namespace aeolus::physics
