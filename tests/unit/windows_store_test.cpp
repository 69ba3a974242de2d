// record, query and report in the Windows client (under Wine) against the Linux binary: one store
// format, whichever client wrote it or reads it; the database private; a bad --db in one line.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/capture_header.h"
#include "support/record_builder.h"
#include "support/spawn.h"
#include "support/windows_acl.h"
#include "support/windows_records.h"
#include "support/wine.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

// Linux paths as the Windows client names them (Wine's Z: drive is /).
std::string z(const fs::path& path) { return "Z:" + path.string(); }

int exit_code(const Captured& c) { return WIFEXITED(c.status) ? WEXITSTATUS(c.status) : -1; }

std::size_t line_count(const std::string& text) { return static_cast<std::size_t>(std::ranges::count(text, '\n')); }

// S-1-5-21-1-2-3-1001: a domain account no one here knows.
const std::string kUnknownSid("\x01\x05\0\0\0\0\0\x05\x15\0\0\0\x01\0\0\0\x02\0\0\0\x03\0\0\0\xe9\x03\0\0", 28);

// A capture as --save-raw makes one on Linux (its header, then records), with Windows creates
// in it too: execs with arguments to search, a failed exec, exits, and UTF-16 strings.
Bytes capture_bytes() {
  Bytes out;
  auto append = [&out](const Bytes& record) { out.insert(out.end(), record.begin(), record.end()); };
  const std::string header =
      encode_capture_header(CaptureHeader{ClockMapping{1'795'000'000'000'000'000},
                                          "0f3c1d2e-5b6a-4c7d-8e9f-a0b1c2d3e4f5", kTickNs, 1'795'000'001'000'000'000});
  out.insert(out.end(), header.begin(), header.end());
  // Ids and a SID no user database names: what each recording machine knows of its users and
  // groups (/etc/passwd, the LSA under Wine) stays out of the comparison.
  for (std::uint32_t pid = 5000; pid < 5040; ++pid) {
    ExecSpec spec;
    spec.task = task_of(pid, pid - 1, "worker");
    spec.task.uid = spec.task.euid = 4'000'000 + pid % 3;
    spec.task.gid = 4'000'000;
    spec.image = spec.filename = pid % 2 == 0 ? "/usr/bin/curl" : "/usr/local/bin/worker-" + std::to_string(pid % 5);
    spec.argv = {"worker", "--job", std::to_string(pid), "J\xc3\xb6rg \x1b[31m"};
    append(exec_record(spec));
    if (pid % 4 == 0) append(exit_record(spec.task, 256 * (pid % 3), 3'000'000'000 + pid));
  }
  TaskSpec failing = task_of(5100, 5000, "sh");
  failing.uid = failing.euid = 4'000'001;
  failing.gid = 4'000'000;
  append(exec_failed_record(failing, 2, "/usr/bin/missing"));
  append(windows_create(7000, u"\\??\\C:\\Windows\\System32\\cmd.exe", u"cmd.exe /c \"echo J\u00f6rg\""));
  append(windows_create(7001, u"\\??\\C:\\Tools\\x.exe", u"x.exe --flag", kUnknownSid));
  return out;
}

class WindowsStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(PROCSENTRY_WINDOWS_CLIENT))
        << "build it: cmake --preset mingw && cmake --build --preset mingw";
    ASSERT_EQ(std::system("command -v wine >/dev/null"), 0) << "wine runs the Windows client (tools/deps.sh)";
    dir_ = fs::temp_directory_path() / ("procsentry-winstore-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    capture_ = dir_ / "capture.raw";
    Bytes bytes = capture_bytes();
    std::ofstream(capture_, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  void TearDown() override { fs::remove_all(dir_); }

  static Captured linux_run(std::vector<std::string> args) {
    args.insert(args.begin(), PROCSENTRY_BINARY);
    return capture(PROCSENTRY_BINARY, args);
  }
  static Captured windows_run(const std::vector<std::string>& args) {
    return run_wine(PROCSENTRY_WINDOWS_CLIENT, args);
  }

  // `command` (query or report, with `more`) by both clients on `db`: each one's standard output.
  std::pair<std::string, std::string> both(const std::string& command, const fs::path& db,
                                           const std::vector<std::string>& more) {
    std::vector<std::string> on_linux{command, "--db", db.string()};
    std::vector<std::string> on_windows{command, "--db", z(db)};
    on_linux.insert(on_linux.end(), more.begin(), more.end());
    on_windows.insert(on_windows.end(), more.begin(), more.end());
    Captured l = linux_run(on_linux);
    Captured w = windows_run(on_windows);
    EXPECT_EQ(exit_code(l), 0) << l.err;
    EXPECT_EQ(exit_code(w), 0) << w.err;
    return {l.out, w.out};
  }

  fs::path dir_;
  fs::path capture_;
};

constexpr std::size_t kEvents = 40 + 10 + 1 + 2;  // execs, exits, the failed exec, the creates

TEST_F(WindowsStore, OneStoreFormatWhicheverClientRecordsOrReads) {
  const fs::path linux_db = dir_ / "linux.db";
  // A non-ASCII name: the client's code page is UTF-8 (its manifest), as SQLite's paths are.
  const fs::path windows_db = dir_ / "windows-J\xc3\xb6rg.db";
  Captured l = linux_run({"record", "--replay", capture_.string(), "--db", linux_db.string()});
  ASSERT_EQ(exit_code(l), 0) << l.err;
  Captured w = windows_run({"record", "--replay", z(capture_), "--db", z(windows_db)});
  ASSERT_EQ(exit_code(w), 0) << w.err;
  EXPECT_NE(w.err.find(std::to_string(kEvents) + " events recorded to " + z(windows_db)), std::string::npos) << w.err;

  // Each store read by each client: four outputs, byte for byte the same.
  for (const std::vector<std::string>& query : {std::vector<std::string>{"--json"},
                                                {"--json", "--argv", "job 501"},
                                                {"--json", "--argv", "J\xc3\xb6rg"},
                                                {"--json", "--argv-regex", "job 50[12]"},
                                                {"--json", "--image", "*/curl", "--reverse"},
                                                {"--count"}}) {
    auto [linux_of_linux, windows_of_linux] = both("query", linux_db, query);
    auto [linux_of_windows, windows_of_windows] = both("query", windows_db, query);
    SCOPED_TRACE(query.back());
    EXPECT_GT(linux_of_linux.size(), 0u);
    EXPECT_EQ(windows_of_linux, linux_of_linux);
    EXPECT_EQ(linux_of_windows, linux_of_linux);
    EXPECT_EQ(windows_of_windows, linux_of_linux);
  }
  auto [all, unused] = both("query", windows_db, {"--json"});
  EXPECT_EQ(line_count(all), kEvents) << all;
  EXPECT_NE(all.find("\"command_line\":\"cmd.exe /c \\\"echo J\xc3\xb6rg\\\"\""), std::string::npos) << all;

  auto [linux_report, windows_report] = both("report", linux_db, {"--json"});
  auto [linux_report_of_windows, windows_report_of_windows] = both("report", windows_db, {"--json"});
  EXPECT_NE(linux_report.find("\"failed_execs\":1"), std::string::npos) << linux_report;
  EXPECT_EQ(windows_report, linux_report);
  EXPECT_EQ(linux_report_of_windows, linux_report);
  EXPECT_EQ(windows_report_of_windows, linux_report);
  auto [linux_table, windows_table] = both("report", windows_db, {});
  EXPECT_EQ(windows_table, linux_table);
}

// Built-in redaction on by default in both clients, off with --redact off: the same masked store.
TEST_F(WindowsStore, RedactsAsLinux) {
  const fs::path secrets = dir_ / "secrets.raw";
  {
    Bytes bytes = capture_bytes();
    ExecSpec spec;
    spec.task = task_of(6000, 5000, "mysql");
    spec.task.uid = spec.task.euid = spec.task.gid = 4'000'000;
    spec.argv = {"mysql", "--password=hunter2", "-u", "root"};
    Bytes exec = exec_record(spec);
    Bytes create = windows_create(7002, u"\\??\\C:\\Tools\\curl.exe", u"curl.exe --token hunter2 https://example.com");
    bytes.insert(bytes.end(), exec.begin(), exec.end());
    bytes.insert(bytes.end(), create.begin(), create.end());
    std::ofstream(secrets, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  for (const bool masked : {true, false}) {
    std::vector<std::string> more;
    if (!masked) more = {"--redact", "off"};
    const fs::path linux_db = dir_ / (masked ? "linux-masked.db" : "linux-plain.db");
    const fs::path windows_db = dir_ / (masked ? "windows-masked.db" : "windows-plain.db");
    std::vector<std::string> on_linux{"record", "--replay", secrets.string(), "--db", linux_db.string()};
    std::vector<std::string> on_windows{"record", "--replay", z(secrets), "--db", z(windows_db)};
    on_linux.insert(on_linux.end(), more.begin(), more.end());
    on_windows.insert(on_windows.end(), more.begin(), more.end());
    Captured l = linux_run(on_linux);
    ASSERT_EQ(exit_code(l), 0) << l.err;
    Captured w = windows_run(on_windows);
    ASSERT_EQ(exit_code(w), 0) << w.err;
    auto [linux_json, unused] = both("query", linux_db, {"--json"});
    auto [unused_too, windows_json] = both("query", windows_db, {"--json"});
    SCOPED_TRACE(masked ? "default" : "--redact off");
    EXPECT_EQ(windows_json, linux_json);
    EXPECT_EQ(linux_json.find("hunter2") == std::string::npos, masked) << linux_json;
    EXPECT_EQ(windows_json.find("curl.exe --token hunter2") == std::string::npos, masked) << windows_json;
  }
}

TEST_F(WindowsStore, DatabaseIsPrivateToItsOwner) {
  const fs::path db = dir_ / "private.db";
  Captured w = windows_run({"record", "--replay", z(capture_), "--db", z(db)});
  ASSERT_EQ(exit_code(w), 0) << w.err;
  EXPECT_EQ(windows_acl_problem(PROCSENTRY_FILE_DACL_CHECK, db.string()), "");
}

TEST_F(WindowsStore, BadDatabasePathIsOneLine) {
  // A directory where a regular file is: nothing can be created under it.
  const fs::path blocker = dir_ / "not-a-directory";
  std::ofstream(blocker) << "x";
  const fs::path db = blocker / "events.db";
  Captured record = windows_run({"record", "--replay", z(capture_), "--db", z(db)});
  EXPECT_EQ(exit_code(record), 2) << record.err;
  EXPECT_EQ(line_count(record.err), 1u) << record.err;
  EXPECT_NE(record.err.find("procsentry: cannot open the database " + z(db) + ": "), std::string::npos) << record.err;
  EXPECT_NE(record.err.find("(use --db PATH)"), std::string::npos) << record.err;
  for (const char* command : {"query", "report"}) {
    Captured read = windows_run({command, "--db", z(db)});
    EXPECT_EQ(exit_code(read), 1) << command << ": " << read.err;
    EXPECT_EQ(line_count(read.err), 1u) << command << ": " << read.err;
    EXPECT_NE(read.err.find(z(db)), std::string::npos) << command << ": " << read.err;
    EXPECT_EQ(read.out, "") << command;
  }
}

}  // namespace
}  // namespace procsentry::test
