#pragma once
// Exact training data for the emulator tests: smooth periodic fields (a background plus a few
// Fourier modes) carried by a constant velocity, sampled as exact cell averages on [0,1]^2.
// The cell average of cos(a x + b y + phi) over a dx-by-dy cell centred at (x, y) is
// cos(a x + b y + phi) * sinc(a dx / 2) * sinc(b dy / 2), so every frame is exact.
#include <mpi.h>
#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "emulators/flux_cnn.hpp"

namespace aeolus::test {

struct SmoothField {
  struct Mode {
    int kx, ky;
    double amplitude, phase;
  };
  double background = 1.0;
  std::vector<Mode> modes;

  // Cell average at time t of the field advected by (u, v), cell centre (x, y).
  double cell_average(double x, double y, double dx, double dy, double u, double v,
                      double t) const {
    const double two_pi = 6.283185307179586;
    const auto sinc = [](double z) { return z == 0 ? 1.0 : std::sin(z) / z; };
    double s = background;
    for (const Mode& m : modes) {
      const double a = two_pi * m.kx, b = two_pi * m.ky;
      s += m.amplitude * std::cos(a * (x - u * t) + b * (y - v * t) + m.phase) * sinc(a * dx / 2) *
           sinc(b * dy / 2);
    }
    return s;
  }

  // All n x n cells in natural order (x fastest).
  std::vector<double> sample(int n, double u, double v, double t) const {
    std::vector<double> out(size_t(n) * size_t(n));
    const double h = 1.0 / n;
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i)
        out[size_t(j) * size_t(n) + size_t(i)] =
            cell_average((i + 0.5) * h, (j + 0.5) * h, h, h, u, v, t);
    return out;
  }
};

// Modes up to wavenumber 3, amplitudes small enough that q stays positive (the scale fixer
// needs a positive mass).
inline SmoothField random_field(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  SmoothField f;
  f.background = 1.0;
  for (int m = 0; m < 4; ++m) {
    const int kx = int(rng() % 4), ky = int(rng() % 4);
    f.modes.push_back({kx, ky, 0.2 * unit(rng), 6.283185307179586 * unit(rng)});
  }
  return f;
}

// n x n cells, dt_frame = courant * dx; each trajectory has its own random field and a random
// constant velocity with |u|, |v| <= 1.
inline emulators::FluxCnnDataset make_shift_dataset(int n, int trajectories, int frames,
                                                    double courant, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> velocity(-1.0, 1.0);
  emulators::FluxCnnDataset d;
  d.nx = d.ny = n;
  d.trajectories = trajectories;
  d.frames = frames;
  d.dx = d.dy = 1.0 / n;
  d.dt_frame = courant * d.dx;
  for (int tr = 0; tr < trajectories; ++tr) {
    const SmoothField f = random_field(rng);
    const double u = velocity(rng), v = velocity(rng);
    for (int fr = 0; fr < frames; ++fr) {
      const auto q = f.sample(n, u, v, fr * d.dt_frame);
      d.q.insert(d.q.end(), q.begin(), q.end());
    }
    d.u_face.insert(d.u_face.end(), size_t(n) * size_t(n), u);
    d.v_face.insert(d.v_face.end(), size_t(n) * size_t(n), v);
  }
  return d;
}

}  // namespace aeolus::test
