#pragma once
// The one numeric vocabulary of Aeolus.
#include <cstdint>

namespace aeolus {
using real_t = double;         // all physics state and diagnostics
using index_t = std::int64_t;  // global cell counts and indices
}  // namespace aeolus
