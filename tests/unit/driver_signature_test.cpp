// The shipped procsentry.sys verifies (osslsigncode verify) against the certificate the build
// generated, and only it: the unsigned link output, a copy with one code byte changed and a
// copy signed by another certificate all fail. The key stays private to its owner.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "unit/pe_image.h"

namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int status = -1;
  std::string output;
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> chunk{};
  while (std::fgets(chunk.data(), chunk.size(), pipe) != nullptr) result.output += chunk.data();
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string quoted(const fs::path& path) { return "'" + path.string() + "'"; }

class DriverImageSignature : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(PROCSENTRY_DRIVER_IMAGE)) << PROCSENTRY_DRIVER_IMAGE << " is missing";
    ASSERT_TRUE(fs::exists(PROCSENTRY_TEST_CERTIFICATE)) << PROCSENTRY_TEST_CERTIFICATE << " is missing";
    std::string pattern = (fs::temp_directory_path() / "driver_signature_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  CommandResult verify(const fs::path& image, const fs::path& certificate = PROCSENTRY_TEST_CERTIFICATE) const {
    return run(std::string(PROCSENTRY_OSSLSIGNCODE) + " verify -in " + quoted(image) + " -CAfile " +
               quoted(certificate));
  }
  fs::path dir_;
};

TEST_F(DriverImageSignature, ShippedImageVerifiesAgainstTheGeneratedCertificate) {
  auto result = verify(PROCSENTRY_DRIVER_IMAGE);
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("Message digest algorithm  : SHA256"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Page hash algorithm  : SHA256"), std::string::npos) << result.output;
}

TEST_F(DriverImageSignature, UnsignedImageFails) {
  auto result = verify(PROCSENTRY_DRIVER_UNSIGNED_IMAGE);
  EXPECT_NE(result.status, 0) << result.output;
}

TEST_F(DriverImageSignature, TamperedImageFails) {
  procsentry::test::PeImage image(PROCSENTRY_DRIVER_IMAGE);
  auto text = image.find_section(".text");
  ASSERT_LT(text, image.section_count());
  std::string bytes = image.bytes();
  std::size_t offset = image.section_raw_offset(text) + image.section_raw_size(text) / 2;
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x01);
  fs::path tampered = dir_ / "tampered.sys";
  std::ofstream(tampered, std::ios::binary) << bytes;
  auto result = verify(tampered);
  EXPECT_NE(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("MISMATCH"), std::string::npos) << result.output;
}

// Proves the check is against the generated certificate, not any well-formed signature.
TEST_F(DriverImageSignature, ImageSignedByAnotherCertificateFails) {
  auto made = run(std::string(PROCSENTRY_OPENSSL) + " req -x509 -newkey rsa:2048 -nodes -sha256 -days 1 " +
                  "-subj /CN=other -addext extendedKeyUsage=codeSigning -keyout " + quoted(dir_ / "other.key") +
                  " -out " + quoted(dir_ / "other.crt"));
  ASSERT_EQ(made.status, 0) << made.output;
  auto signed_by_other = run(std::string(PROCSENTRY_OSSLSIGNCODE) + " sign -h sha256 -ph -certs " +
                             quoted(dir_ / "other.crt") + " -key " + quoted(dir_ / "other.key") + " -in " +
                             quoted(PROCSENTRY_DRIVER_UNSIGNED_IMAGE) + " -out " + quoted(dir_ / "other.sys"));
  ASSERT_EQ(signed_by_other.status, 0) << signed_by_other.output;
  EXPECT_EQ(verify(dir_ / "other.sys", dir_ / "other.crt").status, 0) << "the control: it verifies against its own";
  auto result = verify(dir_ / "other.sys");
  EXPECT_NE(result.status, 0) << result.output;
}

TEST_F(DriverImageSignature, KeyIsReadableByItsOwnerOnly) {
  struct stat st {};
  ASSERT_EQ(::stat(PROCSENTRY_TEST_KEY, &st), 0) << PROCSENTRY_TEST_KEY;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
