#!/usr/bin/env python3
# Reads `perf script` output (with call chains) of procsentry's start-up on stdin and charges
# each sample to the first stage its call chain names (the kernel's verifier before libbpf's
# own work, which calls it); prints each stage's share and the CPU it stands for.
import collections
import re
import sys

HZ = 10000  # startup.sh samples at 10 kHz
STAGES = [
    ("verifier (BPF_PROG_LOAD, in the kernel)", r"bpf_check|do_check|bpf_prog_load|bpf_prog_select_runtime|bpf_int_jit"),
    ("kernel probe (BTF parse, helper probes)", r"probe_kernel"),
    ("libbpf load (BTF parse, CO-RE, maps)", r"bpf_object_load|bpf_object__load|procsentry_bpf__load"),
    ("seeding the table from /proc", r"seed_from_proc|read_proc_process"),
    ("attach, ring mapping", r"bpf_program__attach|ring_buffer__new|malloc_trim"),
    ("open (ELF parse)", r"procsentry_bpf__open|bpf_object__open"),
    ("dynamic loading, libc start", r"_dl_|dl_main|_dl_start"),
]
PATTERNS = [(name, re.compile(p)) for name, p in STAGES]


def main():
    counts = collections.Counter()
    total = 0
    frames = []

    def end_sample():
        nonlocal total
        if not frames:
            return
        total += 1
        for name, pattern in PATTERNS:
            if any(pattern.search(f) for f in frames):
                counts[name] += 1
                return
        counts["other"] += 1

    for line in sys.stdin:
        if not line.strip() or line[0] not in " \t":
            end_sample()
            frames = []
            continue
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            frames.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1].rsplit(" (", 1)[0]))
    end_sample()
    print(f"{total} samples, about {1000.0 * total / HZ:.0f} ms of CPU")
    for name in [n for n, _ in STAGES] + ["other"]:
        if counts[name]:
            print(f"  {name:42s} {100.0 * counts[name] / total:5.1f}%")


main()
