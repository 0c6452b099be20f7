! The Fortran module's side of bench/coupling.cpp: a Fortran host calling aeolus_forward (the
! generic of api/aeolus.f90 over real32/real64, assumed-rank) in a loop. Linked into the C++
! benchmark so that it runs in the same process and the C++ side times it.
!
! The arrays are made from the C++ buffers with c_f_pointer, as contiguous pointers of the
! model's rank: a Fortran host's own contiguous arrays, passed to aeolus_forward as they are
! (no copy-in by the compiler). By default their shape is the logical shape of the model's
! tensor, first index fastest in memory (Fortran order): x(n1, ..., nk) is the tensor
! [n1, ..., nk]. With reverse /= 0 they are declared with the extents reversed, x(nk, ..., n1)
! over the C-order buffer, and passed with reverse_dims=.true. (the model sees [n1, ..., nk] in
! C order: no view, no copy).
module coupling_bench
  use, intrinsic :: iso_c_binding, only: c_int, c_int64_t, c_char, c_ptr, c_float, c_double, &
                                         c_f_pointer
  use aeolus, only: aeolus_model, aeolus_load, aeolus_forward, aeolus_free, AEOLUS_OK
  implicit none
  private
  public :: bench_fortran_load, bench_fortran_free, bench_fortran_forward

  integer(c_int), parameter :: FLOAT32 = 1, FLOAT64 = 2  ! AEOLUS_FLOAT32, AEOLUS_FLOAT64

contains

  ! Loads the TorchScript file path(1:n) with aeolus_load; *handle is the model's handle (for
  ! bench_fortran_forward and bench_fortran_free). Returns aeolus_load's status.
  function bench_fortran_load(path, n, handle) bind(c, name="bench_fortran_load") result(status)
    character(kind=c_char), intent(in) :: path(*)
    integer(c_int), value :: n
    type(c_ptr), intent(out) :: handle
    integer(c_int) :: status
    type(aeolus_model) :: model
    character(len=n) :: name
    integer :: i, s
    do i = 1, n
      name(i:i) = path(i)
    end do
    call aeolus_load(model, name, s)
    handle = model%handle
    status = int(s, c_int)
  end function bench_fortran_load

  function bench_fortran_free(handle) bind(c, name="bench_fortran_free") result(status)
    type(c_ptr), value :: handle
    integer(c_int) :: status
    type(aeolus_model) :: model
    integer :: s
    model%handle = handle
    call aeolus_free(model, s)
    status = int(s, c_int)
  end function bench_fortran_free

  ! Calls aeolus_forward(model, x, y, status[, reverse_dims=.true.]) `calls` times; the model's
  ! input has shape in_shape(1:rank), its output out_shape(1:rank) (in the model's order), rank 2
  ! or 4, real32 (dtype 1) or real64 (2); reverse /= 0: the arrays are declared with the extents
  ! reversed and passed with reverse_dims=.true. Returns the first status that is not AEOLUS_OK,
  ! or AEOLUS_OK; -1 for a rank or dtype this program does not handle.
  function bench_fortran_forward(handle, dtype, rank, in_shape, x, out_shape, y, calls, reverse) &
    bind(c, name="bench_fortran_forward") result(status)
    type(c_ptr), value :: handle, x, y
    integer(c_int), value :: dtype, rank, calls, reverse
    integer(c_int64_t), intent(in) :: in_shape(*), out_shape(*)
    integer(c_int) :: status
    type(aeolus_model) :: model
    integer(c_int64_t) :: xs(rank), ys(rank)
    logical :: rev
    model%handle = handle
    rev = reverse /= 0
    xs = in_shape(1:rank)
    ys = out_shape(1:rank)
    if (rev) then
      xs = xs(rank:1:-1)
      ys = ys(rank:1:-1)
    end if
    status = -1
    if (rank == 2 .and. dtype == FLOAT32) status = rank2_real32(model, x, y)
    if (rank == 2 .and. dtype == FLOAT64) status = rank2_real64(model, x, y)
    if (rank == 4 .and. dtype == FLOAT32) status = rank4_real32(model, x, y)
    if (rank == 4 .and. dtype == FLOAT64) status = rank4_real64(model, x, y)

  contains

    integer(c_int) function rank2_real32(m, px, py) result(s)
      type(aeolus_model), intent(in) :: m
      type(c_ptr), intent(in) :: px, py
      real(c_float), pointer, contiguous :: a(:, :), b(:, :)
      integer :: k, st
      call c_f_pointer(px, a, xs)
      call c_f_pointer(py, b, ys)
      s = AEOLUS_OK
      do k = 1, calls
        call aeolus_forward(m, a, b, st, reverse_dims=rev)
        if (st /= AEOLUS_OK) then
          s = int(st, c_int)
          return
        end if
      end do
    end function rank2_real32

    integer(c_int) function rank2_real64(m, px, py) result(s)
      type(aeolus_model), intent(in) :: m
      type(c_ptr), intent(in) :: px, py
      real(c_double), pointer, contiguous :: a(:, :), b(:, :)
      integer :: k, st
      call c_f_pointer(px, a, xs)
      call c_f_pointer(py, b, ys)
      s = AEOLUS_OK
      do k = 1, calls
        call aeolus_forward(m, a, b, st, reverse_dims=rev)
        if (st /= AEOLUS_OK) then
          s = int(st, c_int)
          return
        end if
      end do
    end function rank2_real64

    integer(c_int) function rank4_real32(m, px, py) result(s)
      type(aeolus_model), intent(in) :: m
      type(c_ptr), intent(in) :: px, py
      real(c_float), pointer, contiguous :: a(:, :, :, :), b(:, :, :, :)
      integer :: k, st
      call c_f_pointer(px, a, xs)
      call c_f_pointer(py, b, ys)
      s = AEOLUS_OK
      do k = 1, calls
        call aeolus_forward(m, a, b, st, reverse_dims=rev)
        if (st /= AEOLUS_OK) then
          s = int(st, c_int)
          return
        end if
      end do
    end function rank4_real32

    integer(c_int) function rank4_real64(m, px, py) result(s)
      type(aeolus_model), intent(in) :: m
      type(c_ptr), intent(in) :: px, py
      real(c_double), pointer, contiguous :: a(:, :, :, :), b(:, :, :, :)
      integer :: k, st
      call c_f_pointer(px, a, xs)
      call c_f_pointer(py, b, ys)
      s = AEOLUS_OK
      do k = 1, calls
        call aeolus_forward(m, a, b, st, reverse_dims=rev)
        if (st /= AEOLUS_OK) then
          s = int(st, c_int)
          return
        end if
      end do
    end function rank4_real64

  end function bench_fortran_forward

end module coupling_bench
