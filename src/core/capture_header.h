// A capture's header record (wire type PS_REC_CAPTURE): the first record of every --save-raw
// file and of each later append. It carries what turns the capture's boot-clock timestamps
// into the wall-clock times they were recorded at, and the boot id its process uids were made
// with, so that a replay prints what the live stream printed, on any machine, any day.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace procsentry {

struct CaptureHeader {
  ClockMapping clock;             // the recording boot's CLOCK_REALTIME - CLOCK_BOOTTIME
  std::string boot_id;            // the recording boot's id (empty where there is none)
  std::uint64_t uid_tick_ns = 0;  // the process uid scheme's tick
  std::int64_t began_ns = 0;      // when the capture began, ns since the epoch
};

// True when the record's header names PS_REC_CAPTURE (whatever the rest holds).
bool is_capture_record(std::span<const std::uint8_t> record);
std::string encode_capture_header(const CaptureHeader& header);
// Checks every field: a bad header is an error, never a silently wrong clock.
Result<CaptureHeader> decode_capture_header(std::span<const std::uint8_t> record);

}  // namespace procsentry
