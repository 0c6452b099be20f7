#include "solvers/sphere_transport_3d.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "solvers/sphere_kernels.hpp"
#include "solvers/sphere_vertical_kernels.hpp"

namespace aeolus {

struct SphereTransport3dStepper::Work {
  Work(const SphereGrid& g, const SphereSchemeParams& p)
      : scheme(sphere_scheme_from_params(p)),
        kernel(g),
        air(g),
        dpw(g.grid(), "air_mass_work"),
        dp2(g.grid(), "air_mass_horizontal"),
        dp3(g.grid(), "air_mass_next"),
        qmass(g.grid(), "tracer_mass"),
        qtmp(g.grid(), "tracer_mixing_ratio"),
        column(vertical_ppm_work_size(g.nlon(), g.nlev())) {
    fluxes.resize(g);
  }
  // The work field of tracer n (created on first use): its mixing ratio with halos before the
  // horizontal step, its tracer mass after it.
  Field& tracer(size_t n, const SphereGrid& g) {
    while (tracers.size() <= n) tracers.push_back(std::make_unique<Field>(g.grid(), "tracer_work"));
    return *tracers[n];
  }
  SphereScheme scheme;
  // Per step: the schemes of the air mass and of each tracer (their own ranges for the bounded
  // limiter), kept here so that a step allocates nothing once the tracer count is known.
  SphereScheme air_scheme;
  std::vector<SphereScheme> tracer_schemes;
  SphereWork kernel;
  SphereAirFluxes air;
  Field dpw, dp2, dp3, qmass, qtmp;
  std::vector<std::unique_ptr<Field>> tracers;
  std::vector<real_t> column;
  std::vector<real_t> closure_ps;  // one row of column pressures (closure)
  SphereFluxes3d fluxes;
};

SphereTransport3dStepper::SphereTransport3dStepper(const SphereGrid& grid,
                                                   SphereFlow3dFunction flow,
                                                   const SphereSchemeParams& scheme, real_t cfl,
                                                   const Field& air_mass,
                                                   Sphere3dSplitting splitting)
    : grid_(grid),
      flow_(std::move(flow)),
      cfl_(cfl),
      splitting_(splitting),
      air_(grid.grid(), "air_mass") {
  if (!(cfl > 0 && cfl < 1)) {
    std::ostringstream os;
    os << "scheme.cfl = " << cfl << ", expected 0 < cfl < 1 (meridional Courant number and "
       << "vertical swept fraction per sub-step)";
    throw ConfigError(os.str());
  }
  if (!flow_) throw ConfigError("sphere transport 3d: no flow given");
  const int need = sphere_halo_width(scheme);
  if (grid.halo() < need) {
    throw ConfigError("grid: halo = " + std::to_string(grid.halo()) + ", the sphere transport " +
                      "scheme needs " + std::to_string(need));
  }
  air_.copy_owned_from(air_mass);
  const real_t m = air_.min();
  if (!(m > 0) || air_.count_nonfinite() > 0) {
    std::ostringstream os;
    os << "sphere transport 3d: initial air mass has minimum " << m
       << " Pa (or non-finite values); expected dp > 0 everywhere";
    throw ConfigError(os.str());
  }
  work_ = std::make_unique<Work>(grid, scheme);
}

SphereTransport3dStepper::~SphereTransport3dStepper() = default;

namespace {

// Largest meridional Courant number over all levels and ranks, with its location (level,
// global face row, column) on every rank, and the largest |swept area| through a pole edge.
struct HorizontalCheck {
  real_t cy = 0, pole = 0;
  index_t level = 0, face_row = 0, column = 0;
};

HorizontalCheck horizontal_check(const SphereGrid& g, const SphereFluxes3d& f) {
  const index_t nx = g.nlon(), nj = g.lat_count(), ny = g.nlat();
  real_t cy = 0, pole = 0;
  index_t where = 0;
  for (index_t k = 0; k < index_t(f.horizontal.size()); ++k) {
    const auto& h = f.horizontal[size_t(k)];
    const SphereCourant c = sphere_courant_local(g, h);
    if (c.max_cy > cy) {
      cy = c.max_cy;
      where = (k * (ny + 1) + c.cy_face_row) * nx + c.cy_column;
    }
    if (g.lat_start() == 0)
      for (index_t i = 0; i < nx; ++i) pole = std::max(pole, std::abs(h.ya[size_t(i)]));
    if (g.lat_start() + nj == ny)
      for (index_t i = 0; i < nx; ++i) pole = std::max(pole, std::abs(h.ya[size_t(nj * nx + i)]));
  }
  struct {
    double value;
    int index;
  } in{cy, int(where)}, out{};
  AEOLUS_MPI(MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, g.grid().comm()));
  real_t pole_global = 0;
  AEOLUS_MPI(MPI_Allreduce(&pole, &pole_global, 1, MPI_DOUBLE, MPI_MAX, g.grid().comm()));
  HorizontalCheck r;
  r.cy = out.value;
  r.pole = pole_global;
  r.column = out.index % nx;
  r.face_row = (out.index / nx) % (ny + 1);
  r.level = out.index / nx / (ny + 1);
  return r;
}

// Largest vertical swept fraction over all ranks with its location (interface, global row,
// column) on every rank.
struct VerticalCheck {
  real_t c = 0;
  index_t interface = 0, row = 0, column = 0;
};

VerticalCheck vertical_check(const SphereGrid& g, ConstFieldView dp, const real_t* w,
                             real_t scale) {
  const VerticalCourant c = vertical_courant_local(dp, w, scale);
  const index_t nx = g.nlon(), ny = g.nlat();
  struct {
    double value;
    int index;
  } in{c.max_c, int((c.kf * ny + g.lat_start() + c.j) * nx + c.i)}, out{};
  AEOLUS_MPI(MPI_Allreduce(&in, &out, 1, MPI_DOUBLE_INT, MPI_MAXLOC, g.grid().comm()));
  VerticalCheck r;
  r.c = out.value;
  r.column = out.index % nx;
  r.row = (out.index / nx) % ny;
  r.interface = out.index / nx / ny;
  return r;
}

void require_positive(const Field& dp, const char* stage, real_t t, real_t dt) {
  const real_t m = dp.min();
  if (!(m > 0) || dp.count_nonfinite() > 0) {
    std::ostringstream os;
    os << "sphere transport 3d: air mass minimum " << m << " Pa (or non-finite) after the " << stage
       << " of the step t = " << t << " s, dt = " << dt << " s; reduce dt";
    throw NumericsError(os.str());
  }
}

void throw_vertical(const VerticalCheck& v, const char* stage, real_t t, real_t dt) {
  std::ostringstream os;
  os << "sphere transport 3d: vertical swept fraction " << v.c << " >= 1 at interface "
     << v.interface << " (latitude row " << v.row << ", column " << v.column << ") in the " << stage
     << " of the step t = " << t << " s, dt = " << dt << " s; reduce dt";
  throw NumericsError(os.str());
}

// Vertical swept fractions a step will meet, estimated before the step from the current air
// mass dp and the step's fluxes: the upwind layer of an interface first loses its net
// horizontal outflow D = dp (xa_E - xa_W + ya_N - ya_S) / area (exact for dp uniform on the
// level), so c = vf |W| / (dp - max(D, 0)); and, for fluxes of a 1 s step, the largest dt with
// vf |W| dt <= cfl (dp - max(D, 0) dt). Both reduced over ranks (max c, min dt).
struct VerticalEstimate {
  real_t c = 0, dt = std::numeric_limits<real_t>::infinity();
};

VerticalEstimate vertical_estimate(const SphereGrid& g, ConstFieldView dp, const SphereFluxes3d& f,
                                   real_t vf, real_t cfl) {
  const index_t nx = dp.nx, ny = dp.ny, nz = dp.nz, h = g.halo();
  auto outflow = [&](index_t i, index_t j, index_t k) {
    const auto& fh = f.horizontal[size_t(k)];
    const index_t ie = i + 1 == nx ? 0 : i + 1;
    const real_t div = (fh.xa[size_t((j + h) * nx + ie)] - fh.xa[size_t((j + h) * nx + i)]) +
                       (fh.ya[size_t((j + 1) * nx + i)] - fh.ya[size_t(j * nx + i)]);
    return std::max(dp(i, j, k) * div / g.area(g.lat_start() + j), 0.0);
  };
  real_t local[2] = {0, -std::numeric_limits<real_t>::infinity()};  // max c, max -dt
  for (index_t kf = 1; kf < nz; ++kf)
    for (index_t j = 0; j < ny; ++j)
      for (index_t i = 0; i < nx; ++i) {
        const real_t W = f.vertical[size_t((kf * ny + j) * nx + i)];
        if (W == 0) continue;
        const index_t ku = W > 0 ? kf - 1 : kf;
        const real_t m = dp(i, j, ku), d = outflow(i, j, ku), a = vf * std::abs(W);
        const real_t c = m > d ? a / (m - d) : std::numeric_limits<real_t>::infinity();
        local[0] = std::max(local[0], c);
        local[1] = std::max(local[1], -cfl * m / (a + cfl * d));
      }
  real_t global[2];
  AEOLUS_MPI(MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_MAX, g.grid().comm()));
  VerticalEstimate r;
  r.c = global[0];
  r.dt = -global[1];
  return r;
}

