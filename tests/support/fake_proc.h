// A /proc lookalike in a temporary directory: the files ProcProcesses reads (stat, exe,
// cmdline, status, cgroup), so seeding and reparenting are tested with exact contents.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace procsentry::test {

struct FakeProcess {
  std::uint32_t pid = 0;
  std::uint32_t ppid = 0;
  std::uint64_t start_ticks = 0;
  std::string comm = "proc";
  std::string exe;                // empty: no exe link (kernel thread)
  std::vector<std::string> argv;  // written NUL-terminated
  std::uint32_t uid = 0;
  std::string cgroup = "/";
};

class FakeProc {
 public:
  FakeProc() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "fakeproc.XXXXXX").string();
    root_ = mkdtemp(tmpl.data());
  }
  ~FakeProc() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }

  void add(const FakeProcess& p) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(root_) / std::to_string(p.pid);
    fs::create_directories(dir);
    std::ofstream(dir / "stat") << p.pid << " (" << p.comm << ") S " << p.ppid
                                << " 1 1 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 " << p.start_ticks
                                << " 1000 100 18446744073709551615\n";
    std::error_code ec;
    fs::remove(dir / "exe", ec);
    if (!p.exe.empty()) fs::create_symlink(p.exe, dir / "exe");
    std::ofstream cmdline(dir / "cmdline", std::ios::binary);
    for (const auto& a : p.argv) cmdline << a << '\0';
    std::ofstream(dir / "status") << "Name:\t" << p.comm << "\nUid:\t" << p.uid << "\t" << p.uid << "\t" << p.uid
                                  << "\t" << p.uid << "\n";
    std::ofstream(dir / "cgroup") << "0::" << p.cgroup << "\n";
  }
  void remove(std::uint32_t pid) { std::filesystem::remove_all(std::filesystem::path(root_) / std::to_string(pid)); }

 private:
  std::string root_;
};

}  // namespace procsentry::test
