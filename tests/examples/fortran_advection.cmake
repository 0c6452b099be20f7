# example_fortran_advection_np{1,2}: examples/fortran-advection built against the installed
# package, then on RANKS ranks:
#  - its own upwind scheme: mass conserved to round-off, the exact shift at Courant number 1
#    along x, and (2 ranks) the same bits as on 1 rank;
#  - the case's flux-CNN emulator (trained here: aeolus dataset + aeolus train, a few seconds)
#    stepping the host's arrays: every frame bitwise equal to `aeolus run` of the case on the
#    same rank count; (2 ranks) also on columns, a decomposition aeolus run does not choose,
#    where the difference is measured and bounded.
#   cmake -DPREFIX= -DSOURCE=<examples/fortran-advection> -DWORK= -DMPIEXEC= -DRANKS=
#         -DCHECK=<check_dump> -DFORTRAN=<compiler> -P fortran_advection.cmake
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
configure_and_build(${SOURCE} ${WORK}/build -DCMAKE_Fortran_COMPILER=${FORTRAN})
set(host ${MPIEXEC} -n ${RANKS} --oversubscribe ${WORK}/build/advection ${SOURCE}/advection.nml)
set(aeolus ${PREFIX}/bin/aeolus)

# The host's own scheme.
run("upwind, ${RANKS} rank(s)" ${host} "output='upwind.dat'")
run("upwind: mass" ${CHECK} mass upwind.dat 1e-13)
run("upwind at Courant number 1 along x" ${host} u=1 v=0 courant=1 steps=40 output_every=5
  "output='shift.dat'")
run("upwind: the exact shift" ${CHECK} shift shift.dat 1e-14)
if(RANKS GREATER 1)
  run("upwind, 1 rank" ${MPIEXEC} -n 1 ${WORK}/build/advection ${SOURCE}/advection.nml
    "output='upwind1.dat'")
  run("upwind: ${RANKS} ranks against 1" ${CHECK} same upwind.dat upwind1.dat)
endif()

# The emulator in the host, against aeolus run.
file(COPY ${SOURCE}/case DESTINATION ${WORK})
run("aeolus dataset" ${aeolus} dataset case)
run("aeolus train" ${aeolus} train case)
run("aeolus run --stepper emulator, ${RANKS} rank(s)" ${MPIEXEC} -n ${RANKS} --oversubscribe
  ${aeolus} run case --stepper emulator --quiet)
run("the host with the emulator, ${RANKS} rank(s)" ${host} "flux='aeolus'" "case_dir='case'"
  "output='emulator.dat'")
run("emulator: the host against aeolus run" ${CHECK} nc emulator.dat case/output/fields.nc)
if(RANKS EQUAL 2)
  run("the host with the emulator on columns" ${host} "flux='aeolus'" "case_dir='case'" px=2 py=1
    "output='columns.dat'")
  run("emulator on columns: the host against aeolus run (rows)" ${CHECK} nc columns.dat
    case/output/fields.nc 1e-12)
endif()
