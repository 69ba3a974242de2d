#include "core/text_escape.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace procsentry {
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

// Characters that are valid but can move, hide or reorder what a person reads.
bool is_deceptive(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

bool is_plain_ascii(std::uint8_t b) { return b >= 0x20 && b < 0x7f && b != '\\'; }

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

void append_hex_byte(std::string& out, std::uint8_t b) {
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 0xf];
}

void append_codepoint_escape(std::string& out, char32_t cp) {
  out += "\\u{";
  char digits[8];
  int n = 0;
  do {
    digits[n++] = kHex[cp & 0xf];
    cp >>= 4;
  } while (cp != 0);
  for (int k = n; k < 4; ++k) out += '0';
  while (n > 0) out += digits[--n];
  out += '}';
}

bool needs_shell_quotes(std::string_view arg) {
  if (arg.empty()) return true;
  for (char c : arg) {
    auto b = static_cast<std::uint8_t>(c);
    if (b < 0x20 || b >= 0x7f) continue;  // escaped anyway
    switch (c) {
      case ' ':
      case '\'':
      case '"':
      case '\\':
      case '$':
      case '`':
      case '&':
      case '|':
      case ';':
      case '<':
      case '>':
      case '(':
      case ')':
      case '*':
      case '?':
      case '[':
      case ']':
      case '{':
      case '}':
      case '~':
      case '#':
      case '!':
        return true;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    if (bytes.size() - i >= 8 && (load8(bytes.data() + i) & kHigh) == 0) {
      i += 8;
      continue;
    }
    if (static_cast<std::uint8_t>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp = 0;
    std::size_t len = utf8_sequence(bytes, i, cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void append_terminal_escaped(std::string& out, std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t run = i;
    while (run < bytes.size() && is_plain_ascii(static_cast<std::uint8_t>(bytes[run]))) ++run;
    out.append(bytes.data() + i, run - i);
    i = run;
    if (i >= bytes.size()) break;
    auto b = static_cast<std::uint8_t>(bytes[i]);
    if (b < 0x80) {
      switch (b) {
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
        case 0x1b:
          out += "\\e";
          break;
        default:
          append_hex_byte(out, b);
          break;
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    std::size_t len = utf8_sequence(bytes, i, cp);
    if (len == 0) {
      append_hex_byte(out, b);
      ++i;
    } else if (is_deceptive(cp)) {
      append_codepoint_escape(out, cp);
      i += len;
    } else {
      out.append(bytes.data() + i, len);
      i += len;
    }
  }
}

void append_shell_quoted(std::string& out, std::string_view arg) {
  if (!needs_shell_quotes(arg)) {
    append_terminal_escaped(out, arg);
    return;
  }
  out += '\'';
  std::size_t start = 0;
  for (std::size_t q; (q = arg.find('\'', start)) != std::string_view::npos; start = q + 1) {
    append_terminal_escaped(out, arg.substr(start, q - start));
    out += "'\\''";
  }
  append_terminal_escaped(out, arg.substr(start));
  out += '\'';
}

char* put_json_string(char* p, std::string_view bytes, bool& valid) {
  *p++ = '"';
  const char* const data = bytes.data();
  std::size_t i = 0;
  while (i < bytes.size()) {
    std::size_t run = i;
    while (bytes.size() - run >= 8 && json_plain8(data + run)) run += 8;
    while (run < bytes.size()) {
      auto b = static_cast<std::uint8_t>(data[run]);
      if (b < 0x20 || b >= 0x7f || b == '"' || b == '\\') break;
      ++run;
    }
    std::memcpy(p, data + i, run - i);
    p += run - i;
    i = run;
    if (i >= bytes.size()) break;
    auto b = static_cast<std::uint8_t>(data[i]);
    if (b < 0x80) {
      *p++ = '\\';
      switch (b) {
        case '"':
          *p++ = '"';
          break;
        case '\\':
          *p++ = '\\';
          break;
        case '\n':
          *p++ = 'n';
          break;
        case '\t':
          *p++ = 't';
          break;
        case '\r':
          *p++ = 'r';
          break;
        default:
          std::memcpy(p, "u00", 3);
          p[3] = kHex[b >> 4];
          p[4] = kHex[b & 0xf];
          p += 5;
          break;
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    std::size_t len = utf8_sequence(bytes, i, cp);
    if (len == 0) {
      std::memcpy(p, "\xef\xbf\xbd", 3);  // U+FFFD for each invalid byte
      p += 3;
      valid = false;
      ++i;
    } else if (cp == 0x2028 || cp == 0x2029) {
      std::memcpy(p, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);  // line separators break naive line readers
      p += 6;
      i += len;
    } else {
      std::memcpy(p, data + i, len);
      p += len;
      i += len;
    }
  }
  *p++ = '"';
  return p;
}

char* put_base64(char* p, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    *p++ = kAlphabet[(v >> 18) & 63];
    *p++ = kAlphabet[(v >> 12) & 63];
    *p++ = kAlphabet[(v >> 6) & 63];
    *p++ = kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = at(i) << 16;
    if (rest == 2) v |= at(i + 1) << 8;
    *p++ = kAlphabet[(v >> 18) & 63];
    *p++ = kAlphabet[(v >> 12) & 63];
    *p++ = rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    *p++ = '=';
  }
  return p;
}

char* put_json_nul_list(char* p, std::string_view list, bool& valid) {
  *p++ = '[';
  for (bool first = true; !list.empty(); first = false) {
    std::size_t nul = list.find('\0');
    if (!first) *p++ = ',';
    p = put_json_string(p, list.substr(0, nul), valid);
    list.remove_prefix(nul == std::string_view::npos ? list.size() : nul + 1);
  }
  *p++ = ']';
  return p;
}

namespace {
// The std::string forms: room for the bound, then cut to what was written.
template <typename Put>
void append_bounded(std::string& out, std::size_t bound, Put put) {
  const std::size_t used = out.size();
  out.resize(used + bound);
  char* end = put(out.data() + used);
  out.resize(static_cast<std::size_t>(end - out.data()));
}
}  // namespace

void append_json_string(std::string& out, std::string_view bytes) {
  bool valid = true;
  append_bounded(out, json_string_bound(bytes.size()), [&](char* p) { return put_json_string(p, bytes, valid); });
}

void append_base64(std::string& out, std::string_view bytes) {
  append_bounded(out, base64_bound(bytes.size()), [&](char* p) { return put_base64(p, bytes); });
}

void append_json_nul_list(std::string& out, std::string_view list) {
  bool valid = true;
  append_bounded(out, json_nul_list_bound(list.size()), [&](char* p) { return put_json_nul_list(p, list, valid); });
}

}  // namespace procsentry
