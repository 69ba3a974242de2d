// procsentry record and query against the real sensor: what ran is found again, exactly.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "integration/monitor.h"

namespace procsentry::test {
namespace {

namespace fs = std::filesystem;

// procsentry with `args`: its stdout, and its wait status in `status`.
std::string procsentry_out(const std::vector<std::string>& args, int& status) {
  std::vector<std::string> argv{procsentry_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Captured c = capture(argv[0], argv);
  status = c.status;
  return c.out;
}

class EventStoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("record." + std::to_string(getpid()));
    fs::create_directories(dir_);
    db_ = (dir_ / "events.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string db_;
};

TEST_F(EventStoreCli, RecordThenQueryFindsTheExactExec) {
  if (!running_as_root()) GTEST_SKIP() << "needs root to load the sensor";
  Monitor recorder({"record", "--db", db_, "--print"});
  const std::string marker = "recorded-" + std::to_string(getpid());
  auto [pid, status] = run("/bin/echo", {"echo", marker, "a\x1b[31m b", ""});
  ASSERT_EQ(status, 0);
  EXPECT_EQ(recorder.stop(), 0);
  EXPECT_NE(recorder.stderr_text().find("events recorded to " + db_), std::string::npos) << recorder.stderr_text();
  struct stat st {};
  ASSERT_EQ(stat(db_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto live = recorder.of(pid, "exec");  // --print showed it live
  ASSERT_EQ(live.size(), 1u);

  int rc = 0;
  std::string out =
      procsentry_out({"query", "--db", db_, "--json", "--argv", marker, "--pid", std::to_string(pid)}, rc);
  EXPECT_EQ(rc, 0);
  std::istringstream lines(out);
  std::vector<nlohmann::json> found;
  for (std::string line; std::getline(lines, line);) found.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(found.size(), 1u) << out;
  EXPECT_EQ(found[0], live[0]);  // stored exactly as streamed
  EXPECT_EQ(found[0].at("argv"), (nlohmann::json{"echo", marker, "a\x1b[31m b", ""}));

  // The lineage query finds its exit too (same process_uid), and the table is escaped.
  out = procsentry_out({"query", "--db", db_, "--process-uid", found[0].at("process_uid").get<std::string>()}, rc);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("exec "), std::string::npos) << out;
  EXPECT_NE(out.find("exit "), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

// Refused before anything starts: no sensor, no root.
TEST_F(EventStoreCli, BadArgumentsAreOneLineAndStatus2) {
  Captured c = capture(procsentry_binary(), {procsentry_binary(), "record", "--db", db_, "--keep", "forever"});
  EXPECT_EQ(WEXITSTATUS(c.status), 2);
  EXPECT_NE(c.err.find("--keep"), std::string::npos) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
  EXPECT_EQ(c.out, "");
  c = capture(procsentry_binary(), {procsentry_binary(), "query", "--db", (dir_ / "missing.db").string()});
  EXPECT_NE(WEXITSTATUS(c.status), 0);
  EXPECT_NE(c.err.find("cannot open the database"), std::string::npos) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
  EXPECT_EQ(c.out, "");
}

}  // namespace
}  // namespace procsentry::test
