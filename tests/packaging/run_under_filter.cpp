// run_under_filter NAMES_FILE PROGRAM [ARGS...]: execs PROGRAM under a seccomp filter that allows
// only the system calls named in NAMES_FILE (one per line) and kills the process on any other,
// as systemd's SystemCallFilter= does: the unit's filter, tested where no systemd runs.
#include <seccomp.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: run_under_filter NAMES_FILE PROGRAM [ARGS...]\n");
    return 2;
  }
  std::ifstream names(argv[1]);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!names || ctx == nullptr) {
    std::fprintf(stderr, "run_under_filter: cannot read %s\n", argv[1]);
    return 2;
  }
  int allowed = 0;
  for (std::string name; std::getline(names, name);) {
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // another architecture's
    if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0) ++allowed;
  }
  if (allowed == 0 || seccomp_load(ctx) != 0) {
    std::fprintf(stderr, "run_under_filter: no filter loaded (%d calls allowed)\n", allowed);
    return 2;
  }
  execv(argv[2], argv + 2);
  std::perror("run_under_filter: exec");
  return 127;
}
