// procsentry tree over a fake /proc: structure, JSON, width and escaping.
#include "app/tree_view.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "platform/linux/proc_processes.h"
#include "platform/machine.h"
#include "support/fake_proc.h"

namespace procsentry {
namespace {

using test::FakeProcess;

std::size_t columns(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

class TreeViewTest : public ::testing::Test {
 protected:
  TreeViewTest() {
    const std::string id(64, 'c');
    proc_.add(FakeProcess{1, 0, 5, "init", "/sbin/init", {"/sbin/init"}, 0, "/init.scope"});
    proc_.add(FakeProcess{2, 0, 5, "kthreadd", "", {}, 0, "/"});
    proc_.add(FakeProcess{10, 1, 50, "sshd", "/usr/sbin/sshd", {"sshd", "-D"}, 0, "/system.slice/ssh.service"});
    proc_.add(FakeProcess{20, 10, 60, "bash", "/usr/bin/bash", {"-bash"}, 0, "/user.slice"});
    proc_.add(FakeProcess{30,
                          20,
                          70,
                          "evil",
                          "/tmp/evil",
                          {"evil", "\x1b[31mred\nline", std::string(300, 'x')},
                          0,
                          "/system.slice/docker-" + id + ".scope"});
    proc_.add(FakeProcess{21, 10, 61, "bash", "/usr/bin/bash", {"-bash"}, 0, "/user.slice"});
    table_.seed_from_os();
  }
  test::FakeProc proc_;
  ProcProcesses os_{proc_.root()};
  ProcessTable table_{ProcessUidScheme("ab", 10'000'000), ProcessTableOptions{&os_, false}};
  UserNames users_{user_database()};
};

TEST_F(TreeViewTest, JsonFollowsTheTreeInOrder) {
  std::string out;
  auto shown = render_tree(table_, users_, 0, true, out);
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(*shown, 6u);
  std::istringstream lines(out);
  std::vector<std::pair<int, int>> pid_depth;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    pid_depth.emplace_back(j.at("pid").get<int>(), j.at("depth").get<int>());
    if (j.at("pid") == 30) {
      EXPECT_EQ(j.at("container_id"), std::string(64, 'c'));
      EXPECT_EQ(j.at("argv")[1], "\x1b[31mred\nline");
      EXPECT_EQ(j.at("process_uid"), "ab000000-30-70");
      EXPECT_EQ(j.at("ppid"), 20);
      EXPECT_EQ(j.at("seeded"), true);
    }
  }
  std::vector<std::pair<int, int>> expected{{1, 0}, {10, 1}, {20, 2}, {30, 3}, {21, 2}, {2, 0}};
  EXPECT_EQ(pid_depth, expected);
}

TEST_F(TreeViewTest, TextFitsAHundredColumnsAndIsEscaped) {
  std::string out;
  ASSERT_TRUE(render_tree(table_, users_, 0, false, out).has_value());
  std::istringstream lines(out);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_LE(columns(line), kTreeWidth) << line;
    EXPECT_EQ(line.find('\x1b'), std::string::npos) << "raw escape in: " << line;
  }
  EXPECT_EQ(count, 7u);  // header + 6 processes: the newline in argv did not make a line
  EXPECT_NE(out.find("\\e[31mred\\nline"), std::string::npos) << out;
  EXPECT_NE(out.find("cccccccccccc "), std::string::npos) << out;  // short container id
  EXPECT_NE(out.find("[kthreadd]"), std::string::npos) << out;
  EXPECT_NE(out.find("\xe2\x94\x94\xe2\x94\x80 "), std::string::npos) << out;  // "└─ "
}

TEST_F(TreeViewTest, OneSubtree) {
  std::string out;
  auto shown = render_tree(table_, users_, 20, true, out);
  ASSERT_TRUE(shown.has_value());
  EXPECT_EQ(*shown, 2u);
  auto missing = render_tree(table_, users_, 99999, true, out);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("no process 99999"), std::string::npos);
}

}  // namespace
}  // namespace procsentry
