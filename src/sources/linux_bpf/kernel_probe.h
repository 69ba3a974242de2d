// Startup checks: what the running kernel and our privileges allow, each failure as one
// line that says what is missing and what to do.
#pragma once

#include "core/result.h"

namespace procsentry {

struct KernelFeatures {
  bool exit_has_group_dead = false;  // sched_process_exit(task, group_dead), kernels >= 6.16
  // bpf_loop (5.17+): the exec program walks paths with it; without it, the bounded-loop
  // variant (shallower walk bound, see src/bpf/helpers/path.bpf.h) is loaded instead.
  bool has_bpf_loop = false;
};

// Set (to anything) to load the bounded-loop exec program even where bpf_loop exists, so
// the variant older kernels run is tested on new ones too.
inline constexpr const char* kForceBoundedLoopsEnv = "PROCSENTRY_BPF_BOUNDED_LOOPS";

inline constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

// Fails when: not privileged (root or CAP_BPF+CAP_PERFMON), no BTF, no BPF ring buffer.
Result<KernelFeatures> probe_kernel(const char* vmlinux_btf = kVmlinuxBtf);

}  // namespace procsentry
