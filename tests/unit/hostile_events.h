// Random events made of hostile bytes (invalid UTF-8, control bytes, quotes, backslashes,
// line separators, 40 KiB arguments), every kind and every optional field set or not: what
// the JSON writer and the store must keep byte for byte.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/event.h"

namespace procsentry::test {

inline constexpr EventKind kKinds[] = {EventKind::exec, EventKind::exec_failed, EventKind::fork, EventKind::exit,
                                       EventKind::lost, EventKind::create,      EventKind::hash};

// Texts an attacker can put in argv, paths, comm and cgroup names.
inline std::vector<std::string> hostile_texts() {
  std::vector<std::string> texts = {
      "",
      "/usr/bin/true",
      "quote\" back\\slash \"\\\"",
      std::string("nul\0inside", 10),
      "\x01\x02\x1b[31m\x7f\n\r\t\b\f",
      "\xff\xfe invalid \xc0\x80 overlong \xed\xa0\x80 surrogate \xf4\x90\x80\x80 too big",
      "cut \xe2\x82",
      "\xe2\x80\xa8 line and paragraph separators \xe2\x80\xa9",
      "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 valid",
      "\xe2\x80\xae right-to-left override",
      std::string(40 * 1024, 'A'),
      std::string(40 * 1024, '"'),
      std::string(40 * 1024, '\x01'),
      std::string(40 * 1024, '\xff'),
  };
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  texts.push_back(all_bytes);
  return texts;
}

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed), texts_(hostile_texts()) {}

  // Random bytes, a hostile text, or both glued (a sequence cut at the seam).
  std::string bytes() {
    switch (pick(4)) {
      case 0:
        return text();
      case 1:
        return text() + text();
      default: {
        std::string s(pick(pick(8) == 0 ? 1000 : 40), '\0');
        for (char& c : s) c = static_cast<char>(pick(256));
        return s;
      }
    }
  }
  // A hostile text; the 40 KiB ones rarely (an event has about 15 texts).
  const std::string& text() {
    for (;;) {
      const std::string& t = texts_[pick(texts_.size())];
      if (t.size() < 4096 || pick(16) == 0) return t;
    }
  }
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool coin() { return pick(2) == 0; }
  std::uint32_t u32() { return static_cast<std::uint32_t>(rng_()); }
  std::uint64_t u64() { return (std::uint64_t{u32()} << 32) | u32(); }
  std::int64_t time() {
    switch (pick(6)) {
      case 0:
        return -static_cast<std::int64_t>(rng_() >> 1);  // before the epoch, back to 1677
      case 1:
        return static_cast<std::int64_t>(rng_() >> 1);  // any time up to 2262, the end of int64 ns
      default:
        return 1'795'521'841'123'456'789 + static_cast<std::int64_t>(pick(3)) * 86'400'000'000'000;
    }
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> texts_;
};

// One event of `kind` with each optional field set or not at random; `keep` owns its bytes.
inline Event random_event(Generator& g, EventKind kind, std::vector<std::string>& keep) {
  static const ProcessUidScheme scheme("b44953de", 10'000'000);
  keep.clear();
  keep.reserve(32);  // views into it must not move
  auto text = [&]() -> Text {
    keep.push_back(g.bytes());
    const std::string& s = keep.back();
    return Text{s, g.pick(5) != 0, g.coin(), g.coin() ? 0u : g.u32(), g.pick(8) == 0};
  };
  auto view = [&]() -> std::string_view {
    keep.push_back(g.bytes());
    return keep.back();
  };
  Event e;
  e.kind = kind;
  e.time_ns = g.time();
  e.lost_count = g.coin() ? g.u32() : g.u64();  // 64-bit counters print all their digits
  e.lost_cause = g.u32() % 6;
  e.task = Task{g.u32(), g.u32(), g.u32(), g.u32(), g.u32(), g.u32(), g.time(), 1, view()};
  e.task.start_time_ns = g.time();
  e.task.has_uid_and_comm = g.pick(4) != 0;
  if (g.coin()) e.process_uid = scheme.make(g.u32(), g.u32());
  if (g.coin()) e.parent_uid = scheme.make(g.u32(), g.u32());
  e.seeded = g.coin();
  e.parent_seeded = g.coin();
  if (g.coin()) e.user = view();
  e.image = text();
  e.filename = text();
  e.cwd = text();
  e.known_image = text();
  e.command_line = text();
  e.parent_image = text();
  e.parent_argv_raw = text();
  e.creator_pid = g.u32();
  e.session_id = g.u32();
  e.image_memfd = g.coin();
  e.image_deleted = g.coin();
  e.image_upper_layer = g.coin();
  e.exec_fd = g.coin();
  if (g.coin()) e.image_uid = g.u32();
  if (g.coin()) e.image_mode = g.u32();
  e.is_script = g.coin();
  if (g.coin()) e.script = g.bytes();
  // argv: the raw list and its split views, as the decoder makes them.
  e.argv_raw = text();
  e.argv.clear();
  for (std::string_view rest = e.argv_raw.bytes; !rest.empty();) {
    const std::size_t nul = rest.find('\0');
    e.argv.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
  }
  e.argv_truncated = g.coin();
  e.argv_original_length = g.coin() ? 0 : g.u32();
  e.argv_unreadable = g.coin();
  e.argv_redacted = g.coin();
  if (g.coin()) e.group = view();
  if (g.coin()) e.loginuid = g.u32();
  if (g.coin()) e.audit_session = g.u32();
  if (g.coin()) e.tty = view();
  if (g.coin()) e.pid_ns = g.u32();
  if (g.coin()) e.cgroup_id = g.coin() ? g.u32() : g.u64();
  if (g.coin()) e.cgroup = view();
  if (g.coin()) e.container_id = view();
  for (std::size_t n = g.pick(4); n > 0; --n) {
    e.ancestry.push_back(Event::Ancestor{g.u32(), scheme.make(g.u32(), g.u32()), g.coin() ? view() : ""});
  }
  if (g.coin()) e.sha256 = view();
  if (g.coin()) e.sha256_missing = view();
  e.error = static_cast<std::int32_t>(g.pick(140)) - 2;
  e.parent_pid = g.u32();
  e.parent_tid = g.u32();
  e.parent_start_time_ns = g.time();
  if (g.coin()) e.exit_code = static_cast<int>(g.pick(256));
  if (g.coin()) e.exit_signal = static_cast<int>(g.pick(65));
  e.core_dumped = g.coin();
  e.duration_ns = g.time();
  return e;
}

}  // namespace procsentry::test
