// --save-raw and --replay: the same decode-and-output path without the kernel, including
// Windows records (the Windows client's path, tested on Linux).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/capture_header.h"
#include "core/time_format.h"
#include "integration/monitor.h"
#include "support/record_builder.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

using ReplayRun = Captured;

ReplayRun run_replay(const std::string& file, const std::vector<std::string>& more = {}) {
  std::vector<std::string> argv{procsentry_binary(), "--json", "--replay", file};
  argv.insert(argv.end(), more.begin(), more.end());
  return capture(argv[0], argv);
}

std::vector<nlohmann::json> lines(const std::string& text) {
  std::vector<nlohmann::json> events;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) events.push_back(nlohmann::json::parse(line));
  return events;
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("procsentry-" + name + "-" + std::to_string(getpid()));
}

TEST(Replay, LiveCaptureReplaysToTheSameEventsAndIsPrivate) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  fs::path raw = temp_file("capture");
  fs::remove(raw);
  std::vector<std::string> argv = {"true", "secret=hunter2", std::string("\xff", 1)};
  pid_t pid = 0;
  nlohmann::json live_exec;
  {
    Monitor monitor({"--save-raw", raw.string()});
    pid = run("/usr/bin/true", argv).first;
    monitor.stop();
    auto execs = monitor.of(pid, "exec");
    ASSERT_EQ(execs.size(), 1u);
    live_exec = execs[0];
  }
  struct stat st {};
  ASSERT_EQ(stat(raw.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "command lines hold secrets";

  // The capture keeps the records as the kernel gave them (secrets too: hence 0600); the
  // replay masks them as the live stream did, unless told --redact off.
  EXPECT_EQ(exact_argv(live_exec), (std::vector<std::string>{"true", "secret=***", "\xff"}));
  EXPECT_EQ(live_exec.value("argv_redacted", false), true);
  ReplayRun unmasked = run_replay(raw.string(), {"--redact", "off"});
  EXPECT_NE(unmasked.out.find("secret=hunter2"), std::string::npos);
  ReplayRun r = run_replay(raw.string());
  fs::remove(raw);
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.err;
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos);
  std::size_t execs = 0;
  std::uint64_t seq = 0;
  for (const auto& e : lines(r.out)) {
    // Replayed events are numbered afresh, with the capture's boot and no machine.
    EXPECT_EQ(e.at("seq").get<std::uint64_t>(), ++seq);
    EXPECT_EQ(e.at("boot_id"), live_exec.at("boot_id"));
    EXPECT_FALSE(e.contains("host_id"));
    if (e.at("event") == "exec" && e.at("pid") == pid) {
      ++execs;
      EXPECT_EQ(exact_argv(e), exact_argv(live_exec));
      EXPECT_EQ(e.at("image"), "/usr/bin/true");
      // The capture's header carries the recording boot's clock and id: the replay prints the
      // times and identities the live stream printed, whatever day it runs. (Not parent_uid:
      // the parent started before the capture, which only the live /proc knew.)
      for (const char* key : {"time", "process_uid"}) {
        ASSERT_TRUE(live_exec.contains(key)) << key;
        EXPECT_EQ(e.value(key, nlohmann::json()), live_exec.at(key)) << key;
      }
    }
  }
  EXPECT_EQ(execs, 1u);
  EXPECT_EQ(r.err.find("no header"), std::string::npos) << r.err;
}

void append(const fs::path& file, const Bytes& record) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out.write(reinterpret_cast<const char*>(record.data()), static_cast<std::streamsize>(record.size()));
}

Bytes header_record(const std::string& boot_id, std::int64_t boot_to_epoch_ns) {
  CaptureHeader h{ClockMapping{boot_to_epoch_ns}, boot_id, 10'000'000, 1'700'000'000'000'000'000};
  std::string bytes = encode_capture_header(h);
  return Bytes(bytes.begin(), bytes.end());
}

