#!/usr/bin/env python3
# Reads `perf script` output (with call chains) on stdin and charges each sample to the
# innermost frame that names a stage of procsentry's live path; prints each stage's share.
# Samples no stage names are "other", listed by their leaf frame with -v.
import collections
import re
import sys

STAGES = [
    ("write syscalls", r"FdOutput::flush|__GI___libc_write|^write$|ksys_write|vfs_write"),
    ("/proc reads", r"read_proc|read_file|prune_vanished|parent_of"),
    ("wakeups (epoll wait)", r"epoll_wait|do_epoll_wait|schedule"),
    ("formatting (JSON)", r"JsonLinesSink|JsonFormatter|InlineSink|FormattedBatch|FdWriter::write|Rfc3339Formatter"
                          r"|ObjectWriter|append_json|is_valid_utf8|append_base64|write_exec_context|write_nul_list"),
    ("enrichment: process uids", r"ProcessUidScheme"),
    ("enrichment: table, names, cgroup", r"ProcessTable|UserNames|CgroupPaths|container_id_from_cgroup"
                                         r"|Filter::matches|ImageHasher"),
    ("decode", r"Decoder::|Event::reset|decode"),
    ("ring consumption", r"ring_buffer__|ringbuf_process_ring|RingBufferSource|on_sample|EventPipeline::on_record"),
]
PATTERNS = [(name, re.compile(p)) for name, p in STAGES]


def stage_of(frames):
    for frame in frames:  # leaf first
        for name, pattern in PATTERNS:
            if pattern.search(frame):
                return name
    return None


def main():
    verbose = "-v" in sys.argv[1:]
    counts = collections.Counter()
    others = collections.Counter()
    total = 0
    frames = []

    def end_sample():
        nonlocal total
        if not frames:
            return
        total += 1
        stage = stage_of(frames)
        counts[stage or "other"] += 1
        if stage is None:
            others[frames[0][:60]] += 1

    for line in sys.stdin:
        if not line.strip() or line[0] not in " \t":  # a sample's header or the blank line after it
            end_sample()
            frames = []
            continue
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            frames.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[1].rsplit(" (", 1)[0]))
    end_sample()
    print(f"{total} samples")
    for name in [n for n, _ in STAGES] + ["other"]:
        if counts[name]:
            print(f"  {name:34s} {100.0 * counts[name] / total:5.1f}%")
    if verbose:
        for leaf, n in others.most_common(10):
            print(f"    other: {leaf:60s} {100.0 * n / total:5.1f}%")


main()
