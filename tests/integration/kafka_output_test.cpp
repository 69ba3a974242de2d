// --kafka against librdkafka's mock cluster (build/kafka-mock-cluster: the real Kafka protocol,
// three brokers on loopback), read back by a real consumer (kcat): every event of a storm of
// hostile command lines arrives exactly once, byte for byte what --output wrote in the same
// run, each process's events in order; a broker down mid-storm, or the whole cluster down for
// 10 seconds, loses nothing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <map>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// build/kafka-mock-cluster with a command pipe: started with one topic, stopped (SIGTERM) at
// destruction.
class MockCluster {
 public:
  explicit MockCluster(const std::string& topic) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const std::string path = KAFKA_MOCK_CLUSTER;
    std::vector<std::string> args = {path, "--topic", topic, "--partitions", "6"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* env[] = {nullptr};
    if (posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), env) != 0) {
      throw std::runtime_error("cannot start " + path);
    }
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    commands_ = in[1];
    answers_ = out[0];
    const std::string first = read_line(10s);
    if (first.rfind("bootstrap=", 0) != 0) throw std::runtime_error("kafka-mock-cluster said: " + first);
    bootstrap_ = first.substr(10);
  }
  ~MockCluster() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    close(commands_);
    close(answers_);
  }
  const std::string& bootstrap() const { return bootstrap_; }
  // Sends one command ("down 2", "up all") and waits for its answer.
  bool command(const std::string& line) {
    const std::string sent = line + "\n";
    if (write(commands_, sent.data(), sent.size()) != static_cast<ssize_t>(sent.size())) return false;
    return read_line(10s) == "ok " + line;
  }

 private:
  std::string read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = pending_.find('\n'); nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{answers_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      char buffer[512];
      const ssize_t n = read(answers_, buffer, sizeof(buffer));
      if (n <= 0) return {};
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int commands_ = -1, answers_ = -1;
  std::string pending_, bootstrap_;
};

class KafkaOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
    dir_ = fs::temp_directory_path() / ("kafka." + std::to_string(getpid()));
    fs::create_directories(dir_);
    topic_ = "procsentry-" + std::to_string(getpid());
    cluster_.emplace(topic_);
  }
  void TearDown() override {
    cluster_.reset();
    fs::remove_all(dir_);
  }

  std::vector<std::string> kafka_args() const {
    return {"--kafka", cluster_->bootstrap(), "--kafka-topic", topic_, "--output", (dir_ / "events.jsonl").string()};
  }

  // A few hundred execs whose command lines are hostile to any framing (quotes, escapes,
  // CR LF, invalid UTF-8, one past the argv cap).
  static void storm(const std::string& marker, int count) {
    for (int i = 0; i < count; ++i) {
      std::vector<std::string> argv = {"true", marker, std::to_string(i)};
      switch (i % 4) {
        case 0:
          argv.push_back("quote\" back\\slash\ttab\r\nforged line");
          break;
        case 1:
          argv.push_back("\x1b[31mred\x1b[0m caf\xc3\xa9 \xe2\x82\xac");
          break;
        case 2:
          argv.push_back("invalid \xff\xfe utf-8 \x01\x7f");
          break;
        default:
          if (i % 40 == 3) argv.push_back(std::string(40 * 1024, 'A'));
      }
      EXPECT_EQ(run("/bin/true", argv).second, 0);
    }
  }

  // What --kafka delivered, as a real consumer reads it back: [key, value] in partition order.
  std::vector<std::pair<std::string, std::string>> consume() const {
    const Captured c = capture(
        "kcat",
        {"kcat", "-C", "-b", cluster_->bootstrap(), "-t", topic_, "-o", "beginning", "-e", "-q", "-f", "%k\t%s\n"}, {},
        60s);
    EXPECT_EQ(c.status, 0) << c.err;
    std::vector<std::pair<std::string, std::string>> messages;
    std::istringstream in(c.out);
    for (std::string line; std::getline(in, line);) {
      const auto tab = line.find('\t');
      EXPECT_NE(tab, std::string::npos) << line;
      if (tab != std::string::npos) messages.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
    return messages;
  }

  // Every line --output wrote arrived once through Kafka, the same bytes, keyed host/process_uid,
  // and each key's messages in the order --output has them.
  void expect_delivered_exactly_once_in_order(const Monitor& monitor) const {
    std::vector<std::string> written;
    std::ifstream file(dir_ / "events.jsonl");
    for (std::string line; std::getline(file, line);) written.push_back(line);
    ASSERT_GT(written.size(), 300u);
    const auto received = consume();

    char host[HOST_NAME_MAX + 1] = {};
    gethostname(host, sizeof(host) - 1);
    std::map<std::string, std::vector<std::string>> written_by_key, received_by_key;
    for (const auto& line : written) {
      const auto event = nlohmann::json::parse(line);
      const std::string uid = event.value("process_uid", "");
      written_by_key[std::string(host) + "/" + uid].push_back(line);
    }
    for (const auto& [key, value] : received) received_by_key[key].push_back(value);
    EXPECT_EQ(received.size(), written.size());
    EXPECT_EQ(received_by_key.size(), written_by_key.size());
    for (const auto& [key, lines] : written_by_key) {
      EXPECT_EQ(received_by_key[key], lines) << "key " << key;  // exactly once, same bytes, same order
    }
    EXPECT_NE(monitor.stderr_text().find(fmt_acknowledged(written.size())), std::string::npos) << monitor.stderr_text();
    EXPECT_EQ(monitor.stderr_text().find("dropped"), std::string::npos) << monitor.stderr_text();
    EXPECT_EQ(monitor.stderr_text().find("not written"), std::string::npos) << monitor.stderr_text();
  }
  static std::string fmt_acknowledged(std::size_t n) { return ": " + std::to_string(n) + " events acknowledged"; }

  fs::path dir_;
  std::string topic_;
  std::optional<MockCluster> cluster_;
};

