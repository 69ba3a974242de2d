// Process context against the real sensor: process_uid across pid reuse and restarts,
// seeding from /proc, reparenting, and the exec context (cwd, user, group, pid namespace,
// tty, login uid, cgroup and container id), plus --hash.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Fields of /proc/PID/stat after the ")" that ends comm: index 0 is field 3 (state).
std::vector<std::string> stat_fields(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

// The documented process_uid, computed independently: boot id's first 8 hex digits, pid,
// start time in clock ticks (field 22 of /proc/PID/stat).
std::string expected_uid(pid_t pid) {
  std::string boot = read_text("/proc/sys/kernel/random/boot_id").substr(0, 8);
  auto fields = stat_fields(pid);
  if (fields.size() < 20) return "gone";
  return boot + "-" + std::to_string(pid) + "-" + fields[19];
}

// Empty when /proc does not say (kernel threads; some sandboxes' init).
std::string exe_of(pid_t pid) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
}

std::vector<std::string> argv_of(pid_t pid) {
  const std::string cmdline = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> argv;
  for (std::size_t at = 0; at < cmdline.size();) {
    std::size_t nul = cmdline.find('\0', at);
    if (nul == std::string::npos) nul = cmdline.size();
    argv.push_back(cmdline.substr(at, nul - at));
    at = nul + 1;
  }
  return argv;
}

// Polls until process `pid` has exec'd `argv` (a fork shows its parent's until then).
bool runs_argv(pid_t pid, const std::vector<std::string>& argv) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (argv_of(pid) != argv) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

bool has_arg(const nlohmann::json& e, const std::string& marker) {
  if (e.at("event") != "exec" || !e.contains("argv")) return false;
  for (const auto& a : e.at("argv")) {
    if (a == marker) return true;
  }
  return false;
}

const nlohmann::json* exec_with_arg(const Monitor& monitor, const std::string& marker) {
  for (const auto& e : monitor.events()) {
    if (has_arg(e, marker)) return &e;
  }
  return nullptr;
}

class ProcessContext : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  }
};

TEST_F(ProcessContext, PidReuseGivesADifferentProcessUid) {
  Monitor monitor;
  auto [first, status] = run("/bin/true", {"true", "first-of-pid"});
  ASSERT_EQ(status, 0);
  // process_uid resolves start times to a clock tick (10 ms): only a forced reuse could
  // come sooner (a natural one needs pid_max forks first).
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  // Ask the kernel for the same pid again (ns_last_pid), retrying if another process
  // on the machine takes it first.
  pid_t second = -1;
  for (int attempt = 0; attempt < 50 && second != first; ++attempt) {
    std::ofstream("/proc/sys/kernel/ns_last_pid") << first - 1;
    pid_t child = fork();
    if (child == 0) {
      if (getpid() == first) execl("/bin/true", "true", "second-of-pid", nullptr);
      _exit(0);
    }
    wait_for(child);
    second = child;
  }
  ASSERT_EQ(second, first) << "could not get pid " << first << " again";
  monitor.stop();
  const auto* a = exec_with_arg(monitor, "first-of-pid");
  const auto* b = exec_with_arg(monitor, "second-of-pid");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->at("pid"), b->at("pid"));
  EXPECT_NE(a->at("process_uid"), b->at("process_uid"));
  // Each exit carries the identity of its own exec.
  auto exits = monitor.of(first, "exit");
  ASSERT_GE(exits.size(), 2u);
  EXPECT_EQ(exits[0].at("process_uid"), a->at("process_uid"));
  EXPECT_EQ(exits.back().at("process_uid"), b->at("process_uid"));
}

