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
#define AEOLUS_ERROR_CASE 6     /* a case.yaml that is invalid or cannot give what was asked */
#define AEOLUS_ERROR_NUMERICS 7 /* a step that failed (non-finite state, too long a step) */

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

/* ---- Steppers: an Aeolus scheme or emulator advancing the host's own array ----------------
 *
 * A host code with its own time loop and its own domain decomposition builds a stepper that
 * `aeolus run` would build for a case directory (the same case-type and stepper registries:
 * a classical scheme, an emulator, or a stepper registered by name), and advances its array by
 * one step per call.
 *
 * MPI. Communicators cross this header as Fortran handles (MPI_Fint) typed as plain int, so
 * that the header needs no mpi.h: a C host passes MPI_Comm_c2f(comm), a Fortran host its
 * integer communicator as it is (mpi module; mpi_f08: comm%MPI_VAL). The host calls MPI_Init
 * (or MPI_Init_thread) itself, before any stepper call. Aeolus uses PETSc: if the host has not
 * initialised PETSc, aeolus_initialize (or the first aeolus_stepper_create) does, on
 * MPI_COMM_WORLD, without PETSc's signal handlers; Aeolus never finalises MPI.
 *
 * The decomposition. Each rank owns a box of cells of the global grid: start[d] (0-based) and
 * count[d] cells along each dimension d = 0 (x), 1 (y), 2 (z). The boxes of all ranks must
 * form a tensor product (as a PETSc DMDA, or a Cartesian MPI topology, decomposes: columns of
 * widths W0, W1, ... along x times rows of heights H0, H1, ... along y, ...), every rank owning
 * at least one cell; which rank owns which box is the host's choice.
 *
 * The host's array q holds its owned cells only, contiguous with x fastest: a Fortran array
 * q(count[0], count[1], count[2]) or a C array q[count[2]][count[1]][count[0]] (without the
 * unused dimensions). It is copied into the stepper's own field (which has the halo the scheme
 * needs) and back at every call; the host's array is never kept.
 *
 * Collective calls (create, max_dt, step, free, initialize, finalize) must be made by every rank
 * of the communicator, in the same order. Argument errors found on one rank are shared: every
 * rank returns an error status, and its message names the rank that found it. */
typedef struct aeolus_stepper aeolus_stepper;

/* Initialises PETSc if neither the host nor Aeolus has (collective over MPI_COMM_WORLD). Only
 * needed where the first aeolus_stepper_create is not called by every rank of MPI_COMM_WORLD
 * (e.g. on a sub-communicator); otherwise that call does it. MPI must be initialised. */
AEOLUS_API aeolus_status aeolus_initialize(void);

/* Finalises what aeolus_initialize started (PETSc), if it started it; does nothing otherwise.
 * Collective over MPI_COMM_WORLD. Order: free every stepper, call aeolus_finalize, then
 * MPI_Finalize. After it, no stepper can be created again in this process. Refused
 * (AEOLUS_ERROR_ARGUMENT) while steppers are alive. */
AEOLUS_API aeolus_status aeolus_finalize(void);

/* Builds the stepper `stepper` of the case in `case_dir` (its case.yaml, read as `aeolus run`
 * reads it) on the host's decomposition. Collective over `comm`.
 *
 * stepper: a stepper name ("classical", "emulator", or one registered by name); NULL or "" for
 *   the case's stepper.type.
 * comm: the communicator as a Fortran handle (MPI_Comm_c2f(comm) in C).
 * dim: 1, 2 or 3, the case's grid.dim. global_n[dim]: the global grid, which must equal the
 *   case's grid.n. start[dim], count[dim]: this rank's box (0-based, x first).
 *
 * On success *out is a new handle (free it with aeolus_stepper_free); on failure *out is NULL.
 * Errors: a null pointer, dim or extents out of range, a box outside the grid, boxes that do not
 * form a tensor product (the message names the rank and box), MPI_COMM_NULL or a communicator
 * of another size than a decomposition the case insists on (grid.procs), global_n different from
 * the case's grid.n (both named), an unknown stepper name (the valid ones listed) give
 * AEOLUS_ERROR_ARGUMENT; a missing case directory or case.yaml AEOLUS_ERROR_IO; an invalid
 * case.yaml, a case that does not step fields in time, or a stepper the case type does not
 * have AEOLUS_ERROR_CASE; a missing or bad emulator model AEOLUS_ERROR_MODEL or _IO. Nothing is
 * written into the case directory (no run log, no output). */
AEOLUS_API aeolus_status aeolus_stepper_create(const char* case_dir, const char* stepper, int comm,
                                               int dim, const int64_t* global_n,
                                               const int64_t* start, const int64_t* count,
                                               aeolus_stepper** out);

/* The largest step the stepper takes from the state q (the host's owned cells, see above) at
 * time t: the stability limit of a classical scheme (its CFL number from the case), the trained
 * step of an emulator. The same value on every rank. Collective. */
AEOLUS_API aeolus_status aeolus_stepper_max_dt(aeolus_stepper* s, const double* q, double t,
                                               double* dt);

/* Advances q (the host's owned cells, in place) by one step from time *t. On entry *dt > 0 is
 * the step asked for: it must not exceed aeolus_stepper_max_dt(q, *t) (not checked here: that
 * would cost a reduction per step), and a fixed-step stepper (an emulator,
 * aeolus_stepper_fixed_step) requires it to equal that. On return *t is the new time and *dt the
 * step taken. Collective. On an error q, *t and *dt are unchanged. */
AEOLUS_API aeolus_status aeolus_stepper_step(aeolus_stepper* s, double* q, double* t, double* dt);

/* The same two calls for wrappers that know the array's shape (the Fortran module): q of rank
 * q_rank (1 to 3) and extents q_shape, x first, is checked to hold exactly the owned cells
 * (rank 1: count[0] count[1] count[2] elements; otherwise extent d = count[d], with count[d] = 1
 * beyond dim), inside the same collective check as the other arguments. */
AEOLUS_API aeolus_status aeolus_stepper_max_dt_shaped(aeolus_stepper* s, const double* q,
                                                      int q_rank, const int64_t* q_shape, double t,
                                                      double* dt);
AEOLUS_API aeolus_status aeolus_stepper_step_shaped(aeolus_stepper* s, double* q, int q_rank,
                                                    const int64_t* q_shape, double* t, double* dt);

/* *fixed = 1 if the stepper takes exactly max_dt and no other step (a trained emulator), else 0.
 * Not collective. */
AEOLUS_API aeolus_status aeolus_stepper_fixed_step(const aeolus_stepper* s, int* fixed);

/* The stepper's registry name ("classical", "emulator", ...); *name stays valid until the
 * handle is freed. Not collective. */
AEOLUS_API aeolus_status aeolus_stepper_name(const aeolus_stepper* s, const char** name);

/* Frees a stepper; NULL is accepted and does nothing. Collective over the stepper's
 * communicator (PETSc objects are destroyed). */
AEOLUS_API aeolus_status aeolus_stepper_free(aeolus_stepper* s);

#ifdef __cplusplus
}
#endif

#endif /* AEOLUS_H */
