// Masks secrets in command lines: values of secret-named options, well-known credential
// patterns and the configuration's own regexes. Compiled once (RE2); once its buffers are
// warm it allocates nothing per event. One thread: the pipeline's.
#pragma once

#include <re2/re2.h>
#include <re2/set.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/event_redaction.h"
#include "core/result.h"

namespace procsentry {

// What `redact:` says (redact_config.h); the default is the built-ins alone.
struct RedactSettings {
  bool enabled = true;
  bool builtin = true;               // the built-in option names and patterns (builtin_secrets.h)
  std::vector<std::string> options;  // more option names, matched exactly (no dashes, case ignored)
  std::vector<std::string> regexes;  // RE2: the first group, or the whole match, is masked
};

inline constexpr std::string_view kMask = "***";

class Redactor final : public EventRedaction {
 public:
  // A bad regex is an error naming it (the configuration reader checks them first).
  static Result<std::unique_ptr<Redactor>> compile(const RedactSettings& settings);

  bool redact(Event& event) override;
  // One argv, NUL-separated as captured (a trailing NUL, or none, is kept as it is): the
  // masked copy in `out`; true when anything was masked (`out` is then meaningful).
  bool redact_argv(std::string_view nul_separated, std::string& out);
  // One command line (Windows): words split at blanks.
  bool redact_command_line(std::string_view line, std::string& out);

 private:
  struct Span {
    std::size_t begin, end;
  };
  Redactor() = default;
  bool secret_option(std::string_view name) const;
  // Where the value in `item` begins when it is an option with a secret value attached
  // (npos: none); sets `value_next` when the next word is the value.
  std::size_t option_value(std::string_view item, std::string_view program, bool& value_next) const;
  // Regexes whose triggers (one each, same index) are matched all at once first.
  struct Patterns {
    std::unique_ptr<RE2::Set> triggers;
    std::vector<std::unique_ptr<RE2>> regexes;
  };
  static Result<Patterns> compile_patterns(const std::vector<std::pair<std::string_view, std::string_view>>& sources);
  void add_pattern_spans(std::string_view text, std::size_t offset);
  void add_spans(const RE2& re, std::string_view text, std::size_t offset);
  void find_builtin_hits(std::string_view text);
  // Appends `text` to `out` with spans_ (relative to `text`, any order) masked.
  bool append_masked(std::string_view text, std::string& out);
  // redact_argv() into parent_argv_, remembering the last input and its outcome.
  bool redact_parent_argv(std::string_view raw);

  bool builtin_ = true;
  std::vector<std::string> options_;  // normalised: lowercase, `_` as `-`
  Patterns builtin_patterns_;         // triggered by cheap regexes, checked over a whole argv first
  Patterns user_patterns_;            // each its own trigger, item by item (a user's ^ and $ hold)
  std::vector<int> builtin_hits_;     // the built-ins whose trigger matched in the text at hand
  std::vector<int> hits_;
  std::vector<Span> spans_;
  std::string argv_, parent_argv_, command_line_;
  std::string parent_input_;  // the parent argv parent_argv_ was made from (valid if parent_cached_)
  bool parent_cached_ = false;
  bool parent_masked_ = false;
};

}  // namespace procsentry
