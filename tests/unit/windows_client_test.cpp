// The cross-built Windows client, run for real under Wine: Windows records through the
// Windows build of the core, and the one-line error when no driver is loaded.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/record_builder.h"
#include "support/rsyslog_server.h"
#include "support/spawn.h"
#include "support/windows_acl.h"
#include "support/windows_records.h"
#include "support/wine.h"

namespace {

namespace fs = std::filesystem;
using procsentry::test::Bytes;
using procsentry::test::capture;
using procsentry::test::Captured;
using procsentry::test::ProcessOptions;
using procsentry::test::RecordBuilder;
using procsentry::test::windows_create;

struct Output {
  int status = -1;
  std::string out;
};

// The client under Wine with `args` (split at spaces); with_stderr: its standard error (and
// Wine's own start-up chatter) follows its output in `out`.
Output run_under_wine(const std::string& args, bool with_stderr = false) {
  std::vector<std::string> words;
  std::istringstream split(args);
  for (std::string word; split >> word;) words.push_back(word);
  Captured c = procsentry::test::run_wine(PROCSENTRY_WINDOWS_CLIENT, words);
  return Output{c.status, with_stderr ? c.out + c.err : c.out};
}

class WindowsClient : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(PROCSENTRY_WINDOWS_CLIENT))
        << "build it: cmake --preset mingw && cmake --build --preset mingw";
    ASSERT_EQ(std::system("command -v wine >/dev/null"), 0)
        << "wine is needed to run the Windows client (tools/deps.sh)";
  }
};

TEST_F(WindowsClient, ReplaysWindowsRecordsAsJson) {
  fs::path file = fs::temp_directory_path() / ("procsentry-wine-" + std::to_string(getpid()) + ".raw");
  {
    Bytes a = windows_create(4242, u"\\??\\C:\\Windows\\System32\\cmd.exe", u"cmd.exe /c \"echo J\u00f6rg\"");
    Bytes b = windows_create(4243, u"\\??\\C:\\Tools\\x.exe", u"x.exe \x1b[31m");
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(a.data()), static_cast<std::streamsize>(a.size()));
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  Output o = run_under_wine("--json --replay Z:" + file.string());
  fs::remove(file);
  ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status << "\n" << o.out;
  std::vector<nlohmann::json> events;
  std::istringstream lines(o.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    events.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("event"), "create");
  EXPECT_EQ(events[0].at("pid"), 4242);
  EXPECT_EQ(events[0].at("image"), "\\??\\C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(events[0].at("command_line"), "cmd.exe /c \"echo J\xc3\xb6rg\"");
  EXPECT_EQ(events[1].at("command_line"), "x.exe \x1b[31m");
  EXPECT_FALSE(events[0].contains("uid"));
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> events;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    events.push_back(nlohmann::json::parse(line));
  }
  return events;
}

// Records replayed from a file the client reads as Z:\...
Output replay_under_wine(const std::vector<Bytes>& records, const std::string& options) {
  fs::path file = fs::temp_directory_path() / ("procsentry-wine-" + std::to_string(getpid()) + ".raw");
  {
    std::ofstream out(file, std::ios::binary);
    for (const Bytes& r : records)
      out.write(reinterpret_cast<const char*>(r.data()), static_cast<std::streamsize>(r.size()));
  }
  Output o = run_under_wine(options + " --replay Z:" + file.string());
  fs::remove(file);
  return o;
}

const std::string kSystemSid("\x01\x01\0\0\0\0\0\x05\x12\0\0\0", 12);  // S-1-5-18

