// JSON Lines and table formatters (and the live view's writer) on hand-built events: every JSON line parses back with a
// real parser, the lossless companion restores the exact bytes, and no raw control byte reaches the terminal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text_escape.h"
#include "sinks/formats/json_format.h"
#include "sinks/formats/table_format.h"
#include "sinks/run/inline_sink.h"
#include "sinks/writers/fd_writer.h"

namespace procsentry {
namespace {

constexpr std::int64_t kTime = 1'795'521'841'123'456'789;  // 2026-11-24T12:04:01.123456789Z

struct OwnedExec {
  std::vector<std::string> argv;
  std::string raw;
  Event event;

  explicit OwnedExec(std::vector<std::string> args) : argv(std::move(args)) {
    for (const auto& a : argv) {
      raw += a;
      raw += '\0';
    }
    event.kind = EventKind::exec;
    event.time_ns = kTime;
    event.task = Task{4242, 4242, 4100, 1000, 1000, 1000, kTime - 1'000'000, 0, "ls"};
    event.user = "alice";
    event.image = Text{"/usr/bin/ls", true, false, 11};
    event.filename = Text{"ls", true, false, 2};
    event.cwd = Text{"/home/alice", true, false, 11};
    event.argv_raw = Text{raw, true, false, static_cast<std::uint32_t>(raw.size())};
    std::string_view rest = raw;
    for (const auto& a : argv) {
      event.argv.push_back(rest.substr(0, a.size()));
      rest.remove_prefix(a.size() + 1);
    }
  }
};

std::string base64_decode(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    auto v = alphabet.find(c);
    if (v == std::string::npos) continue;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

nlohmann::json to_json(const Event& e) {
  JsonFormatter format;
  std::string line;
  format.append(line, e);
  EXPECT_TRUE(is_valid_utf8(line)) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line, ended by its newline";
  return nlohmann::json::parse(line);
}

TEST(JsonFormatter, ExecHasTheDocumentedKeys) {
  OwnedExec x({"ls", "-l", "/tmp/a b", ""});
  auto j = to_json(x.event);
  EXPECT_EQ(j["event"], "exec");
  EXPECT_EQ(j["time"], "2026-11-24T12:04:01.123456789Z");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["ppid"], 4100);
  EXPECT_EQ(j["user"], "alice");
  EXPECT_EQ(j["image"], "/usr/bin/ls");
  EXPECT_EQ(j["filename"], "ls");
  EXPECT_EQ(j["cwd"], "/home/alice");
  EXPECT_EQ(j["argv"], nlohmann::json({"ls", "-l", "/tmp/a b", ""}));
  EXPECT_EQ(j["argc"], 4);
  EXPECT_EQ(j["argv_truncated"], false);
  EXPECT_FALSE(j.contains("argv_b64")) << "valid UTF-8 needs no companion";
  EXPECT_FALSE(j.contains("script"));
  EXPECT_FALSE(j.contains("exit_code"));
}

TEST(JsonFormatter, InvalidUtf8ArgvIsLossless) {
  const std::vector<std::string> argv = {"x", std::string("\xff\xfe\x1b[31m\n", 8), "\xc3"};
  OwnedExec x(argv);
  auto j = to_json(x.event);
  ASSERT_TRUE(j.contains("argv_b64"));
  EXPECT_EQ(base64_decode(j["argv_b64"]), x.raw);
  EXPECT_EQ(j["argv"][1], "\xef\xbf\xbd\xef\xbf\xbd\x1b[31m\n");
}

TEST(JsonFormatter, InvalidUtf8PathGetsItsOwnCompanionAndTruncationFlag) {
  OwnedExec x({"x"});
  std::string image = "/tmp/\xff";
  x.event.image = Text{image, true, true, 9000};
  auto j = to_json(x.event);
  EXPECT_EQ(base64_decode(j["image_b64"]), image);
  EXPECT_EQ(j["image_truncated"], true);
}

TEST(JsonFormatter, ImageFactsAndNothingSilent) {
  OwnedExec x({"x"});
  x.event.image = Text{"/memfd:evil (deleted)", true, false, 21};
  x.event.image_memfd = true;
  x.event.exec_fd = true;
  x.event.image_uid = 1000;
  x.event.image_mode = 0100000 | 06755;
  x.event.argv_truncated = true;
  x.event.argv_unreadable = true;
  x.event.argv_original_length = 1234;
  auto j = to_json(x.event);
  EXPECT_EQ(j["image_memfd"], true);
  EXPECT_FALSE(j.contains("image_deleted"));
  EXPECT_EQ(j["exec_fd"], true);
  EXPECT_EQ(j["image_uid"], 1000);
  EXPECT_EQ(j["image_mode"], "6755");
  EXPECT_EQ(j["image_setuid"], true);
  EXPECT_EQ(j["image_setgid"], true);
  EXPECT_FALSE(j.contains("image_upper_layer"));
  EXPECT_EQ(j["argv_truncated"], true);
  EXPECT_EQ(j["argv_original_length"], 1234);
  EXPECT_EQ(j["argv_unreadable"], true);
}

TEST(JsonFormatter, TruncatedPathCarriesItsOriginalLength) {
  OwnedExec x({"x"});
  x.event.image = Text{"/tmp/deep", true, true, 9000};
  x.event.cwd = Text{"/tmp/deep/a", true, true, 0};  // the kernel could not measure it
  auto j = to_json(x.event);
  EXPECT_EQ(j["image_truncated"], true);
  EXPECT_EQ(j["image_original_length"], 9000);
  EXPECT_EQ(j["cwd_truncated"], true);
  EXPECT_FALSE(j.contains("cwd_original_length"));
  EXPECT_FALSE(j.contains("image_mode")) << "no inode facts in the record: omitted";
}

TEST(JsonFormatter, AbsentValuesAreOmitted) {
  OwnedExec x({"x"});
  x.event.image = Text{};
  x.event.user = {};
  auto j = to_json(x.event);
  EXPECT_FALSE(j.contains("image"));
  EXPECT_FALSE(j.contains("user"));
}

TEST(JsonFormatter, ExitForkLostAndExecFailed) {
  Event exit_event;
  exit_event.kind = EventKind::exit;
  exit_event.time_ns = kTime;
  exit_event.task.comm = "sleep";
  exit_event.exit_signal = 9;
  exit_event.duration_ns = 1234;
  auto j = to_json(exit_event);
  EXPECT_EQ(j["signal"], 9);
  EXPECT_FALSE(j.contains("exit_code"));
  EXPECT_EQ(j["duration_ns"], 1234);

  Event fork_event;
  fork_event.kind = EventKind::fork;
  fork_event.time_ns = kTime;
  fork_event.task.start_time_ns = kTime;
  fork_event.parent_pid = 7;
  fork_event.parent_start_time_ns = 0;
  j = to_json(fork_event);
  EXPECT_EQ(j["parent_pid"], 7);
  EXPECT_EQ(j["parent_start_time"], "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(j["start_time"], "2026-11-24T12:04:01.123456789Z");

  Event lost;
  lost.kind = EventKind::lost;
  lost.lost_count = 5;
  lost.lost_cause = 1;
  j = to_json(lost);
  EXPECT_EQ(j["count"], 5);
  EXPECT_EQ(j["cause"], "ringbuf_full");
  EXPECT_FALSE(j.contains("pid"));

  Event failed;
  failed.kind = EventKind::exec_failed;
  failed.error = 2;
  failed.filename = Text{"/missing", true, false, 8};
  j = to_json(failed);
  EXPECT_EQ(j["errno"], 2);
  EXPECT_EQ(j["error"], "ENOENT");
  EXPECT_EQ(j["filename"], "/missing");
}

TEST(JsonFormatter, PerBatchWritesAPipeOnlyAtFlush) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_NONBLOCK), 0);
  {
    auto writer = std::make_unique<FdWriter>(fds[1]);
    writer->flush_per_batch();
    InlineSink sink(Output{std::make_shared<JsonFormatter>(), std::move(writer)});
    OwnedExec x({"a"});
    sink.write(x.event);
    sink.write(x.event);
    char buf[8192];
    EXPECT_EQ(read(fds[0], buf, sizeof(buf)), -1);  // nothing written before the batch ends
    EXPECT_EQ(errno, EAGAIN);
    sink.flush();
    ssize_t n = read(fds[0], buf, sizeof(buf));
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::count(buf, buf + n, '\n'), 2);  // both events, in one write
    EXPECT_EQ(buf[n - 1], '\n');
  }
  close(fds[0]);
  close(fds[1]);
}

