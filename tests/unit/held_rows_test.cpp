// The rows the StoreWriter holds while a checkpoint runs (held_rows.h): owned copies, released
// in order with every text as it was, though the bytes they were parsed from are gone.
#include "store/held_rows.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace procsentry {
namespace {

TEST(HeldRows, ReleasesOwnedCopiesInOrderAFewAtATimeOrAll) {
  HeldRows held;
  EXPECT_TRUE(held.empty());
  for (int i = 0; i < 100; ++i) {  // enough to move the vector's rows several times
    // Short texts (kept inside std::string, moved byte by byte) and long ones.
    std::string bytes[] = {"u" + std::to_string(i),
                           "p" + std::to_string(i),
                           "q" + std::to_string(i),
                           "/usr/bin/image-with-a-long-name-" + std::to_string(i),
                           "argv " + std::string(100, 'x') + std::to_string(i),
                           "pi" + std::to_string(i),
                           "h" + std::to_string(i),
                           R"({"seq":)" + std::to_string(i) + "}"};
    StoreRow row;
    row.time_ns = i;
    row.pid = static_cast<std::uint32_t>(i);
    row.user = bytes[0];
    row.process_uid = bytes[1];
    row.parent_uid = bytes[2];
    row.image = bytes[3];
    row.argv = bytes[4];
    row.parent_image = bytes[5];
    row.hash = bytes[6];
    row.json = bytes[7];
    held.hold(row);
    for (std::string& b : bytes) b.assign(b.size(), '#');  // the source is overwritten
  }
  EXPECT_FALSE(held.empty());
  int next = 0;
  held.release([&](const StoreRow& row) { EXPECT_EQ(row.time_ns, next++); }, 30);  // a share
  EXPECT_EQ(next, 30);
  held.release([&](const StoreRow& row) {
    EXPECT_EQ(row.time_ns, next);
    EXPECT_EQ(row.pid, static_cast<std::uint32_t>(next));
    const std::string n = std::to_string(next);
    EXPECT_EQ(row.user, "u" + n);
    EXPECT_EQ(row.process_uid, "p" + n);
    EXPECT_EQ(row.parent_uid, "q" + n);
    EXPECT_EQ(row.image, "/usr/bin/image-with-a-long-name-" + n);
    EXPECT_EQ(row.argv, "argv " + std::string(100, 'x') + n);
    EXPECT_EQ(row.parent_image, "pi" + n);
    EXPECT_EQ(row.hash, "h" + n);
    EXPECT_EQ(row.json, R"({"seq":)" + n + "}");
    ++next;
  });
  EXPECT_EQ(next, 100);
  EXPECT_TRUE(held.empty());
  held.release([&](const StoreRow&) { ADD_FAILURE() << "released twice"; });
}

// The StoreWriter holds rows between the shares it releases: each comes back as it was, in
// order, whether held before a release or after, and after the buffer was emptied and reused.
TEST(HeldRows, HoldsBetweenReleasesAndReusesItsBuffer) {
  HeldRows held;
  int held_count = 0;
  int next = 0;
  auto hold = [&](int n) {
    for (int i = 0; i < n; ++i, ++held_count) {
      // Every third row carries a 40 KiB argv: the buffer grows past what it keeps.
      std::string argv = held_count % 3 == 0 ? std::string(40 * 1024, 'a') + std::to_string(held_count)
                                             : "argv " + std::to_string(held_count);
      std::string json = "{\"n\":" + std::to_string(held_count) + "}";
      StoreRow row;
      row.time_ns = held_count;
      row.argv = argv;
      row.json = json;
      held.hold(row);
      argv.assign(argv.size(), '#');
    }
  };
  auto check = [&](const StoreRow& row) {
    EXPECT_EQ(row.time_ns, next);
    const std::string n = std::to_string(next);
    EXPECT_EQ(row.argv, next % 3 == 0 ? std::string(40 * 1024, 'a') + n : "argv " + n);
    EXPECT_EQ(row.json, "{\"n\":" + n + "}");
    EXPECT_TRUE(row.user.empty());
    EXPECT_TRUE(row.hash.empty());
    ++next;
  };
  for (int round = 0; round < 3; ++round) {
    hold(200);
    held.release(check, 50);
    hold(200);  // held behind the 150 left
    held.release(check, 100);
    EXPECT_FALSE(held.empty());
    held.release(check);
    EXPECT_TRUE(held.empty());
    EXPECT_EQ(next, held_count);
  }
}

}  // namespace
}  // namespace procsentry
