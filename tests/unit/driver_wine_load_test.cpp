// The shipped procsentry.sys under a real loader: Wine's winedevice.exe. In a private Wine
// prefix with a kept-alive wineserver, procsentry.exe installs the driver through the Service
// Control Manager and starts it (DriverEntry runs), a Windows program opens the device, is
// refused a read before the handshake, pends a read and cancels it, procsentry.exe stops the
// driver (DriverUnload runs) and the service reports STOPPED; nothing crashes. No process
// event can flow (Wine's PsSetCreateProcessNotifyRoutineEx is a stub). Wine's own trace of the
// session (WINEDEBUG) is kept in the build tree and printed when a step fails.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/spawn.h"

namespace {

namespace fs = std::filesystem;
using procsentry::test::capture;
using procsentry::test::Captured;
using procsentry::test::ProcessOptions;

const fs::path kPrefix = PROCSENTRY_WINE_DRIVER_DIR "/prefix";
const fs::path kLog = PROCSENTRY_WINE_DRIVER_DIR "/session.log";

std::vector<std::string> wine_env() {
  std::vector<std::string> env{"WINEPREFIX=" + kPrefix.string(),
                               // DriverEntry, the IRPs, IoCancelIrp and the unload in the trace
                               "WINEDEBUG=err+all,fixme+all,+winedevice,+ntoskrnl",
                               "WINEDLLOVERRIDES=winemenubuilder.exe,mscoree,mshtml=d"};
  for (const char* name : {"PATH", "HOME"}) {
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  }
  return env;
}

std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A command whose processes may outlive it (wineserver, services.exe, winedevice.exe): its
// output goes to the session log, never to a pipe the test would wait on.
Captured in_session(const std::string& command, std::chrono::seconds timeout = std::chrono::seconds(180)) {
  ProcessOptions options;
  options.env = wine_env();
  return capture("sh", {"sh", "-c", "{ " + command + "; } >>" + sh_quote(kLog.string()) + " 2>&1"}, options, timeout);
}

// A Windows program run to its end (the session is up): status and stdout plus stderr.
Captured run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"wine"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions options;
  options.env = wine_env();
  Captured c = capture("wine", argv, options, std::chrono::seconds(120));
  for (std::string* text : {&c.out, &c.err}) std::erase(*text, '\r');  // Windows' text mode: CRLF
  return c;
}

bool exited(const Captured& c, int status) {
  return !c.timed_out && WIFEXITED(c.status) && WEXITSTATUS(c.status) == status;
}

std::string log_text() {
  std::ifstream in(kLog);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Wine's trace, without its spin-lock chatter, for a failure's report.
std::string log_excerpt() {
  std::istringstream in(log_text());
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.find("KeAcquireSpinLock") != std::string::npos || line.find("KeReleaseSpinLock") != std::string::npos) {
      continue;
    }
    out += line + "\n";
  }
  constexpr std::size_t kMost = 60'000;
  return out.size() > kMost ? "[...]\n" + out.substr(out.size() - kMost) : out;
}

// Polls the session log (winedevice.exe writes it) until it holds `text`, with a deadline.
bool log_shows(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (log_text().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// "Z:\\work\\...\\procsentry.sys": how Wine names a Unix path.
std::string wine_path(const fs::path& p) {
  std::string s = "Z:" + p.string();
  for (char& c : s) c = c == '/' ? '\\' : c;
  return s;
}

class WineDriverLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* file : {PROCSENTRY_WINDOWS_CLIENT, PROCSENTRY_DRIVER_IMAGE, PROCSENTRY_DEVICE_CHECK}) {
      ASSERT_TRUE(fs::exists(file)) << file << ": build it (cmake --preset mingw && cmake --build --preset mingw)";
    }
    ASSERT_EQ(std::system("command -v wine >/dev/null && command -v wineserver >/dev/null"), 0)
        << "wine is needed to load the driver (tools/deps.sh --for-tests)";
    fs::create_directories(kPrefix);             // wineserver needs it; wineboot fills it the first time
    in_session("wineserver -k; wineserver -w");  // a session left by an earlier run, if any
    fs::remove(kLog);
    // The kept-alive wineserver, then the session's services (their output: the log).
    Captured boot = in_session("wineserver -p && wine wineboot -u");
    ASSERT_TRUE(exited(boot, 0)) << "starting the Wine session failed (status " << boot.status << ")";
    run({PROCSENTRY_WINDOWS_CLIENT, "uninstall"});  // a service left by an earlier run, if any
  }
  void TearDown() override {
    in_session("wineserver -k; wineserver -w");  // ends the session this test started, and waits for it
    if (HasFailure()) std::printf("---- Wine's trace (%s) ----\n%s", kLog.c_str(), log_excerpt().c_str());
  }
};