// The token's user is named by Windows' own LookupAccountSidW (Wine's here), the rest as
// the driver read it; the parent's image and command line come from the client's table.
TEST_F(WindowsClient, ACreatesTokenAndParentAreShownAsJson) {
  Output o =
      replay_under_wine({windows_create(700, u"\\??\\C:\\Windows\\explorer.exe", u"explorer.exe /factory"),
                         windows_create(704, u"\\??\\C:\\Windows\\System32\\cmd.exe", u"cmd.exe /k", kSystemSid, 700)},
                        "--json");
  ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status << "\n" << o.out;
  auto events = json_lines(o.out);
  ASSERT_EQ(events.size(), 2u) << o.out;
  const nlohmann::json& child = events[1];
  EXPECT_EQ(child.at("user_sid"), "S-1-5-18");
  EXPECT_EQ(child.at("user"), "NT AUTHORITY\\SYSTEM");
  EXPECT_EQ(child.at("integrity_level"), "system");
  EXPECT_EQ(child.at("elevated"), true);
  EXPECT_EQ(child.at("elevation_type"), "default");
  EXPECT_EQ(child.at("logon_id"), "0x3e7");
  EXPECT_EQ(child.at("token_type"), "primary");
  EXPECT_EQ(child.at("parent_image"), "\\??\\C:\\Windows\\explorer.exe");
  EXPECT_EQ(child.at("parent_command_line"), "explorer.exe /factory");
  EXPECT_FALSE(events[0].contains("user")) << "a create without the token block names no user";
}

// --format: the schema formats run unchanged in the Windows client; the token's user goes
// where each schema puts a Windows user (ECS user.*, OCSF process.user), named by Wine's LSA.
TEST_F(WindowsClient, TheSchemaFormatsCarryTheTokensUser) {
  const std::vector<Bytes> records{windows_create(704, u"\\??\\C:\\x.exe", u"x.exe", kSystemSid)};
  Output ecs = replay_under_wine(records, "--json --format ecs");
  ASSERT_TRUE(WIFEXITED(ecs.status) && WEXITSTATUS(ecs.status) == 0) << ecs.status << "\n" << ecs.out;
  auto e = json_lines(ecs.out);
  ASSERT_EQ(e.size(), 1u) << ecs.out;
  EXPECT_EQ(e[0].at("user").at("id"), "S-1-5-18");
  EXPECT_EQ(e[0].at("user").at("name"), "SYSTEM");
  EXPECT_EQ(e[0].at("user").at("domain"), "NT AUTHORITY");
  EXPECT_EQ(e[0].at("host").at("os").at("type"), "windows");
  EXPECT_EQ(e[0].at("procsentry").at("integrity_level"), "system");
  Output ocsf = replay_under_wine(records, "--json --format ocsf");
  ASSERT_TRUE(WIFEXITED(ocsf.status) && WEXITSTATUS(ocsf.status) == 0) << ocsf.status << "\n" << ocsf.out;
  auto o = json_lines(ocsf.out);
  ASSERT_EQ(o.size(), 1u) << ocsf.out;
  EXPECT_EQ(o[0].at("class_uid"), 1007);
  EXPECT_EQ(o[0].at("process").at("user").at("uid"), "S-1-5-18");
  EXPECT_EQ(o[0].at("process").at("integrity_id"), 5);
  EXPECT_EQ(o[0].at("process").at("session").at("uid"), "0x3e7");
}

TEST_F(WindowsClient, ACreatesUserIsInTheTableAndItsTokenInTheLongForm) {
  Output o = replay_under_wine({windows_create(704, u"\\??\\C:\\x.exe", u"x.exe", kSystemSid)}, "--long");
  ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status << "\n" << o.out;
  // The table escapes a backslash as the image column does (\\??\\C:): unforgeable.
  EXPECT_NE(o.out.find(" NT AUTHORITY\\\\SYSTEM "), std::string::npos) << o.out;
  for (std::string pair : {"user_sid=S-1-5-18", "integrity=system", "elevated=yes", "elevation=default",
                           "logon_id=0x3e7", "token=primary", "session=1"}) {
    EXPECT_NE(o.out.find(pair), std::string::npos) << pair << " missing in:\n" << o.out;
  }
}

