# examples_install (the fixture the example tests share): installs the build tree into PREFIX,
# replacing an earlier install there.
#   cmake -DBUILD=<build tree> -DPREFIX=<prefix> -P install.cmake
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD} --prefix ${PREFIX} failed (${rc}):\n${out}")
endif()
message(STATUS "installed into ${PREFIX}")