TEST_F(ProcessContext, SameProcessSameUidAcrossRestartsAndSeeding) {
  // This test process is older than both monitors: both seed it from /proc.
  const std::string self = expected_uid(getpid());
  std::string sleeper_uid;
  pid_t sleeper = -1;
  {
    Monitor first;
    sleeper = spawn("/bin/sleep", {"sleep", "30"});
    run("/bin/true", {"true", "restart-one"});
    // spawn() returns at the fork: the sleeper's exec may come after true's whole life.
    ASSERT_TRUE(first.wait_for_event([&](const nlohmann::json& e) {
      return e.value("event", "") == "exec" && e.value("pid", -1) == sleeper;
    })) << first.stderr_text();
    first.stop();
    const auto* e = exec_with_arg(first, "restart-one");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->at("parent_uid"), self);
    auto execs = first.of(sleeper, "exec");
    ASSERT_EQ(execs.size(), 1u);
    sleeper_uid = execs[0].at("process_uid");  // derived from the kernel's start time
  }
  EXPECT_EQ(sleeper_uid, expected_uid(sleeper));  // /proc's start ticks agree with the kernel's
  Monitor second;
  run("/bin/true", {"true", "restart-two"});
  kill(sleeper, SIGKILL);
  wait_for(sleeper);
  second.stop();
  const auto* e = exec_with_arg(second, "restart-two");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at("parent_uid"), self);
  auto exits = second.of(sleeper, "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].at("process_uid"), sleeper_uid);
  EXPECT_EQ(exits[0].at("image"), "/usr/bin/sleep");  // known from seeding
  EXPECT_EQ(exits[0].at("signal"), SIGKILL);
}

TEST_F(ProcessContext, ProcessesOlderThanTheMonitorAreSeeded) {
  const std::string gate = "/tmp/procsentry-seed-gate." + std::to_string(getpid());
  fs::remove(gate);
  const std::string script = "while [ ! -e " + gate + " ]; do sleep 0.05; done; /bin/true seeded-child; exit 7";
  pid_t parent = spawn("/bin/sh", {"sh", "-c", script});
  ASSERT_TRUE(runs_argv(parent, {"sh", "-c", script})) << "sh never started";
  const std::string parent_uid = expected_uid(parent);
  const std::string parent_image = exe_of(parent);
  Monitor monitor;
  std::ofstream(gate) << "go";
  int status = wait_for(parent);
  monitor.stop();
  fs::remove(gate);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
  const auto* child = exec_with_arg(monitor, "seeded-child");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->at("ppid"), parent);
  EXPECT_EQ(child->at("parent_uid"), parent_uid);
  EXPECT_EQ(child->at("parent_image"), parent_image);
  EXPECT_EQ(child->at("parent_argv"), (nlohmann::json{"sh", "-c", script}));
  EXPECT_EQ(child->value("parent_seeded", false), true);
  auto exits = monitor.of(parent, "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].at("process_uid"), parent_uid);
  EXPECT_EQ(exits[0].at("image"), parent_image);
  EXPECT_EQ(exits[0].at("exit_code"), 7);
  EXPECT_EQ(exits[0].value("seeded", false), true);
}

// middle forks an orphan and exits; the orphan waits until the kernel has reparented it,
// reports its new parent through `report`, then execs with `marker`.
pid_t orphan_via_middle(int report, const std::string& marker) {
  pid_t middle = fork();
  if (middle == 0) {
    const pid_t self = getpid();
    pid_t orphan = fork();
    if (orphan == 0) {
      while (getppid() == self) usleep(1000);
      pid_t now = getppid();
      if (write(report, &now, sizeof(now)) != sizeof(now)) _exit(1);
      execl("/bin/true", "true", marker.c_str(), nullptr);
      _exit(127);
    }
    _exit(0);
  }
  return middle;
}

TEST_F(ProcessContext, ReparentingToASubreaper) {
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  Monitor monitor = Monitor::shared();
  pid_t reaper = fork();
  if (reaper == 0) {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t middle = orphan_via_middle(report[1], "orphan-of-reaper");
    waitpid(middle, nullptr, 0);
    while (wait(nullptr) > 0) {
    }
    _exit(0);
  }
  pid_t new_parent = -1;
  ASSERT_EQ(read(report[0], &new_parent, sizeof(new_parent)), static_cast<ssize_t>(sizeof(new_parent)));
  const std::string reaper_uid = expected_uid(reaper);
  wait_for(reaper);
  monitor.stop();
  close(report[0]);
  close(report[1]);
  EXPECT_EQ(new_parent, reaper);
  const auto* e = exec_with_arg(monitor, "orphan-of-reaper");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at("ppid"), reaper);
  EXPECT_EQ(e->at("parent_uid"), reaper_uid);
  EXPECT_EQ(e->at("parent_image"), exe_of(getpid()));  // the reaper is a fork of this test
}

