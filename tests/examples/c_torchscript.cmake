# example_c_torchscript: export_models.py (Debian's /usr/bin/python3 with python3-torch) writes
# a scripted MLP and a traced CNN with reference inputs and PyTorch's outputs; the C host, built
# against the installed package, runs them through aeolus_model_forward (C order, and Fortran
# order for the MLP) and must agree with PyTorch to 1e-6 (relative). Skipped (the test's
# SKIP_REGULAR_EXPRESSION) when PYTHON cannot import torch.
#   cmake -DPREFIX= -DSOURCE=<examples/c-torchscript> -DWORK= -DPYTHON=/usr/bin/python3
#         -P c_torchscript.cmake
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
skip_unless_torch()
configure_and_build(${SOURCE} ${WORK}/build)
run("export the models with PyTorch" ${PYTHON} -s ${SOURCE}/export_models.py ${WORK})
run("the C host" ${WORK}/build/c_torchscript_host ${WORK})
