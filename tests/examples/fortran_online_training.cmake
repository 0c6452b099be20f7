# example_fortran_online_training_np{1,2}: examples/fortran-advection trains a correction of its
# upwind scheme online (TorchFort's use case) on RANKS ranks, then the trained model runs in
# `aeolus run` and in the host:
#  - make_model.py (Debian's python3-torch) writes the initial model: upwind + a zero-initialised
#    flux CNN, halo 3;
#  - the host with online_train.nml: 400 steps of the van Leer reference (reference/, Aeolus's
#    classical stepper on the host's decomposition), one Adam step per step, data parallel over
#    the host's Cartesian communicator; the loss must fall by >= LOSS_FACTOR (measured 137 on 1
#    and 2 ranks; 1.3 with learning_rate 1e-12, i.e. without training); the model is saved to
#    online/online.pt;
#  - aeolus run of online/ (stepper torchscript) and of reference/ from the EVALUATION initial
#    condition (not the training one): the model's relative L2 error at t = 0.5 against van
#    Leer must be >= ERROR_FACTOR times smaller than the host's upwind at the same step
#    (measured 0.0248 against 0.191: 7.7);
#  - the host with online_model.nml (flux = 'model', aeolus_forward with reverse_dims) bitwise
#    equal to aeolus run of online/ at every frame; mass to 1e-13 in both (measured 4e-15).
# Skipped (SKIP_REGULAR_EXPRESSION "SKIPPED: ") if PYTHON cannot import torch.
#   cmake -DPREFIX= -DSOURCE=<examples/fortran-advection> -DWORK= -DMPIEXEC= -DRANKS=
#         -DCHECK=<check_dump> -DFORTRAN=<compiler> -DPYTHON=/usr/bin/python3
#         -P fortran_online_training.cmake
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
set(LOSS_FACTOR 20)
set(ERROR_FACTOR 4)
skip_unless_torch()
configure_and_build(${SOURCE} ${WORK}/build -DCMAKE_Fortran_COMPILER=${FORTRAN})
set(host ${MPIEXEC} -n ${RANKS} --oversubscribe ${WORK}/build/advection)
set(aeolus ${MPIEXEC} -n ${RANKS} --oversubscribe ${PREFIX}/bin/aeolus)
foreach(item reference online training.yaml online_train.nml online_model.nml)
  file(COPY ${SOURCE}/${item} DESTINATION ${WORK})
endforeach()
# What a run in the source directory may have left there.
file(REMOVE_RECURSE ${WORK}/online/online.pt ${WORK}/online/output ${WORK}/reference/output)

# The initial model for the grid and step of online_train.nml: dx = dy = 1/64, u = 1, v = 0.5,
# dt = 0.75 / (64 + 32) = 2^-7.
run("make_model.py" ${PYTHON} -s ${SOURCE}/make_model.py --u 1 --v 0.5 --dx 0.015625
  --dy 0.015625 --dt 0.0078125 --out model0.pt)
run("online training in the host, ${RANKS} rank(s)" ${host} online_train.nml)
run("the loss fell" ${CHECK} loss loss.txt ${LOSS_FACTOR})
run("train: mass of the reference trajectory" ${CHECK} mass train.dat 1e-13)
if(NOT EXISTS ${WORK}/online/online.pt)
  message(FATAL_ERROR "the host did not save online/online.pt")
endif()

# The trained model in aeolus run, against the van Leer reference and the host's upwind.
run("aeolus run reference (van Leer), ${RANKS} rank(s)" ${aeolus} run reference --quiet)
run("aeolus run online (torchscript), ${RANKS} rank(s)" ${aeolus} run online --quiet)
run("the host's upwind on the evaluation initial condition" ${host} online_model.nml
  "flux='upwind'" "output='upwind.dat'")
run("the trained model beats upwind" ${CHECK} better online/output/fields.nc upwind.dat
  reference/output/fields.nc ${ERROR_FACTOR})
run("aeolus run online: mass" ${CHECK} mass online/output/fields.nc 1e-13)

# The trained model in the host (aeolus_forward, reverse_dims), against aeolus run.
run("the host with the trained model, ${RANKS} rank(s)" ${host} online_model.nml)
run("model: the host against aeolus run" ${CHECK} nc model.dat online/output/fields.nc)
run("model: mass" ${CHECK} mass model.dat 1e-13)
