// The image of an exec is always the truth (issue 8): memfds, deleted files, descriptors,
// deep and long paths, the process's own root, and facts from the inode. Every process is
// started with raw syscalls (no shell), and every file it runs is a copy of /usr/bin/true
// (on a busybox system a copy of busybox, which runs as `true` by its argv[0]).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Runs `child` in a forked process (only syscalls in there: the test is multi-threaded) and
// returns its wait status.
int in_child(const std::function<void()>& child) {
  pid_t pid = fork();
  if (pid == 0) {
    child();
    _exit(126);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// fork + execveat(dirfd, name, argv, {}, flags) from a child; waits for it.
int execveat_child(int dirfd, const char* name, const std::vector<std::string>& args, int flags) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  return in_child([&] { syscall(SYS_execveat, dirfd, name, argv.data(), envp, flags); });
}

// Removes a tree whose paths may be longer than PATH_MAX (std::filesystem would fail).
void remove_tree_at(int dirfd, const char* name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd >= 0) {
    std::vector<std::string> entries;
    if (int dup_fd = dup(fd); dup_fd >= 0) {
      if (DIR* dir = fdopendir(dup_fd)) {
        while (dirent* e = readdir(dir)) {
          if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) entries.emplace_back(e->d_name);
        }
        closedir(dir);
      }
    }
    for (const auto& e : entries) remove_tree_at(fd, e.c_str());
    close(fd);
    unlinkat(dirfd, name, AT_REMOVEDIR);
  } else {
    unlinkat(dirfd, name, 0);
  }
}

class ExecImage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
    dir_ = fs::temp_directory_path() / ("procsentry-image-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    dir_ = fs::canonical(dir_);
    true_bytes_ = read_file("/usr/bin/true");
    ASSERT_FALSE(true_bytes_.empty());
  }
  void TearDown() override {
    if (!dir_.empty()) remove_tree_at(AT_FDCWD, dir_.c_str());
  }

  // A copy of /usr/bin/true at `name` under dirfd.
  void put_true(int dirfd, const char* name, mode_t mode = 0755) {
    int fd = openat(dirfd, name, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ASSERT_TRUE(write_all(fd, true_bytes_));
    close(fd);
    ASSERT_EQ(fchmodat(dirfd, name, mode, 0), 0);
  }

  // The one exec event whose argv[1] is `marker`.
  static nlohmann::json exec_with_marker(Monitor& monitor, const std::string& marker) {
    EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
    EXPECT_EQ(monitor.summary_count("decode errors"), 0u);
    std::vector<nlohmann::json> found;
    for (const auto& e : monitor.events()) {
      if (e.at("event") == "exec" && e.contains("argv") && e.at("argv").size() >= 2 && e.at("argv")[1] == marker) {
        found.push_back(e);
      }
    }
    EXPECT_EQ(found.size(), 1u) << marker;
    return found.empty() ? nlohmann::json::object() : found.front();
  }
  static bool bounded(const Monitor& monitor) { return monitor.stderr_text().find("no bpf_loop") != std::string::npos; }

  fs::path dir_;
  std::string true_bytes_;
};

TEST_F(ExecImage, MemfdIsNamedAsTheKernelNamesIt) {
  int fd = static_cast<int>(syscall(SYS_memfd_create, "psmemfd", 0));
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_TRUE(write_all(fd, true_bytes_));
  Monitor monitor = Monitor::shared();
  int status = execveat_child(fd, "", {"true", "memfd-marker"}, AT_EMPTY_PATH);
  close(fd);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto e = exec_with_marker(monitor, "memfd-marker");
  EXPECT_EQ(e.value("image", ""), "/memfd:psmemfd (deleted)") << e.dump();
  EXPECT_EQ(e.value("image_memfd", false), true);
  EXPECT_FALSE(e.contains("image_deleted"));
  EXPECT_EQ(e.value("exec_fd", false), true);
  EXPECT_EQ(e.value("image_mode", ""), "0777") << "memfd_create makes 0777 files";
}

