// The platform's share of --hash: open the image an event names, say which file it is, and
// digest it. One implementation per platform: image_file_posix.cpp (open(2), fstat, nettle),
// image_file_windows.cpp (CreateFileW, the file id, BCrypt). The cache, the worker and the
// pending/finished logic (image_hasher.cpp) are the same on both.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "core/event.h"
#include "core/result.h"

namespace procsentry {

// Which file an image is, as the cache keys it: equal identities have equal contents as long
// as writers change the modification time or the size (both platforms' caveat).
struct FileIdentity {
  std::uint64_t device = 0;      // st_dev; Windows: the volume's serial number
  std::uint64_t inode = 0;       // st_ino; Windows: the file id (its low 64 bits)
  std::uint64_t inode_high = 0;  // Windows: the file id's high 64 bits (ReFS ids are 128-bit)
  std::int64_t mtime_ns = 0;     // Windows: the last write time
  std::int64_t size = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct FileIdentityHash {
  std::size_t operator()(const FileIdentity& f) const {
    return std::hash<std::uint64_t>()((f.inode ^ f.inode_high) * 0x9e3779b97f4a7c15ULL ^ f.device ^
                                      static_cast<std::uint64_t>(f.mtime_ns));
  }
};

// An open image: a file descriptor, or a Windows HANDLE (both -1 when none). Move-only.
class ImageFile {
 public:
  ImageFile() = default;
  explicit ImageFile(std::intptr_t handle) : handle_(handle) {}
  ~ImageFile() { close(); }
  ImageFile(ImageFile&& other) noexcept : handle_(std::exchange(other.handle_, kNone)) {}
  ImageFile& operator=(ImageFile&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, kNone);
    }
    return *this;
  }
  explicit operator bool() const { return handle_ != kNone; }

  // Which file this is; an error when it is not a regular file.
  Result<FileIdentity> identity() const;
  // SHA-256 of everything readable, as 64 lowercase hex digits; an error says why not.
  Result<std::string> sha256();

 private:
  static constexpr std::intptr_t kNone = -1;
  void close();
  std::intptr_t handle_ = kNone;
};

// Opens the image an event names, without ever blocking the process that runs it (shared
// read, write and delete on Windows). The event thread's only.
class ImageOpener {
 public:
  // Linux: where a gone image is looked for (PROC_ROOT/PID/exe). Windows has no such fallback.
  explicit ImageOpener(std::string proc_root);
  ~ImageOpener();
  ImageOpener(const ImageOpener&) = delete;
  ImageOpener& operator=(const ImageOpener&) = delete;

  // The file, or why there is none (an event's sha256_missing).
  Result<ImageFile> open(const Event& e);

 private:
  struct State;  // per platform
  std::unique_ptr<State> state_;
};

// 32 digest bytes as 64 lowercase hex digits.
std::string hex_digest(const unsigned char (&digest)[32]);

}  // namespace procsentry
