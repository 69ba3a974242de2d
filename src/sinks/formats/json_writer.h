// The JSON writer every JSON format shares (native, ECS, OCSF): a cursor into a reused buffer
// and an object writer that makes room once per field. Header-only so that each formatter's
// calls inline.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/text_escape.h"
#include "core/time_format.h"

namespace procsentry::json {

// Writes through a raw pointer into the formatter's scratch buffer: each field first makes room
// for its worst case (one check), so no byte pays std::string's per-append capacity check and
// call, and the buffer is never zero-filled (std::string::resize would). The event then goes
// to the caller's string in one append.
class Cursor {
 public:
  Cursor(std::unique_ptr<char[]>& buffer, std::size_t& capacity) : buffer_(buffer), capacity_(capacity) {}
  // At least n writable bytes at the returned position, until the next room().
  char* room(std::size_t n) {
    if (capacity_ - used_ < n) grow(n);
    return buffer_.get() + used_;
  }
  void commit(char* end) { used_ = static_cast<std::size_t>(end - buffer_.get()); }
  void append_to(std::string& out) const { out.append(buffer_.get(), used_); }

 private:
  void grow(std::size_t n) {
    const std::size_t capacity = std::max({capacity_ * 2, used_ + n, std::size_t{4096}});
    std::unique_ptr<char[]> bigger(new char[capacity]);
    if (used_ != 0) std::memcpy(bigger.get(), buffer_.get(), used_);
    buffer_ = std::move(bigger);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]>& buffer_;
  std::size_t& capacity_;
  std::size_t used_ = 0;
};

inline char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Key names are string literals: their size is a constant, so writing one is a few moves
// rather than a call to memcpy (about 25 keys per event).
template <std::size_t N>
using Name = const char (&)[N];

class ObjectWriter {
 public:
  explicit ObjectWriter(Cursor& out) : out_(out) { put_raw("{"); }
  void end() { put_raw("}"); }

  // Digits straight into the output (to_chars: the same digits as any decimal formatting).
  template <std::size_t N, typename Int>
  void number(Name<N> name, Int value) {
    constexpr std::size_t kDigits = std::numeric_limits<Int>::digits10 + 2;  // and a sign
    char* p = key(out_.room(N + 3 + kDigits), name);
    out_.commit(std::to_chars(p, p + kDigits, value).ptr);
  }
  template <std::size_t N>
  void boolean(Name<N> name, bool value) {
    char* p = key(out_.room(N + 3 + 5), name);
    out_.commit(value ? put(p, "true") : put(p, "false"));
  }
  template <std::size_t N>
  void string(Name<N> name, std::string_view value) {
    char* p = key(out_.room(N + 3 + json_string_bound(value.size())), name);
    bool valid = true;
    out_.commit(put_json_string(p, value, valid));
  }
  // Members already written as `,"key":value...`, after the first member.
  void members(std::string_view json) { put_raw(json); }
  // A string already known to need no escaping (digits, fixed names, process uids: hex, digits, dashes).
  template <std::size_t N>
  void plain(Name<N> name, std::string_view value) {
    char* p = key(out_.room(N + 5 + value.size()), name);
    *p++ = '"';
    p = put(p, value);
    *p++ = '"';
    out_.commit(p);
  }
  template <std::size_t N>
  void time(Name<N> name, Rfc3339Formatter& format, std::int64_t epoch_ns) {
    char* p = key(out_.room(N + 5 + Rfc3339Formatter::kBound), name);
    *p++ = '"';
    p = format.put(p, epoch_ns);
    *p++ = '"';
    out_.commit(p);
  }

