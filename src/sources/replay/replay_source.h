// Raw wire records from a file (a capture, or records from another machine or platform),
// delivered like a live sensor's: the whole decode-and-output path runs without a kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "sources/record_handler.h"

namespace procsentry {

class ReplaySource {
 public:
  static Result<ReplaySource> open(const std::string& path);
  // Delivers every record; a truncated or impossible size at the end is an error that says
  // where, after the whole records before it were delivered.
  Result<std::size_t> deliver_all(RecordHandler& handler);

 private:
  explicit ReplaySource(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::vector<std::uint8_t> bytes_;
};

}  // namespace procsentry
