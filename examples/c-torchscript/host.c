/* A C host that runs TorchScript models exported by PyTorch (export_models.py) through the Aeolus
 * C API and checks them against PyTorch's own outputs:
 *
 *   c_torchscript_host DIR     DIR holds mlp.pt, cnn.pt and NAME.in / NAME.out for each
 *
 * mlp (float64, input [5, 8]): in C order, and in Fortran order from a column-major copy of the
 * input (what a Fortran caller holds), whose column-major output is compared element by
 * element. cnn (float32, input [2, 1, 12, 10]): in C order.
 * Prints the largest relative difference of each run; exits 1 if one exceeds 1e-6. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aeolus.h"

#define TOLERANCE 1e-6

/* An array as export_models.py writes it: int32 rank, int32 dtype (1 float32, 2 float64),
 * int64 shape[rank], then the values in C order. */
typedef struct {
  int rank, dtype;
  int64_t shape[AEOLUS_MAX_RANK];
  size_t size; /* elements */
  void* data;
} array;

static size_t element_size(int dtype) { return dtype == AEOLUS_FLOAT32 ? 4 : 8; }

static int read_array(const char* dir, const char* name, array* a) {
  char path[4096];
  FILE* f;
  int32_t head[2];
  int d, ok;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  ok = f && fread(head, sizeof head[0], 2, f) == 2 && head[0] >= 1 && head[0] <= AEOLUS_MAX_RANK &&
       (head[1] == AEOLUS_FLOAT32 || head[1] == AEOLUS_FLOAT64);
  if (ok) {
    a->rank = head[0];
    a->dtype = head[1];
    ok = fread(a->shape, sizeof a->shape[0], (size_t)a->rank, f) == (size_t)a->rank;
  }
  if (ok) {
    a->size = 1;
    for (d = 0; d < a->rank; ++d) a->size *= (size_t)a->shape[d];
    a->data = malloc(a->size * element_size(a->dtype));
    ok = a->data && fread(a->data, element_size(a->dtype), a->size, f) == a->size;
  }
  if (f) fclose(f);
  if (!ok) fprintf(stderr, "%s: cannot read (rank, dtype, shape, values)\n", path);
  return !ok;
}

static double value(const array* a, size_t i) {
  return a->dtype == AEOLUS_FLOAT32 ? (double)((const float*)a->data)[i]
                                    : ((const double*)a->data)[i];
}

/* Largest |got - expected| / |expected| over the elements, with |expected| floored at 1e-12
 * times the largest |expected| (so an exact zero compares absolutely at that scale). */
static double max_relative(const array* got, const array* expected) {
  double scale = 0, worst = 0;
  size_t i;
  for (i = 0; i < expected->size; ++i) scale = fmax(scale, fabs(value(expected, i)));
  for (i = 0; i < expected->size; ++i) {
    const double e = value(expected, i);
    const double r = fabs(value(got, i) - e) / fmax(fabs(e), 1e-12 * scale);
    if (r > worst) worst = r;
  }
  return worst;
}

static int report(const char* what, double rel) {
  int ok = rel <= TOLERANCE;
  printf("%-32s max relative difference to PyTorch %.3e  %s\n", what, rel, ok ? "ok" : "FAILED");
  return !ok;
}

/* Runs `model` on `in` (C order) into a new array of the shape of `expected`. */
static int forward_c(aeolus_model* model, const array* in, const array* expected, array* out) {
  *out = *expected;
  out->data = calloc(out->size, element_size(out->dtype));
  if (!out->data) return 1;
  if (aeolus_model_forward(model, in->data, in->rank, in->shape, in->dtype, AEOLUS_LAYOUT_C,
                           out->data, out->rank, out->shape) != AEOLUS_OK) {
    fprintf(stderr, "aeolus_model_forward: %s\n", aeolus_last_error());
    return 1;
  }
  return 0;
}

/* The rank-2 float64 MLP in Fortran order: x(b, f) at b + nb f, as a Fortran array x(nb, nf)
 * holds it; the output y(b, o) comes back at b + nb o. */