TEST_F(ExecImage, FileUnlinkedBeforeItsExecIsDeleted) {
  put_true(AT_FDCWD, (dir_ / "victim").c_str());
  int fd = open((dir_ / "victim").c_str(), O_PATH | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(unlink((dir_ / "victim").c_str()), 0);
  Monitor monitor = Monitor::shared();
  int status = execveat_child(fd, "", {"true", "deleted-marker"}, AT_EMPTY_PATH);
  close(fd);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto e = exec_with_marker(monitor, "deleted-marker");
  EXPECT_EQ(e.value("image", ""), (dir_ / "victim").string() + " (deleted)") << e.dump();
  EXPECT_EQ(e.value("image_deleted", false), true);
  EXPECT_FALSE(e.contains("image_memfd"));
  EXPECT_EQ(e.value("exec_fd", false), true);
  EXPECT_EQ(e.value("filename", "").rfind("/dev/fd/", 0), 0u) << e.dump();
}

TEST_F(ExecImage, ExecveatWithADirectoryDescriptor) {
  put_true(AT_FDCWD, (dir_ / "prog").c_str());
  int dirfd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dirfd, 0);
  Monitor monitor = Monitor::shared();
  int status = execveat_child(dirfd, "prog", {"true", "dirfd-marker"}, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto e = exec_with_marker(monitor, "dirfd-marker");
  EXPECT_EQ(e.value("image", ""), (dir_ / "prog").string()) << e.dump();
  EXPECT_EQ(e.value("filename", ""), "/dev/fd/" + std::to_string(dirfd) + "/prog");
  EXPECT_FALSE(e.contains("exec_fd")) << "a name relative to a directory, not a descriptor of the file";
  EXPECT_FALSE(e.contains("image_deleted"));
  close(dirfd);
}

// Creates `depth` nested directories named `name` under dir (by descriptors: the path may
// pass PATH_MAX) and a copy of true named "evil" in the deepest; returns the deepest's fd.
int make_deep(const fs::path& dir, int depth, const std::string& name) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; i < depth && fd >= 0; ++i) {
    mkdirat(fd, name.c_str(), 0755);
    int next = openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    fd = next;
  }
  return fd;
}

TEST_F(ExecImage, ThousandComponentPathArrivesWhole) {
  int deep = make_deep(dir_, 1000, "a");
  ASSERT_GE(deep, 0);
  put_true(deep, "evil");
  Monitor monitor = Monitor::shared();
  int status = execveat_child(deep, "evil", {"true", "deep-marker"}, 0);
  close(deep);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  auto e = exec_with_marker(monitor, "deep-marker");
  std::string expected = dir_.string();
  for (int i = 0; i < 1000; ++i) expected += "/a";
  expected += "/evil";
  if (bounded(monitor)) {
    EXPECT_EQ(e.value("image_truncated", false), true) << "deeper than the bounded walk: said, not hidden";
    EXPECT_FALSE(e.contains("image_original_length")) << "the kernel could not measure it";
  } else {
    EXPECT_EQ(e.value("image", ""), expected);
    EXPECT_FALSE(e.contains("image_truncated"));
  }
}

TEST_F(ExecImage, FourThousandBytePathArrivesWhole) {
  const std::string name(200, 'b');
  int deep = make_deep(dir_, 19, name);
  ASSERT_GE(deep, 0);
  put_true(deep, "evil");
  std::string expected = dir_.string();
  for (int i = 0; i < 19; ++i) expected += "/" + name;
  expected += "/evil";
  ASSERT_GT(expected.size(), 3800u);
  ASSERT_LE(expected.size(), 4096u);
  Monitor monitor = Monitor::shared();
  int status = execveat_child(deep, "evil", {"true", "long-marker"}, 0);
  close(deep);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  // The same file by its absolute path: a filename of nearly 4,000 bytes arrives whole too.
  auto [pid, by_path_status] = run(expected, {"true", "long-filename-marker"});
  EXPECT_TRUE(WIFEXITED(by_path_status)) << by_path_status;
  EXPECT_EQ(monitor.stop(), 0) << monitor.stderr_text();
  for (const char* marker : {"long-marker", "long-filename-marker"}) {
    nlohmann::json e;
    for (const auto& x : monitor.events()) {
      if (x.at("event") == "exec" && x.contains("argv") && x.at("argv").size() >= 2 && x.at("argv")[1] == marker) e = x;
    }
    ASSERT_FALSE(e.is_null()) << marker;
    EXPECT_EQ(e.value("image", ""), expected) << marker;
    EXPECT_FALSE(e.contains("image_truncated")) << marker;
    if (std::string(marker) == "long-filename-marker") {
      EXPECT_EQ(e.value("filename", ""), expected);
    }
  }
}

