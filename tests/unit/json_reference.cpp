// The JSON Lines writer as it was before the direct-to-buffer one (commit 8f1625f), kept only as
// the reference the new writer must match byte for byte. Do not "fix" it: it is the old output.
#include "json_reference.h"

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/names.h"
#include "core/text_escape.h"

namespace procsentry::reference {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at bytes[i] and its code point, or 0 if invalid
// (overlong forms, surrogates and values past U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view bytes, std::size_t i, char32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(bytes[k]); };
  std::uint8_t b0 = byte(i);
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2, cp = b0 & 0x1fu, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3, cp = b0 & 0x0fu, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > bytes.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    std::uint8_t b = byte(i + k);
    if ((b & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

// Eight bytes at a time (paths and argv are mostly plain ASCII; these scans run for every
// text of every event). Each test is exact for "any byte of the eight", which is all we ask.
constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHigh = 0x8080808080808080ull;

std::uint64_t load8(const char* p) {
  std::uint64_t x = 0;
  std::memcpy(&x, p, sizeof(x));
  return x;
}
std::uint64_t any_zero_byte(std::uint64_t v) { return (v - kOnes) & ~v & kHigh; }

// None of the eight is a control byte, DEL or above, '"' or '\\'.
bool json_plain8(const char* p) {
  const std::uint64_t x = load8(p);
  const std::uint64_t below_space = (x - 0x20 * kOnes) & ~x & kHigh;
  const std::uint64_t del_or_high = (((x & ~kHigh) + kOnes) | x) & kHigh;
  return (below_space | del_or_high | any_zero_byte(x ^ (0x22 * kOnes)) | any_zero_byte(x ^ (0x5c * kOnes))) == 0;
}

void old_json_string(std::string& out, std::string_view bytes) {
  out += '"';
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t run = i;
    while (bytes.size() - run >= 8 && json_plain8(bytes.data() + run)) run += 8;
    while (run < bytes.size()) {
      auto b = static_cast<std::uint8_t>(bytes[run]);
      if (b < 0x20 || b >= 0x7f || b == '"' || b == '\\') break;
      ++run;
    }
    out.append(bytes.data() + i, run - i);
    i = run;
    if (i >= bytes.size()) break;
    auto b = static_cast<std::uint8_t>(bytes[i]);
    if (b < 0x80) {
      switch (b) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out += "\\u00";
          out += kHex[b >> 4];
          out += kHex[b & 0xf];
          break;
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    std::size_t len = utf8_sequence(bytes, i, cp);
    if (len == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD for each invalid byte
      ++i;
    } else if (cp == 0x2028 || cp == 0x2029) {
      out += cp == 0x2028 ? "\\u2028" : "\\u2029";  // line separators break naive line readers
      i += len;
    } else {
      out.append(bytes.data() + i, len);
      i += len;
    }
  }
  out += '"';
}

void old_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = at(i) << 16;
    if (rest == 2) v |= at(i + 1) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
}

void old_json_nul_list(std::string& out, std::string_view list) {
  out += '[';
  for (bool first = true; !list.empty(); first = false) {
    std::size_t nul = list.find('\0');
    if (!first) out += ',';
    old_json_string(out, list.substr(0, nul));
    list.remove_prefix(nul == std::string_view::npos ? list.size() : nul + 1);
  }
  out += ']';
}

// Floor division, so times before the epoch still give a fraction in [0, 1e9).
void split(std::int64_t ns, std::int64_t& second, std::int64_t& fraction) {
  second = ns / 1'000'000'000;
  fraction = ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --second;
  }
}

void append_digits(std::string& out, std::int64_t value, int width) {
  char digits[16];
  for (int i = width - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits, static_cast<std::size_t>(width));
}

// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's civil_from_days):
// pure arithmetic, where gmtime_r takes libc's time-zone lock and snprintf parses a format.
void civil_from_days(std::int64_t days, std::int64_t& year, int& month, int& day) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = yoe + era * 400 + (month <= 2);
}

void append_two(char*& at, std::int64_t value) {
  *at++ = static_cast<char>('0' + value / 10);
  *at++ = static_cast<char>('0' + value % 10);
}

class OldRfc3339 {
 public:
  void append(std::string& out, std::int64_t epoch_ns);

 private:
  std::int64_t cached_second_ = INT64_MIN;
  char prefix_[32] = {};
  std::size_t prefix_len_ = 0;
};

