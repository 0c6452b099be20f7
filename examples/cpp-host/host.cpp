// A C++17 MPI host on the header-only C++ API (aeolus.hpp, namespace aeolus::host):
//
//   mpiexec -n 2 cpp_host AFFINE_MODEL CASE_DIR
//
// AFFINE_MODEL: a TorchScript file whose forward is y = 2 x + 1 (float64; make_model.py writes
// one). CASE_DIR: case/ here, an advection case whose classical stepper advances the host's own
// rows of a 32 x 32 grid. Checks real numbers and exits 1 if one is off:
//  - the model: y = 2 x + 1 exactly, in C and Fortran order; a missing file is an Error
//    with AEOLUS_ERROR_IO;
//  - the stepper: mass conserved to round-off, no new extrema, and the pulse's maximum in the
//    cell where the exact solution has it; an array of the wrong size is an Error.
#include <mpi.h>

#include <aeolus.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace ae = aeolus::host;

namespace {

int failures = 0;

void expect(bool ok, int rank, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "[rank %d] FAILED: %s\n", rank, what.c_str());
    ++failures;
  }
}

void check_model(const std::string& path, int rank) {
  ae::Model model(path);
  const std::vector<double> x{-1.5, 0.0, 0.25, 3.0, 1e3, -7.0};
  for (auto layout : {ae::Layout::C, ae::Layout::Fortran}) {
    const std::vector<double> y = model.forward(x, {2, 3}, {2, 3}, layout);
    for (size_t i = 0; i < x.size(); ++i) {
      expect(y[i] == 2 * x[i] + 1, rank, "model: y[" + std::to_string(i) + "] is not 2 x + 1");
    }
  }
  try {
    ae::Model missing(path + ".missing");
    expect(false, rank, "a missing model file was loaded");
  } catch (const ae::Error& e) {
    expect(e.status() == AEOLUS_ERROR_IO, rank, std::string("missing model: ") + e.what());
    if (rank == 0) std::printf("model: y = 2x + 1 in C and Fortran order; refused: %s\n", e.what());
  }
}

double sum(const std::vector<double>& q, MPI_Comm comm) {
  double local = 0, total = 0;
  for (double v : q) local += v;
  MPI_Allreduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, comm);
  return total;
}

void check_stepper(const std::string& case_dir, int rank, int size) {
  // The host's decomposition: rows along y, n / size each (the first ranks one more).
  const int64_t n = 32, rows = n / size + (rank < n % size ? 1 : 0);
  const int64_t first_row = rank * (n / size) + std::min<int64_t>(rank, n % size);
  ae::Stepper st(case_dir, MPI_Comm_c2f(MPI_COMM_WORLD), {n, n}, {0, first_row}, {n, rows},
                 "classical");
  expect(st.name() == "classical" && !st.fixed_step(), rank, "stepper name or fixed step");

  // The host's initial state: point values of the case's Gaussian at the cell centres (the host
  // owns its state; the stepper only advances it).
  std::vector<double> q(size_t(n * rows));
  const double h = 1.0 / n;
  for (int64_t j = 0; j < rows; ++j)
    for (int64_t i = 0; i < n; ++i) {
      const double x = (i + 0.5) * h - 0.3, y = (first_row + j + 0.5) * h - 0.3;
      q[size_t(j * n + i)] = std::exp(-(x * x + y * y) / (2 * 0.08 * 0.08));
    }
  const double mass0 = sum(q, MPI_COMM_WORLD);
  double lo = *std::min_element(q.begin(), q.end()), hi = *std::max_element(q.begin(), q.end());
  MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);

  const double t_end = 0.25;
  double t = 0;
  int steps = 0;
  while (t < t_end) {
    const double dt = std::min(st.max_dt(q, t), t_end - t);
    st.step(q, t, dt);
    ++steps;
  }
  const double mass = sum(q, MPI_COMM_WORLD), rel = std::abs(mass - mass0) / mass0;
  expect(rel < 1e-13, rank, "mass changed by " + std::to_string(rel));

  // No new extrema (van Leer is TVD), and the maximum where the exact solution has it: the
  // centre (0.3, 0.3) + t_end (1, 0.5) = (0.55, 0.425), in cell (17, 13).
  struct {
    double value;
    int cell;
  } local{-1, -1}, best{};
  for (size_t k = 0; k < q.size(); ++k) {
    if (q[k] > local.value) local = {q[k], int(first_row * n) + int(k)};
  }
  MPI_Allreduce(&local, &best, 1, MPI_DOUBLE_INT, MPI_MAXLOC, MPI_COMM_WORLD);
  double qmin = *std::min_element(q.begin(), q.end());
  MPI_Allreduce(MPI_IN_PLACE, &qmin, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  expect(qmin >= lo && best.value <= hi, rank, "new extrema");
  expect(best.cell % n == 17 && best.cell / n == 13, rank,
         "the maximum is in cell (" + std::to_string(best.cell % n) + ", " +
             std::to_string(best.cell / n) + "), not (17, 13)");
  if (rank == 0) {
    std::printf(
        "stepper %s on %d rank(s): %d steps to t = %g, mass relative change %.2e, min %.3e, "
        "max %.6f in cell (%d, %d)\n",
        st.name().c_str(), size, steps, t, rel, qmin, best.value, int(best.cell % n),
        int(best.cell / n));
  }

  // An array that is not the owned box: an ae::Error naming both.
  std::vector<double> wrong(q.size() - 1);
  try {
    st.max_dt(wrong, t);
    expect(false, rank, "a wrongly sized array was accepted");
  } catch (const ae::Error& e) {
    expect(e.status() == AEOLUS_ERROR_ARGUMENT, rank, e.what());
    if (rank == 0) std::printf("refused: %s\n", e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc != 3) {
    if (rank == 0) std::fprintf(stderr, "usage: %s AFFINE_MODEL CASE_DIR\n", argv[0]);
    MPI_Finalize();
    return 2;
  }
  try {
    const auto v = ae::version();
    if (rank == 0) std::printf("Aeolus %d.%d.%d\n", v.major, v.minor, v.patch);
    check_model(argv[1], rank);
    check_stepper(argv[2], rank, size);  // the Stepper is freed (collectively) on return
    ae::finalize();
  } catch (const ae::Error& e) {
    std::fprintf(stderr, "[rank %d] ae::Error %d: %s\n", rank, e.status(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) std::printf("%s\n", total ? "FAILED" : "all checks passed");
  MPI_Finalize();
  return total != 0;
}
