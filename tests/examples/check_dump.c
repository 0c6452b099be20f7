/* Checks the frames that examples/fortran-advection writes (its `output` stream file: int32 nx,
 * int32 ny, then per frame int64 step, float64 t, float64 q[ny][nx], x fastest):
 *
 *   check_dump nc DUMP FIELDS_NC [TOL]  every frame against the frame of FIELDS_NC (`aeolus run`'s
 *                                       output/fields.nc, variable q) at the same time: equal
 *                                       bit for bit, or within TOL (max |difference|) if given
 *   check_dump same DUMP1 DUMP2         the two runs' frames bit for bit (e.g. 1 and 2 ranks)
 *   check_dump mass RUN TOL             every frame's sum within TOL (relative) of the first's
 *   check_dump shift DUMP TOL           each frame at step n equal, within TOL, to the first
 *                                       frame moved n cells along +x (Courant number 1 along x)
 *   check_dump better RUN BASE REF FACTOR
 *                                       the relative L2 errors ||x - ref|| / ||ref|| of RUN's and
 *                                       BASE's last frames against REF's frame at that time:
 *                                       BASE's at least FACTOR times RUN's (both at the same time)
 *   check_dump loss FILE FACTOR         a loss history ('step loss' lines, '#' comments): the mean
 *                                       of the first 10 losses at least FACTOR times the mean of
 *                                       the last 10
 *
 * RUN, BASE and REF are dumps or `aeolus run` output files (netCDF: time, q(time, y, x)).
 *
 * Prints the measured differences; exits 0 if the check holds, 1 if not, 2 on a usage or file
 * error. */
#include <math.h>
#include <netcdf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int nx, ny, frames;
  int64_t* step;
  double* t;
  double* q; /* frames * ny * nx */
} dump;

static int read_dump(const char* path, dump* d) {
  FILE* f = fopen(path, "rb");
  int32_t n[2];
  size_t cells, cap = 0;
  memset(d, 0, sizeof *d);
  if (!f || fread(n, sizeof n[0], 2, f) != 2 || n[0] < 1 || n[1] < 1) {
    fprintf(stderr, "check_dump: %s: cannot read the header (int32 nx, ny)\n", path);
    if (f) fclose(f);
    return 1;
  }
  d->nx = n[0];
  d->ny = n[1];
  cells = (size_t)d->nx * (size_t)d->ny;
  for (;;) {
    int64_t step;
    double t;
    if (fread(&step, sizeof step, 1, f) != 1) break;
    if ((size_t)d->frames == cap) {
      cap = cap ? 2 * cap : 4;
      d->step = realloc(d->step, cap * sizeof *d->step);
      d->t = realloc(d->t, cap * sizeof *d->t);
      d->q = realloc(d->q, cap * cells * sizeof *d->q);
      if (!d->step || !d->t || !d->q) {
        fprintf(stderr, "check_dump: out of memory\n");
        fclose(f);
        return 1;
      }
    }
    if (fread(&t, sizeof t, 1, f) != 1 ||
        fread(d->q + (size_t)d->frames * cells, sizeof(double), cells, f) != cells) {
      fprintf(stderr, "check_dump: %s: frame %d is cut short\n", path, d->frames);
      fclose(f);
      return 1;
    }
    d->step[d->frames] = step;
    d->t[d->frames] = t;
    ++d->frames;
  }
  fclose(f);
  if (d->frames == 0) {
    fprintf(stderr, "check_dump: %s holds no frame\n", path);
    return 1;
  }
  return 0;
}

/* All frames of an `aeolus run` output file (time, q(time, y, x)) as a dump (step: the frame
 * index). */