// --output under Windows' file semantics (Wine's): a rename never replaces its target, so the
// rotation must move FILE.1 away before FILE becomes FILE.1. Each file, the first and those the
// rotation starts, is private to its owner (command lines hold secrets).
TEST_F(WindowsClient, OutputWritesJsonLinesAndRotates) {
  // A non-ASCII directory: the client's narrow file names are UTF-8 (its manifest).
  const fs::path dir = fs::temp_directory_path() / ("procsentry-wine-out-J\xc3\xb6rg-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "events.jsonl";
  std::vector<Bytes> records;
  for (std::uint32_t i = 0; i < 8; ++i) records.push_back(windows_create(800 + 4 * i, u"\\??\\C:\\x.exe", u"x.exe"));
  // Each line is 201 bytes: a rotation every two lines, two rotated files kept.
  Output o = replay_under_wine(records, "--quiet --output Z:" + file.string() + " --rotate 450 --keep-files 2");
  ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status << "\n" << o.out;
  std::vector<std::uint32_t> pids;
  for (const fs::path& f : {dir / "events.jsonl.2", dir / "events.jsonl.1", file}) {
    ASSERT_TRUE(fs::exists(f)) << f;
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    auto events = json_lines(text.str());
    EXPECT_EQ(events.size(), 2u) << f << ":\n" << text.str();
    for (const auto& e : events) pids.push_back(e.at("pid").get<std::uint32_t>());
    EXPECT_EQ(procsentry::test::windows_acl_problem(PROCSENTRY_FILE_DACL_CHECK, f.string()), "") << f;
  }
  EXPECT_FALSE(fs::exists(dir / "events.jsonl.3"));
  EXPECT_EQ(pids, (std::vector<std::uint32_t>{808, 812, 816, 820, 824, 828})) << "the oldest two rotated away";
  fs::remove_all(dir);
}

// --syslog over Winsock, to the real rsyslogd the Linux syslog tests run: every replayed event
// arrives as one RFC 5424 message whose MSG is the event's JSON, over TCP and over UDP.
TEST_F(WindowsClient, SyslogDeliversEveryEventToRsyslogOverTcpAndUdp) {
  using procsentry::test::RsyslogServer;
  if (!RsyslogServer::available()) GTEST_SKIP() << "rsyslog is not installed (apt-get install rsyslog)";
  std::string why;
  auto server = RsyslogServer::start(&why);
  ASSERT_TRUE(server) << why;
  std::vector<Bytes> records;
  for (std::uint32_t i = 0; i < 3; ++i) records.push_back(windows_create(900 + 4 * i, u"\\??\\C:\\y.exe", u"y.exe"));
  for (const std::string transport : {"tcp", "udp"}) {
    const std::uint16_t port = transport == "tcp" ? server->tcp_port() : server->udp_port();
    Output o = replay_under_wine(records, "--quiet --syslog " + transport + "://127.0.0.1:" + std::to_string(port));
    ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << transport << ": " << o.status << "\n" << o.out;
  }
  std::vector<nlohmann::json> got;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((got = server->messages()).size() < 6 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(got.size(), 6u) << "three events over each transport did not all arrive";
  std::map<std::string, std::vector<std::uint32_t>> pids;
  for (const auto& m : got) {
    EXPECT_EQ(m.at("version"), "1") << m.dump();
    EXPECT_EQ(m.at("app_name"), "procsentry") << m.dump();
    const auto event = nlohmann::json::parse(m.at("msg").get<std::string>());
    EXPECT_EQ(event.at("event"), "create");
    pids[m.at("input").get<std::string>()].push_back(event.at("pid").get<std::uint32_t>());
  }
  EXPECT_EQ(pids["imtcp"], (std::vector<std::uint32_t>{900, 904, 908}));
  EXPECT_EQ(pids["imudp"].size(), 3u);
}

TEST_F(WindowsClient, NoDriverIsOneClearLineAndStatus2) {
  Output o = run_under_wine("--json", true);
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 2) << o.status;
  EXPECT_NE(o.out.find("procsentry: the procsentry driver is not loaded: install and start it"), std::string::npos)
      << o.out;
}

TEST_F(WindowsClient, LinuxOnlyOutputsAreOneClearLineAndStatus2) {
  for (std::string option : {"--save-raw capture.raw"}) {
    Output o = run_under_wine(option, true);
    EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 2) << option << ": " << o.status;
    const std::string name = option.substr(0, option.find(' '));
    EXPECT_NE(o.out.find("procsentry: " + name + " is not available in the Windows client yet (it is on Linux)"),
              std::string::npos)
        << o.out;
  }
}

