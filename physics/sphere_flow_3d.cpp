#include "physics/sphere_flow_3d.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "grids/error.hpp"

namespace aeolus {

void SphereFluxes3d::resize(const SphereGrid& g) {
  horizontal.resize(size_t(g.nlev()));
  for (auto& h : horizontal) h.resize(g);
  vertical.assign(size_t((g.nlev() + 1) * g.lat_count() * g.nlon()), 0.0);
}

real_t vertical_flux_from_divergence(const SphereGrid& g, const std::vector<real_t>& dp_ref,
                                     SphereFluxes3d& f) {
  const index_t nx = g.nlon(), nj = g.lat_count(), nl = g.nlev(), h = g.halo();
  if (index_t(dp_ref.size()) != nl || index_t(f.horizontal.size()) != nl) {
    std::ostringstream os;
    os << "vertical_flux_from_divergence: " << dp_ref.size() << " reference thicknesses and "
       << f.horizontal.size() << " flux levels for a grid with nlev = " << nl;
    throw Error(os.str());
  }
  real_t residual = 0;
  for (index_t jl = 0; jl < nj; ++jl) {
    const real_t area = g.area(g.lat_start() + jl);
    for (index_t i = 0; i < nx; ++i) {
      const index_t ie = i + 1 == nx ? 0 : i + 1;
      real_t w = 0;
      f.w(g, 0, jl, i) = 0;
      for (index_t k = 0; k < nl; ++k) {
        const auto& fh = f.horizontal[size_t(k)];
        const real_t div = (fh.xa[size_t((jl + h) * nx + ie)] - fh.xa[size_t((jl + h) * nx + i)]) +
                           (fh.ya[size_t((jl + 1) * nx + i)] - fh.ya[size_t(jl * nx + i)]);
        w -= dp_ref[size_t(k)] * div / area;
        f.w(g, k + 1, jl, i) = w;
      }
      residual = std::max(residual, std::abs(w));
      f.w(g, nl, jl, i) = 0;
    }
  }
  return residual;
}

}  // namespace aeolus