void OldRfc3339::append(std::string& out, std::int64_t epoch_ns) {
  std::int64_t second = 0;
  std::int64_t fraction = 0;
  split(epoch_ns, second, fraction);
  if (second != cached_second_) {
    std::int64_t days = second / 86400;
    std::int64_t in_day = second % 86400;
    if (in_day < 0) {
      in_day += 86400;
      --days;
    }
    std::int64_t year = 0;
    int month = 0;
    int day = 0;
    civil_from_days(days, year, month, day);
    if (year >= 0 && year <= 9999) {
      char* at = prefix_;
      append_two(at, year / 100);
      append_two(at, year % 100);
      *at++ = '-';
      append_two(at, month);
      *at++ = '-';
      append_two(at, day);
      *at++ = 'T';
      append_two(at, in_day / 3600);
      *at++ = ':';
      append_two(at, in_day / 60 % 60);
      *at++ = ':';
      append_two(at, in_day % 60);
      prefix_len_ = static_cast<std::size_t>(at - prefix_);
    } else {  // only a hostile timestamp gets here
      std::time_t t = static_cast<std::time_t>(second);
      std::tm tm{};
      gmtime_r(&t, &tm);
      int n = std::snprintf(prefix_, sizeof(prefix_), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
      prefix_len_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    cached_second_ = second;
  }
  out.append(prefix_, prefix_len_);
  out += '.';
  append_digits(out, fraction, 9);
  out += 'Z';
}

class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  void end() { out_ += '}'; }

  // About 25 keys per event: each built on the stack and appended in one call (a resize
  // would also zero the bytes first).
  std::string& key(std::string_view name) {
    char text[64];
    if (name.size() > sizeof(text) - 4) return long_key(name);
    char* p = text;
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = '"';
    *p++ = ':';
    return out_.append(text, static_cast<std::size_t>(p - text));
  }
  template <typename Int>
  void number(std::string_view name, Int value) {
    fmt::format_int digits(value);
    key(name).append(digits.data(), digits.size());
  }
  void boolean(std::string_view name, bool value) { key(name) += value ? "true" : "false"; }
  void string(std::string_view name, std::string_view value) { old_json_string(key(name), value); }

  // A captured text field: omitted when absent; a lossless companion when not valid UTF-8.
  void text(std::string_view name, const Text& text) {
    if (!text.present) return;
    string(name, text.bytes);
    if (!is_valid_utf8(text.bytes)) {
      old_base64(key_with_suffix(name, "_b64") += '"', text.bytes);
      out_ += '"';
    }
    if (text.truncated) {
      boolean_with_suffix(name, "_truncated");
      if (text.original_length != 0) {
        fmt::format_int digits(text.original_length);
        key_with_suffix(name, "_original_length").append(digits.data(), digits.size());
      }
    }
  }

 private:
  std::string& long_key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += name;
    return out_ += "\":";
  }
  std::string& key_with_suffix(std::string_view name, std::string_view suffix) {
    if (!first_) out_ += ',';
    out_ += '"';
    out_ += name;
    out_ += suffix;
    out_ += "\":";
    return out_;
  }
  void boolean_with_suffix(std::string_view name, std::string_view suffix) { key_with_suffix(name, suffix) += "true"; }

  std::string& out_;
  bool first_ = true;
};

// A NUL-separated list as a JSON array (with a lossless _b64 companion when not UTF-8).
void write_nul_list(ObjectWriter& o, std::string_view name, const Text& list) {
  if (!list.present) return;
  std::string& a = o.key(name);
  old_json_nul_list(a, list.bytes);
  if (!is_valid_utf8(list.bytes)) {
    old_base64(o.key(std::string(name) + "_b64") += '"', list.bytes);
    a += '"';
  }
  if (list.truncated) o.boolean(std::string(name) + "_truncated", true);
}

void write_exec_context(ObjectWriter& o, const Event& e) {
  if (!e.group.empty()) o.string("group", e.group);
  if (e.loginuid) o.number("loginuid", *e.loginuid);
  if (e.audit_session) o.number("session_id", *e.audit_session);
  if (!e.tty.empty()) o.text("tty", Text{e.tty, true, false, static_cast<std::uint32_t>(e.tty.size())});
  if (e.pid_ns != 0) o.number("pid_ns", e.pid_ns);
  if (e.cgroup_id != 0) o.number("cgroup_id", e.cgroup_id);
  if (!e.cgroup.empty()) o.text("cgroup", Text{e.cgroup, true, false, static_cast<std::uint32_t>(e.cgroup.size())});
  if (!e.container_id.empty()) o.string("container_id", e.container_id);
  o.text("parent_image", e.parent_image);
  write_nul_list(o, "parent_argv", e.parent_argv_raw);
  if (!e.ancestry.empty()) {
    std::string& a = o.key("ancestry");
    a += '[';
    for (std::size_t i = 0; i < e.ancestry.size(); ++i) {
      if (i != 0) a += ',';
      ObjectWriter item(a);
      item.number("pid", e.ancestry[i].pid);
      item.string("process_uid", e.ancestry[i].uid.view());
      const std::string_view image = e.ancestry[i].image;  // empty: unknown (kernel thread)
      item.text("image", Text{image, !image.empty(), false, static_cast<std::uint32_t>(image.size())});
      item.end();
    }
    a += ']';
  }
  if (!e.sha256.empty()) o.string("sha256", e.sha256);
  if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
}

