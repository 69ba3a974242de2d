// Events per second through the Kafka writer (sinks/writers/kafka_writer.h: the module,
// librdkafka, idempotent, acks=all, zstd) to build/kafka-mock-cluster, with this process and
// every librdkafka thread pinned to one core (the mock cluster runs on another). Events are
// JSON lines of the size procsentry writes for an exec (about 600 bytes), keyed by 1,000
// processes. Counts only what the cluster acknowledged.
//   kafka_writer_bench [EVENTS] [CPU]
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/event.h"
#include "sinks/formats/formatter.h"
#include "sinks/writers/kafka_writer.h"

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);  // every thread's, librdkafka's included
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A synthetic exec event's JSON line (what the writer sees: bytes and a key).
std::string event_line(long i) {
  char line[1024];
  const int n = std::snprintf(
      line, sizeof(line),
      R"({"time":"2026-11-26T13:00:00.%09ldZ","event":"exec","pid":%ld,"ppid":1234,"tid":%ld,"uid":1000,"gid":1000,)"
      R"("user":"builder","comm":"cc1plus","image":"/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus","argv":["/usr/lib/gcc/)"
      R"(x86_64-linux-gnu/12/cc1plus","-quiet","-I","/work/src","-D_GNU_SOURCE","src/sinks/writers/kafka_writer.cpp",)"
      R"("-o","/tmp/ccXYZ.s"],"cwd":"/work/wt/kafka/build","process_uid":"9748ea71-%ld-4859338","parent_uid":)"
      R"("9748ea71-1234-4859000","cgroup":"/user.slice/user-1000.slice/session-3.scope","exit_code":null})"
      "\n",
      i % 1'000'000'000, 10000 + i % 1000, 10000 + i % 1000, 10000 + i % 1000);
  return std::string(line, static_cast<std::size_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
  const long events = argc > 1 ? std::atol(argv[1]) : 200'000;
  const int cpu = argc > 2 ? std::atoi(argv[2]) : 0;
  int out[2];
  if (pipe(out) != 0) return 1;
  const pid_t cluster = fork();
  if (cluster == 0) {
    cpu_set_t other;
    CPU_ZERO(&other);
    CPU_SET(cpu == 0 ? 1u : 0u, &other);
    sched_setaffinity(0, sizeof(other), &other);
    dup2(out[1], STDOUT_FILENO);
    execl(KAFKA_MOCK_CLUSTER, KAFKA_MOCK_CLUSTER, "--topic", "bench", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  char first[4096] = {};
  FILE* from = fdopen(out[0], "r");
  if (from == nullptr || std::fgets(first, sizeof(first), from) == nullptr || std::strncmp(first, "bootstrap=", 10)) {
    std::fprintf(stderr, "kafka_writer_bench: kafka-mock-cluster did not start\n");
    return 1;
  }
  procsentry::KafkaTarget target{std::string(first + 10, std::strcspn(first + 10, "\n")), "bench", {}};

  // Pinned before librdkafka starts its threads: they inherit the affinity.
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(static_cast<std::size_t>(cpu), &one);
  sched_setaffinity(0, sizeof(one), &one);
  auto writer = procsentry::KafkaWriter::open(target, "benchhost", KAFKA_MODULE_DIR, stderr);
  if (!writer) {
    std::fprintf(stderr, "kafka_writer_bench: %s\n", writer.error().message.c_str());
    return 1;
  }
  // Batches as the fan-out hands them over (up to 4,096 events), formatted beforehand: only
  // the writer is measured.
  std::vector<procsentry::FormattedBatch> batches;
  for (long i = 0; i < events;) {
    procsentry::FormattedBatch& b = batches.emplace_back();
    for (int k = 0; k < 4096 && i < events; ++k, ++i) {
      b.bytes += event_line(i);
      b.ends.push_back(b.bytes.size());
      b.keys += "9748ea71-" + std::to_string(10000 + i % 1000) + "-4859338";
      b.key_ends.push_back(b.keys.size());
    }
  }
  const double cpu_before = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  std::stop_source running;
  for (const auto& b : batches) (*writer)->write(b, running.get_token());
  running.request_stop();
  (*writer)->tick(running.get_token());  // the final flush: everything acknowledged or counted
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double used = cpu_seconds() - cpu_before;
  const auto failed = (*writer)->not_written();
  writer->reset();
  kill(cluster, SIGTERM);
  waitpid(cluster, nullptr, 0);
  std::printf(
      "kafka writer on cpu %d: %ld events (%zu bytes each) in %.2f s: %.0f events/s acknowledged, %.2f us CPU "
      "per event (this process, librdkafka's threads included), %llu not written\n",
      cpu, events, event_line(0).size(), wall, static_cast<double>(events - static_cast<long>(failed)) / wall,
      used * 1e6 / static_cast<double>(events), static_cast<unsigned long long>(failed));
  return failed == 0 ? 0 : 1;
}
