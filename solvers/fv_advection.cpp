#include "solvers/fv_advection.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "grids/error.hpp"

namespace aeolus {

namespace {

// Reconstructions. edge(p, s) is the value that the reconstruction in the cell at p takes on
// the face it shares with the cell at p + s; s = +-stride, so one routine gives both edges
// (every limiter below is symmetric under reflection).

struct Upwind {
  static real_t edge(const real_t* p, index_t /*s*/) { return p[0]; }
};

struct Linear {
  static real_t edge(const real_t* p, index_t s) { return p[0] + 0.25 * (p[s] - p[-s]); }
};

struct Minmod {
  static real_t edge(const real_t* p, index_t s) {
    const real_t a = p[0] - p[-s], b = p[s] - p[0];
    if (a * b <= 0) return p[0];
    return p[0] + 0.5 * (std::abs(a) < std::abs(b) ? a : b);
  }
};

struct VanLeer {
  static real_t edge(const real_t* p, index_t s) {
    const real_t a = p[0] - p[-s], b = p[s] - p[0];
    if (a * b <= 0) return p[0];
    return p[0] + a * b / (a + b);  // half the harmonic-mean slope 2ab/(a+b)
  }
};

struct Mc {
  static real_t edge(const real_t* p, index_t s) {
    const real_t a = p[0] - p[-s], b = p[s] - p[0];
    if (a * b <= 0) return p[0];
    const real_t mag = std::min({2.0 * std::abs(a), 2.0 * std::abs(b), 0.5 * std::abs(a + b)});
    return p[0] + 0.5 * std::copysign(mag, a);
  }
};

// Colella & Woodward (1984), uniform grid. The interface value is their eq. (1.6) with the
// limited slopes of eq. (1.8): in smooth monotone regions it is the 4th-order value
// 7/12 (q_j + q_j+1) - 1/12 (q_j-1 + q_j+2), and it always lies between q_j and q_j+1. The
// slope limiting matters: the bare 4th-order value overshoots next to a jump, and the parabola
// limiter alone does not undo that, so new extrema would appear.
struct Ppm {
  // CW eq. (1.8): van Leer-limited centred slope of the cell at p.
  static real_t limited_slope(const real_t* p, index_t s) {
    const real_t a = p[0] - p[-s], b = p[s] - p[0];
    if (a * b <= 0) return 0.0;
    const real_t centred = 0.5 * (p[s] - p[-s]);
    const real_t mag = std::min({std::abs(centred), 2.0 * std::abs(a), 2.0 * std::abs(b)});
    return std::copysign(mag, centred);
  }
  // Interface value between the cells at p and p + s.
  static real_t interface(const real_t* p, index_t s) {
    return 0.5 * (p[0] + p[s]) - (limited_slope(p + s, s) - limited_slope(p, s)) / 6.0;
  }
  static real_t edge(const real_t* p, index_t s) {
    const real_t q = p[0];
    real_t a_far = interface(p, s);    // the edge we return
    real_t a_near = interface(p, -s);  // the opposite edge
    // CW eq. (1.10): flatten at a local extremum, otherwise steepen the edge that would put
    // the parabola's extremum inside the cell.
    if ((a_far - q) * (q - a_near) <= 0) return q;
    const real_t da = a_far - a_near;
    const real_t q6 = 6.0 * (q - 0.5 * (a_near + a_far));
    if (da * q6 > da * da) {
      a_near = 3.0 * q - 2.0 * a_far;
    } else if (-da * da > da * q6) {
      a_far = 3.0 * q - 2.0 * a_near;
    }
    return a_far;
  }
};

// Upwind flux through the face between the cell at `low` and the one at low + s.
template <class R>
inline real_t face_flux(const real_t* low, index_t s, real_t u) {
  return u >= 0 ? u * R::edge(low, s) : u * R::edge(low + s, -s);
}

template <class R>
void flux_divergence(ConstFieldView q, const ConstFieldView* vel, int dim, const real_t* dx,
                     FieldView rhs) {
  const index_t qs[3] = {1, q.sy, q.sz};
  index_t us[3] = {1, 1, 1};
  for (int d = 0; d < dim; ++d) us[d] = d == 0 ? 1 : (d == 1 ? vel[d].sy : vel[d].sz);
  for (index_t k = 0; k < rhs.nz; ++k)
    for (index_t j = 0; j < rhs.ny; ++j) {
      // Along x the high-face flux of cell i is the low-face flux of cell i + 1: carry it
      // (the same inputs give the same bits, so the result does not depend on the carry).
      real_t fx_lo = face_flux<R>(&q(-1, j, k), 1, vel[0](0, j, k));
      for (index_t i = 0; i < rhs.nx; ++i) {
        const real_t* p = &q(i, j, k);
        const real_t fx_hi = face_flux<R>(p, 1, vel[0](i + 1, j, k));
        real_t acc = (fx_hi - fx_lo) / dx[0];
        fx_lo = fx_hi;
        for (int d = 1; d < dim; ++d) {
          const real_t* u = &vel[d](i, j, k);
          const real_t f_lo = face_flux<R>(p - qs[d], qs[d], u[0]);
          const real_t f_hi = face_flux<R>(p, qs[d], u[us[d]]);
          acc += (f_hi - f_lo) / dx[d];
        }
        rhs(i, j, k) = -acc;
      }
    }
}

}  // namespace

void fv_flux_divergence(FvReconstruction reconstruction, ConstFieldView q,
                        const ConstFieldView* face_velocity, int dim, const real_t* dx,
                        FieldView rhs) {
  switch (reconstruction) {
    case FvReconstruction::upwind:
      return flux_divergence<Upwind>(q, face_velocity, dim, dx, rhs);
    case FvReconstruction::linear:
      return flux_divergence<Linear>(q, face_velocity, dim, dx, rhs);
    case FvReconstruction::minmod:
      return flux_divergence<Minmod>(q, face_velocity, dim, dx, rhs);
    case FvReconstruction::van_leer:
      return flux_divergence<VanLeer>(q, face_velocity, dim, dx, rhs);
    case FvReconstruction::mc:
      return flux_divergence<Mc>(q, face_velocity, dim, dx, rhs);
    case FvReconstruction::ppm:
      return flux_divergence<Ppm>(q, face_velocity, dim, dx, rhs);
  }
}

void fv_flux_divergence(const std::string& reconstruction, ConstFieldView q,
                        const ConstFieldView* face_velocity, int dim, const real_t* dx,
                        FieldView rhs) {
  fv_flux_divergence(fv_reconstruction_from_name(reconstruction), q, face_velocity, dim, dx, rhs);
}

void fv_fill_outflow_ghosts(Field& q) {
  const CartesianGrid& g = q.grid();
  auto v = q.view();
  const index_t lo[3] = {-v.hx, -v.hy, -v.hz};
  const index_t hi[3] = {v.nx + v.hx, v.ny + v.hy, v.nz + v.hz};
  const index_t count[3] = {v.nx, v.ny, v.nz};
  for (int d = 0; d < g.dim(); ++d) {
    if (g.periodic(d)) continue;
    const bool at_low = g.start(d) == 0;
    const bool at_high = g.start(d) + g.count(d) == g.n(d);
    if (!at_low && !at_high) continue;
    // Sweep the full ghosted extent of the other dimensions so corners get filled too.
    index_t idx[3];
    for (idx[2] = lo[2]; idx[2] < hi[2]; ++idx[2])
      for (idx[1] = lo[1]; idx[1] < hi[1]; ++idx[1])
        for (idx[0] = lo[0]; idx[0] < hi[0]; ++idx[0]) {
          const index_t c = idx[d];
          index_t src[3] = {idx[0], idx[1], idx[2]};
          if (at_low && c < 0) {
            src[d] = 0;
          } else if (at_high && c >= count[d]) {
            src[d] = count[d] - 1;
          } else {
            continue;
          }
          v(idx[0], idx[1], idx[2]) = v(src[0], src[1], src[2]);
        }
  }
}

struct FvAdvectionStepper::Impl {
  const CartesianGrid* grid = nullptr;  // the caller's grid (cells and decomposition)
  std::unique_ptr<CartesianGrid> wide;  // own copy with enough ghost layers, if needed
  const CartesianGrid* work_grid = nullptr;
  FvReconstruction reconstruction = FvReconstruction::van_leer;
  FvTimeIntegrator integrator = FvTimeIntegrator::ssprk3;
  real_t cfl = 0;
  real_t inverse_cfl_time = 0;  // steady velocity: computed once
  std::vector<std::unique_ptr<Field>> face_velocity;
  std::vector<ConstFieldView> face_velocity_views;
  real_t dx[3] = {1, 1, 1};
  std::unique_ptr<Field> q0, stage, rhs;