TEST(Replay, EachHeaderNamesTheBootOfTheRecordsAfterIt) {
  fs::path file = temp_file("boots");
  fs::remove(file);
  const std::int64_t first_boot = 1'600'000'000'000'000'000;  // 2020-09-13T12:26:40Z
  const std::int64_t second_boot = 1'700'000'000'000'000'000;
  Bytes fork = fork_record(TaskSpec{}, 1, 1);
  ps_header hdr{};
  std::memcpy(&hdr, fork.data(), sizeof(hdr));
  append(file, header_record("aaaaaaaa-0000", first_boot));
  append(file, fork);
  append(file, header_record("bbbbbbbb-0000", second_boot));
  append(file, fork);
  ReplayRun r = run_replay(file.string());
  fs::remove(file);
  ASSERT_EQ(WEXITSTATUS(r.status), 0) << r.err;
  auto events = lines(r.out);
  ASSERT_EQ(events.size(), 2u) << r.out;
  EXPECT_EQ(events[0].at("process_uid").get<std::string>().substr(0, 9), "aaaaaaaa-");
  EXPECT_EQ(events[1].at("process_uid").get<std::string>().substr(0, 9), "bbbbbbbb-");
  auto rfc3339 = [](std::int64_t epoch_ns) {
    std::string text;
    Rfc3339Formatter().append(text, epoch_ns);
    return text;
  };
  EXPECT_EQ(events[0].at("time"), rfc3339(first_boot + static_cast<std::int64_t>(hdr.timestamp_ns)));
  EXPECT_EQ(events[1].at("time"), rfc3339(second_boot + static_cast<std::int64_t>(hdr.timestamp_ns)));
  EXPECT_EQ(r.err.find("no header"), std::string::npos) << r.err;
}

TEST(Replay, ACaptureWithoutHeaderSaysItsTimesAreThisBoots) {
  fs::path file = temp_file("headerless");
  fs::remove(file);
  append(file, fork_record(TaskSpec{}, 1, 1));
  ReplayRun r = run_replay(file.string());
  fs::remove(file);
  ASSERT_EQ(WEXITSTATUS(r.status), 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 1u);
  EXPECT_NE(r.err.find("this capture has no header"), std::string::npos) << r.err;
}

TEST(Replay, ABadHeaderIsCountedAsMalformed) {
  fs::path file = temp_file("badheader");
  fs::remove(file);
  Bytes bad = header_record("cccccccc", 1);
  bad[offsetof(ps_capture, uid_tick_ns)] = 0;
  bad[offsetof(ps_capture, uid_tick_ns) + 1] = 0;
  bad[offsetof(ps_capture, uid_tick_ns) + 2] = 0;
  bad[offsetof(ps_capture, uid_tick_ns) + 3] = 0;
  append(file, bad);
  append(file, fork_record(TaskSpec{}, 1, 1));
  ReplayRun r = run_replay(file.string());
  fs::remove(file);
  ASSERT_EQ(WEXITSTATUS(r.status), 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 1u);
  EXPECT_NE(r.err.find("skipped a malformed record: capture header"), std::string::npos) << r.err;
}

// A Windows client's capture: cmd.exe created, then its exit (an access violation).
fs::path windows_capture(const std::string& name) {
  RecordBuilder<ps_create> b(PS_REC_CREATE, 1'795'521'841'000'000'000, PS_CLOCK_UNIX_EPOCH);
  ps_create body = b.body();
  body.task.pid = 4242;
  body.task.ppid = 600;
  body.session_id = 1;
  const std::u16string image = u"\\??\\C:\\Windows\\System32\\cmd.exe";
  const std::u16string command = u"cmd.exe /c \"echo J\u00f6rg\"";
  body.image = b.add(std::string_view(reinterpret_cast<const char*>(image.data()), image.size() * 2),
                     PS_STR_PRESENT | PS_STR_UTF16LE);
  body.command_line = b.add(std::string_view(reinterpret_cast<const char*>(command.data()), command.size() * 2),
                            PS_STR_PRESENT | PS_STR_UTF16LE);
  b.set_body(body);
  Bytes create = b.finish();
  RecordBuilder<ps_exit> x(PS_REC_EXIT, 1'795'521'842'000'000'000, PS_CLOCK_UNIX_EPOCH);
  ps_exit exit_body = x.body();
  exit_body.task.pid = 4242;
  exit_body.task.start_time_ns = 1'795'521'841'000'000'000;
  exit_body.exit_status = 0xC0000005;  // STATUS_ACCESS_VIOLATION
  exit_body.exit_flags = PS_EXIT_WINDOWS_CODE;
  x.set_body(exit_body);
  Bytes exit_record = x.finish();

  fs::path file = temp_file(name);
  {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(create.data()), static_cast<std::streamsize>(create.size()));
    out.write(reinterpret_cast<const char*>(exit_record.data()), static_cast<std::streamsize>(exit_record.size()));
  }
  return file;
}

