# fmt and CLI11 for the mingw cross build, header-only from the build machine's Debian
# packages (they have no mingw builds). Only those two folders are exposed, never the host's
# /usr/include. The same target names as on Linux, so every target links them alike.
set(PROCSENTRY_HOST_HEADERS ${CMAKE_BINARY_DIR}/host_headers)
file(MAKE_DIRECTORY ${PROCSENTRY_HOST_HEADERS})
foreach(dir fmt CLI)
  file(CREATE_LINK /usr/include/${dir} ${PROCSENTRY_HOST_HEADERS}/${dir} SYMBOLIC)
endforeach()
add_library(fmt::fmt INTERFACE IMPORTED)
target_include_directories(fmt::fmt SYSTEM INTERFACE ${PROCSENTRY_HOST_HEADERS})
target_compile_definitions(fmt::fmt INTERFACE FMT_HEADER_ONLY)
add_library(CLI11::CLI11 INTERFACE IMPORTED)
target_include_directories(CLI11::CLI11 SYSTEM INTERFACE ${PROCSENTRY_HOST_HEADERS})