// The closure's vertical fluxes for the air mass dph after the horizontal step (see the header),
// into w (SphereFluxes3d::vertical layout); returns the largest |W_nlev| before it is zeroed
// (local). `ps` holds nx values.
real_t closure_fluxes(const HybridCoordinate& c, ConstFieldView dph, std::vector<real_t>& w,
                      std::vector<real_t>& ps) {
  const index_t nx = dph.nx, ny = dph.ny, nz = dph.nz;
  const real_t p_top = c.a[0] * c.p0;
  real_t residual = 0;
  for (index_t j = 0; j < ny; ++j) {
    for (index_t i = 0; i < nx; ++i) ps[size_t(i)] = p_top;
    for (index_t k = 0; k < nz; ++k) {
      const real_t* d = &dph(0, j, k);
      for (index_t i = 0; i < nx; ++i) ps[size_t(i)] += d[i];
    }
    real_t* w0 = w.data() + j * nx;
    for (index_t i = 0; i < nx; ++i) w0[i] = 0;
    for (index_t k = 0; k < nz; ++k) {
      const real_t da = (c.a[size_t(k) + 1] - c.a[size_t(k)]) * c.p0;
      const real_t db = c.b[size_t(k) + 1] - c.b[size_t(k)];
      const real_t* d = &dph(0, j, k);
      const real_t* wt = w.data() + (k * ny + j) * nx;
      real_t* wb = w.data() + ((k + 1) * ny + j) * nx;
      for (index_t i = 0; i < nx; ++i) wb[i] = wt[i] + d[i] - (da + db * ps[size_t(i)]);
    }
    real_t* ws = w.data() + (nz * ny + j) * nx;
    for (index_t i = 0; i < nx; ++i) {
      residual = std::max(residual, std::abs(ws[i]));
      ws[i] = 0;
    }
  }
  return residual;
}

