// The configuration file under the command line: its keys are the options (the command line
// wins), subcommand sections apply to their subcommand, a key no command uses is no refusal
// (one file serves every command), and every bad key or value names the file and line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "app/options.h"
#include "config/config_file.h"

namespace procsentry {
namespace {

class ConfigOptions : public ::testing::Test {
 protected:
  ConfigOptions() {
    dir_ = std::filesystem::temp_directory_path() / ("config_options_test." + std::to_string(::getpid()) + "." +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  ~ConfigOptions() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& yaml) {
    const auto path = (dir_ / "procsentry.yaml").string();
    std::ofstream(path) << yaml;
    return path;
  }
  Result<ParsedOptions> parse(std::vector<std::string> args, const std::string& default_path = "") {
    args.insert(args.begin(), "procsentry");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return parse_options(static_cast<int>(argv.size()), argv.data(), ConfigSupport{&read_config_options, default_path});
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigOptions, KeysAreOptionsAndTheCommandLineWins) {
  const std::string path = write("json: true\nargv-cap: 8192\ncomm: [bash, sh]\noutput: /var/log/p.json\n");
  auto parsed = parse({"--config", path, "--argv-cap", "16384"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->options.json);
  EXPECT_EQ(parsed->options.sensor.argv_cap, 16384u);
  EXPECT_EQ(parsed->options.filter.comms, (std::vector<std::string>{"bash", "sh"}));
  EXPECT_EQ(parsed->options.output_file, "/var/log/p.json");
  EXPECT_EQ(parsed->options.config_path, path);
}

TEST_F(ConfigOptions, FormatKeyAndItsBadValue) {
  auto parsed = parse({"--config", write("format: ocsf\noutput: /var/log/p.json\n"), "-q"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->options.format, EventFormat::ocsf);
  EXPECT_EQ(parse({"--config", write("format: ocsf\n"), "--json", "--format", "ecs"})->options.format,
            EventFormat::ecs);
  auto bad = parse({"--config", write("json: true\nformat: cef\n")});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(":2: format: "), std::string::npos) << bad.error().message;
}

TEST_F(ConfigOptions, SectionsApplyToTheirSubcommand) {
  const std::string path = write("record:\n  db: /srv/events.db\n  keep: 7d\n");
  auto parsed = parse({"--config", path, "record"});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->options.command, Command::record);
  EXPECT_EQ(parsed->options.db, "/srv/events.db");
  EXPECT_EQ(parsed->options.keep, "7d");
}

TEST_F(ConfigOptions, OneFileServesEveryCommand) {
  // A service's file (outputs, --quiet) must not make `procsentry tree` or `query` refuse.
  const std::string path = write("quiet: true\nsyslog: tcp://127.0.0.1:514\nhash: sha256\n");
  for (const char* command : {"tree", "query"}) {
    auto parsed = parse({"--config", path, command});
    EXPECT_TRUE(parsed) << command << ": " << parsed.error().message;
  }
  // The command line is still judged: `-q` needs an output, which the file gives.
  EXPECT_TRUE(parse({"--config", path, "-q"}));
}

TEST_F(ConfigOptions, TheDefaultFileIsReadWhenItExistsAndEmptyMeansNone) {
  const std::string path = write("json: true\n");
  auto by_default = parse({}, path);
  ASSERT_TRUE(by_default) << by_default.error().message;
  EXPECT_TRUE(by_default->options.json);
  EXPECT_EQ(by_default->options.config_path, path);
  auto none = parse({"--config", ""}, path);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->options.json);
  EXPECT_TRUE(none->options.config_path.empty());
  auto absent = parse({}, (dir_ / "absent.yaml").string());
  ASSERT_TRUE(absent) << absent.error().message;
  EXPECT_TRUE(absent->options.config_path.empty());
}

TEST_F(ConfigOptions, BadKeysAndValuesNameFileLineAndKey) {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"json: true\njsn: true\n", ":2: jsn: unknown key"},
      {"record:\n  dbx: /x\n", ":2: record.dbx: unknown key"},
      {"config: /etc/other.yaml\n", ":1: config: not a key of the file"},
      {"\nargv-cap: 12\n", ":2: argv-cap: "},
      {"color: sometimes\n", ":1: color: "},
      {"events: [exec, hash]\n", ":1: events: "},
      {"keep-files: [1, 2]\n", ":1: keep-files: "},
      {"pid: {a: 1}\n", ":1: pid: not a section"},
      {"record:\n  keep: {a: 1}\n", ":2: record.keep: sections do not nest"},
      {"json: [\n", ":2: not valid YAML"},
      {"- a\n- b\n", ":1: the file must be a map"},
  };
  for (const Case& c : cases) {
    const std::string path = write(c.yaml);
    auto parsed = parse({"--config", path});
    ASSERT_FALSE(parsed) << c.yaml;
    const std::string& message = parsed.error().message;
    EXPECT_EQ(message.rfind(path + c.expected, 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  auto missing = parse({"--config", (dir_ / "absent.yaml").string()});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot read the configuration file"), std::string::npos);
}

}  // namespace
}  // namespace procsentry
