// The store writer's tables keyed by text (here its string cache): texts are told apart by
// their bytes, not their hash alone, and a table stays within its bounds.
#include "store/text_table.h"

#include <gtest/gtest.h>

#include <string>

#include "store/string_cache.h"

namespace procsentry {
namespace {

TEST(StringCache, TextsWithOneHashAreToldApartByTheirBytes) {
  StringCache cache;
  EXPECT_EQ(cache.find(7, "/usr/bin/ls"), nullptr);
  ASSERT_NE(cache.add(7, "/usr/bin/ls", {1, 10}), nullptr);
  ASSERT_NE(cache.add(7, "/usr/bin/cat", {2, 20}), nullptr);  // the same hash, in the next slot
  ASSERT_NE(cache.add(7, "/usr/bin/l", {3, 30}), nullptr);    // a prefix
  ASSERT_NE(cache.find(7, "/usr/bin/ls"), nullptr);
  EXPECT_EQ(cache.find(7, "/usr/bin/ls")->id, 1);
  EXPECT_EQ(cache.find(7, "/usr/bin/cat")->id, 2);
  EXPECT_EQ(cache.find(7, "/usr/bin/l")->id, 3);
  EXPECT_EQ(cache.find(7, "/usr/bin/sh"), nullptr);
  EXPECT_EQ(cache.find(8, "/usr/bin/ls"), nullptr);  // another hash is another text
  cache.find(7, "/usr/bin/cat")->last_id = 25;       // an entry is updated where it lies
  EXPECT_EQ(cache.find(7, "/usr/bin/cat")->last_id, 25);
  EXPECT_EQ(cache.size(), 3u);
}

TEST(StringCache, GrowsKeepingItsEntriesAndStartsOverWhenFull) {
  StringCache cache;
  const auto n = static_cast<std::int64_t>(StringCache::kMaxEntries);
  for (std::int64_t i = 1; i <= n; ++i) ASSERT_NE(cache.add(i * 1'000'003, std::to_string(i), {i, i}), nullptr);
  for (std::int64_t i = 1; i <= n; ++i) {
    auto* entry = cache.find(i * 1'000'003, std::to_string(i));
    ASSERT_NE(entry, nullptr) << i;
    EXPECT_EQ(entry->id, i);
  }
  ASSERT_NE(cache.add(1, "one more", {n + 1, 0}), nullptr);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find(1'000'003, "1"), nullptr);
  EXPECT_EQ(cache.find(1, "one more")->id, n + 1);
}

TEST(StringCache, AVeryLongTextIsNotCachedAndTheBytesAreBounded) {
  StringCache cache;
  EXPECT_EQ(cache.add(1, std::string(StringCache::kMaxTextBytes, 'x'), {1, 0}), nullptr);
  EXPECT_EQ(cache.add(1, "", {1, 0}), nullptr);  // an empty text is no key
  EXPECT_EQ(cache.size(), 0u);
  const std::string big(StringCache::kMaxTextBytes / 16, 'y');
  for (std::int64_t i = 1; i <= 16; ++i) ASSERT_NE(cache.add(i, big, {i, 0}), nullptr);
  EXPECT_EQ(cache.size(), 16u);
  ASSERT_NE(cache.add(17, "z", {17, 0}), nullptr);  // past kMaxTextBytes: started over
  EXPECT_EQ(cache.size(), 1u);
}

// A value's other text (a process's parent) stays with the keys until the table starts over,
// and past twice the bound is not kept (values changed without an add never start it over).
TEST(TextTable, KeepsAValuesTextsWithinTwiceItsBound) {
  TextTable<TextRef, 4, 256> table;
  TextRef* parent = table.add(1, "child", {});
  ASSERT_NE(parent, nullptr);
  auto kept = table.keep("parent-of-child");
  ASSERT_TRUE(kept.has_value());
  *parent = *kept;
  ASSERT_NE(table.add(2, "other", {}), nullptr);
  EXPECT_EQ(table.text(*table.find(1, "child")), "parent-of-child");
  EXPECT_TRUE(table.keep(std::string(512 - 5 - 15 - 5, 'p')).has_value());  // exactly twice 256
  EXPECT_FALSE(table.keep("x").has_value());
  EXPECT_EQ(table.text(*table.find(1, "child")), "parent-of-child");
  ASSERT_NE(table.add(3, "third", {}), nullptr);  // past 256: started over
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.find(1, "child"), nullptr);
  EXPECT_TRUE(table.keep("again").has_value());
}

}  // namespace
}  // namespace procsentry
