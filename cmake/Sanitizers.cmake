# Applies PROCSENTRY_SANITIZE to everything built after this point (user space only:
# the BPF objects are compiled by their own custom commands).
# -O1 (after the build type's -O2, so it wins): the level ASan's documentation recommends.
# -g1: line tables, all a sanitizer report's stack trace needs. Together they halve the compile
# CPU of -O2 -g (ASan+UBSan, tests/unit/sinks_test.cpp: 59 s -> 31 s) and the object size.
if(PROCSENTRY_SANITIZE)
  add_compile_options(-fsanitize=${PROCSENTRY_SANITIZE} -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=${PROCSENTRY_SANITIZE})
  if(PROCSENTRY_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
