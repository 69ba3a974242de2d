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

#include "full_event.h"
#include "sinks/formats/json_format.h"

namespace procsentry {
namespace {

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
