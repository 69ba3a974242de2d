// Raw wire records from a file (a capture, or records from another machine or platform),
// delivered like a live sensor's: the whole decode-and-output path runs without a kernel.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "sources/source.h"

namespace procsentry {

class ReplaySource final : public Source {
 public:
  static Result<std::unique_ptr<ReplaySource>> open(const std::string& path);
  // The first poll delivers every record, then the source is done (it never waits). A
  // truncated or impossible size at the end is an error that says where, after the whole
  // records before it were delivered.
  Result<int> poll(int timeout_ms, RecordHandler& handler) override;
  void cancel() override { done_.store(true); }
  bool done() const override { return done_.load(); }

 private:
  explicit ReplaySource(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::vector<std::uint8_t> bytes_;
  std::atomic<bool> done_{false};
};

}  // namespace procsentry