TEST_F(WineDriverLoad, InstallStartOpenPendCancelStopTheShippedDriver) {
  Captured install = run({PROCSENTRY_WINDOWS_CLIENT, "install"});
  ASSERT_TRUE(exited(install, 0)) << install.out << install.err;
  // procsentry.sys next to procsentry.exe: the signed file the build ships, not a copy.
  EXPECT_NE(install.out.find("installed the driver " + wine_path(PROCSENTRY_DRIVER_IMAGE)), std::string::npos)
      << install.out;

  Captured start = run({PROCSENTRY_WINDOWS_CLIENT, "start"});
  ASSERT_TRUE(exited(start, 0)) << start.out << start.err;
  EXPECT_NE(start.out.find("procsentry: the driver is running"), std::string::npos) << start.out;
  ASSERT_TRUE(log_shows("init done for L\"procsentry\"")) << "DriverEntry did not succeed";
  Captured running = run({"sc", "query", "procsentry"});
  EXPECT_NE(running.out.find("RUNNING"), std::string::npos) << running.out;

  Captured loaded = run({PROCSENTRY_DEVICE_CHECK, "loaded"});
  EXPECT_TRUE(exited(loaded, 0)) << loaded.out << loaded.err;
  for (const char* check :
       {"ok open\n", "ok read_before_handshake_refused\n", "ok handshake_answers_the_wire_version\n", "ok read_pends\n",
        "ok read_cancelled\n", "ok open_again_after_close\n"}) {
    EXPECT_NE(loaded.out.find(check), std::string::npos) << check << loaded.out;
  }
  // The cancellation went through Wine's IoCancelIrp to the driver's own cancel routine.
  EXPECT_TRUE(log_shows("trace:ntoskrnl:IoCancelIrp"));
  EXPECT_TRUE(log_shows("fixme:ntoskrnl:MmGetSystemRoutineAddress L\"IoCsqInsertIrpEx\" not found"));

  Captured stop = run({PROCSENTRY_WINDOWS_CLIENT, "stop"});
  ASSERT_TRUE(exited(stop, 0)) << stop.out << stop.err;
  EXPECT_NE(stop.out.find("procsentry: the driver stopped"), std::string::npos) << stop.out;
  // DriverUnload ran: it unregisters its callback (Wine's stub traces the removal) and the
  // device goes with it.
  EXPECT_TRUE(log_shows("unload_driver L\"\\\\Driver\\\\procsentry\""));
  EXPECT_TRUE(log_shows("PsSetCreateProcessNotifyRoutineEx stub: ")) << "no registration traced";
  const std::string trace = log_text();
  EXPECT_NE(trace.find(" 1\n", trace.rfind("PsSetCreateProcessNotifyRoutineEx stub: ")), std::string::npos)
      << "the last PsSetCreateProcessNotifyRoutineEx call was not the unload's removal";
  Captured stopped = run({"sc", "query", "procsentry"});
  EXPECT_NE(stopped.out.find("STOPPED"), std::string::npos) << stopped.out;
  Captured unloaded = run({PROCSENTRY_DEVICE_CHECK, "unloaded"});
  EXPECT_TRUE(exited(unloaded, 0)) << unloaded.out << unloaded.err;

  Captured uninstall = run({PROCSENTRY_WINDOWS_CLIENT, "uninstall"});
  EXPECT_TRUE(exited(uninstall, 0)) << uninstall.out << uninstall.err;
  Captured gone = run({"sc", "query", "procsentry"});
  EXPECT_EQ(gone.out.find("RUNNING"), std::string::npos) << gone.out;

  const std::string session = log_text();
  for (const char* crash : {"unimplemented function", "Unhandled exception", "starting debugger", "page fault"}) {
    EXPECT_EQ(session.find(crash), std::string::npos) << "Wine reported: " << crash;
  }
}

// Each failure is one line saying what to do; usage errors exit 2, failures 1.
TEST_F(WineDriverLoad, ServiceCommandsSayWhatToDoInOneLine) {
  auto one_line = [](const Captured& c, int status, const std::string& says) {
    EXPECT_TRUE(exited(c, status)) << c.status << ": " << c.out << c.err;
    // Wine's own start-up chatter may come first on stderr: the client's line is the last.
    std::string err = c.err.substr(0, c.err.find_last_not_of('\n') + 1);
    std::string last = err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
    EXPECT_NE(last.find(says), std::string::npos) << c.err;
    EXPECT_EQ(last.rfind("procsentry: ", 0), 0u) << c.err;
  };
  one_line(run({PROCSENTRY_WINDOWS_CLIENT, "stop"}), 1, "the driver is not installed: procsentry.exe install");
  one_line(run({PROCSENTRY_WINDOWS_CLIENT, "start"}), 1, "the driver is not installed: procsentry.exe install");
  one_line(run({PROCSENTRY_WINDOWS_CLIENT, "install", "Z:\\nowhere\\procsentry.sys"}), 1,
           "Z:\\nowhere\\procsentry.sys is not a file: give the driver's path");
  Captured usage = run({PROCSENTRY_WINDOWS_CLIENT, "start", "now"});
  EXPECT_TRUE(exited(usage, 2)) << usage.out << usage.err;
  EXPECT_NE(usage.err.find("procsentry: start takes no argument\nusage: procsentry.exe install"), std::string::npos)
      << usage.err;
  ASSERT_TRUE(exited(run({PROCSENTRY_WINDOWS_CLIENT, "install"}), 0));
  one_line(run({PROCSENTRY_WINDOWS_CLIENT, "install"}), 1, "the driver is already installed: procsentry.exe uninstall");
  Captured stop = run({PROCSENTRY_WINDOWS_CLIENT, "stop"});
  EXPECT_TRUE(exited(stop, 0)) << stop.out << stop.err;
  EXPECT_NE(stop.out.find("procsentry: the driver is not running"), std::string::npos) << stop.out;
  Captured uninstall = run({PROCSENTRY_WINDOWS_CLIENT, "uninstall"});
  EXPECT_TRUE(exited(uninstall, 0)) << uninstall.out << uninstall.err;
  one_line(run({PROCSENTRY_WINDOWS_CLIENT, "uninstall"}), 1, "the driver is not installed: procsentry.exe install");
}

}  // namespace
