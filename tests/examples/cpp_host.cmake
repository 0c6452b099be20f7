# example_cpp_host: examples/cpp-host (a C++17 host on aeolus.hpp) built against the installed
# package, run on RANKS ranks with the affine test model (y = 2 x + 1, written by
# make_test_model: no Python needed) and the example's case directory (read only).
#   cmake -DPREFIX= -DSOURCE=<examples/cpp-host> -DWORK= -DMAKER=<make_test_model> -DMPIEXEC=
#         -DRANKS= -P cpp_host.cmake
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
configure_and_build(${SOURCE} ${WORK}/build)
run("the affine model" ${MAKER} affine ${WORK}/affine.pt float64)
run("the C++ host, ${RANKS} rank(s)" ${MPIEXEC} -n ${RANKS} --oversubscribe
  ${WORK}/build/cpp_host ${WORK}/affine.pt ${SOURCE}/case)