static int forward_fortran(aeolus_model* model, const array* in, const array* expected,
                           array* out) {
  const int64_t nb = in->shape[0], nf = in->shape[1], no = expected->shape[1];
  const double* x = in->data;
  double *xf = malloc(in->size * sizeof *xf), *yf = calloc(expected->size, sizeof *yf), *y;
  int64_t b, k;
  int rc = 0;
  *out = *expected;
  out->data = y = malloc(expected->size * sizeof *y);
  if (!xf || !yf || !y) return 1;
  for (b = 0; b < nb; ++b)
    for (k = 0; k < nf; ++k) xf[b + nb * k] = x[b * nf + k];
  if (aeolus_model_forward(model, xf, 2, in->shape, AEOLUS_FLOAT64, AEOLUS_LAYOUT_FORTRAN, yf, 2,
                           expected->shape) != AEOLUS_OK) {
    fprintf(stderr, "aeolus_model_forward (Fortran order): %s\n", aeolus_last_error());
    rc = 1;
  }
  for (b = 0; b < nb; ++b) /* back to C order, to compare with PyTorch's */
    for (k = 0; k < no; ++k) y[b * no + k] = yf[b + nb * k];
  free(xf);
  free(yf);
  return rc;
}

int main(int argc, char** argv) {
  char path[4096];
  aeolus_model *mlp = NULL, *cnn = NULL;
  array mlp_in, mlp_out, cnn_in, cnn_out, got;
  int failures = 0, major, minor, patch;
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR (written by export_models.py)\n", argv[0]);
    return 2;
  }
  aeolus_version(&major, &minor, &patch);
  printf("Aeolus %d.%d.%d\n", major, minor, patch);
  if (read_array(argv[1], "mlp.in", &mlp_in) || read_array(argv[1], "mlp.out", &mlp_out) ||
      read_array(argv[1], "cnn.in", &cnn_in) || read_array(argv[1], "cnn.out", &cnn_out))
    return 2;
  snprintf(path, sizeof path, "%s/mlp.pt", argv[1]);
  if (aeolus_model_load(path, &mlp) != AEOLUS_OK) {
    fprintf(stderr, "%s\n", aeolus_last_error());
    return 1;
  }
  snprintf(path, sizeof path, "%s/cnn.pt", argv[1]);
  if (aeolus_model_load(path, &cnn) != AEOLUS_OK) {
    fprintf(stderr, "%s\n", aeolus_last_error());
    return 1;
  }

  if (forward_c(mlp, &mlp_in, &mlp_out, &got)) return 1;
  failures += report("mlp (scripted, float64), C", max_relative(&got, &mlp_out));
  free(got.data);
  if (forward_fortran(mlp, &mlp_in, &mlp_out, &got)) return 1;
  failures += report("mlp, Fortran order", max_relative(&got, &mlp_out));
  free(got.data);
  if (forward_c(cnn, &cnn_in, &cnn_out, &got)) return 1;
  failures += report("cnn (traced, float32), C", max_relative(&got, &cnn_out));
  free(got.data);

  /* A wrong input shape is refused with LibTorch's reason, not a crash. */
  mlp_in.shape[1] = 7;
  mlp_in.size = (size_t)(mlp_in.shape[0] * 7);
  if (aeolus_model_forward(mlp, mlp_in.data, 2, mlp_in.shape, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C,
                           mlp_out.data, 2, mlp_out.shape) != AEOLUS_ERROR_MODEL) {
    printf("FAILED: an input of 7 features was not refused\n");
    ++failures;
  } else {
    printf("an input of 7 features refused: %s\n", aeolus_last_error());
  }

  aeolus_model_free(mlp);
  aeolus_model_free(cnn);
  free(mlp_in.data);
  free(mlp_out.data);
  free(cnn_in.data);
  free(cnn_out.data);
  printf("%s\n", failures ? "FAILED" : "all models agree with PyTorch");
  return failures != 0;
}
