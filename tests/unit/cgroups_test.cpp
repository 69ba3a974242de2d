// cgroup paths from ids, the cgroup2 mount from mountinfo, and container ids from paths.
#include "core/cgroups.h"
#include "platform/linux/cgroup_paths.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace procsentry {
namespace {

const std::string kId = "4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4a6b";

TEST(ContainerId, FromRuntimesCgroupPaths) {
  EXPECT_EQ(container_id_from_cgroup("/system.slice/docker-" + kId + ".scope"), kId);
  EXPECT_EQ(container_id_from_cgroup("/docker/" + kId), kId);
  EXPECT_EQ(
      container_id_from_cgroup("/system.slice/containerd.service/kubepods-besteffort-pod1.slice:cri-containerd:" + kId),
      kId);
  EXPECT_EQ(container_id_from_cgroup("/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + kId + ".scope"), kId);
  EXPECT_EQ(container_id_from_cgroup("/machine.slice/libpod-" + kId + ".scope/container"), kId);
  EXPECT_EQ(container_id_from_cgroup("/kubepods/burstable/pod1/crio-" + kId + ".scope"), kId);
  EXPECT_EQ(container_id_from_cgroup("/machine.slice/machine-web01.scope"), "web01");
}

TEST(ContainerId, NoneWhereThereIsNone) {
  EXPECT_EQ(container_id_from_cgroup("/"), "");
  EXPECT_EQ(container_id_from_cgroup(""), "");
  EXPECT_EQ(container_id_from_cgroup("/user.slice/user-1000.slice/session-3.scope"), "");
  EXPECT_EQ(container_id_from_cgroup("/machine.slice/libpod-conmon-" + kId + ".scope"), "");
  EXPECT_EQ(container_id_from_cgroup("/docker/" + kId + "0"), "");  // 65 digits: not an id
  EXPECT_EQ(container_id_from_cgroup("/docker/" + kId.substr(1)), "");
}

TEST(CgroupPaths, FindsTheCgroup2Mount) {
  auto file = std::filesystem::temp_directory_path() / "procsentry-mountinfo";
  std::ofstream(file) << "22 1 0:21 / /proc rw,relatime shared:12 - proc proc rw\n"
                         "30 24 0:26 / /sys/fs/cgroup/cpu rw shared:5 - cgroup cgroup rw,cpu\n"
                         "36 24 0:31 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(CgroupPaths::find_mount(file.string()), "/sys/fs/cgroup/unified");
  std::ofstream(file) << "22 1 0:21 / /proc rw,relatime shared:12 - proc proc rw\n";
  EXPECT_EQ(CgroupPaths::find_mount(file.string()), "");
  std::filesystem::remove(file);
}

TEST(CgroupPaths, MapsDirectoryInodesToPaths) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / "procsentry-cgroups";
  fs::remove_all(root);
  fs::create_directories(root / "system.slice" / ("docker-" + kId + ".scope"));
  auto inode = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return static_cast<std::uint64_t>(st.st_ino);
  };
  CgroupPaths paths(root.string());
  std::uint64_t id = inode(root / "system.slice" / ("docker-" + kId + ".scope"));
  EXPECT_EQ(paths.path(id), "/system.slice/docker-" + kId + ".scope");
  EXPECT_EQ(paths.path(inode(root)), "/");
  EXPECT_EQ(paths.path(0), "");
  // A cgroup made after the first scan is found by a later rescan.
  // (A lookup rescans at most once per kRescanInterval: poll until one has.)
  fs::create_directories(root / "late");
  const std::uint64_t late = inode(root / "late");
  const auto deadline = std::chrono::steady_clock::now() + CgroupPaths::kRescanInterval * 100;
  while (paths.path(late).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(paths.path(late), "/late");
  fs::remove_all(root);
  CgroupPaths disabled("");
  EXPECT_EQ(disabled.path(id), "");
}

}  // namespace
}  // namespace procsentry
