#include "store_scale/synthetic_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

namespace procsentry::bench {
namespace {

constexpr std::int64_t kTick = 10'000'000;
const ProcessUidScheme kScheme("3f9a1c2e", kTick);

Text text(std::string_view bytes) { return Text{bytes, true, false, static_cast<std::uint32_t>(bytes.size())}; }

std::uint64_t mix(std::uint64_t x) {  // splitmix64: a deterministic spread of an index
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string_view basename_of(std::string_view path) { return path.substr(path.rfind('/') + 1); }

// The most executed images first (a build server's), then a long tail of tools.
constexpr std::array kCommonImages = {"/usr/bin/true",
                                      "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus",
                                      "/usr/bin/git",
                                      "/usr/bin/bash",
                                      "/usr/bin/sed",
                                      "/usr/bin/grep",
                                      "/usr/bin/x86_64-linux-gnu-as",
                                      "/usr/bin/ls",
                                      "/usr/bin/cat",
                                      "/usr/bin/python3.11",
                                      "/usr/bin/make",
                                      "/usr/bin/x86_64-linux-gnu-ld.bfd",
                                      "/usr/bin/env",
                                      "/usr/bin/dirname",
                                      "/usr/bin/uname",
                                      "/usr/bin/rm",
                                      "/usr/bin/mkdir",
                                      "/usr/bin/cp",
                                      "/usr/bin/mawk",
                                      "/usr/bin/ssh",
                                      "/usr/bin/curl",
                                      "/usr/bin/perl",
                                      "/usr/bin/tar",
                                      "/usr/bin/gzip",
                                      "/usr/bin/find",
                                      "/usr/bin/xargs",
                                      "/usr/bin/sort",
                                      "/usr/bin/head",
                                      "/usr/bin/date",
                                      "/usr/bin/id",
                                      "/usr/bin/node",
                                      "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"};
constexpr std::array kDirs = {"/usr/bin",
                              "/usr/sbin",
                              "/usr/local/bin",
                              "/opt/ci/tools/bin",
                              "/usr/lib/x86_64-linux-gnu/libexec",
                              "/srv/app/releases/2026.11/bin"};
constexpr std::array kWords = {"sync",   "index",  "report", "check", "deploy", "fetch",  "render", "probe",
                               "rotate", "backup", "lint",   "pack",  "scan",   "notify", "build",  "query"};
constexpr std::array kFlags = {"-v",
                               "--quiet",
                               "-c",
                               "--config=/etc/app/app.conf",
                               "-j8",
                               "--no-color",
                               "-f",
                               "--output=json",
                               "-x",
                               "--timeout=30",
                               "-I/usr/include",
                               "-Wall",
                               "-g",
                               "--retry=3"};
constexpr std::array kCwds = {
    "/",           "/root",         "/srv/app/current", "/home/build/src/project",    "/var/lib/ci/work/42", "/tmp",
    "/home/alice", "/var/www/html", "/opt/ci",          "/home/build/src/project/lib"};
constexpr std::array kUsers = {std::pair{"build", 1001u},   std::pair{"root", 0u},     std::pair{"www-data", 33u},
                               std::pair{"postgres", 110u}, std::pair{"alice", 1000u}, std::pair{"bob", 1002u},
                               std::pair{"nobody", 65534u}, std::pair{"daemon", 1u},   std::pair{"ci", 1003u},
                               std::pair{"backup", 34u},    std::pair{"carol", 1004u}, std::pair{"deploy", 1005u}};
constexpr std::array kParentImages = {"/usr/bin/bash",       "/usr/bin/make",  "/usr/bin/dash",
                                      "/usr/sbin/cron",      "/usr/sbin/sshd", "/usr/lib/systemd/systemd",
                                      "/usr/bin/python3.11", "/usr/bin/ninja"};
constexpr std::array kCgroups = {
    "/system.slice/ci-runner.service", "/user.slice/user-1000.slice/session-4.scope", "/system.slice/cron.service",
    "/system.slice/nginx.service",
    "/system.slice/docker-4f2a9c1be0d34e5f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f.scope"};

std::string nul_joined(const std::vector<std::string>& args) {
  std::string raw;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i != 0) raw += '\0';
    raw += args[i];
  }
  return raw;
}

}  // namespace

Zipf::Zipf(std::size_t n, double s) : cdf_(n) {
  double sum = 0;
  for (std::size_t k = 0; k < n; ++k) cdf_[k] = sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
  for (double& c : cdf_) c /= sum;
}

std::size_t Zipf::operator()(std::mt19937_64& random) const {
  const double u = std::uniform_real_distribution<double>(0, 1)(random);
  return std::min<std::size_t>(static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin()),
                               cdf_.size() - 1);
}

