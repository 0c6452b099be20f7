// Mass fixers on Fields: plain loops over owned cells plus one global sum per pass.
#include <cmath>
#include <sstream>

#include "emulators/flux_cnn.hpp"
#include "grids/error.hpp"

namespace aeolus::emulators {

namespace {

template <class F>
void for_owned(Field& f, F op) {
  auto v = f.view();
  for (index_t k = 0; k < v.nz; ++k)
    for (index_t j = 0; j < v.ny; ++j)
      for (index_t i = 0; i < v.nx; ++i) op(v(i, j, k));
}

}  // namespace

void apply_flux_cnn_mass_fixer(const std::string& type, const Field& before, Field& after,
                               real_t target_mass) {
  if (type != "scale" && type != "shift") {
    throw ConfigError("mass_fixer: unknown type '" + type + "', expected scale or shift");
  }
  for (int d = 0; d < 3; ++d) {
    if (before.grid().count(d) != after.grid().count(d) ||
        before.grid().start(d) != after.grid().start(d)) {
      throw Error("apply_flux_cnn_mass_fixer: fields " + before.name() + " and " + after.name() +
                  " live on different decompositions");
    }
  }
  const real_t cells = real_t(after.grid().global_cells());
  const real_t sum = after.sum();
  if (type == "scale") {
    // A zero target, or a zero or sign-flipped sum, cannot be reached by scaling without
    // wiping or mirroring the field; report rather than produce Inf.
    if (!(sum * target_mass > 0)) {
      std::ostringstream os;
      os << "mass fixer 'scale': the step took the mass of " << after.name() << " from "
         << before.sum() << " to " << sum << ", which cannot be scaled to " << target_mass
         << "; use 'shift'";
      throw NumericsError(os.str());
    }
    const real_t factor = target_mass / sum;
    for_owned(after, [factor](real_t& q) { q *= factor; });
  } else {
    const real_t delta = (target_mass - sum) / cells;
    for_owned(after, [delta](real_t& q) { q += delta; });
  }
  // The pass above leaves a residual of a few ulps of the mass from rounding in every cell; a
  // uniform correction of that residual brings the sum to the target within one final rounding.
  const real_t residual = (target_mass - after.sum()) / cells;
  if (residual != 0) for_owned(after, [residual](real_t& q) { q += residual; });
}

}  // namespace aeolus::emulators
