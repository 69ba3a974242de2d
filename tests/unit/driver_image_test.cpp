// The built procsentry.sys is a loadable Windows driver: PE32+, native subsystem, entry point
// DriverEntry, force-integrity set, relocations kept, imports only from ntoskrnl.exe and
// HAL.dll. Parses the PE headers itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace {

class PeImage {
 public:
  explicit PeImage(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), {});
  }
  bool empty() const { return bytes_.empty(); }
  template <typename T>
  T at(std::size_t offset) const {
    T value{};
    if (offset + sizeof(T) <= bytes_.size()) std::memcpy(&value, bytes_.data() + offset, sizeof(T));
    return value;
  }
  std::string string_at(std::size_t offset) const {
    std::string s;
    while (offset < bytes_.size() && bytes_[offset] != '\0') s += bytes_[offset++];
    return s;
  }
  std::size_t pe() const { return at<std::uint32_t>(0x3c); }
  std::size_t optional_header() const { return pe() + 24; }
  std::uint16_t section_count() const { return at<std::uint16_t>(pe() + 6); }
  std::size_t sections() const { return optional_header() + at<std::uint16_t>(pe() + 20); }
  // File offset of a relative virtual address.
  std::size_t file_offset(std::uint32_t rva) const {
    for (std::uint16_t i = 0; i < section_count(); ++i) {
      std::size_t s = sections() + 40u * i;
      auto va = at<std::uint32_t>(s + 12);
      auto size = std::max(at<std::uint32_t>(s + 8), at<std::uint32_t>(s + 16));
      if (rva >= va && rva < va + size) return rva - va + at<std::uint32_t>(s + 20);
    }
    return 0;
  }
  std::uint32_t section_va(std::int16_t number) const {
    return number >= 1 ? at<std::uint32_t>(sections() + 40u * static_cast<std::uint16_t>(number - 1) + 12) : 0;
  }
  std::uint32_t directory_rva(unsigned index) const { return at<std::uint32_t>(optional_header() + 112 + 8u * index); }
  std::uint32_t directory_size(unsigned index) const { return at<std::uint32_t>(optional_header() + 116 + 8u * index); }

 private:
  std::string bytes_;
};

class DriverImage : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(image_.empty()) << PROCSENTRY_DRIVER_IMAGE
                                 << " is missing: build it with cmake --preset mingw && cmake --build --preset mingw";
  }
  PeImage image_{PROCSENTRY_DRIVER_IMAGE};
};

TEST_F(DriverImage, IsANativePe32PlusWithForceIntegrity) {
  EXPECT_EQ(image_.at<std::uint16_t>(0), 0x5a4d);                         // MZ
  EXPECT_EQ(image_.at<std::uint32_t>(image_.pe()), 0x00004550u);          // PE\0\0
  EXPECT_EQ(image_.at<std::uint16_t>(image_.pe() + 4), 0x8664);           // x86-64
  EXPECT_EQ(image_.at<std::uint16_t>(image_.optional_header()), 0x20b);   // PE32+
  EXPECT_EQ(image_.at<std::uint16_t>(image_.optional_header() + 68), 1);  // IMAGE_SUBSYSTEM_NATIVE
  auto dll_characteristics = image_.at<std::uint16_t>(image_.optional_header() + 70);
  EXPECT_NE(dll_characteristics & 0x0080, 0) << "IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY";
  EXPECT_NE(dll_characteristics & 0x0040, 0) << "DYNAMIC_BASE";
  EXPECT_NE(dll_characteristics & 0x0100, 0) << "NX_COMPAT";
  EXPECT_GT(image_.directory_size(5), 0u) << "base relocations kept";
}

TEST_F(DriverImage, EntryPointIsDriverEntry) {
  auto entry = image_.at<std::uint32_t>(image_.optional_header() + 16);
  auto symbols = image_.at<std::uint32_t>(image_.pe() + 12);
  auto count = image_.at<std::uint32_t>(image_.pe() + 16);
  ASSERT_GT(count, 0u) << "symbol table needed to name the entry point";
  std::size_t strings = symbols + 18u * count;
  bool found = false;
  for (std::uint32_t i = 0; i < count && !found; ++i) {
    std::size_t sym = symbols + 18u * i;
    std::string name = image_.at<std::uint32_t>(sym) == 0
                           ? image_.string_at(strings + image_.at<std::uint32_t>(sym + 4))
                           : image_.string_at(sym).substr(0, 8);
    if (name == "DriverEntry") {
      found = true;
      EXPECT_EQ(image_.section_va(image_.at<std::int16_t>(sym + 12)) + image_.at<std::uint32_t>(sym + 8), entry);
    }
    i += image_.at<std::uint8_t>(sym + 17);  // auxiliary records
  }
  EXPECT_TRUE(found);
}

TEST_F(DriverImage, ImportsOnlyFromTheKernel) {
  std::set<std::string> dlls;
  std::set<std::string> functions;
  std::size_t descriptor = image_.file_offset(image_.directory_rva(1));
  ASSERT_NE(descriptor, 0u);
  for (;; descriptor += 20) {
    auto name_rva = image_.at<std::uint32_t>(descriptor + 12);
    if (name_rva == 0) break;
    std::string dll = image_.string_at(image_.file_offset(name_rva));
    std::transform(dll.begin(), dll.end(), dll.begin(), ::tolower);
    dlls.insert(dll);
    std::size_t thunk = image_.file_offset(image_.at<std::uint32_t>(descriptor));
    for (;; thunk += 8) {
      auto entry = image_.at<std::uint64_t>(thunk);
      if (entry == 0) break;
      ASSERT_EQ(entry >> 63, 0u) << "imports by name only";
      functions.insert(image_.string_at(image_.file_offset(static_cast<std::uint32_t>(entry)) + 2));
    }
  }
  for (const auto& dll : dlls) EXPECT_TRUE(dll == "ntoskrnl.exe" || dll == "hal.dll") << dll;
  EXPECT_TRUE(functions.count("PsSetCreateProcessNotifyRoutineEx"));
  EXPECT_TRUE(functions.count("IoCsqInsertIrp"));
  for (const char* user_mode : {"malloc", "free", "printf", "CreateFileW", "_initterm"}) {
    EXPECT_FALSE(functions.count(user_mode)) << user_mode;
  }
}

}  // namespace
