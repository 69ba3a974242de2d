// --hash: known digests, the cache, reasons for a missing hash, and the event thread and
// the worker racing (this test runs under ThreadSanitizer in CI).
#include "hashing/image_hasher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace procsentry {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr std::uint32_t kNoSuchPid = 0x3fffffff;  // above pid_max: never a live process

class ImageHasherTest : public ::testing::Test {
 protected:
  ImageHasherTest() : dir_(fs::temp_directory_path() / ("hasher." + std::to_string(getpid()))) {
    fs::create_directories(dir_);
  }
  ~ImageHasherTest() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }
  // An exec event for `path`; `path` must outlive the event.
  static Event exec_of(const std::string& path, std::uint32_t pid = kNoSuchPid) {
    Event e;
    e.kind = EventKind::exec;
    e.task.pid = pid;
    e.process_uid = ProcessUidScheme("ab", 1).make(pid, 7);
    e.image = Text{path, true, false, static_cast<std::uint32_t>(path.size())};
    return e;
  }
  static std::vector<FinishedHash> wait_for(ImageHasher& hasher, std::size_t count) {
    std::vector<FinishedHash> all;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
      for (auto& h : hasher.take_finished()) all.push_back(std::move(h));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return all;
  }
  fs::path dir_;
};

TEST_F(ImageHasherTest, PendingThenHashEventThenCached) {
  ImageHasher hasher;
  std::string path = write("abc", "abc");
  Event first = exec_of(path);
  hasher.describe(first);
  EXPECT_EQ(first.sha256_missing, "pending");
  EXPECT_TRUE(first.sha256.empty());
  auto done = wait_for(hasher, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].sha256, kAbcSha256);
  EXPECT_EQ(done[0].pid, kNoSuchPid);
  EXPECT_EQ(done[0].process_uid, first.process_uid);
  EXPECT_EQ(done[0].image, path);
  Event second = exec_of(path);
  hasher.describe(second);  // same file: answered at once, from the cache
  EXPECT_EQ(second.sha256, kAbcSha256);
  EXPECT_TRUE(second.sha256_missing.empty());
  EXPECT_EQ(hasher.files_hashed(), 1u);
}

TEST_F(ImageHasherTest, AChangedFileIsHashedAgain) {
  ImageHasher hasher;
  std::string path = write("tool", "abc");
  Event e = exec_of(path);
  hasher.describe(e);
  ASSERT_EQ(wait_for(hasher, 1).size(), 1u);
  write("tool", "abcd");  // new size and mtime: a different file identity
  Event again = exec_of(path);
  hasher.describe(again);
  EXPECT_EQ(again.sha256_missing, "pending");
  auto done = wait_for(hasher, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].sha256, "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589");
}

TEST_F(ImageHasherTest, AGoneImageSaysWhy) {
  ImageHasher hasher;
  std::string path = (dir_ / "deleted").string();
  Event e = exec_of(path);
  hasher.describe(e);
  EXPECT_TRUE(e.sha256.empty());
  EXPECT_NE(e.sha256_missing.find("gone"), std::string_view::npos);
  std::string directory = dir_.string();
  Event dir_event = exec_of(directory);
  hasher.describe(dir_event);
  EXPECT_EQ(dir_event.sha256_missing, "image is not a regular file");
}

// A truncated path may name another file: it is never opened.
TEST_F(ImageHasherTest, ATruncatedPathIsNotOpened) {
  ImageHasher hasher;
  std::string path = write("abc", "abc");
  Event e = exec_of(path);
  e.image.truncated = true;
  hasher.describe(e);
  EXPECT_TRUE(e.sha256.empty());
  EXPECT_EQ(e.sha256_missing, "the image's path was truncated");
  EXPECT_EQ(hasher.cache_misses(), 0u);
}

// The end of a stream (a capture's last record) waits for the files still being hashed, so
// every "pending" gets its result; a big file shows the wait is real.
TEST_F(ImageHasherTest, TheEndWaitsForEveryPendingFile) {
  ImageHasher hasher;
  std::vector<std::string> paths{write("big", std::string(std::size_t{32} << 20, 'x')), write("abc", "abc")};
  for (const std::string& path : paths) {
    Event e = exec_of(path);
    hasher.describe(e);
    ASSERT_EQ(e.sha256_missing, "pending");
  }
  EXPECT_EQ(hasher.wait_finished(std::chrono::seconds(30)), 0u);
  auto done = hasher.take_finished();
  ASSERT_EQ(done.size(), 2u) << "wait_finished returned before the worker was done";
  EXPECT_EQ(hasher.wait_finished(std::chrono::milliseconds(0)), 0u) << "nothing pending: no wait";
}

// Many files and many execs of each while the worker hashes: every pending exec gets
// exactly one result and every result is right.
TEST_F(ImageHasherTest, EventThreadAndWorkerRace) {
  ImageHasher hasher;
  std::vector<std::string> paths;
  for (int i = 0; i < 64; ++i)
    paths.push_back(write("f" + std::to_string(i), std::string(static_cast<std::size_t>(1000 + i), 'a')));
  std::size_t pending = 0;
  std::map<std::string, std::string> digest;  // path -> sha256 from any answer
  std::vector<FinishedHash> done;
  for (int round = 0; round < 20; ++round) {
    for (std::size_t i = 0; i < paths.size(); ++i) {
      Event e = exec_of(paths[i], static_cast<std::uint32_t>(kNoSuchPid - i));
      hasher.describe(e);
      if (e.sha256_missing == "pending") ++pending;
      if (!e.sha256.empty()) digest[paths[i]] = std::string(e.sha256);
    }
    for (auto& h : hasher.take_finished()) done.push_back(std::move(h));
  }
  for (auto& h : wait_for(hasher, pending - done.size())) done.push_back(std::move(h));
  ASSERT_EQ(done.size(), pending);
  for (const auto& h : done) {
    ASSERT_EQ(h.sha256.size(), 64u) << h.missing;
    auto [it, inserted] = digest.emplace(h.image, h.sha256);
    EXPECT_EQ(it->second, h.sha256) << h.image;
  }
  EXPECT_EQ(digest.size(), paths.size());
  EXPECT_EQ(hasher.files_hashed(), paths.size());
}

}  // namespace
}  // namespace procsentry
