#include "hashing/nt_path.h"

namespace procsentry {
namespace {

// NT object names compare without case; device names are ASCII.
bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(s[i]) != lower(prefix[i])) return false;
  }
  return true;
}

// `path` names something under `device` (itself, or a name below it).
bool under_device(std::string_view path, std::string_view device) {
  return !device.empty() && starts_with_nocase(path, device) && path.size() > device.size() &&
         path[device.size()] == '\\';
}

}  // namespace

Win32Path win32_path_of(std::string_view nt_path, const std::vector<DriveDevice>& drives) {
  const std::string rest_of_it(nt_path);
  if (nt_path.starts_with("\\??\\")) return {"\\\\?\\" + rest_of_it.substr(4), false};
  if (!nt_path.starts_with("\\") || nt_path.starts_with("\\\\")) return {rest_of_it, false};
  if (starts_with_nocase(nt_path, "\\Device\\Mup\\")) return {"\\\\?\\UNC\\" + rest_of_it.substr(12), false};
  const bool device = starts_with_nocase(nt_path, "\\Device\\");
  if (device) {
    const DriveDevice* best = nullptr;  // the longest device that holds the path
    for (const DriveDevice& d : drives) {
      if (under_device(nt_path, d.device) && (best == nullptr || d.device.size() > best->device.size())) best = &d;
    }
    if (best != nullptr)
      return {std::string("\\\\?\\") + best->letter + ":" + rest_of_it.substr(best->device.size()), false};
  }
  return {"\\\\?\\GLOBALROOT" + rest_of_it, device};
}

}  // namespace procsentry
