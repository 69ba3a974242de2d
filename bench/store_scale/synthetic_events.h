// Synthetic but realistic events for store_scale_bench: a few thousand distinct images and
// command lines, Zipf-distributed, a dozen users, processes forked by long-lived parents (and
// some by their children, for trees), each exec'ing, sometimes failing an exec first, then
// exiting; times spread evenly over a few days up to `end_ns`. Events are filled as the
// pipeline fills them (seq, host, boot, user, lineage, parent image, --hash's sha256).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/event.h"

namespace procsentry::bench {

struct SyntheticOptions {
  std::uint64_t events = 10'000'000;
  std::int64_t end_ns = 0;                          // the last event's time
  std::int64_t span_ns = 3 * 86'400'000'000'000LL;  // from the first event to the last
  unsigned images = 4000;
  double zipf_s = 1.1;
  unsigned unique_argv_per_mille = 20;  // execs whose command line has a one-off argument (temp files)
  bool hash = true;                     // execs carry the image's sha256 (record --hash)
  std::uint64_t seed = 42;
};

// Zipf over ranks 0..n-1 (rank 0 the most frequent).
class Zipf {
 public:
  Zipf(std::size_t n, double s);
  std::size_t operator()(std::mt19937_64& random) const;

 private:
  std::vector<double> cdf_;
};

class SyntheticEvents {
 public:
  explicit SyntheticEvents(const SyntheticOptions& options);
  ~SyntheticEvents();
  // The next event, valid until the next call.
  const Event& next();
  std::uint64_t made() const { return made_; }

  // What the queries look for: a substring of one rare command line, one in many command
  // lines, the most executed image.
  static constexpr const char* kRareNeedle = "rare-needle-7f3a";
  static constexpr const char* kCommonNeedle = "-O2";
  const std::string& top_image() const;

 private:
  struct Process;
  struct Pools;
  void start_process();
  void fill_task(Event& e, const Process& p);

  SyntheticOptions options_;
  std::unique_ptr<Pools> pools_;
  std::mt19937_64 random_;
  std::vector<std::unique_ptr<Process>> running_;  // in flight; parents stay
  std::vector<std::unique_ptr<Process>> parents_;  // long-lived: shells, make, cron, sshd...
  std::unique_ptr<Process> finished_;              // the last exited: its event's texts live until next()
  Event event_;
  std::uint64_t made_ = 0;
  std::uint32_t next_pid_ = 3000;
  std::uint64_t unique_ = 0;
  std::uint64_t execs_ = 0;
};

}  // namespace procsentry::bench
