# A host program that steps a case through the stepper handle, checked against `aeolus run`:
# writes the case (HOST write DIR), runs `aeolus run DIR` on it, then PROGRAM check DIR under
# mpiexec with RANKS ranks (it compares its frames with DIR/output/fields.nc). Everything lives
# under one temporary directory, removed at the end.
#   cmake -DHOST=... -DAEOLUS=... -DPROGRAM=... -DMPIEXEC=... -DRANKS=n -P run_stepper_host.cmake
string(RANDOM LENGTH 10 tag)
set(dir "/tmp/aeolus_stepper_host_${tag}")
file(MAKE_DIRECTORY ${dir})

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE ${dir})
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "${what}: ok\n${out}")
endfunction()

step("write the case" ${HOST} write ${dir})
step("aeolus run" ${AEOLUS} run ${dir} --quiet)
step("the host on ${RANKS} rank(s)" ${MPIEXEC} -n ${RANKS} --oversubscribe ${PROGRAM} check ${dir})
file(REMOVE_RECURSE ${dir})
