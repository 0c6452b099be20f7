#pragma once
// Non-owning views of a rank's ghosted block: pointer + strides + extents. Kernels take these
// and nothing else, so a CUDA version can mirror them. Indices are local: (0,0,0) is the first
// owned cell; -halo .. count+halo-1 are valid along used dimensions.
#include <type_traits>

#include "grids/types.hpp"

namespace aeolus {

template <class T>
struct BasicFieldView {
  BasicFieldView() = default;
  // A mutable view converts to a read-only one.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  BasicFieldView(const BasicFieldView<U>& o)  // NOLINT(google-explicit-constructor)
      : origin(o.origin),
        nx(o.nx),
        ny(o.ny),
        nz(o.nz),
        hx(o.hx),
        hy(o.hy),
        hz(o.hz),
        sy(o.sy),
        sz(o.sz) {}

  T* origin = nullptr;             // address of owned cell (0,0,0)
  index_t nx = 1, ny = 1, nz = 1;  // owned counts
  int hx = 0, hy = 0, hz = 0;      // halo widths
  index_t sy = 0, sz = 0;          // strides (x is contiguous)

  T& operator()(index_t i, index_t j = 0, index_t k = 0) const {
    return origin[i + j * sy + k * sz];
  }
  index_t offset(index_t i, index_t j = 0, index_t k = 0) const { return i + j * sy + k * sz; }
};

using FieldView = BasicFieldView<real_t>;
using ConstFieldView = BasicFieldView<const real_t>;

}  // namespace aeolus
