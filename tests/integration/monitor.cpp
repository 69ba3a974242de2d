#include "integration/monitor.h"

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <stdexcept>

#include "integration/monitor_process.h"

namespace procsentry::test {

std::optional<std::string> user_name(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  if (getpwuid_r(uid, &entry, buffer, sizeof(buffer), &found) != 0 || found == nullptr) return std::nullopt;
  return std::string(entry.pw_name);
}

std::optional<std::string> group_name(gid_t gid) {
  group entry{};
  group* found = nullptr;
  char buffer[4096];
  if (getgrgid_r(gid, &entry, buffer, sizeof(buffer), &found) != 0 || found == nullptr) return std::nullopt;
  return std::string(entry.gr_name);
}

namespace {
::testing::AssertionResult names(const nlohmann::json& event, const char* field, std::optional<std::string> name) {
  if (!name) {
    if (!event.contains(field)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << field << " is " << event.at(field) << " for an id with no name";
  }
  if (event.value(field, std::string()) == *name) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << field << " is " << event.value(field, nlohmann::json()) << ", expected "
                                       << *name;
}
}  // namespace

::testing::AssertionResult names_user(const nlohmann::json& event, uid_t uid) {
  return names(event, "user", user_name(uid));
}
::testing::AssertionResult names_group(const nlohmann::json& event, gid_t gid) {
  return names(event, "group", group_name(gid));
}

std::string procsentry_binary() { return PROCSENTRY_BINARY; }
bool running_as_root() { return geteuid() == 0; }

namespace {

// Upper bounds only: waits end as soon as what they wait for has arrived.
constexpr auto kMarkerTimeout = std::chrono::seconds(60);
constexpr const char* kMarkerArg = "procsentry-test-marker";

// The test binary's shared monitors, by options; a start that failed is not retried.
struct SharedMonitors {
  std::map<std::vector<std::string>, std::shared_ptr<MonitorProcess>> running;
  std::map<std::vector<std::string>, std::string> failed;
};
SharedMonitors& shared_monitors() {
  static SharedMonitors monitors;
  return monitors;
}

std::string describe(const std::vector<std::string>& args) {
  std::string text = "procsentry --json";
  for (const auto& a : args) text += " " + a;
  return text;
}

// Stops a shared monitor and checks what a test with a monitor of its own checks: exit
// status 0, nothing lost, no decode error.
void retire(const std::shared_ptr<MonitorProcess>& process) {
  const int status = process->terminate();
  const std::string said = process->stderr_text();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "shared " << describe(process->args()) << " ended with wait status " << status << ": " << said;
  EXPECT_NE(said.find(", lost 0, decode errors 0\n"), std::string::npos)
      << "shared " << describe(process->args()) << " lost records or could not decode some: " << said;
  EXPECT_EQ(process->bad_line(), "") << "shared " << describe(process->args()) << " printed a line that is not JSON";
}

// After the last test: every shared monitor still running is stopped and checked.
class SharedMonitorCheck : public ::testing::Environment {
 public:
  void TearDown() override {
    auto& monitors = shared_monitors();
    for (auto& [args, process] : monitors.running) retire(process);
    monitors.running.clear();
  }
};
[[maybe_unused]] ::testing::Environment* const shared_monitor_check =
    ::testing::AddGlobalTestEnvironment(new SharedMonitorCheck);

bool is_event(const nlohmann::json& e, pid_t pid, const char* kind) {
  return e.value("pid", -1) == pid && e.value("event", "") == kind;
}

// Runs a marker process (a `true` with a marker argument) and returns its pid and the index of
// its `kind` event in the stream, once that has arrived.
std::pair<pid_t, std::optional<std::size_t>> mark(const MonitorProcess& process, std::size_t from, const char* kind) {
  static int count = 0;
  const pid_t pid = spawn("/usr/bin/true", {"true", kMarkerArg, std::to_string(++count)});
  const int status = wait_for(pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {pid, std::nullopt};
  return {pid, process.wait_for_event(
                   from, [pid, kind](const nlohmann::json& e) { return is_event(e, pid, kind); }, kMarkerTimeout)};
}

}  // namespace

Monitor::Monitor(std::vector<std::string> extra_args)
    : Monitor(std::make_shared<MonitorProcess>(std::move(extra_args)), false) {}

Monitor::Monitor(std::shared_ptr<MonitorProcess> process, bool shared)
    : process_(std::move(process)), shared_(shared) {}

Monitor::Monitor(Monitor&& other) noexcept
    : process_(std::move(other.process_)),
      shared_(other.shared_),
      stopped_(other.stopped_),
      begin_(other.begin_),
      begin_marker_(other.begin_marker_),
      events_(std::move(other.events_)) {
  other.stopped_ = true;
}

Monitor Monitor::shared(std::vector<std::string> extra_args) {
  auto& monitors = shared_monitors();
  if (auto failed = monitors.failed.find(extra_args); failed != monitors.failed.end()) {
    throw std::runtime_error("procsentry could not start in an earlier test: " + failed->second);
  }
  auto found = monitors.running.find(extra_args);
  if (found != monitors.running.end() && found->second->exited()) {
    retire(found->second);  // it died during an earlier test: said here, then a new one
    monitors.running.erase(found);
    found = monitors.running.end();
  }
  if (found == monitors.running.end()) {
    // The default monitor stays; one with other options at a time (each one sees, and costs,
    // every event of the machine).
    for (auto it = monitors.running.begin(); !extra_args.empty() && it != monitors.running.end();) {
      if (it->first.empty()) {
        ++it;
        continue;
      }
      retire(it->second);
      it = monitors.running.erase(it);
    }
    try {
      found = monitors.running.emplace(extra_args, std::make_shared<MonitorProcess>(extra_args)).first;
    } catch (const std::exception& e) {
      monitors.failed.emplace(extra_args, e.what());
      throw;
    }
  }
  Monitor view(found->second, true);
  auto [marker, at] = mark(*view.process_, view.process_->event_count(), "exec");
  if (!at) throw std::runtime_error("the shared monitor did not report a marker process: " + view.stderr_text());
  view.begin_ = *at + 1;
  view.begin_marker_ = marker;
  return view;
}

Monitor::~Monitor() {
  if (!stopped_) {
    try {
      stop();
    } catch (...) {
    }
  }
}

int Monitor::stop() {
  if (stopped_) throw std::logic_error("Monitor::stop() called twice");
  stopped_ = true;
  if (!shared_) {
    const int status = process_->terminate();
    events_ = process_->events(0, process_->event_count());
    if (!process_->bad_line().empty()) throw std::runtime_error("not JSON: " + process_->bad_line());
    return status;
  }
  auto [marker, end] = mark(*process_, begin_, "exit");
  if (!end) {
    ADD_FAILURE() << "the shared monitor did not report the closing marker process: " << stderr_text();
    events_ = process_->events(begin_, process_->event_count());
    return process_->exited() ? process_->terminate() : -1;
  }
  // Not the markers' own events: the first's exit, the last's fork and exec (a test process
  // may have had either pid before).
  auto all = process_->events(begin_, *end);
  bool first_marker_done = false;
  std::size_t last_marker_from = all.size();
  for (std::size_t i = all.size(); i-- > 0;) {
    if (is_event(all[i], marker, "fork")) {
      last_marker_from = i;
      break;
    }
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    const pid_t pid = all[i].value("pid", -1);
    if (!first_marker_done && pid == begin_marker_) {
      first_marker_done = all[i].value("event", "") == "exit";
      continue;
    }
    if (i >= last_marker_from && pid == marker) continue;
    events_.push_back(std::move(all[i]));
  }
  EXPECT_EQ(process_->bad_line(), "") << "procsentry printed a line that is not JSON";
  return 0;
}

std::string Monitor::stderr_text() const { return process_->stderr_text(); }
pid_t Monitor::pid() const { return process_->pid(); }

bool Monitor::wait_for_event(const std::function<bool(const nlohmann::json&)>& match,
                             std::chrono::milliseconds timeout) const {
  return process_->wait_for_event(begin_, match, timeout).has_value();
}

bool Monitor::wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout) const {
  return process_->wait_for_stderr(text, timeout);
}

std::vector<nlohmann::json> Monitor::of(pid_t pid, const std::string& kind) const {
  std::vector<nlohmann::json> found;
  for (const auto& e : events_) {
    if (e.value("event", "") == kind && e.value("pid", -1) == pid) found.push_back(e);
  }
  return found;
}

std::uint64_t Monitor::summary_count(const std::string& key) const {
  const std::string said = stderr_text();
  if (shared_ && key == "lost") {
    std::uint64_t lost = 0;
    for (const auto& e : events_) {
      if (e.value("event", "") == "lost") lost += e.value("count", std::uint64_t{0});
    }
    return lost;
  }
  if (shared_ && key == "decode errors") {
    std::uint64_t errors = 0;
    for (auto at = said.find("skipped a malformed record"); at != std::string::npos;
         at = said.find("skipped a malformed record", at + 1)) {
      ++errors;
    }
    return errors;
  }
  // "..., lost 0, decode errors 0"
  auto at = said.rfind(", " + key + " ");
  if (shared_ || at == std::string::npos) throw std::runtime_error("no '" + key + "' in summary: " + said);
  return std::stoull(said.substr(at + key.size() + 3));
}

pid_t spawn(const std::string& path, const std::vector<std::string>& argv, const SpawnOptions& options) {
  ProcessOptions process;
  process.cwd = options.cwd;
  process.uid = options.uid;
  process.env = {"PATH=/usr/bin:/bin"};
  return start_process(path, argv, process).pid;
}

int wait_for(pid_t pid) { return wait_status(pid); }

std::pair<pid_t, int> run(const std::string& path, const std::vector<std::string>& argv, const SpawnOptions& options) {
  pid_t pid = spawn(path, argv, options);
  return {pid, wait_for(pid)};
}

std::string base64_decode(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::vector<std::string> exact_argv(const nlohmann::json& exec_event) {
  if (exec_event.contains("argv_b64")) {
    std::string raw = base64_decode(exec_event["argv_b64"].get<std::string>());
    std::vector<std::string> argv;
    std::size_t start = 0;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\0') {
        argv.push_back(raw.substr(start, i - start));
        start = i + 1;
      }
    }
    if (start < raw.size()) argv.push_back(raw.substr(start));
    return argv;
  }
  return exec_event.at("argv").get<std::vector<std::string>>();
}

}  // namespace procsentry::test
