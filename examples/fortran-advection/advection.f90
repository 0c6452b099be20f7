! A small Fortran host code: 2D linear advection q_t + u q_x + v q_y = 0 on a periodic box,
! with its own settings (a namelist), its own arrays, its own MPI decomposition (a Cartesian
! communicator from MPI_Dims_create / MPI_Cart_create), its own halo exchange (MPI_Sendrecv) and
! its own first-order upwind fluxes. With flux = 'aeolus' it hands each step to an Aeolus stepper
! (by default the case's trained emulator) through the Fortran module, on its own decomposition.
! With flux = 'train' it trains a TorchScript model online (a correction of its upwind scheme,
! make_model.py) toward the steps of an Aeolus classical scheme, and saves it; with
! flux = 'model' it steps with such a model: q = q + model(q with its halo).
!
!   mpiexec -n 2 ./advection [SETTINGS.nml] [key=value ...]
!
! key=value arguments override the namelist file, in namelist syntax (strings quoted):
!   ./advection advection.nml "flux='aeolus'" steps=32
!   mpiexec -n 2 ./advection online_train.nml     (then online_model.nml; see README.md)
!
! Output: rank 0 writes every output_every steps the global field to `output`, a stream file:
!   int32 nx, int32 ny, then per frame: int64 step, float64 t, float64 q(nx, ny) (x fastest)
! and prints the step, the time and the total mass.
program advection_host
  use, intrinsic :: iso_fortran_env, only: real64, int32, int64, error_unit
  use, intrinsic :: iso_c_binding, only: c_loc, c_f_pointer
  use mpi_f08
  use aeolus
  implicit none

  ! ---- Settings (namelist /advection/), with their defaults ----
  integer :: nx = 32, ny = 32                   ! global cells
  real(real64) :: lx = 1, ly = 1                ! box [0, lx] x [0, ly]
  real(real64) :: u = 1, v = 0.5_real64         ! constant velocity
  real(real64) :: center(2) = [0.3_real64, 0.3_real64], radius = 0.08_real64, amplitude = 1
  real(real64) :: courant = 0.5_real64          ! upwind: dt (|u|/dx + |v|/dy) = courant
  integer :: steps = 16, output_every = 0       ! output_every = 0: first and last step only
  character(len=16) :: flux = 'upwind'          ! 'upwind' (this code), 'aeolus', 'train', 'model'
  character(len=512) :: case_dir = 'case'       ! 'aeolus', 'train': the Aeolus case directory
  character(len=32) :: stepper = 'emulator'     ! 'aeolus', 'train': the stepper of that case
  integer :: px = 0, py = 0                     ! process grid; 0: chosen (see decompose)
  integer :: halo = 1                           ! ghost cells per side (the model's: 3)
  character(len=512) :: model = 'model0.pt'     ! 'train': the initial model; 'model': the model
  character(len=512) :: model_out = 'online.pt' ! 'train': where the trained model is saved
  character(len=512) :: training_config = 'training.yaml'   ! 'train': the optimizer's settings,
  character(len=64) :: training_section = 'training'        ! in this section of that file
  integer :: loss_every = 50                    ! 'train': print the loss every loss_every steps
  character(len=512) :: loss_output = ''        ! 'train': file of every step's loss ('': none)
  character(len=512) :: output = 'advection.dat'
  namelist /advection/ nx, ny, lx, ly, u, v, center, radius, amplitude, courant, steps, &
    output_every, flux, case_dir, stepper, px, py, halo, model, model_out, training_config, &
    training_section, loss_every, loss_output, output

  type(MPI_Comm) :: cart
  type(MPI_Datatype) :: column                         ! halo columns of owned rows, strided
  integer :: nranks, rank, coords(2), is, js, nxl, nyl   ! this rank's box: is..is+nxl-1, ...
  real(real64), allocatable, target :: q(:, :)         ! q(1-halo:nxl+halo, 1-halo:nyl+halo)
  real(real64), allocatable :: work(:, :)              ! the owned cells, contiguous
  real(real64), allocatable :: fx(:, :), fy(:, :)      ! upwind fluxes through x and y faces
  real(real64), allocatable :: dq(:, :, :, :)          ! 'train', 'model': dq(nxl, nyl, 1, 1)
  real(real64), pointer :: q4(:, :, :, :) => null()    ! q as (nxl+2 halo, nyl+2 halo, 1, 1)
  real(real64) :: dx, dy, dt, t, mass0, dt_ref, t_ref, loss, loss0
  type(aeolus_stepper) :: st
  type(aeolus_model) :: net
  type(aeolus_trainer) :: tr
  integer :: step, status, out_unit, loss_unit

  call MPI_Init()
  call MPI_Comm_size(MPI_COMM_WORLD, nranks)
  call read_settings()
  call decompose()
  dx = lx/nx
  dy = ly/ny
  allocate (q(1 - halo:nxl + halo, 1 - halo:nyl + halo), work(nxl, nyl), fx(0:nxl, nyl), &
            fy(nxl, 0:nyl))
  q = 0
  call MPI_Type_vector(nyl, halo, nxl + 2*halo, MPI_DOUBLE_PRECISION, column)
  call MPI_Type_commit(column)
  call initial_condition()
  t = 0
  mass0 = total_mass()
  dt = courant/(abs(u)/dx + abs(v)/dy)   ! this code's step (not used with flux = 'aeolus')

  select case (flux)
  case ('upwind')
  case ('aeolus', 'train')
    ! The stepper is built on this code's decomposition: each rank passes its own box. The
    ! communicator crosses as the Fortran integer handle (mpi_f08: %MPI_VAL).
    call aeolus_stepper_create(st, case_dir, cart%MPI_VAL, [nx, ny], [is, js], [nxl, nyl], &
                               status, stepper_name=stepper)
    call check(status, 'aeolus_stepper_create')
  case ('model')
  case default
    call stop_with('flux = '''//trim(flux)// &
                   '''; expected ''upwind'', ''aeolus'', ''train'' or ''model''')
  end select
  if (flux == 'train' .or. flux == 'model') call start_model()
  if (output_every <= 0) output_every = steps

  if (rank == 0) then
    open (newunit=out_unit, file=output, access='stream', form='unformatted', &
          status='replace', action='write')
    write (out_unit) int(nx, int32), int(ny, int32)
  end if
  call write_frame(0)
  do step = 1, steps
    select case (flux)
    case ('aeolus')
      ! The owned cells, contiguous, x fastest: what the stepper copies into its own field.
      work = q(1:nxl, 1:nyl)
      call aeolus_stepper_max_dt(st, work, t, dt, status)  ! an emulator's fixed step
      call check(status, 'aeolus_stepper_max_dt')
      call aeolus_stepper_step(st, work, t, dt, status)    ! advances work and t
      call check(status, 'aeolus_stepper_step')
      q(1:nxl, 1:nyl) = work
    case ('train')
      call train_step(step)
    case ('model')
      ! The model reads q with its halo, in place: q(1-h:nxl+h, 1-h:nyl+h) seen as the C-order
      ! tensor [1, 1, nyl+2h, nxl+2h] (reverse_dims), and writes the increment into dq, seen as
      ! [1, 1, nyl, nxl].
      call exchange_halo()
      call aeolus_forward(net, q4, dq, status, reverse_dims=.true.)
      call check(status, 'aeolus_forward')
      q(1:nxl, 1:nyl) = q(1:nxl, 1:nyl) + dq(:, :, 1, 1)
      t = t + dt
    case default
      call exchange_halo()
      call upwind_step()
      t = t + dt
    end select
    if (mod(step, output_every) == 0 .or. step == steps) call write_frame(step)
  end do
  if (rank == 0) close (out_unit)

  if (flux == 'train') then
    ! Rank 0 writes the trained model (TorchScript, atomically), where the torchscript case
    ! points. Collective.
    call aeolus_trainer_save(tr, status, model_path=model_out)
    call check(status, 'aeolus_trainer_save')
    if (rank == 0) print '(2a)', 'saved the trained model to ', trim(model_out)
    call aeolus_trainer_free(tr, status)
    call check(status, 'aeolus_trainer_free')
    if (rank == 0 .and. loss_output /= '') close (loss_unit)
  end if
  if (flux == 'train' .or. flux == 'model') call aeolus_free(net)
  if (flux == 'aeolus' .or. flux == 'train') then
    call aeolus_stepper_free(st, status)
    call check(status, 'aeolus_stepper_free')
    call aeolus_finalize(status)   ! ends PETSc, which the first stepper started
    call check(status, 'aeolus_finalize')
  end if
  call MPI_Type_free(column)
  call MPI_Comm_free(cart)
  call MPI_Finalize()

contains

  ! The namelist file (first argument, if it has no '='), then key=value arguments, each read
  ! as a one-line namelist.
  subroutine read_settings()
    character(len=1024) :: arg, message
    character(len=1040) :: line
    integer :: i, unit, ios
    do i = 1, command_argument_count()
      call get_command_argument(i, arg)
      if (i == 1 .and. index(arg, '=') == 0) then
        open (newunit=unit, file=arg, status='old', action='read', iostat=ios, iomsg=message)
        if (ios == 0) read (unit, nml=advection, iostat=ios, iomsg=message)
        if (ios /= 0) call stop_with(trim(arg)//': '//trim(message))
        close (unit)
      else
        line = '&advection '//trim(arg)//' /'   ! a one-line namelist
        read (line, nml=advection, iostat=ios, iomsg=message)
        if (ios /= 0) call stop_with('argument '//trim(arg)//': '//trim(message))
      end if
    end do
    if (nx < 1 .or. ny < 1 .or. steps < 0) call stop_with('nx, ny must be >= 1 and steps >= 0')
    if (halo < 1) call stop_with('halo must be >= 1 (upwind reads one ghost cell)')
    if (loss_every < 1) call stop_with('loss_every must be >= 1')
  end subroutine read_settings

  ! The process grid: px x py ranks, the larger count of MPI_Dims_create along the longer side
  ! (along y for a square grid), unless px or py is given. This is the choice PETSc's DMDA makes
  ! for `aeolus run` on square grids (and most others), which an emulator needs to be bitwise
  ! equal to `aeolus run` (README). Blocks as PETSc's: n/p cells each, one more for the first
  ! mod(n, p) ranks.
  subroutine decompose()
    integer :: dims(2)
    if (nx > ny) then
      dims = [px, py]
    else
      dims = [py, px]
    end if
    call MPI_Dims_create(nranks, 2, dims)
    if (nx > ny) then
      px = dims(1)
      py = dims(2)
    else
      px = dims(2)
      py = dims(1)
    end if
    if (px*py /= nranks) call stop_with('px * py is not the number of ranks')
    call MPI_Cart_create(MPI_COMM_WORLD, 2, [px, py], [.true., .true.], .false., cart)
    call MPI_Comm_rank(cart, rank)
    call MPI_Cart_coords(cart, rank, 2, coords)
    call block(nx, px, coords(1), is, nxl)
    call block(ny, py, coords(2), js, nyl)
    if (nxl < 1 .or. nyl < 1) call stop_with('more ranks than cells along x or y')
    ! The halo comes from the nearest neighbours only.
    if (nxl < halo .or. nyl < halo) call stop_with('a block is narrower than the halo')
  end subroutine decompose

  ! Cells first..first+count-1 (1-based) of n split over p parts, part c (0-based).
  subroutine block(n, p, c, first, count)
    integer, intent(in) :: n, p, c
    integer, intent(out) :: first, count
    count = n/p
    if (c < mod(n, p)) count = count + 1
    first = c*(n/p) + min(c, mod(n, p)) + 1
  end subroutine block

  ! Cell averages of a Gaussian (of the shortest periodic distance to `center`) by the
  ! 3-point Gauss-Legendre rule along x and y, as Aeolus's advection case computes its own.
  subroutine initial_condition()
    real(real64), parameter :: xi = 0.5_real64*sqrt(0.6_real64)
    real(real64), parameter :: node(3) = [-xi, 0.0_real64, xi]
    real(real64), parameter :: weight(3) = [5.0_real64/18, 8.0_real64/18, 5.0_real64/18]
    integer :: i, j, a, b
    real(real64) :: x, y, acc
    do j = 1, nyl
      do i = 1, nxl
        acc = 0
        do b = 1, 3
          do a = 1, 3
            x = (real(is + i - 2, real64) + 0.5_real64)*dx + node(a)*dx
            y = (real(js + j - 2, real64) + 0.5_real64)*dy + node(b)*dy
            acc = acc + weight(a)*weight(b)*gaussian(x, y)
          end do
        end do
        q(i, j) = acc
      end do
    end do
  end subroutine initial_condition

  real(real64) function gaussian(x, y) result(g)
    real(real64), intent(in) :: x, y
    real(real64) :: sx, sy
    sx = x - center(1)
    sx = sx - lx*anint(sx/lx)
    sy = y - center(2)
    sy = sy - ly*anint(sy/ly)
    g = amplitude*exp(-(sx*sx + sy*sy)/(2*radius*radius))
  end function gaussian

  ! The halo (h = halo cells on each side) from the four neighbours of the periodic Cartesian
  ! communicator: h columns of the owned rows along x (a strided MPI type), then h whole rows
  ! along y, ghost columns included, which fills the corners (the model reads them).
  subroutine exchange_halo()
    integer :: left, right, down, up, h, n
    h = halo
    n = h*(nxl + 2*h)   ! h rows with their ghost columns, contiguous
    call MPI_Cart_shift(cart, 0, 1, left, right)
    call MPI_Cart_shift(cart, 1, 1, down, up)
    call MPI_Sendrecv(q(nxl - h + 1, 1), 1, column, right, 0, q(1 - h, 1), 1, column, left, 0, &
                      cart, MPI_STATUS_IGNORE)
    call MPI_Sendrecv(q(1, 1), 1, column, left, 1, q(nxl + 1, 1), 1, column, right, 1, cart, &
                      MPI_STATUS_IGNORE)
    call MPI_Sendrecv(q(1 - h, nyl - h + 1), n, MPI_DOUBLE_PRECISION, up, 2, q(1 - h, 1 - h), n, &
                      MPI_DOUBLE_PRECISION, down, 2, cart, MPI_STATUS_IGNORE)
    call MPI_Sendrecv(q(1 - h, 1), n, MPI_DOUBLE_PRECISION, down, 3, q(1 - h, nyl + 1), n, &
                      MPI_DOUBLE_PRECISION, up, 3, cart, MPI_STATUS_IGNORE)
  end subroutine exchange_halo

  ! flux = 'train' or 'model': loads the model, views q as the rank-4 array the model reads
  ! (no copy) and, for 'train', makes the model trainable and checks the reference's step.
  subroutine start_model()
    real(real64) :: max_dt
    call aeolus_load(net, model, status)
    call check(status, 'aeolus_load')
    ! q(1-h:nxl+h, 1-h:nyl+h) and q4(nxl+2h, nyl+2h, 1, 1) are the same memory; with
    ! reverse_dims the model sees it as [1, 1, nyl+2h, nxl+2h] (rows y, x fastest).
    call c_f_pointer(c_loc(q), q4, [nxl + 2*halo, nyl + 2*halo, 1, 1])
    allocate (dq(nxl, nyl, 1, 1))
    if (flux /= 'train') return
    ! Data parallel over the host's communicator: each rank's loss on its own block, the
    ! gradients averaged over the ranks (every rank holds the same weights).
    call aeolus_trainer_create(tr, net, training_config, training_section, status, &
                               comm=cart%MPI_VAL)
    call check(status, 'aeolus_trainer_create')
    work = q(1:nxl, 1:nyl)
    call aeolus_stepper_max_dt(st, work, t, max_dt, status)
    call check(status, 'aeolus_stepper_max_dt')
    if (dt > max_dt) call stop_with('the reference stepper''s largest step is below this '// &
                                    'code''s dt (raise the case''s time.cfl)')
    if (rank == 0 .and. loss_output /= '') then
      open (newunit=loss_unit, file=loss_output, status='replace', action='write')
      write (loss_unit, '(a)') '# step loss (the mean over the ranks, before the step)'
    end if
  end subroutine start_model

  ! One step of online training: the reference's next state (the Aeolus stepper of case_dir on
  ! a copy of the owned cells), one optimizer step of the model toward its increment, then q
  ! follows the reference trajectory.
  subroutine train_step(at_step)
    integer, intent(in) :: at_step
    call exchange_halo()                     ! the model's input: q with its halo
    work = q(1:nxl, 1:nyl)
    t_ref = t
    dt_ref = dt
    call aeolus_stepper_step(st, work, t_ref, dt_ref, status)
    call check(status, 'aeolus_stepper_step')
    dq(:, :, 1, 1) = work - q(1:nxl, 1:nyl)  ! the target: the reference increment
    call aeolus_train_step(tr, q4, dq, loss, status, reverse_dims=.true.)
    call check(status, 'aeolus_train_step')
    q(1:nxl, 1:nyl) = work
    t = t_ref
    if (at_step == 1) loss0 = loss
    if (rank /= 0) return
    if (loss_output /= '') write (loss_unit, '(i8, es24.16)') at_step, loss
    if (mod(at_step, loss_every) == 0 .or. at_step == 1 .or. at_step == steps) &
      print '(a, i6, a, es11.4, a, es10.3, a)', 'step', at_step, '  loss ', loss, &
      '  (loss/first ', loss/loss0, ')'
  end subroutine train_step

  ! First-order upwind in flux form: conservative, exact shift at Courant number 1.
  subroutine upwind_step()
    integer :: i, j
    do j = 1, nyl
      do i = 0, nxl
        fx(i, j) = max(u, 0.0_real64)*q(i, j) + min(u, 0.0_real64)*q(i + 1, j)
      end do
    end do
    do j = 0, nyl
      do i = 1, nxl
        fy(i, j) = max(v, 0.0_real64)*q(i, j) + min(v, 0.0_real64)*q(i, j + 1)
      end do
    end do
    do j = 1, nyl
      do i = 1, nxl
        q(i, j) = q(i, j) - dt/dx*(fx(i, j) - fx(i - 1, j)) - dt/dy*(fy(i, j) - fy(i, j - 1))
      end do
    end do
  end subroutine upwind_step

  real(real64) function total_mass() result(m)
    call MPI_Allreduce(sum(q(1:nxl, 1:nyl))*dx*dy, m, 1, MPI_DOUBLE_PRECISION, MPI_SUM, cart)
  end function total_mass

  ! Gathers the global field on rank 0, which writes it and prints the mass.
  subroutine write_frame(at_step)
    integer, intent(in) :: at_step
    integer :: box(4), r, i0, j0, ni, nj, offset
    integer, allocatable :: boxes(:, :), counts(:), displs(:)
    real(real64), allocatable :: all(:), global(:, :)
    real(real64) :: m
    box = [is, js, nxl, nyl]
    allocate (boxes(4, nranks), counts(nranks), displs(nranks), all(nx*ny))
    call MPI_Gather(box, 4, MPI_INTEGER, boxes, 4, MPI_INTEGER, 0, cart)
    counts = boxes(3, :)*boxes(4, :)
    displs = 0
    do r = 2, nranks
      displs(r) = displs(r - 1) + counts(r - 1)
    end do
    work = q(1:nxl, 1:nyl)
    call MPI_Gatherv(work, nxl*nyl, MPI_DOUBLE_PRECISION, all, counts, displs, &
                     MPI_DOUBLE_PRECISION, 0, cart)
    m = total_mass()
    if (rank /= 0) return
    allocate (global(nx, ny))
    do r = 1, nranks
      i0 = boxes(1, r)
      j0 = boxes(2, r)
      ni = boxes(3, r)
      nj = boxes(4, r)
      offset = displs(r)
      global(i0:i0 + ni - 1, j0:j0 + nj - 1) = reshape(all(offset + 1:offset + ni*nj), [ni, nj])
    end do
    write (out_unit) int(at_step, int64), t, global
    print '(a, i6, a, es12.5, a, es23.16, a, es10.2, a, i0, a, i0)', 'step', at_step, '  t ', t, &
      '  mass ', m, ' (rel ', (m - mass0)/mass0, ')  ranks ', px, ' x ', py
  end subroutine write_frame

  subroutine check(s, what)
    integer, intent(in) :: s
    character(len=*), intent(in) :: what
    if (s /= AEOLUS_OK) call stop_with(what//': '//aeolus_last_error())
  end subroutine check

  subroutine stop_with(message)
    character(len=*), intent(in) :: message
    write (error_unit, '(2a)') 'advection: ', message
    call MPI_Abort(MPI_COMM_WORLD, 1)
  end subroutine stop_with

end program advection_host