TEST_F(ExecImage, PathBeyondPathMaxKeepsItsRootSoPrefixGlobsMatch) {
  const std::string name(200, 'c');
  int deep = make_deep(dir_, 25, name);
  ASSERT_GE(deep, 0);
  put_true(deep, "evil");
  Monitor monitor({"--image", dir_.string() + "/*"});
  int status = execveat_child(deep, "evil", {"true", "beyond-marker"}, 0);
  close(deep);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  auto e = exec_with_marker(monitor, "beyond-marker");
  std::string full = dir_.string();
  for (int i = 0; i < 25; ++i) full += "/" + name;
  full += "/evil";
  const std::string image = e.value("image", "");
  EXPECT_EQ(e.value("image_truncated", false), true) << e.dump();
  EXPECT_EQ(e.value("image_original_length", 0u), full.size());
  EXPECT_LE(image.size(), 4096u);
  EXPECT_GT(image.size(), 3000u);
  EXPECT_EQ(full.rfind(image + "/", 0), 0u) << "the root-most components, cut at a component: " << image;
}

TEST_F(ExecImage, SetuidAndSetgidFilesAndTheirOwner) {
  put_true(AT_FDCWD, (dir_ / "suid").c_str());
  ASSERT_EQ(chown((dir_ / "suid").c_str(), 12345, 54321), 0);
  ASSERT_EQ(chmod((dir_ / "suid").c_str(), 04755), 0);  // after chown, which clears it
  put_true(AT_FDCWD, (dir_ / "sgid").c_str());
  ASSERT_EQ(chmod((dir_ / "sgid").c_str(), 02711), 0);
  Monitor monitor = Monitor::shared();
  auto [suid_pid, suid_status] = run((dir_ / "suid").string(), {"true", "suid-marker"});
  auto [sgid_pid, sgid_status] = run((dir_ / "sgid").string(), {"true", "sgid-marker"});
  EXPECT_TRUE(WIFEXITED(suid_status) && WIFEXITED(sgid_status));
  EXPECT_EQ(monitor.stop(), 0);
  auto suid = monitor.of(suid_pid, "exec");
  auto sgid = monitor.of(sgid_pid, "exec");
  ASSERT_EQ(suid.size(), 1u);
  ASSERT_EQ(sgid.size(), 1u);
  EXPECT_EQ(suid[0].value("image_mode", ""), "4755");
  EXPECT_EQ(suid[0].value("image_setuid", false), true);
  EXPECT_FALSE(suid[0].contains("image_setgid"));
  EXPECT_EQ(suid[0].value("image_uid", 0u), 12345u);
  EXPECT_EQ(sgid[0].value("image_mode", ""), "2711");
  EXPECT_EQ(sgid[0].value("image_setgid", false), true);
  EXPECT_FALSE(sgid[0].contains("image_setuid"));
  EXPECT_EQ(sgid[0].value("image_uid", 1u), 0u);
}

// The sensor knows overlayfs' inodes from BTF: built in (vmlinux BTF) or a module with its
// own BTF (/sys/kernel/btf/overlay, kernels 5.11+).
bool overlay_has_btf() {
  if (fs::exists("/sys/kernel/btf/overlay")) return true;
  std::ifstream modules("/proc/modules");
  std::string line;
  while (std::getline(modules, line)) {
    if (line.rfind("overlay ", 0) == 0) return false;  // a module without BTF
  }
  return true;  // built in
}