TEST(JsonFormatter, WritesOneLinePerEventToAPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    InlineSink sink(Output{std::make_shared<JsonFormatter>(), std::make_unique<FdWriter>(fds[1])});
    OwnedExec x({"a"});
    sink.write(x.event);  // a pipe: flushed per event, without waiting for flush()
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof(buf));
    ASSERT_GT(n, 0);
    EXPECT_EQ(buf[n - 1], '\n');
  }
  close(fds[0]);
  close(fds[1]);
}

TEST(JsonFormatter, ClosedReaderIsAFailureNotACrash) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  InlineSink sink(Output{std::make_shared<JsonFormatter>(), std::make_unique<FdWriter>(fds[1])});
  OwnedExec x({"a"});
  sink.write(x.event);
  EXPECT_TRUE(sink.failed());
  EXPECT_EQ(dynamic_cast<FdWriter&>(sink.writer()).error(), EPIPE);
  close(fds[1]);
}

class TableFormatterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
  std::string line(const Event& e) {
    TableFormatter format(false);
    std::string out;
    format.append_line(out, e);
    return out;
  }
};

TEST_F(TableFormatterTest, ExecAndExitLines) {
  OwnedExec x({"ls", "-l", "/tmp/a b"});
  EXPECT_EQ(
      line(x.event),
      "12:04:01.123  exec        4242    4100    alice    /usr/bin/ls                              ls -l '/tmp/a b'");
  Event& exit_event = x.event;
  exit_event.kind = EventKind::exit;
  exit_event.known_image = x.event.image;
  exit_event.exit_code = 0;
  exit_event.duration_ns = 2'000'000;
  EXPECT_EQ(
      line(exit_event),
      "12:04:01.123  exit        4242    4100    alice    /usr/bin/ls                              code=0 0.002s");
}