TEST_F(KafkaOutput, AStormArrivesExactlyOnceInPerProcessOrder) {
  Monitor monitor(kafka_args());
  storm("kafka-storm-" + std::to_string(getpid()), 300);
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();
  expect_delivered_exactly_once_in_order(monitor);
}

TEST_F(KafkaOutput, ABrokerDownMidStormLosesNothing) {
  // As below: librdkafka's 10 s reconnect backoff could outlast the stop's 5 s flush (seen under
  // ASan: the events for the downed broker's partitions were counted as not written).
  auto args = kafka_args();
  args.insert(args.end(), {"--kafka-option", "reconnect.backoff.max.ms=500"});
  Monitor monitor(args);
  const std::string marker = "kafka-broker-" + std::to_string(getpid());
  storm(marker, 100);
  ASSERT_TRUE(cluster_->command("down 2"));
  storm(marker, 150);
  ASSERT_TRUE(cluster_->command("up 2"));
  storm(marker, 50);
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();
  expect_delivered_exactly_once_in_order(monitor);
}

// The whole cluster away for 3 s (the 10 s of the issue prove nothing more: the message
// timeout is off, so only the bounded backlog limits an outage): events wait, then drain.
TEST_F(KafkaOutput, TheWholeClusterDownHoldsTheBacklogThenDrains) {
  // librdkafka's reconnect backoff grows to 10 s by default: capped here to keep the test short.
  auto args = kafka_args();
  args.insert(args.end(), {"--kafka-option", "reconnect.backoff.max.ms=500"});
  Monitor monitor(args);
  const std::string marker = "kafka-outage-" + std::to_string(getpid());
  storm(marker, 50);
  ASSERT_TRUE(cluster_->command("down all"));
  ASSERT_TRUE(monitor.wait_for_stderr("every broker is down", 15s)) << monitor.stderr_text();
  // 10 s: as long as a cluster's rolling restart may leave no broker up.
  const auto until = std::chrono::steady_clock::now() + 10s;
  int during = 0;
  while (std::chrono::steady_clock::now() < until) {
    storm(marker, 20);
    during += 20;
  }
  ASSERT_TRUE(cluster_->command("up all"));
  ASSERT_TRUE(monitor.wait_for_stderr("takes events again", 20s)) << monitor.stderr_text();
  storm(marker, 50);
  ASSERT_EQ(monitor.stop(), 0) << monitor.stderr_text();
  EXPECT_GT(during, 100);
  expect_delivered_exactly_once_in_order(monitor);
}