TEST_F(ExecImage, OverlayUpperLayerIsFlagged) {
  for (const char* d : {"lower", "upper", "work", "merged"}) fs::create_directories(dir_ / d);
  put_true(AT_FDCWD, (dir_ / "lower" / "lowerprog").c_str());
  const std::string options = "lowerdir=" + (dir_ / "lower").string() + ",upperdir=" + (dir_ / "upper").string() +
                              ",workdir=" + (dir_ / "work").string();
  const std::string merged = (dir_ / "merged").string();
  const std::string upper_prog = merged + "/upperprog";
  const std::string lower_prog = merged + "/lowerprog";
  const std::string& bytes = true_bytes_;
  char upper_marker[] = "upper-marker";
  char lower_marker[] = "lower-marker";
  char arg0[] = "true";
  Monitor monitor = Monitor::shared();
  int status = in_child([&] {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(3);
    if (mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) != 0) _exit(77);
    int fd = open(upper_prog.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0755);  // written after the mount: upper
    if (fd < 0 || !write_all(fd, bytes)) _exit(4);
    close(fd);
    char* envp[] = {nullptr};
    char* up_argv[] = {arg0, upper_marker, nullptr};
    char* low_argv[] = {arg0, lower_marker, nullptr};
    for (auto [path, argv] : {std::pair{upper_prog.c_str(), up_argv}, std::pair{lower_prog.c_str(), low_argv}}) {
      pid_t pid = fork();
      if (pid == 0) {
        execve(path, argv, envp);
        _exit(5);
      }
      int s = 0;
      waitpid(pid, &s, 0);
      if (!WIFEXITED(s) || WEXITSTATUS(s) != 0) _exit(6);
    }
    _exit(0);
  });
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    monitor.stop();
    GTEST_SKIP() << "no overlayfs on this kernel";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(monitor.stop(), 0);
  nlohmann::json upper, lower;
  for (const auto& e : monitor.events()) {
    if (e.at("event") != "exec" || !e.contains("argv") || e.at("argv").size() < 2) continue;
    if (e.at("argv")[1] == "upper-marker") upper = e;
    if (e.at("argv")[1] == "lower-marker") lower = e;
  }
  ASSERT_FALSE(upper.is_null());
  ASSERT_FALSE(lower.is_null());
  EXPECT_EQ(upper.value("image", ""), upper_prog);
  if (overlay_has_btf()) {
    EXPECT_EQ(upper.value("image_upper_layer", false), true) << upper.dump();
  } else {
    // overlay is a module and the kernel has no module BTF (before 5.11): documented as absent.
    EXPECT_FALSE(upper.contains("image_upper_layer")) << upper.dump();
  }
  EXPECT_EQ(lower.value("image", ""), lower_prog);
  EXPECT_FALSE(lower.contains("image_upper_layer")) << lower.dump();
}

// A new root (tmpfs) holding what /usr/bin/true needs: the top-level directories bound from
// the host's, the top-level symlinks (merged /usr) copied.
struct NewRoot {
  std::string root;
  std::vector<std::string> bind_from, bind_to;
  std::vector<std::string> link_target, link_at;
  std::string old;
};

NewRoot plan_new_root(const fs::path& dir) {
  NewRoot r;
  r.root = (dir / "newroot").string();
  r.old = r.root + "/old";
  fs::create_directories(r.root);
  for (const char* top : {"usr", "lib", "lib64", "lib32", "libx32", "bin", "sbin"}) {
    fs::path host = fs::path("/") / top;
    std::error_code ec;
    auto st = fs::symlink_status(host, ec);
    if (ec) continue;
    if (fs::is_symlink(st)) {
      r.link_target.push_back(fs::read_symlink(host).string());
      r.link_at.push_back(r.root + "/" + top);
    } else if (fs::is_directory(st)) {
      r.bind_from.push_back(host.string());
      r.bind_to.push_back(r.root + "/" + top);
    }
  }
  return r;
}

