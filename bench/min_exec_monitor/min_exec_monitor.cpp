// min_exec_monitor: storm_bench's reference peer, the simplest libbpf exec monitor (as
// execsnoop's simplest form): one BPF record per exec (pid, argv), one wakeup per record,
// one line per exec on stdout ("PID ARGV..."). Prints "watching" on stderr once attached and
// "min_exec_monitor: N exec, lost M" at SIGTERM/SIGINT.
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "min_exec.skel.h"
#include "min_exec_monitor.h"

namespace {

volatile sig_atomic_t g_stop = 0;
unsigned long long g_execs = 0;

void on_signal(int) { g_stop = 1; }

int on_exec(void*, void* data, std::size_t size) {
  if (size < sizeof(min_exec_event)) return 0;
  const auto* e = static_cast<const min_exec_event*>(data);  // the ring is mapped read-only
  std::size_t n = e->args_size < sizeof(e->args) ? e->args_size : sizeof(e->args);
  if (n > 0 && e->args[n - 1] == '\0') --n;  // argv's last NUL
  char line[sizeof(e->args)];
  for (std::size_t i = 0; i < n; ++i) line[i] = e->args[i] == '\0' ? ' ' : e->args[i];
  std::printf("%u %.*s\n", e->pid, static_cast<int>(n), line);
  ++g_execs;
  return 0;
}

}  // namespace

int main() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  min_exec* skel = min_exec__open_and_load();
  if (skel == nullptr || min_exec__attach(skel) != 0) {
    std::fprintf(stderr, "min_exec_monitor: cannot load or attach: %s\n", std::strerror(errno));
    return 2;
  }
  ring_buffer* ring = ring_buffer__new(bpf_map__fd(skel->maps.events), on_exec, nullptr, nullptr);
  if (ring == nullptr) {
    std::fprintf(stderr, "min_exec_monitor: cannot map the ring buffer: %s\n", std::strerror(errno));
    return 2;
  }
  std::fprintf(stderr, "min_exec_monitor: watching exec\n");
  int err = 0;
  while (g_stop == 0) {
    err = ring_buffer__poll(ring, 100);
    if (err < 0 && err != -EINTR) break;
    err = 0;
  }
  ring_buffer__consume(ring);
  std::fflush(stdout);
  std::fprintf(stderr, "min_exec_monitor: %llu exec, lost %llu\n", g_execs,
               static_cast<unsigned long long>(skel->bss->lost));
  ring_buffer__free(ring);
  min_exec__destroy(skel);
  return err < 0 ? 1 : 0;
}