// The client's read-and-cancel logic (src/windows/client/pending_read.cpp) for real under
// Wine, on an overlapped named pipe standing in for the device (Wine cannot run the driver's
// callback), and Ctrl-C as a real console control event: under `script`, so that Wine gives
// the program a console (without one GenerateConsoleCtrlEvent reaches no handler).
TEST_F(WindowsClient, CtrlCCancelsThePendingReadAtOnce) {
  ASSERT_TRUE(fs::exists(PROCSENTRY_PENDING_READ_CHECK));
  ASSERT_EQ(std::system("command -v script >/dev/null"), 0) << "script (util-linux) gives Wine a console";
  ProcessOptions options;
  options.env = std::vector<std::string>{"WINEDEBUG=-all"};
  for (const char* name : {"PATH", "HOME", "WINEPREFIX"}) {
    if (const char* value = std::getenv(name)) options.env->push_back(std::string(name) + "=" + value);
  }
  Captured c = capture(
      "script", {"script", "-qec", std::string("wine ") + PROCSENTRY_PENDING_READ_CHECK + " --ctrl-c", "/dev/null"},
      options);
  // Wine's console draws through escape sequences (a space may be a cursor move): compare
  // the text without them and without spaces.
  std::string text;
  for (std::size_t i = 0; i < c.out.size(); ++i) {
    if (c.out[i] == '\x1b' && i + 1 < c.out.size() && c.out[i + 1] == '[') {
      i += 2;
      while (i < c.out.size() && !std::isalpha(static_cast<unsigned char>(c.out[i]))) ++i;
      continue;
    }
    if (c.out[i] != ' ' && c.out[i] != '\r') text += c.out[i];
  }
  EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0) << c.status << "\n" << text;
  EXPECT_EQ(text.find("FAIL"), std::string::npos) << text;
  for (std::string check :
       {"okthesamereadcompleteswhendatacomes", "okcancel()fromanotherthreadendsareadpendingwithoutlimit",
        "okacancelbeforethereadisnotmissed", "okCtrl-C(aconsolecontrolevent)endsthependingread"}) {
    EXPECT_NE(text.find(check), std::string::npos) << check << " missing in:\n" << text;
  }
}

