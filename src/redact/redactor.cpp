#include "redact/redactor.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <utility>

#include "redact/builtin_secrets.h"

namespace procsentry {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;
// Option names longer than this are no secret's (and need no buffer to normalise).
constexpr std::size_t kLongestName = 64;

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.find_last_of("/\\");
  return slash == kNpos ? path : path.substr(slash + 1);
}

// Lowercase with `_` as `-`: the form names are compared in.
char normalised(char c) {
  if (c == '_') return '-';
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool short_password_program(std::string_view program, bool& separate_value) {
  for (const ShortPasswordProgram& p : builtin_short_password_programs()) {
    if (p.name == program) {
      separate_value = p.separate_value;
      return true;
    }
  }
  return false;
}

}  // namespace

Result<Redactor::Patterns> Redactor::compile_patterns(
    const std::vector<std::pair<std::string_view, std::string_view>>& sources) {
  Patterns out;
  if (sources.empty()) return out;
  // Latin-1: every byte is a character, so a secret holding invalid UTF-8 is masked whole.
  RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(RE2::Options::EncodingLatin1);
  out.triggers = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (const auto& [trigger, regex] : sources) {
    auto re = std::make_unique<RE2>(re2::StringPiece(regex.data(), regex.size()), options);
    if (!re->ok()) return Error{fmt::format("bad regex \"{}\": {}", regex, re->error())};
    std::string error;
    if (out.triggers->Add(re2::StringPiece(trigger.data(), trigger.size()), &error) < 0) {
      return Error{fmt::format("bad regex \"{}\": {}", trigger, error)};
    }
    out.regexes.push_back(std::move(re));
  }
  if (!out.triggers->Compile()) return Error{"the redaction patterns are too big to compile together"};
  return out;
}

Result<std::unique_ptr<Redactor>> Redactor::compile(const RedactSettings& settings) {
  std::unique_ptr<Redactor> r(new Redactor);
  r->builtin_ = settings.builtin;
  for (const std::string& name : settings.options) {
    std::string n(name.substr(std::min(name.find_first_not_of('-'), name.size())));
    std::transform(n.begin(), n.end(), n.begin(), normalised);
    if (!n.empty()) r->options_.push_back(std::move(n));
  }
  std::vector<std::pair<std::string_view, std::string_view>> builtin, user;
  if (settings.builtin) {
    for (const SecretPattern& p : builtin_secret_patterns()) builtin.emplace_back(p.trigger, p.regex);
  }
  for (const std::string& regex : settings.regexes) user.emplace_back(regex, regex);
  auto builtin_patterns = compile_patterns(builtin);
  if (!builtin_patterns) return builtin_patterns.error();
  auto user_patterns = compile_patterns(user);
  if (!user_patterns) return user_patterns.error();
  r->builtin_patterns_ = std::move(*builtin_patterns);
  r->user_patterns_ = std::move(*user_patterns);
  r->hits_.reserve(user.size());
  r->builtin_hits_.reserve(builtin.size());
  r->spans_.reserve(16);
  return r;
}

bool Redactor::secret_option(std::string_view name) const {
  if (name.size() > kLongestName) return false;
  std::array<char, kLongestName> buffer{};
  std::transform(name.begin(), name.end(), buffer.begin(), normalised);
  const std::string_view n(buffer.data(), name.size());
  for (const std::string& o : options_) {
    if (n == o) return true;
  }
  if (!builtin_) return false;
  for (std::string_view prefix : builtin_valueless_prefixes()) {
    if (n.starts_with(prefix)) return false;
  }
  for (std::string_view s : builtin_secret_options()) {
    if (n == s || (n.size() > s.size() && n.ends_with(s) && n[n.size() - s.size() - 1] == '-')) return true;
  }
  return false;
}

