# test_api_install: installs the build tree into a temporary prefix, builds hosts against it
# (CMake: find_package(Aeolus); make-style: pkg-config aeolus / aeolus-fortran) and runs them on
# the test models. Everything lives under one temporary directory, removed at the end.
#   cmake -DBUILD=... -DTESTS=<src>/tests/api -DMAKER=... [-DFORTRAN=<compiler>] -P install_test.cmake
string(RANDOM LENGTH 10 tag)
set(tmp "/tmp/aeolus_install_${tag}")
set(prefix ${tmp}/prefix)
file(MAKE_DIRECTORY ${tmp}/models)

# Runs a command; on failure removes the directory and stops with its output.
function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE ${tmp})
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

step("install" ${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix})
foreach(kind linear_tanh affine warn)
  step("model ${kind}" ${MAKER} ${kind} ${tmp}/models/${kind}.pt float64)
endforeach()

# CMake host.
set(with_fortran OFF)
if(FORTRAN)
  set(with_fortran ON)
endif()
step("configure the find_package host" ${CMAKE_COMMAND} -S ${TESTS}/consumer -B ${tmp}/host
  -DCMAKE_PREFIX_PATH=${prefix} -DAEOLUS_TEST_SOURCES=${TESTS} -DWITH_FORTRAN=${with_fortran}
  -DCMAKE_Fortran_COMPILER=${FORTRAN})
step("build the find_package host" ${CMAKE_COMMAND} --build ${tmp}/host)
step("run the find_package C host" ${tmp}/host/c_host ${tmp}/models)
if(FORTRAN)
  step("run the find_package Fortran host" ${tmp}/host/fortran_host ${tmp}/models)
endif()

# pkg-config hosts, as a Makefile would build them.
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
execute_process(COMMAND pkg-config --cflags --libs aeolus OUTPUT_VARIABLE flags
  RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  file(REMOVE_RECURSE ${tmp})
  message(FATAL_ERROR "pkg-config aeolus failed (${rc})")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
# The rpath stands for the host's own choice (or LD_LIBRARY_PATH) of where to find the library.
step("build the pkg-config C host" cc -std=c99 -pedantic-errors -o ${tmp}/pc_c_host
  ${TESTS}/test_c99.c ${flags} -lm -Wl,-rpath,${prefix}/lib)
step("run the pkg-config C host" ${tmp}/pc_c_host ${tmp}/models)
if(FORTRAN)
  execute_process(COMMAND pkg-config --cflags --libs aeolus-fortran OUTPUT_VARIABLE fflags
    RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  separate_arguments(fflags UNIX_COMMAND "${fflags}")
  step("build the pkg-config Fortran host" ${FORTRAN} -o ${tmp}/pc_fortran_host
    ${TESTS}/test_fortran.f90 ${fflags} -Wl,-rpath,${prefix}/lib)
  step("run the pkg-config Fortran host" ${tmp}/pc_fortran_host ${tmp}/models)
endif()
file(REMOVE_RECURSE ${tmp})
