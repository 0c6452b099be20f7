#include "emulators/flux_cnn_stencil.hpp"

namespace aeolus::emulators {

void stencil_fluxes_2d(ConstFieldView q, ConstFieldView cx, ConstFieldView cy, const real_t* wx,
                       const real_t* wy, int s, int transverse, FieldView gx, FieldView gy) {
  const index_t nx = q.nx, ny = q.ny, plane = nx * ny;
  for (index_t j = 0; j < ny; ++j)
    for (index_t i = 0; i < nx; ++i) {
      const index_t c = j * nx + i;
      real_t sx = 0, sy = 0;
      for (int m = 0; m < transverse; ++m)
        for (int k = 0; k < s; ++k) {
          const int w = m * s + k;
          const index_t along = k - s / 2, across = m - transverse / 2;
          sx += wx[w * plane + c] * q(i + along, j + across);
          sy += wy[w * plane + c] * q(i + across, j + along);
        }
      gx(i, j) = cx(i, j) * sx;
      gy(i, j) = cy(i, j) * sy;
    }
}

}  // namespace aeolus::emulators
