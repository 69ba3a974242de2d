# procsentry_bpf_skeleton(NAME SOURCES a.bpf.c b.bpf.c ... [INCLUDES dirs...])
#
# Compiles each BPF program with clang -target bpf (header dependencies from a depfile),
# merges the objects with `bpftool gen object` and generates one skeleton header, exposed as
# the INTERFACE target NAME_skel: a consumer only writes target_link_libraries(app NAME_skel).
# vmlinux.h is generated into the build tree from the build machine's BTF (CO-RE makes the
# result portable to other kernels with BTF).
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_STRIP NAMES llvm-strip-14 llvm-strip REQUIRED)
set(PROCSENTRY_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "BTF used to generate vmlinux.h")

function(procsentry_bpf_skeleton NAME)
  cmake_parse_arguments(ARG "" "" "SOURCES;INCLUDES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${NAME})
  set(vmlinux_h ${out}/vmlinux.h)
  add_custom_command(
    OUTPUT ${vmlinux_h}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
    COMMAND sh -c "'${BPFTOOL}' btf dump file '${PROCSENTRY_VMLINUX_BTF}' format c > '${vmlinux_h}.tmp'"
    COMMAND ${CMAKE_COMMAND} -E rename ${vmlinux_h}.tmp ${vmlinux_h}
    COMMENT "Generating vmlinux.h from ${PROCSENTRY_VMLINUX_BTF}"
    VERBATIM)

  set(include_flags -I${out})
  foreach(dir IN LISTS ARG_INCLUDES)
    list(APPEND include_flags -I${dir})
  endforeach()

  set(objects "")
  foreach(src IN LISTS ARG_SOURCES)
    get_filename_component(stem ${src} NAME_WE)
    set(obj ${out}/${stem}.bpf.o)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -mcpu=v3
              -Wall -Werror ${include_flags} -MD -MF ${obj}.d -c ${src} -o ${obj}
      DEPENDS ${src} ${vmlinux_h}
      DEPFILE ${obj}.d
      COMMENT "BPF ${stem}.bpf.c"
      VERBATIM)
    list(APPEND objects ${obj})
  endforeach()

  set(merged ${out}/${NAME}.bpf.o)
  set(skel ${out}/${NAME}.skel.h)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen object ${merged} ${objects}
    COMMAND ${BPF_STRIP} -g ${merged}
    COMMAND sh -c "'${BPFTOOL}' gen skeleton '${merged}' name ${NAME} > '${skel}.tmp'"
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${objects}
    COMMENT "BPF skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(${NAME}_skel_gen DEPENDS ${skel})
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  # SYSTEM: the generated C header is not held to our C++ warning set.
  target_include_directories(${NAME}_skel SYSTEM INTERFACE ${out})
endfunction()
