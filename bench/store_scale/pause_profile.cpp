#include "store_scale/pause_profile.h"

#include <fmt/core.h>
#include <time.h>

#include <algorithm>
#include <fstream>
#include <string_view>

namespace procsentry::bench {
namespace {

constexpr std::size_t kSlowest = 10;
constexpr double kBucketsMs[] = {10, 20, 50, 100, 200, 500, 1000};  // upper bounds; the last bucket is open
constexpr const char* kStepNames[] = {
    "begin",       "select",         "event deletes",    "oldest",        "re-point",    "strings",
    "FTS deletes", "string deletes", "retention COMMIT", "writer COMMIT", "writer rows", "other"};
static_assert(std::size(kStepNames) == PauseProfile::kSteps);

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Time this thread waited on a run queue for a core (schedstat's second field), in ms.
double thread_run_queue_ms() {
  std::ifstream schedstat("/proc/thread-self/schedstat");
  double on_cpu_ns = 0, waiting_ns = 0;
  schedstat >> on_cpu_ns >> waiting_ns;
  return waiting_ns / 1e6;
}

// Bytes this thread made the block layer read (the page cache's misses).
std::int64_t thread_read_bytes() {
  std::ifstream io("/proc/thread-self/io");
  for (std::string line; std::getline(io, line);) {
    if (line.starts_with("read_bytes:")) return std::atoll(line.c_str() + 11);
  }
  return 0;
}

PauseProfile::Step classify(std::string_view sql, bool in_retention) {
  using P = PauseProfile;
  auto has = [&](std::string_view prefix) { return sql.starts_with(prefix); };
  if (has("BEGIN")) return P::kBegin;
  if (has("COMMIT")) return in_retention ? P::kRetentionCommit : P::kWriterCommit;
  if (has("SELECT id, first_id")) return P::kSelect;
  if (has("DELETE FROM event_rows")) return P::kDelete;
  if (has("SELECT min(id) FROM event_rows WHERE first_id")) return P::kOldest;
  if (has("UPDATE event_rows")) return P::kRepoint;
  if (has("SELECT id, CASE WHEN plain")) return P::kStrings;
  if (has("INSERT OR ROLLBACK INTO strings_fts (strings_fts")) return P::kFtsDelete;
  if (has("DELETE FROM strings")) return P::kStringDrop;
  if (has("INSERT") || has("UPDATE OR ROLLBACK strings") || has("SELECT id FROM strings") ||
      has("SELECT max(id) FROM event_rows")) {
    return P::kWriterRows;
  }
  return P::kOther;
}

}  // namespace

PauseProfile::PauseProfile(EventStore& store) : store_(&store) {
  sqlite3_trace_v2(store_->handle(), SQLITE_TRACE_PROFILE, &PauseProfile::on_trace, this);
}

PauseProfile::~PauseProfile() { sqlite3_trace_v2(store_->handle(), 0, nullptr, nullptr); }

int PauseProfile::on_trace(unsigned type, void* self, void* stmt, void* ns) {
  if (type == SQLITE_TRACE_PROFILE) {
    static_cast<PauseProfile*>(self)->statement(static_cast<sqlite3_stmt*>(stmt),
                                                static_cast<double>(*static_cast<sqlite3_int64*>(ns)) / 1e6);
  }
  return 0;
}

void PauseProfile::statement(sqlite3_stmt* stmt, double ms) {
  const char* sql = sqlite3_sql(stmt);
  const Step step = classify(sql != nullptr ? sql : "", in_retention_);
  if (step == kSelect) in_retention_ = true;
  if (step == kRetentionCommit) in_retention_ = false;
  current_.ms[step] += ms;
  ++current_.runs[step];
  if (ms > current_.longest_ms) {
    current_.longest_ms = ms;
    current_.longest = step;
  }
}

void PauseProfile::start_batch() {
  current_ = Batch{};
  cpu_start_ms_ = thread_cpu_ms();
  run_queue_start_ms_ = thread_run_queue_ms();
  read_start_ = thread_read_bytes();
  checkpoints_start_ = store_->background_checkpoints();
  writer_checkpoints_start_ = store_->writer_checkpoints();
}

void PauseProfile::end_batch(double wall_ms) {
  current_.wall_ms = wall_ms;
  current_.cpu_ms = thread_cpu_ms() - cpu_start_ms_;
  current_.run_queue_ms = thread_run_queue_ms() - run_queue_start_ms_;
  current_.read_mib = static_cast<double>(thread_read_bytes() - read_start_) / 1048576.0;
  current_.checkpoints = store_->background_checkpoints() - checkpoints_start_;
  current_.writer_checkpoints = store_->writer_checkpoints() - writer_checkpoints_start_;
  current_.wal_pages = store_->wal_pages();
  ++batches_;
  std::size_t bucket = 0;
  while (bucket < std::size(kBucketsMs) && wall_ms >= kBucketsMs[bucket]) ++bucket;
  ++histogram_[bucket];
  total_.wall_ms += current_.wall_ms;
  total_.cpu_ms += current_.cpu_ms;
  total_.run_queue_ms += current_.run_queue_ms;
  total_.read_mib += current_.read_mib;
  total_.checkpoints += current_.checkpoints;
  total_.writer_checkpoints += current_.writer_checkpoints;
  total_.wal_pages = std::max(total_.wal_pages, current_.wal_pages);
  for (std::size_t s = 0; s < kSteps; ++s) {
    total_.ms[s] += current_.ms[s];
    total_.runs[s] += current_.runs[s];
  }
  if (current_.longest_ms > total_.longest_ms) {
    total_.longest_ms = current_.longest_ms;
    total_.longest = current_.longest;
  }
  auto by_wall = [](const Batch& a, const Batch& b) { return a.wall_ms > b.wall_ms; };
  if (slowest_.size() < kSlowest || wall_ms > slowest_.back().wall_ms) {
    slowest_.insert(std::upper_bound(slowest_.begin(), slowest_.end(), current_, by_wall), current_);
    if (slowest_.size() > kSlowest) slowest_.pop_back();
  }
}

namespace {

// "event deletes 12.3 ms (250), COMMIT 4.0 ms (1)": the steps that took any time.
template <typename Batch>
std::string steps(const Batch& b) {
  std::string out;
  for (std::size_t s = 0; s < PauseProfile::kSteps; ++s) {
    if (b.runs[s] == 0) continue;
    out += fmt::format("{}{} {:.1f} ms ({})", out.empty() ? "" : ", ", kStepNames[s], b.ms[s], b.runs[s]);
  }
  return out;
}

template <typename Batch>
double in_sql(const Batch& b) {
  double sum = 0;
  for (double ms : b.ms) sum += ms;
  return sum;
}

}  // namespace

std::string PauseProfile::report() const {
  std::string out = fmt::format(
      "### The {} slowest batches: SQLite's time per step (statements run)\n\n"
      "| wall | thread CPU | waiting for a core | read from disk | outside SQL | longest statement | checkpoints: "
      "thread, writer | WAL pages | steps |\n"
      "|---|---|---|---|---|---|---|---|---|\n",
      slowest_.size());
  for (const Batch& b : slowest_) {
    out += fmt::format(
        "| {:.1f} ms | {:.1f} ms | {:.1f} ms | {:.1f} MiB | {:.1f} ms | {} {:.1f} ms | {}, {} | {} | {} |\n", b.wall_ms,
        b.cpu_ms, b.run_queue_ms, b.read_mib, b.wall_ms - in_sql(b), kStepNames[b.longest], b.longest_ms, b.checkpoints,
        b.writer_checkpoints, b.wal_pages, steps(b));
  }
  out += fmt::format(
      "\n### All {} batches: {:.1f} s wall, {:.1f} s thread CPU, {:.1f} s waiting for a core, {:.0f} MiB read; {:.1f} "
      "s outside SQL; checkpoints: "
      "{} by the thread, {} by the writer; the WAL at most {} pages\n\n{}\n\n",
      batches_, total_.wall_ms / 1e3, total_.cpu_ms / 1e3, total_.run_queue_ms / 1e3, total_.read_mib,
      (total_.wall_ms - in_sql(total_)) / 1e3, total_.checkpoints, total_.writer_checkpoints, total_.wal_pages,
      steps(total_));
  out += "| batch wall | batches |\n|---|---|\n";
  for (std::size_t i = 0; i < histogram_.size(); ++i) {
    const std::string label = i == 0 ? fmt::format("< {:.0f} ms", kBucketsMs[0])
                              : i == std::size(kBucketsMs)
                                  ? fmt::format(">= {:.0f} ms", kBucketsMs[i - 1])
                                  : fmt::format("{:.0f}-{:.0f} ms", kBucketsMs[i - 1], kBucketsMs[i]);
    out += fmt::format("| {} | {} |\n", label, histogram_[i]);
  }
  return out + "\n";
}

}  // namespace procsentry::bench
