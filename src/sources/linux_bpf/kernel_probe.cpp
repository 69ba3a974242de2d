#include "sources/linux_bpf/kernel_probe.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace procsentry {
namespace {

bool has_capability(__u32 cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

bool privileged() {
  if (geteuid() == 0) return true;
#ifdef CAP_BPF
  return has_capability(CAP_BPF) && has_capability(CAP_PERFMON);
#else
  return has_capability(CAP_SYS_ADMIN);
#endif
}

// Number of arguments the tracepoint passes (besides the hidden context pointer).
int tracepoint_arity(const btf* vmlinux, const char* tracepoint) {
  std::string name = std::string("btf_trace_") + tracepoint;
  int id = btf__find_by_name_kind(vmlinux, name.c_str(), BTF_KIND_TYPEDEF);
  if (id < 0) return -1;
  const btf_type* type = btf__type_by_id(vmlinux, static_cast<__u32>(id));
  type = btf__type_by_id(vmlinux, type->type);  // pointer
  if (type == nullptr || !btf_is_ptr(type)) return -1;
  type = btf__type_by_id(vmlinux, type->type);  // function prototype
  if (type == nullptr || !btf_is_func_proto(type)) return -1;
  return btf_vlen(type) - 1;
}

// Whether BPF_FUNC_loop can be called: a feature check through libbpf, never a version guess.
// libbpf cannot probe helpers for tracing programs (they need an attach target), so ask for
// raw tracepoints, which get the same base helpers.
bool has_bpf_loop() {
  int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACING, BPF_FUNC_loop, nullptr);
  if (r < 0) r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, nullptr);
  return r > 0;
}

}  // namespace

Result<KernelFeatures> probe_kernel(const char* vmlinux_btf) {
  if (!privileged()) {
    return Error{
        "procsentry needs root (or CAP_BPF, CAP_PERFMON and, where kernel modules carry BTF, CAP_SYS_ADMIN) to load "
        "its kernel sensor: run it with sudo"};
  }
  if (access(vmlinux_btf, R_OK) != 0) {
    return Error{std::string("this kernel exposes no BTF (") + vmlinux_btf +
                 " is missing): procsentry needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)"};
  }
  if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) <= 0) {
    return Error{
        "this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux 5.8): procsentry needs Linux 5.8 or newer"};
  }
  btf* vmlinux = btf__parse(vmlinux_btf, nullptr);
  if (vmlinux == nullptr) {
    return Error{std::string("cannot read the kernel's BTF at ") + vmlinux_btf + ": " + std::strerror(errno)};
  }
  KernelFeatures features;
  int exec_arity = tracepoint_arity(vmlinux, "sched_process_exec");
  features.exit_has_group_dead = tracepoint_arity(vmlinux, "sched_process_exit") >= 2;
  features.has_bpf_loop = has_bpf_loop() && std::getenv(kForceBoundedLoopsEnv) == nullptr;
  btf__free(vmlinux);
  if (exec_arity < 3) {
    return Error{
        "this kernel has no BTF tracepoint sched_process_exec(task, old_pid, bprm): procsentry needs Linux 5.8 or "
        "newer"};
  }
  return features;
}

}  // namespace procsentry
