// Startup probes: each missing capability of the machine is one clear line.
#include "sources/linux_bpf/kernel_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace procsentry {
namespace {

TEST(KernelProbe, ThisMachineHasWhatTheSensorNeeds) {
  if (geteuid() != 0) GTEST_SKIP() << "the probe starts with the privilege check";
  auto features = probe_kernel();
  ASSERT_TRUE(features.has_value()) << features.error().message;
}

// bpf_loop is 5.17+; the environment can hide it so that the bounded-loop program of older
// kernels is tested on new ones too.
TEST(KernelProbe, BpfLoopIsProbedAndCanBeHidden) {
  if (geteuid() != 0) GTEST_SKIP() << "the probe starts with the privilege check";
  const char* forced = std::getenv(kForceBoundedLoopsEnv);
  std::string saved = forced ? forced : "";
  unsetenv(kForceBoundedLoopsEnv);
  auto features = probe_kernel();
  ASSERT_TRUE(features.has_value()) << features.error().message;
  RecordProperty("has_bpf_loop", features->has_bpf_loop ? "yes" : "no");
  setenv(kForceBoundedLoopsEnv, "1", 1);
  auto hidden = probe_kernel();
  ASSERT_TRUE(hidden.has_value());
  EXPECT_FALSE(hidden->has_bpf_loop);
  if (forced) {
    setenv(kForceBoundedLoopsEnv, saved.c_str(), 1);
  } else {
    unsetenv(kForceBoundedLoopsEnv);
  }
}

TEST(KernelProbe, MissingBtfSaysWhatToDo) {
  if (geteuid() != 0) GTEST_SKIP() << "the privilege check comes first";
  auto features = probe_kernel("/nonexistent/btf/vmlinux");
  ASSERT_FALSE(features.has_value());
  const std::string& message = features.error().message;
  EXPECT_NE(message.find("no BTF"), std::string::npos) << message;
  EXPECT_NE(message.find("CONFIG_DEBUG_INFO_BTF"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line";
}

TEST(KernelProbe, GarbageBtfIsAnErrorNotACrash) {
  if (geteuid() != 0) GTEST_SKIP() << "the privilege check comes first";
  char path[] = "/tmp/procsentry-btf-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "not btf at all", 14), 14);
  close(fd);
  auto features = probe_kernel(path);
  unlink(path);
  ASSERT_FALSE(features.has_value());
  EXPECT_NE(features.error().message.find("cannot read the kernel's BTF"), std::string::npos);
}

}  // namespace
}  // namespace procsentry
