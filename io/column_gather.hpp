#pragma once
// Per-column vectors of a latitude-band decomposition (index jl * nlon + i over the rank's owned
// rows: surface fluxes, boundary-layer heights) gathered onto rank 0 in global order, for the
// writers and for networks that run on the global field.
#include <mpi.h>

#include <vector>

#include "grids/types.hpp"

namespace aeolus::io {

// Rows of every rank in global order on rank 0 (empty elsewhere); latitude bands are contiguous
// in rank order. Collective.
std::vector<real_t> gather_columns(MPI_Comm comm, const std::vector<real_t>& local);

}  // namespace aeolus::io