TEST_F(ProcessContext, ReparentingToInit) {
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  Monitor monitor = Monitor::shared();
  pid_t middle = orphan_via_middle(report[1], "orphan-of-init");
  wait_for(middle);
  pid_t new_parent = -1;
  ASSERT_EQ(read(report[0], &new_parent, sizeof(new_parent)), static_cast<ssize_t>(sizeof(new_parent)));
  const std::string parent_uid = expected_uid(new_parent);
  const std::string parent_image = exe_of(new_parent);
  // Nobody here can wait for the orphan: wait for its exec to arrive.
  EXPECT_TRUE(monitor.wait_for_event([](const nlohmann::json& e) { return has_arg(e, "orphan-of-init"); }));
  monitor.stop();
  close(report[0]);
  close(report[1]);
  EXPECT_NE(new_parent, middle);
  const auto* e = exec_with_arg(monitor, "orphan-of-init");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at("ppid"), new_parent);
  EXPECT_EQ(e->at("parent_uid"), parent_uid);
  if (parent_image.empty()) {
    EXPECT_FALSE(e->contains("parent_image"));
  } else {
    EXPECT_EQ(e->at("parent_image"), parent_image);
  }
}

TEST_F(ProcessContext, CwdUserGroupAndPidNamespace) {
  const std::string dir = "/tmp/procsentry-cwd." + std::to_string(getpid()) + "/a b";
  fs::create_directories(dir);
  Monitor monitor = Monitor::shared();
  auto [pid, status] = run("/bin/true", {"true", "context-check"}, SpawnOptions{dir, 65534});
  EXPECT_EQ(status, 0);
  monitor.stop();
  fs::remove_all(fs::path(dir).parent_path());
  const auto* e = exec_with_arg(monitor, "context-check");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at("pid"), pid);
  EXPECT_EQ(e->at("cwd"), dir);
  EXPECT_EQ(e->at("uid"), 65534);
  EXPECT_TRUE(names_user(*e, 65534));
  EXPECT_EQ(e->at("gid"), getgid());
  EXPECT_TRUE(names_group(*e, getgid()));
  struct stat ns {};
  ASSERT_EQ(stat("/proc/self/ns/pid", &ns), 0);
  EXPECT_EQ(e->at("pid_ns"), ns.st_ino);
  EXPECT_FALSE(e->contains("tty"));  // spawned without a controlling terminal
}

TEST_F(ProcessContext, TtyAndLoginUid) {
  Monitor monitor = Monitor::shared();
  int master = -1;
  char name[64] = {};
  pid_t pid = forkpty(&master, name, nullptr, nullptr);  // child: new session, pty as ctty
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::ofstream("/proc/self/loginuid") << 4321;  // as login(1) does; needs CONFIG_AUDIT
    execl("/bin/true", "true", "tty-check", nullptr);
    _exit(127);
  }
  wait_for(pid);
  close(master);
  monitor.stop();
  const auto* e = exec_with_arg(monitor, "tty-check");
  ASSERT_NE(e, nullptr);
  std::string pts = name;  // "/dev/pts/3" -> the kernel's name "pts3"
  ASSERT_TRUE(pts.starts_with("/dev/pts/"));
  EXPECT_EQ(e->at("tty"), "pts" + pts.substr(9));
  if (fs::exists("/proc/self/loginuid")) {
    EXPECT_EQ(e->at("loginuid"), 4321);
    EXPECT_TRUE(e->contains("session_id"));
  }
}

std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    return point;
  }
  return {};
}

TEST_F(ProcessContext, ContainerIdFromTheCgroup) {
  const std::string mount = cgroup2_mount();
  if (mount.empty()) GTEST_SKIP() << "cgroup2 is not mounted";
  const std::string id = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
  const std::string relative = "/procsentry-test.slice/docker-" + id + ".scope";
  fs::create_directories(mount + relative);
  Monitor monitor = Monitor::shared();
  pid_t pid = fork();
  if (pid == 0) {
    std::ofstream(mount + relative + "/cgroup.procs") << getpid();
    execl("/bin/true", "true", "in-container", nullptr);
    _exit(127);
  }
  wait_for(pid);
  monitor.stop();
  fs::remove(mount + relative);
  fs::remove(mount + "/procsentry-test.slice");
  const auto* e = exec_with_arg(monitor, "in-container");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at("cgroup"), relative);
  EXPECT_EQ(e->at("container_id"), id);
}