// Stopped while the cluster is down: the stop is bounded (about 1 s for a write waiting for
// room, 5 s for what is in flight), and every event is either acknowledged or reported as
// not written.
TEST_F(KafkaOutput, AStopWhileTheClusterIsDownIsBoundedAndCountsWhatWasNotWritten) {
  Monitor monitor(kafka_args());
  const std::string marker = "kafka-stop-" + std::to_string(getpid());
  storm(marker, 30);
  ASSERT_TRUE(cluster_->command("down all"));
  ASSERT_TRUE(monitor.wait_for_stderr("every broker is down", 15s)) << monitor.stderr_text();
  storm(marker, 30);
  const auto before = std::chrono::steady_clock::now();
  monitor.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 10s);
  std::size_t written = 0;
  std::ifstream file(dir_ / "events.jsonl");
  for (std::string line; std::getline(file, line);) ++written;
  const std::string said = monitor.stderr_text();
  const auto number_before = [&](const std::string& text) -> std::size_t {
    const auto at = said.rfind(text);
    if (at == std::string::npos) return 0;
    const auto start = said.find_last_not_of("0123456789", at - 1) + 1;
    return std::stoul(said.substr(start, at - start));
  };
  const std::size_t acknowledged = number_before(" events acknowledged");
  const std::size_t not_written = number_before(" not written");
  EXPECT_GT(not_written, 0u) << said;
  EXPECT_EQ(acknowledged + not_written, written) << said;
  ASSERT_TRUE(cluster_->command("up all"));
  EXPECT_EQ(consume().size(), acknowledged);  // what was purged at stop never reached the cluster
}

// Bad --kafka input, a librdkafka setting it refuses, a missing module: one line, status 2.
// --replay of a missing file: the outputs open first, so no sensor is needed to see these.
TEST(KafkaCli, BadInputIsOneClearLineAndStatus2) {
  const std::string binary = procsentry_binary();
  const std::vector<std::string> kafka = {"--replay", "/nonexistent", "--kafka", "127.0.0.1:9", "--kafka-topic", "t"};
  const auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> args = kafka;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const fs::path elsewhere = fs::temp_directory_path() / ("kafka-cli." + std::to_string(getpid()));
  fs::create_directories(elsewhere);
  fs::copy_file(binary, elsewhere / "procsentry");  // no module beside it
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--kafka", "127.0.0.1:9"}, "--kafka: needs --kafka-topic TOPIC"},
      {{"--kafka-topic", "t"}, "--kafka-topic: only applies to --kafka"},
      {{"--kafka", "127.0.0.1:9", "--kafka-topic", "t", "--seccomp"}, "--seccomp: does not cover --kafka"},
      {with({"--kafka-option", "acks"}), "--kafka-option acks: expected KEY=VALUE"},
      {with({"--kafka-option", "no.such.property=1"}), "--kafka-option no.such.property: "},
      {with({"--kafka-option", "compression.codec=rot13"}), "--kafka-option compression.codec: "},
  };
  const auto expect_one_line = [](const Captured& c, const std::string& text) {
    EXPECT_EQ(WEXITSTATUS(c.status), 2) << c.err;
    EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
    EXPECT_NE(c.err.find(text), std::string::npos) << c.err;
  };
  for (const auto& [args, text] : cases) {
    std::vector<std::string> argv{binary};
    argv.insert(argv.end(), args.begin(), args.end());
    expect_one_line(capture(binary, argv, {}, 30s), text);
  }
  std::vector<std::string> argv{(elsewhere / "procsentry").string()};
  argv.insert(argv.end(), kafka.begin(), kafka.end());
  expect_one_line(capture(argv[0], argv, {}, 30s), "--kafka needs the module procsentry-kafka.so");
  fs::remove_all(elsewhere);
}

// The module is loaded only for --kafka: procsentry itself does not link librdkafka.
TEST(KafkaModule, ProcsentryDoesNotLinkLibrdkafka) {
  const Captured c = capture("readelf", {"readelf", "-d", procsentry_binary()}, {}, 30s);
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("NEEDED"), std::string::npos);
  EXPECT_EQ(c.out.find("rdkafka"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("libssl"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace procsentry::test
