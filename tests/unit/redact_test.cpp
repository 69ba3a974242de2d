// Secrets kept out: each built-in option-name form, each built-in pattern and a user regex
// with a real-looking secret; a harmless command line untouched; the event's views, argv_raw
// and parent_argv rewritten together; hostile input (huge, invalid UTF-8); the `redact:`
// reader's every error naming its file, line and key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "redact/builtin_secrets.h"
#include "redact/redact_config.h"
#include "redact/redactor.h"

namespace procsentry {
namespace {

using namespace std::string_literals;
using Argv = std::vector<std::string>;

std::string joined(const Argv& argv) {
  std::string raw;
  for (const std::string& a : argv) raw.append(a).push_back('\0');
  return raw;
}

Argv split(std::string_view raw) {
  Argv argv;
  for (std::string_view rest = raw; !rest.empty();) {
    const std::size_t nul = rest.find('\0');
    argv.emplace_back(rest.substr(0, nul));
    rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
  }
  return argv;
}

std::unique_ptr<Redactor> redactor(RedactSettings settings = {}) {
  auto r = Redactor::compile(settings);
  EXPECT_TRUE(r) << r.error().message;
  return std::move(*r);
}

// What the argv becomes: unchanged when nothing was masked.
Argv masked(Redactor& r, const Argv& argv) {
  std::string out;
  const std::string raw = joined(argv);
  if (!r.redact_argv(raw, out)) return argv;
  return split(out);
}
Argv masked(const Argv& argv) {
  static const std::unique_ptr<Redactor> builtin = redactor();  // compiled once for all cases
  return masked(*builtin, argv);
}

TEST(RedactOptions, EachBuiltinNameWithEqualsSeparateAndSingleDash) {
  for (std::string_view name : builtin_secret_options()) {
    const std::string n(name);
    SCOPED_TRACE(n);
    EXPECT_EQ(masked({"app", "--" + n + "=hunter2-S3cr3t"}), (Argv{"app", "--" + n + "=***"}));
    EXPECT_EQ(masked({"app", "--" + n, "hunter2-S3cr3t", "next"}), (Argv{"app", "--" + n, "***", "next"}));
    EXPECT_EQ(masked({"app", "-" + n, "hunter2-S3cr3t"}), (Argv{"app", "-" + n, "***"}));
  }
}

TEST(RedactOptions, SuffixesCaseAndUnderscores) {
  EXPECT_EQ(masked({"app", "--db-password=p4ss", "--GitHub_Token", "tok3n", "--client_secret=abc"}),
            (Argv{"app", "--db-password=***", "--GitHub_Token", "***", "--client_secret=***"}));
  EXPECT_EQ(masked({"aws", "--aws-secret-key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}),
            (Argv{"aws", "--aws-secret-key", "***"}));
  EXPECT_EQ(masked({"openssl", "enc", "-passin", "pass:s3cret", "-in", "f"}),
            (Argv{"openssl", "enc", "-passin", "***", "-in", "f"}));
}

TEST(RedactOptions, NamesThatOnlyLookLikeSecrets) {
  const Argv harmless[] = {
      {"docker", "login", "--password-stdin", "-u", "bob"},
      {"ansible-playbook", "--ask-pass", "-i", "hosts", "site.yml"},
      {"mysql", "--no-password", "db"},
      {"app", "--bypass", "x", "--token-file", "/run/token", "--passwords-dir", "/etc/p"},
      {"app", "--password", "--verbose"},  // no value given: the next option is not one
      {"app", "--password="},
      {"ssh", "-p", "2222", "host"},
      {"mkdir", "-p", "/tmp/x"},
      {"docker", "run", "-p8080:80", "nginx"},
      {"gcc", "-pthread", "-o", "a", "a.c"},
  };
  for (const Argv& argv : harmless) EXPECT_EQ(masked(argv), argv) << argv[0] << " " << argv[1];
}

TEST(RedactOptions, MysqlFamilyAndSshpassShortForms) {
  EXPECT_EQ(masked({"/usr/bin/mysql", "-uroot", "-pHunter2!", "db"}),
            (Argv{"/usr/bin/mysql", "-uroot", "-p***", "db"}));
  EXPECT_EQ(masked({"mariadb-dump", "-pS3cret", "--all-databases"}),
            (Argv{"mariadb-dump", "-p***", "--all-databases"}));
  // mysql -p alone prompts; the word after it is the database.
  EXPECT_EQ(masked({"mysql", "-p", "db"}), (Argv{"mysql", "-p", "db"}));
  EXPECT_EQ(masked({"sshpass", "-p", "hunter2", "ssh", "h"}), (Argv{"sshpass", "-p", "***", "ssh", "h"}));
  EXPECT_EQ(masked({"sshpass", "-phunter2", "ssh", "h"}), (Argv{"sshpass", "-p***", "ssh", "h"}));
  // The program is argv[0], even an empty one, never a later word.
  EXPECT_EQ(masked({"", "mysql", "-pX"}), (Argv{"", "mysql", "-pX"}));
  EXPECT_EQ(masked({"", "--password", "x"}), (Argv{"", "--password", "***"}));
}

struct PatternCase {
  std::string_view pattern;
  std::string item;
  std::string expected;
};

TEST(RedactPatterns, EachBuiltinPatternWithARealLookingSecret) {
  const PatternCase cases[] = {
      {"aws-access-key-id", "AKIAIOSFODNN7EXAMPLE", "***"},
      {"aws-access-key-id", "key=ASIAY34FZKBOKMUTVV7A,region=eu", "key=***,region=eu"},
      {"authorization-header", "Authorization: Basic dXNlcjpodW50ZXIy", "Authorization: Basic ***"},
      {"bearer-token", "Bearer eyJhbGciOiJIUzI1NiJ9.abc-def_ghi", "Bearer ***"},
      {"url-password", "https://deploy:hunter2@git.example.com/repo.git",
       "https://deploy:***@git.example.com/repo.git"},
      {"secret-key-value", "host=db user=app password=hunter2 dbname=x", "host=db user=app password=*** dbname=x"},
      {"secret-key-value", "https://api.example.com/v1?api_key=0123abcd&q=1",
       "https://api.example.com/v1?api_key=***&q=1"},
      {"github-token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "***"},
      {"github-token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "***"},
      {"gitlab-token", "glpat-xK3v9sY2LmQ8rT1wZ4pA", "***"},
      {"slack-token", "xoxb-2401234567-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "***"},
      {"google-api-key", "AIzaSyD3x4mpl3K3yV4lu3F0rT3st1ngAbCdEfG", "***"},
      {"stripe-key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "***"},
      {"jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "***"},
      {"private-key-block", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "***"},
  };
  std::set<std::string_view> covered;
  for (const PatternCase& c : cases) {
    SCOPED_TRACE(c.item);
    EXPECT_EQ(masked({"curl", "-H", c.item}), (Argv{"curl", "-H", c.expected}));
    covered.insert(c.pattern);
  }
  for (const SecretPattern& p : builtin_secret_patterns()) EXPECT_TRUE(covered.count(p.name)) << p.name;
}

// The byte scan in front of the patterns lets every example above through (or they would not
// be masked) and stops typical command lines, which then cost no regex at all.
TEST(RedactPatterns, TheByteScanStopsTypicalCommandLines) {
  using namespace std::string_view_literals;
  for (std::string_view text :
       {"java\0-Xmx2g\0-Dconfig.file=/etc/app.conf\0-jar\0/srv/app.jar\0--port\0"
        "8080"sv,
        "/bin/sh\0-c\0ps -eo pid,comm | grep -v grep | wc -l"sv, "git\0rev-parse\0--abbrev-ref\0HEAD"sv}) {
    EXPECT_FALSE(builtin_secret_may_occur(text)) << text;
  }
  EXPECT_TRUE(builtin_secret_may_occur("x AUTHORIZATION: y"));
}

TEST(RedactPatterns, SeveralSecretsInOneItemAndOverlaps) {
  EXPECT_EQ(
      masked({"sh", "-c", "curl -H 'Authorization: Bearer abc.def.ghi' https://u:pw@h/?token=x AKIAIOSFODNN7EXAMPLE"}),
      (Argv{"sh", "-c", "curl -H 'Authorization: Bearer ***' https://u:***@h/?token=*** ***"}));
}

TEST(RedactPatterns, UserOptionsAndRegexes) {
  RedactSettings s;
  s.options = {"--my-secret-flag"};
  s.regexes = {"token=[^ ]+", "pin:([0-9]+)"};
  auto r = redactor(s);
  EXPECT_EQ(masked(*r, {"app", "--my-secret-flag", "v4lue", "--my-secret-flag=v"}),
            (Argv{"app", "--my-secret-flag", "***", "--my-secret-flag=***"}));
  EXPECT_EQ(masked(*r, {"app", "run token=abc123 now", "pin:1234"}), (Argv{"app", "run *** now", "pin:***"}));
  // Without the built-ins only what the user listed is masked.
  s.builtin = false;
  auto only_user = redactor(s);
  EXPECT_EQ(masked(*only_user, {"app", "--password=x", "AKIAIOSFODNN7EXAMPLE", "token=abc"}),
            (Argv{"app", "--password=x", "AKIAIOSFODNN7EXAMPLE", "***"}));
}

TEST(RedactPatterns, HarmlessCommandLinesAreUntouched) {
  const Argv harmless[] = {
      {"/usr/bin/true", "other"},
      {"git", "clone", "https://github.com/torvalds/linux.git"},
      {"ls", "-la", "/home/alice/passwords.txt"},
      {"grep", "-r", "token", "src/"},
      {"curl", "-H", "Accept: application/json", "https://example.com/api?q=1&page=2"},
      {"python3", "-c", "print('bearer of bad news')"},
      {"systemctl", "status", "sshd"},
  };
  auto r = redactor();
  for (const Argv& argv : harmless) {
    std::string out;
    EXPECT_FALSE(r->redact_argv(joined(argv), out)) << argv[0] << " " << argv[1];
  }
}

TEST(RedactEvent, ArgvRawViewsAndParentArgvAreRewrittenTogether) {
  auto r = redactor();
  const std::string raw = joined({"mysql", "-pS3cret", "--password", "\xff\xfehunter2"});
  const std::string parent = joined({"bash", "-c", "x --token=abc"});
  Event e;
  e.kind = EventKind::exec;
  e.argv_raw = Text{raw, true, false, static_cast<std::uint32_t>(raw.size())};
  std::string_view rest = raw;
  for (int i = 0; i < 4; ++i) {
    const std::size_t nul = rest.find('\0');
    e.argv.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  e.parent_argv_raw = Text{parent, true, false, static_cast<std::uint32_t>(parent.size())};
  EXPECT_TRUE(r->redact(e));
  EXPECT_TRUE(e.argv_redacted);
  EXPECT_EQ(e.argv, (std::vector<std::string_view>{"mysql", "-p***", "--password", "***"}));
  // The raw bytes (argv_b64's source) carry no secret either, and keep the layout.
  EXPECT_EQ(e.argv_raw.bytes, joined({"mysql", "-p***", "--password", "***"}));
  EXPECT_EQ(e.parent_argv_raw.bytes, joined({"bash", "-c", "x --token=***"}));
}

// The process table keeps the argv it was given masked: a child's parent_argv shows the mask
// again, and the event still says so.
TEST(RedactEvent, AnAlreadyMaskedParentStillSaysRedacted) {
  auto r = redactor();
  const std::string parent = joined({"app", "--password=***"});
  Event e;
  e.kind = EventKind::exec;
  e.parent_argv_raw = Text{parent, true, false, static_cast<std::uint32_t>(parent.size())};
  EXPECT_TRUE(r->redact(e));
  EXPECT_TRUE(e.argv_redacted);
  EXPECT_EQ(e.parent_argv_raw.bytes, parent);
}

// A parent's argv is redacted again only when its bytes differ from the last one's: the
// same bytes give the same outcome, different bytes (even in the same buffer) their own.
TEST(RedactEvent, ConsecutiveParentsEachGetTheirOwnOutcome) {
  auto r = redactor();
  std::string parent = joined({"app", "--password", "hunter2"});
  const std::string plain = joined({"app", "--verbose", "hunter2"});
  auto exec_of = [&](const std::string& p) {
    Event e;
    e.kind = EventKind::exec;
    e.parent_argv_raw = Text{p, true, false, static_cast<std::uint32_t>(p.size())};
    const bool masked = r->redact(e);
    return std::pair(masked, std::string(e.parent_argv_raw.bytes));
  };
  const auto masked = std::pair(true, joined({"app", "--password", "***"}));
  EXPECT_EQ(exec_of(parent), masked);
  EXPECT_EQ(exec_of(parent), masked);
  EXPECT_EQ(exec_of(plain), std::pair(false, plain));
  EXPECT_EQ(exec_of(parent), masked);
  parent = plain;  // new bytes in the same buffer
  EXPECT_EQ(exec_of(parent), std::pair(false, plain));
  // A Windows event in between uses the same buffer for its parent's command line.
  const std::string line = "app --password hunter2";
  Event create;
  create.kind = EventKind::create;
  create.parent_argv_raw = Text{line, true, false, static_cast<std::uint32_t>(line.size())};
  EXPECT_TRUE(r->redact(create));
  parent = joined({"app", "--password", "hunter2"});
  EXPECT_EQ(exec_of(parent), masked);
  EXPECT_EQ(exec_of(parent), masked);
}

TEST(RedactEvent, WindowsCommandLines) {
  auto r = redactor();
  const std::string line = R"("C:\Tools\app.exe" --password hunter2 /x --api-key=abc https://u:pw@h)";
  Event e;
  e.kind = EventKind::create;
  e.command_line = Text{line, true, false, static_cast<std::uint32_t>(line.size())};
  EXPECT_TRUE(r->redact(e));
  EXPECT_EQ(e.command_line.bytes, R"("C:\Tools\app.exe" --password *** /x --api-key=*** https://u:***@h)");
}

TEST(RedactHostile, HugeInvalidUtf8AndUnterminated) {
  auto r = redactor();
  std::mt19937 rng(7);
  std::string huge(1 << 20, '\0');
  for (char& c : huge) c = static_cast<char>(rng() % 255 + 1);  // NUL-free noise, mostly not UTF-8
  std::string out;
  r->redact_argv(joined({"app", huge}), out);  // must only terminate
  // A secret in invalid UTF-8 is masked whole, and an argv cut without its last NUL stays cut.
  const std::string cut = "app\0--password=\xff\xfe\x80secret"s;
  ASSERT_TRUE(r->redact_argv(cut, out));
  EXPECT_EQ(out, "app\0--password=***"s);
  const std::string long_secret = "--password=" + std::string(100000, 'x');
  ASSERT_TRUE(r->redact_argv(joined({"app", long_secret}), out));
  EXPECT_EQ(out, joined({"app", "--password=***"}));
  Argv pairs;
  for (int i = 0; i < 10000; ++i) pairs.insert(pairs.end(), {"--token", "t0ken"});
  const std::string many = joined(pairs);
  ASSERT_TRUE(r->redact_argv(many, out));
  EXPECT_EQ(split(out).size(), 20000u);
}

// A YAML file in a private temporary directory, removed with the fixture.
class RedactConfig : public ::testing::Test {
 protected:
  RedactConfig() {
    dir_ = std::filesystem::temp_directory_path() / ("redact_test." + std::to_string(::getpid()) + "." +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "c.yaml").string();
  }
  ~RedactConfig() override { std::filesystem::remove_all(dir_); }
  Result<RedactSettings> read(const std::string& yaml) {
    std::ofstream(path_) << yaml;
    auto file = load_config_file(path_);
    if (!file) return file.error();
    return redact_from_config(*file);
  }
  std::string error(const std::string& yaml) {
    auto r = read(yaml);
    return r ? "(read)" : r.error().message;
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(RedactConfig, Forms) {
  auto absent = read("json: true\n");
  ASSERT_TRUE(absent);
  EXPECT_TRUE(absent->enabled && absent->builtin);
  for (const char* off : {"redact: false\n", "redact: off\n"}) {
    auto s = read(off);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->enabled);
  }
  auto map = read("redact:\n  builtin: false\n  options: [my-secret-flag]\n  regex: [\"token=[^ ]+\"]\n");
  ASSERT_TRUE(map) << map.error().message;
  EXPECT_TRUE(map->enabled);
  EXPECT_FALSE(map->builtin);
  EXPECT_EQ(map->options, std::vector<std::string>{"my-secret-flag"});
  EXPECT_EQ(map->regexes, std::vector<std::string>{"token=[^ ]+"});
}

TEST_F(RedactConfig, EveryErrorNamesFileLineAndKey) {
  EXPECT_EQ(error("json: true\nredact: maybe\n"), path_ + ":2: redact: true or false (on or off) was expected");
  EXPECT_EQ(error("redact:\n  colour: red\n"),
            path_ + ":2: redact.colour: unknown key (expected builtin, options or regex)");
  EXPECT_EQ(error("redact:\n  builtin: 3\n"), path_ + ":2: redact.builtin: true or false (on or off) was expected");
  EXPECT_EQ(error("redact:\n  regex:\n    - ok\n    - \"(unclosed\"\n"),
            path_ + ":4: redact.regex: bad regex: missing ): (unclosed");
  EXPECT_EQ(error("redact:\n  regex: \"x*\"\n"),
            path_ + ":2: redact.regex: this regex matches an empty text: it would mask nothing");
  EXPECT_EQ(error("redact:\n  options: [\"a=b\"]\n"),
            path_ + ":2: redact.options: \"a=b\" is not an option name (e.g. my-secret-flag)");
  EXPECT_EQ(error("redact:\n  options: [{a: 1}]\n"),
            path_ + ":2: redact.options[0]: a non-empty plain value was expected");
}

}  // namespace
}  // namespace procsentry
