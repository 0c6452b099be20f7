/* Aeolus C API (C99). The contract for host codes in C, Fortran (api/aeolus.f90 wraps it) and
 * C++: opaque handles, plain C types, and a status from every call.
 *
 * Errors: every call returns AEOLUS_OK (0) or an error status; aeolus_last_error() gives the
 * message of the last failed call on the calling thread (it names the argument, its value and
 * what was expected, or the file and what is wrong with it). Nothing prints, nothing aborts:
 * every exception is caught at this boundary.
 *
 * Threads: calls on different handles may run on different threads at once; a handle is used by
 * one thread at a time.
 */
#ifndef AEOLUS_H
#define AEOLUS_H

#include <stdint.h>

#if defined(__GNUC__)
#define AEOLUS_API __attribute__((visibility("default")))
#else
#define AEOLUS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Statuses. Plain ints (not an enum type) so that Fortran's c_int and any value a caller passes
 * are well defined. */
typedef int aeolus_status;
#define AEOLUS_OK 0
#define AEOLUS_ERROR_ARGUMENT 1 /* a null pointer, a bad rank, shape, dtype or layout */
#define AEOLUS_ERROR_IO 2       /* a file that does not exist or cannot be read */
#define AEOLUS_ERROR_MODEL 3    /* not a model, a newer format, forward failed, shape mismatch */
#define AEOLUS_ERROR_MEMORY 4   /* out of memory */
#define AEOLUS_ERROR_INTERNAL 5 /* anything else (a bug: please report the message) */

/* Element types and memory orders of the caller's arrays. */
typedef int aeolus_dtype;
#define AEOLUS_FLOAT32 1
#define AEOLUS_FLOAT64 2
typedef int aeolus_layout;
/* Row major: the last index runs fastest. */
#define AEOLUS_LAYOUT_C 1
/* Column major: the first index runs fastest, as in a Fortran array x(n1, ..., nk). */
#define AEOLUS_LAYOUT_FORTRAN 2

/* Highest array rank that aeolus_model_forward accepts. */
#define AEOLUS_MAX_RANK 8

/* A loaded model. */
typedef struct aeolus_model aeolus_model;

/* The message of the last failed call on this thread ("" if none has failed). The pointer stays
 * valid until the next failing call on this thread; successful calls leave it unchanged. */
AEOLUS_API const char* aeolus_last_error(void);

/* This library's version (major.minor.patch). */
AEOLUS_API aeolus_status aeolus_version(int* major, int* minor, int* patch);

/* Loads the model file `path` onto the CPU: a TorchScript file (torch.jit.save of a scripted or
 * traced module whose forward takes one tensor and returns one tensor). On success *out is a new
 * handle (free it with aeolus_model_free); on failure *out is NULL. A missing or unreadable file
 * gives AEOLUS_ERROR_IO; a file that is not a TorchScript archive (not a zip, truncated, no
 * TorchScript records), was written by a newer PyTorch than the LibTorch this library links
 * (both versions named), or has no forward method gives AEOLUS_ERROR_MODEL. */
AEOLUS_API aeolus_status aeolus_model_load(const char* path, aeolus_model** out);

/* Runs the model's forward on the array `in` and writes its output into `out`.
 *
 * in, out: the caller's arrays, of element type `dtype` and memory order `layout` (both arrays).
 * in_rank, out_rank: 1 to AEOLUS_MAX_RANK. in_shape, out_shape: the extents (>= 0), in the
 * array's logical order: for AEOLUS_LAYOUT_FORTRAN, the extents as the array is declared in
 * Fortran, x(n1, ..., nk) -> {n1, ..., nk}; the model sees a tensor of that shape whose element
 * (i1, ..., ik) is x(i1, ..., ik).
 *
 * Copies: `in` is not copied. It is wrapped as a tensor over the caller's memory: contiguous for
 * C order, a strided view for Fortran order (strides 1, n1, n1*n2, ...). The view is chosen over
 * a transposed copy because it costs nothing when the model's first operation reads it in any
 * order (element-wise operations, matmul through BLAS's transposed forms); an operation that
 * needs contiguous memory (convolutions) makes that copy inside LibTorch, no more than a copy
 * here would cost. The model must not modify its input in place. If `dtype` is not the dtype of
 * the model's parameters, `in` is converted to it (one copy). The output is computed by LibTorch
 * into its own memory and copied once into `out`, converted to `dtype` and written in `layout`.
 *
 * Errors: a null pointer, a rank or extent out of range, an unknown dtype or layout give
 * AEOLUS_ERROR_ARGUMENT; a failure inside forward (e.g. an input shape the model does not take:
 * the message names the input shape and LibTorch's reason) or an output whose shape is not
 * out_shape (both named) gives AEOLUS_ERROR_MODEL. `out` is unchanged on an error.
 *
 * `in` and `out` may be the same array (the output is copied only after forward has finished). */
AEOLUS_API aeolus_status aeolus_model_forward(aeolus_model* model, const void* in, int in_rank,
                                              const int64_t* in_shape, aeolus_dtype dtype,
                                              aeolus_layout layout, void* out, int out_rank,
                                              const int64_t* out_shape);

/* Frees a model; NULL is accepted and does nothing. */
AEOLUS_API aeolus_status aeolus_model_free(aeolus_model* model);

#ifdef __cplusplus
}
#endif

#endif /* AEOLUS_H */
