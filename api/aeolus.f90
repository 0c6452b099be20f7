! Fortran module over the Aeolus C API (aeolus.h), through iso_c_binding.
!
!   use aeolus
!   type(aeolus_model) :: model
!   integer :: status
!   call aeolus_load(model, "model.pt", status)
!   call aeolus_forward(model, x, y, status)   ! x, y: real32 or real64, rank 1 to 8
!   if (status /= AEOLUS_OK) print *, aeolus_last_error()
!   call aeolus_free(model)
!
! Arrays are passed in Fortran order with their declared shape: the model sees x(n1, ..., nk) as
! a tensor of shape [n1, ..., nk] (a strided view of x, no copy; see aeolus.h). Dummy arrays are
! assumed-rank and contiguous: a contiguous actual argument is passed as it is, a non-contiguous
! section is copied into a temporary by the compiler (and y copied back).
! reverse_dims=.true. (aeolus_forward, aeolus_train_step; TorchFort's convention): the model sees
! x(n1, ..., nk) as the C-order tensor [nk, ..., n1] over the same memory (contiguous, no view,
! no copy), and y, target likewise: a Fortran q(nx, ny, 1, 1) is the [1, 1, ny, nx] of a CNN, an
! x(features, batch) the [batch, features] of a linear layer.
! Every procedure returns a status (AEOLUS_OK = 0 or an error); none stops the program.
!
! The output's shape before the first forward (one forward on zeros), and LibTorch's threads:
!   integer(int64), allocatable :: ys(:)
!   call aeolus_output_shape(model, shape(x), ys, status)   ! ys = [n1, ..., nk] of y
!   call aeolus_set_num_threads(1, status)                  ! process-wide; ranks x n <= cores
!   call aeolus_get_num_threads(n, status)
!   print *, aeolus_last_warnings()    ! LibTorch's warnings, kept instead of printed
!
! Steppers (a case's classical scheme or emulator on the host's own MPI decomposition):
!   type(aeolus_stepper) :: st
!   call aeolus_stepper_create(st, "my_case", MPI_COMM_WORLD, [nx, ny], [is, js], [nxl, nyl], status)
!   call aeolus_stepper_max_dt(st, q, t, dt, status)   ! q(nxl, nyl): real64, rank 1 to 3
!   call aeolus_stepper_step(st, q, t, dt, status)     ! t and dt updated
!   call aeolus_stepper_free(st)
!   call aeolus_finalize(status)                       ! then MPI_Finalize
!
! Online training (a loss on the host's arrays and an optimizer step; settings from YAML):
!   type(aeolus_trainer) :: tr
!   call aeolus_trainer_create(tr, model, "train.yaml", "training", status)   ! comm=: MPI
!   call aeolus_train_step(tr, x, target, loss, status)   ! real32 or real64, any rank 1 to 8
!   call aeolus_trainer_save(tr, status, model_path="m.pt", state_path="m.state")
!   call aeolus_trainer_restore(tr, "m.state", status)
!   call aeolus_trainer_free(tr)
module aeolus
  use, intrinsic :: iso_c_binding, only: c_int, c_int32_t, c_int64_t, c_char, c_ptr, &
                                         c_null_ptr, c_null_char, c_loc, c_associated, &
                                         c_f_pointer, c_float, c_double, c_size_t
  implicit none
  private

  public :: aeolus_model, aeolus_load, aeolus_forward, aeolus_free, aeolus_last_error, &
            aeolus_version, aeolus_output_shape, aeolus_set_num_threads, aeolus_get_num_threads
  public :: aeolus_last_warnings, aeolus_clear_warnings, aeolus_set_warnings, &
            AEOLUS_WARNINGS_CAPTURE, AEOLUS_WARNINGS_PRINT
  public :: aeolus_stepper, aeolus_stepper_create, aeolus_stepper_max_dt, aeolus_stepper_step, &
            aeolus_stepper_free, aeolus_initialize, aeolus_finalize
  public :: aeolus_trainer, aeolus_trainer_create, aeolus_train_step, aeolus_trainer_save, &
            aeolus_trainer_restore, aeolus_trainer_steps, aeolus_trainer_free, AEOLUS_COMM_NONE
  public :: AEOLUS_OK, AEOLUS_ERROR_ARGUMENT, AEOLUS_ERROR_IO, AEOLUS_ERROR_MODEL, &
            AEOLUS_ERROR_MEMORY, AEOLUS_ERROR_INTERNAL, AEOLUS_ERROR_CASE, AEOLUS_ERROR_NUMERICS

  ! The values of aeolus.h.
  integer, parameter :: AEOLUS_OK = 0, AEOLUS_ERROR_ARGUMENT = 1, AEOLUS_ERROR_IO = 2, &
                        AEOLUS_ERROR_MODEL = 3, AEOLUS_ERROR_MEMORY = 4, &
                        AEOLUS_ERROR_INTERNAL = 5, AEOLUS_ERROR_CASE = 6, AEOLUS_ERROR_NUMERICS = 7
  integer(c_int), parameter :: AEOLUS_FLOAT32 = 1, AEOLUS_FLOAT64 = 2, AEOLUS_LAYOUT_FORTRAN = 2, &
                               AEOLUS_LAYOUT_C = 1
  ! LibTorch's warnings during the calls: kept per thread (the default) or printed.
  integer, parameter :: AEOLUS_WARNINGS_CAPTURE = 0, AEOLUS_WARNINGS_PRINT = 1
  ! No MPI for a trainer (aeolus_trainer_create's default).
  integer, parameter :: AEOLUS_COMM_NONE = -1

  type :: aeolus_model
    type(c_ptr) :: handle = c_null_ptr
  end type aeolus_model

  ! A stepper of a case (aeolus_stepper_create) advancing the host's array.
  type :: aeolus_stepper
    type(c_ptr) :: handle = c_null_ptr
  end type aeolus_stepper

  ! An online trainer of a model (aeolus_trainer_create).
  type :: aeolus_trainer
    type(c_ptr) :: handle = c_null_ptr
  end type aeolus_trainer

  ! One procedure per kind; any rank from 1 to 8 (assumed-rank dummies).
  interface aeolus_train_step
    module procedure train_step_real32, train_step_real64
  end interface aeolus_train_step

  ! Real64 arrays of rank 1 to 3 holding the owned cells (see aeolus_stepper_create).
  interface aeolus_stepper_max_dt
    module procedure max_dt_1, max_dt_2, max_dt_3
  end interface aeolus_stepper_max_dt
  interface aeolus_stepper_step
    module procedure step_1, step_2, step_3
  end interface aeolus_stepper_step

  ! One procedure per kind; any rank from 1 to 8 (assumed-rank dummies).
  interface aeolus_forward
    module procedure forward_real32, forward_real64
  end interface aeolus_forward

  ! in_shape as integer(int32) (shape(x), default integers) or integer(int64).
  interface aeolus_output_shape
    module procedure output_shape_int32, output_shape_int64
  end interface aeolus_output_shape

  interface
    function c_last_error() bind(c, name="aeolus_last_error") result(p)
      import :: c_ptr
      type(c_ptr) :: p
    end function c_last_error
    function c_last_warnings() bind(c, name="aeolus_last_warnings") result(p)
      import :: c_ptr
      type(c_ptr) :: p
    end function c_last_warnings
    function c_clear_warnings() bind(c, name="aeolus_clear_warnings") result(s)
      import :: c_int
      integer(c_int) :: s
    end function c_clear_warnings
    function c_set_warnings(mode) bind(c, name="aeolus_set_warnings") result(s)
      import :: c_int
      integer(c_int), value :: mode
      integer(c_int) :: s
    end function c_set_warnings
    function c_version(major, minor, patch) bind(c, name="aeolus_version") result(s)
      import :: c_int
      integer(c_int), intent(out) :: major, minor, patch
      integer(c_int) :: s
    end function c_version
    function c_model_load(path, out) bind(c, name="aeolus_model_load") result(s)
      import :: c_char, c_ptr, c_int
      character(kind=c_char), intent(in) :: path(*)
      type(c_ptr), intent(out) :: out
      integer(c_int) :: s
    end function c_model_load
    function c_model_forward(model, in, in_rank, in_shape, dtype, layout, out, out_rank, &
                             out_shape) bind(c, name="aeolus_model_forward") result(s)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: model, in, out
      integer(c_int), value :: in_rank, dtype, layout, out_rank
      integer(c_int64_t), intent(in) :: in_shape(*), out_shape(*)
      integer(c_int) :: s
    end function c_model_forward
    function c_model_output_shape(model, in_rank, in_shape, layout, out_rank, out_shape) &
      bind(c, name="aeolus_model_output_shape") result(s)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: model
      integer(c_int), value :: in_rank, layout
      integer(c_int64_t), intent(in) :: in_shape(*)
      integer(c_int), intent(out) :: out_rank
      integer(c_int64_t), intent(inout) :: out_shape(*)
      integer(c_int) :: s
    end function c_model_output_shape
    function c_set_num_threads(n) bind(c, name="aeolus_set_num_threads") result(s)
      import :: c_int
      integer(c_int), value :: n
      integer(c_int) :: s
    end function c_set_num_threads
    function c_get_num_threads(n) bind(c, name="aeolus_get_num_threads") result(s)
      import :: c_int
      integer(c_int), intent(out) :: n
      integer(c_int) :: s
    end function c_get_num_threads
    function c_model_free(model) bind(c, name="aeolus_model_free") result(s)
      import :: c_ptr, c_int
      type(c_ptr), value :: model
      integer(c_int) :: s
    end function c_model_free
    function c_initialize() bind(c, name="aeolus_initialize") result(s)
      import :: c_int
      integer(c_int) :: s
    end function c_initialize
    function c_finalize() bind(c, name="aeolus_finalize") result(s)
      import :: c_int
      integer(c_int) :: s
    end function c_finalize
    function c_stepper_create(case_dir, stepper, comm, dim, global_n, start, count, out) &
      bind(c, name="aeolus_stepper_create") result(s)
      import :: c_char, c_ptr, c_int, c_int64_t
      character(kind=c_char), intent(in) :: case_dir(*)
      type(c_ptr), value :: stepper
      integer(c_int), value :: comm, dim
      integer(c_int64_t), intent(in) :: global_n(*), start(*), count(*)
      type(c_ptr), intent(out) :: out
      integer(c_int) :: s
    end function c_stepper_create
    function c_stepper_max_dt(stepper, q, q_rank, q_shape, t, dt) &
      bind(c, name="aeolus_stepper_max_dt_shaped") result(s)
      import :: c_ptr, c_int, c_int64_t, c_double
      type(c_ptr), value :: stepper, q
      integer(c_int), value :: q_rank
      integer(c_int64_t), intent(in) :: q_shape(*)
      real(c_double), value :: t
      real(c_double), intent(out) :: dt
      integer(c_int) :: s
    end function c_stepper_max_dt
    function c_stepper_step(stepper, q, q_rank, q_shape, t, dt) &
      bind(c, name="aeolus_stepper_step_shaped") result(s)
      import :: c_ptr, c_int, c_int64_t, c_double
      type(c_ptr), value :: stepper, q
      integer(c_int), value :: q_rank
      integer(c_int64_t), intent(in) :: q_shape(*)
      real(c_double), intent(inout) :: t, dt
      integer(c_int) :: s
    end function c_stepper_step
    function c_stepper_free(stepper) bind(c, name="aeolus_stepper_free") result(s)
      import :: c_ptr, c_int
      type(c_ptr), value :: stepper
      integer(c_int) :: s
    end function c_stepper_free
    function c_trainer_create(model, config_path, section, comm, out) &
      bind(c, name="aeolus_trainer_create") result(s)
      import :: c_char, c_ptr, c_int
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: config_path(*), section(*)
      integer(c_int), value :: comm
      type(c_ptr), intent(out) :: out
      integer(c_int) :: s
    end function c_trainer_create
    function c_trainer_step(trainer, in, in_rank, in_shape, target, target_rank, target_shape, &
                            dtype, layout, loss) bind(c, name="aeolus_trainer_step") result(s)
      import :: c_ptr, c_int, c_int64_t, c_double
      type(c_ptr), value :: trainer, in, target
      integer(c_int), value :: in_rank, target_rank, dtype, layout
      integer(c_int64_t), intent(in) :: in_shape(*), target_shape(*)
      real(c_double), intent(out) :: loss
      integer(c_int) :: s
    end function c_trainer_step
    function c_trainer_save(trainer, model_path, state_path) &
      bind(c, name="aeolus_trainer_save") result(s)
      import :: c_ptr, c_int
      type(c_ptr), value :: trainer, model_path, state_path
      integer(c_int) :: s
    end function c_trainer_save
    function c_trainer_restore(trainer, state_path) bind(c, name="aeolus_trainer_restore") &
      result(s)
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: trainer
      character(kind=c_char), intent(in) :: state_path(*)
      integer(c_int) :: s
    end function c_trainer_restore
    function c_trainer_steps(trainer, steps) bind(c, name="aeolus_trainer_steps") result(s)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: trainer
      integer(c_int64_t), intent(out) :: steps
      integer(c_int) :: s
    end function c_trainer_steps
    function c_trainer_free(trainer) bind(c, name="aeolus_trainer_free") result(s)
      import :: c_ptr, c_int
      type(c_ptr), value :: trainer
      integer(c_int) :: s
    end function c_trainer_free
    function c_strlen(p) bind(c, name="strlen") result(n)
      import :: c_ptr, c_size_t
      type(c_ptr), value :: p
      integer(c_size_t) :: n
    end function c_strlen
  end interface

contains

  ! The message of the last failed call on this thread ("" if none).
  function aeolus_last_error() result(message)
    character(len=:), allocatable :: message
    type(c_ptr) :: p
    character(kind=c_char), pointer :: chars(:)
    integer :: n, i
    p = c_last_error()
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: message)
    do i = 1, n
      message(i:i) = chars(i)
    end do
  end function aeolus_last_error

  ! LibTorch's warnings captured on this thread since aeolus_clear_warnings, one per line
  ! (new_line('a') between them), oldest first, the latest 100; "" if none (see aeolus.h).
  function aeolus_last_warnings() result(text)
    character(len=:), allocatable :: text
    type(c_ptr) :: p
    character(kind=c_char), pointer :: chars(:)
    integer :: n, i
    p = c_last_warnings()
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: text)
    do i = 1, n
      text(i:i) = chars(i)
    end do
  end function aeolus_last_warnings

  ! Empties this thread's list of warnings.
  subroutine aeolus_clear_warnings(status)
    integer, intent(out) :: status
    status = c_clear_warnings()
  end subroutine aeolus_clear_warnings

  ! AEOLUS_WARNINGS_CAPTURE (the default: kept, not printed) or AEOLUS_WARNINGS_PRINT (LibTorch's
  ! own handler prints them); process-wide.
  subroutine aeolus_set_warnings(mode, status)
    integer, intent(in) :: mode
    integer, intent(out) :: status
    status = c_set_warnings(int(mode, c_int))
  end subroutine aeolus_set_warnings

  subroutine aeolus_version(major, minor, patch, status)
    integer, intent(out) :: major, minor, patch, status
    integer(c_int) :: a, b, c
    status = c_version(a, b, c)
    major = a
    minor = b
    patch = c
  end subroutine aeolus_version

  ! Loads a TorchScript file; model%handle stays null on failure.
  subroutine aeolus_load(model, path, status)
    type(aeolus_model), intent(inout) :: model
    character(len=*), intent(in) :: path
    integer, intent(out) :: status
    status = c_model_load(trim(path)//c_null_char, model%handle)
  end subroutine aeolus_load

  ! Frees the model (a null handle is accepted) and nulls the handle.
  subroutine aeolus_free(model, status)
    type(aeolus_model), intent(inout) :: model
    integer, intent(out), optional :: status
    integer :: s
    s = c_model_free(model%handle)
    model%handle = c_null_ptr
    if (present(status)) status = s
  end subroutine aeolus_free

  subroutine forward_real32(model, x, y, status, reverse_dims)
    type(aeolus_model), intent(in) :: model
    real(c_float), intent(in), target, contiguous :: x(..)
    real(c_float), intent(inout), target, contiguous :: y(..)
    integer, intent(out) :: status
    logical, intent(in), optional :: reverse_dims
    status = call_forward(model, c_loc(x), shape(x, kind=c_int64_t), c_loc(y), &
                          shape(y, kind=c_int64_t), AEOLUS_FLOAT32, reverse_dims)
  end subroutine forward_real32

  subroutine forward_real64(model, x, y, status, reverse_dims)
    type(aeolus_model), intent(in) :: model
    real(c_double), intent(in), target, contiguous :: x(..)
    real(c_double), intent(inout), target, contiguous :: y(..)
    integer, intent(out) :: status
    logical, intent(in), optional :: reverse_dims
    status = call_forward(model, c_loc(x), shape(x, kind=c_int64_t), c_loc(y), &
                          shape(y, kind=c_int64_t), AEOLUS_FLOAT64, reverse_dims)
  end subroutine forward_real64

  ! Ranks are checked by the C API (1 to AEOLUS_MAX_RANK = 8), whose message names them.
  ! reverse_dims (absent: .false.): x(n1, ..., nk) is passed as the C-order array of shape
  ! [nk, ..., n1] over the same memory (AEOLUS_LAYOUT_C, the extents reversed): no view, no copy.
  integer function call_forward(model, x, x_shape, y, y_shape, dtype, reverse_dims) &
    result(status)
    type(aeolus_model), intent(in) :: model
    type(c_ptr), intent(in) :: x, y
    integer(c_int64_t), intent(in) :: x_shape(:), y_shape(:)
    integer(c_int), intent(in) :: dtype
    logical, intent(in), optional :: reverse_dims
    if (reversed(reverse_dims)) then
      status = c_model_forward(model%handle, x, int(size(x_shape), c_int), &
                               x_shape(size(x_shape):1:-1), dtype, AEOLUS_LAYOUT_C, y, &
                               int(size(y_shape), c_int), y_shape(size(y_shape):1:-1))
    else
      status = c_model_forward(model%handle, x, int(size(x_shape), c_int), x_shape, dtype, &
                               AEOLUS_LAYOUT_FORTRAN, y, int(size(y_shape), c_int), y_shape)
    end if
  end function call_forward

  ! The shape aeolus_forward would give y for an x of shape in_shape (shape(x)): the model runs
  ! once on zeros of that shape (one forward, no gradient; see aeolus_model_output_shape).
  ! out_shape is allocated to the output's rank (1 to 8) on success, left unallocated on an
  ! error, so that allocate(y(out_shape(1), out_shape(2))) follows. reverse_dims as on
  ! aeolus_forward: in_shape is passed reversed and out_shape comes back reversed, so it is the
  ! shape of the Fortran y that aeolus_forward(..., reverse_dims=.true.) takes.
  subroutine output_shape_int32(model, in_shape, out_shape, status, reverse_dims)
    type(aeolus_model), intent(in) :: model
    integer(c_int32_t), intent(in) :: in_shape(:)
    integer(c_int64_t), allocatable, intent(out) :: out_shape(:)
    integer, intent(out) :: status
    logical, intent(in), optional :: reverse_dims
    call output_shape_int64(model, int(in_shape, c_int64_t), out_shape, status, reverse_dims)
  end subroutine output_shape_int32

  subroutine output_shape_int64(model, in_shape, out_shape, status, reverse_dims)
    type(aeolus_model), intent(in) :: model
    integer(c_int64_t), intent(in) :: in_shape(:)
    integer(c_int64_t), allocatable, intent(out) :: out_shape(:)
    integer, intent(out) :: status
    logical, intent(in), optional :: reverse_dims
    integer(c_int64_t) :: extents(8)
    integer(c_int) :: rank
    extents = 0
    rank = 0
    if (reversed(reverse_dims)) then
      status = c_model_output_shape(model%handle, int(size(in_shape), c_int), &
                                    in_shape(size(in_shape):1:-1), AEOLUS_LAYOUT_C, rank, extents)
    else
      status = c_model_output_shape(model%handle, int(size(in_shape), c_int), in_shape, &
                                    AEOLUS_LAYOUT_FORTRAN, rank, extents)
    end if
    if (status /= AEOLUS_OK) return
    if (reversed(reverse_dims)) then
      out_shape = extents(rank:1:-1)
    else
      out_shape = extents(1:rank)
    end if
  end subroutine output_shape_int64

  ! LibTorch's intra-op threads, n >= 1: one setting of the process (see aeolus.h: with R MPI
  ! ranks per node keep R x n <= the node's cores).
  subroutine aeolus_set_num_threads(n, status)
    integer, intent(in) :: n
    integer, intent(out) :: status
    status = c_set_num_threads(int(n, c_int))
  end subroutine aeolus_set_num_threads

  ! The intra-op thread count LibTorch uses on the calling thread.
  subroutine aeolus_get_num_threads(n, status)
    integer, intent(out) :: n
    integer, intent(out) :: status
    integer(c_int) :: c
    c = 0
    status = c_get_num_threads(c)
    n = c
  end subroutine aeolus_get_num_threads

  logical function reversed(reverse_dims)
    logical, intent(in), optional :: reverse_dims
    reversed = .false.
    if (present(reverse_dims)) reversed = reverse_dims
  end function reversed

  ! PETSc for the steppers, if the host has not started it (collective over MPI_COMM_WORLD):
  ! needed only where the first aeolus_stepper_create is not called on every rank of it.
  subroutine aeolus_initialize(status)
    integer, intent(out) :: status
    status = c_initialize()
  end subroutine aeolus_initialize

  ! Ends what aeolus_initialize (or the first aeolus_stepper_create) started: after every
  ! aeolus_stepper_free, before MPI_Finalize. Collective over MPI_COMM_WORLD.
  subroutine aeolus_finalize(status)
    integer, intent(out) :: status
    status = c_finalize()
  end subroutine aeolus_finalize

  ! Builds the stepper of the case in case_dir (the case's stepper.type, or stepper_name) on
  ! this rank's box of the host's decomposition. Collective over comm.
  !   comm:     the host's communicator (mpi module: the integer; mpi_f08: comm%MPI_VAL)
  !   global_n: the global grid, one extent per dimension (x first): the case's grid.n
  !   first:    global index (1-based) of this rank's first owned cell along each dimension
  !   count:    owned cells along each dimension
  ! The boxes of all ranks must form a tensor product (see aeolus.h). The host's arrays are then
  ! q(count(1)), q(count(1), count(2)) or q(count(1), count(2), count(3)).
  subroutine aeolus_stepper_create(stepper, case_dir, comm, global_n, first, count, status, &
                                   stepper_name)
    type(aeolus_stepper), intent(inout) :: stepper
    character(len=*), intent(in) :: case_dir
    integer, intent(in) :: comm
    integer, intent(in) :: global_n(:), first(:), count(:)
    integer, intent(out) :: status
    character(len=*), intent(in), optional :: stepper_name
    ! Three entries each whatever the caller passed: missing ones read as 0 (named by the C
    ! API's message), extra ones are never read.
    integer(c_int64_t) :: n(3), start(3), cells(3)
    character(kind=c_char), allocatable, target :: name(:)
    type(c_ptr) :: name_ptr
    integer :: d
    n = 0
    start = 0
    cells = 0
    do d = 1, min(3, size(global_n))
      n(d) = global_n(d)
    end do
    do d = 1, min(3, size(first))
      start(d) = first(d) - 1
    end do
    do d = 1, min(3, size(count))
      cells(d) = count(d)
    end do
    name_ptr = c_null_ptr
    if (present(stepper_name)) then
      allocate (name(len_trim(stepper_name) + 1))
      do d = 1, len_trim(stepper_name)
        name(d) = stepper_name(d:d)
      end do
      name(size(name)) = c_null_char
      name_ptr = c_loc(name)
    end if
    status = c_stepper_create(trim(case_dir)//c_null_char, name_ptr, int(comm, c_int), &
                              int(size(global_n), c_int), n, start, cells, stepper%handle)
  end subroutine aeolus_stepper_create

  ! The largest step from state q at time t (the same on every rank). Collective.
  subroutine max_dt_1(stepper, q, t, dt, status)
    type(aeolus_stepper), intent(in) :: stepper
    real(c_double), intent(in), target, contiguous :: q(:)
    real(c_double), intent(in) :: t
    real(c_double), intent(out) :: dt
    integer, intent(out) :: status
    status = c_stepper_max_dt(stepper%handle, c_loc(q), 1_c_int, shape(q, kind=c_int64_t), t, dt)
  end subroutine max_dt_1

  subroutine max_dt_2(stepper, q, t, dt, status)
    type(aeolus_stepper), intent(in) :: stepper
    real(c_double), intent(in), target, contiguous :: q(:, :)
    real(c_double), intent(in) :: t
    real(c_double), intent(out) :: dt
    integer, intent(out) :: status
    status = c_stepper_max_dt(stepper%handle, c_loc(q), 2_c_int, shape(q, kind=c_int64_t), t, dt)
  end subroutine max_dt_2

  subroutine max_dt_3(stepper, q, t, dt, status)
    type(aeolus_stepper), intent(in) :: stepper
    real(c_double), intent(in), target, contiguous :: q(:, :, :)
    real(c_double), intent(in) :: t
    real(c_double), intent(out) :: dt
    integer, intent(out) :: status
    status = c_stepper_max_dt(stepper%handle, c_loc(q), 3_c_int, shape(q, kind=c_int64_t), t, dt)
  end subroutine max_dt_3

  ! Advances q by one step from t: dt in, the step taken out; t advanced. Collective.
  subroutine step_1(stepper, q, t, dt, status)
    type(aeolus_stepper), intent(in) :: stepper
    real(c_double), intent(inout), target, contiguous :: q(:)
    real(c_double), intent(inout) :: t, dt
    integer, intent(out) :: status
    status = c_stepper_step(stepper%handle, c_loc(q), 1_c_int, shape(q, kind=c_int64_t), t, dt)
  end subroutine step_1

  subroutine step_2(stepper, q, t, dt, status)
    type(aeolus_stepper), intent(in) :: stepper
    real(c_double), intent(inout), target, contiguous :: q(:, :)
    real(c_double), intent(inout) :: t, dt
    integer, intent(out) :: status
    status = c_stepper_step(stepper%handle, c_loc(q), 2_c_int, shape(q, kind=c_int64_t), t, dt)
  end subroutine step_2

  subroutine step_3(stepper, q, t, dt, status)
    type(aeolus_stepper), intent(in) :: stepper
    real(c_double), intent(inout), target, contiguous :: q(:, :, :)
    real(c_double), intent(inout) :: t, dt
    integer, intent(out) :: status
    status = c_stepper_step(stepper%handle, c_loc(q), 3_c_int, shape(q, kind=c_int64_t), t, dt)
  end subroutine step_3

  ! Frees the stepper (a null handle is accepted) and nulls the handle. Collective.
  subroutine aeolus_stepper_free(stepper, status)
    type(aeolus_stepper), intent(inout) :: stepper
    integer, intent(out), optional :: status
    integer :: s
    s = c_stepper_free(stepper%handle)
    stepper%handle = c_null_ptr
    if (present(status)) status = s
  end subroutine aeolus_stepper_free

  ! ---- Online training ------------------------------------------------------------------

  ! Makes model trainable with the optimizer of the YAML mapping at the dotted path section
  ! ("training", "emulator.online_training") of config_path. comm: the communicator over which
  ! gradients are averaged (mpi module: the integer; mpi_f08: comm%MPI_VAL), collective over
  ! it; absent (or AEOLUS_COMM_NONE): no MPI. The model must outlive the trainer.
  subroutine aeolus_trainer_create(trainer, model, config_path, section, status, comm)
    type(aeolus_trainer), intent(inout) :: trainer
    type(aeolus_model), intent(in) :: model
    character(len=*), intent(in) :: config_path, section
    integer, intent(out) :: status
    integer, intent(in), optional :: comm
    integer(c_int) :: c
    c = int(AEOLUS_COMM_NONE, c_int)
    if (present(comm)) c = int(comm, c_int)
    status = c_trainer_create(model%handle, trim(config_path)//c_null_char, &
                              trim(section)//c_null_char, c, trainer%handle)
  end subroutine aeolus_trainer_create

  ! One optimizer step on x against target (the model's output shape), both of one kind, any
  ! rank; loss: the loss before the step, averaged over the ranks. Collective.
  subroutine train_step_real32(trainer, x, target, loss, status, reverse_dims)
    type(aeolus_trainer), intent(in) :: trainer
    real(c_float), intent(in), target, contiguous :: x(..), target(..)
    real(c_double), intent(out) :: loss
    integer, intent(out) :: status
    logical, intent(in), optional :: reverse_dims
    status = call_train_step(trainer, c_loc(x), shape(x, kind=c_int64_t), c_loc(target), &
                             shape(target, kind=c_int64_t), AEOLUS_FLOAT32, loss, reverse_dims)
  end subroutine train_step_real32

  subroutine train_step_real64(trainer, x, target, loss, status, reverse_dims)
    type(aeolus_trainer), intent(in) :: trainer
    real(c_double), intent(in), target, contiguous :: x(..), target(..)
    real(c_double), intent(out) :: loss
    integer, intent(out) :: status
    logical, intent(in), optional :: reverse_dims
    status = call_train_step(trainer, c_loc(x), shape(x, kind=c_int64_t), c_loc(target), &
                             shape(target, kind=c_int64_t), AEOLUS_FLOAT64, loss, reverse_dims)
  end subroutine train_step_real64

  integer function call_train_step(trainer, x, x_shape, t, t_shape, dtype, loss, reverse_dims) &
    result(status)
    type(aeolus_trainer), intent(in) :: trainer
    type(c_ptr), intent(in) :: x, t
    integer(c_int64_t), intent(in) :: x_shape(:), t_shape(:)
    integer(c_int), intent(in) :: dtype
    real(c_double), intent(out) :: loss
    logical, intent(in), optional :: reverse_dims
    if (reversed(reverse_dims)) then
      status = c_trainer_step(trainer%handle, x, int(size(x_shape), c_int), &
                              x_shape(size(x_shape):1:-1), t, int(size(t_shape), c_int), &
                              t_shape(size(t_shape):1:-1), dtype, AEOLUS_LAYOUT_C, loss)
    else
      status = c_trainer_step(trainer%handle, x, int(size(x_shape), c_int), x_shape, t, &
                              int(size(t_shape), c_int), t_shape, dtype, AEOLUS_LAYOUT_FORTRAN, &
                              loss)
    end if
  end function call_train_step

  ! Writes the model (TorchScript) to model_path and/or the training state to state_path (an
  ! absent one is skipped); rank 0 writes, atomically. Collective.
  subroutine aeolus_trainer_save(trainer, status, model_path, state_path)
    type(aeolus_trainer), intent(in) :: trainer
    integer, intent(out) :: status
    character(len=*), intent(in), optional :: model_path, state_path
    character(kind=c_char), allocatable, target :: m(:), st(:)
    type(c_ptr) :: mp, sp
    mp = c_null_ptr
    sp = c_null_ptr
    if (present(model_path)) then
      call to_c_string(model_path, m)
      mp = c_loc(m)
    end if
    if (present(state_path)) then
      call to_c_string(state_path, st)
      sp = c_loc(st)
    end if
    status = c_trainer_save(trainer%handle, mp, sp)
  end subroutine aeolus_trainer_save

  ! Restores the training state written by aeolus_trainer_save (the weights come with the
  ! saved model file, loaded before aeolus_trainer_create). Collective.
  subroutine aeolus_trainer_restore(trainer, state_path, status)
    type(aeolus_trainer), intent(in) :: trainer
    character(len=*), intent(in) :: state_path
    integer, intent(out) :: status
    status = c_trainer_restore(trainer%handle, trim(state_path)//c_null_char)
  end subroutine aeolus_trainer_restore

  ! The optimizer steps taken (with those of a restored state).
  subroutine aeolus_trainer_steps(trainer, steps, status)
    type(aeolus_trainer), intent(in) :: trainer
    integer(c_int64_t), intent(out) :: steps
    integer, intent(out) :: status
    status = c_trainer_steps(trainer%handle, steps)
  end subroutine aeolus_trainer_steps

  ! Frees the trainer (a null handle is accepted) and nulls the handle; the model keeps the
  ! trained weights. Collective over the trainer's communicator.
  subroutine aeolus_trainer_free(trainer, status)
    type(aeolus_trainer), intent(inout) :: trainer
    integer, intent(out), optional :: status
    integer :: s
    s = c_trainer_free(trainer%handle)
    trainer%handle = c_null_ptr
    if (present(status)) status = s
  end subroutine aeolus_trainer_free

  ! text without trailing blanks, NUL-terminated.
  subroutine to_c_string(text, chars)
    character(len=*), intent(in) :: text
    character(kind=c_char), allocatable, intent(out) :: chars(:)
    integer :: i
    allocate (chars(len_trim(text) + 1))
    do i = 1, len_trim(text)
      chars(i) = text(i:i)
    end do
    chars(size(chars)) = c_null_char
  end subroutine to_c_string

end module aeolus
