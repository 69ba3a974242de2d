// The direct-to-buffer JSON writer prints every event byte for byte as the writer before it
// did (tests/unit/json_reference.cpp): every kind, every optional key, and texts made of
// hostile bytes (invalid UTF-8, control bytes, quotes, backslashes, line separators, 40 KiB
// arguments), through one formatter as the live path uses it (its buffers and caches reused).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hostile_events.h"
#include "json_reference.h"
#include "sinks/formats/json_format.h"

namespace procsentry {
namespace {

using test::Generator;
using test::hostile_texts;
using test::kKinds;
using test::random_event;

TEST(JsonWriterIdentity, MatchesTheOldWriterOnHostileEvents) {
  Generator g(20261126);
  JsonFormatter writer;  // one formatter for all, as on the live path
  std::vector<std::string> keep;
  for (int i = 0; i < 5000; ++i) {
    const EventKind kind = kKinds[g.pick(std::size(kKinds))];
    const Event e = random_event(g, kind, keep);
    std::string line = "earlier bytes stay: ";  // it appends to what the caller has
    writer.append(line, e);
    ASSERT_EQ(line, "earlier bytes stay: " + reference::json_line(e)) << "event " << i << ", kind " << to_string(kind);
    std::string object;
    writer.append_object(object, e);
    ASSERT_EQ(object + '\n', reference::json_line(e)) << "event " << i;
  }
}

TEST(JsonWriterIdentity, EveryHostileTextInEveryTextField) {
  JsonFormatter writer;
  for (const std::string& bytes : hostile_texts()) {
    for (bool truncated : {false, true}) {
      const Text t{bytes, true, truncated, truncated ? 99999u : 0u};
      Event e;
      e.kind = EventKind::exec;
      e.time_ns = 1'795'521'841'123'456'789;
      e.task.comm = bytes;
      e.image = e.filename = e.cwd = e.parent_image = e.parent_argv_raw = e.argv_raw = t;
      e.argv = {bytes, bytes};
      e.script = bytes;
      e.is_script = true;
      e.tty = e.cgroup = e.user = e.group = bytes;
      e.ancestry.push_back(Event::Ancestor{1, {}, bytes});
      std::string line;
      writer.append(line, e);
      ASSERT_EQ(line, reference::json_line(e)) << bytes.size() << " bytes";
    }
  }
}

}  // namespace
}  // namespace procsentry
