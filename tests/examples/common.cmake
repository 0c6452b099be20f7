# Shared by the example drivers (cmake -P): run(WHAT COMMAND...) runs a command in ${WORK},
# prints its output, and stops the test with that output if it fails.
function(run what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc
    OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "${what}: ok\n${out}")
endfunction()

# configure_and_build(SOURCE_DIR BUILD_DIR [cmake args]): the example as a user builds it,
# against the installed prefix only.
function(configure_and_build source build)
  run("configure ${source}" ${CMAKE_COMMAND} -S ${source} -B ${build}
    -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release ${ARGN})
  run("build ${source}" ${CMAKE_COMMAND} --build ${build})
endfunction()

# skip_unless_torch(): ends the calling script with "SKIPPED: ..." (the tests'
# SKIP_REGULAR_EXPRESSION) when ${PYTHON} cannot import torch. A macro, so that its return()
# leaves the calling script.
macro(skip_unless_torch)
  execute_process(COMMAND ${PYTHON} -s -c "import torch" RESULT_VARIABLE torch_rc OUTPUT_QUIET
    ERROR_QUIET)
  if(NOT torch_rc EQUAL 0)
    message("SKIPPED: ${PYTHON} cannot import torch (install Debian's python3-torch: tools/setup.sh)")
    return()
  endif()
endmacro()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