TEST(Replay, WindowsRecordsDecodeOnLinux) {
  fs::path file = windows_capture("windows");
  ReplayRun r = run_replay(file.string());
  fs::remove(file);
  ASSERT_EQ(WEXITSTATUS(r.status), 0) << r.err;
  auto events = lines(r.out);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("event"), "create");
  EXPECT_EQ(events[0].at("image"), "\\??\\C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(events[0].at("command_line"), "cmd.exe /c \"echo J\xc3\xb6rg\"");
  for (const char* absent : {"uid", "gid", "euid", "comm", "user"}) {
    EXPECT_FALSE(events[0].contains(absent)) << absent << ": Windows has none, so none is printed";
  }
  EXPECT_EQ(events[1].at("event"), "exit");
  EXPECT_EQ(events[1].at("exit_code").get<std::int64_t>(), static_cast<std::int32_t>(0xC0000005));
  EXPECT_EQ(events[1].at("image"), "\\??\\C:\\Windows\\System32\\cmd.exe") << "the table links exit to create";
  EXPECT_EQ(events[1].at("duration_ns"), 1'000'000'000);
}

// --format: the same Windows records as ECS and as OCSF Process Activity (Launch, Spawn;
// Terminate), the device a Windows one although the replay runs on Linux.
TEST(Replay, WindowsRecordsInEcsAndOcsf) {
  fs::path file = windows_capture("windows-formats");
  ReplayRun ecs = run_replay(file.string(), {"--format", "ecs"});
  ReplayRun ocsf = run_replay(file.string(), {"--format", "ocsf"});
  fs::remove(file);
  ASSERT_EQ(WEXITSTATUS(ecs.status), 0) << ecs.err;
  ASSERT_EQ(WEXITSTATUS(ocsf.status), 0) << ocsf.err;
  auto e = lines(ecs.out);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].at("event").at("action"), "create");
  EXPECT_EQ(e[0].at("host").at("os").at("type"), "windows");
  EXPECT_EQ(e[0].at("process").at("pid"), 4242);
  EXPECT_EQ(e[0].at("process").at("executable"), "\\??\\C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(e[0].at("process").at("command_line"), "cmd.exe /c \"echo J\xc3\xb6rg\"");
  EXPECT_EQ(e[0].at("process").at("parent").at("pid"), 600);
  EXPECT_EQ(e[0].at("procsentry").at("session_id"), 1);
  EXPECT_EQ(e[1].at("event").at("type"), nlohmann::json({"end"}));
  EXPECT_EQ(e[1].at("process").at("exit_code").get<std::int64_t>(), static_cast<std::int32_t>(0xC0000005));
  EXPECT_EQ(e[1].at("event").at("duration"), 1'000'000'000);
  auto o = lines(ocsf.out);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].at("class_uid"), 1007);
  EXPECT_EQ(o[0].at("activity_id"), 1);
  EXPECT_EQ(o[0].at("launch_type_id"), 1) << "Spawn: Windows creates a process in one step";
  EXPECT_EQ(o[0].at("device").at("os").at("type_id"), 100);
  EXPECT_EQ(o[0].at("process").at("cmd_line"), "cmd.exe /c \"echo J\xc3\xb6rg\"");
  EXPECT_EQ(o[0].at("time"), 1'795'521'841'000);
  EXPECT_EQ(o[1].at("activity_id"), 2);
  EXPECT_EQ(o[1].at("type_uid"), 100702);
  EXPECT_EQ(o[1].at("exit_code").get<std::int64_t>(), static_cast<std::int32_t>(0xC0000005));
}

TEST(Replay, TruncatedTailIsAClearErrorAfterTheWholeRecords) {
  Bytes good = fork_record(TaskSpec{}, 1, 1);
  fs::path file = temp_file("truncated");
  {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(good.data()), static_cast<std::streamsize>(good.size()));
    out.write(reinterpret_cast<const char*>(good.data()), 30);
  }
  ReplayRun r = run_replay(file.string());
  fs::remove(file);
  EXPECT_EQ(WEXITSTATUS(r.status), 1);
  EXPECT_EQ(lines(r.out).size(), 1u);
  EXPECT_NE(r.err.find("claims 88 bytes, 30 remain"), std::string::npos) << r.err;
}

TEST(Replay, MissingFileIsOneLineAndStatus2) {
  ReplayRun r = run_replay("/nonexistent/capture.raw");
  EXPECT_EQ(WEXITSTATUS(r.status), 2);
  EXPECT_NE(r.err.find("cannot open /nonexistent/capture.raw"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

}  // namespace
}  // namespace procsentry::test
