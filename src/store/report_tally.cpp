#include "store/report_tally.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <unordered_map>

#include "core/event.h"

namespace procsentry {
namespace {

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

constexpr std::int64_t kNull = std::numeric_limits<std::int64_t>::min();  // SQL NULL in a key

std::int64_t column(sqlite3_stmt* s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? kNull : sqlite3_column_int64(s, i);
}

std::optional<std::int64_t> optional(std::int64_t v) {
  return v == kNull ? std::nullopt : std::optional<std::int64_t>(v);
}

struct Group {
  std::uint64_t n = 0;
  std::int64_t min_id = std::numeric_limits<std::int64_t>::max();
  std::int64_t first_ns = std::numeric_limits<std::int64_t>::max();  // first seen only
  void add(std::int64_t id, std::int64_t time_ns) {
    ++n;
    min_id = std::min(min_id, id);
    first_ns = std::min(first_ns, time_ns);
  }
};

struct PairHash {
  std::size_t operator()(const std::pair<std::int64_t, std::int64_t>& k) const {
    return std::hash<std::int64_t>()(k.first) * 0x9e3779b97f4a7c15ULL ^ std::hash<std::int64_t>()(k.second);
  }
};
using Groups = std::unordered_map<std::int64_t, Group>;
using PairGroups = std::unordered_map<std::pair<std::int64_t, std::int64_t>, Group, PairHash>;

// The groups in the SQL's order: most first, then the one recorded first.
template <typename Map>
std::vector<const typename Map::value_type*> by_count(const Map& groups) {
  std::vector<const typename Map::value_type*> sorted;
  sorted.reserve(groups.size());
  for (const auto& g : groups) sorted.push_back(&g);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return a->second.n != b->second.n ? a->second.n > b->second.n : a->second.min_id < b->second.min_id;
  });
  return sorted;
}

class Texts {
 public:
  explicit Texts(sqlite3* db) : stmt_(nullptr, sqlite3_finalize) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT text FROM strings WHERE id = ?1", -1, &raw, nullptr) == SQLITE_OK) {
      stmt_.reset(raw);
    }
  }
  explicit operator bool() const { return stmt_ != nullptr; }
  std::optional<std::string> of(std::int64_t id) {
    if (id == kNull) return std::nullopt;
    sqlite3_bind_int64(stmt_.get(), 1, id);
    std::optional<std::string> text;
    if (sqlite3_step(stmt_.get()) == SQLITE_ROW && sqlite3_column_type(stmt_.get(), 0) != SQLITE_NULL) {
      text = std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), 0)),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), 0)));
    }
    sqlite3_reset(stmt_.get());
    return text;
  }

 private:
  Statement stmt_;
};

}  // namespace

Result<std::vector<FirstSeenKey>> tally_report(sqlite3* db, const std::string& window,
                                               const std::optional<std::int64_t>& since_ns,
                                               const std::string& image_rows, std::size_t top, Report& report) {
  auto failed = [&] { return Error{fmt::format("report failed: {}", sqlite3_errmsg(db))}; };
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db,
                         fmt::format("SELECT id, time_ns, kind, image_id, user_id, uid, parent_image_id, error "
                                     "FROM event_rows WHERE {}",
                                     window)
                             .c_str(),
                         -1, &raw, nullptr) != SQLITE_OK) {
    return failed();
  }
  Statement rows(raw, sqlite3_finalize);
  Groups images, failures;
  PairGroups users, pairs;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    ++report.events;
    const std::int64_t id = sqlite3_column_int64(raw, 0);
    const std::int64_t time_ns = sqlite3_column_int64(raw, 1);
    const auto kind = static_cast<EventKind>(sqlite3_column_int(raw, 2));
    if (kind == EventKind::exec_failed) {
      ++report.failed_execs;
      failures[column(raw, 7)].add(id, time_ns);
      continue;
    }
    if (kind != EventKind::exec && kind != EventKind::create) continue;
    ++report.execs;
    const std::int64_t image = column(raw, 3);
    users[{column(raw, 4), column(raw, 5)}].add(id, time_ns);
    if (image == kNull) continue;
    images[image].add(id, time_ns);
    pairs[{column(raw, 6), image}].add(id, time_ns);
  }
  if (rc != SQLITE_DONE) return failed();
  rows.reset();

  Texts texts(db);
  if (!texts) return failed();
  report.images_total = images.size();
  for (const auto* g : by_count(images)) {
    if (report.images.size() == top) break;
    report.images.push_back({texts.of(g->first).value_or(""), g->second.n});
  }
  report.users_total = users.size();
  for (const auto* g : by_count(users)) {
    if (report.users.size() == top) break;
    report.users.push_back({texts.of(g->first.first), optional(g->first.second), g->second.n});
  }
  report.pairs_total = pairs.size();
  for (const auto* g : by_count(pairs)) {
    if (report.pairs.size() == top) break;
    report.pairs.push_back({texts.of(g->first.first), texts.of(g->first.second).value_or(""), g->second.n});
  }
  // Every errno, most first, then by errno (NULL first, as SQLite sorts it).
  std::vector<std::pair<std::int64_t, std::uint64_t>> errors;
  for (const auto& [error, g] : failures) errors.emplace_back(error, g.n);
  std::sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (const auto& [error, n] : errors) report.failures.push_back({optional(error), n});

  // First seen: images with no exec before the window (+time_ns: the image's chunked index
  // finds its rows, not the time index all rows before the window).
  std::vector<const Groups::value_type*> seen;
  Statement before(nullptr, sqlite3_finalize);
  if (since_ns) {
    if (sqlite3_prepare_v2(
            db,
            fmt::format("SELECT 1 FROM {} AND p.kind IN ({}, {}) AND +p.time_ns < {} LIMIT 1", image_rows,
                        static_cast<int>(EventKind::exec), static_cast<int>(EventKind::create), *since_ns)
                .c_str(),
            -1, &raw, nullptr) != SQLITE_OK) {
      return failed();
    }
    before.reset(raw);
  }
  for (const auto& g : images) {
    if (before) {
      sqlite3_bind_int64(before.get(), 1, g.first);
      rc = sqlite3_step(before.get());
      sqlite3_reset(before.get());
      if (rc == SQLITE_ROW) continue;
      if (rc != SQLITE_DONE) return failed();
    }
    seen.push_back(&g);
  }
  std::sort(seen.begin(), seen.end(), [](const auto* a, const auto* b) {
    return a->second.first_ns != b->second.first_ns ? a->second.first_ns < b->second.first_ns
                                                    : a->second.min_id < b->second.min_id;
  });
  report.first_seen_total = seen.size();
  std::vector<FirstSeenKey> keys;
  for (const auto* g : seen) {
    if (keys.size() == top) break;
    Report::FirstSeen first;
    first.image = texts.of(g->first).value_or("");
    first.first_ns = g->second.first_ns;
    first.execs = g->second.n;
    report.first_seen.push_back(std::move(first));
    keys.push_back({g->first});
  }
  return keys;
}

}  // namespace procsentry
