#include "platform/linux/syscall_filter.h"

#include <fmt/core.h>
#include <seccomp.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace procsentry {
namespace {

// Found by running the integration tests, storm_bench and every output under --seccomp
// (strace -f names what a new code path adds). Grouped by who makes them.
constexpr const char* kAllowed[] = {
    // memory, threads, signals, time (the C and C++ runtimes)
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "mprotect",
    "madvise",
    "futex",
    "set_robust_list",
    "rseq",
    "sched_yield",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "restart_syscall",
    "clock_gettime",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "getpid",
    "gettid",
    "tgkill",
    "exit",
    "exit_group",
    "getrandom",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "sched_getaffinity",
    // the ring buffer and the pipeline's waits
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "poll",
    "ppoll",
    // files: /proc, images to hash, the store (SQLite), --output and its rotation, user names
    "read",
    "pread64",
    "readv",
    "write",
    "pwrite64",
    "writev",
    "openat",
    "close",
    "lseek",
    "fstat",
    "newfstatat",
    "statx",
    "fstatfs",
    "readlink",
    "readlinkat",
    "getdents64",
    "fcntl",
    "flock",
    "fsync",
    "fdatasync",
    "ftruncate",
    "fallocate",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "fchmod",
    "fchown",
    "access",
    "faccessat",
    "faccessat2",
    "getcwd",
    "dup",
    "dup3",
    // syslog over UDP or TCP, sd_notify, NSS (nscd, systemd-userdb)
    "socket",
    "connect",
    "sendto",
    "sendmsg",
    "recvfrom",
    "recvmsg",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "shutdown",
    // --metrics: the HTTP server's thread (started before the filter) takes connections
    "accept",
    "accept4",
};

}  // namespace

Result<Ok> install_syscall_allow_list() {
  std::unique_ptr<void, decltype(&seccomp_release)> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS), seccomp_release);
  if (!ctx) return Error{"--seccomp: cannot create the filter"};
  for (const char* name : kAllowed) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0); rc != 0) {
      return Error{fmt::format("--seccomp: cannot allow {}: {}", name, std::strerror(-rc))};
    }
  }
  // isatty() on the outputs (TCGETS) and how much a --metrics connection holds (FIONREAD,
  // libevent sizes its reads with it), nothing else through ioctl.
  // (The header's SCMP_A1 macro is a C compound literal, which clang refuses in C++.)
  for (const unsigned long request : {static_cast<unsigned long>(TCGETS), static_cast<unsigned long>(FIONREAD)}) {
    scmp_arg_cmp request_is{};
    request_is.arg = 1;
    request_is.op = SCMP_CMP_EQ;
    request_is.datum_a = request;
    if (int rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &request_is); rc != 0) {
      return Error{fmt::format("--seccomp: cannot allow ioctl: {}", std::strerror(-rc))};
    }
  }
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return Error{fmt::format("--seccomp: cannot apply to every thread: {}", std::strerror(-rc))};
  }
  if (int rc = seccomp_load(ctx.get()); rc != 0) {
    return Error{fmt::format("--seccomp: the kernel refused the filter: {}", std::strerror(-rc))};
  }
  return Ok{};
}

}  // namespace procsentry
