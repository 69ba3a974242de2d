# procsentry_warnings: one INTERFACE target that every first-party target links.
add_library(procsentry_warnings INTERFACE)
target_compile_options(procsentry_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(PROCSENTRY_WERROR)
  target_compile_options(procsentry_warnings INTERFACE -Werror)
endif()