  // A captured text field: omitted when absent; a lossless companion when not valid UTF-8.
  template <std::size_t N>
  void text(Name<N> name, const Text& text) {
    if (!text.present) return;
    char* p = key(out_.room(N + 3 + json_string_bound(text.bytes.size())), name);
    bool valid = true;
    out_.commit(put_json_string(p, text.bytes, valid));
    companions(std::string_view(name, N - 1), text, valid);
  }
  // A NUL-separated list as a JSON array, with the same companions.
  template <std::size_t N>
  void nul_list(Name<N> name, const Text& list) {
    if (!list.present) return;
    char* p = key(out_.room(N + 3 + json_nul_list_bound(list.bytes.size())), name);
    bool valid = true;
    out_.commit(put_json_nul_list(p, list.bytes, valid));
    if (!valid) base64(std::string_view(name, N - 1), list.bytes);
    if (list.truncated) suffixed(std::string_view(name, N - 1), "_truncated", "true");
  }
  // argv from its split views, with the companion of its raw bytes.
  template <std::size_t N>
  void string_list(Name<N> name, const std::vector<std::string_view>& items, std::string_view raw) {
    std::size_t bound = N + 5;
    for (std::string_view item : items) bound += json_string_bound(item.size()) + 1;
    char* p = key(out_.room(bound), name);
    *p++ = '[';
    bool valid = true;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) *p++ = ',';
      p = put_json_string(p, items[i], valid);
    }
    *p++ = ']';
    out_.commit(p);
    if (!is_valid_utf8(raw)) base64(std::string_view(name, N - 1), raw);
  }
  // "name":{"key":count,...}: keys chosen at run time (kinds, causes, output names).
  template <std::size_t N>
  void counts(Name<N> name, const std::vector<std::pair<std::string_view, std::uint64_t>>& items) {
    char* p = key(out_.room(N + 4), name);
    *p++ = '{';
    out_.commit(p);
    for (std::size_t i = 0; i < items.size(); ++i) {
      constexpr std::size_t kDigits = std::numeric_limits<std::uint64_t>::digits10 + 2;
      p = out_.room(json_string_bound(items[i].first.size()) + 3 + kDigits);
      if (i != 0) *p++ = ',';
      bool valid = true;
      p = put_json_string(p, items[i].first, valid);
      *p++ = ':';
      out_.commit(std::to_chars(p, p + kDigits, items[i].second).ptr);
    }
    put_raw("}");
  }
  // "name":[{...},...], each object written by `each(item, i)`.
  template <std::size_t N, typename Each>
  void objects(Name<N> name, std::size_t n, Each each) {
    char* p = key(out_.room(N + 4), name);
    *p++ = '[';
    out_.commit(p);
    for (std::size_t i = 0; i < n; ++i) {
      if (i != 0) put_raw(",");
      ObjectWriter item(out_);
      each(item, i);
      item.end();
    }
    put_raw("]");
  }

  // "name":{...}: the nested object's writer; the caller ends it.
  template <std::size_t N>
  ObjectWriter object(Name<N> name) {
    out_.commit(key(out_.room(N + 3), name));
    return ObjectWriter(out_);
  }
  // "name":[{...},...] written item by item: begin_array, then object_item() per item, end_array.
  template <std::size_t N>
  void begin_array(Name<N> name) {
    char* p = key(out_.room(N + 4), name);
    *p++ = '[';
    out_.commit(p);
    items_ = 0;
  }
  ObjectWriter object_item() {
    if (items_++ != 0) put_raw(",");
    return ObjectWriter(out_);
  }
  void end_array() { put_raw("]"); }
  // A string without companions (the schema formats carry those elsewhere): U+FFFD for each
  // byte that is not UTF-8.
  template <std::size_t N>
  void text_value(Name<N> name, std::string_view bytes) {
    string(name, bytes);
  }
  // "name":["a","b"] from the item at each index (`at(i)` -> string_view), no companion.
  template <std::size_t N, typename At>
  void strings(Name<N> name, std::size_t n, At at) {
    std::size_t bound = N + 5;
    for (std::size_t i = 0; i < n; ++i) bound += json_string_bound(at(i).size()) + 1;
    char* p = key(out_.room(bound), name);
    *p++ = '[';
    bool valid = true;
    for (std::size_t i = 0; i < n; ++i) {
      if (i != 0) *p++ = ',';
      p = put_json_string(p, at(i), valid);
    }
    *p++ = ']';
    out_.commit(p);
  }
  // What `text()` adds beside a text field, as keys of this object (the schema formats keep
  // them under procsentry.* / unmapped): name_b64, name_truncated, name_original_length.
  void companions_of(std::string_view name, const Text& text) {
    if (!text.present) return;
    if (!is_valid_utf8(text.bytes)) base64_key(name, text.bytes);
    if (text.truncated) {
      suffixed_key(name, "_truncated", "true");
      if (text.original_length != 0) {
        fmt::format_int digits(text.original_length);
        suffixed_key(name, "_original_length", std::string_view(digits.data(), digits.size()));
      }
    }
  }
  // The same for a NUL list (no original length: the caller's own key says it).
  void list_companions_of(std::string_view name, const Text& list) {
    if (!list.present) return;
    if (!is_valid_utf8(list.bytes)) base64_key(name, list.bytes);
    if (list.truncated) suffixed_key(name, "_truncated", "true");
  }

 private:
  // "name": at p, after a comma unless it is the first key; returns the end.
  template <std::size_t N>
  char* key(char* p, Name<N> name) {
    *p = ',';
    p += first_ ? 0 : 1;
    first_ = false;
    *p++ = '"';
    std::memcpy(p, name, N - 1);
    p += N - 1;
    *p++ = '"';
    *p++ = ':';
    return p;
  }
  void put_raw(std::string_view s) { out_.commit(put(out_.room(s.size()), s)); }
  // A companion key (never the first): ,"name_suffix":value
  void suffixed(std::string_view name, std::string_view suffix, std::string_view value) {
    char* p = out_.room(name.size() + suffix.size() + 4 + value.size());
    *p++ = ',';
    *p++ = '"';
    p = put(put(p, name), suffix);
    *p++ = '"';
    *p++ = ':';
    out_.commit(put(p, value));
  }
  // Like suffixed/base64, but possibly the object's first key.
  void suffixed_key(std::string_view name, std::string_view suffix, std::string_view value) {
    char* p = out_.room(name.size() + suffix.size() + 4 + value.size());
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    p = put(put(p, name), suffix);
    *p++ = '"';
    *p++ = ':';
    out_.commit(put(p, value));
  }
  void base64_key(std::string_view name, std::string_view bytes) {
    char* p = out_.room(name.size() + 10 + base64_bound(bytes.size()));
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    p = put(put(p, name), "_b64\":\"");
    p = put_base64(p, bytes);
    *p++ = '"';
    out_.commit(p);
  }
  void base64(std::string_view name, std::string_view bytes) {
    char* p = out_.room(name.size() + 10 + base64_bound(bytes.size()));
    p = put(p, ",\"");
    p = put(put(p, name), "_b64\":\"");
    p = put_base64(p, bytes);
    *p++ = '"';
    out_.commit(p);
  }
  void companions(std::string_view name, const Text& text, bool valid) {
    if (!valid) base64(name, text.bytes);
    if (text.truncated) {
      suffixed(name, "_truncated", "true");
      if (text.original_length != 0) {
        fmt::format_int digits(text.original_length);
        suffixed(name, "_original_length", std::string_view(digits.data(), digits.size()));
      }
    }
  }

  Cursor& out_;
  bool first_ = true;
  std::size_t items_ = 0;  // of the array begun last
};

// A heartbeat's counts as the native JSON writes them (json_format.cpp); the schema formats
// carry them under procsentry.* / unmapped.
void write_heartbeat(ObjectWriter& o, const HeartbeatCounts& h);
// A Windows create's token facts under their native keys (user_sid, user, integrity_level,
// elevated, elevation_type, logon_id, token_type), each only when known.
void write_token(ObjectWriter& o, const WindowsToken& token, std::string_view user);
// An integrity level's name, or its RID in hex ("0x2500") when Windows has no name for it.
std::string_view integrity_level_text(std::uint32_t rid, char (&hex)[12]);

}  // namespace procsentry::json