static int read_nc(const char* path, dump* d) {
  int nc, tvar, qvar, dims[3], rc, f;
  size_t ntime, ny, nx;
  memset(d, 0, sizeof *d);
  if ((rc = nc_open(path, NC_NOWRITE, &nc)) != NC_NOERR) {
    fprintf(stderr, "check_dump: %s: %s\n", path, nc_strerror(rc));
    return 1;
  }
  rc = nc_inq_varid(nc, "time", &tvar);
  if (rc == NC_NOERR) rc = nc_inq_varid(nc, "q", &qvar);
  if (rc == NC_NOERR) rc = nc_inq_vardimid(nc, qvar, dims);
  if (rc == NC_NOERR) rc = nc_inq_dimlen(nc, dims[0], &ntime);
  if (rc == NC_NOERR) rc = nc_inq_dimlen(nc, dims[1], &ny);
  if (rc == NC_NOERR) rc = nc_inq_dimlen(nc, dims[2], &nx);
  if (rc != NC_NOERR || ntime == 0) {
    fprintf(stderr, "check_dump: %s: time or q(time, y, x): %s\n", path,
            rc != NC_NOERR ? nc_strerror(rc) : "no frame");
    nc_close(nc);
    return 1;
  }
  d->nx = (int)nx;
  d->ny = (int)ny;
  d->frames = (int)ntime;
  d->step = malloc(ntime * sizeof *d->step);
  d->t = malloc(ntime * sizeof *d->t);
  d->q = malloc(ntime * nx * ny * sizeof *d->q);
  if (!d->step || !d->t || !d->q || nc_get_var_double(nc, tvar, d->t) != NC_NOERR ||
      nc_get_var_double(nc, qvar, d->q) != NC_NOERR) {
    fprintf(stderr, "check_dump: %s: cannot read time and q\n", path);
    nc_close(nc);
    return 1;
  }
  for (f = 0; f < d->frames; ++f) d->step[f] = f;
  nc_close(nc);
  return 0;
}

/* A dump or a netCDF file (told apart by the first bytes: "CDF" or "\x89HDF"). */
static int read_any(const char* path, dump* d) {
  unsigned char magic[4] = {0, 0, 0, 0};
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "check_dump: %s: cannot open\n", path);
    return 1;
  }
  if (fread(magic, 1, 4, f) != 4) magic[0] = 0;
  fclose(f);
  if (memcmp(magic, "CDF", 3) == 0 || memcmp(magic, "\x89HDF", 4) == 0) return read_nc(path, d);
  return read_dump(path, d);
}

/* Max |a - b| over n values; *differ counts the cells that are not bitwise equal. */
static double max_diff(const double* a, const double* b, size_t n, size_t* differ) {
  double m = 0;
  size_t i;
  *differ = 0;
  for (i = 0; i < n; ++i) {
    if (a[i] != b[i]) ++*differ;
    if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
  }
  return m;
}

static int against_nc(const dump* d, const char* nc_path, int with_tol, double tol) {
  int nc, tvar, qvar, dims[3], rc, f, k, ok = 1;
  size_t ntime, nyx[2], cells = (size_t)d->nx * (size_t)d->ny;
  double *times, *frame;
  if ((rc = nc_open(nc_path, NC_NOWRITE, &nc)) != NC_NOERR) {
    fprintf(stderr, "check_dump: %s: %s\n", nc_path, nc_strerror(rc));
    return 2;
  }
  rc = nc_inq_varid(nc, "time", &tvar);
  if (rc == NC_NOERR) rc = nc_inq_varid(nc, "q", &qvar);
  if (rc == NC_NOERR) rc = nc_inq_vardimid(nc, qvar, dims);
  if (rc == NC_NOERR) rc = nc_inq_dimlen(nc, dims[0], &ntime);
  if (rc == NC_NOERR) rc = nc_inq_dimlen(nc, dims[1], &nyx[0]);
  if (rc == NC_NOERR) rc = nc_inq_dimlen(nc, dims[2], &nyx[1]);
  if (rc != NC_NOERR) {
    fprintf(stderr, "check_dump: %s: time or q(time, y, x): %s\n", nc_path, nc_strerror(rc));
    nc_close(nc);
    return 2;
  }
  if (nyx[0] != (size_t)d->ny || nyx[1] != (size_t)d->nx) {
    fprintf(stderr, "check_dump: %s has a %lu x %lu grid; the dump %d x %d\n", nc_path,
            (unsigned long)nyx[1], (unsigned long)nyx[0], d->nx, d->ny);
    nc_close(nc);
    return 2;
  }
  times = malloc(ntime * sizeof *times);
  frame = malloc(cells * sizeof *frame);
  if (!times || !frame || nc_get_var_double(nc, tvar, times) != NC_NOERR) {
    fprintf(stderr, "check_dump: %s: cannot read time\n", nc_path);
    nc_close(nc);
    return 2;
  }
  for (f = 0; f < d->frames; ++f) {
    size_t start[3] = {0, 0, 0}, count[3] = {1, 0, 0}, differ;
    double m;
    for (k = 0; k < (int)ntime && times[k] != d->t[f]; ++k) {
    }
    if (k == (int)ntime) {
      printf("frame at step %ld, t = %.17g: %s has no frame at that time: FAILED\n",
             (long)d->step[f], d->t[f], nc_path);
      ok = 0;
      continue;
    }
    start[0] = (size_t)k;
    count[1] = nyx[0];
    count[2] = nyx[1];
    if (nc_get_vara_double(nc, qvar, start, count, frame) != NC_NOERR) {
      fprintf(stderr, "check_dump: %s: cannot read q at frame %d\n", nc_path, k);
      nc_close(nc);
      return 2;
    }
    m = max_diff(d->q + (size_t)f * cells, frame, cells, &differ);
    printf("step %ld, t = %g: %lu of %lu cells differ from aeolus run, max |difference| %.3e\n",
           (long)d->step[f], d->t[f], (unsigned long)differ, (unsigned long)cells, m);
    if (with_tol ? !(m <= tol) : differ != 0) ok = 0;
  }
  nc_close(nc);
  free(times);
  free(frame);
  if (with_tol)
    printf("%s: every frame within %.1e of aeolus run\n", ok ? "ok" : "FAILED", tol);
  else
    printf("%s: every frame bitwise equal to aeolus run\n", ok ? "ok" : "FAILED");
  return !ok;
}

