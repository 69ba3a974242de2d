// --hash's Windows part (src/hashing/image_file_windows.cpp, nt_path.cpp), built by mingw and
// run under Wine by tests/unit/windows_client_test.cpp, which makes the files and computes
// the expected digest with sha256sum. Prints one line per check ("ok NAME" or "FAIL NAME:
// why"); exits 1 if any failed.
//   image_file_check DIR SHA256   DIR (Win32) holds `known`, whose SHA-256 is SHA256
//   image_file_check --nt-path FILE   prints FILE's NT path, as Windows names it
#include <windows.h>

#include <cstdio>
#include <string>

#include "hashing/image_file.h"

namespace {

using procsentry::Event;
using procsentry::FileIdentity;
using procsentry::ImageOpener;

int g_failures = 0;

void check(bool ok, const char* name, const std::string& why = {}) {
  std::printf(ok ? "ok %s\n" : "FAIL %s: %s\n", name, why.c_str());
  std::fflush(stdout);
  if (!ok) ++g_failures;
}

std::string utf8(const std::wstring& w) {
  const int n = WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), out.data(), n, nullptr, nullptr);
  return out;
}

// The NT path Windows itself gives an open file (\Device\HarddiskVolumeN\...), empty if none.
std::string nt_path_of(const std::string& win32_path) {
  HANDLE h =
      CreateFileA(win32_path.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                  nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (h == INVALID_HANDLE_VALUE) return {};
  wchar_t path[2048];
  const DWORD n = GetFinalPathNameByHandleW(h, path, 2048, VOLUME_NAME_NT);
  CloseHandle(h);
  return n == 0 || n >= 2048 ? std::string() : utf8(std::wstring(path, n));
}

// A create event naming `image`, as the driver reports it.
Event create_of(const std::string& image) {
  Event e;
  e.kind = procsentry::EventKind::create;
  e.task.pid = 4242;
  e.image = procsentry::Text{image, true, false, static_cast<std::uint32_t>(image.size())};
  return e;
}

struct Opened {
  std::string error;  // empty: opened
  FileIdentity identity;
  std::string sha256;
};

Opened open_and_hash(ImageOpener& opener, const std::string& image) {
  Opened o;
  auto file = opener.open(create_of(image));
  if (!file) return Opened{file.error().message, {}, {}};
  auto identity = file->identity();
  if (!identity) return Opened{identity.error().message, {}, {}};
  o.identity = *identity;
  auto digest = file->sha256();
  if (!digest) return Opened{digest.error().message, {}, {}};
  o.sha256 = *digest;
  return o;
}

bool append(const std::string& path, const std::string& bytes) {
  HANDLE h = CreateFileA(path.c_str(), FILE_APPEND_DATA, FILE_SHARE_READ, nullptr, OPEN_ALWAYS, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return false;
  DWORD written = 0;
  const bool ok = WriteFile(h, bytes.data(), static_cast<DWORD>(bytes.size()), &written, nullptr) != 0;
  CloseHandle(h);
  return ok && written == bytes.size();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--nt-path") {
    std::printf("%s\n", nt_path_of(argv[2]).c_str());
    return 0;
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: image_file_check DIR SHA256 | --nt-path FILE\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string expected = argv[2];
  const std::string known = dir + "\\known";
  ImageOpener opener("");

  Opened dos = open_and_hash(opener, "\\??\\" + known);
  check(dos.error.empty() && dos.sha256 == expected, "a \\??\\ path's SHA-256 is sha256sum's",
        dos.error + " got " + dos.sha256);

  const std::string nt = nt_path_of(known);
  Opened device = open_and_hash(opener, nt);
  check(nt.starts_with("\\Device\\") && device.error.empty() && device.sha256 == expected,
        "a \\Device\\ path (Windows' own NT name of the file) translates and hashes",
        nt + ": " + device.error + " got " + device.sha256);
  check(device.identity == dos.identity, "one file, one identity, whichever path names it");

  const std::string changing = dir + "\\changing";
  append(changing, "abc");
  Opened before = open_and_hash(opener, "\\??\\" + changing);
  Opened again = open_and_hash(opener, "\\??\\" + changing);
  check(before.error.empty() && before.identity == again.identity, "an unchanged file keeps its identity",
        before.error);
  append(changing, "d");
  Opened after = open_and_hash(opener, "\\??\\" + changing);
  check(after.error.empty() && !(after.identity == before.identity) && after.sha256 != before.sha256,
        "the identity changes when the file is rewritten", after.error);

  Opened missing = open_and_hash(opener, "\\??\\" + dir + "\\no-such-image.exe");
  check(missing.error.find("the image is gone") == 0, "a missing image says why", missing.error);
  Opened directory = open_and_hash(opener, "\\??\\" + dir);
  check(directory.error == "image is not a regular file", "a directory is not hashed", directory.error);

  // What the running process may do to its image while we hold it: write it, delete it.
  const std::string busy = dir + "\\busy";
  append(busy, "abc");
  auto held = opener.open(create_of("\\??\\" + busy));
  const bool writable = append(busy, "d");
  const bool deleted = DeleteFileA(busy.c_str()) != 0;
  check(held && writable && deleted, "an open image never keeps its process from writing or deleting it",
        std::string(held ? "" : held.error().message) + (writable ? "" : " write refused") +
            (deleted ? "" : " delete refused"));
  return g_failures == 0 ? 0 : 1;
}
