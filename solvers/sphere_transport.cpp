#include "solvers/sphere_transport.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "solvers/sphere_kernels.hpp"

namespace aeolus {

struct SphereTransportStepper::Work {
  explicit Work(const SphereGrid& g, const SphereSchemeParams& p)
      : scheme(sphere_scheme_from_params(p)), kernel(g) {
    fluxes.resize(g);
  }
  SphereScheme scheme;
  SphereFaceFluxes fluxes;
  SphereWork kernel;
};

SphereTransportStepper::SphereTransportStepper(const SphereGrid& grid, SweptAreaFunction flow,
                                               const SphereSchemeParams& scheme, real_t cfl)
    : grid_(grid), flow_(std::move(flow)), scheme_(scheme), cfl_(cfl) {
  if (!(cfl > 0 && cfl < 1)) {
    std::ostringstream os;
    os << "scheme.cfl = " << cfl << ", expected 0 < cfl < 1 (meridional Courant number)";
    throw ConfigError(os.str());
  }
  if (!flow_) throw ConfigError("sphere transport: no flow given");
  const int need = sphere_halo_width(scheme);
  if (grid.halo() < need) {
    throw ConfigError("grid: halo = " + std::to_string(grid.halo()) + ", the sphere transport " +
                      "scheme needs " + std::to_string(need));
  }
  work_ = std::make_shared<Work>(grid, scheme);
}

namespace {
// Largest |ya| on this rank's pole edges (the flow must make them exactly 0).
real_t pole_flux(const SphereGrid& g, const SphereFaceFluxes& f) {
  real_t m = 0;
  const index_t nx = g.nlon(), nj = g.lat_count();
  if (g.lat_start() == 0)
    for (index_t i = 0; i < nx; ++i) m = std::max(m, std::abs(f.ya[size_t(i)]));
  if (g.lat_start() + nj == g.nlat())
    for (index_t i = 0; i < nx; ++i) m = std::max(m, std::abs(f.ya[size_t(nj * nx + i)]));
  return m;
}

// Largest Courant numbers of a step over all ranks; every rank gets the location of the
// largest meridional one (MPI_MAXLOC over value and global face index), and the largest swept
// area through a pole edge.
struct GlobalCourant {
  real_t cy = 0, cx = 0, pole = 0;
  index_t face_row = 0, column = 0;
};

GlobalCourant global_courant(const SphereGrid& g, const SphereFaceFluxes& f) {
  const SphereCourant c = sphere_courant_local(g, f);
  struct {
    double value;
    int index;
  } in{c.max_cy, int(c.cy_face_row * g.nlon() + c.cy_column)}, out{};
  AEOLUS_MPI(MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, g.grid().comm()));
  const real_t local[2] = {c.max_cx, pole_flux(g, f)};
  real_t global[2] = {0, 0};
  AEOLUS_MPI(MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_MAX, g.grid().comm()));
  GlobalCourant r;
  r.cy = out.value;
  r.cx = global[0];
  r.pole = global[1];
  r.face_row = out.index / g.nlon();
  r.column = out.index % g.nlon();
  return r;
}
}  // namespace

// Meridional Courant number per second of the flow at time t (swept areas are linear in dt for
// a given flow state, so a 1 s probe gives the rate). Collective.
real_t SphereTransportStepper::courant_rate(real_t t) const {
  constexpr real_t probe = 1.0;
  flow_(t, probe, work_->fluxes);
  return global_courant(grid_, work_->fluxes).cy / probe;
}

real_t SphereTransportStepper::max_dt(const Field& /*q*/, real_t t) const {
  // The flows of the test suites speed up, slow down and reverse within a step: take the
  // largest rate at the start, middle and end of the candidate step, twice (the second pass
  // checks the shorter step the first one found).
  real_t rate = courant_rate(t);
  for (int pass = 0; pass < 2; ++pass) {
    if (!(rate > 0)) return std::numeric_limits<real_t>::infinity();
    const real_t dt = cfl_ / rate;
    rate = std::max({rate, courant_rate(t + 0.5 * dt), courant_rate(t + dt)});
  }
  return rate > 0 ? cfl_ / rate : std::numeric_limits<real_t>::infinity();
}

real_t SphereTransportStepper::courant(real_t t, real_t dt) const {
  flow_(t, dt, work_->fluxes);
  return global_courant(grid_, work_->fluxes).cy;
}

real_t SphereTransportStepper::zonal_courant(real_t t, real_t dt) const {
  flow_(t, dt, work_->fluxes);
  return global_courant(grid_, work_->fluxes).cx;
}

void SphereTransportStepper::step(Field& q, real_t& t, real_t& dt) {
  if (!(dt > 0) || !std::isfinite(dt)) {
    std::ostringstream os;
    os << "sphere transport: step dt = " << dt << " s at t = " << t << " s, expected dt > 0";
    throw NumericsError(os.str());
  }
  Work& w = *work_;
  q.exchange_halos();
  grid_.fill_polar_halos(q);
  flow_(t, dt, w.fluxes);
  const GlobalCourant c = global_courant(grid_, w.fluxes);
  if (c.pole != 0) {
    std::ostringstream os;
    os << "sphere transport: swept area " << c.pole
       << " m^2 through a pole edge in the step t = " << t << " s, dt = " << dt
       << " s; the flow must give exactly 0 there";
    throw NumericsError(os.str());
  }
  if (!(c.cy < 1)) {
    std::ostringstream os;
    os << "sphere transport: meridional Courant number " << c.cy << " >= 1 at the south edge of "
       << "latitude row " << c.face_row << " (column " << c.column << ") in the step t = " << t
       << " s, dt = " << dt << " s; reduce dt (max_dt gives cfl " << cfl_ << ")";
    throw NumericsError(os.str());
  }
  // A zonal sweep past the whole circle in one step is a broken flow (and would make the
  // integer shift loop for that long); near the poles at 0.25 deg the zonal Courant number is
  // about 250 at meridional 0.5, below nlon = 1440.
  if (!(c.cx <= real_t(grid_.nlon()))) {
    std::ostringstream os;
    os << "sphere transport: zonal Courant number " << c.cx << " exceeds nlon = " << grid_.nlon()
       << " in the step t = " << t << " s, dt = " << dt << " s";
    throw NumericsError(os.str());
  }
  if (w.scheme.limiter == SphereLimiter::bounded) {  // the range the step must keep
    w.scheme.lower = q.min();
    w.scheme.upper = q.max();
  }
  FieldView v = q.view();
  for (index_t k = 0; k < v.nz; ++k) {
    FieldView lev = sphere_level_view(v, k);
    lin_rood_step_2d(grid_, w.scheme, w.fluxes, lev, lev, w.kernel);
  }
  t += dt;
}

}  // namespace aeolus