std::size_t Redactor::option_value(std::string_view item, std::string_view program, bool& value_next) const {
  if (item.size() < 2 || item[0] != '-') return kNpos;
  bool separate = false;
  if (builtin_ && item[1] == 'p' && short_password_program(program, separate)) {
    if (item.size() > 2) return 2;  // mysql -pSECRET
    value_next = separate;          // mysql -p prompts; sshpass -p SECRET
    return kNpos;
  }
  const std::size_t dashes = item[1] == '-' ? 2 : 1;
  const std::size_t equals = item.find('=', dashes);
  const std::string_view name = item.substr(dashes, equals == kNpos ? kNpos : equals - dashes);
  // One letter (-p, -P, -t) means too many things to guess; programs above say what theirs mean.
  if (name.size() < 2 || !secret_option(name)) return kNpos;
  if (equals == kNpos) {
    value_next = true;
    return kNpos;
  }
  return equals + 1;
}

void Redactor::add_pattern_spans(std::string_view text, std::size_t offset) {
  for (int k : builtin_hits_) add_spans(*builtin_patterns_.regexes[static_cast<std::size_t>(k)], text, offset);
  if (user_patterns_.triggers == nullptr) return;
  hits_.clear();
  if (!user_patterns_.triggers->Match(re2::StringPiece(text.data(), text.size()), &hits_)) return;
  for (int k : hits_) add_spans(*user_patterns_.regexes[static_cast<std::size_t>(k)], text, offset);
}

void Redactor::add_spans(const RE2& re, std::string_view text, std::size_t offset) {
  const re2::StringPiece piece(text.data(), text.size());
  const int group = re.NumberOfCapturingGroups() > 0 ? 1 : 0;
  re2::StringPiece found[2];
  // The match's bounds first (DFAs only), its group then within them alone.
  for (std::size_t at = 0; at <= text.size() && re.Match(piece, at, text.size(), RE2::UNANCHORED, found, 1);) {
    const auto begin = static_cast<std::size_t>(found[0].data() - text.data());
    const std::size_t end = begin + found[0].size();
    if (group != 0) re.Match(piece, begin, end, RE2::ANCHOR_BOTH, found, 2);
    const re2::StringPiece& secret = found[group];
    if (secret.data() != nullptr && !secret.empty()) {
      const auto from = static_cast<std::size_t>(secret.data() - text.data());
      spans_.push_back({offset + from, offset + from + secret.size()});
    }
    at = end > at ? end : at + 1;  // an empty match moves on by one
  }
}

// Which built-in patterns can match anywhere in `text`: a byte scan, and when it finds a
// candidate one pass of the triggers' DFA; for most command lines the scan is all there is.
void Redactor::find_builtin_hits(std::string_view text) {
  builtin_hits_.clear();
  if (builtin_patterns_.triggers == nullptr || !builtin_secret_may_occur(text)) return;
  const re2::StringPiece piece(text.data(), text.size());
  if (!builtin_patterns_.triggers->Match(piece, nullptr)) return;
  builtin_patterns_.triggers->Match(piece, &builtin_hits_);
}

