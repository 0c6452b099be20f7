#pragma once
// The training-dataset layout written by `aeolus dataset` and read by emulator training and
// evaluation. One CF-1.8 NetCDF-4 file per split: CASE/data/{train,valid,test}.nc
//
// dimensions: trajectory (N), time (T+1 frames, frame 0 = initial state), y (ny), x (nx)
//             (1D cases: y = 1; 3D cases add z before y; not used yet)
// variables:
//   double x(x), y(y)                           cell centres (m)
//   double time(time)                           frame time since trajectory start (s)
//   double q(trajectory, time, y, x)            tracer (cell averages), units "1"
//   double u_face(trajectory, y, x)             normal velocity on the low x-face of each cell (m
//   s-1) double v_face(trajectory, y, x)             normal velocity on the low y-face of each cell
//   (m s-1) int64  seed(trajectory)                     initial-condition seed of each trajectory
// global attributes:
//   Conventions = "CF-1.8", aeolus_complete = 1, dt_frame (s, simulated time between frames),
//   dx, dy (m), case_name, config_hash, velocity_type, split
// Face velocities are steady in every velocity type we ship (constant, rotating).
namespace aeolus::io::dataset {
inline constexpr const char* kTracer = "q";
inline constexpr const char* kUFace = "u_face";
inline constexpr const char* kVFace = "v_face";
inline constexpr const char* kSeed = "seed";
inline constexpr const char* kDtFrame = "dt_frame";
}  // namespace aeolus::io::dataset
