#pragma once
// The spiral ODE of the neural-ODE experiments (torchdiffeq's ode_demo): dy/dt = (y^3) A for a
// row vector y = (y0, y1), A = [[-0.1, 2], [-2, -0.1]], i.e. (y^3 A)_j = sum_i y_i^3 A_ij.
namespace aeolus::physics {

inline constexpr double kSpiralA[2][2] = {{-0.1, 2.0}, {-2.0, -0.1}};

inline void spiral_rhs(const double* y, double* dydt) {
  const double c0 = y[0] * y[0] * y[0], c1 = y[1] * y[1] * y[1];
  dydt[0] = c0 * kSpiralA[0][0] + c1 * kSpiralA[1][0];
  dydt[1] = c0 * kSpiralA[0][1] + c1 * kSpiralA[1][1];
}

}  // namespace aeolus::physics