struct SyntheticEvents::Pools {
  std::vector<std::string> images, comms, sha256;
  std::vector<std::vector<std::string>> argv_raw;  // per image: its command lines (NUL-separated)
  std::vector<std::string> missing;                // what failed execs tried
  Zipf image_rank, user_rank;
  Pools(const SyntheticOptions& o) : image_rank(o.images, o.zipf_s), user_rank(kUsers.size(), 1.3) {
    for (unsigned i = 0; i < o.images; ++i) {
      std::string image = i < kCommonImages.size()
                              ? kCommonImages[i]
                              : fmt::format("{}/{}-{}{}", kDirs[i % kDirs.size()], kWords[mix(i) % kWords.size()],
                                            kWords[mix(i + 7) % kWords.size()], i);
      const std::string_view base = basename_of(image);
      comms.emplace_back(base.substr(0, 15));
      sha256.push_back(fmt::format("{:016x}{:016x}{:016x}{:016x}", mix(i), mix(i + 1'000'000), mix(i + 2'000'000),
                                   mix(i + 3'000'000)));
      std::vector<std::string> lines;
      for (unsigned v = 0; v < 1 + i % 3; ++v) {
        const std::uint64_t h = mix(i * 8 + v);
        std::vector<std::string> args{std::string(base)};
        for (unsigned f = 0; f < h % 4; ++f) args.emplace_back(kFlags[mix(h + f) % kFlags.size()]);
        if (h % 10 < 3) args.emplace_back(kCommonNeedle);
        args.push_back(fmt::format("{}/{}{}.{}", kCwds[h % kCwds.size()], kWords[(h >> 8) % kWords.size()], v,
                                   (h >> 16) % 2 ? "conf" : "txt"));
        lines.push_back(nul_joined(args));
      }
      argv_raw.push_back(std::move(lines));
      images.push_back(std::move(image));
    }
    for (unsigned i = 0; i < 200; ++i) missing.push_back(fmt::format("/usr/local/bin/{}-helper{}", kWords[i % 16], i));
  }
};

struct SyntheticEvents::Process {
  std::uint32_t pid = 0, ppid = 0;
  std::int64_t start_ns = 0;
  ProcessUid uid, parent_uid;
  std::size_t user = 0;
  std::string image, comm;  // the parent's until the exec
  std::string argv_raw;
  std::vector<std::string_view> argv;
  std::string parent_image, parent_argv_raw;
  std::string_view cwd, cgroup, sha256;
  int stage = 0;  // next: 0 fork, 1 exec_failed, 2 exec, 3 exit
  bool fails_first = false;
  bool exec_done = false;
};

SyntheticEvents::SyntheticEvents(const SyntheticOptions& options)
    : options_(options), pools_(std::make_unique<Pools>(options)), random_(options.seed) {
  // Long-lived parents: started before the store's first event, never exiting.
  for (unsigned i = 0; i < 200; ++i) {
    auto p = std::make_unique<Process>();
    p->pid = 400 + i;
    p->ppid = 1;
    p->start_ns = options_.end_ns - options_.span_ns - 3'600'000'000'000;
    p->uid = kScheme.make(p->pid, static_cast<std::uint64_t>(i));
    p->user = pools_->user_rank(random_);
    p->image = kParentImages[i % kParentImages.size()];
    p->comm = basename_of(p->image);
    p->argv_raw = p->comm + (i % 3 == 0 ? std::string("\0-c\0make -j8 all", 16) : std::string());
    p->exec_done = true;
    parents_.push_back(std::move(p));
  }
  running_.reserve(64);
}

SyntheticEvents::~SyntheticEvents() = default;

const std::string& SyntheticEvents::top_image() const { return pools_->images[0]; }

void SyntheticEvents::start_process() {
  auto p = std::make_unique<Process>();
  // One in five is a child of a running process that exec'd (a build's compiler under make).
  const Process* parent = parents_[random_() % parents_.size()].get();
  if (random_() % 5 == 0 && !running_.empty()) {
    const Process* candidate = running_[random_() % running_.size()].get();
    if (candidate->exec_done) parent = candidate;
  }
  p->pid = next_pid_ = next_pid_ >= 4'194'000 ? 3000 : next_pid_ + 1;
  p->ppid = parent->pid;
  p->parent_uid = parent->uid;
  p->user = random_() % 4 == 0 ? pools_->user_rank(random_) : parent->user;
  p->image = parent->image;
  p->comm = parent->comm;
  p->parent_image = parent->image;
  p->parent_argv_raw = parent->argv_raw;
  p->fails_first = random_() % 100 < 3;
  p->stage = 0;
  running_.push_back(std::move(p));
}

