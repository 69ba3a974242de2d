// --metrics: the exposition's text, the health verdict, the address checks, and the one
// place the event thread and the HTTP threads meet (MetricsBoard), under ThreadSanitizer in
// the tsan preset: a producer publishes while scrapers read, through the board and over HTTP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics_server.h"
#include "metrics/prometheus_text.h"

namespace procsentry {
namespace {

std::uint64_t sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(text.substr(at + series.size() + 2));
}

MetricsSnapshot example() {
  MetricsSnapshot s;
  s.sensor_attached = true;
  s.events_by_kind[static_cast<std::size_t>(EventKind::exec)] = 7;
  s.kernel_lost_by_cause[1] = 2;
  s.outputs.push_back(OutputMetrics{"syslog tcp://127.0.0.1:514", 5, 1, 2, 3, false, true});
  s.rules.push_back(RuleMetrics{"odd \"name\" \\ here\n", true, 4});
  s.start_time_seconds = 1700000000.5;
  return s;
}

TEST(PrometheusText, EveryFamilyHasHelpAndTypeAndCountersEndInTotal) {
  MetricsSnapshot s = example();
  s.hash_cache_hits = 1;
  s.hash_cache_misses = 2;
  s.redacted_events = 9;
  s.ring_used_bytes = 0;
  s.ring_size_bytes = 4096;
  const std::string text = render_prometheus(s, "0.1.0");
  std::size_t families = 0;
  for (std::size_t at = text.find("# TYPE "); at != std::string::npos; at = text.find("# TYPE ", at + 1)) {
    ++families;
    const std::string line = text.substr(at, text.find('\n', at) - at);
    const std::string name = line.substr(7, line.find(' ', 7) - 7);
    EXPECT_EQ(name.rfind("procsentry_", 0), 0u) << name;
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    if (line.ends_with(" counter")) {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
  }
  EXPECT_GE(families, 18u);
  EXPECT_EQ(sample(text, "procsentry_events_total{kind=\"exec\"}"), 7u);
  EXPECT_EQ(sample(text, "procsentry_kernel_lost_total{cause=\"ringbuf_full\"}"), 2u);
  EXPECT_EQ(sample(text, "procsentry_output_dropped_total{output=\"syslog tcp://127.0.0.1:514\"}"), 1u);
  EXPECT_EQ(sample(text, "procsentry_output_failed_total{output=\"syslog tcp://127.0.0.1:514\"}"), 2u);
  EXPECT_EQ(sample(text, "procsentry_output_backlog_events{output=\"syslog tcp://127.0.0.1:514\"}"), 3u);
  EXPECT_EQ(sample(text, "procsentry_build_info{version=\"0.1.0\"}"), 1u);
  EXPECT_EQ(sample(text, "procsentry_redacted_events_total"), 9u);
  EXPECT_EQ(sample(text, "procsentry_hash_cache_misses_total"), 2u);
  // A rule's name is the user's: quotes, backslashes and newlines are escaped.
  EXPECT_EQ(sample(text, R"(procsentry_rule_matches_total{rule="odd \"name\" \\ here\n",list="include"})"), 4u);
  EXPECT_NE(text.find("procsentry_start_time_seconds 1700000000.500\n"), std::string::npos);
}

TEST(PrometheusText, WhatIsNotMeasuredIsNotShown) {
  const std::string text = render_prometheus(MetricsSnapshot{}, "0.1.0");
  EXPECT_EQ(text.find("hash_cache"), std::string::npos);
  EXPECT_EQ(text.find("ring_buffer"), std::string::npos);
  EXPECT_EQ(text.find("redacted"), std::string::npos);
}

TEST(Health, OkOnlyWhileAttachedAndEveryOutputIsUp) {
  MetricsSnapshot s = example();
  EXPECT_TRUE(health_of(s).ok);
  EXPECT_EQ(health_of(s).reason, "ok");
  s.outputs[0].reachable = false;
  EXPECT_FALSE(health_of(s).ok);
  EXPECT_EQ(health_of(s).reason, "output syslog tcp://127.0.0.1:514: disconnected");
  s.outputs[0].reachable = true;
  s.outputs[0].dead = true;
  EXPECT_FALSE(health_of(s).ok);
  s.outputs[0].dead = false;
  s.sensor_attached = false;
  EXPECT_EQ(health_of(s).reason, "sensor not attached");
}

TEST(MetricsServer, RefusesABadAddressOrATakenPortInOneLine) {
  MetricsBoard board;
  for (const char* bad : {"9464", "localhost", ":9464", "127.0.0.1:99999", "127.0.0.1:x", "::1:9464"}) {
    auto server = MetricsServer::bind(bad, board, "0");
    ASSERT_FALSE(server) << bad;
    EXPECT_NE(server.error().message.find("expected HOST:PORT"), std::string::npos) << server.error().message;
  }
  // A port another socket listens on.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  auto server = MetricsServer::bind(taken, board, "0");
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().message, "--metrics: cannot listen on " + taken + ": Address already in use");
  close(fd);
}

// The producer publishes ever larger counters (and a changing number of outputs) while
// readers render the board: each reader must see the counter never go back, and TSan no race.
TEST(MetricsBoard, ScrapesWhileTheEventThreadPublishes) {
  MetricsBoard board;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> published{0};
  std::thread producer([&] {
    MetricsSnapshot next;  // publish() hands back the previous one: every field is set again
    for (std::uint64_t i = 1; !done; ++i) {
      next.sensor_attached = true;
      next.events_by_kind[static_cast<std::size_t>(EventKind::exec)] = i;
      next.outputs.assign(i % 3, OutputMetrics{"out", i, 0, 0, i % 7, false, i % 5 != 0});
      board.publish(next);
      published = i;
    }
  });
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 3; ++t) {
    scrapers.emplace_back([&] {
      std::uint64_t last = 0;
      for (int i = 0; i < 5'000; ++i) {
        const MetricsSnapshot s = board.read();
        const std::string text = render_prometheus(s, "0");
        (void)health_of(s);
        const std::uint64_t now = sample(text, "procsentry_events_total{kind=\"exec\"}");
        EXPECT_GE(now, last);
        last = now;
      }
    });
  }
  for (auto& t : scrapers) t.join();
  done = true;
  producer.join();
  EXPECT_GT(published.load(), 1u);
}

