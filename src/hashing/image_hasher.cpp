#include "hashing/image_hasher.h"

namespace procsentry {
namespace {
constexpr std::string_view kPending = "pending";

// The reason is the platform's words: kept with the event, which only views its text.
void set_missing(Event& e, std::string why) {
  e.storage.push_back(std::make_unique<std::string>(std::move(why)));
  e.sha256_missing = *e.storage.back();
}
}  // namespace

std::string hex_digest(const unsigned char (&digest)[32]) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

ImageHasher::ImageHasher(std::string proc_root) : opener_(std::move(proc_root)), worker_([this] { work(); }) {}

ImageHasher::~ImageHasher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  worker_.join();
}

void ImageHasher::describe(Event& e) {
  if (e.image.truncated) {  // another file's name, perhaps: never open it
    e.sha256_missing = "the image's path was truncated";
    return;
  }
  auto image = opener_.open(e);
  if (!image) {
    set_missing(e, image.error().message);
    return;
  }
  auto identity = image->identity();
  if (!identity) {
    set_missing(e, identity.error().message);
    return;
  }
  const FileIdentity& file = *identity;
  auto found = cache_.find(file);
  if (found != cache_.end() && found->second.done) {
    ++cache_hits_;
    if (found->second.error.empty()) {
      e.sha256 = found->second.sha256;
    } else {
      e.sha256_missing = found->second.error;
    }
    return;
  }
  Waiter waiter{e.task.pid, e.process_uid, std::string(e.image.bytes)};
  if (found != cache_.end()) {  // already being hashed
    found->second.waiters.push_back(std::move(waiter));
    e.sha256_missing = kPending;
    return;
  }
  if (pending_ >= kMaxPending) {
    e.sha256_missing = "hash queue full";
    return;
  }
  if (cache_.size() >= kMaxCached) {
    std::erase_if(cache_, [](const auto& item) { return item.second.done; });
  }
  cache_[file].waiters.push_back(std::move(waiter));
  ++pending_;
  ++cache_misses_;
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(Job{std::move(*image), file});
  }
  wake_.notify_one();
  e.sha256_missing = kPending;
}

std::vector<FinishedHash> ImageHasher::take_finished() {
  std::vector<Done> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(done_);
  }
  std::vector<FinishedHash> finished;
  for (Done& d : done) {
    --pending_;
    CacheEntry& entry = cache_[d.file];
    entry.done = true;
    entry.sha256 = std::move(d.sha256);
    entry.error = std::move(d.error);
    for (Waiter& w : entry.waiters) {
      finished.push_back(FinishedHash{w.pid, w.process_uid, std::move(w.image), entry.sha256, entry.error});
    }
    entry.waiters.clear();
    entry.waiters.shrink_to_fit();
  }
  return finished;
}

// pending_ counts the jobs whose results take_finished has not taken: they are all done
// once done_ holds that many.
std::size_t ImageHasher::wait_finished(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  finished_.wait_for(lock, timeout, [this] { return done_.size() >= pending_; });
  return pending_ - done_.size();
}

std::uint64_t ImageHasher::files_hashed() const {
  std::lock_guard lock(mutex_);
  return files_hashed_;
}

void ImageHasher::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    Done done{job.file, {}, {}};
    auto digest = job.image.sha256();
    if (digest) {
      done.sha256 = std::move(*digest);
    } else {
      done.error = digest.error().message;
    }
    job.image = ImageFile();  // closed before the result is seen
    lock.lock();
    done_.push_back(std::move(done));
    ++files_hashed_;
    finished_.notify_all();
  }
}

}  // namespace procsentry
