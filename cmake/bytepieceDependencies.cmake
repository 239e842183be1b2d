# Finds bytepiece's dependencies: the xxHash header, which the headers include, and nlohmann/json,
# which they no longer include (models are read by hand) but which the target still carries for
# the JSON front ends to come. Shared by the build tree and the installed package config, so
# both resolve dependencies the same way.
include(CMakeFindDependencyMacro)
if(NOT TARGET nlohmann_json::nlohmann_json)
  find_dependency(nlohmann_json 3)
endif()
if(NOT TARGET bytepiece::xxhash)
  find_path(BYTEPIECE_XXHASH_INCLUDE_DIR xxhash.h)
  if(NOT BYTEPIECE_XXHASH_INCLUDE_DIR)
    message(FATAL_ERROR "bytepiece: xxhash.h not found (Debian package libxxhash-dev)")
  endif()
  # Header-only use (XXH_INLINE_ALL): an include path, never a library to link.
  add_library(bytepiece::xxhash INTERFACE IMPORTED)
  set_target_properties(bytepiece::xxhash PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${BYTEPIECE_XXHASH_INCLUDE_DIR}")
endif()
