// From the NT path the Windows driver reports for an image (PS_CREATE_NOTIFY_INFO's
// ImageFileName) to a path CreateFileW opens. Pure string work, so it is tested on Linux too
// (tests/unit/nt_path_test.cpp); image_file_windows.cpp asks Windows for the drive letters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace procsentry {

// A drive letter and the NT device it names (QueryDosDeviceW: "C:" -> \Device\HarddiskVolume3).
struct DriveDevice {
  char letter = 0;
  std::string device;
};

struct Win32Path {
  std::string path;
  bool unlettered_device = false;  // a \Device\ path no drive letter names (the list may be stale)
};

// \??\C:\x.exe                   -> \\?\C:\x.exe
// \Device\HarddiskVolume3\x.exe  -> \\?\C:\x.exe by `drives`; without a letter, through
//                                   \\?\GLOBALROOT (Windows opens any NT name so; Wine does not)
// \Device\Mup\srv\share\x.exe    -> \\?\UNC\srv\share\x.exe
// \SystemRoot\x.exe (any other NT name) -> \\?\GLOBALROOT\SystemRoot\x.exe
// A Win32 path (C:\x.exe, \\?\..., \\srv\share\...) stays as it is.
Win32Path win32_path_of(std::string_view nt_path, const std::vector<DriveDevice>& drives);

}  // namespace procsentry