// The closure's vertical fluxes predicted before a step from the current air mass dp and the
// step's swept areas: W_{k+1} = W_k - D_k + db_k sum_l D_l, D_k = dp_k (xa_E - xa_W + ya_N -
// ya_S) / area (the horizontal step's change of an air mass uniform on the level). Overwrites
// f.vertical.
void closure_estimate(const SphereGrid& g, const HybridCoordinate& c, ConstFieldView dp,
                      SphereFluxes3d& f) {
  const index_t nx = dp.nx, ny = dp.ny, nz = dp.nz, h = g.halo();
  std::vector<real_t> d(static_cast<size_t>(nz));
  for (index_t j = 0; j < ny; ++j) {
    const real_t inv_area = 1.0 / g.area(g.lat_start() + j);
    for (index_t i = 0; i < nx; ++i) {
      const index_t ie = i + 1 == nx ? 0 : i + 1;
      real_t sum = 0;
      for (index_t k = 0; k < nz; ++k) {
        const auto& fh = f.horizontal[size_t(k)];
        const real_t div = (fh.xa[size_t((j + h) * nx + ie)] - fh.xa[size_t((j + h) * nx + i)]) +
                           (fh.ya[size_t((j + 1) * nx + i)] - fh.ya[size_t(j * nx + i)]);
        d[size_t(k)] = dp(i, j, k) * div * inv_area;
        sum += d[size_t(k)];
      }
      real_t w = 0;
      f.vertical[size_t(j * nx + i)] = 0;
      for (index_t k = 0; k < nz; ++k) {
        w += -d[size_t(k)] + (c.b[size_t(k) + 1] - c.b[size_t(k)]) * sum;
        f.vertical[size_t(((k + 1) * ny + j) * nx + i)] = w;
      }
      f.vertical[size_t((nz * ny + j) * nx + i)] = 0;
    }
  }
}

