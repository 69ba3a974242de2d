# Applies PROCSENTRY_SANITIZE to everything built after this point (user space only:
# the BPF objects are compiled by their own custom commands).
if(PROCSENTRY_SANITIZE)
  add_compile_options(-fsanitize=${PROCSENTRY_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${PROCSENTRY_SANITIZE})
  if(PROCSENTRY_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
