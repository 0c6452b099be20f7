/* Aeolus C API (C99). The contract for host codes in C, Fortran (api/aeolus.f90 wraps it) and
 * C++: opaque handles, plain C types, and a status from every call.
 *
 * Errors: every call returns AEOLUS_OK (0) or an error status; aeolus_last_error() gives the
 * message of the last failed call on the calling thread (it names the argument, its value and
 * what was expected, or the file and what is wrong with it). Nothing prints, nothing aborts:
 * every exception is caught at this boundary, LibTorch's warnings are kept
 * (aeolus_last_warnings), not printed.
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

/* Highest array rank that aeolus_model_forward accepts (and aeolus_model_output_shape gives). */
#define AEOLUS_MAX_RANK 8

/* A loaded model. */
typedef struct aeolus_model aeolus_model;

/* The message of the last failed call on this thread ("" if none has failed). The pointer stays
 * valid until the next failing call on this thread; successful calls leave it unchanged. */
AEOLUS_API const char* aeolus_last_error(void);

/* Warnings. LibTorch's warnings (TORCH_WARN in its operators, TorchScript's warnings.warn in a
 * model, the optimizers') raised on the calling thread during an Aeolus call are not printed:
 * they are kept in the thread's list, which aeolus_last_warnings gives. Aeolus swaps LibTorch's
 * thread-local warning handler for its own at the start of each call and puts the one it found
 * back before returning (a pointer swap; nothing is allocated unless a warning is raised), so a
 * host that uses LibTorch itself keeps its own handler outside Aeolus's calls. A warning raised
 * on one of LibTorch's worker threads (inside a parallel region of an operator) goes to that
 * thread's handler, LibTorch's default, which prints it. A TorchScript warnings.warn in a
 * model's forward warns at every forward (measured with LibTorch 1.13.1). */
#define AEOLUS_WARNINGS_CAPTURE 0 /* the default: kept, not printed */
#define AEOLUS_WARNINGS_PRINT 1   /* given to the thread's handler (LibTorch's default prints) */

/* The warnings captured on this thread since its last aeolus_clear_warnings (or its start), one
 * per line, oldest first: "message [file:line]" (where LibTorch names a source: its own C++
 * file, or the model's TorchScript code, "code/__torch__.py:7"; a message is cut after 2000
 * characters). At most the latest 100 are kept; if more
 * were raised, the first line says how many earlier ones were dropped. "" if none. The pointer
 * stays valid until the next aeolus_last_warnings or aeolus_clear_warnings on this thread. */
AEOLUS_API const char* aeolus_last_warnings(void);

/* Empties this thread's list of warnings. Always AEOLUS_OK. */
AEOLUS_API aeolus_status aeolus_clear_warnings(void);

/* Process-wide: AEOLUS_WARNINGS_CAPTURE (the default) or AEOLUS_WARNINGS_PRINT (nothing is
 * captured: each thread's handler, LibTorch's default unless the host set one, gets them, as
 * without Aeolus). Takes effect at the next call on each thread. Errors: another mode
 * AEOLUS_ERROR_ARGUMENT (the value named), the mode unchanged. */
AEOLUS_API aeolus_status aeolus_set_warnings(int mode);

/* The mode set by aeolus_set_warnings. */
AEOLUS_API aeolus_status aeolus_get_warnings(int* mode);

/* This library's version (major.minor.patch). */
AEOLUS_API aeolus_status aeolus_version(int* major, int* minor, int* patch);

/* Loads the model file `path` onto the CPU: a TorchScript file (torch.jit.save of a scripted or
 * traced module whose forward takes one tensor and returns one tensor), or an Aeolus model archive
 * written by `aeolus train` (pinn, neural_ode_spiral, neural_sde_spiral, flux_stencil_cnn,
 * dcdm_cnn, co2_model), whose forward is the emulator's network on raw quantities with a fixed
 * array contract per kind (docs/coupling.md, "Aeolus archives"; a shape outside it gives
 * AEOLUS_ERROR_MODEL naming the contract). Archives are for inference only: aeolus_trainer_create
 * refuses them. On success *out is a new
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

/* The shape aeolus_model_forward would give the output for an input of rank in_rank and extents
 * in_shape in memory order `layout` (both in the array's logical order, as for forward; the
 * output's extents come back in the same logical order), so that a host can allocate `out`
 * before its first forward. It costs one forward: the model runs once, without gradient, on an
 * array of zeros of that shape in the dtype of the model's parameters, laid out as `layout`
 * lays it out (a strided view for AEOLUS_LAYOUT_FORTRAN), so it fails where forward on such an
 * array would. On success *out_rank is the output's rank (1 to AEOLUS_MAX_RANK) and
 * out_shape[0 .. *out_rank - 1] its extents; the other entries of out_shape are left as they
 * were. The model's weights, a trainer's state and the input are not changed.
 *
 * Errors (*out_rank and out_shape unchanged): a null pointer, in_rank or an extent out of range,
 * an unknown layout AEOLUS_ERROR_ARGUMENT; a shape the model does not take (forward fails: the
 * message names the input's shape and dtype and LibTorch's reason), an output that is not one
 * tensor, or an output of rank 0 or above AEOLUS_MAX_RANK (which aeolus_model_forward cannot
 * write; its shape named) AEOLUS_ERROR_MODEL. */
