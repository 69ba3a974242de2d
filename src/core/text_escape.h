// Attacker-controlled bytes (argv, paths, comm) made safe for a terminal or for JSON.
// All functions append to a caller-owned string, so formatting allocates nothing per call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace procsentry {

bool is_valid_utf8(std::string_view bytes);

// Non-printable bytes become visible escapes: \n \t \r \e \\ \xHH (C0, DEL, invalid UTF-8),
// \u{XXXX} (C1 controls and the format/bidi characters that can visually forge text).
void append_terminal_escaped(std::string& out, std::string_view bytes);

// One argument for an ARGS column: escaped, and single-quoted when empty or when it holds
// spaces, quotes or shell metacharacters (an embedded ' becomes '\'').
void append_shell_quoted(std::string& out, std::string_view arg);

// A JSON string literal, quotes included. Always valid UTF-8: each invalid byte becomes U+FFFD
// (the sinks add a lossless base64 companion for such fields).
void append_json_string(std::string& out, std::string_view bytes);

void append_base64(std::string& out, std::string_view bytes);

// A NUL-separated list (argv as the kernel keeps it) as a JSON array of strings.
void append_json_nul_list(std::string& out, std::string_view list);

// The same JSON encodings written through a pointer with room for their bound (the JSON
// formatter makes room once per field rather than checking capacity per byte). Each returns
// the end of what it wrote; `valid` says whether the bytes were valid UTF-8 (one scan for both).
constexpr std::size_t json_string_bound(std::size_t n) { return 6 * n + 2; }  // "\u00XX" per byte
constexpr std::size_t json_nul_list_bound(std::size_t n) { return 9 * n + 2; }
constexpr std::size_t base64_bound(std::size_t n) { return (n + 2) / 3 * 4; }
char* put_json_string(char* p, std::string_view bytes, bool& valid);
char* put_json_nul_list(char* p, std::string_view list, bool& valid);
char* put_base64(char* p, std::string_view bytes);

}  // namespace procsentry
