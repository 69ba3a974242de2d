// Options a command would not use are refused with one line (main turns it into status 2).
#include "app/options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace procsentry {
namespace {

Result<ParsedOptions> parse(std::initializer_list<const char*> args) {
  std::vector<std::string> storage{"procsentry"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

// The error names the option and is one line.
void expect_refused(std::initializer_list<const char*> args, const std::string& option) {
  auto parsed = parse(args);
  ASSERT_FALSE(parsed) << "accepted: " << option;
  EXPECT_NE(parsed.error().message.find(option), std::string::npos) << parsed.error().message;
  EXPECT_EQ(parsed.error().message.find('\n'), std::string::npos) << parsed.error().message;
}

void expect_accepted(std::initializer_list<const char*> args) {
  auto parsed = parse(args);
  EXPECT_TRUE(parsed) << parsed.error().message;
}

TEST(Options, TreeRefusesLiveStreamOptions) {
  expect_refused({"tree", "--output", "f"}, "--output");
  expect_refused({"tree", "--syslog", "tcp://127.0.0.1:514"}, "--syslog");
  expect_refused({"tree", "--hash", "sha256"}, "--hash");
  expect_refused({"tree", "--comm", "bash"}, "--comm");
  expect_refused({"--save-raw", "f", "tree"}, "--save-raw");
  expect_accepted({"tree", "--pid", "1", "--json"});
  expect_accepted({"--json", "tree"});
}

TEST(Options, QueryRefusesLiveStreamOptions) {
  expect_refused({"query", "--comm", "bash"}, "--comm");
  expect_refused({"query", "--replay", "f"}, "--replay");
  expect_refused({"query", "-q"}, "--quiet");
  expect_accepted({"query", "--pid", "1", "--json", "--image", "/usr/bin/*"});
}

TEST(Options, ReportTakesItsOwnOptionsOnly) {
  expect_refused({"report", "--comm", "bash"}, "--comm");
  expect_refused({"report", "--output", "f"}, "--output");
  expect_refused({"report", "--redact", "off"}, "--redact");
  expect_refused({"report", "--top", "0"}, "--top");
  expect_refused({"report", "--top", "many"}, "--top");
  expect_refused({"report", "--argv", "x"}, "--argv");  // query's, not report's
  expect_refused({"report", "--since"}, "--since");
  expect_accepted(
      {"report", "--since", "1h", "--until", "2026-11-24T03:00:00Z", "--json", "--db", "x.db", "--top", "5"});
  auto parsed = parse({"report", "--top", "3"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->options.command, Command::report);
  EXPECT_EQ(parsed->options.report_top, 3u);
}

TEST(Options, QuietNeedsSomethingElseToWrite) {
  expect_refused({"-q"}, "--quiet");
  expect_refused({"record", "-q"}, "--quiet");
  expect_accepted({"-q", "--output", "f"});
  expect_accepted({"--quiet", "--syslog", "udp://127.0.0.1:514"});
  expect_accepted({"--quiet", "--kafka", "k1:9092", "--kafka-topic", "t"});
}

TEST(Options, KafkaOptionsNeedEachOther) {
  expect_refused({"--kafka", "k1:9092"}, "--kafka");
  expect_refused({"--kafka-topic", "t"}, "--kafka-topic");
  expect_refused({"--kafka-option", "acks=1"}, "--kafka-option");
  expect_refused({"--kafka", "k1:9092", "--kafka-topic", "t", "--seccomp"}, "--seccomp");
  expect_refused({"tree", "--kafka", "k1:9092", "--kafka-topic", "t"}, "--kafka");
  expect_accepted({"--kafka", "k1:9092,k2:9092", "--kafka-topic", "t", "--kafka-option", "acks=1", "--kafka-option",
                   "compression.codec=lz4"});
}

TEST(Options, FormatOnlyWhereJsonIsWritten) {
  expect_refused({"--format", "ecs"}, "--format");  // the table
  expect_refused({"--format", "ocsf", "--json", "-q", "--output", "f"}, "--json");
  expect_refused({"record", "--format", "ecs"}, "--format");
  expect_refused({"tree", "--format", "ecs"}, "--format");
  expect_refused({"query", "--format", "ocsf"}, "--format");
  expect_refused({"--json", "--format", "xml"}, "--format");
  expect_accepted({"--json", "--format", "ecs"});
  expect_accepted({"--format", "ocsf", "-q", "--output", "f"});
  expect_accepted({"--format", "native", "--syslog", "udp://127.0.0.1:514"});
  expect_accepted({"record", "--print", "--json", "--format", "ocsf"});
  auto parsed = parse({"--json", "--format", "ocsf"});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->options.format, EventFormat::ocsf);
  EXPECT_EQ(parse({"--json"})->options.format, EventFormat::native);
}

TEST(Options, RotationNeedsOutput) {
  expect_refused({"--rotate", "1M"}, "--rotate");
  expect_refused({"--keep-files", "2"}, "--keep-files");
  expect_accepted({"--output", "f", "--rotate", "1M", "--keep-files", "2"});
}

TEST(Options, OutputBacklogNeedsAThreadedOutput) {
  expect_refused({"--output-backlog", "100"}, "--output-backlog");
  expect_refused({"tree", "--output-backlog", "100"}, "--output-backlog");
  expect_accepted({"--output", "f", "--output-backlog", "100"});
  expect_accepted({"record", "--output-backlog", "100"});
  EXPECT_EQ(parse({"--syslog", "tcp://h:1", "--output-backlog", "100"})->options.output_backlog, 100u);
  EXPECT_FALSE(parse({"--output", "f", "--output-backlog", "8"}));  // below the minimum
}

TEST(Options, TableOptionsNeedTheTable) {
  expect_refused({"--json", "--color", "always"}, "--color");
  expect_refused({"--json", "--long"}, "--long");
  expect_refused({"-q", "--output", "f", "--long"}, "--long");
  expect_refused({"-q", "--output", "f", "--json"}, "--json");
  expect_refused({"record", "--json"}, "--json");
  expect_refused({"record", "--long"}, "--long");
  expect_accepted({"record", "--print", "--json"});
  expect_accepted({"record", "--print", "--long", "--color", "never"});
  expect_accepted({"--long", "--color", "always"});
}

TEST(Options, ReplayRefusesWhatTunesTheSensor) {
  for (const char* name : {"--argv-cap", "--ring-buffer-size"}) {
    expect_refused({"--replay", "f", name, "1048576"}, name);
  }
  expect_refused({"--replay", "f", "--exec-failed"}, "--exec-failed");
  expect_refused({"--replay", "f", "--verbose"}, "--verbose");
  expect_refused({"--replay", "f", "--save-raw", "g"}, "--save-raw");
  // The files a capture names, as they are on this machine now.
  expect_accepted({"--replay", "f", "--hash", "sha256"});
  // A capture's exec_failed records need no hook on this machine.
  expect_accepted({"--replay", "f", "--events", "exec,exec_failed"});
  expect_accepted({"record", "--replay", "f", "--db", "d"});
}

TEST(Options, ExecFailedEventsNeedTheHookWhenLive) {
  expect_refused({"--events", "exec_failed"}, "--exec-failed");
  expect_accepted({"--events", "exec_failed", "--exec-failed"});
}

}  // namespace
}  // namespace procsentry
