# Installs the project into a scratch prefix, then configures, builds and runs a consumer that
# finds it with find_package(bytepiece CONFIG). Fails on the first step that fails.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
# The install step of CMake 3.14 (`cmake --install` is 3.15).
step(${CMAKE_COMMAND} -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix -P "${BINARY_DIR}/cmake_install.cmake")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/find_package" -B "${WORK_DIR}/build"
     -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
step("${WORK_DIR}/build/consumer" "${WORK_DIR}/consumer.model")
