! The Fortran wrappers of online training (one process, no MPI): the affine test model
! y = a x + c (a = 2, c = 1) learns y = 3 x - 0.5 from exact data with SGD; the loss falls by more
! than 1e3; real32 and rank-2 arrays step too; the saved model loads with the trained weights; a
! saved state restores with its step count; refusals come back as statuses with messages.
!   test_online_training_fortran DIR   (DIR holds affine.pt, float64 parameters)
program test_online_training_fortran
  use, intrinsic :: iso_fortran_env, only: real32, real64, int64, error_unit
  use aeolus
  implicit none
  character(len=512) :: dir
  type(aeolus_model) :: model, loaded
  type(aeolus_trainer) :: tr
  integer, parameter :: n = 16
  real(real64) :: x(n), t(n), y(n), y2(n), loss, first
  real(real64) :: x2(4, 4), t2(4, 4)
  real(real32) :: xs(n), ts(n)
  integer(int64) :: steps
  integer :: status, i, unit, failures
  character(len=:), allocatable :: cfg

  failures = 0
  call get_command_argument(1, dir)
  cfg = trim(dir)//'/train.yaml'
  open (newunit=unit, file=cfg, status='replace', action='write')
  write (unit, '(a)') 'training:'
  write (unit, '(a)') '  optimizer: sgd'
  write (unit, '(a)') '  learning_rate: 0.1'
  write (unit, '(a)') '  momentum: 0.9'
  close (unit)
  do i = 1, n
    x(i) = real(i - 1, real64)/real(n - 1, real64)
  end do
  t = 3*x - 0.5_real64

  call aeolus_load(model, trim(dir)//'/affine.pt', status)
  call check(status == AEOLUS_OK, 'load: '//aeolus_last_error())
  call aeolus_trainer_create(tr, model, cfg, 'training', status)
  call check(status == AEOLUS_OK, 'create: '//aeolus_last_error())

  do i = 1, 200
    call aeolus_train_step(tr, x, t, loss, status)
    call check(status == AEOLUS_OK, 'step: '//aeolus_last_error())
    if (i == 1) first = loss
  end do
  ! The first loss by hand: the error is 2 x + 1 - (3 x - 0.5) = 1.5 - x.
  call check(abs(first - sum((1.5_real64 - x)**2)/n) < 1e-14_real64, 'first loss')
  call check(loss < first*1e-3_real64, 'the loss did not fall by 1e3')
  call aeolus_forward(model, x, y, status)
  call check(status == AEOLUS_OK, 'forward')
  call check(maxval(abs(y - t)) < 1e-2_real64, 'the model did not learn y = 3 x - 0.5')

  ! real32 arrays and rank-2 arrays (Fortran order, converted to the model's float64).
  xs = real(x, real32)
  ts = real(t, real32)
  call aeolus_train_step(tr, xs, ts, loss, status)
  call check(status == AEOLUS_OK, 'real32 step: '//aeolus_last_error())
  x2 = reshape(x, [4, 4])
  t2 = reshape(t, [4, 4])
  call aeolus_train_step(tr, x2, t2, loss, status)
  call check(status == AEOLUS_OK, 'rank-2 step: '//aeolus_last_error())
  call aeolus_trainer_steps(tr, steps, status)
  call check(status == AEOLUS_OK .and. steps == 202_int64, 'steps')

  ! Save; the saved model has the trained weights.
  call aeolus_trainer_save(tr, status, model_path=trim(dir)//'/trained.pt', &
                           state_path=trim(dir)//'/trained.state')
  call check(status == AEOLUS_OK, 'save: '//aeolus_last_error())
  call aeolus_load(loaded, trim(dir)//'/trained.pt', status)
  call check(status == AEOLUS_OK, 'load trained: '//aeolus_last_error())
  call aeolus_forward(model, x, y, status)
  call aeolus_forward(loaded, x, y2, status)
  call check(all(y == y2), 'the saved model differs from the trained one')
  call aeolus_trainer_save(tr, status)  ! nothing to write: fine
  call check(status == AEOLUS_OK, 'save of nothing')
  call aeolus_trainer_restore(tr, trim(dir)//'/trained.state', status)
  call check(status == AEOLUS_OK, 'restore: '//aeolus_last_error())

  ! Refusals: a target of another shape, a missing state file, a missing section.
  call aeolus_train_step(tr, x, t2, loss, status)
  call check(status == AEOLUS_ERROR_ARGUMENT, 'wrong target shape accepted')
  call check(index(aeolus_last_error(), 'target has shape [4, 4]; expected the model''s '// &
                   'output shape [16]') > 0, 'message: '//aeolus_last_error())
  call aeolus_trainer_restore(tr, trim(dir)//'/none.state', status)
  call check(status == AEOLUS_ERROR_IO, 'missing state accepted')
  call aeolus_trainer_free(tr, status)
  call check(status == AEOLUS_OK, 'free')
  call aeolus_trainer_create(tr, model, cfg, 'emulator.training', status)
  call check(status == AEOLUS_ERROR_CASE, 'missing section accepted')
  call check(index(aeolus_last_error(), "no section 'emulator'") > 0, &
             'message: '//aeolus_last_error())
  call aeolus_trainer_free(tr)

  call aeolus_free(loaded)
  call aeolus_free(model, status)
  call check(status == AEOLUS_OK, 'free model')
  if (failures > 0) then
    write (error_unit, '(i0,a)') failures, ' check(s) failed'
    error stop 1
  end if

contains

  subroutine check(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (.not. ok) then
      write (error_unit, '(a)') 'FAILED: '//what
      failures = failures + 1
    end if
  end subroutine check

end program test_online_training_fortran
