// `procsentry report`: what an investigator asks a store first (as aureport does for auditd):
// the most executed images, the users who executed most, parent -> child image pairs, failed
// execs by errno, and the images first seen in the window. Read-only; every list is computed
// in one pass (report_tally.h; schema 1: by SQLite, a pass per list); only the shown rows' texts
// are read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace procsentry {

struct ReportOptions {
  std::optional<std::int64_t> since_ns;  // the window: [since, until); unset = the store's start / end
  std::optional<std::int64_t> until_ns;
  std::size_t top = 10;  // rows shown per list; each list also says how many there are in all
  // The lists computed by SQLite, a pass per list, as for schema 1: the reference the one pass
  // (report_tally.h) is tested against.
  bool sql_lists = false;
};

struct Report {
  std::optional<std::int64_t> since_ns, until_ns;
  std::uint64_t events = 0;        // of any kind, in the window
  std::uint64_t execs = 0;         // exec (and Windows create) events
  std::uint64_t failed_execs = 0;  // exec_failed events

  struct Image {
    std::string image;
    std::uint64_t execs = 0;
  };
  struct User {
    std::optional<std::string> user;  // the name recorded, if any
    std::optional<std::int64_t> uid;
    std::uint64_t execs = 0;
  };
  struct Pair {
    std::optional<std::string> parent_image;  // unknown when the parent was not seen exec'ing
    std::string image;
    std::uint64_t execs = 0;
  };
  struct Failure {
    std::optional<std::int64_t> error;  // positive errno
    std::uint64_t count = 0;
  };
  // Executed in the window and in no exec stored before it (after retention deleted its older
  // sightings, an image counts as first seen again).
  struct FirstSeen {
    std::string image;
    std::int64_t first_ns = 0;  // its first exec in the window
    std::uint64_t execs = 0;    // in the window
    std::string process_uid;    // of the first exec (for query --process-uid U --tree); may be empty
    std::string sha256;         // the first hash recorded for it in the window (--hash); may be empty
  };

  std::vector<Image> images;
  std::uint64_t images_total = 0;  // distinct images executed
  std::vector<User> users;
  std::uint64_t users_total = 0;
  std::vector<Pair> pairs;
  std::uint64_t pairs_total = 0;
  std::vector<Failure> failures;  // every errno (a few dozen exist)
  std::vector<FirstSeen> first_seen;
  std::uint64_t first_seen_total = 0;
};

Result<Report> build_report(const std::string& db_path, const ReportOptions& options);

}  // namespace procsentry