// --hash: files under the Wine prefix's C: drive (its drive_c), named as the driver names
// images; the digests come from sha256sum.
class WindowsClientHash : public WindowsClient {
 protected:
  void SetUp() override {
    WindowsClient::SetUp();
    const char* prefix = std::getenv("WINEPREFIX");
    const char* home = std::getenv("HOME");
    ASSERT_TRUE(prefix != nullptr || home != nullptr) << "no Wine prefix: neither WINEPREFIX nor HOME is set";
    name_ = "procsentry-hash-" + std::to_string(getpid());
    dir_ = (prefix != nullptr ? fs::path(prefix) : fs::path(home) / ".wine") / "drive_c" / name_;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes FILE (several of the hasher's 64 KiB reads) and returns its SHA-256 by sha256sum.
  std::string write(const std::string& file, char fill) {
    std::string bytes(200'003, fill);
    for (std::size_t i = 0; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(i * 31);
    std::ofstream(dir_ / file, std::ios::binary) << bytes;
    Captured sum = capture("sha256sum", {"sha256sum", (dir_ / file).string()});
    EXPECT_EQ(sum.status, 0) << sum.err;
    return sum.out.substr(0, 64);
  }
  std::string windows_path(const std::string& file) const { return "C:\\" + name_ + "\\" + file; }

  std::string name_;
  fs::path dir_;
};

TEST_F(WindowsClientHash, TheWindowsPartOpensHashesAndIdentifiesFilesUnderWine) {
  ASSERT_TRUE(fs::exists(PROCSENTRY_IMAGE_FILE_CHECK));
  const std::string digest = write("known", 'k');
  Captured c = procsentry::test::run_wine(PROCSENTRY_IMAGE_FILE_CHECK, {"C:\\" + name_, digest});
  EXPECT_TRUE(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0) << c.status << "\n" << c.out << c.err;
  EXPECT_EQ(c.out.find("FAIL"), std::string::npos) << c.out;
  for (std::string check :
       {"ok a \\??\\ path's SHA-256 is sha256sum's",
        "ok a \\Device\\ path (Windows' own NT name of the file) translates and hashes", "ok one file, one identity",
        "ok the identity changes when the file is rewritten", "ok a missing image says why",
        "ok a directory is not hashed", "ok an open image never keeps its process from writing or deleting it"}) {
    EXPECT_NE(c.out.find(check), std::string::npos) << check << " missing in:\n" << c.out;
  }
}

// End to end: creates replayed with --hash, their images named as the driver names them
// (\??\C:\... and \Device\HarddiskVolumeN\...); each create carries its image's SHA-256,
// or "pending" and then exactly one `hash` event with its process_uid.
TEST_F(WindowsClientHash, ReplayedCreatesCarryTheirImagesSha256) {
  ASSERT_TRUE(fs::exists(PROCSENTRY_IMAGE_FILE_CHECK));
  const std::string tool = write("tool.exe", 't');
  const std::string other = write("other.exe", 'o');
  Captured nt = procsentry::test::run_wine(PROCSENTRY_IMAGE_FILE_CHECK, {"--nt-path", windows_path("other.exe")});
  std::string device_path = nt.out.substr(0, nt.out.find_first_of("\r\n"));
  ASSERT_TRUE(device_path.starts_with("\\Device\\")) << nt.out << nt.err;
  auto u16 = [](const std::string& ascii) { return std::u16string(ascii.begin(), ascii.end()); };
  const std::u16string dos_tool = u16("\\??\\C:\\" + name_ + "\\tool.exe");
  Output o = replay_under_wine(
      {windows_create(1000, dos_tool, u"tool.exe"), windows_create(1004, u16(device_path), u"other.exe"),
       windows_create(1008, dos_tool, u"tool.exe again"),
       windows_create(1012, u16("\\??\\C:\\" + name_ + "\\gone.exe"), u"gone.exe")},
      "--json --hash sha256");
  ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << o.status << "\n" << o.out;
  std::map<std::uint32_t, std::string> expected{{1000, tool}, {1004, other}, {1008, tool}};
  std::map<std::string, std::uint32_t> pending;  // process_uid -> pid
  std::map<std::uint32_t, std::string> got;
  std::size_t creates = 0;
  for (const nlohmann::json& e : json_lines(o.out)) {
    const auto pid = e.at("pid").get<std::uint32_t>();
    if (e.at("event") == "create") {
      ++creates;
      if (pid == 1012) {
        EXPECT_EQ(e.at("sha256_missing").get<std::string>().rfind("the image is gone", 0), 0u) << e.dump();
      } else if (e.contains("sha256")) {
        got[pid] = e.at("sha256");
      } else {
        ASSERT_EQ(e.at("sha256_missing"), "pending") << e.dump();
        pending[e.at("process_uid")] = pid;
      }
    } else {
      ASSERT_EQ(e.at("event"), "hash") << e.dump();
      auto waiting = pending.find(e.at("process_uid"));
      ASSERT_NE(waiting, pending.end()) << "a hash event no pending create asked for: " << e.dump();
      EXPECT_EQ(waiting->second, pid);
      EXPECT_FALSE(got.contains(pid)) << "two answers for " << pid;
      got[pid] = e.value("sha256", "(none: " + e.value("sha256_missing", std::string()) + ")");
      pending.erase(waiting);
    }
  }
  EXPECT_EQ(creates, 4u) << o.out;
  EXPECT_TRUE(pending.empty()) << pending.size() << " creates said pending and got no hash event:\n" << o.out;
  EXPECT_EQ(got, expected) << o.out;
}

}  // namespace
