// The built procsentry.sys is a loadable Windows driver: PE32+, native subsystem, entry point
// DriverEntry, force-integrity set, relocations and x64 unwind data kept, nothing exported,
// imports only from ntoskrnl.exe and HAL.dll, an Authenticode signature in the security
// directory. Parses the PE headers itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "unit/pe_image.h"

namespace {

using procsentry::test::PeImage;

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
  // Resolved at run time (read_queue.cpp: Wine 8's IoCsqInsertIrp is a stub that aborts) or
  // built in place (device_security.cpp: Wine's SeExports is empty): never imported.
  for (const auto& f : functions) {
    EXPECT_NE(f.rfind("IoCsq", 0), 0u) << f;
    EXPECT_NE(f, "SeExports");
  }
  EXPECT_TRUE(functions.count("MmGetSystemRoutineAddress"));
  for (const char* user_mode : {"malloc", "free", "printf", "CreateFileW", "_initterm"}) {
    EXPECT_FALSE(functions.count(user_mode)) << user_mode;
  }
}

// x64 Windows finds every frame's unwind rule in .pdata (RUNTIME_FUNCTION: begin, end, unwind
// info RVA in .xdata): without it a bug check's stack stops at the driver and an exception
// dispatched through its frames cannot unwind them.
TEST_F(DriverImage, KeepsX64UnwindData) {
  for (const char* name : {".pdata", ".xdata"}) {
    auto i = image_.find_section(name);
    ASSERT_LT(i, image_.section_count()) << name << " missing (built with -fno-asynchronous-unwind-tables?)";
    EXPECT_GT(image_.section_virtual_size(i), 0u) << name;
    EXPECT_GT(image_.section_raw_size(i), 0u) << name;
  }
  auto pdata = image_.find_section(".pdata");
  auto xdata = image_.find_section(".xdata");
  ASSERT_EQ(image_.directory_rva(3), image_.section_va(static_cast<std::int16_t>(pdata + 1)))
      << "the exception directory is .pdata";
  ASSERT_GT(image_.directory_size(3), 0u);
  ASSERT_EQ(image_.directory_size(3) % 12, 0u);
  auto entry = image_.at<std::uint32_t>(image_.optional_header() + 16);
  auto xdata_begin = image_.section_va(static_cast<std::int16_t>(xdata + 1));
  auto xdata_end = xdata_begin + image_.section_virtual_size(xdata);
  bool entry_covered = false;
  std::size_t table = image_.file_offset(image_.directory_rva(3));
  for (std::uint32_t off = 0; off < image_.directory_size(3); off += 12) {
    auto begin = image_.at<std::uint32_t>(table + off);
    auto end = image_.at<std::uint32_t>(table + off + 4);
    auto unwind = image_.at<std::uint32_t>(table + off + 8);
    EXPECT_LT(begin, end);
    EXPECT_TRUE(unwind >= xdata_begin && unwind < xdata_end) << "unwind info outside .xdata: " << unwind;
    entry_covered = entry_covered || (entry >= begin && entry < end);
  }
  EXPECT_TRUE(entry_covered) << "DriverEntry has no RUNTIME_FUNCTION";
}

// The kernel calls AddressOfEntryPoint; an export table would only make the driver an export
// driver others could link against (and -shared exported every global function).
TEST_F(DriverImage, ExportsNothing) {
  EXPECT_EQ(image_.directory_rva(0), 0u);
  EXPECT_EQ(image_.directory_size(0), 0u);
  EXPECT_EQ(image_.find_section(".edata"), image_.section_count());
  EXPECT_EQ(image_.at<std::uint16_t>(image_.pe() + 22) & 0x2000, 0) << "IMAGE_FILE_DLL: linked as a DLL";
}

// FORCE_INTEGRITY: Windows loads the image only with a signature, test-signing mode included.
// The security directory's address is a file offset; Authenticode puts the table last.
TEST_F(DriverImage, CarriesAnAuthenticodeSignature) {
  auto offset = image_.directory_rva(4);
  auto size = image_.directory_size(4);
  ASSERT_GT(size, 8u) << "no security directory: the .sys is unsigned";
  EXPECT_EQ(offset % 8, 0u);
  EXPECT_EQ(std::size_t{offset} + size, image_.size()) << "the certificate table ends the file";
  auto length = image_.at<std::uint32_t>(offset);
  EXPECT_LE(length, size);
  EXPECT_EQ(image_.at<std::uint16_t>(offset + 4), 0x0200) << "WIN_CERT_REVISION_2_0";
  EXPECT_EQ(image_.at<std::uint16_t>(offset + 6), 0x0002) << "WIN_CERT_TYPE_PKCS_SIGNED_DATA";
  std::string pkcs7 = image_.bytes().substr(offset + 8, length - 8);
  auto has = [&](std::initializer_list<unsigned char> oid) {
    return pkcs7.find(std::string(oid.begin(), oid.end())) != std::string::npos;
  };
  EXPECT_TRUE(has({0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x04}))
      << "SPC_INDIRECT_DATA (1.3.6.1.4.1.311.2.1.4)";
  EXPECT_TRUE(has({0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01})) << "SHA-256";
  EXPECT_TRUE(has({0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x03, 0x02}))
      << "SHA-256 page hashes (1.3.6.1.4.1.311.2.3.2)";
}

// The DDK is included as system headers (-isystem), so its warnings are not ours and -Werror
// holds our code only; a misplaced SYSTEM keyword once made it a plain -I plus a bogus
// "SYSTEM" directory.
TEST(DriverBuild, IncludesTheDdkAsSystemHeaders) {
  std::ifstream in(PROCSENTRY_MINGW_COMPILE_COMMANDS);
  ASSERT_TRUE(in) << PROCSENTRY_MINGW_COMPILE_COMMANDS << " is missing";
  std::stringstream text;
  text << in.rdbuf();
  std::string line;
  int driver_objects = 0;
  while (std::getline(text, line)) {
    if (line.find("\"command\"") == std::string::npos || line.find("procsentry_driver.dir") == std::string::npos)
      continue;
    ++driver_objects;
    EXPECT_TRUE(std::regex_search(line, std::regex(R"(-isystem [^ ]*/include/ddk )"))) << line;
    EXPECT_FALSE(std::regex_search(line, std::regex(R"(-I[^ ]*/ddk )"))) << line;
    EXPECT_EQ(line.find("/SYSTEM "), std::string::npos) << line;
    EXPECT_EQ(line.find("-fno-asynchronous-unwind-tables"), std::string::npos) << line;
  }
  EXPECT_GE(driver_objects, 6);
}

}  // namespace