  // stage <- (1 - b) q0 + b (stage + dt L(stage)), owned cells. Written as q0 + b (euler - q0):
  // with b = 2/3 in binary the weights b and 1 - b would not sum to one exactly, which drifts
  // the total mass by ~1e-16 per step; the difference form conserves to round-off.
  void stage_update(real_t b, real_t dt) {
    stage->exchange_halos();
    fv_fill_outflow_ghosts(*stage);
    fv_flux_divergence(reconstruction, static_cast<const Field&>(*stage).view(),
                       face_velocity_views.data(), work_grid->dim(), dx, rhs->view());
    auto s = stage->view();
    auto r = static_cast<const Field&>(*rhs).view();
    auto u0 = static_cast<const Field&>(*q0).view();
    for (index_t k = 0; k < s.nz; ++k)
      for (index_t j = 0; j < s.ny; ++j)
        for (index_t i = 0; i < s.nx; ++i) {
          const real_t euler = s(i, j, k) + dt * r(i, j, k);
          s(i, j, k) = b == 1 ? euler : u0(i, j, k) + b * (euler - u0(i, j, k));
        }
  }
};

FvAdvectionStepper::FvAdvectionStepper(const CartesianGrid& grid,
                                       const physics::VelocityParams& velocity,
                                       const FvSchemeParams& scheme, real_t cfl)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.grid = &grid;
  m.reconstruction = fv_reconstruction_from_name(scheme.reconstruction);
  m.integrator = fv_time_integrator_from_name(scheme.time_integrator);
  const real_t max_cfl = fv_max_cfl(scheme);
  if (max_cfl == 0) {
    throw ConfigError("scheme: reconstruction '" + scheme.reconstruction +
                      "' with time_integrator '" + scheme.time_integrator +
                      "' is unstable at every cfl; use ssprk3");
  }
  if (!(cfl > 0 && cfl <= max_cfl)) {
    std::ostringstream os;
    os << "scheme: cfl = " << cfl << " outside (0, " << max_cfl << "] for reconstruction '"
       << scheme.reconstruction << "' with time_integrator '" << scheme.time_integrator << "'";
    throw ConfigError(os.str());
  }
  m.cfl = cfl;
  const int halo = fv_halo_width(scheme);
  if (grid.halo() < halo) {
    m.wide = grid.with_halo(halo);
    m.work_grid = m.wide.get();
  } else {
    m.work_grid = &grid;
  }
  const int dim = m.work_grid->dim();
  for (int d = 0; d < dim; ++d) {
    m.dx[d] = m.work_grid->dx(d);
    m.face_velocity.push_back(
        std::make_unique<Field>(*m.work_grid, "face_velocity_" + std::to_string(d)));
    physics::fill_face_velocity(velocity, d, 0.0, *m.face_velocity.back());
    m.face_velocity_views.push_back(static_cast<const Field&>(*m.face_velocity.back()).view());
  }
  m.inverse_cfl_time = physics::max_inverse_cfl_time(velocity, *m.work_grid, 0.0);
  m.q0 = std::make_unique<Field>(*m.work_grid, "fv_q0");
  m.stage = std::make_unique<Field>(*m.work_grid, "fv_stage");
  m.rhs = std::make_unique<Field>(*m.work_grid, "fv_rhs");
}