void fill_halos(const SphereGrid& g, Field& x) {
  x.exchange_halos();
  g.fill_polar_halos(x);
}

}  // namespace

real_t SphereTransport3dStepper::courant_parts(real_t t, real_t dt, real_t* parts) const {
  Work& w = *work_;
  flow_(t, dt, w.fluxes);
  if (closure_) closure_estimate(grid_, *closure_, air_.view(), w.fluxes);
  parts[0] = horizontal_check(grid_, w.fluxes).cy;
  const VerticalEstimate v =
      vertical_estimate(grid_, air_.view(), w.fluxes, vertical_fraction(), cfl_);
  parts[1] = v.c;
  return std::max(parts[0], parts[1]);
}

real_t SphereTransport3dStepper::max_dt(const Field& q, real_t t) const {
  // The flows slow down, reverse and speed up within a step: the smallest stable step of the
  // flow at the start, middle and end of the candidate step, twice (as the 2D stepper does).
  real_t dt = instant_max_dt(q, t);
  for (int pass = 0; pass < 2 && std::isfinite(dt); ++pass) {
    dt = std::min({dt, instant_max_dt(q, t + 0.5 * dt), instant_max_dt(q, t + dt)});
  }
  return dt;
}

real_t SphereTransport3dStepper::instant_max_dt(const Field& /*q*/, real_t t) const {
  // Swept areas and vertical fluxes are linear in dt for a given flow state: probe with 1 s.
  // The vertical swept fraction is not (the upwind layer first loses mass horizontally): the
  // vertical limit solves vf |w| dt = cfl (dp - D dt) per interface (vertical_estimate).
  constexpr real_t probe = 1.0;
  Work& w = *work_;
  flow_(t, probe, w.fluxes);
  if (closure_) closure_estimate(grid_, *closure_, air_.view(), w.fluxes);
  const real_t cy = horizontal_check(grid_, w.fluxes).cy;
  const VerticalEstimate v =
      vertical_estimate(grid_, air_.view(), w.fluxes, vertical_fraction(), cfl_);
  const real_t dt_h = cy > 0 ? cfl_ * probe / cy : std::numeric_limits<real_t>::infinity();
  return std::min(dt_h, v.dt * probe);
}

real_t SphereTransport3dStepper::courant(real_t t, real_t dt) const {
  real_t parts[2];
  return courant_parts(t, dt, parts);
}

real_t SphereTransport3dStepper::horizontal_courant(real_t t, real_t dt) const {
  real_t parts[2];
  courant_parts(t, dt, parts);
  return parts[0];
}

real_t SphereTransport3dStepper::vertical_courant(real_t t, real_t dt) const {
  real_t parts[2];
  courant_parts(t, dt, parts);
  return parts[1];
}

void SphereTransport3dStepper::step(Field& q, real_t& t, real_t& dt) { step_all({&q}, t, dt); }