AEOLUS_API aeolus_status aeolus_model_output_shape(aeolus_model* model, int in_rank,
                                                   const int64_t* in_shape, aeolus_layout layout,
                                                   int* out_rank,
                                                   int64_t out_shape[AEOLUS_MAX_RANK]);

/* Frees a model; NULL is accepted and does nothing. */
AEOLUS_API aeolus_status aeolus_model_free(aeolus_model* model);

/* ---- Threads ------------------------------------------------------------------------------
 *
 * LibTorch's intra-op threads: how many threads one operation of a model (a matmul, a
 * convolution) may use, in aeolus_model_forward, aeolus_model_output_shape, aeolus_trainer_step
 * and the steppers' emulators.
 *
 * Process-wide: one setting of LibTorch (at::set_num_threads), not of a handle. It applies to
 * the calling thread and to every thread that first uses LibTorch after the call. With
 * LibTorch's OpenMP backend (Debian's build) a thread that had already run LibTorch before the
 * call keeps the count it had (measured with LibTorch 1.13.1): set it from the thread that runs
 * the models, or before other threads use them. Each change rebuilds LibTorch's thread pool
 * (milliseconds): set it once, not around each call. aeolus_trainer_create also sets it, to its
 * section's `threads` (default 1; 0 leaves it as it is), and so do the emulator steppers to
 * their case's `threads`.
 *
 * At the start it is LibTorch's default: OMP_NUM_THREADS (or MKL_NUM_THREADS) where set, else a
 * count LibTorch derives from the machine's cores. Measured with at::get_num_threads() at the
 * start of a process: Debian's LibTorch 1.13.1 starts at 1 thread on the 2-core x86-64 machine
 * of the tests (2 with OMP_NUM_THREADS=2); elsewhere it may start with more, up to all cores.
 *
 * MPI: the ranks on one node share its cores. With R ranks per node and n threads each, keep
 * R x n <= the node's cores (n = 1 with one rank per core); beyond that the ranks' threads
 * oversubscribe the cores and compete for them. */

/* Sets the intra-op thread count to n >= 1. Errors: n < 1 AEOLUS_ERROR_ARGUMENT (the value
 * named), the setting unchanged. */
AEOLUS_API aeolus_status aeolus_set_num_threads(int n);

/* The intra-op thread count that LibTorch uses on the calling thread. */
AEOLUS_API aeolus_status aeolus_get_num_threads(int* n);

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

/* ---- Online training: a loss on the host's arrays and an optimizer step ------------------
 *
 * A trainer makes a loaded model (aeolus_model_load) trainable and takes one optimizer step per
 * call on the host's arrays: forward, a loss against the host's target, backward, gradients
 * averaged over the host's MPI communicator (data parallel), an optional clip of their global
 * norm, the optimizer's step. aeolus_model_forward on the same model uses the weights as they
 * are after the last step. The optimizer and its settings come from a YAML mapping (keys in
 * docs/coupling.md: optimizer, learning_rate, weight_decay, momentum, betas, loss, grad_clip,
 * threads).
 *
 * MPI. comm is a communicator as its Fortran handle (MPI_Comm_c2f(comm) in C), over which the
 * gradients are averaged, or AEOLUS_COMM_NONE: no MPI call at all (MPI need not be
 * initialised). With a communicator, create, step, save and restore are collective (every rank,
 * the same order) and an error found on one rank is returned on every rank, its message naming
 * the rank ("rank 1: ..."); no rank is left waiting. The trainer works on a duplicate of comm:
 * free it before MPI_Finalize. */
typedef struct aeolus_trainer aeolus_trainer;
#define AEOLUS_COMM_NONE (-1)