// The same over HTTP, through the real server and its threads.
TEST(MetricsServer, ServesWhileTheEventThreadPublishes) {
  MetricsBoard board;
  auto server = MetricsServer::bind("127.0.0.1:0", board, "1.2.3");
  ASSERT_TRUE(server) << server.error().message;
  (*server)->start();
  const std::string url = (*server)->url();
  std::atomic<bool> done{false};
  std::thread producer([&] {
    MetricsSnapshot next;
    for (std::uint64_t i = 1; !done; ++i) {
      next.sensor_attached = true;
      next.events_by_kind[static_cast<std::size_t>(EventKind::exec)] = i;
      next.outputs.assign(1, OutputMetrics{"out", i, 0, 0, 0, false, i % 2 == 0});
      board.publish(next);
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 2; ++t) {
    scrapers.emplace_back([&] {
      httplib::Client client(url);
      std::uint64_t last = 0;
      for (int i = 0; i < 100; ++i) {
        auto metrics = client.Get("/metrics");
        ASSERT_TRUE(metrics);
        ASSERT_EQ(metrics->status, 200);
        EXPECT_NE(metrics->body.find("procsentry_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
        const std::uint64_t now = sample(metrics->body, "procsentry_events_total{kind=\"exec\"}");
        EXPECT_GE(now, last);
        last = now;
        auto health = client.Get("/healthz");
        ASSERT_TRUE(health);
        EXPECT_TRUE(health->status == 200 || health->status == 503) << health->status;
        EXPECT_EQ(health->body, health->status == 200 ? "ok\n" : "output out: disconnected\n");
      }
    });
  }
  for (auto& t : scrapers) t.join();
  done = true;
  producer.join();
  (*server)->stop();
}

}  // namespace
}  // namespace procsentry
