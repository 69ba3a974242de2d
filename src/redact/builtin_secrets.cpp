#include "redact/builtin_secrets.h"

#include <array>
#include <cstddef>

namespace procsentry {
namespace {

constexpr std::string_view kOptions[] = {
    "password",    "passwd",        "passphrase", "pass",        "passin",     "passout",
    "secret",      "token",         "api-key",    "apikey",      "access-key", "secret-key",
    "private-key", "client-secret", "auth",       "credentials", "credential",
};

constexpr std::string_view kValueless[] = {"no-", "ask-"};

constexpr ShortPasswordProgram kShortPassword[] = {
    {"mysql", false},          {"mysqldump", false},     {"mysqladmin", false},   {"mysqlimport", false},
    {"mysqlcheck", false},     {"mysqlshow", false},     {"mysqlslap", false},    {"mysqlbinlog", false},
    {"mysqlpump", false},      {"mariadb", false},       {"mariadb-dump", false}, {"mariadb-admin", false},
    {"mariadb-import", false}, {"mariadb-check", false}, {"mariadb-show", false}, {"mariadb-slap", false},
    {"mariadb-binlog", false}, {"sshpass", true},
};

// Each masks a group or the whole match; kept apart so that a pattern's false positive
// can be named and documented.
constexpr SecretPattern kPatterns[] = {
    // AWS access key ids (user, temporary, role, ...): the whole id.
    {"aws-access-key-id", "(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]",
     R"(\b((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16})\b)"},
    // An HTTP Authorization header's credentials, whatever the scheme.
    {"authorization-header", "(?i)authorization:", R"((?i)\bauthorization:\s*(?:[a-z-]+\s+)?([^\s"']+))"},
    // RFC 6750's b64token; at least 8 characters, so that "bearer of news" is no token.
    {"bearer-token", R"((?i)bearer\s)", R"((?i)\bbearer\s+([A-Za-z0-9._~+/-]{8,}=*))"},
    // https://user:pass@host: the password only.
    {"url-password", R"(://[^/\s@]*@)", R"(\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^/\s@]+)@)"},
    // key=value for secret-named keys: query strings, libpq conninfo, ODBC, env-style args.
    {"secret-key-value",
     R"((?i)(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)=)",
     R"((?i)(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)=([^\s&;,"']+))"},
    {"github-token", "gh[pousr]_|github_pat_",
     R"(\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}))"},
    {"gitlab-token", "glpat-", R"(\b(glpat-[A-Za-z0-9_-]{20,}))"},
    {"slack-token", "xox[abposr]-", R"(\b(xox[abposr]-[A-Za-z0-9-]{10,}))"},
    {"google-api-key", "AIza", R"(\b(AIza[0-9A-Za-z_-]{35}))"},
    {"stripe-key", "[sr]k_live_", R"(\b((?:sk|rk)_live_[0-9A-Za-z]{16,}))"},
    {"jwt", "eyJ", R"(\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}))"},
    // An inline PEM private key: from its header to its footer (or the end).
    {"private-key-block", "-----BEGIN [A-Z ]*PRIVATE KEY-----",
     R"((-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|$)))"},
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// `text` at `at` spells `word` (lowercase), case ignored.
bool spells(std::string_view text, std::size_t at, std::string_view word) {
  if (at > text.size() || text.size() - at < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(text[at + i]) != word[i]) return false;
  }
  return true;
}
// `text` just before `at` ends with `word`, case ignored.
bool ends(std::string_view text, std::size_t at, std::string_view word) {
  return at >= word.size() && spells(text, at - word.size(), word);
}

}  // namespace

// The bytes the scan stops at; all others cost one table load.
constexpr std::array<bool, 256> kAnchors = [] {
  std::array<bool, 256> a{};
  for (char c : std::string_view(":=AJ_-bB")) a[static_cast<unsigned char>(c)] = true;
  return a;
}();

bool builtin_secret_may_occur(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!kAnchors[static_cast<unsigned char>(text[i])]) continue;
    switch (text[i]) {
      case ':':  // url-password (://), authorization-header
        if (spells(text, i + 1, "//") || ends(text, i, "authorization")) return true;
        break;
      case '=':  // secret-key-value: every key ends in one of these
        for (std::string_view key : {"password", "passwd", "passphrase", "pwd", "secret", "token", "key"}) {
          if (ends(text, i, key)) return true;
        }
        break;
      case 'A':  // aws-access-key-id (AKIA, ASIA, ...), google-api-key (AIza): case matters in both
        if (i + 3 < text.size() && text[i + 3] == 'A') return true;
        if (spells(text, i + 1, "iza")) return true;
        break;
      case 'J':  // jwt (eyJ)
        if (i >= 2 && text[i - 2] == 'e' && text[i - 1] == 'y') return true;
        break;
      case '_':  // github-token (gh?_, github_pat_), stripe-key (_live_)
        if (ends(text, i, "github") || spells(text, i + 1, "live_")) return true;
        if (i >= 3 && text[i - 3] == 'g' && text[i - 2] == 'h') return true;
        break;
      case '-':  // gitlab-token (glpat-), slack-token (xox?-), private-key-block (-----BEGIN)
        if (ends(text, i, "glpat") || spells(text, i + 1, "----begin")) return true;
        if (i >= 4 && text[i - 4] == 'x' && text[i - 3] == 'o' && text[i - 2] == 'x') return true;
        break;
      case 'b':
      case 'B':  // bearer-token
        if (spells(text, i + 1, "earer")) return true;
        break;
      default:
        break;
    }
  }
  return false;
}

std::span<const std::string_view> builtin_secret_options() { return kOptions; }
std::span<const std::string_view> builtin_valueless_prefixes() { return kValueless; }
std::span<const ShortPasswordProgram> builtin_short_password_programs() { return kShortPassword; }
std::span<const SecretPattern> builtin_secret_patterns() { return kPatterns; }

}  // namespace procsentry
