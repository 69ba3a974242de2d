// The secrets masked by default (`redact: true`, the default): option names whose value is a
// secret, and patterns of well-known credential formats. The README's "Secrets kept out"
// lists the same; redact_test checks each with a real-looking secret.
#pragma once

#include <span>
#include <string_view>

namespace procsentry {

// Option names (without dashes; `_` counts as `-`, case ignored) whose value is masked:
// `--NAME=X`, `--NAME X`, `-NAME X`, and any name ending in `-NAME` (`--db-password`).
std::span<const std::string_view> builtin_secret_options();

// Names that end like a secret but take no value: `--ask-pass`, `--no-password`.
std::span<const std::string_view> builtin_valueless_prefixes();

// Programs whose `-pSECRET` (attached) is a password: mysql's family; sshpass also `-p SECRET`.
struct ShortPasswordProgram {
  std::string_view name;
  bool separate_value;  // `-p SECRET` too, not only `-pSECRET`
};
std::span<const ShortPasswordProgram> builtin_short_password_programs();

// A pattern masks its first capturing group (the secret), or the whole match when it has none.
// Its trigger is a cheap regex every match contains (a literal part, no counted repeats): all
// triggers make one small DFA that says, in one pass over an argv, whether any regex can match.
struct SecretPattern {
  std::string_view name;
  std::string_view trigger;  // RE2, unanchored
  std::string_view regex;    // RE2
};
std::span<const SecretPattern> builtin_secret_patterns();

// False only when no built-in pattern can match anywhere in `text`: a scan for the one rare
// byte each pattern's matches hold (':', '=', 'A', 'J', '_', '-', 'b'), checked around it.
// About a nanosecond a byte, against several for the triggers' DFA: most command lines stop here.
bool builtin_secret_may_occur(std::string_view text);

}  // namespace procsentry
