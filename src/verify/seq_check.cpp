#include "verify/seq_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace procsentry {
namespace {

using Json = nlohmann::json;

// A value by its dotted path, nested ({"event":{"sequence":1}}) or flat ({"event.sequence":1}).
const Json* find_path(const Json& object, std::string_view path) {
  if (auto flat = object.find(std::string(path)); flat != object.end()) return &*flat;
  const Json* at = &object;
  for (std::size_t begin = 0; begin <= path.size();) {
    std::size_t end = path.find('.', begin);
    if (end == std::string_view::npos) end = path.size();
    if (!at->is_object()) return nullptr;
    auto next = at->find(std::string(path.substr(begin, end - begin)));
    if (next == at->end()) return nullptr;
    at = &*next;
    begin = end + 1;
  }
  return at;
}

// Native `seq`; ECS `event.sequence`; OCSF `metadata.sequence`.
const Json* find_seq(const Json& object) {
  for (std::string_view path : {"seq", "event.sequence", "metadata.sequence"}) {
    if (const Json* v = find_path(object, path)) return v;
  }
  return nullptr;
}

std::string find_boot(const Json& object) {
  for (std::string_view path : {"boot_id", "host.boot.id", "procsentry.boot_id", "unmapped.boot_id"}) {
    if (const Json* v = find_path(object, path); v != nullptr && v->is_string()) return v->get<std::string>();
  }
  return "unknown";
}

// Our times: RFC 3339 UTC with nanoseconds ("2026-11-24T12:04:01.123456789Z"); -1 if not.
std::int64_t epoch_ns(const std::string& text) {
  std::tm tm{};
  int fraction_at = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &fraction_at) != 6) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t ns = 0, scale = 1'000'000'000;
  std::size_t at = static_cast<std::size_t>(fraction_at);
  if (at < text.size() && text[at] == '.') {
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
      scale /= 10;
      ns += (text[at] - '0') * scale;
    }
  }
  if (at + 1 != text.size() || text[at] != 'Z') return -1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000 + ns;
}

std::vector<SeqRange> gaps(std::vector<std::uint64_t>& seqs) {
  std::sort(seqs.begin(), seqs.end());
  std::vector<SeqRange> missing;
  std::uint64_t expected = 1;  // every run counts from 1
  for (std::uint64_t seq : seqs) {
    if (seq > expected) missing.push_back({expected, seq - 1});
    expected = std::max(expected, seq + 1);
  }
  return missing;
}

}  // namespace

bool RunReport::complete() const { return missing.empty() && kernel_lost.empty() && late.empty(); }

SeqCheck::Run& SeqCheck::run_for(const std::string& boot, std::uint64_t seq, std::string_view object) {
  auto at = current_.find(boot);
  // seq 1 again with other content: procsentry started again on this boot.
  const bool restart = at != current_.end() && seq == 1 && !runs_[at->second].first_line.empty() &&
                       runs_[at->second].first_line != object;
  if (at == current_.end() || restart) {
    runs_.emplace_back();
    runs_.back().report.boot = boot;
    current_[boot] = runs_.size() - 1;
    return runs_.back();
  }
  return runs_[at->second];
}

Result<Ok> SeqCheck::add(std::string_view object, std::string_view where) {
  Json event = Json::parse(object, nullptr, false);
  if (event.is_discarded() || !event.is_object()) return Error{fmt::format("{}: not a JSON object", where)};
  const Json* seq_value = find_seq(event);
  if (seq_value == nullptr || !seq_value->is_number_unsigned() || seq_value->get<std::uint64_t>() == 0) {
    return Error{
        fmt::format("{}: no seq (an event written before procsentry numbered its events, or not ours)", where)};
  }
  const std::uint64_t seq = seq_value->get<std::uint64_t>();
  Run& run = run_for(find_boot(event), seq, object);
  if (seq == 1 && run.first_line.empty()) run.first_line = std::string(object);
  run.seqs.push_back(seq);
  const auto kind = event.value("event", Json()).is_string() ? event.at("event").get<std::string>() : std::string();
  if (kind == "lost") {
    const std::string cause = event.value("cause", std::string("unknown"));
    run.report.kernel_lost[cause] += event.value("count", std::uint64_t{0});
  } else if (kind == "heartbeat") {
    run.report.heartbeats++;
    const std::string time = event.value("time", std::string());
    const std::int64_t ns = epoch_ns(time);
    if (ns < 0) return Error{fmt::format("{}: a heartbeat without a valid time", where)};
    const std::uint64_t interval = event.value("interval_s", std::uint64_t{0});
    if (run.last_heartbeat_ns >= 0 && interval != 0) {
      const double gap_s = static_cast<double>(ns - run.last_heartbeat_ns) / 1e9;
      if (gap_s > 2.0 * static_cast<double>(interval)) run.report.late.push_back({time, gap_s, interval});
    }
    run.last_heartbeat_ns = ns;
  }
  return Ok{};
}

std::vector<RunReport> SeqCheck::finish() {
  std::vector<RunReport> reports;
  for (Run& run : runs_) {
    RunReport& r = run.report;
    const std::size_t lines = run.seqs.size();
    r.missing = gaps(run.seqs);
    run.seqs.erase(std::unique(run.seqs.begin(), run.seqs.end()), run.seqs.end());
    r.events = run.seqs.size();
    r.duplicates = lines - r.events;
    r.first = run.seqs.empty() ? 0 : run.seqs.front();
    r.last = run.seqs.empty() ? 0 : run.seqs.back();
    reports.push_back(std::move(r));
  }
  return reports;
}

std::string describe(const std::vector<RunReport>& runs) {
  std::string out;
  auto line = [&out](const std::string& text) {
    out += text;
    out += '\n';
  };
  std::map<std::string, int> runs_of_boot;
  for (const RunReport& r : runs) {
    const int run = ++runs_of_boot[r.boot];
    std::string summary = fmt::format("boot {}: seq {}..{}, {} events", r.boot, r.first, r.last, r.events);
    if (run > 1) summary += fmt::format(" (procsentry run {} on this boot: seq counts from 1 again)", run);
    if (r.duplicates != 0) summary += fmt::format(", {} duplicate lines", r.duplicates);
    std::uint64_t lost = 0;
    std::string causes;
    for (const auto& [cause, count] : r.kernel_lost) {
      lost += count;
      causes += fmt::format("{}{} {}", causes.empty() ? "" : ", ", cause, count);
    }
    summary += lost == 0 ? ", kernel lost 0" : fmt::format(", kernel lost {} ({})", lost, causes);
    summary += fmt::format(", {} heartbeats{}", r.heartbeats,
                           r.heartbeats == 0 ? ""
                           : r.late.empty()  ? " on time"
                                             : fmt::format(" ({} late)", r.late.size()));
    line(summary);
    for (const SeqRange& m : r.missing) line(fmt::format("boot {}: seq {}..{} missing", r.boot, m.first, m.last));
    for (const LateHeartbeat& h : r.late) {
      line(fmt::format("boot {}: heartbeat late: {} came {:.1f} s after the previous one (interval {} s)", r.boot,
                       h.time, h.gap_s, h.interval_s));
    }
  }
  return out;
}

}  // namespace procsentry
