#include "core/filter.h"

#include <gtest/gtest.h>

namespace procsentry {
namespace {

Event exec_event(std::uint32_t pid, std::uint32_t ppid, std::uint32_t uid, std::string_view comm,
                 std::string_view image) {
  Event e;
  e.kind = EventKind::exec;
  e.task.pid = pid;
  e.task.ppid = ppid;
  e.task.uid = uid;
  e.task.comm = comm;
  e.image = Text{image, true, false, static_cast<std::uint32_t>(image.size())};
  return e;
}

TEST(Filter, EmptyMatchesEverything) {
  EXPECT_TRUE(Filter(FilterOptions{}).matches(exec_event(1, 0, 0, "init", "/sbin/init")));
}

TEST(Filter, CriteriaCombineWithAndValuesWithOr) {
  FilterOptions o;
  o.uids = {1000, 1001};
  o.images = {"/usr/bin/*"};
  Filter f(o);
  EXPECT_TRUE(f.matches(exec_event(5, 1, 1001, "ls", "/usr/bin/ls")));
  EXPECT_FALSE(f.matches(exec_event(5, 1, 0, "ls", "/usr/bin/ls")));
  EXPECT_FALSE(f.matches(exec_event(5, 1, 1000, "ls", "/opt/ls")));
}

TEST(Filter, PidPpidCommAndEvents) {
  FilterOptions o;
  o.pids = {5};
  o.ppids = {1};
  o.comms = {"ls"};
  o.events = {EventKind::exec};
  Filter f(o);
  EXPECT_TRUE(f.matches(exec_event(5, 1, 0, "ls", "/x")));
  EXPECT_FALSE(f.matches(exec_event(6, 1, 0, "ls", "/x")));
  EXPECT_FALSE(f.matches(exec_event(5, 2, 0, "ls", "/x")));
  EXPECT_FALSE(f.matches(exec_event(5, 1, 0, "lsof", "/x")));
  Event exit_event = exec_event(5, 1, 0, "ls", "/x");
  exit_event.kind = EventKind::exit;
  EXPECT_FALSE(f.matches(exit_event));
}

TEST(Filter, ImageGlobUsesWhatTheEventRan) {
  FilterOptions o;
  o.images = {"*/true"};
  Filter f(o);
  Event failed;
  failed.kind = EventKind::exec_failed;
  failed.filename = Text{"/nope/true", true, false, 10};
  EXPECT_TRUE(f.matches(failed));
  Event exit_event;
  exit_event.kind = EventKind::exit;
  exit_event.known_image = Text{"/usr/bin/true", true, false, 13};
  EXPECT_TRUE(f.matches(exit_event));
  exit_event.known_image = Text{};
  EXPECT_FALSE(f.matches(exit_event));
}

TEST(Filter, LostAlwaysPasses) {
  FilterOptions o;
  o.pids = {123};
  o.events = {EventKind::exec};
  Event lost;
  lost.kind = EventKind::lost;
  EXPECT_TRUE(Filter(o).matches(lost));
}

}  // namespace
}  // namespace procsentry
