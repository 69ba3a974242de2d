// Attacker-controlled bytes (argv, paths, comm) made safe for a terminal or for JSON.
// All functions append to a caller-owned string, so formatting allocates nothing per call.
#pragma once

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

}  // namespace procsentry
