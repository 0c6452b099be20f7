! The Fortran module (api/aeolus.f90) as a host code uses it: DIR/linear_tanh.pt and
! DIR/affine.pt (float64 parameters, made by make_test_model; DIR is the first argument) run on
! Fortran arrays of real64 and real32, ranks 1 to 4 and a non-contiguous section; outputs
! against the same arithmetic done here. reverse_dims (aeolus_forward, aeolus_train_step): an
! x(features, batch) seen as the C-order [batch, features], against the same model in Fortran
! order on the transposed array. aeolus_output_shape (default and int64 extents, reverse_dims, a
! refused shape) against the shapes by hand; aeolus_set_num_threads / aeolus_get_num_threads.
! LibTorch's warnings: DIR/warn.pt (y = x and a TorchScript warning) kept by aeolus_last_warnings,
! emptied by aeolus_clear_warnings, an unknown aeolus_set_warnings mode refused.
! Stops with status 1 on any failure.
program test_fortran
  use aeolus
  use, intrinsic :: iso_fortran_env, only: real32, real64, int64
  implicit none
  ! The weights of test_models.hpp: w(o, k), y(b, o) = tanh(c(o) + sum_k w(o, k) x(b, k)).
  real(real64), parameter :: w(2, 3) = reshape([0.5d0, -1.0d0, -0.25d0, 0.75d0, 0.125d0, 0.3d0], &
                                               [2, 3])
  real(real64), parameter :: c(2) = [0.1d0, -0.2d0]
  character(len=4096) :: dir
  character(len=:), allocatable :: msg
  type(aeolus_model) :: lin, aff, none, m1, m2, wm
  type(aeolus_trainer) :: t1, t2
  real(real64) :: xt(3, 4), yt(2, 4), badt(4, 2), tgt(4, 2), tgtt(2, 4), loss1, loss2
  real(real32) :: xst(3, 4), yst(2, 4)
  integer :: unit
  real(real64) :: x(4, 3), y(4, 2), y2(2, 2), bad(4, 3), a1(5), b1(5), a3(2, 3, 4), b3(2, 3, 4)
  real(real32) :: xs(4, 3), ys(4, 2), a4(2, 3, 4, 5), b4(2, 3, 4, 5)
  integer :: status, i, j, k, failures, threads0, threads
  integer(int64), allocatable :: oshape(:)
  failures = 0
  call get_command_argument(1, dir)

  call aeolus_load(lin, trim(dir)//'/linear_tanh.pt', status)
  call expect(status == AEOLUS_OK, 'load linear_tanh: '//aeolus_last_error())
  call aeolus_load(aff, trim(dir)//'/affine.pt', status)
  call expect(status == AEOLUS_OK, 'load affine: '//aeolus_last_error())

  do k = 1, 3
    do i = 1, 4
      x(i, k) = 0.3d0 * (i - 1) - 0.2d0 * (k - 1) + 0.05d0
    end do
  end do
  ! real64 on a float64 model: round-off only.
  call aeolus_forward(lin, x, y, status)
  call expect(status == AEOLUS_OK, 'forward real64: '//aeolus_last_error())
  call expect(maxval(abs(y - expected(x))) < 1d-14, 'linear_tanh real64 values')
  ! real32: converted to the model's float64 and back.
  xs = real(x, real32)
  call aeolus_forward(lin, xs, ys, status)
  call expect(status == AEOLUS_OK, 'forward real32: '//aeolus_last_error())
  call expect(maxval(abs(ys - expected(real(xs, real64)))) < 1d-6, 'linear_tanh real32 values')
  ! Rows 1 and 3 only: a non-contiguous section, copied in by the compiler.
  call aeolus_forward(lin, x(1:4:2, :), y2, status)
  call expect(status == AEOLUS_OK, 'forward section: '//aeolus_last_error())
  call expect(maxval(abs(y2 - y(1:4:2, :))) < 1d-14, 'section values')

  ! reverse_dims: x(features, batch) is the model's [batch, features], with no copy; y likewise.
  xt = transpose(x)
  call aeolus_forward(lin, xt, yt, status, reverse_dims=.true.)
  call expect(status == AEOLUS_OK, 'forward reverse_dims: '//aeolus_last_error())
  call expect(maxval(abs(transpose(yt) - expected(x))) < 1d-14, 'reverse_dims real64 values')
  xst = transpose(xs)
  call aeolus_forward(lin, xst, yst, status, reverse_dims=.true.)
  call expect(status == AEOLUS_OK .and. maxval(abs(transpose(yst) - ys)) < 1e-6, &
              'reverse_dims real32: '//aeolus_last_error())
  call aeolus_forward(lin, xt, yt, status, reverse_dims=.false.)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_MODEL, 'reverse_dims=.false. is Fortran order: '//msg)
  ! The shapes the model sees are the reversed ones: an output (4, 2) is [2, 4] to it.
  badt = -7
  call aeolus_forward(lin, xt, badt, status, reverse_dims=.true.)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_MODEL .and. index(msg, 'output array has shape [2, 4]') > 0 &
              .and. all(badt == -7), 'reverse_dims wrong output shape: '//msg)
  ! A train step with reverse_dims on (features, batch) arrays equals one in Fortran order on the
  ! transposed arrays: the same losses, the same trained model (two copies, three SGD steps).
  open (newunit=unit, file=trim(dir)//'/train.yaml', status='replace', action='write')
  write (unit, '(a)') 'training: {optimizer: sgd, learning_rate: 0.5, threads: 1}'
  close (unit)
  call aeolus_load(m1, trim(dir)//'/linear_tanh.pt', status)
  call aeolus_load(m2, trim(dir)//'/linear_tanh.pt', status)
  call aeolus_trainer_create(t1, m1, trim(dir)//'/train.yaml', 'training', status)
  call expect(status == AEOLUS_OK, 'trainer 1: '//aeolus_last_error())
  call aeolus_trainer_create(t2, m2, trim(dir)//'/train.yaml', 'training', status)
  call expect(status == AEOLUS_OK, 'trainer 2: '//aeolus_last_error())
  tgt = 0.25d0 * x(:, 1:2) - 0.1d0
  tgtt = transpose(tgt)
  do k = 1, 3
    call aeolus_train_step(t1, x, tgt, loss1, status)
    call expect(status == AEOLUS_OK, 'train step: '//aeolus_last_error())
    call aeolus_train_step(t2, xt, tgtt, loss2, status, reverse_dims=.true.)
    call expect(status == AEOLUS_OK, 'train step reverse_dims: '//aeolus_last_error())
    call expect(abs(loss2 - loss1) <= 1d-14 * loss1 .and. loss1 > 0, 'reverse_dims losses')
    if (k == 1) then
      call expect(abs(loss1 - sum((expected(x) - tgt)**2) / 8) < 1d-14, 'first loss by hand')
    end if
  end do
  call aeolus_forward(m1, x, y, status)
  call aeolus_forward(m2, xt, yt, status, reverse_dims=.true.)
  call expect(maxval(abs(transpose(yt) - y)) < 1d-14 .and. maxval(abs(y - expected(x))) > 1d-3, &
              'reverse_dims trained models')
  call aeolus_trainer_free(t1)
  call aeolus_trainer_free(t2)
  call aeolus_free(m1)
  call aeolus_free(m2)

  ! y = 2 x + 1 element by element, ranks 1, 3 and 4.
  a1 = [(0.5d0 * i - 1d0, i = 1, 5)]
  call aeolus_forward(aff, a1, b1, status)
  call expect(status == AEOLUS_OK .and. all(b1 == 2 * a1 + 1), 'affine rank 1')
  do k = 1, 4
    do j = 1, 3
      do i = 1, 2
        a3(i, j, k) = i + 10 * j + 100 * k
      end do
    end do
  end do
  call aeolus_forward(aff, a3, b3, status)
  call expect(status == AEOLUS_OK .and. all(b3 == 2 * a3 + 1), 'affine rank 3')
  a4 = reshape([(real(i, real32) / 8, i = 1, size(a4))], shape(a4))
  call aeolus_forward(aff, a4, b4, status)
  call expect(status == AEOLUS_OK .and. all(b4 == 2 * a4 + 1), 'affine rank 4')

  ! The output's shape before forward: x(4, 3) gives y(4, 2) (the last extent 3 -> 2), an
  ! x(features, batch) with reverse_dims the y(2, batch) that forward takes; affine keeps it.
  call aeolus_output_shape(lin, shape(x), oshape, status)
  call expect(status == AEOLUS_OK, 'output_shape: '//aeolus_last_error())
  call expect(shape_is(oshape, [4_int64, 2_int64]), 'output_shape (4, 3)')
  call expect(shape_is(oshape, shape(y, kind=int64)), 'output_shape is forward''s y')
  call aeolus_output_shape(lin, [7_int64, 3_int64], oshape, status)
  call expect(shape_is(oshape, [7_int64, 2_int64]), 'output_shape int64: '//aeolus_last_error())
  call aeolus_output_shape(lin, shape(xt), oshape, status, reverse_dims=.true.)
  call expect(shape_is(oshape, [2_int64, 4_int64]) .and. shape_is(oshape, shape(yt, kind=int64)), &
              'output_shape reverse_dims: '//aeolus_last_error())
  call aeolus_output_shape(lin, [3, 5, 9], oshape, status, reverse_dims=.true.)
  call expect(shape_is(oshape, [2_int64, 5_int64, 9_int64]), 'output_shape reverse_dims rank 3')
  call aeolus_output_shape(aff, shape(a4), oshape, status)
  call expect(status == AEOLUS_OK .and. shape_is(oshape, shape(a4, kind=int64)), &
              'output_shape affine rank 4')
  call aeolus_output_shape(lin, [4, 5], oshape, status)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_MODEL .and. .not. allocated(oshape) .and. &
              index(msg, 'forward failed on an input of shape [4, 5]') > 0 .and. &
              index(msg, '4x5 and 3x2') > 0, 'output_shape refused: '//msg)

  ! LibTorch's threads: a round trip and a refusal that leaves the setting.
  call aeolus_get_num_threads(threads0, status)
  call expect(status == AEOLUS_OK .and. threads0 >= 1, 'get_num_threads')
  call aeolus_set_num_threads(2, status)
  call aeolus_get_num_threads(threads, status)
  call expect(status == AEOLUS_OK .and. threads == 2, 'set_num_threads(2)')
  call aeolus_set_num_threads(0, status)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_ARGUMENT .and. &
              msg == 'aeolus_set_num_threads: n = 0; expected a thread count >= 1', &
              'set_num_threads(0): '//msg)
  call aeolus_get_num_threads(threads, status)
  call expect(threads == 2, 'threads unchanged by a refusal')
  call aeolus_set_num_threads(threads0, status)
  call expect(status == AEOLUS_OK, 'set_num_threads back')

  ! LibTorch's warnings: kept on this thread, not printed (the C++ test checks stderr).
  call aeolus_clear_warnings(status)
  call expect(status == AEOLUS_OK .and. aeolus_last_warnings() == '', 'clear_warnings')
  call aeolus_load(wm, trim(dir)//'/warn.pt', status)
  call expect(status == AEOLUS_OK, 'load warn: '//aeolus_last_error())
  call aeolus_forward(wm, x, bad, status)
  call expect(status == AEOLUS_OK .and. all(bad == x), 'forward warn: '//aeolus_last_error())
  msg = aeolus_last_warnings()
  call expect(index(msg, 'aeolus test warning') == 1 .and. index(msg, new_line('a')) == 0, &
              'last_warnings: '//msg)
  call aeolus_clear_warnings(status)
  call expect(status == AEOLUS_OK .and. len(aeolus_last_warnings()) == 0, 'cleared')
  call aeolus_set_warnings(3, status)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_ARGUMENT .and. index(msg, 'mode = 3') > 0, &
              'set_warnings(3): '//msg)
  call aeolus_set_warnings(AEOLUS_WARNINGS_CAPTURE, status)
  call expect(status == AEOLUS_OK, 'set_warnings capture')
  call aeolus_free(wm)

  ! Refusals: an output of the wrong shape (left unchanged), a missing file, a null model.
  bad = -7
  call aeolus_forward(lin, x, bad, status)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_MODEL .and. index(msg, 'output array has shape [4, 3]') > 0 &
              .and. all(bad == -7), 'wrong output shape: '//msg)
  call aeolus_load(none, trim(dir)//'/missing.pt', status)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_IO .and. index(msg, 'missing.pt') > 0, 'missing file: '//msg)
  call aeolus_forward(none, x, y, status)
  msg = aeolus_last_error()
  call expect(status == AEOLUS_ERROR_ARGUMENT .and. index(msg, 'model is NULL') > 0, &
              'null model: '//msg)

  call aeolus_free(lin)
  call aeolus_free(aff, status)
  call expect(status == AEOLUS_OK, 'free')
  if (failures > 0) error stop 1
  print '(a)', 'test_fortran: ok'

contains

  function expected(xx) result(yy)
    real(real64), intent(in) :: xx(:, :)
    real(real64) :: yy(size(xx, 1), 2)
    integer :: b, o
    do o = 1, 2
      do b = 1, size(xx, 1)
        yy(b, o) = tanh(c(o) + sum(w(o, :) * xx(b, :)))
      end do
    end do
  end function expected

  ! s is allocated and equals want.
  logical function shape_is(s, want)
    integer(int64), allocatable, intent(in) :: s(:)
    integer(int64), intent(in) :: want(:)
    shape_is = .false.
    if (.not. allocated(s)) return
    if (size(s) /= size(want)) return
    shape_is = all(s == want)
  end function shape_is

  subroutine expect(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (.not. ok) then
      print '(a)', 'FAILED: '//what
      failures = failures + 1
    end if
  end subroutine expect

end program test_fortran
