#include "redact/builtin_secrets.h"

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

}  // namespace

std::span<const std::string_view> builtin_secret_options() { return kOptions; }
std::span<const std::string_view> builtin_valueless_prefixes() { return kValueless; }
std::span<const ShortPasswordProgram> builtin_short_password_programs() { return kShortPassword; }
std::span<const SecretPattern> builtin_secret_patterns() { return kPatterns; }

}  // namespace procsentry
