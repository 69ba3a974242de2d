// Exec-storm benchmarks of the real monitor (run as root):
//   storm_bench peer     [--execs N] [--rounds R] [--workers W] [--before PROCSENTRY] [-- OPTIONS]
//                                                   procsentry --json vs min_exec_monitor (bench/min_exec_monitor:
//                                                   the simplest libbpf exec monitor), interleaved: CPU per 1,000
//                                                   exec events of each and the ratio, peak RSS, procsentry's
//                                                   start-up CPU (exec -> "watching"); --before adds another
//                                                   build (e.g. main's) to the same rounds
//   storm_bench monitor  [--execs N] [--workers W] [-- OPTIONS]   procsentry's CPU per 1,000 events, delivery
//                                                   latency, peak RSS (OPTIONS go to procsentry, e.g. --hash sha256)
//   storm_bench storm    [--execs N] [--workers W]   the storm alone, for profiling a monitor started apart
//                                                   (bench/stage_profile.sh)
//   storm_bench kernel   [--execs N] [--pairs P]     the storm's own sys CPU per exec, sensor attached vs detached
//   storm_bench syscalls [--calls N] [--pairs P]     CPU per getppid() on both cores with the exec_failed hook
//                                                   (raw syscall exit) attached vs --no-exec-failed: what every
//                                                   syscall of the machine pays for exec_failed events
//   storm_bench outputs  [--execs N] [--pairs P]     procsentry's CPU per 1,000 events streaming JSON to /dev/null
//                                                   vs recording to SQLite and forwarding to a real rsyslogd over
//                                                   TCP at once; checks nothing is lost on the way
//   storm_bench kafka    [--execs N] [--pairs P] [-- OPTIONS]  the same, JSON to /dev/null vs --kafka OPTIONS to
//                                                   build/kafka-mock-cluster (3 brokers); kcat counts what arrived
// Exec rate on small VMs drifts, so the kernel comparison interleaves attached/detached runs and
// reports the ratio of each pair, not of two long averages.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/rsyslog_server.h"

