// The Windows driver's NT image paths as CreateFileW opens them (hashing/nt_path.h); the real
// opens are checked under Wine (tests/windows/image_file_check.cpp).
#include "hashing/nt_path.h"

#include <gtest/gtest.h>

namespace procsentry {
namespace {

const std::vector<DriveDevice> kDrives{{'C', "\\Device\\HarddiskVolume3"},
                                       {'D', "\\Device\\HarddiskVolume31"},
                                       {'Z', "\\Device\\LanmanRedirector\\;Z:0000000000012345\\srv\\share"}};

std::string opened(std::string_view nt_path) { return win32_path_of(nt_path, kDrives).path; }

TEST(NtPath, ADosDeviceNameBecomesAWin32LongPath) {
  EXPECT_EQ(opened("\\??\\C:\\Windows\\System32\\cmd.exe"), "\\\\?\\C:\\Windows\\System32\\cmd.exe");
}

TEST(NtPath, AVolumeDeviceBecomesItsDriveLetter) {
  EXPECT_EQ(opened("\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe"), "\\\\?\\C:\\Windows\\System32\\cmd.exe");
  // Volume31 is not Volume3 with a "1" after it, and object names ignore case.
  EXPECT_EQ(opened("\\Device\\HarddiskVolume31\\x.exe"), "\\\\?\\D:\\x.exe");
  EXPECT_EQ(opened("\\device\\harddiskvolume3\\x.exe"), "\\\\?\\C:\\x.exe");
  EXPECT_FALSE(win32_path_of("\\Device\\HarddiskVolume3\\x.exe", kDrives).unlettered_device);
}

TEST(NtPath, AnUnletteredDeviceGoesThroughGlobalRootAndSaysSo) {
  Win32Path p = win32_path_of("\\Device\\HarddiskVolume7\\x.exe", kDrives);
  EXPECT_EQ(p.path, "\\\\?\\GLOBALROOT\\Device\\HarddiskVolume7\\x.exe");
  EXPECT_TRUE(p.unlettered_device) << "the opener reads the drive letters again";
  EXPECT_TRUE(win32_path_of("\\Device\\HarddiskVolume3\\x.exe", {}).unlettered_device);
  EXPECT_EQ(opened("\\Device\\HarddiskVolume3"), "\\\\?\\GLOBALROOT\\Device\\HarddiskVolume3") << "not a file below it";
}

TEST(NtPath, NetworkAndOtherNtNames) {
  EXPECT_EQ(opened("\\Device\\Mup\\srv\\share\\x.exe"), "\\\\?\\UNC\\srv\\share\\x.exe");
  EXPECT_EQ(opened("\\SystemRoot\\System32\\smss.exe"), "\\\\?\\GLOBALROOT\\SystemRoot\\System32\\smss.exe");
  EXPECT_FALSE(win32_path_of("\\SystemRoot\\System32\\smss.exe", kDrives).unlettered_device);
}

TEST(NtPath, Win32PathsStayAsTheyAre) {
  for (std::string_view path : {"C:\\x.exe", "\\\\?\\C:\\x.exe", "\\\\srv\\share\\x.exe", "x.exe", ""}) {
    EXPECT_EQ(opened(path), path);
  }
}

}  // namespace
}  // namespace procsentry
