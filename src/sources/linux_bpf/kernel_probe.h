// Startup checks: what the running kernel and our privileges allow, each failure as one
// line that says what is missing and what to do.
#pragma once

#include "core/result.h"

namespace procsentry {

struct KernelFeatures {
  bool exit_has_group_dead = false;  // sched_process_exit(task, group_dead), kernels >= 6.16
};

inline constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

// Fails when: not privileged (root or CAP_BPF+CAP_PERFMON), no BTF, no BPF ring buffer.
Result<KernelFeatures> probe_kernel(const char* vmlinux_btf = kVmlinuxBtf);

}  // namespace procsentry
