#!/usr/bin/env python3
"""Self time of procsentry's event path by stage, from a `perf record -g --call-graph dwarf`
file: each sample goes to the innermost frame that names a stage (so memcpy called by the
JSON writer counts as JSON). Samples outside run_source (start-up, BPF loading) are left out.
Usage: stage_shares.py PERF_DATA [--other] (--other lists the unattributed leaf frames)."""
import collections
import re
import subprocess
import sys

STAGES = [
    ("write syscalls", r"ksys_write|__libc_write|\bwrite$|FdOutput::flush|InlineSink::flush|Sink::flush"),
    ("/proc reads", r"ksys_read|__libc_read|openat|do_sys_open|readlink|ifstream|fopen|__GI___open|ProcProcesses"),
    ("redaction", r"Redact|redact|builtin_secret"),
    ("rules+filter", r"Filter::matches|EventRules|RuleSet|admit"),
    ("JSON formatting", r"JsonFormatter|json|ObjectWriter|write_object|Rfc3339"),
    ("process table", r"ProcessTable|ProcessUid|ProcessRecord"),
    ("enrichment (names, cgroup)", r"UserNames|CgroupResolver|container_id|Hasher"),
    ("decode", r"Decoder::decode|RecordParser|decode"),
    ("event reset", r"Event::reset|Event::Event"),
    ("ring consumption", r"ring_buffer__|ringbuf_|on_sample|epoll|RingBufferSource"),
    ("pipeline glue", r"EventPipeline::on_record|InlineSink::write"),
]


def main():
    patterns = [(name, re.compile(p)) for name, p in STAGES]
    script = subprocess.run(["perf", "script", "-i", sys.argv[1], "-F", "ip,sym"], capture_output=True, text=True,
                            check=True).stdout
    counts, other, total = collections.Counter(), collections.Counter(), 0
    for block in script.split("\n\n"):
        frames = [line.strip().partition(" ")[2] for line in block.strip().splitlines()]
        if not frames or not any("run_source" in f for f in frames):
            continue
        total += 1
        stage = next((name for f in frames for name, p in patterns if p.search(f)), None)
        counts[stage or "other"] += 1
        if stage is None:
            other[frames[0]] += 1
    for name, n in counts.most_common():
        print(f"{name:28s} {100 * n / total:5.1f}%")
    print(f"{total} samples on the event path")
    if "--other" in sys.argv:
        for f, n in other.most_common(25):
            print("  other:", n, f)


main()
