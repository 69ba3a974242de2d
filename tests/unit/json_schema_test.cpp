// docs/json-schema.md against the JSON Lines writer: for every event kind, an event with every
// field the pipeline can give that kind (every text not UTF-8, cut and measured) is formatted,
// and its keys must be the document's list for that kind, in order; every listed key must have
// a row in the document's tables (or be a companion the lossless scheme describes).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sinks/formats/json_format.h"

namespace procsentry {
namespace {

constexpr std::int64_t kTime = 1'795'521'841'123'456'789;

// Text that is not UTF-8, cut by a limit that knew the whole length: every companion key.
Text hostile(std::string_view bytes) { return Text{bytes, true, true, 9000}; }

// Every field the pipeline can set on an event of `kind` (decode, the process table, the
// user names, cgroups, --ancestry, --hash), with the shape it has there.
struct FullEvent {
  std::string bad = "/x/\xff";  // not UTF-8
  std::string argv = std::string("a\0\xff\0", 4);
  ProcessUidScheme scheme{"b44953de", 10'000'000};
  HeartbeatCounts counts{60, {}, {0, 2}, {{"file /var/log/procsentry.jsonl", 3}}};
  Event event;

  explicit FullEvent(EventKind kind) {
    Event& e = event;
    e.kind = kind;
    e.time_ns = kTime;
    e.seq = 12;  // every event the pipeline writes is numbered
    e.host_id = "4c4c4544004d3510804cb2c04f4a4d33";
    e.boot_id = "b44953de-1bdc-4a3f-8f2b-3b4e9f0c7a11";
    if (kind == EventKind::heartbeat) {
      e.heartbeat = &counts;
      return;
    }
    if (kind == EventKind::lost) {
      e.lost_count = 3;
      e.lost_cause = 1;
      return;
    }
    e.task = Task{42, 43, 41, 1000, 1000, 0, kTime, 1, "\xff"};
    e.process_uid = scheme.make(42, 7);
    if (kind == EventKind::hash) {
      e.task.has_uid_and_comm = false;  // a hash event says nothing of the task (pipeline)
      e.image = hostile(bad);
      e.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
      e.sha256_missing = "pending";
      return;
    }
    e.user = "alice";
    e.parent_uid = scheme.make(41, 6);
    e.rules = {"from-tmp", "execs-and-exits"};
    switch (kind) {
      case EventKind::create:
        e.task.has_uid_and_comm = false;  // Windows
        e.image = hostile(bad);
        e.command_line = hostile(bad);
        e.creator_pid = 40;
        e.session_id = 1;
        e.parent_image = hostile(bad);
        e.parent_argv_raw = hostile(bad);
        e.parent_seeded = true;
        e.argv_redacted = true;
        break;
      case EventKind::exec:
        e.image = hostile(bad);
        e.image_memfd = e.image_deleted = e.image_upper_layer = e.exec_fd = true;
        e.image_uid = 0;
        e.image_mode = 0100000 | 06755;
        e.filename = hostile(bad);
        e.is_script = true;
        e.script = bad;
        e.cwd = hostile(bad);
        e.argv_raw = Text{argv, true, true, 9000};
        e.argv = {std::string_view(argv).substr(0, 1), std::string_view(argv).substr(2, 1)};
        e.argv_truncated = e.argv_unreadable = true;
        e.argv_original_length = 9000;
        e.argv_redacted = true;
        e.group = "staff";
        e.loginuid = 1000;
        e.audit_session = 2;
        e.tty = bad;
        e.pid_ns = 4026531836u;
        e.cgroup_id = 77;
        e.cgroup = bad;
        e.container_id = "0123456789abcdef";
        e.parent_image = hostile(bad);
        e.parent_argv_raw = Text{argv, true, true, 4};
        e.parent_seeded = true;
        e.ancestry.push_back(Event::Ancestor{41, scheme.make(41, 6), "/bin/sh"});
        e.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        e.sha256_missing = "pending";
        break;
      case EventKind::exec_failed:
        e.filename = hostile(bad);
        e.error = 2;
        break;
      case EventKind::fork:
        e.known_image = hostile(bad);
        e.parent_pid = 41;
        e.parent_tid = 41;
        e.parent_seeded = true;
        break;
      case EventKind::exit:
        e.known_image = hostile(bad);
        e.exit_code = 0;
        e.exit_signal = 9;
        e.core_dumped = true;
        e.duration_ns = 5;
        e.seeded = true;
        break;
      case EventKind::lost:
      case EventKind::hash:
      case EventKind::heartbeat:
        break;
    }
  }
};

std::vector<std::string> keys_written(EventKind kind) {
  FullEvent full(kind);
  std::string line;
  JsonFormatter().append(line, full.event);
  std::vector<std::string> keys;
  const auto object = nlohmann::ordered_json::parse(line);
  for (const auto& item : object.items()) keys.push_back(item.key());
  return keys;
}

std::string document() {
  std::ifstream in(PROCSENTRY_JSON_SCHEMA);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The backquoted names of `text` in order.
std::vector<std::string> quoted(std::string_view text) {
  std::vector<std::string> names;
  for (std::size_t at = text.find('`'); at != std::string_view::npos; at = text.find('`', at)) {
    const std::size_t end = text.find('`', at + 1);
    if (end == std::string_view::npos) break;
    names.emplace_back(text.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return names;
}

// "- `exec`: `event`, `time`, ..." lines of the "Keys of each event, in order" section.
std::map<std::string, std::vector<std::string>> documented_lists(const std::string& doc) {
  std::map<std::string, std::vector<std::string>> lists;
  const std::size_t section = doc.find("## Keys of each event, in order");
  EXPECT_NE(section, std::string::npos) << "the section is gone";
  if (section == std::string::npos) return lists;
  std::istringstream lines(doc.substr(section));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line) && !line.starts_with("## ")) {
    if (!line.starts_with("- `")) continue;
    const std::size_t colon = line.find(':');
    auto kind = quoted(std::string_view(line).substr(0, colon));
    if (kind.size() == 1) lists[kind[0]] = quoted(std::string_view(line).substr(colon));
  }
  return lists;
}

// Names in the first column of the tables' rows.
std::set<std::string> table_keys(const std::string& doc) {
  std::set<std::string> keys;
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("| `")) continue;
    for (auto& name : quoted(std::string_view(line).substr(0, line.find('|', 1)))) keys.insert(name);
  }
  return keys;
}

constexpr EventKind kKinds[] = {EventKind::exec, EventKind::exec_failed, EventKind::fork, EventKind::exit,
                                EventKind::lost, EventKind::create,      EventKind::hash, EventKind::heartbeat};
static_assert(std::size(kKinds) == kEventKindSlots - 1, "a new event kind needs its full event here");

TEST(JsonSchemaDocument, ListsEveryKeyOfEveryEventInTheWritersOrder) {
  const auto lists = documented_lists(document());
  for (EventKind kind : kKinds) {
    const std::string name(to_string(kind));
    const auto written = keys_written(kind);
    std::string says = "- `" + name + "`:";
    for (const auto& key : written) says += " `" + key + "`" + (&key == &written.back() ? "" : ",");
    const auto listed = lists.find(name);
    if (listed == lists.end()) {
      ADD_FAILURE() << "docs/json-schema.md lists no keys for " << name << "; the writer emits:\n" << says;
    } else {
      EXPECT_EQ(listed->second, written) << name << ": the writer emits, in order:\n" << says;
    }
  }
  EXPECT_EQ(lists.size(), std::size(kKinds)) << "a list for a kind that does not exist";
}

TEST(JsonSchemaDocument, EveryListedKeyHasItsMeaning) {
  const std::string doc = document();
  const auto tables = table_keys(doc);
  for (const auto& [kind, keys] : documented_lists(doc)) {
    for (const auto& key : keys) {
      if (tables.contains(key)) continue;
      // Companions the lossless scheme section defines: X_b64, X_truncated, X_original_length.
      bool companion = false;
      for (std::string_view suffix : {"_b64", "_truncated", "_original_length"}) {
        if (key.ends_with(suffix) && tables.contains(key.substr(0, key.size() - suffix.size()))) companion = true;
      }
      EXPECT_TRUE(companion) << "`" << key << "` (" << kind << ") has no row in docs/json-schema.md";
    }
  }
}

}  // namespace
}  // namespace procsentry