void SphereTransport3dStepper::step_all(const std::vector<Field*>& qs, real_t& t, real_t& dt) {
  if (!(dt > 0) || !std::isfinite(dt)) {
    std::ostringstream os;
    os << "sphere transport 3d: step dt = " << dt << " s at t = " << t << " s, expected dt > 0";
    throw NumericsError(os.str());
  }
  Work& w = *work_;
  flow_(t, dt, w.fluxes);
  const HorizontalCheck hc = horizontal_check(grid_, w.fluxes);
  if (hc.pole != 0) {
    std::ostringstream os;
    os << "sphere transport 3d: swept area " << hc.pole << " m^2 through a pole edge in the step "
       << "t = " << t << " s, dt = " << dt << " s; the flow must give exactly 0 there";
    throw NumericsError(os.str());
  }
  if (!(hc.cy < 1)) {
    std::ostringstream os;
    os << "sphere transport 3d: meridional Courant number " << hc.cy << " >= 1 on level "
       << hc.level << " at the south edge of latitude row " << hc.face_row << " (column "
       << hc.column << ") in the step t = " << t << " s, dt = " << dt << " s; reduce dt (max_dt "
       << "gives cfl " << cfl_ << ")";
    throw NumericsError(os.str());
  }
  const real_t* W = w.fluxes.vertical.data();
  const bool strang = splitting_ == Sphere3dSplitting::strang;
  const real_t vf = vertical_fraction();

  // Air mass: dp0 = air_ -> [dp1 (vertical, Strang)] in dpw -> dp2 (horizontal) -> dp3.
  w.dpw.copy_owned_from(air_);
  if (strang) {
    const VerticalCheck v1 = vertical_check(grid_, air_.view(), W, vf);
    if (!(v1.c < 1)) throw_vertical(v1, "first vertical half step", t, dt);
    vertical_air_mass_update(w.dpw.view(), W, vf);
    require_positive(w.dpw, "first vertical half step", t, dt);
  }
  const ConstFieldView dp0 = air_.view(), dp1 = w.dpw.view(), dp2 = w.dp2.view(),
                       dp3 = w.dp3.view();
  // Tracers entering the horizontal step: mixing ratios (after the first vertical half step for
  // strang: its tracer mass over dp1), with halos.
  for (size_t n = 0; n < qs.size(); ++n) {
    Field& x = w.tracer(n, grid_);
    if (strang) {
      const FieldView q = qs[n]->view(), qm = w.qmass.view(), xv = x.view();
      for (index_t k = 0; k < q.nz; ++k)
        for (index_t j = 0; j < q.ny; ++j)
          for (index_t i = 0; i < q.nx; ++i) qm(i, j, k) = dp0(i, j, k) * q(i, j, k);
      vertical_ppm_tracer_update(dp0, q, W, vf, qm, w.column.data());
      for (index_t k = 0; k < q.nz; ++k)
        for (index_t j = 0; j < q.ny; ++j)
          for (index_t i = 0; i < q.nx; ++i) xv(i, j, k) = qm(i, j, k) / dp1(i, j, k);
    } else {
      x.copy_owned_from(*qs[n]);
    }
    fill_halos(grid_, x);
  }
  // Horizontal step, level by level: the air mass (recording its air-mass fluxes), then every
  // tracer in mixing-ratio form with those fluxes (in place: the tracer mass density after).
  fill_halos(grid_, w.dpw);
  {
    // The bounded limiter keeps each field in its own range at the start of the horizontal
    // step: the air mass in that of dp, every tracer in that of its mixing ratio.
    SphereScheme& air_scheme = w.air_scheme;
    std::vector<SphereScheme>& tracer_scheme = w.tracer_schemes;
    air_scheme = w.scheme;
    tracer_scheme.assign(qs.size(), w.scheme);
    if (w.scheme.limiter == SphereLimiter::bounded) {
      air_scheme.lower = w.dpw.min();
      air_scheme.upper = w.dpw.max();
      for (size_t n = 0; n < qs.size(); ++n) {
        tracer_scheme[n].lower = w.tracers[n]->min();
        tracer_scheme[n].upper = w.tracers[n]->max();
      }
    }
    const FieldView d1 = w.dpw.view(), d2 = w.dp2.view();
    for (index_t k = 0; k < d1.nz; ++k) {
      const SphereFaceFluxes& fk = w.fluxes.horizontal[size_t(k)];
      lin_rood_step_2d(grid_, air_scheme, fk, sphere_level_view(d1, k), sphere_level_view(d2, k),
                       w.kernel, &w.air);
      for (size_t n = 0; n < qs.size(); ++n) {
        const FieldView x = sphere_level_view(w.tracers[n]->view(), k);
        lin_rood_tracer_step_2d(grid_, tracer_scheme[n], fk, w.air, sphere_level_view(d1, k), x, x,
                                w.kernel);
      }
    }
  }
  require_positive(w.dp2, "horizontal step", t, dt);
  if (closure_) {
    // The vertical fluxes that put every column on the coordinate of its new mass.
    const real_t local = closure_fluxes(*closure_, dp2, w.fluxes.vertical, w.closure_ps);
    AEOLUS_MPI(MPI_Allreduce(&local, &last_residual_, 1, MPI_DOUBLE, MPI_MAX, grid_.grid().comm()));
    if (!(last_residual_ <= 1e-10 * closure_->p0)) {
      std::ostringstream os;
      os << "sphere transport 3d: vertical closure residual " << last_residual_
         << " Pa at the surface in the step t = " << t << " s, dt = " << dt
         << " s (expected round-off; inconsistent hybrid coordinate?)";
      throw NumericsError(os.str());
    }
  }
  const VerticalCheck v2 = vertical_check(grid_, dp2, W, vf);
  if (!(v2.c < 1)) throw_vertical(v2, "last vertical step", t, dt);
  w.dp3.copy_owned_from(w.dp2);
  vertical_air_mass_update(w.dp3.view(), W, vf);
  require_positive(w.dp3, "last vertical step", t, dt);

  // Vertical step of each tracer mass with the mixing ratio over dp2; q = (m q) / dp3.
  for (size_t n = 0; n < qs.size(); ++n) {
    const FieldView q = qs[n]->view(), qm = w.tracers[n]->view(), qt = w.qtmp.view();
    for (index_t k = 0; k < q.nz; ++k)
      for (index_t j = 0; j < q.ny; ++j)
        for (index_t i = 0; i < q.nx; ++i) qt(i, j, k) = qm(i, j, k) / dp2(i, j, k);
    vertical_ppm_tracer_update(dp2, qt, W, vf, qm, w.column.data());
    for (index_t k = 0; k < q.nz; ++k)
      for (index_t j = 0; j < q.ny; ++j)
        for (index_t i = 0; i < q.nx; ++i) q(i, j, k) = qm(i, j, k) / dp3(i, j, k);
  }
  air_.copy_owned_from(w.dp3);
  last_w_ = w.fluxes.vertical;
  t += dt;
}