namespace {

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

struct StormResult {
  double wall_s = 0;
  double sys_s = 0;  // the storm's own kernel time (workers and their children)
  double user_s = 0;
};

// W worker processes, each fork+exec'ing /usr/bin/true `execs / W` times.
StormResult run_storm(int execs, int workers) {
  auto start = std::chrono::steady_clock::now();
  pid_t storm = fork();
  if (storm == 0) {
    std::vector<pid_t> pids;
    for (int w = 0; w < workers; ++w) {
      pid_t worker = fork();
      if (worker == 0) {
        char arg0[] = "true";
        char arg1[] = "storm-bench";
        char* argv[] = {arg0, arg1, nullptr};
        char* envp[] = {nullptr};
        for (int i = 0; i < execs / workers; ++i) {
          pid_t pid;
          if (posix_spawn(&pid, "/usr/bin/true", nullptr, nullptr, argv, envp) == 0) waitpid(pid, nullptr, 0);
        }
        _exit(0);
      }
      pids.push_back(worker);
    }
    for (pid_t p : pids) waitpid(p, nullptr, 0);
    _exit(0);
  }
  int status = 0;
  rusage usage{};
  wait4(storm, &status, 0, &usage);
  StormResult r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // wait4's rusage of the storm process includes its waited-for descendants.
  r.sys_s = seconds(usage.ru_stime);
  r.user_s = seconds(usage.ru_utime);
  return r;
}

struct Monitor {
  pid_t pid = -1;
  int out = -1;
  int err = -1;
};

// Options after "--" on our command line go to procsentry (e.g. -- --hash sha256 --ancestry).
std::vector<std::string> g_monitor_options;

// Starts args[0] with args, waits for "watching" on its stderr.
Monitor spawn_monitor(std::vector<std::string> args, bool read_stdout) {
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) std::exit(1);
  Monitor m;
  m.pid = fork();
  if (m.pid == 0) {
    if (read_stdout) {
      dup2(out[1], STDOUT_FILENO);
    } else {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, STDOUT_FILENO);
    }
    dup2(err[1], STDERR_FILENO);
    std::vector<char*> ptrs;
    for (auto& a : args) ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    execv(ptrs[0], ptrs.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  m.out = out[0];
  m.err = err[0];
  std::string text;
  char buf[4096];
  while (text.find("watching") == std::string::npos) {
    ssize_t n = read(m.err, buf, sizeof(buf));
    if (n <= 0) {
      std::fprintf(stderr, "storm_bench: %s did not start: %s\n", args[0].c_str(), text.c_str());
      std::exit(1);
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return m;
}

Monitor start_monitor(const std::string& binary, bool read_stdout, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{binary};
  // record shows nothing on standard output (no --print), so --json would be refused there.
  if (g_monitor_options.empty() || g_monitor_options.front() != "record") args.push_back("--json");
  args.insert(args.end(), g_monitor_options.begin(), g_monitor_options.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return spawn_monitor(std::move(args), read_stdout);
}

struct MonitorUsage {
  double cpu_s = 0;
  long max_rss_kib = 0;
  std::string summary;
};

MonitorUsage stop_monitor(Monitor& m) {
  kill(m.pid, SIGTERM);
  MonitorUsage u;
  char buf[4096];
  for (ssize_t n; (n = read(m.err, buf, sizeof(buf))) > 0;) u.summary.append(buf, static_cast<std::size_t>(n));
  int status = 0;
  rusage usage{};
  wait4(m.pid, &status, 0, &usage);
  close(m.err);
  if (m.out >= 0) close(m.out);
  u.cpu_s = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  u.max_rss_kib = usage.ru_maxrss;
  return u;
}

// CPU of the children a process has waited for (procsentry loads its BPF programs in one),
// from /proc/PID/stat's cutime and cstime: clock ticks, so 10 ms steps.
std::int64_t reaped_children_cpu_ns(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return 0;
  std::istringstream fields(stat.substr(end_of_name + 1));
  std::string field;
  long long cutime = 0, cstime = 0;
  // Fields from 3 (state) on: cutime is field 16, cstime 17.
  for (int i = 3; i <= 17 && fields >> field; ++i) {
    if (i == 16) cutime = std::atoll(field.c_str());
    if (i == 17) cstime = std::atoll(field.c_str());
  }
  return (cutime + cstime) * 1'000'000'000 / sysconf(_SC_CLK_TCK);
}

// On-CPU time of every thread of a process (outputs and --hash run threads of their own) and
// of the children it reaped, to measure a window of its life rather than its whole life,
// which includes loading the BPF programs.
std::int64_t process_cpu_ns(pid_t pid) {
  std::int64_t total = reaped_children_cpu_ns(pid);
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    FILE* f = std::fopen((task.path() / "schedstat").c_str(), "r");
    if (f == nullptr) continue;
    long long ns = 0;
    if (std::fscanf(f, "%lld", &ns) == 1) total += ns;
    std::fclose(f);
  }
  return total;
}

long rss_kib(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

long long events_in(const std::string& summary) {
  auto at = summary.rfind("procsentry: ");
  return at == std::string::npos ? 0 : std::atoll(summary.c_str() + at + 12);
}

std::int64_t now_epoch_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// "time":"2026-11-24T12:04:01.123456789Z" -> epoch ns
std::int64_t parse_time(const char* line) {
  const char* t = std::strstr(line, "\"time\":\"");
  if (t == nullptr) return 0;
  t += 8;
  std::tm tm{};
  if (strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return 0;
  std::int64_t ns = std::atoll(t + 20);
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000 + ns;
}

int monitor_cost(const std::string& binary, int execs, int workers) {
  Monitor m = start_monitor(binary, true);
  // Read the JSON stream as a live consumer would, timing each event's delivery.
  std::vector<double> latency_ms;
  std::string pending;
  usleep(300'000);  // let start-up work (seeding the process table) finish
  const std::int64_t cpu_before = process_cpu_ns(m.pid);
  long storm_rss_kib = 0;
  pid_t storm = fork();
  if (storm == 0) {
    run_storm(execs, workers);
    _exit(0);
  }
  bool storm_done = false;
  auto consume = [&](int timeout_ms) {
    pollfd fd{m.out, POLLIN, 0};
    if (poll(&fd, 1, timeout_ms) <= 0) return false;
    char buf[65536];
    ssize_t n = read(m.out, buf, sizeof(buf));
    if (n <= 0) return false;
    std::int64_t now = now_epoch_ns();
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      pending[nl] = '\0';
      std::int64_t t = parse_time(pending.c_str() + start);
      if (t > 0) latency_ms.push_back(static_cast<double>(now - t) / 1e6);
    }
    pending.erase(0, start);
    return true;
  };
  while (!storm_done) {
    consume(50);
    storm_rss_kib = std::max(storm_rss_kib, rss_kib(m.pid));
    storm_done = waitpid(storm, nullptr, WNOHANG) == storm;
  }
  while (consume(300)) {
  }
  const std::int64_t storm_cpu_ns = process_cpu_ns(m.pid) - cpu_before;
  storm_rss_kib = std::max(storm_rss_kib, rss_kib(m.pid));
  MonitorUsage u = stop_monitor(m);
  long long events = events_in(u.summary);
  std::sort(latency_ms.begin(), latency_ms.end());
  auto pct = [&](double p) {
    return latency_ms.empty() ? 0.0
                              : latency_ms[static_cast<std::size_t>(p * static_cast<double>(latency_ms.size() - 1))];
  };
  const double storm_ms = static_cast<double>(storm_cpu_ns) / 1e6;
  std::printf("monitor cost during the storm: %lld events, procsentry CPU %.1f ms = %.1f ms per 1,000 events\n", events,
              storm_ms, events ? storm_ms * 1000.0 / static_cast<double>(events) : 0.0);
  std::printf(
      "whole run incl. loading the BPF programs: CPU %.1f ms; RSS during the storm %.1f MiB, peak incl. load %.1f "
      "MiB\n",
      u.cpu_s * 1e3, static_cast<double>(storm_rss_kib) / 1024.0, static_cast<double>(u.max_rss_kib) / 1024.0);
  std::printf("delivery latency (event time -> line read): p50 %.1f ms, p99 %.1f ms, max %.1f ms over %zu events\n",
              pct(0.5), pct(0.99), latency_ms.empty() ? 0.0 : latency_ms.back(), latency_ms.size());
  std::printf("procsentry summary: %s", u.summary.substr(u.summary.rfind("procsentry: ")).c_str());
  return 0;
}

int kernel_cost(const std::string& binary, int execs, int pairs) {
  std::vector<double> ratios;
  double detached_total = 0;
  double attached_total = 0;
  for (int p = 0; p < pairs; ++p) {
    // Alternate which goes first so drift does not favour one side.
    double per_exec[2] = {0, 0};  // [0] detached, [1] attached
    for (int k = 0; k < 2; ++k) {
      bool attached = ((p + k) % 2) == 1;
      Monitor m;
      if (attached) m = start_monitor(binary, false);
      StormResult r = run_storm(execs, 4);
      if (attached) stop_monitor(m);
      per_exec[attached ? 1 : 0] = r.sys_s / execs * 1e6;  // us of sys CPU per exec
    }
    ratios.push_back(per_exec[1] / per_exec[0]);
    detached_total += per_exec[0];
    attached_total += per_exec[1];
    std::printf("pair %2d: detached %.1f us sys/exec, attached %.1f us sys/exec, ratio %.3f\n", p + 1, per_exec[0],
                per_exec[1], ratios.back());
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf(
      "kernel-side cost: %d pairs of %d execs: median ratio %.3f (min %.3f, max %.3f); mean %.1f -> %.1f us sys/exec\n",
      pairs, execs, ratios[ratios.size() / 2], ratios.front(), ratios.back(), detached_total / pairs,
      attached_total / pairs);
  return 0;
}

long long lost_in(const std::string& summary) {
  auto at = summary.rfind(", lost ");
  return at == std::string::npos ? -1 : std::atoll(summary.c_str() + at + 7);
}

long long rows_in(const std::string& binary, const std::string& db) {
  const std::string command = binary + " query --db " + db + " --sql 'SELECT count(*) AS n FROM events'";
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return -1;
  char line[256] = {};
  long long n = -1;
  if (std::fgets(line, sizeof(line), p) != nullptr) std::sscanf(line, "{\"n\":%lld}", &n);
  pclose(p);
  return n;
}

int outputs_cost(const std::string& binary, int execs, int pairs) {
  std::string why;
  auto server = procsentry::test::RsyslogServer::start(&why);
  if (!server) {
    std::fprintf(stderr, "storm_bench: cannot start rsyslogd: %s\n", why.c_str());
    return 1;
  }
  const std::string dir = std::filesystem::temp_directory_path() / ("storm_bench." + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/events.db";
  const std::string url = "tcp://127.0.0.1:" + std::to_string(server->tcp_port());
  std::vector<double> ratios;
  bool all_delivered = true;
  for (int p = 0; p < pairs; ++p) {
    double per_1000[2] = {0, 0};  // [0] JSON to /dev/null, [1] SQLite + rsyslog
    for (int k = 0; k < 2; ++k) {
      const bool forwarding = ((p + k) % 2) == 1;
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
      g_monitor_options.clear();
      if (forwarding) g_monitor_options = {"record", "--db", db, "--syslog", url};
      const std::size_t received_before = server->raw_lines().size();
      Monitor m = start_monitor(binary, false);
      usleep(300'000);  // let start-up work (seeding the process table) finish
      const std::int64_t cpu_before = process_cpu_ns(m.pid);
      run_storm(execs, 4);
      usleep(500'000);  // the outputs drain their backlogs
      const std::int64_t cpu = process_cpu_ns(m.pid) - cpu_before;
      MonitorUsage u = stop_monitor(m);
      const long long events = events_in(u.summary);
      per_1000[forwarding ? 1 : 0] = static_cast<double>(cpu) / 1e6 * 1000.0 / static_cast<double>(events);
      if (!forwarding) continue;
      server->wait_for(received_before + static_cast<std::size_t>(events), std::chrono::seconds(20));
      const long long received = static_cast<long long>(server->raw_lines().size() - received_before);
      const long long stored = rows_in(binary, db);
      const long long lost = lost_in(u.summary);
      const bool complete = lost == 0 && stored == events && received == events;
      all_delivered = all_delivered && complete;
      std::printf("pair %2d: %lld events, lost %lld, stored in SQLite %lld, received by rsyslog %lld%s\n", p + 1,
                  events, lost, stored, received, complete ? "" : "  <- NOT ALL DELIVERED");
    }
    ratios.push_back(per_1000[1] / per_1000[0]);
    std::printf("pair %2d: JSON to /dev/null %.1f ms CPU per 1,000 events, SQLite + rsyslog %.1f ms, ratio %.2f\n",
                p + 1, per_1000[0], per_1000[1], ratios.back());
  }
  std::filesystem::remove_all(dir);
  std::sort(ratios.begin(), ratios.end());
  std::printf("outputs cost: %d pairs of %d execs: median ratio %.2f (min %.2f, max %.2f); %s\n", pairs, execs,
              ratios[ratios.size() / 2], ratios.front(), ratios.back(),
              all_delivered ? "every event stored and forwarded, none lost" : "SOME EVENTS WERE NOT DELIVERED");
  return all_delivered ? 0 : 1;
}

// build/kafka-mock-cluster, its commands on `in`; bootstrap: what it printed first.
struct MockCluster {
  pid_t pid = -1;
  int in = -1;
  std::string bootstrap;
};

MockCluster start_mock_cluster() {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) std::exit(1);
  MockCluster c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    execl(KAFKA_MOCK_CLUSTER, KAFKA_MOCK_CLUSTER, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  c.in = in[1];
  char line[4096] = {};
  FILE* first = fdopen(out[0], "r");
  if (first == nullptr || std::fgets(line, sizeof(line), first) == nullptr ||
      std::strncmp(line, "bootstrap=", 10) != 0) {
    std::fprintf(stderr, "storm_bench: kafka-mock-cluster did not start\n");
    std::exit(1);
  }
  c.bootstrap.assign(line + 10, std::strcspn(line + 10, "\n"));
  return c;
}

// The monitor's own count ("procsentry: N events (exec ..."): the Kafka output's line follows it.
long long monitor_events_in(const std::string& summary) {
  const auto end = summary.rfind(" events (exec");
  const auto at = end == std::string::npos ? end : summary.rfind("procsentry: ", end);
  return at == std::string::npos ? 0 : std::atoll(summary.c_str() + at + 12);
}

// Messages on `topic`, as a consumer reads them back.
long long kafka_messages(const std::string& bootstrap, const std::string& topic) {
  const std::string command = "kcat -C -b " + bootstrap + " -t " + topic + " -o beginning -e -q -f 'x\\n' | wc -l";
  FILE* p = popen(command.c_str(), "r");
  long long n = -1;
  if (p != nullptr && std::fscanf(p, "%lld", &n) != 1) n = -1;
  if (p != nullptr) pclose(p);
  return n;
}

int kafka_cost(const std::string& binary, int execs, int pairs) {
  MockCluster cluster = start_mock_cluster();
  const std::vector<std::string> extra = g_monitor_options;  // -- OPTIONS: for the --kafka runs
  std::vector<double> ratios;
  bool all_delivered = true;
  for (int p = 0; p < pairs; ++p) {
    double per_1000[2] = {0, 0};  // [0] JSON to /dev/null, [1] --kafka
    for (int k = 0; k < 2; ++k) {
      const bool kafka = ((p + k) % 2) == 1;
      const std::string topic = "storm-" + std::to_string(p);
      const std::string create = "topic " + topic + " 6\n";
      if (kafka && write(cluster.in, create.data(), create.size()) < 0) std::exit(1);
      g_monitor_options.clear();
      if (kafka) g_monitor_options = {"--kafka", cluster.bootstrap, "--kafka-topic", topic};
      if (kafka) g_monitor_options.insert(g_monitor_options.end(), extra.begin(), extra.end());
      Monitor m = start_monitor(binary, false);
      usleep(300'000);  // let start-up work (seeding the process table) finish
      const std::int64_t cpu_before = process_cpu_ns(m.pid);
      run_storm(execs, 4);
      usleep(500'000);  // the outputs drain their backlogs
      const std::int64_t cpu = process_cpu_ns(m.pid) - cpu_before;
      MonitorUsage u = stop_monitor(m);
      const long long events = monitor_events_in(u.summary);
      per_1000[kafka ? 1 : 0] = static_cast<double>(cpu) / 1e6 * 1000.0 / static_cast<double>(events);
      if (!kafka) continue;
      const long long received = kafka_messages(cluster.bootstrap, topic);
      const long long lost = lost_in(u.summary);
      const bool complete = lost == 0 && received == events;
      all_delivered = all_delivered && complete;
      std::printf("pair %2d: %lld events, lost %lld, read back from Kafka %lld%s\n", p + 1, events, lost, received,
                  complete ? "" : "  <- NOT ALL DELIVERED");
    }
    ratios.push_back(per_1000[1] / per_1000[0]);
    std::printf("pair %2d: JSON to /dev/null %.1f ms CPU per 1,000 events, --kafka %.1f ms, ratio %.2f\n", p + 1,
                per_1000[0], per_1000[1], ratios.back());
  }
  kill(cluster.pid, SIGTERM);
  waitpid(cluster.pid, nullptr, 0);
  std::sort(ratios.begin(), ratios.end());
  std::printf("kafka cost: %d pairs of %d execs: median ratio %.2f (min %.2f, max %.2f); %s\n", pairs, execs,
              ratios[ratios.size() / 2], ratios.front(), ratios.back(),
              all_delivered ? "every event read back from Kafka, none lost" : "SOME EVENTS WERE NOT DELIVERED");
  return all_delivered ? 0 : 1;
}

// The count after "exec " in a monitor's summary line (procsentry: "(exec N, ..."), or the
// number before " exec" (min_exec_monitor: "N exec, lost M"); -1 if absent.
long long exec_events_in(const std::string& summary) {
  for (std::size_t at = summary.find("exec "); at != std::string::npos; at = summary.find("exec ", at + 1)) {
    if (at > 0 && (summary[at - 1] == '(' || summary[at - 1] == ' ')) return std::atoll(summary.c_str() + at + 5);
  }
  auto at = summary.rfind(" exec,");
  if (at == std::string::npos) return -1;
  auto start = summary.rfind(' ', at - 1);
  return std::atoll(summary.c_str() + (start == std::string::npos ? 0 : start + 1));
}

struct PeerRun {
  double cpu_per_1000 = 0;  // ms of CPU (user+sys, all threads) per 1,000 exec events during the storm
  double startup_cpu_ms = 0;
  double startup_wall_ms = 0;
  double peak_rss_mib = 0;  // incl. start-up
  long long execs = 0;
  long long lost = 0;
};

// One monitor, one storm: its stdout goes to /dev/null (both monitors format every event).
PeerRun peer_run(std::vector<std::string> args, int execs, int workers) {
  const auto spawned = std::chrono::steady_clock::now();
  Monitor m = spawn_monitor(std::move(args), false);
  PeerRun r;
  r.startup_wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - spawned).count();
  // It prints "watching" once set up and then waits for records: its CPU so far is its start-up.
  const std::int64_t cpu_ready = process_cpu_ns(m.pid);
  run_storm(execs, workers);
  // The storm's last records reach the monitor within its poll bound (procsentry: 50 ms).
  usleep(300'000);
  const std::int64_t cpu_storm = process_cpu_ns(m.pid) - cpu_ready;
  MonitorUsage u = stop_monitor(m);
  r.startup_cpu_ms = static_cast<double>(cpu_ready) / 1e6;
  r.execs = exec_events_in(u.summary);
  const long long lost = lost_in(u.summary);
  r.lost = lost;
  r.cpu_per_1000 = r.execs > 0 ? static_cast<double>(cpu_storm) / 1e6 * 1000.0 / static_cast<double>(r.execs) : 0;
  r.peak_rss_mib = static_cast<double>(u.max_rss_kib) / 1024.0;
  if (r.execs < execs || lost != 0) {
    std::fprintf(stderr, "storm_bench: a monitor saw %lld of %d execs, lost %lld: %s", r.execs, execs, lost,
                 u.summary.c_str());
  }
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// procsentry --json against min_exec_monitor (the simplest libbpf exec monitor, one wakeup per
// record), in rounds that run each monitor once, in an order that rotates, so machine drift
// favours none. `before` (another procsentry build, e.g. main's) joins the same rounds: a
// change is compared side by side, never across runs.
int peer_cost(const std::string& binary, const std::string& before, int execs, int rounds, int workers) {
  struct Monitored {
    std::string name;
    std::vector<std::string> args;
    std::vector<double> cpu, ratio, startup;
    double rss = 0;
  };
  std::vector<Monitored> monitors;
  for (const std::string& b : {binary, before}) {
    if (b.empty()) continue;
    Monitored m{monitors.empty() ? "procsentry" : "procsentry (before)", {b, "--json"}, {}, {}, {}, 0};
    m.args.insert(m.args.end(), g_monitor_options.begin(), g_monitor_options.end());
    monitors.push_back(std::move(m));
  }
  monitors.push_back(Monitored{"min_exec_monitor", {MIN_EXEC_MONITOR_BINARY}, {}, {}, {}, 0});
  const std::size_t n = monitors.size();
  Monitored& peer = monitors.back();
  bool complete = true;
  for (int round = 0; round < rounds; ++round) {
    std::vector<PeerRun> runs(n);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t which = (static_cast<std::size_t>(round) + k) % n;
      runs[which] = peer_run(monitors[which].args, execs, workers);
      complete = complete && runs[which].execs >= execs && runs[which].lost == 0;
    }
    std::printf("round %2d:", round + 1);
    for (std::size_t i = 0; i < n; ++i) {
      Monitored& m = monitors[i];
      m.cpu.push_back(runs[i].cpu_per_1000);
      m.ratio.push_back(runs[i].cpu_per_1000 / runs[n - 1].cpu_per_1000);
      m.startup.push_back(runs[i].startup_cpu_ms);
      m.rss = std::max(m.rss, runs[i].peak_rss_mib);
      std::printf(
          "%s %s %.1f ms CPU per 1,000 exec events (%lld execs, start-up %.0f ms CPU / %.0f ms wall, peak RSS "
          "%.1f MiB)",
          i == 0 ? "" : ";", m.name.c_str(), runs[i].cpu_per_1000, runs[i].execs, runs[i].startup_cpu_ms,
          runs[i].startup_wall_ms, runs[i].peak_rss_mib);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf("peer cost: %d rounds of %d execs, CPU (user+sys, all threads) per 1,000 exec events:\n", rounds, execs);
  for (Monitored& m : monitors) {
    std::printf(
        "  %-20s median %.1f ms (min %.1f, max %.1f); start-up CPU median %.0f ms (max %.0f); peak RSS %.1f MiB",
        m.name.c_str(), median(m.cpu), *std::min_element(m.cpu.begin(), m.cpu.end()),
        *std::max_element(m.cpu.begin(), m.cpu.end()), median(m.startup),
        *std::max_element(m.startup.begin(), m.startup.end()), m.rss);
    if (&m != &peer) {
      std::printf("; ratio to min_exec_monitor median %.3f (min %.3f, max %.3f)", median(m.ratio),
                  *std::min_element(m.ratio.begin(), m.ratio.end()), *std::max_element(m.ratio.begin(), m.ratio.end()));
    }
    std::printf("\n");
  }
  std::printf("  %s\n", complete ? "every exec seen by every monitor, none lost" : "SOME EXECS WERE MISSED OR LOST");
  return complete ? 0 : 1;
}

// One thread per core, each making `calls` getppid() syscalls (never cached by libc); returns
// their CPU time per call in ns. The syscall-exit hook runs in the caller's context, so its cost
// is in the callers' own CPU time.
double syscall_loop_ns(long calls) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<double> cpu_s(cores, 0);
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < cores; ++c) {
    threads.emplace_back([&, c] {
      for (long i = 0; i < calls; ++i) syscall(SYS_getppid);
      rusage u{};
      getrusage(RUSAGE_THREAD, &u);
      cpu_s[c] = seconds(u.ru_utime) + seconds(u.ru_stime);
    });
  }
  for (auto& t : threads) t.join();
  double total = 0;
  for (double s : cpu_s) total += s;
  return total / static_cast<double>(calls * static_cast<long>(cores)) * 1e9;
}

int syscall_cost(const std::string& binary, long calls, int pairs) {
  std::vector<double> ratios;
  double sums[2] = {0, 0};
  for (int p = 0; p < pairs; ++p) {
    double ns[2] = {0, 0};  // [0] --no-exec-failed, [1] exec_failed hook attached
    for (int k = 0; k < 2; ++k) {
      bool hooked = ((p + k) % 2) == 1;  // alternate which goes first so drift favours neither
      Monitor m = start_monitor(
          binary, false,
          hooked ? std::vector<std::string>{"--exec-failed"} : std::vector<std::string>{"--no-exec-failed"});
      ns[hooked ? 1 : 0] = syscall_loop_ns(calls);
      stop_monitor(m);
    }
    ratios.push_back(ns[1] / ns[0]);
    sums[0] += ns[0];
    sums[1] += ns[1];
    std::printf("pair %2d: without hook %.1f ns/syscall, with hook %.1f ns/syscall, ratio %.3f\n", p + 1, ns[0], ns[1],
                ratios.back());
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf(
      "exec_failed hook cost: %d pairs of %ld getppid() per core: median ratio %.3f (min %.3f, max %.3f); mean %.1f "
      "-> %.1f ns/syscall\n",
      pairs, calls, ratios[ratios.size() / 2], ratios.front(), ratios.back(), sums[0] / pairs, sums[1] / pairs);
  return 0;
}

int arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 2; i + 1 < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || geteuid() != 0) {
    std::fprintf(stderr,
                 "usage (as root): storm_bench peer [--execs N] [--rounds R] [--workers W] [--before PROCSENTRY] [-- "
                 "PROCSENTRY_OPTIONS] | "
                 "monitor [--execs N] [--workers W] [-- PROCSENTRY_OPTIONS] | storm [--execs N] [--workers W] | kernel "
                 "[--execs N] "
                 "[--pairs P] | syscalls [--calls N] [--pairs P] | outputs|kafka [--execs N] [--pairs P]\n");
    return 2;
  }
  std::string binary = PROCSENTRY_BINARY;
  std::string mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) g_monitor_options.assign(argv + i + 1, argv + argc);
  }
  if (mode == "peer") {
    std::string before;
    for (int i = 2; i + 1 < argc && std::strcmp(argv[i], "--") != 0; ++i) {
      if (std::strcmp(argv[i], "--before") == 0) before = argv[i + 1];
    }
    return peer_cost(binary, before, arg(argc, argv, "--execs", 6000), arg(argc, argv, "--rounds", 5),
                     arg(argc, argv, "--workers", 4));
  }
  if (mode == "storm") {
    run_storm(arg(argc, argv, "--execs", 6000), arg(argc, argv, "--workers", 4));
    return 0;
  }
  if (mode == "monitor") return monitor_cost(binary, arg(argc, argv, "--execs", 4000), arg(argc, argv, "--workers", 4));
  if (mode == "kernel") return kernel_cost(binary, arg(argc, argv, "--execs", 1000), arg(argc, argv, "--pairs", 10));
  if (mode == "syscalls")
    return syscall_cost(binary, arg(argc, argv, "--calls", 5'000'000), arg(argc, argv, "--pairs", 10));
  if (mode == "outputs") return outputs_cost(binary, arg(argc, argv, "--execs", 2000), arg(argc, argv, "--pairs", 3));
  if (mode == "kafka") return kafka_cost(binary, arg(argc, argv, "--execs", 2000), arg(argc, argv, "--pairs", 3));
  std::fprintf(stderr, "storm_bench: unknown mode '%s'\n", mode.c_str());
  return 2;
}
