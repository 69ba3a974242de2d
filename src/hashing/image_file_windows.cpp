// --hash's platform part in the Windows client: the driver's NT path opened from user mode
// (nt_path.h), the file id for the cache, and SHA-256 from BCrypt (bcrypt.dll; Wine has it).
#include <windows.h>
// after windows.h
#include <bcrypt.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "hashing/image_file.h"
#include "hashing/nt_path.h"
#include "platform/windows/error_text.h"

namespace procsentry {
namespace {

// The drive list is read again at most this often when a \Device\ path names no letter (a
// volume mounted since, or one without a letter, which \\?\GLOBALROOT then opens).
constexpr std::chrono::seconds kDriveListMaxAge{10};

std::vector<DriveDevice> read_drive_devices() {
  std::vector<DriveDevice> drives;
  wchar_t target[1024];
  for (char letter = 'A'; letter <= 'Z'; ++letter) {
    const wchar_t name[] = {static_cast<wchar_t>(letter), L':', 0};
    if (QueryDosDeviceW(name, target, static_cast<DWORD>(std::size(target))) == 0) continue;
    char device[1024];  // the first of the targets is the current one; device names are ASCII
    const int n = WideCharToMultiByte(CP_UTF8, 0, target, -1, device, sizeof(device), nullptr, nullptr);
    if (n > 1) drives.push_back(DriveDevice{letter, std::string(device, static_cast<std::size_t>(n - 1))});
  }
  return drives;
}

std::wstring wide(const std::string& utf8) {
  const int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

HANDLE handle_of(std::intptr_t h) { return reinterpret_cast<HANDLE>(h); }

}  // namespace

struct ImageOpener::State {
  std::vector<DriveDevice> drives;
  std::chrono::steady_clock::time_point drives_read{};
};

ImageOpener::ImageOpener(std::string) : state_(std::make_unique<State>()) {
  state_->drives = read_drive_devices();
  state_->drives_read = std::chrono::steady_clock::now();
}
ImageOpener::~ImageOpener() = default;

// Shared read, write and delete: the process that runs the image is never kept from anything.
// Backup semantics: a directory opens too (and is then refused as not a regular file).
Result<ImageFile> ImageOpener::open(const Event& e) {
  if (!e.image.present) return Error{"the image's path is unknown"};
  Win32Path path = win32_path_of(e.image.bytes, state_->drives);
  const auto now = std::chrono::steady_clock::now();
  if (path.unlettered_device && now - state_->drives_read >= kDriveListMaxAge) {
    state_->drives = read_drive_devices();
    state_->drives_read = now;
    path = win32_path_of(e.image.bytes, state_->drives);
  }
  HANDLE h = CreateFileW(wide(path.path).c_str(), FILE_READ_DATA | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                         FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
  if (h != INVALID_HANDLE_VALUE) return ImageFile(reinterpret_cast<std::intptr_t>(h));
  const DWORD error = GetLastError();
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return Error{"the image is gone (deleted or renamed before it was read)"};
    default:
      return Error{"the image cannot be opened: " + windows_error_text(error)};
  }
}

// The 128-bit file id where the file system gives one (FileIdInfo, Windows 8 and later), else
// the 64-bit file index; the volume serial number in both cases. Times, size and kind come from
// the basic and standard classes, not GetFileInformationByHandle, which asks the volume again
// (under Wine 8 each volume query costs about 0.4 ms: 0.38 ms an identity instead of 0.76).
Result<FileIdentity> ImageFile::identity() const {
  const HANDLE h = handle_of(handle_);
  FILE_BASIC_INFO basic{};
  FILE_STANDARD_INFO standard{};
  if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandleEx(h, FileBasicInfo, &basic, sizeof(basic)) ||
      !GetFileInformationByHandleEx(h, FileStandardInfo, &standard, sizeof(standard)) || standard.Directory) {
    return Error{"image is not a regular file"};
  }
  FileIdentity file;
  file.mtime_ns = basic.LastWriteTime.QuadPart * 100;  // 100 ns ticks: only compared, never shown
  file.size = standard.EndOfFile.QuadPart;
  FILE_ID_INFO id{};
  BY_HANDLE_FILE_INFORMATION info{};
  if (GetFileInformationByHandleEx(h, FileIdInfo, &id, sizeof(id))) {
    static_assert(sizeof(id.FileId.Identifier) == 16);
    std::memcpy(&file.inode, id.FileId.Identifier, 8);
    std::memcpy(&file.inode_high, id.FileId.Identifier + 8, 8);
    file.device = id.VolumeSerialNumber;
  } else if (GetFileInformationByHandle(h, &info)) {
    file.device = info.dwVolumeSerialNumber;
    file.inode = (static_cast<std::uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
  } else {
    return Error{"the image's file id is unknown: " + windows_error_text(GetLastError())};
  }
  return file;
}

Result<std::string> ImageFile::sha256() {
  BCRYPT_ALG_HANDLE algorithm = nullptr;
  BCRYPT_HASH_HANDLE hash = nullptr;
  NTSTATUS status = BCryptOpenAlgorithmProvider(&algorithm, BCRYPT_SHA256_ALGORITHM, nullptr, 0);
  if (BCRYPT_SUCCESS(status)) status = BCryptCreateHash(algorithm, &hash, nullptr, 0, nullptr, 0, 0);
  std::vector<unsigned char> buffer(1 << 16);
  std::string error;
  while (BCRYPT_SUCCESS(status)) {
    DWORD n = 0;
    if (!ReadFile(handle_of(handle_), buffer.data(), static_cast<DWORD>(buffer.size()), &n, nullptr)) {
      error = "read failed: " + windows_error_text(GetLastError());
      break;
    }
    if (n == 0) break;
    status = BCryptHashData(hash, buffer.data(), n, 0);
  }
  unsigned char digest[32];
  if (BCRYPT_SUCCESS(status) && error.empty()) status = BCryptFinishHash(hash, digest, sizeof(digest), 0);
  if (hash != nullptr) BCryptDestroyHash(hash);
  if (algorithm != nullptr) BCryptCloseAlgorithmProvider(algorithm, 0);
  if (!error.empty()) return Error{error};
  if (!BCRYPT_SUCCESS(status)) {
    return Error{"SHA-256 failed: BCrypt status " + std::to_string(static_cast<std::uint32_t>(status))};
  }
  return hex_digest(digest);
}

void ImageFile::close() {
  if (handle_ != kNone) CloseHandle(handle_of(handle_));
  handle_ = kNone;
}

}  // namespace procsentry
