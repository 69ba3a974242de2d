// `--output FILE`: lines (JSON Lines) into a private file (0600) rotated by size: FILE is
// renamed FILE.1 (FILE.1 to FILE.2, ...) once the next line would take it past the limit,
// and only the newest `keep_files` rotated files are kept. A write error (a full disk) costs
// only the events that could not be written, is reported once, and writing resumes by itself.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "sinks/writers/writer.h"

namespace procsentry {

struct RotationOptions {
  std::int64_t max_bytes = 100ll << 20;  // 0: never rotate
  int keep_files = 5;
};

class RotatingFileWriter final : public Writer {
 public:
  static Result<std::unique_ptr<RotatingFileWriter>> open(const std::string& path, RotationOptions rotation,
                                                          std::FILE* diagnostics);
  ~RotatingFileWriter() override;
  std::string name() const override { return "the output file " + path_; }
  void write(const FormattedBatch& events, std::stop_token stop) override;
  std::uint64_t not_written() const override { return not_written_; }

 private:
  RotatingFileWriter(std::string path, RotationOptions rotation, std::FILE* diagnostics)
      : path_(std::move(path)), rotation_(rotation), diagnostics_(diagnostics) {}
  Result<bool> open_current();
  Result<bool> rotate();
  void write_pending();
  void report_failure(const std::string& why, std::size_t lost);  // one line per outage

  const std::string path_;
  const RotationOptions rotation_;
  std::FILE* diagnostics_;
  int fd_ = -1;
  std::int64_t size_ = 0;               // of the current file
  std::string pending_;                 // whole lines not yet written
  std::vector<std::size_t> line_ends_;  // offsets in pending_ where each line ends
  bool failing_ = false;
  std::uint64_t not_written_ = 0;
  std::uint64_t not_written_at_outage_ = 0;
};

}  // namespace procsentry
