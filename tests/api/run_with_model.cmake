# Runs PROGRAM DIR [ARGS...] where DIR is a fresh temporary directory holding the test models
# KINDS (DIR/KIND.pt, parameters of DTYPE, made by MAKER); DIR is removed afterwards, so that no
# test leaves files behind:
#   cmake -DMAKER=... "-DKINDS=linear_tanh;affine" -DDTYPE=float64 -DPROGRAM=... [-DARGS=...]
#         -P run_with_model.cmake
string(RANDOM LENGTH 10 tag)
set(dir "/tmp/aeolus_api_${tag}")
file(MAKE_DIRECTORY ${dir})
set(rc 0)
foreach(kind IN LISTS KINDS)
  if(rc EQUAL 0)
    execute_process(COMMAND ${MAKER} ${kind} ${dir}/${kind}.pt ${DTYPE} RESULT_VARIABLE rc)
  endif()
endforeach()
if(rc EQUAL 0)
  execute_process(COMMAND ${PROGRAM} ${dir} ${ARGS} RESULT_VARIABLE rc)
endif()
file(REMOVE_RECURSE ${dir})
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} ${dir} ${ARGS} failed: ${rc}")
endif()
