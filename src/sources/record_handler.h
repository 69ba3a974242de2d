// What a source hands each raw wire record to. Sources know nothing of decoding or sinks.
#pragma once

#include <cstdint>
#include <span>

namespace procsentry {

class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  // `record` is valid only during the call (it may point into a kernel ring buffer).
  virtual void on_record(std::span<const std::uint8_t> record) = 0;
  // Called after each batch the source delivered.
  virtual void on_batch_end() = 0;
};

}  // namespace procsentry