TEST_F(TableFormatterTest, HostileBytesNeverReachTheTerminalRaw) {
  OwnedExec x({"\x1b[2J\x1b[H", "line\nforged  exec  1  1  root  /bin/sh", "\xff\xc2\x9b",
               "\xe2\x80\xae"
               "txt.exe"});
  std::string image = "/tmp/\x1b]0;pwned\x07";
  x.event.image = Text{image, true, false, static_cast<std::uint32_t>(image.size())};
  x.event.task.comm = "\x1b[31m";
  std::string out = line(x.event);
  for (char c : out) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << out;
  EXPECT_NE(out.find("\\e[2J"), std::string::npos);
  EXPECT_NE(out.find("\\u{202e}"), std::string::npos);
  EXPECT_NE(out.find("\\u{009b}"), std::string::npos);
}

TEST_F(TableFormatterTest, LongImageKeepsItsTail) {
  OwnedExec x({"x"});
  std::string image = "/very/long/directory/structure/that/goes/on/and/on/bin/the-tool";
  x.event.image = Text{image, true, false, static_cast<std::uint32_t>(image.size())};
  std::string out = line(x.event);
  EXPECT_NE(out.find("\xe2\x80\xa6"), std::string::npos);
  EXPECT_NE(out.find("bin/the-tool x"), std::string::npos);
}

TEST_F(TableFormatterTest, TruncatedArgvAndScriptAreSaid) {
  OwnedExec x({"sh", "./run.sh"});
  x.event.argv_truncated = true;
  x.event.argv_original_length = 99999;
  x.event.is_script = true;
  x.event.script = "/srv/run.sh";
  std::string out = line(x.event);
  EXPECT_NE(out.find("[truncated: 99999 bytes total]"), std::string::npos);
  EXPECT_NE(out.find("(script /srv/run.sh)"), std::string::npos);
}

}  // namespace
}  // namespace procsentry

