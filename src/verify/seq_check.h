// procsentry verify's judgement, apart from where the lines come from: fed one JSON object per
// event (JSON Lines, or the store's json column), it tells per boot which seqs are missing,
// what the kernel reported lost and whether heartbeats came on time. Pure: no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace procsentry {

struct SeqRange {
  std::uint64_t first = 0, last = 0;
  friend bool operator==(const SeqRange&, const SeqRange&) = default;
};

struct LateHeartbeat {
  std::string time;  // as the heartbeat gave it
  double gap_s = 0;  // since the previous heartbeat
  std::uint64_t interval_s = 0;
};

// One run of procsentry on one boot: its seqs count from 1.
struct RunReport {
  std::string boot;  // boot_id, "unknown" when the events carry none
  std::uint64_t first = 0, last = 0;
  std::uint64_t events = 0;      // distinct seqs seen
  std::uint64_t duplicates = 0;  // lines whose seq was already seen
  std::vector<SeqRange> missing;
  std::map<std::string, std::uint64_t> kernel_lost;  // by cause
  std::uint64_t heartbeats = 0;
  std::vector<LateHeartbeat> late;
  bool complete() const;
};

class SeqCheck {
 public:
  // One event's JSON object; `where` names it in an error ("line 12"). An error is bad input.
  Result<Ok> add(std::string_view object, std::string_view where);
  // The runs in the order they began; call once, after the last add.
  std::vector<RunReport> finish();

 private:
  struct Run {
    RunReport report;
    std::vector<std::uint64_t> seqs;
    std::string first_line;  // the seq-1 line: the same again is a duplicate, another a restart
    std::int64_t last_heartbeat_ns = -1;
  };
  Run& run_for(const std::string& boot, std::uint64_t seq, std::string_view object);

  std::vector<Run> runs_;
  std::map<std::string, std::size_t> current_;  // boot -> its latest run in runs_
};

// The report's lines, as procsentry verify prints them ("boot B: seq N..M missing" each).
std::string describe(const std::vector<RunReport>& runs);

}  // namespace procsentry
