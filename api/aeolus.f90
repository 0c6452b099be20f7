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
! Every procedure returns a status (AEOLUS_OK = 0 or an error); none stops the program.
module aeolus
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_char, c_ptr, c_null_ptr, &
                                         c_null_char, c_loc, c_associated, c_f_pointer, &
                                         c_float, c_double, c_size_t
  implicit none
  private

  public :: aeolus_model, aeolus_load, aeolus_forward, aeolus_free, aeolus_last_error, &
            aeolus_version
  public :: AEOLUS_OK, AEOLUS_ERROR_ARGUMENT, AEOLUS_ERROR_IO, AEOLUS_ERROR_MODEL, &
            AEOLUS_ERROR_MEMORY, AEOLUS_ERROR_INTERNAL

  ! The values of aeolus.h.
  integer, parameter :: AEOLUS_OK = 0, AEOLUS_ERROR_ARGUMENT = 1, AEOLUS_ERROR_IO = 2, &
                        AEOLUS_ERROR_MODEL = 3, AEOLUS_ERROR_MEMORY = 4, AEOLUS_ERROR_INTERNAL = 5
  integer(c_int), parameter :: AEOLUS_FLOAT32 = 1, AEOLUS_FLOAT64 = 2, AEOLUS_LAYOUT_FORTRAN = 2

  type :: aeolus_model
    type(c_ptr) :: handle = c_null_ptr
  end type aeolus_model

  ! One procedure per kind; any rank from 1 to 8 (assumed-rank dummies).
  interface aeolus_forward
    module procedure forward_real32, forward_real64
  end interface aeolus_forward

  interface
    function c_last_error() bind(c, name="aeolus_last_error") result(p)
      import :: c_ptr
      type(c_ptr) :: p
    end function c_last_error
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
    function c_model_free(model) bind(c, name="aeolus_model_free") result(s)
      import :: c_ptr, c_int
      type(c_ptr), value :: model
      integer(c_int) :: s
    end function c_model_free
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

  subroutine forward_real32(model, x, y, status)
    type(aeolus_model), intent(in) :: model
    real(c_float), intent(in), target, contiguous :: x(..)
    real(c_float), intent(inout), target, contiguous :: y(..)
    integer, intent(out) :: status
    status = call_forward(model, c_loc(x), shape(x, kind=c_int64_t), c_loc(y), &
                          shape(y, kind=c_int64_t), AEOLUS_FLOAT32)
  end subroutine forward_real32

  subroutine forward_real64(model, x, y, status)
    type(aeolus_model), intent(in) :: model
    real(c_double), intent(in), target, contiguous :: x(..)
    real(c_double), intent(inout), target, contiguous :: y(..)
    integer, intent(out) :: status
    status = call_forward(model, c_loc(x), shape(x, kind=c_int64_t), c_loc(y), &
                          shape(y, kind=c_int64_t), AEOLUS_FLOAT64)
  end subroutine forward_real64

  ! Ranks are checked by the C API (1 to AEOLUS_MAX_RANK = 8), whose message names them.
  integer function call_forward(model, x, x_shape, y, y_shape, dtype) result(status)
    type(aeolus_model), intent(in) :: model
    type(c_ptr), intent(in) :: x, y
    integer(c_int64_t), intent(in) :: x_shape(:), y_shape(:)
    integer(c_int), intent(in) :: dtype
    status = c_model_forward(model%handle, x, int(size(x_shape), c_int), x_shape, dtype, &
                             AEOLUS_LAYOUT_FORTRAN, y, int(size(y_shape), c_int), y_shape)
  end function call_forward

end module aeolus