FvAdvectionStepper::~FvAdvectionStepper() = default;

real_t FvAdvectionStepper::max_dt(const Field& /*q*/, real_t /*t*/) const {
  if (impl_->inverse_cfl_time == 0) return std::numeric_limits<real_t>::infinity();
  return impl_->cfl / impl_->inverse_cfl_time;
}

real_t FvAdvectionStepper::courant(real_t /*t*/, real_t dt) const {
  return dt * impl_->inverse_cfl_time;
}

void FvAdvectionStepper::step(Field& q, real_t& t, real_t& dt) {
  Impl& m = *impl_;
  // Allow round-off above the limit: callers compute dt as (t_end - t) or T / nsteps.
  if (!(dt > 0) || courant(t, dt) > m.cfl * (1 + 1e-12)) {
    std::ostringstream os;
    os.precision(17);
    os << "FvAdvectionStepper::step: dt = " << dt << " outside (0, max_dt = " << max_dt(q, t)
       << "]";
    throw Error(os.str());
  }
  for (int d = 0; d < 3; ++d) {
    if (q.grid().n(d) != m.work_grid->n(d)) {
      throw Error("FvAdvectionStepper::step: field " + q.name() + " has " +
                  std::to_string(q.grid().n(d)) + " cells along dimension " + std::to_string(d) +
                  ", the stepper's grid " + std::to_string(m.work_grid->n(d)));
    }
  }
  m.stage->copy_owned_from(q);
  if (m.integrator != FvTimeIntegrator::euler) m.q0->copy_owned_from(q);
  // Shu-Osher forms: each stage is a convex combination of q^n and an Euler step.
  switch (m.integrator) {
    case FvTimeIntegrator::euler:
      m.stage_update(1.0, dt);
      break;
    case FvTimeIntegrator::ssprk2:
      m.stage_update(1.0, dt);
      m.stage_update(0.5, dt);
      break;
    case FvTimeIntegrator::ssprk3:
      m.stage_update(1.0, dt);
      m.stage_update(0.25, dt);
      m.stage_update(2.0 / 3.0, dt);
      break;
  }
  q.copy_owned_from(*m.stage);
  t += dt;
}

}  // namespace aeolus