void SyntheticEvents::fill_task(Event& e, const Process& p) {
  e.task.pid = e.task.tid = p.pid;
  e.task.ppid = p.ppid;
  e.task.uid = e.task.gid = e.task.euid = kUsers[p.user].second;
  e.task.start_time_ns = p.start_ns;
  e.task.comm = p.comm;
  e.task.has_uid_and_comm = true;
  e.user = kUsers[p.user].first;
  e.group = e.user;
  e.process_uid = p.uid;
  e.parent_uid = p.parent_uid;
}

const Event& SyntheticEvents::next() {
  finished_.reset();
  Event& e = event_;
  e.reset();
  e.time_ns = options_.end_ns - options_.span_ns +
              static_cast<std::int64_t>(static_cast<double>(made_) / static_cast<double>(options_.events) *
                                        static_cast<double>(options_.span_ns));
  e.seq = ++made_;
  e.host_id = "0d4c5e2f9b8a47e1a3c6b5d4e2f1a0b9";
  e.boot_id = "3f9a1c2e-7b6d-4c5e-9f8a-1b2c3d4e5f60";
  e.cpu = static_cast<std::uint32_t>(made_ % 2);
  if (running_.size() < 64) start_process();
  const std::size_t at = running_.size() == 64 ? random_() % running_.size() : running_.size() - 1;
  Process& p = *running_[at];
  switch (p.stage) {
    case 0: {  // fork
      p.start_ns = e.time_ns;
      p.uid = kScheme.make(p.pid, static_cast<std::uint64_t>(e.time_ns / kTick));
      fill_task(e, p);
      e.kind = EventKind::fork;
      e.known_image = text(p.image);
      e.parent_pid = e.parent_tid = p.ppid;
      e.parent_start_time_ns = p.start_ns - 60'000'000'000;
      p.stage = p.fails_first ? 1 : 2;
      break;
    }
    case 1: {  // exec_failed: a helper that is not there, or not allowed
      fill_task(e, p);
      e.kind = EventKind::exec_failed;
      const std::uint64_t h = random_();
      e.filename = text(pools_->missing[h % pools_->missing.size()]);
      e.error = h % 20 < 16 ? 2 : h % 20 < 19 ? 13 : 8;  // ENOENT, EACCES, ENOEXEC
      p.stage = 2;
      break;
    }
    case 2: {  // exec
      const std::size_t rank = pools_->image_rank(random_);
      const auto& lines = pools_->argv_raw[rank];
      p.image = pools_->images[rank];
      p.comm = pools_->comms[rank];
      p.argv_raw = lines[random_() % 4 == 0 ? random_() % lines.size() : 0];
      // One exec in 20,000 carries the rare needle: about 170 rows in 10 M events.
      if (++execs_ % 20'000 == 0) p.argv_raw += fmt::format("{}--tag={}", '\0', kRareNeedle);
      if (random_() % 1000 < options_.unique_argv_per_mille) {
        p.argv_raw += fmt::format("{}/tmp/cc{:08x}.o", '\0', mix(++unique_));
      }
      p.argv.clear();
      for (std::size_t start = 0;;) {
        const std::size_t end = p.argv_raw.find('\0', start);
        p.argv.push_back(std::string_view(p.argv_raw).substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
      }
      p.cwd = kCwds[mix(rank) % kCwds.size()];
      p.cgroup = kCgroups[mix(p.ppid) % kCgroups.size()];
      p.sha256 = options_.hash ? std::string_view(pools_->sha256[rank]) : std::string_view();
      fill_task(e, p);
      e.kind = EventKind::exec;
      e.image = e.filename = text(p.image);
      e.cwd = text(p.cwd);
      e.argv = p.argv;
      e.argv_raw = text(p.argv_raw);
      e.image_uid = 0;
      e.image_mode = 0100755;
      e.cgroup_id = 4000 + mix(p.ppid) % kCgroups.size();
      e.cgroup = p.cgroup;
      e.loginuid = kUsers[p.user].second;
      e.audit_session = 4;
      e.pid_ns = 4026531836;
      if (p.user == 4) e.tty = "pts1";
      e.parent_image = text(p.parent_image);
      e.parent_argv_raw = text(p.parent_argv_raw);
      e.sha256 = p.sha256;
      p.exec_done = true;
      p.stage = 3;
      break;
    }
    default: {  // exit
      fill_task(e, p);
      e.kind = EventKind::exit;
      e.known_image = text(p.image);
      const std::uint64_t h = random_();
      if (h % 50 == 0) {
        e.exit_signal = 9;
        e.exit_status = 9;
      } else {
        e.exit_code = h % 10 == 0 ? 1 : 0;
        e.exit_status = static_cast<std::uint32_t>(*e.exit_code) << 8;
      }
      e.duration_ns = e.time_ns - p.start_ns;
      // Its texts stay alive until the next call.
      finished_ = std::move(running_[at]);
      running_[at] = std::move(running_.back());
      running_.pop_back();
      break;
    }
  }
  return e;
}

}  // namespace procsentry::bench
