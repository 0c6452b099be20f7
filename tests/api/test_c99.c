/* Compiled as strict C99 (-std=c99 -pedantic-errors -Werror): proves that aeolus.h is C. Loads
 * DIR/linear_tanh.pt (DIR given on the command line; the model made by make_test_model), runs it on
 * a batch of 2 in C order and checks the numbers against the same arithmetic, then one refusal.
 * Exit status 0 on success. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aeolus.h"

int main(int argc, char** argv) {
  static const double w[2][3] = {{0.5, -0.25, 0.125}, {-1.0, 0.75, 0.3}};
  static const double b[2] = {0.1, -0.2};
  const float x[2][3] = {{0.5f, -1.0f, 2.0f}, {0.25f, 0.0f, -0.75f}};
  const int64_t in_shape[2] = {2, 3}, out_shape[2] = {2, 2};
  float y[2][2];
  aeolus_model* model = NULL;
  char path[4096];
  int major, minor, patch, i, o, k, failures = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: test_c99 DIR\n");
    return 2;
  }
  if (snprintf(path, sizeof path, "%s/linear_tanh.pt", argv[1]) >= (int)sizeof path) return 2;
  if (aeolus_version(&major, &minor, &patch) != AEOLUS_OK) return 1;
  printf("aeolus %d.%d.%d\n", major, minor, patch);
  if (aeolus_model_load(path, &model) != AEOLUS_OK) {
    fprintf(stderr, "load: %s\n", aeolus_last_error());
    return 1;
  }
  if (aeolus_model_forward(model, x, 2, in_shape, AEOLUS_FLOAT32, AEOLUS_LAYOUT_C, y, 2,
                           out_shape) != AEOLUS_OK) {
    fprintf(stderr, "forward: %s\n", aeolus_last_error());
    return 1;
  }
  for (i = 0; i < 2; ++i) {
    for (o = 0; o < 2; ++o) {
      double s = b[o];
      for (k = 0; k < 3; ++k) s += w[o][k] * x[i][k];
      if (fabs(y[i][o] - tanh(s)) > 1e-6) {
        fprintf(stderr, "y[%d][%d] = %.9g, expected %.9g\n", i, o, y[i][o], tanh(s));
        ++failures;
      }
    }
  }
  if (aeolus_model_forward(model, x, 2, in_shape, 3, AEOLUS_LAYOUT_C, y, 2, out_shape) !=
          AEOLUS_ERROR_ARGUMENT ||
      strstr(aeolus_last_error(), "dtype = 3") == NULL) {
    fprintf(stderr, "bad dtype not refused: %s\n", aeolus_last_error());
    ++failures;
  }
  if (aeolus_model_free(model) != AEOLUS_OK) ++failures;
  printf("%s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
