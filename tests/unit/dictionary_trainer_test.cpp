// The body dictionary's trainer: a dictionary from its own thread, handed over once, the
// caller never waiting; a trainer destroyed mid-training waits for its thread (TSan, ASan).
#include "store/dictionary_trainer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/body_codec.h"

namespace procsentry {
namespace {

struct Samples {
  std::string bytes;
  std::vector<std::size_t> sizes;
};

// JSON lines alike enough for zstd to learn from, different enough to need a dictionary.
Samples event_samples(std::size_t count) {
  Samples s;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string line =
        fmt::format(R"({{"event":"exec","time":"2026-11-27T13:{:02}:{:02}.{:06}Z","pid":{},"ppid":{},"uid":{},)"
                    R"("image":"/usr/bin/tool{}","argv":["tool{}","--job","{}"],"process_uid":"{:016x}"}})",
                    i % 60, (i * 7) % 60, i * 13 % 1000000, 1000 + i, 999 + i / 3, i % 5 * 1000, i % 40, i % 40, i * 31,
                    i * 0x9e3779b97f4a7c15ull);
    s.bytes += line;
    s.sizes.push_back(line.size());
  }
  return s;
}

// take() until the dictionary is there (polled: the training's time is the machine's).
std::optional<Result<std::string>> wait_for(DictionaryTrainer& trainer) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto taken = trainer.take()) return taken;
    std::this_thread::yield();
  }
  return std::nullopt;
}

TEST(DictionaryTrainer, HandsOverTheDictionaryItTrainedOnce) {
  DictionaryTrainer trainer;
  EXPECT_FALSE(trainer.busy());
  EXPECT_FALSE(trainer.take().has_value());  // nothing started
  Samples s = event_samples(2000);
  const Samples copy = s;
  trainer.start(std::move(s.bytes), std::move(s.sizes), 32 * 1024);
  EXPECT_TRUE(trainer.busy());
  auto taken = wait_for(trainer);
  ASSERT_TRUE(taken.has_value()) << "no dictionary after 60 s";
  ASSERT_TRUE(taken->has_value()) << taken->error().message;
  EXPECT_FALSE(trainer.busy());
  EXPECT_FALSE(trainer.take().has_value());  // once
  // The dictionary zstd trains on these samples here, byte for byte.
  auto direct = train_dictionary(copy.bytes, copy.sizes, 32 * 1024);
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(**taken, *direct);
  // A second training after the first was taken.
  Samples again = event_samples(2000);
  trainer.start(std::move(again.bytes), std::move(again.sizes), 32 * 1024);
  auto second = wait_for(trainer);
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->has_value());
}

TEST(DictionaryTrainer, TooLittleToLearnFromIsAnErrorHandedOver) {
  DictionaryTrainer trainer;
  trainer.start("ab", {1, 1}, 32 * 1024);
  auto taken = wait_for(trainer);
  ASSERT_TRUE(taken.has_value());
  EXPECT_FALSE(taken->has_value());
  EXPECT_FALSE(trainer.busy());
}

TEST(DictionaryTrainer, DestroyedWhileTrainingWaitsForItsThread) {
  for (int i = 0; i < 3; ++i) {
    DictionaryTrainer trainer;
    Samples s = event_samples(2000);
    trainer.start(std::move(s.bytes), std::move(s.sizes), 32 * 1024);
  }  // each destructor joins a thread that may still be training
}

}  // namespace
}  // namespace procsentry
