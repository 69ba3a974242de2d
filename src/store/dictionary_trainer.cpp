#include "store/dictionary_trainer.h"

#include <utility>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "store/body_codec.h"

namespace procsentry {

DictionaryTrainer::~DictionaryTrainer() {
  if (thread_.joinable()) thread_.join();
}

void DictionaryTrainer::start(std::string samples, std::vector<std::size_t> sizes, std::size_t capacity) {
  if (thread_.joinable()) thread_.join();  // the last training's thread, finished: its result was taken
  busy_ = true;
  thread_ = std::thread([this, samples = std::move(samples), sizes = std::move(sizes), capacity] {
    auto dictionary = train_dictionary(samples, sizes, capacity);
#if defined(__GLIBC__)
    // zstd's working memory (~13 MiB for a MiB of samples) was freed into this thread's own
    // malloc arena, where it stayed resident: the recorder's peak RSS 94 MiB instead of 81.
    malloc_trim(0);
#endif
    std::lock_guard lock(mutex_);
    finished_ = std::move(dictionary);
  });
}

std::optional<Result<std::string>> DictionaryTrainer::take() {
  if (!busy_) return std::nullopt;
  std::optional<Result<std::string>> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(finished_);
  }
  if (taken) busy_ = false;
  return taken;
}

}  // namespace procsentry
