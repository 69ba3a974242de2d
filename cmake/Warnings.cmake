# procsentry_warnings: one INTERFACE target that every first-party target links.
add_library(procsentry_warnings INTERFACE)
target_compile_options(procsentry_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(PROCSENTRY_WERROR)
  target_compile_options(procsentry_warnings INTERFACE -Werror)
endif()
# GCC 12 at -O3 reports std::string internals as maybe-uninitialized (GCC bug 105562) and
# as overlapping memcpy (-Wrestrict, GCC bug 105329): false positives inside libstdc++ that
# would make Release builds fail.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(procsentry_warnings INTERFACE -Wno-maybe-uninitialized -Wno-restrict)
endif()
