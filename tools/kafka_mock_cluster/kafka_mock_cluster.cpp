// kafka-mock-cluster: librdkafka's mock cluster (the real Kafka protocol on local TCP ports)
// for --kafka's tests, benchmark and quick start. Prints `bootstrap=HOST:PORT,...` as its
// first line, then serves until SIGTERM/SIGINT or the end of stdin. Commands on stdin, each
// answered by one line `ok ...` (or `error ...`) once done:
//   down N | up N   take broker N (1..brokers) down or up (rd_kafka_mock_broker_set_down/up)
//   down all | up all
//   topic NAME PARTITIONS   create a topic
// Options: --brokers N (3), --topic NAME (repeatable, created at start), --partitions N (6).
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int usage(const char* why) {
  std::fprintf(stderr,
               "kafka-mock-cluster: %s\nusage: kafka-mock-cluster [--brokers N] [--topic NAME]... [--partitions N]\n",
               why);
  return 2;
}

bool set_brokers(rd_kafka_mock_cluster_t* cluster, int brokers, const std::string& which, bool down) {
  int first = 1, last = brokers;
  if (which != "all") {
    char* end = nullptr;
    const long n = std::strtol(which.c_str(), &end, 10);
    if (end == which.c_str() || *end != '\0' || n < 1 || n > brokers) return false;
    first = last = static_cast<int>(n);
  }
  for (int id = first; id <= last; ++id) {
    const rd_kafka_resp_err_t err =
        down ? rd_kafka_mock_broker_set_down(cluster, id) : rd_kafka_mock_broker_set_up(cluster, id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  }
  return true;
}

// One command line; the answer goes to stdout.
void run_command(rd_kafka_mock_cluster_t* cluster, int brokers, int partitions, const std::string& line) {
  std::istringstream in(line);
  std::string verb, arg;
  in >> verb >> arg;
  bool ok = false;
  if ((verb == "down" || verb == "up") && !arg.empty()) {
    ok = set_brokers(cluster, brokers, arg, verb == "down");
  } else if (verb == "topic" && !arg.empty()) {
    int n = partitions;
    in >> n;
    ok = rd_kafka_mock_topic_create(cluster, arg.c_str(), n, brokers < 3 ? brokers : 3) == RD_KAFKA_RESP_ERR_NO_ERROR;
  } else if (verb.empty()) {
    return;
  }
  std::printf("%s %s\n", ok ? "ok" : "error", line.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3, partitions = 6;
  std::vector<std::string> topics;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + a).c_str());
    if (a == "--brokers") {
      brokers = std::atoi(argv[++i]);
    } else if (a == "--partitions") {
      partitions = std::atoi(argv[++i]);
    } else if (a == "--topic") {
      topics.emplace_back(argv[++i]);
    } else {
      return usage(("unknown option " + a).c_str());
    }
  }
  if (brokers < 1 || brokers > 16 || partitions < 1 || partitions > 1000) return usage("out of range");

  // The mock cluster runs on the threads of a librdkafka handle of our own.
  char why[512] = {};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "0", why, sizeof(why));  // brokers going down is the point: no noise
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
  if (handle == nullptr) {
    std::fprintf(stderr, "kafka-mock-cluster: %s\n", why);
    return 2;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(handle, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "kafka-mock-cluster: cannot start the mock cluster\n");
    rd_kafka_destroy(handle);
    return 2;
  }
  for (const auto& topic : topics) {
    if (rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, brokers < 3 ? brokers : 3) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "kafka-mock-cluster: cannot create topic %s\n", topic.c_str());
      return 2;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  // Started in the background of an interactive shell, reading the terminal would stop us
  // (SIGTTIN): ignored, the read fails and we serve without commands.
  signal(SIGTTIN, SIG_IGN);
  std::printf("bootstrap=%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);

  std::string pending;
  bool stdin_open = true;
  while (!g_stop) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (!stdin_open) {
      pause();  // until a signal
      continue;
    }
    if (poll(&p, 1, 200) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n <= 0) {
      stdin_open = false;  // no commands: serve until a signal
      continue;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      run_command(cluster, brokers, partitions, pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(handle);
  return 0;
}
