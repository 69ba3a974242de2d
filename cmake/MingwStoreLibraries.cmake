# The store's libraries for the mingw cross build: SQLite, zstd and RE2 built from Debian's
# sources by tools/mingw_deps.sh (at configure; it returns at once when the prefix holds the
# Linux build's versions already), and xxhash's header from the build machine (header only).
# The same target names as pkg-config gives on Linux, so src/store links them alike.
set(PROCSENTRY_MINGW_DEPS ${PROJECT_SOURCE_DIR}/build/mingw-deps CACHE PATH
  "Where tools/mingw_deps.sh builds the Windows client's store libraries")
execute_process(COMMAND ${PROJECT_SOURCE_DIR}/tools/mingw_deps.sh ${PROCSENTRY_MINGW_DEPS}
  RESULT_VARIABLE deps_status)
if(NOT deps_status EQUAL 0)
  message(FATAL_ERROR "tools/mingw_deps.sh ${PROCSENTRY_MINGW_DEPS} failed (its output is above)")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tools/mingw_deps.sh)

foreach(lib SQLITE3:sqlite3 ZSTD:zstd RE2:re2)
  string(REPLACE ":" ";" parts ${lib})
  list(GET parts 0 name)
  list(GET parts 1 file)
  add_library(PkgConfig::${name} STATIC IMPORTED)
  set_target_properties(PkgConfig::${name} PROPERTIES IMPORTED_LOCATION ${PROCSENTRY_MINGW_DEPS}/lib/lib${file}.a)
  target_include_directories(PkgConfig::${name} SYSTEM INTERFACE ${PROCSENTRY_MINGW_DEPS}/include)
endforeach()
find_package(Threads REQUIRED)
target_link_libraries(PkgConfig::RE2 INTERFACE Threads::Threads)

# xxhash.h alone, as MingwHostHeaders exposes fmt and CLI11: never the host's /usr/include.
set(PROCSENTRY_XXHASH_HEADER_DIR ${CMAKE_BINARY_DIR}/host_headers/xxhash)
file(MAKE_DIRECTORY ${PROCSENTRY_XXHASH_HEADER_DIR})
file(CREATE_LINK /usr/include/xxhash.h ${PROCSENTRY_XXHASH_HEADER_DIR}/xxhash.h SYMBOLIC)
set(XXHASH_INCLUDE_DIR ${PROCSENTRY_XXHASH_HEADER_DIR} CACHE PATH "xxhash.h's directory" FORCE)
