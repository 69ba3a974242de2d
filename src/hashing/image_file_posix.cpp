// --hash's platform part on Linux: open(2), fstat and nettle's SHA-256.
#include <fcntl.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "hashing/image_file.h"

namespace procsentry {

struct ImageOpener::State {
  std::string proc_root;
};

ImageOpener::ImageOpener(std::string proc_root) : state_(std::make_unique<State>(State{std::move(proc_root)})) {}
ImageOpener::~ImageOpener() = default;

// The file the event's process ran: its path, or, when that is gone (deleted or replaced),
// the process's own /proc/PID/exe as long as it still names that image (the process may
// have exec'd something else since).
Result<ImageFile> ImageOpener::open(const Event& e) {
  const Error gone{"the image is gone (deleted or the process exec'd again before it was read)"};
  if (!e.image.present) return gone;
  const std::string image(e.image.bytes);
  int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) return ImageFile(fd);
  const std::string exe = state_->proc_root + "/" + std::to_string(e.task.pid) + "/exe";
  char target[4096];
  ssize_t n = readlink(exe.c_str(), target, sizeof(target));
  if (n <= 0) return gone;
  std::string_view now(target, static_cast<std::size_t>(n));
  if (now != image && now != image + " (deleted)") return gone;
  fd = ::open(exe.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return gone;
  return ImageFile(fd);
}

Result<FileIdentity> ImageFile::identity() const {
  struct stat st {};
  if (fstat(static_cast<int>(handle_), &st) != 0 || !S_ISREG(st.st_mode)) return Error{"image is not a regular file"};
  return FileIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), 0,
                      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                      static_cast<std::int64_t>(st.st_size)};
}

// nettle, not OpenSSL: libcrypto costs 1.6 MiB of RSS merely loaded, nettle a quarter of that.
Result<std::string> ImageFile::sha256() {
  const int fd = static_cast<int>(handle_);
  sha256_ctx ctx;
  sha256_init(&ctx);
  std::vector<unsigned char> buffer(1 << 16);
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{std::string("read failed: ") + std::strerror(errno)};
    }
    sha256_update(&ctx, static_cast<std::size_t>(n), buffer.data());
  }
  unsigned char digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof(digest), digest);
  return hex_digest(digest);
}

void ImageFile::close() {
  if (handle_ != kNone) ::close(static_cast<int>(handle_));
  handle_ = kNone;
}

}  // namespace procsentry
