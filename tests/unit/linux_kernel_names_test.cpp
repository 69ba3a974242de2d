// The Windows client's table of Linux's errno and signal names is glibc's, entry for entry.
#include <gtest/gtest.h>
#include <string.h>

#include <string>

#include "platform/linux_kernel_names.h"

namespace procsentry {
namespace {

TEST(LinuxKernelNames, ErrnoNamesAndTextsAreGlibcs) {
  for (int error = -2; error < 300; ++error) {
    const char* name = strerrorname_np(error);
    const char* text = strerrordesc_np(error);
    EXPECT_EQ(linux_errno_name(error), name != nullptr ? name : "") << error;
    EXPECT_EQ(linux_errno_text(error), text != nullptr ? text : "unknown error") << error;
  }
}

TEST(LinuxKernelNames, SignalNamesAreGlibcs) {
  for (int signal = -1; signal < 70; ++signal) {
    const char* abbrev = sigabbrev_np(signal);
    EXPECT_EQ(linux_signal_name(signal),
              abbrev != nullptr ? std::string("SIG") + abbrev : "SIG" + std::to_string(signal))
        << signal;
  }
}

}  // namespace
}  // namespace procsentry
