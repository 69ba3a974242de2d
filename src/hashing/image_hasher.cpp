#include "hashing/image_hasher.h"

#include <fcntl.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace procsentry {
namespace {
constexpr std::string_view kPending = "pending";

FileIdentity identity_of(const struct stat& st) {
  return FileIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                      static_cast<std::int64_t>(st.st_size)};
}
}  // namespace

// The file the event's process ran: its path, or, when that is gone (deleted or replaced),
// the process's own /proc/PID/exe as long as it still names that image (the process may
// have exec'd something else since).
int ImageHasher::open_image(const Event& e) const {
  if (!e.image.present) return -1;
  const std::string image(e.image.bytes);
  int fd = open(image.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return fd;
  const std::string exe = proc_root_ + "/" + std::to_string(e.task.pid) + "/exe";
  char target[4096];
  ssize_t n = readlink(exe.c_str(), target, sizeof(target));
  if (n <= 0) return -1;
  std::string_view now(target, static_cast<std::size_t>(n));
  if (now != image && now != image + " (deleted)") return -1;
  return open(exe.c_str(), O_RDONLY | O_CLOEXEC);
}

// nettle, not OpenSSL: libcrypto costs 1.6 MiB of RSS merely loaded, nettle a quarter of that.
std::string sha256_of_fd(int fd, std::string& error) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  std::vector<unsigned char> buffer(1 << 16);
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("read failed: ") + std::strerror(errno);
      return {};
    }
    sha256_update(&ctx, static_cast<std::size_t>(n), buffer.data());
  }
  unsigned char digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof(digest), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

ImageHasher::ImageHasher(std::string proc_root) : proc_root_(std::move(proc_root)), worker_([this] { work(); }) {}

ImageHasher::~ImageHasher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  worker_.join();
  for (const Job& job : jobs_) close(job.fd);
}

void ImageHasher::describe(Event& e) {
  int fd = open_image(e);
  if (fd < 0) {
    e.sha256_missing = "the image is gone (deleted or the process exec'd again before it was read)";
    return;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    e.sha256_missing = "image is not a regular file";
    return;
  }
  FileIdentity file = identity_of(st);
  auto found = cache_.find(file);
  if (found != cache_.end() && found->second.done) {
    close(fd);
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
    close(fd);
    found->second.waiters.push_back(std::move(waiter));
    e.sha256_missing = kPending;
    return;
  }
  if (pending_ >= kMaxPending) {
    close(fd);
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
    jobs_.push_back(Job{fd, file});
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

std::uint64_t ImageHasher::files_hashed() const {
  std::lock_guard lock(mutex_);
  return files_hashed_;
}

void ImageHasher::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = jobs_.front();
    jobs_.pop_front();
    lock.unlock();
    Done done{job.file, {}, {}};
    done.sha256 = sha256_of_fd(job.fd, done.error);
    close(job.fd);
    lock.lock();
    done_.push_back(std::move(done));
    ++files_hashed_;
  }
}

}  // namespace procsentry