void SphereTransport3dStepper::set_vertical_closure(const HybridCoordinate& coordinate) {
  const HybridCoordinate& c = coordinate;
  const index_t nl = grid_.nlev();
  std::ostringstream os;
  os << "sphere transport 3d: vertical closure: ";
  if (splitting_ != Sphere3dSplitting::hv) {
    os << "splitting = strang, expected hv (the closure acts after the horizontal step)";
    throw ConfigError(os.str());
  }
  if (c.a.size() != c.b.size() || c.nlev() != nl) {
    os << "coordinate has " << c.a.size() << " a and " << c.b.size()
       << " b coefficients, expected nlev + 1 = " << nl + 1;
    throw ConfigError(os.str());
  }
  if (grid_.lev_count() != nl) {
    os << "the rank owns " << grid_.lev_count() << " of " << nl << " levels, expected all";
    throw ConfigError(os.str());
  }
  if (c.b.front() != 0.0 || c.b.back() != 1.0 || c.a.back() != 0.0) {
    os << "b_0 = " << c.b.front() << ", b_nlev = " << c.b.back() << ", a_nlev = " << c.a.back()
       << ", expected 0, 1, 0 (pressure top, sigma surface)";
    throw ConfigError(os.str());
  }
  // The current air mass must lie on the coordinate of its column mass.
  const ConstFieldView dp = air_.view();
  real_t worst = 0;
  for (index_t j = 0; j < dp.ny; ++j)
    for (index_t i = 0; i < dp.nx; ++i) {
      real_t ps = c.a[0] * c.p0;
      for (index_t k = 0; k < dp.nz; ++k) ps += dp(i, j, k);
      for (index_t k = 0; k < dp.nz; ++k)
        worst = std::max(worst, std::abs(dp(i, j, k) - c.dp(k, ps)) / dp(i, j, k));
    }
  real_t global = 0;
  AEOLUS_MPI(MPI_Allreduce(&worst, &global, 1, MPI_DOUBLE, MPI_MAX, grid_.grid().comm()));
  if (!(global <= 1e-10)) {
    os << "the air mass is off the coordinate of its column mass by " << global
       << " (relative), expected <= 1e-10: initialise dp_k = da_k p0 + db_k ps";
    throw ConfigError(os.str());
  }
  closure_ = std::make_unique<HybridCoordinate>(c);
  work_->closure_ps.resize(size_t(grid_.nlon()));
}

}  // namespace aeolus