/* Makes `model` trainable (its floating-point parameters require grad; train mode during each
 * step, eval mode between steps) with the optimizer of the YAML mapping at the dotted path
 * `section` ("training", "emulator.online_training") of the file `config_path`. With a
 * communicator, rank 0's parameters are broadcast so that every rank starts from the same ones.
 * The model must outlive the trainer (aeolus_model_free refuses a model whose trainer is alive)
 * and has at most one trainer at a time. On success *out is a new handle; on failure NULL.
 * Errors: a null pointer, an empty section path, a model that has a trainer, an invalid
 * communicator, a model whose parameters (names, shapes, dtypes) differ between the ranks
 * AEOLUS_ERROR_ARGUMENT; a missing config file AEOLUS_ERROR_IO; a YAML error, a
 * missing section, an unknown key (with the closest valid one), a bad value (file:line, key,
 * value and the expected range) AEOLUS_ERROR_CASE; a model without floating-point parameters
 * AEOLUS_ERROR_MODEL. Collective over comm. */
AEOLUS_API aeolus_status aeolus_trainer_create(aeolus_model* model, const char* config_path,
                                               const char* section, int comm, aeolus_trainer** out);

/* One optimizer step: forward on `in`, the loss (the section's `loss`: mse or l1, the mean over
 * the output's elements) against `target`, backward, the gradients averaged over the ranks,
 * the clip (grad_clip), the optimizer's step. Arrays as in aeolus_model_forward: `in` and
 * `target` of element type `dtype` and memory order `layout`, shapes in the array's logical
 * order, converted to the parameters' dtype where they are not of it; target's shape must equal
 * the output's. *loss is the loss before the step, averaged over the ranks (the same value on
 * every rank). Each rank's loss is the mean over its own elements: with equal local sizes the
 * average is the mean over all elements (the gradient is that of the global mean), otherwise
 * each rank weighs equally. Collective.
 * Errors (nothing changed on any rank: parameters, optimizer state, step count): a null
 * pointer, a rank, extent, dtype or layout out of range, a target of another shape than the
 * output (both named) AEOLUS_ERROR_ARGUMENT; forward or backward failing AEOLUS_ERROR_MODEL; a
 * loss that is not finite AEOLUS_ERROR_NUMERICS. */
AEOLUS_API aeolus_status aeolus_trainer_step(aeolus_trainer* tr, const void* in, int in_rank,
                                             const int64_t* in_shape, const void* target,
                                             int target_rank, const int64_t* target_shape,
                                             aeolus_dtype dtype, aeolus_layout layout,
                                             double* loss);

/* Writes the model as a TorchScript file to model_path (loadable by aeolus_model_load, by
 * PyTorch's torch.jit.load, by `aeolus run`'s torchscript stepper) and the training state (the
 * optimizer's state, e.g. Adam's moments, and the step count) to state_path; NULL (or "")
 * skips either. Rank 0 writes, each file atomically (a temporary file beside it renamed over
 * it: a failed save leaves the previous file intact); the paths other ranks pass are not used.
 * Errors: tr NULL AEOLUS_ERROR_ARGUMENT; a file that cannot be written AEOLUS_ERROR_IO.
 * Collective. */
AEOLUS_API aeolus_status aeolus_trainer_save(aeolus_trainer* tr, const char* model_path,
                                             const char* state_path);

/* Restores the training state of aeolus_trainer_save into this trainer: the optimizer's state
 * and the step count; the settings stay those of this trainer's section. Weights are restored
 * by loading the saved model file (aeolus_model_load) before aeolus_trainer_create: then the
 * steps that follow are those of an uninterrupted run, bitwise. Rank 0 reads the file and
 * broadcasts it. Errors (the trainer unchanged): a missing file AEOLUS_ERROR_IO; a file that is
 * not such a state or is truncated, a state of another optimizer or of other parameters (names,
 * shapes, dtypes; the first difference named) AEOLUS_ERROR_MODEL. Collective. */
AEOLUS_API aeolus_status aeolus_trainer_restore(aeolus_trainer* tr, const char* state_path);

/* The optimizer steps taken (counting those of a restored state). Not collective. */
AEOLUS_API aeolus_status aeolus_trainer_steps(const aeolus_trainer* tr, int64_t* steps);

/* Frees a trainer (NULL accepted): the model's parameters back to their requires_grad, the
 * model in eval mode with the trained weights. Collective over comm (MPI_Comm_free of the
 * trainer's duplicate): before MPI_Finalize. */
AEOLUS_API aeolus_status aeolus_trainer_free(aeolus_trainer* tr);

#ifdef __cplusplus
}
#endif

#endif /* AEOLUS_H */