namespace procsentry {
namespace {

// An exec with every context field the table and the kernel can give it.
void add_context(OwnedExec& x, const std::string& parent_argv) {
  ProcessUidScheme scheme("b44953de", 10'000'000);
  x.event.process_uid = scheme.make(4242, 900);
  x.event.parent_uid = scheme.make(4100, 800);
  x.event.group = "staff";
  x.event.loginuid = 1000;
  x.event.audit_session = 3;
  x.event.tty = "pts3";
  x.event.pid_ns = 4026531836u;
  x.event.cgroup_id = 77;
  x.event.cgroup = "/system.slice/docker-0123.scope";
  x.event.container_id = "0123456789abcdef0123";
  x.event.parent_image = Text{"/usr/bin/bash", true, false, 13};
  x.event.parent_argv_raw = Text{parent_argv, true, false, static_cast<std::uint32_t>(parent_argv.size())};
  x.event.parent_seeded = true;
  x.event.ancestry.push_back(Event::Ancestor{4100, scheme.make(4100, 800), "/usr/bin/bash"});
  x.event.ancestry.push_back(Event::Ancestor{1, scheme.make(1, 5), ""});
  x.event.sha256_missing = "pending";
}

TEST(JsonFormatter, ExecContextAndLineage) {
  OwnedExec x({"ls"});
  const std::string parent_argv("bash\0-c\0\x1b[1m\xff\0", 13);
  add_context(x, parent_argv);
  auto j = to_json(x.event);
  EXPECT_EQ(j["process_uid"], "b44953de-4242-900");
  EXPECT_EQ(j["parent_uid"], "b44953de-4100-800");
  EXPECT_EQ(j["group"], "staff");
  EXPECT_EQ(j["loginuid"], 1000);
  EXPECT_EQ(j["session_id"], 3);
  EXPECT_EQ(j["tty"], "pts3");
  EXPECT_EQ(j["pid_ns"], 4026531836u);
  EXPECT_EQ(j["cgroup_id"], 77);
  EXPECT_EQ(j["cgroup"], "/system.slice/docker-0123.scope");
  EXPECT_EQ(j["container_id"], "0123456789abcdef0123");
  EXPECT_EQ(j["parent_image"], "/usr/bin/bash");
  EXPECT_EQ(j["parent_argv"].size(), 3u);
  EXPECT_EQ(j["parent_argv"][1], "-c");
  EXPECT_EQ(base64_decode(j["parent_argv_b64"]), parent_argv);  // lossless, like argv
  EXPECT_EQ(j["parent_seeded"], true);
  ASSERT_EQ(j["ancestry"].size(), 2u);
  EXPECT_EQ(j["ancestry"][0]["pid"], 4100);
  EXPECT_EQ(j["ancestry"][0]["image"], "/usr/bin/bash");
  EXPECT_FALSE(j["ancestry"][1].contains("image")) << "unknown, so omitted";
  EXPECT_EQ(j["sha256_missing"], "pending");
  EXPECT_FALSE(j.contains("sha256"));
}

TEST(JsonFormatter, HashEvent) {
  Event e;
  e.kind = EventKind::hash;
  e.time_ns = kTime;
  e.task.pid = 7;
  e.task.has_uid_and_comm = false;
  e.process_uid = ProcessUidScheme("ab", 1).make(7, 1);
  e.image = Text{"/usr/bin/x", true, false, 10};
  e.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  auto j = to_json(e);
  EXPECT_EQ(j["event"], "hash");
  EXPECT_EQ(j["process_uid"], "ab000000-7-1");
  EXPECT_EQ(j["image"], "/usr/bin/x");
  EXPECT_EQ(j["sha256"], e.sha256);
  EXPECT_FALSE(j.contains("uid"));
}

TEST(TableFormatterLong, CarriesIdentityAndContextEscaped) {
  setenv("TZ", "UTC", 1);
  tzset();
  OwnedExec x({"ls"});
  add_context(x, std::string("bash\0", 5));
  x.event.cwd = Text{"/tmp/\x1b[31m x", true, false, 12};
  TableFormatter format(false, true);
  std::string out;
  format.append_line(out, x.event);
  EXPECT_NE(
      out.find(" {process_uid=b44953de-4242-900 parent_process_uid=b44953de-4100-800 cwd='/tmp/\\e[31m x' group=staff "
               "loginuid=1000 session=3 tty=pts3 pid_ns=4026531836 cgroup=/system.slice/docker-0123.scope "
               "container=0123456789abcdef0123 parent=/usr/bin/bash ancestor=/usr/bin/bash "
               "ancestor=b44953de-1-5 sha256=pending}"),
      std::string::npos)
      << out;
  for (char c : out) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << out;
  TableFormatter short_form(false);
  std::string plain;
  short_form.append_line(plain, x.event);
  EXPECT_EQ(plain.find('{'), std::string::npos);
  EXPECT_NE(plain.find("[container 0123456789ab]"), std::string::npos) << plain;
}

}  // namespace
}  // namespace procsentry
