# Configures, builds and runs the add_subdirectory consumer in WORK_DIR, installs it into a
# scratch prefix and checks what its install(EXPORT) wrote. OPTIONS (-D flags separated by '|') go
# to the consumer's configure step; with -DBYTEPIECE_COMPILED=ON it also checks, with NM, that
# the consumer's own object file holds no copy of the code the compiled library provides.
# Fails on the first step that fails.
string(REPLACE "|" ";" OPTIONS "${OPTIONS}")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()
set(build "${WORK_DIR}/build")
step(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/add_subdirectory" -B "${build}" -DBYTEPIECE_SOURCE_DIR=${SOURCE_DIR}
     -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release ${OPTIONS})
step(${CMAKE_COMMAND} --build "${build}")
step("${build}/app" "${WORK_DIR}/app.model")

# The install step of CMake 3.14 (`cmake --install` is 3.15).
step(${CMAKE_COMMAND} -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix -P "${build}/cmake_install.cmake")
set(targets "${WORK_DIR}/prefix/lib/cmake/greeter/greeterTargets.cmake")
if(NOT EXISTS "${targets}")
  message(FATAL_ERROR "the consumer's install(EXPORT) wrote no ${targets}")
endif()
file(READ "${targets}" exported)
if(NOT exported MATCHES "bytepiece::bytepiece")
  message(FATAL_ERROR "${targets} does not name bytepiece::bytepiece as greeter's dependency:\n${exported}")
endif()
if(EXISTS "${WORK_DIR}/prefix/include/bytepiece")
  message(FATAL_ERROR "bytepiece installed its headers although BYTEPIECE_INSTALL is off")
endif()

if(OPTIONS MATCHES "BYTEPIECE_COMPILED=ON")
  file(GLOB_RECURSE objects "${build}/CMakeFiles/app.dir/*.o")
  if(NOT objects)
    message(FATAL_ERROR "no object file of app under ${build}/CMakeFiles/app.dir")
  endif()
  step(${NM} -C --defined-only ${objects})
  foreach(symbol "basic_tokenizer<double, unsigned int>::load" "basic_model<double, unsigned int>::save")
    string(FIND "${step_output}" "${symbol}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "app's object file defines ${symbol}, which the compiled library provides")
    endif()
  endforeach()
endif()
