! A Fortran host with its own time loop and MPI (the mpi module) that advances its array
! q(nx, ny) with the case's stepper through the Fortran module, checked bitwise against
! `aeolus run` of the same case (run_stepper_host.cmake writes the case and runs aeolus first):
!   test_stepper_fortran check CASE_DIR
! The frames of CASE_DIR/output/fields.nc are read with netcdf-c through iso_c_binding.
program test_stepper_fortran
  use, intrinsic :: iso_c_binding, only: c_int, c_char, c_size_t, c_double, c_null_char
  use mpi
  use aeolus
  implicit none

  interface
    function nc_open(path, mode, ncid) bind(c, name="nc_open") result(s)
      import :: c_char, c_int
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), value :: mode
      integer(c_int), intent(out) :: ncid
      integer(c_int) :: s
    end function nc_open
    function nc_inq_varid(ncid, name, varid) bind(c, name="nc_inq_varid") result(s)
      import :: c_char, c_int
      integer(c_int), value :: ncid
      character(kind=c_char), intent(in) :: name(*)
      integer(c_int), intent(out) :: varid
      integer(c_int) :: s
    end function nc_inq_varid
    function nc_get_vara_double(ncid, varid, start, count, values) &
      bind(c, name="nc_get_vara_double") result(s)
      import :: c_int, c_size_t, c_double
      integer(c_int), value :: ncid, varid
      integer(c_size_t), intent(in) :: start(*), count(*)
      real(c_double), intent(out) :: values(*)
      integer(c_int) :: s
    end function nc_get_vara_double
    function nc_close(ncid) bind(c, name="nc_close") result(s)
      import :: c_int
      integer(c_int), value :: ncid
      integer(c_int) :: s
    end function nc_close
  end interface

  integer, parameter :: n = 32, steps_per_frame = 8
  ! The host's step, 2^-7: time.dt_max of the case, below the CFL limit 0.5 / 48.
  real(c_double), parameter :: host_dt = 0.0078125_c_double
  character(len=4096) :: mode, dir
  type(aeolus_stepper) :: st
  real(c_double) :: q(n, n), expect(n, n), wrong(n - 1, n), t, dt
  integer :: ierr, status, frame, k, failures

  failures = 0
  call get_command_argument(1, mode)
  call get_command_argument(2, dir)
  if (trim(mode) /= 'check' .or. len_trim(dir) == 0) then
    print '(a)', 'usage: test_stepper_fortran check CASE_DIR'
    stop 2
  end if
  call mpi_init(ierr)
  call read_frame(0, q)

  ! Refusals: a stepper name the registry does not have, an array that is not the owned box.
  call aeolus_stepper_create(st, dir, MPI_COMM_WORLD, [n, n], [1, 1], [n, n], status, &
                             stepper_name='nope')
  call expect_error(status, AEOLUS_ERROR_ARGUMENT, &
                    'stepper = "nope" is unknown; expected one of: classical, emulator')

  call aeolus_stepper_create(st, dir, MPI_COMM_WORLD, [n, n], [1, 1], [n, n], status)
  call expect_ok(status)
  t = 0
  dt = host_dt
  wrong = 0
  call aeolus_stepper_step(st, wrong, t, dt, status)
  call expect_error(status, AEOLUS_ERROR_ARGUMENT, &
                    'q has shape [31, 32]; expected the owned box [32, 32]')

  do frame = 1, 2
    do k = 1, steps_per_frame
      call aeolus_stepper_max_dt(st, q, t, dt, status)
      call expect_ok(status)
      if (.not. dt > host_dt) call fail('max_dt is not above the host''s step')
      dt = host_dt
      call aeolus_stepper_step(st, q, t, dt, status)
      call expect_ok(status)
    end do
    if (t /= frame*steps_per_frame*host_dt) call fail('t is not the frame''s time')
    call read_frame(frame, expect)
    if (any(q /= expect)) then
      print '(a, i0, a, i0, a)', 'frame ', frame, ': ', count(q /= expect), &
        ' cells differ from aeolus run'
      failures = failures + 1
    end if
  end do
  call aeolus_stepper_free(st, status)
  call expect_ok(status)
  call aeolus_finalize(status)
  call expect_ok(status)
  call mpi_finalize(ierr)
  if (failures > 0) stop 1
  print '(a)', '16 steps bitwise equal to aeolus run'

contains

  subroutine read_frame(frame, values)
    integer, intent(in) :: frame
    real(c_double), intent(out) :: values(n, n)
    integer(c_int) :: nc, var
    ! netcdf-c's order: (time, y, x), C indices from 0.
    if (nc_open(trim(dir)//'/output/fields.nc'//c_null_char, 0_c_int, nc) /= 0) then
      call fail('cannot open output/fields.nc')
      stop 1
    end if
    if (nc_inq_varid(nc, 'q'//c_null_char, var) /= 0) call fail('no variable q')
    if (nc_get_vara_double(nc, var, [integer(c_size_t) :: frame, 0, 0], &
                           [integer(c_size_t) :: 1, n, n], values) /= 0) call fail('cannot read q')
    if (nc_close(nc) /= 0) call fail('cannot close output/fields.nc')
  end subroutine read_frame

  subroutine expect_ok(s)
    integer, intent(in) :: s
    if (s /= AEOLUS_OK) call fail(aeolus_last_error())
  end subroutine expect_ok

  subroutine expect_error(s, expected, part)
    integer, intent(in) :: s, expected
    character(len=*), intent(in) :: part
    character(len=:), allocatable :: message
    message = aeolus_last_error()
    if (s /= expected .or. index(message, part) == 0) then
      call fail('expected status '//achar(48 + expected)//' and "'//part//'", got: '//message)
    end if
  end subroutine expect_error

  subroutine fail(what)
    character(len=*), intent(in) :: what
    print '(2a)', 'FAILED: ', what
    failures = failures + 1
  end subroutine fail

end program test_stepper_fortran
