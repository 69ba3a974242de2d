#include "sources/linux_bpf/sensor_loader.h"

#include <bpf/libbpf.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "procsentry/wire/wire.h"
#include "procsentry_bpf.skel.h"
#include "sources/linux_bpf/kernel_probe.h"
#include "sources/linux_bpf/libbpf_log.h"

namespace procsentry {

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.release();
  }
  return *this;
}

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) close(fd_);
}

int OwnedFd::release() { return std::exchange(fd_, -1); }

namespace {

// What the child sends, with the descriptors as SCM_RIGHTS in the same message.
struct LoaderReply {
  std::uint32_t ok = 0;
  std::uint32_t exec_failed_attached = 0;
  std::uint32_t bounded_loops = 0;
  std::uint32_t link_count = 0;
  std::uint64_t ring_bytes = 0;
  std::uint64_t counters_bytes = 0;
  std::uint64_t lost_total_offset = 0;
  char error[2048] = {};
};

// ring, counters, then at most the four programs' links.
constexpr std::size_t kMaxFds = 6;

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

std::string load_error(const char* what, int err) {
  std::string message = std::string("cannot ") + what + ": " + errno_text(err);
  if (err == -EACCES && geteuid() == 0) {
    // As root, EACCES from a load is the verifier rejecting a program, not a missing privilege.
    message += " (the kernel's verifier refused a program on this kernel: please report it with the --verbose output)";
  } else if (err == -EPERM || err == -EACCES) {
    message += " (the kernel refused: check that procsentry runs as root and that no security policy blocks BPF)";
  }
  message += "; run with --verbose for the kernel's explanation";
  return message;
}

struct SkeletonDeleter {
  void operator()(procsentry_bpf* skel) const { procsentry_bpf__destroy(skel); }
};

// The child's work: everything the old in-process load did. Fills `reply` and `fds`, or
// returns the error line.
std::string load_and_attach(const SensorOptions& options, LoaderReply& reply, std::vector<int>& fds,
                            std::unique_ptr<procsentry_bpf, SkeletonDeleter>& skeleton) {
  capture_libbpf_log(options.verbose);
  auto features = probe_kernel();
  if (!features) return features.error().message;

  skeleton.reset(procsentry_bpf__open());
  if (!skeleton) return load_error("open the BPF programs", -errno);
  procsentry_bpf* skel = skeleton.get();

  std::uint32_t cap = std::bit_ceil(std::clamp(options.argv_cap, PS_ARGV_MIN_CAP, PS_ARGV_MAX_CAP));
  skel->rodata->cfg_argv_cap = cap;
  std::uint32_t ring = std::bit_ceil(std::max(options.ring_bytes, 8 * cap));
  skel->rodata->cfg_wakeup_bytes = ring / 4;
  if (int err = bpf_map__set_max_entries(skel->maps.events, ring); err != 0) {
    return load_error("size the ring buffer", err);
  }
  bpf_program__set_autoload(skel->progs.ps_sched_process_exit, features->exit_has_group_dead);
  bpf_program__set_autoload(skel->progs.ps_sched_process_exit_live, !features->exit_has_group_dead);
  bpf_program__set_autoload(skel->progs.ps_sys_exit_execve, options.exec_failed);
  // One exec program per loop style; the other is never loaded (its bpf_loop callback
  // would make an older kernel refuse the whole object).
  bpf_program__set_autoload(skel->progs.ps_sched_process_exec, features->has_bpf_loop);
  bpf_program__set_autoload(skel->progs.ps_sched_process_exec_bounded, !features->has_bpf_loop);
  reply.bounded_loops = features->has_bpf_loop ? 0 : 1;

  if (int err = procsentry_bpf__load(skel); err != 0) return load_error("load the BPF programs", err);

  bpf_program* required[] = {
      features->has_bpf_loop ? skel->progs.ps_sched_process_exec : skel->progs.ps_sched_process_exec_bounded,
      skel->progs.ps_sched_process_fork,
      features->exit_has_group_dead ? skel->progs.ps_sched_process_exit : skel->progs.ps_sched_process_exit_live};
  fds.push_back(bpf_map__fd(skel->maps.events));
  fds.push_back(bpf_map__fd(skel->maps.bss));
  for (bpf_program* prog : required) {
    bpf_link* link = bpf_program__attach(prog);
    if (link == nullptr) return load_error((std::string("attach ") + bpf_program__name(prog)).c_str(), -errno);
    fds.push_back(bpf_link__fd(link));  // the link object is left to the child's exit
  }
  if (options.exec_failed) {
    if (bpf_link* link = bpf_program__attach(skel->progs.ps_sys_exit_execve); link != nullptr) {
      fds.push_back(bpf_link__fd(link));
      reply.exec_failed_attached = 1;
    }
  }
  reply.ring_bytes = bpf_map__max_entries(skel->maps.events);
  reply.counters_bytes = bpf_map__value_size(skel->maps.bss);
  reply.lost_total_offset = static_cast<std::uint64_t>(reinterpret_cast<const char*>(&skel->bss->lost_total) -
                                                       reinterpret_cast<const char*>(skel->bss));
  reply.link_count = static_cast<std::uint32_t>(fds.size() - 2);
  reply.ok = 1;
  return {};
}

[[noreturn]] void run_child(int channel, const SensorOptions& options) {
  LoaderReply reply;
  std::vector<int> fds;
  std::unique_ptr<procsentry_bpf, SkeletonDeleter> skeleton;
  std::string error = load_and_attach(options, reply, fds, skeleton);
  if (!error.empty()) {
    reply = LoaderReply{};
    fds.clear();
    std::snprintf(reply.error, sizeof(reply.error), "%s", error.c_str());
  }
  iovec payload{&reply, sizeof(reply)};
  msghdr message{};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFds)> control{};
  if (!fds.empty()) {
    message.msg_control = control.data();
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent = sendmsg(channel, &message, MSG_NOSIGNAL);
  // The parent holds its own references now: exit without tearing anything down (the
  // skeleton's destroy would only close what the exit closes anyway).
  (void)skeleton.release();
  std::fflush(stderr);
  _exit(sent == static_cast<ssize_t>(sizeof(reply)) ? 0 : 1);
}

bool single_threaded() {
  std::error_code ec;
  auto tasks = std::filesystem::directory_iterator("/proc/self/task", ec);
  if (ec) return true;  // no /proc: nothing to tell
  return std::distance(tasks, std::filesystem::directory_iterator()) == 1;
}

std::string child_end_text(int status) {
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

Result<LoadedSensor> load_sensor(const SensorOptions& options) {
  // fork() copies only the calling thread: another thread's lock held at that moment
  // would never be released in the child.
  if (!single_threaded()) return Error{"internal error: the BPF programs must be loaded before any thread starts"};
  int channel[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0) {
    return Error{"cannot start the BPF loader: socketpair: " + errno_text(errno)};
  }
  std::fflush(nullptr);  // nothing buffered is written twice
  pid_t child = fork();
  if (child < 0) {
    close(channel[0]);
    close(channel[1]);
    return Error{"cannot start the BPF loader: fork: " + errno_text(errno)};
  }
  if (child == 0) {
    close(channel[0]);
    run_child(channel[1], options);
  }
  close(channel[1]);
  OwnedFd channel_end(channel[0]);

  LoaderReply reply;
  iovec payload{&reply, sizeof(reply)};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFds)> control{};
  msghdr message{};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  ssize_t got;
  do {
    got = recvmsg(channel_end.get(), &message, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  const int recv_errno = errno;
  // Take every descriptor that arrived before judging the rest, so none leaks.
  std::vector<OwnedFd> fds;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  if (got < 0) return Error{"cannot read from the BPF loader: " + errno_text(recv_errno)};
  if (got != static_cast<ssize_t>(sizeof(reply))) {
    return Error{"the BPF loader process " + child_end_text(status) + " before it finished loading"};
  }
  if (reply.ok == 0) {
    reply.error[sizeof(reply.error) - 1] = '\0';
    return Error{reply.error};
  }
  if ((message.msg_flags & MSG_CTRUNC) != 0 || fds.size() != 2 + reply.link_count) {
    return Error{"the BPF loader sent " + std::to_string(fds.size()) + " descriptors, not the " +
                 std::to_string(2 + reply.link_count) + " expected"};
  }
  LoadedSensor sensor;
  sensor.ring = std::move(fds[0]);
  sensor.ring_bytes = reply.ring_bytes;
  sensor.counters = std::move(fds[1]);
  sensor.counters_bytes = reply.counters_bytes;
  sensor.lost_total_offset = reply.lost_total_offset;
  for (std::size_t i = 2; i < fds.size(); ++i) sensor.links.push_back(std::move(fds[i]));
  sensor.exec_failed_attached = reply.exec_failed_attached != 0;
  sensor.bounded_loops = reply.bounded_loops != 0;
  return sensor;
}

}  // namespace procsentry
