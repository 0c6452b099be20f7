/* A C99 host code with its own MPI decomposition (a Cartesian communicator of rows along y)
 * that advances its own array with an Aeolus stepper through the C API, and checks the result
 * bitwise against `aeolus run` of the same case (run by run_stepper_host.cmake in between):
 *
 *   test_stepper_host write CASE_DIR   writes CASE_DIR/case.yaml (no MPI)
 *   test_stepper_host check CASE_DIR   under mpirun, after `aeolus run CASE_DIR`: reads the
 *                                      initial frame of output/fields.nc, steps, compares the
 *                                      later frames cell by cell
 *
 * The host calls MPI_Init and MPI_Finalize itself; Aeolus starts and ends PETSc. */
#include <mpi.h>
#include <netcdf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aeolus.h"

/* 32 x 32 cells, u = (1, 0.5): the CFL step 0.5 / 48 exceeds the host's step 2^-7 (time.dt_max
 * of the case), so `aeolus run` takes exactly that step too: frames at 0, 1/16, 1/8. */
static const char* kCase =
    "grid:\n"
    "  dim: 2\n"
    "  n: [32, 32]\n"
    "  periodic: [true, true]\n"
    "physics:\n"
    "  equation: advection\n"
    "  velocity:\n"
    "    type: constant\n"
    "    u: [1.0, 0.5]\n"
    "  initial_condition:\n"
    "    type: gaussian\n"
    "    center: [0.3, 0.3]\n"
    "    radius: 0.08\n"
    "stepper:\n"
    "  type: classical\n"
    "  scheme:\n"
    "    reconstruction: van_leer\n"
    "    time_integrator: ssprk3\n"
    "time:\n"
    "  t_end: 0.125\n"
    "  cfl: 0.5\n"
    "  dt_max: 0.0078125\n"
    "output:\n"
    "  interval: 0.0625\n"
    "log:\n"
    "  progress_every: 1000\n";
#define N 32
#define HOST_DT 0.0078125
#define STEPS_PER_FRAME 8

static int failures = 0;

static void fail(int rank, const char* what) {
  fprintf(stderr, "[rank %d] FAILED: %s\n", rank, what);
  ++failures;
}

