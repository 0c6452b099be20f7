#pragma once
// Seeded random draws that are the same on every compiler and standard library: the engine
// (mt19937_64) is fully specified by the standard, the distributions are not, so uniform and
// normal variates are computed here. Used wherever data must be reproducible from a seed
// (initial conditions, datasets, Lanczos start vectors).
#include <cmath>
#include <cstdint>
#include <random>

namespace aeolus {

// An independent seed for stream `stream` of a run seeded with `seed` (splitmix64 mixing), for
// random streams that must not overlap (Brownian paths of different chunks, intervals,
// iterations).
inline std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits.
inline double uniform01(std::mt19937_64& rng) { return double(rng() >> 11) * 0x1.0p-53; }

// Standard normal draws by Box-Muller (pairs; the second of a pair is kept for the next call).
class NormalStream {
 public:
  explicit NormalStream(std::uint64_t seed) : rng_(seed) {}
  double next() {
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    constexpr double kTwoPi = 6.283185307179586476925;
    // 53-bit uniforms in (0, 1]: log(u1) is finite.
    const double u1 = (double(rng_() >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = uniform01(rng_);
    const double radius = std::sqrt(-2.0 * std::log(u1));
    spare_ = radius * std::sin(kTwoPi * u2);
    have_spare_ = true;
    return radius * std::cos(kTwoPi * u2);
  }

 private:
  std::mt19937_64 rng_;
  double spare_ = 0;
  bool have_spare_ = false;
};

}  // namespace aeolus