static int same(const dump* a, const dump* b) {
  size_t cells = (size_t)a->nx * (size_t)a->ny, differ;
  int f, ok = a->nx == b->nx && a->ny == b->ny && a->frames == b->frames;
  if (!ok) {
    printf("FAILED: the dumps have different grids or frame counts\n");
    return 1;
  }
  for (f = 0; f < a->frames; ++f) {
    double m = max_diff(a->q + (size_t)f * cells, b->q + (size_t)f * cells, cells, &differ);
    printf("step %ld: %lu cells differ, max |difference| %.3e\n", (long)a->step[f],
           (unsigned long)differ, m);
    if (differ != 0 || a->step[f] != b->step[f] || a->t[f] != b->t[f]) ok = 0;
  }
  printf("%s: the two runs are bitwise equal\n", ok ? "ok" : "FAILED");
  return !ok;
}

static int mass(const dump* d, double tol) {
  size_t cells = (size_t)d->nx * (size_t)d->ny, i;
  double m0 = 0, worst = 0;
  int f;
  for (f = 0; f < d->frames; ++f) {
    double m = 0, rel;
    for (i = 0; i < cells; ++i) m += d->q[(size_t)f * cells + i];
    if (f == 0) m0 = m;
    rel = fabs(m - m0) / fabs(m0);
    if (rel > worst) worst = rel;
    printf("step %ld: sum %.17g, relative change %.3e\n", (long)d->step[f], m, rel);
  }
  printf("%s: mass conserved to %.3e (tolerance %.1e)\n", worst <= tol ? "ok" : "FAILED", worst,
         tol);
  return !(worst <= tol);
}

static int shift(const dump* d, double tol) {
  size_t cells = (size_t)d->nx * (size_t)d->ny;
  double worst = 0;
  int f, i, j;
  for (f = 1; f < d->frames; ++f) {
    double m = 0;
    int s = (int)(d->step[f] % d->nx);
    for (j = 0; j < d->ny; ++j)
      for (i = 0; i < d->nx; ++i) {
        double a = d->q[(size_t)f * cells + (size_t)j * d->nx + i];
        double b = d->q[(size_t)j * d->nx + (i - s + d->nx) % d->nx];
        if (fabs(a - b) > m) m = fabs(a - b);
      }
    printf("step %ld: max |q - q0 moved %ld cells along x| = %.3e\n", (long)d->step[f],
           (long)d->step[f], m);
    if (m > worst) worst = m;
  }
  printf("%s: the exact shift to %.3e (tolerance %.1e)\n", worst <= tol ? "ok" : "FAILED", worst,
         tol);
  return !(worst <= tol) || d->frames < 2;
}