static int write_case(const char* dir) {
  char path[4096];
  FILE* f;
  snprintf(path, sizeof path, "%s/case.yaml", dir);
  f = fopen(path, "w");
  if (!f || fputs(kCase, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    return 1;
  }
  return 0;
}

/* Frame `frame` of q on this rank's box, x fastest: the host's layout. */
static int read_frame(const char* dir, int frame, const int64_t* start, const int64_t* count,
                      double* q) {
  char path[4096];
  int nc, var, rc;
  size_t from[3], n[3];
  snprintf(path, sizeof path, "%s/output/fields.nc", dir);
  if ((rc = nc_open(path, NC_NOWRITE, &nc)) != NC_NOERR) {
    fprintf(stderr, "%s: %s\n", path, nc_strerror(rc));
    return 1;
  }
  from[0] = (size_t)frame;
  from[1] = (size_t)start[1];
  from[2] = (size_t)start[0];
  n[0] = 1;
  n[1] = (size_t)count[1];
  n[2] = (size_t)count[0];
  rc = nc_inq_varid(nc, "q", &var);
  if (rc == NC_NOERR) rc = nc_get_vara_double(nc, var, from, n, q);
  nc_close(nc);
  if (rc != NC_NOERR) fprintf(stderr, "%s: q: %s\n", path, nc_strerror(rc));
  return rc != NC_NOERR;
}

static int check(const char* dir) {
  const int64_t global_n[2] = {N, N};
  int size, rank, dims[2] = {1, 0}, periods[2] = {1, 1}, coords[2], status, frame, k, total = 0;
  int64_t start[2], count[2];
  size_t i, cells;
  double *q, *expect, t = 0.0, dt;
  MPI_Comm rows;
  aeolus_stepper* s = NULL;
  const char* name = NULL;
  char what[512];

  MPI_Comm_size(MPI_COMM_WORLD, &size);
  dims[1] = size;
  MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &rows);
  MPI_Comm_rank(rows, &rank);
  MPI_Cart_coords(rows, rank, 2, coords);
  start[0] = 0;
  count[0] = N;
  count[1] = N / size;
  start[1] = coords[1] * count[1];
  cells = (size_t)(count[0] * count[1]);
  q = malloc(cells * sizeof *q);
  expect = malloc(cells * sizeof *expect);
  if (!q || !expect || read_frame(dir, 0, start, count, q)) return 1;

  /* A stepper name the registry does not have: refused, with the valid ones listed. */
  status = aeolus_stepper_create(dir, "nope", MPI_Comm_c2f(rows), 2, global_n, start, count, &s);
  if (status != AEOLUS_ERROR_ARGUMENT || s != NULL ||
      !strstr(aeolus_last_error(),
              "stepper = \"nope\" is unknown; expected one of: classical, "
              "emulator"))
    fail(rank, aeolus_last_error());

  status = aeolus_stepper_create(dir, NULL, MPI_Comm_c2f(rows), 2, global_n, start, count, &s);
  if (status != AEOLUS_OK) {
    fail(rank, aeolus_last_error());
    return 1;
  }
  if (aeolus_stepper_name(s, &name) != AEOLUS_OK || strcmp(name, "classical") != 0)
    fail(rank, "stepper name is not classical");
  for (frame = 1; frame <= 2; ++frame) {
    for (k = 0; k < STEPS_PER_FRAME; ++k) {
      if (aeolus_stepper_max_dt(s, q, t, &dt) != AEOLUS_OK) fail(rank, aeolus_last_error());
      if (dt <= HOST_DT) fail(rank, "max_dt is not above the host's step");
      dt = HOST_DT;
      if (aeolus_stepper_step(s, q, &t, &dt) != AEOLUS_OK) fail(rank, aeolus_last_error());
    }
    if (t != frame * STEPS_PER_FRAME * HOST_DT) fail(rank, "t is not the frame's time");
    if (read_frame(dir, frame, start, count, expect)) return 1;
    for (i = 0; i < cells; ++i) {
      if (q[i] != expect[i]) {
        snprintf(what, sizeof what, "frame %d, cell %lu of the box: %.17g, aeolus run %.17g", frame,
                 (unsigned long)i, q[i], expect[i]);
        fail(rank, what);
        break;
      }
    }
  }
  if (aeolus_stepper_free(s) != AEOLUS_OK) fail(rank, aeolus_last_error());
  if (aeolus_finalize() != AEOLUS_OK) fail(rank, aeolus_last_error());
  free(q);
  free(expect);
  MPI_Comm_free(&rows);
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0 && total == 0) printf("%d rank(s): 16 steps bitwise equal to aeolus run\n", size);
  return total != 0;
}

int main(int argc, char** argv) {
  int rc;
  if (argc == 3 && strcmp(argv[1], "write") == 0) return write_case(argv[2]);
  if (argc != 3 || strcmp(argv[1], "check") != 0) {
    fprintf(stderr, "usage: %s write|check CASE_DIR\n", argv[0]);
    return 2;
  }
  /* Before MPI_Init: refused, and named (the host owns MPI; Aeolus never starts it). */
  if (aeolus_initialize() != AEOLUS_ERROR_ARGUMENT ||
      !strstr(aeolus_last_error(), "aeolus_initialize: MPI is not initialised")) {
    fprintf(stderr, "FAILED: aeolus_initialize before MPI_Init: %s\n", aeolus_last_error());
    return 1;
  }
  MPI_Init(&argc, &argv);
  rc = check(argv[2]);
  MPI_Finalize();
  return rc;
}
