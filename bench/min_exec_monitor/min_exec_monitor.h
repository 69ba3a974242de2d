/* The record min_exec_monitor's BPF program sends to user space. */
#ifndef MIN_EXEC_MONITOR_H
#define MIN_EXEC_MONITOR_H

#define MIN_EXEC_ARGS_MAX 4096

struct min_exec_event {
  __u32 pid;
  __u32 args_size; /* bytes of args: NUL-separated argv */
  char args[MIN_EXEC_ARGS_MAX];
};

#endif