bool Redactor::append_masked(std::string_view text, std::string& out) {
  if (spans_.empty()) {
    out += text;
    return false;
  }
  std::sort(spans_.begin(), spans_.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  bool masked = false;
  std::size_t done = 0;
  for (std::size_t i = 0; i < spans_.size();) {
    Span s = spans_[i];
    for (++i; i < spans_.size() && spans_[i].begin <= s.end; ++i) s.end = std::max(s.end, spans_[i].end);
    if (s.end <= s.begin) continue;
    out += text.substr(done, s.begin - done);
    out += kMask;
    masked = true;
    done = s.end;
  }
  out += text.substr(done);
  spans_.clear();
  return masked;
}

bool Redactor::redact_argv(std::string_view raw, std::string& out) {
  out.clear();
  bool masked = false;
  // Most argvs hold no secret: `out` is only written from the first item with a span on
  // (then with the items before it), and is meaningful only when something was masked.
  bool copying = false;
  bool value_next = false;
  std::string_view program;  // argv[0]'s base name
  find_builtin_hits(raw);
  for (std::string_view rest = raw; !rest.empty();) {
    const std::size_t nul = rest.find('\0');
    const std::string_view item = rest.substr(0, nul);
    if (item.data() == raw.data()) program = base_name(item);
    if (std::exchange(value_next, false) && !item.starts_with("--")) {
      spans_.push_back({0, item.size()});  // the value of the option before
    } else {
      const std::size_t value = option_value(item, program, value_next);
      if (value != kNpos) spans_.push_back({value, item.size()});
      add_pattern_spans(item, 0);
    }
    if (!copying && !spans_.empty()) {
      out.assign(raw.data(), static_cast<std::size_t>(item.data() - raw.data()));
      copying = true;
    }
    if (copying) {
      masked = append_masked(item, out) || masked;
      if (nul != kNpos) out += '\0';
    }
    if (nul == kNpos) break;
    rest.remove_prefix(nul + 1);
  }
  return masked;
}

bool Redactor::redact_parent_argv(std::string_view raw) {
  // Consecutive execs mostly share a parent (a shell, make, a service): its argv is redacted
  // once, and again only when the bytes differ.
  if (parent_cached_ && raw == parent_input_) return parent_masked_;
  parent_masked_ = redact_argv(raw, parent_argv_);
  parent_input_.assign(raw);
  parent_cached_ = true;
  return parent_masked_;
}

bool Redactor::redact_command_line(std::string_view line, std::string& out) {
  out.clear();
  bool value_next = false;
  std::string_view program;
  bool first = true;
  find_builtin_hits(line);
  for (std::size_t at = 0; at < line.size();) {
    const std::size_t begin = line.find_first_not_of(" \t", at);
    if (begin == kNpos) break;
    const std::size_t end = std::min(line.find_first_of(" \t", begin), line.size());
    const std::string_view word = line.substr(begin, end - begin);
    if (std::exchange(first, false)) {
      program = base_name(word.substr(0, word.find('"', 1)));
      if (program.starts_with('"')) program.remove_prefix(1);
      if (program.size() > 4 && program.ends_with(".exe")) program.remove_suffix(4);
    }
    if (std::exchange(value_next, false) && !word.starts_with("--")) {
      spans_.push_back({begin, end});
    } else if (const std::size_t value = option_value(word, program, value_next); value != kNpos) {
      spans_.push_back({begin + value, end});
    }
    at = end;
  }
  add_pattern_spans(line, 0);
  return append_masked(line, out);
}

bool Redactor::redact(Event& event) {
  bool masked = false;
  if (event.kind == EventKind::exec) {
    if (event.argv_raw.present && redact_argv(event.argv_raw.bytes, argv_)) {
      event.argv_raw.bytes = argv_;
      // The same split as the decoder's, over the masked bytes: as many items, in order.
      std::string_view rest = argv_;
      for (std::string_view& item : event.argv) {
        const std::size_t nul = rest.find('\0');
        item = rest.substr(0, nul);
        rest.remove_prefix(nul == kNpos ? rest.size() : nul + 1);
      }
      masked = true;
    }
    if (event.parent_argv_raw.present && redact_parent_argv(event.parent_argv_raw.bytes)) {
      event.parent_argv_raw.bytes = parent_argv_;
      masked = true;
    }
  } else if (event.kind == EventKind::create) {
    parent_cached_ = false;  // parent_argv_ is about to hold a command line
    if (event.command_line.present && redact_command_line(event.command_line.bytes, command_line_)) {
      event.command_line.bytes = command_line_;
      masked = true;
    }
    if (event.parent_argv_raw.present && redact_command_line(event.parent_argv_raw.bytes, parent_argv_)) {
      event.parent_argv_raw.bytes = parent_argv_;
      masked = true;
    }
  }
  event.argv_redacted = masked;
  return masked;
}

}  // namespace procsentry