void append_object(std::string& out, OldRfc3339& time_, const Event& e) {
  ObjectWriter o(out);
  o.string("event", to_string(e.kind));
  time_.append(o.key("time") += '"', e.time_ns);
  out += '"';
  if (e.kind == EventKind::lost) {
    o.number("count", e.lost_count);
    o.string("cause", lost_cause_name(e.lost_cause));
    o.end();
    return;
  }
  o.number("pid", e.task.pid);
  if (!e.process_uid.empty()) o.string("process_uid", e.process_uid.view());
  if (e.kind == EventKind::hash) {
    o.text("image", e.image);
    if (!e.sha256.empty()) o.string("sha256", e.sha256);
    if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
    o.end();
    return;
  }
  if (!e.parent_uid.empty()) o.string("parent_uid", e.parent_uid.view());
  if (e.seeded) o.boolean("seeded", true);
  if (e.parent_seeded) o.boolean("parent_seeded", true);
  if (e.task.has_uid_and_comm) {
    o.number("tid", e.task.tid);
    o.number("ppid", e.task.ppid);
    o.number("uid", e.task.uid);
    o.number("gid", e.task.gid);
    o.number("euid", e.task.euid);
    if (!e.user.empty()) o.string("user", e.user);
    o.text("comm", Text{e.task.comm, true, false, static_cast<std::uint32_t>(e.task.comm.size())});
  } else {
    // Windows: the creating thread and parent are known at creation only.
    if (e.task.tid != 0) o.number("tid", e.task.tid);
    if (e.task.ppid != 0) o.number("ppid", e.task.ppid);
  }
  switch (e.kind) {
    case EventKind::create:
      o.text("image", e.image);
      o.text("command_line", e.command_line);
      o.number("creator_pid", e.creator_pid);
      o.number("session_id", e.session_id);
      // The token's user, named client side (the other token facts: windows_client_test).
      if (!e.token.user_sid.empty()) o.string("user_sid", e.token.user_sid);
      if (!e.user.empty()) o.string("user", e.user);
      o.text("parent_image", e.parent_image);
      o.text("parent_command_line", e.parent_argv_raw);
      if (e.argv_redacted) o.boolean("argv_redacted", true);
      if (!e.sha256.empty()) o.string("sha256", e.sha256);
      if (!e.sha256_missing.empty()) o.string("sha256_missing", e.sha256_missing);
      break;
    case EventKind::exec: {
      o.text("image", e.image);
      if (e.image_memfd) o.boolean("image_memfd", true);
      if (e.image_deleted) o.boolean("image_deleted", true);
      if (e.image_uid) o.number("image_uid", *e.image_uid);
      if (e.image_mode) o.string("image_mode", fmt::format("{:04o}", *e.image_mode & 07777));
      if (e.image_mode && (*e.image_mode & 04000) != 0) o.boolean("image_setuid", true);
      if (e.image_mode && (*e.image_mode & 02000) != 0) o.boolean("image_setgid", true);
      if (e.image_upper_layer) o.boolean("image_upper_layer", true);
      if (e.exec_fd) o.boolean("exec_fd", true);
      o.text("filename", e.filename);
      if (e.is_script && !e.script.empty()) {  // derived from cwd and filename: bytes, as they are
        o.text("script", Text{e.script, true, false, static_cast<std::uint32_t>(e.script.size())});
      }
      o.text("cwd", e.cwd);
      if (e.argv_raw.present) {
        std::string& a = o.key("argv");
        a += '[';
        for (std::size_t i = 0; i < e.argv.size(); ++i) {
          if (i != 0) a += ',';
          append_json_string(a, e.argv[i]);
        }
        a += ']';
        if (!is_valid_utf8(e.argv_raw.bytes)) {
          append_base64(o.key("argv_b64") += '"', e.argv_raw.bytes);
          out += '"';
        }
        o.number("argc", e.argv.size());
        o.boolean("argv_truncated", e.argv_truncated);
        if (e.argv_truncated && e.argv_original_length != 0) o.number("argv_original_length", e.argv_original_length);
        if (e.argv_unreadable) o.boolean("argv_unreadable", true);
      }
      if (e.argv_redacted) o.boolean("argv_redacted", true);
      write_exec_context(o, e);
      break;
    }
    case EventKind::exec_failed:
      o.text("filename", e.filename);
      o.number("errno", e.error);
      if (auto name = errno_name(e.error); !name.empty()) o.string("error", name);
      break;
    case EventKind::fork:
      o.text("image", e.known_image);
      time_.append(o.key("start_time") += '"', e.task.start_time_ns);
      out += '"';
      o.number("parent_pid", e.parent_pid);
      o.number("parent_tid", e.parent_tid);
      time_.append(o.key("parent_start_time") += '"', e.parent_start_time_ns);
      out += '"';
      break;
    case EventKind::exit:
      o.text("image", e.known_image);
      if (e.exit_code) o.number("exit_code", *e.exit_code);
      if (e.exit_signal) o.number("signal", *e.exit_signal);
      if (e.core_dumped) o.boolean("core_dumped", true);
      o.number("duration_ns", e.duration_ns);
      break;
    case EventKind::lost:
    case EventKind::hash:
    case EventKind::heartbeat:  // not compared: the identity test covers the kinds both writers share
      break;
  }
  o.end();
}

}  // namespace

std::string json_line(const Event& e) {
  OldRfc3339 time_;
  std::string out;
  append_object(out, time_, e);
  out += '\n';
  return out;
}

}  // namespace procsentry::reference
