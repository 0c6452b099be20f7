/* Online training of a model exported by PyTorch, from a strict C99 host: DIR/mlp.pt (a
 * torch.jit.script'ed MLP, 3 -> 8 -> 2, float64, written by test_online_training_python.py) is
 * trained with Adam through the C API; the trained model and the state are saved; the inputs and
 * the trained model's outputs are written to DIR/outputs.txt for PyTorch to compare with its own
 * torch.jit.load of DIR/trained.pt.
 *   test_online_training_python DIR */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aeolus.h"

#define ROWS 32

static int failed(const char* what) {
  fprintf(stderr, "test_online_training_python: %s: %s\n", what, aeolus_last_error());
  return 1;
}

int main(int argc, char** argv) {
  char model_path[1024], config[1024], trained[1024], state[1024], outputs[1024];
  double x[ROWS * 3], y[ROWS * 2], out[ROWS * 2], loss = 0, first = 0;
  const int64_t xs[2] = {ROWS, 3}, ys[2] = {ROWS, 2};
  aeolus_model* m = NULL;
  aeolus_trainer* t = NULL;
  FILE* f;
  int i, k, s;
  if (argc != 2 || strlen(argv[1]) > 900) {
    fprintf(stderr, "usage: test_online_training_python DIR\n");
    return 2;
  }
  sprintf(model_path, "%s/mlp.pt", argv[1]);
  sprintf(config, "%s/train.yaml", argv[1]);
  sprintf(trained, "%s/trained.pt", argv[1]);
  sprintf(state, "%s/trained.state", argv[1]);
  sprintf(outputs, "%s/outputs.txt", argv[1]);
  f = fopen(config, "w");
  if (!f) return 1;
  fputs("training:\n  optimizer: adam\n  learning_rate: 0.01\n", f);
  fclose(f);
  for (i = 0; i < ROWS; ++i) {
    for (k = 0; k < 3; ++k) x[i * 3 + k] = sin(0.3 * i + k);
    y[i * 2] = x[i * 3] * x[i * 3 + 1];
    y[i * 2 + 1] = cos(x[i * 3 + 2]);
  }
  if (aeolus_model_load(model_path, &m) != AEOLUS_OK) return failed("load");
  if (aeolus_trainer_create(m, config, "training", AEOLUS_COMM_NONE, &t) != AEOLUS_OK)
    return failed("create");
  for (s = 0; s < 500; ++s) {
    if (aeolus_trainer_step(t, x, 2, xs, y, 2, ys, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, &loss) !=
        AEOLUS_OK)
      return failed("step");
    if (s == 0) first = loss;
  }
  printf("loss %g after 1 step, %g after 500\n", first, loss);
  if (!(loss < first / 100)) {
    fprintf(stderr, "test_online_training_python: the loss fell from %g to %g only\n", first,
            loss);
    return 1;
  }
  if (aeolus_trainer_save(t, trained, state) != AEOLUS_OK) return failed("save");
  if (aeolus_trainer_free(t) != AEOLUS_OK) return failed("free");
  if (aeolus_model_forward(m, x, 2, xs, AEOLUS_FLOAT64, AEOLUS_LAYOUT_C, out, 2, ys) != AEOLUS_OK)
    return failed("forward");
  f = fopen(outputs, "w");
  if (!f) return 1;
  for (i = 0; i < ROWS; ++i)
    fprintf(f, "%.17g %.17g %.17g %.17g %.17g\n", x[i * 3], x[i * 3 + 1], x[i * 3 + 2],
            out[i * 2], out[i * 2 + 1]);
  fclose(f);
  aeolus_model_free(m);
  return 0;
}
