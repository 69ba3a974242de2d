// Where `procsentry query` writes its rows while SQLite steps through them: a bounded buffer,
// never the whole result (a day of a busy server is gigabytes of JSON).
#pragma once

#include <chrono>
#include <string>

namespace procsentry {

class QueryOutput {
 public:
  // To `fd` (not owned): written past 64 KiB, after every row on a terminal, and whenever a row
  // has waited kMaxDelay (see pending_too_long), so a slow scan still shows what it found.
  explicit QueryOutput(int fd);
  // Appended to `text` at each flush: for tests and callers that want a small result in memory.
  explicit QueryOutput(std::string& text);

  std::string& buffer() { return buffer_; }
  void end_row();
  // True when buffered rows have waited longer than kMaxDelay: the query's progress handler
  // flushes them during a long scan that finds nothing more.
  bool pending_too_long() const;
  void flush();
  bool failed() const { return failed_; }
  int error() const { return error_; }  // errno of the failed write

  static constexpr std::size_t kBatchBytes = 64 * 1024;
  static constexpr std::chrono::milliseconds kMaxDelay{100};

 private:
  int fd_ = -1;
  std::string* text_ = nullptr;
  bool each_row_ = false;
  bool failed_ = false;
  int error_ = 0;
  std::string buffer_;
  std::chrono::steady_clock::time_point first_pending_{};
};

}  // namespace procsentry