// In the child: a private mount namespace with the new root prepared (tmpfs + binds).
bool enter_new_root_namespace(const NewRoot& r) {
  if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  if (mount("tmpfs", r.root.c_str(), "tmpfs", 0, "mode=0755") != 0) return false;
  for (std::size_t i = 0; i < r.bind_from.size(); ++i) {
    if (mkdir(r.bind_to[i].c_str(), 0755) != 0) return false;
    if (mount(r.bind_from[i].c_str(), r.bind_to[i].c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) return false;
  }
  for (std::size_t i = 0; i < r.link_at.size(); ++i) {
    if (symlink(r.link_target[i].c_str(), r.link_at[i].c_str()) != 0) return false;
  }
  return mkdir(r.old.c_str(), 0755) == 0;
}

void run_true_and_exit(char* marker) {
  char arg0[] = "true";
  char* argv[] = {arg0, marker, nullptr};
  char* envp[] = {nullptr};
  pid_t pid = fork();
  if (pid == 0) {
    execve("/usr/bin/true", argv, envp);
    _exit(5);
  }
  int s = 0;
  waitpid(pid, &s, 0);
  _exit(WIFEXITED(s) ? WEXITSTATUS(s) : 6);
}

TEST_F(ExecImage, PathsAreThoseTheProcessSeesFromItsOwnRoot) {
  NewRoot r = plan_new_root(dir_);
  const std::string expected = fs::canonical("/usr/bin/true").string();  // same layout in the new root
  char pivot_marker[] = "pivot-marker";
  char chroot_marker[] = "chroot-marker";
  Monitor monitor = Monitor::shared();
  int pivot_status = in_child([&] {
    if (!enter_new_root_namespace(r) || chdir(r.root.c_str()) != 0) _exit(3);
    if (syscall(SYS_pivot_root, ".", "old") == 0) {
      if (umount2("/old", MNT_DETACH) != 0 || chdir("/") != 0) _exit(7);
    } else if (errno == EINVAL) {
      // The root is the initramfs' rootfs, which pivot_root cannot leave (a busybox guest):
      // switch_root's way, the new root moved onto / and entered.
      if (mount(".", "/", nullptr, MS_MOVE, nullptr) != 0 || chroot(".") != 0 || chdir("/") != 0) _exit(8);
    } else {
      _exit(4);
    }
    run_true_and_exit(pivot_marker);
  });
  int chroot_status = in_child([&] {
    // chroot without pivot: the old root stays above, and only the task's root says where
    // its view ends (what d_path does).
    if (!enter_new_root_namespace(r) || chdir(r.root.c_str()) != 0 || chroot(".") != 0) _exit(3);
    run_true_and_exit(chroot_marker);
  });
  EXPECT_TRUE(WIFEXITED(pivot_status) && WEXITSTATUS(pivot_status) == 0) << pivot_status;
  EXPECT_TRUE(WIFEXITED(chroot_status) && WEXITSTATUS(chroot_status) == 0) << chroot_status;
  EXPECT_EQ(monitor.stop(), 0);
  nlohmann::json pivot, chrooted;
  for (const auto& e : monitor.events()) {
    if (e.at("event") != "exec" || !e.contains("argv") || e.at("argv").size() < 2) continue;
    if (e.at("argv")[1] == "pivot-marker") pivot = e;
    if (e.at("argv")[1] == "chroot-marker") chrooted = e;
  }
  ASSERT_FALSE(pivot.is_null());
  ASSERT_FALSE(chrooted.is_null());
  EXPECT_EQ(pivot.value("image", ""), expected) << pivot.dump();
  EXPECT_EQ(pivot.value("cwd", ""), "/");
  EXPECT_EQ(chrooted.value("image", ""), expected) << chrooted.dump();
  EXPECT_EQ(chrooted.value("cwd", ""), "/");
}

TEST_F(ExecImage, AnOrdinaryExecNamesNoDescriptor) {
  Monitor monitor = Monitor::shared();
  auto [pid, status] = run("/usr/bin/true", {"true", "plain"});
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(monitor.stop(), 0);
  auto execs = monitor.of(pid, "exec");
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_FALSE(execs[0].contains("exec_fd"));
  EXPECT_FALSE(execs[0].contains("image_deleted"));
  EXPECT_FALSE(execs[0].contains("image_memfd"));
  EXPECT_TRUE(execs[0].contains("image_uid"));
  EXPECT_TRUE(execs[0].contains("image_mode"));
}

}  // namespace
}  // namespace procsentry::test
