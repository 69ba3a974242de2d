// Runs a program as a user would (procsentry query/report), its stdout read through a pipe:
// wall time, time to its first byte, peak RSS (wait4), bytes and lines it printed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace procsentry::bench {

struct TimedRun {
  double wall_ms = 0;
  double first_byte_ms = -1;  // -1: printed nothing
  long peak_rss_kib = 0;
  std::uint64_t bytes = 0, lines = 0;
  int status = -1;    // exit status (128 + signal if killed)
  std::string error;  // its stderr's first line
  std::string head;   // the start of its stdout (a count, a report's first line)
  bool timed_out = false;
};

// Killed (status 128 + SIGKILL, `timed_out`) after `timeout_s` seconds.
TimedRun run_timed(const std::vector<std::string>& argv, double timeout_s);

// Drops the page cache of a SQLite database and its -wal and -shm files (posix_fadvise
// DONTNEED after fdatasync), so that the next run reads them from disk.
void drop_page_cache(const std::string& db_path);

}  // namespace procsentry::bench
