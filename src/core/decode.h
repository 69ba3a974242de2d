// Wire bytes -> Event. Trusts nothing: every size, offset, length, flag and count is checked
// against the record before use, and a bad record is a precise error, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/clock.h"
#include "core/event.h"
#include "core/result.h"

namespace procsentry {

enum class DecodeErrorKind : std::uint8_t {
  none,
  too_short,  // shorter than its header or body
  bad_magic,
  bad_version,
  bad_type,       // unknown or unsupported record type
  size_mismatch,  // header.size differs from the bytes given
  bad_clock,
  field_out_of_bounds,  // a string descriptor points outside the record or into the body
  bad_field_flags,      // unknown flag bits or flags that contradict the field
  bad_field_length,     // length vs original_length vs presence inconsistent, odd UTF-16 length
  bad_argv,             // argv items vs argc, missing terminator
  bad_value,            // a scalar out of its domain (errno <= 0, lost count 0, unknown cause)
};
std::string_view to_string(DecodeErrorKind kind);

class Decoder {
 public:
  explicit Decoder(ClockMapping clock) : clock_(clock) {}

  // The returned Event is owned by the decoder and valid until the next decode() and while
  // `record` lives (text fields are views into it).
  Result<Event*> decode(std::span<const std::uint8_t> record);
  DecodeErrorKind last_error_kind() const { return last_error_; }
  // A capture header names the clock of the records after it (core/capture_header.h).
  void use_clock(ClockMapping clock) { clock_ = clock; }

 private:
  Event event_;
  ClockMapping clock_;
  DecodeErrorKind last_error_ = DecodeErrorKind::none;
};

}  // namespace procsentry