std::string sha256_of(const std::string& path) {
  Captured c = capture("sha256sum", {"sha256sum", path});
  return c.status == 0 && c.out.size() >= 64 ? c.out.substr(0, 64) : std::string();
}

TEST_F(ProcessContext, HashOnTheEventOrInAHashEvent) {
  const std::string copy = "/tmp/procsentry-hash-true." + std::to_string(getpid());
  fs::copy_file("/bin/true", copy, fs::copy_options::overwrite_existing);
  std::ofstream(copy, std::ios::app) << std::to_string(getpid());  // a file no cache has seen
  fs::permissions(copy, fs::perms::owner_all);
  const std::string expected = sha256_of(copy);
  ASSERT_EQ(expected.size(), 64u);
  Monitor monitor({"--hash", "sha256"});
  run(copy, {"x", "hash-first"});
  // The first exec is hashed in the background and its hash reported later: once that is
  // out, the image is in the cache for the second.
  ASSERT_TRUE(monitor.wait_for_event([&](const nlohmann::json& e) {
    return e.at("event") == "hash" && e.value("image", "") == copy;
  })) << monitor.stderr_text();
  run(copy, {"x", "hash-second"});
  monitor.stop();
  fs::remove(copy);
  const auto* first = exec_with_arg(monitor, "hash-first");
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(first->value("sha256_missing", ""), "pending");
  bool reported = false;
  for (const auto& e : monitor.events()) {
    if (e.at("event") == "hash" && e.at("process_uid") == first->at("process_uid")) {
      EXPECT_EQ(e.at("sha256"), expected);
      EXPECT_EQ(e.at("image"), copy);
      reported = true;
    }
  }
  EXPECT_TRUE(reported);
  const auto* second = exec_with_arg(monitor, "hash-second");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->value("sha256", ""), expected);  // from the cache, on the event itself
}

// procsentry tree reads /proc only: no sensor, no root.
TEST(ProcessTree, MatchesProc) {
  pid_t top = spawn("/bin/sh", {"sh", "-c", "sleep 30 & sleep 31 & wait"});
  // Wait until both children exist and run sleep (until its exec, a child shows sh's argv).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    std::istringstream children(
        read_text("/proc/" + std::to_string(top) + "/task/" + std::to_string(top) + "/children"));
    int sleeping = 0;
    for (pid_t child; children >> child;) sleeping += argv_of(child).size() == 2 && argv_of(child)[0] == "sleep";
    if (sleeping == 2) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "sh did not start its two sleeps";
    std::this_thread::yield();
  }
  Captured tree = capture(procsentry_binary(), {procsentry_binary(), "tree", "--json", "--pid", std::to_string(top)});
  EXPECT_EQ(tree.status, 0) << tree.err;
  std::vector<nlohmann::json> lines;
  std::istringstream out(tree.out);
  for (std::string line; std::getline(out, line);) lines.push_back(nlohmann::json::parse(line));
  for (const auto& line : lines) {
    pid_t pid = line.at("pid");
    auto fields = stat_fields(pid);
    ASSERT_GE(fields.size(), 20u);
    EXPECT_EQ(line.at("ppid"), std::stoi(fields[1])) << pid;
    EXPECT_EQ(line.at("process_uid"), expected_uid(pid));
    EXPECT_EQ(line.at("image"), exe_of(pid));
    EXPECT_EQ(line.at("argv"), nlohmann::json(argv_of(pid))) << pid;
  }
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].at("pid"), top);
  EXPECT_EQ(lines[0].at("depth"), 0);
  EXPECT_EQ(lines[1].at("depth"), 1);
  EXPECT_EQ(lines[2].at("depth"), 1);
  kill(top, SIGKILL);
  for (const auto& line : lines) {
    if (line.at("pid") != top) kill(line.at("pid").get<pid_t>(), SIGKILL);
  }
  wait_for(top);
}

}  // namespace
}  // namespace procsentry::test