/* ||a - b|| / ||b|| over n values. */
static double rel_l2(const double* a, const double* b, size_t n) {
  double num = 0, den = 0;
  size_t i;
  for (i = 0; i < n; ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return sqrt(num / den);
}

/* The relative L2 error of d's last frame against ref's frame at the same time; -1 if ref has
 * no such frame or another grid. */
static double last_frame_error(const dump* d, const dump* ref, const char* name) {
  size_t cells = (size_t)d->nx * (size_t)d->ny;
  double t = d->t[d->frames - 1];
  int k;
  if (d->nx != ref->nx || d->ny != ref->ny) {
    printf("%s: a %d x %d grid; the reference %d x %d\n", name, d->nx, d->ny, ref->nx, ref->ny);
    return -1;
  }
  for (k = 0; k < ref->frames && ref->t[k] != t; ++k) {
  }
  if (k == ref->frames) {
    printf("%s: the reference has no frame at t = %.17g\n", name, t);
    return -1;
  }
  return rel_l2(d->q + (size_t)(d->frames - 1) * cells, ref->q + (size_t)k * cells, cells);
}

static int better(const dump* run, const dump* base, const dump* ref, double factor) {
  double e_run = last_frame_error(run, ref, "RUN"), e_base = last_frame_error(base, ref, "BASE");
  int ok;
  if (e_run < 0 || e_base < 0) return 1;
  if (run->t[run->frames - 1] != base->t[base->frames - 1]) {
    printf("FAILED: the last frames are at different times (%g, %g)\n", run->t[run->frames - 1],
           base->t[base->frames - 1]);
    return 1;
  }
  ok = e_base >= factor * e_run;
  printf("t = %g: relative L2 error against the reference: run %.4e, base %.4e, base/run %.3g\n",
         run->t[run->frames - 1], e_run, e_base, e_base / e_run);
  printf("%s: the run's error at least %g times smaller than the base's\n", ok ? "ok" : "FAILED",
         factor);
  return !ok;
}

static int loss(const char* path, double factor) {
  enum { W = 10 };
  FILE* f = fopen(path, "r");
  char line[256];
  double first = 0, window[W], last = 0, value;
  long step;
  int n = 0, i, ok;
  if (!f) {
    fprintf(stderr, "check_dump: %s: cannot open\n", path);
    return 2;
  }
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    if (sscanf(line, "%ld %lf", &step, &value) != 2 || !isfinite(value)) {
      fprintf(stderr, "check_dump: %s: line %d is not 'step loss': %s", path, n + 1, line);
      fclose(f);
      return 2;
    }
    if (n < W) first += value / W;
    window[n % W] = value;
    ++n;
  }
  fclose(f);
  if (n < 2 * W) {
    fprintf(stderr, "check_dump: %s holds %d losses; expected at least %d\n", path, n, 2 * W);
    return 2;
  }
  for (i = 0; i < W; ++i) last += window[i] / W;
  ok = first >= factor * last;
  printf("%d steps: mean loss of the first %d %.4e, of the last %d %.4e, ratio %.3g\n", n, W, first,
         W, last, first / last);
  printf("%s: the loss fell by at least %g\n", ok ? "ok" : "FAILED", factor);
  return !ok;
}

int main(int argc, char** argv) {
  dump a, b, c;
  if (argc >= 4 && strcmp(argv[1], "nc") == 0) {
    if (read_dump(argv[2], &a)) return 2;
    return against_nc(&a, argv[3], argc == 5, argc == 5 ? atof(argv[4]) : 0.0);
  }
  if (argc == 4 && strcmp(argv[1], "same") == 0) {
    if (read_dump(argv[2], &a) || read_dump(argv[3], &b)) return 2;
    return same(&a, &b);
  }
  if (argc == 4 && strcmp(argv[1], "mass") == 0) {
    if (read_any(argv[2], &a)) return 2;
    return mass(&a, atof(argv[3]));
  }
  if (argc == 4 && strcmp(argv[1], "shift") == 0) {
    if (read_dump(argv[2], &a)) return 2;
    return shift(&a, atof(argv[3]));
  }
  if (argc == 6 && strcmp(argv[1], "better") == 0) {
    if (read_any(argv[2], &a) || read_any(argv[3], &b) || read_any(argv[4], &c)) return 2;
    return better(&a, &b, &c, atof(argv[5]));
  }
  if (argc == 4 && strcmp(argv[1], "loss") == 0) return loss(argv[2], atof(argv[3]));
  fprintf(stderr,
          "usage: check_dump nc DUMP FIELDS_NC [TOL] | same DUMP1 DUMP2 | mass RUN TOL | "
          "shift DUMP TOL | better RUN BASE REF FACTOR | loss FILE FACTOR\n");
  return 2;
}
