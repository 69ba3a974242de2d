#include "store/event_report.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <memory>

namespace procsentry {
namespace {

using Db = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;

// Columns of the `events` view that schema 1 keeps only in the JSON.
constexpr const char* kParentImage = "json_extract(json, '$.parent_image')";
constexpr const char* kError = "json_extract(json, '$.errno')";
constexpr const char* kHash = "json_extract(json, '$.sha256')";
// What counts as executing an image: Linux's exec, Windows' create.
constexpr const char* kExecuted = "event IN ('exec', 'create')";

Result<Db> open_read_only(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw, sqlite3_close);
  if (rc != SQLITE_OK) {
    return Error{fmt::format("cannot open the database {}: {} (record first: procsentry record --db {})", path,
                             raw != nullptr ? sqlite3_errmsg(raw) : "out of memory", path)};
  }
  sqlite3_busy_timeout(raw, 5000);
  sqlite3_exec(raw, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  return db;
}

std::optional<std::string> optional_text(sqlite3_stmt* stmt, int i) {
  if (sqlite3_column_type(stmt, i) == SQLITE_NULL) return std::nullopt;
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
}

std::optional<std::int64_t> optional_int(sqlite3_stmt* stmt, int i) {
  if (sqlite3_column_type(stmt, i) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt, i);
}

class Reader {
 public:
  explicit Reader(sqlite3* db) : db_(db) {}

  // Steps `sql` (with `text` bound to ?1 when given), calling `row` for each row.
  template <typename OnRow>
  Result<Ok> each(const std::string& sql, OnRow&& row, const std::string* text = nullptr) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return failed();
    Statement stmt(raw, sqlite3_finalize);
    if (text != nullptr) {
      sqlite3_bind_text(raw, 1, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
    }
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) row(raw);
    if (rc != SQLITE_DONE) return failed();
    return Ok{};
  }

 private:
  Error failed() const { return Error{fmt::format("report failed: {}", sqlite3_errmsg(db_))}; }
  sqlite3* db_;
};

}  // namespace

Result<Report> build_report(const std::string& db_path, const ReportOptions& o) {
  auto db = open_read_only(db_path);
  if (!db) return db.error();
  Reader reader(db->get());
  Report report;
  report.since_ns = o.since_ns;
  report.until_ns = o.until_ns;
  std::string window = "1";
  if (o.since_ns) window += fmt::format(" AND time_ns >= {}", *o.since_ns);
  if (o.until_ns) window += fmt::format(" AND time_ns < {}", *o.until_ns);
  // Each list comes sorted from SQLite: the first `top` rows are kept, the others only counted.
  const std::size_t top = o.top;

  auto r = reader.each(
      fmt::format("SELECT count(*), total({}), total(event = 'exec_failed') FROM events WHERE {}", kExecuted, window),
      [&](sqlite3_stmt* s) {
        report.events = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
        report.execs = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
        report.failed_execs = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
      });
  if (!r) return r.error();

  r = reader.each(
      fmt::format("SELECT image, count(*) AS n FROM events WHERE {} AND {} AND image IS NOT NULL "
                  "GROUP BY image ORDER BY n DESC, image",
                  kExecuted, window),
      [&](sqlite3_stmt* s) {
        if (report.images_total++ < top) {
          report.images.push_back({*optional_text(s, 0), static_cast<std::uint64_t>(sqlite3_column_int64(s, 1))});
        }
      });
  if (!r) return r.error();

  r = reader.each(fmt::format("SELECT user, uid, count(*) AS n FROM events WHERE {} AND {} GROUP BY user, uid "
                              "ORDER BY n DESC, user, uid",
                              kExecuted, window),
                  [&](sqlite3_stmt* s) {
                    if (report.users_total++ < top) {
                      report.users.push_back({optional_text(s, 0), optional_int(s, 1),
                                              static_cast<std::uint64_t>(sqlite3_column_int64(s, 2))});
                    }
                  });
  if (!r) return r.error();

  r = reader.each(fmt::format("SELECT {} AS parent, image, count(*) AS n FROM events WHERE {} AND {} AND image IS NOT "
                              "NULL GROUP BY parent, image ORDER BY n DESC, parent, image",
                              kParentImage, kExecuted, window),
                  [&](sqlite3_stmt* s) {
                    if (report.pairs_total++ < top) {
                      report.pairs.push_back({optional_text(s, 0), *optional_text(s, 1),
                                              static_cast<std::uint64_t>(sqlite3_column_int64(s, 2))});
                    }
                  });
  if (!r) return r.error();

  r = reader.each(
      fmt::format("SELECT {} AS error, count(*) AS n FROM events WHERE event = 'exec_failed' AND {} "
                  "GROUP BY error ORDER BY n DESC, error",
                  kError, window),
      [&](sqlite3_stmt* s) {
        report.failures.push_back({optional_int(s, 0), static_cast<std::uint64_t>(sqlite3_column_int64(s, 1))});
      });
  if (!r) return r.error();

  // First seen: no exec of the image before the window. Without --since the window starts
  // with the store, so every image executed in it is first seen.
  std::string never_before;
  if (o.since_ns) {
    never_before = fmt::format(
        " HAVING NOT EXISTS (SELECT 1 FROM events p WHERE p.image = w.image AND p.{} AND "
        "p.time_ns < {})",
        kExecuted, *o.since_ns);
  }
  r = reader.each(fmt::format("SELECT w.image, min(w.time_ns) AS first_ns, count(*) FROM events w WHERE w.{} AND "
                              "w.image IS NOT NULL AND {} GROUP BY w.image{} ORDER BY first_ns, w.image",
                              kExecuted, window, never_before),
                  [&](sqlite3_stmt* s) {
                    if (report.first_seen_total++ < top) {
                      Report::FirstSeen seen;
                      seen.image = *optional_text(s, 0);
                      seen.first_ns = sqlite3_column_int64(s, 1);
                      seen.execs = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
                      report.first_seen.push_back(std::move(seen));
                    }
                  });
  if (!r) return r.error();
  // Who ran it first, and its hash (on the exec, or in the hash event that followed it). Both
  // walk the image's rows in id (= recording) order and stop at the first match: a first-seen
  // image has no exec before the window.
  for (Report::FirstSeen& seen : report.first_seen) {
    std::int64_t first_id = 0;
    r = reader.each(
        fmt::format("SELECT e.id, (SELECT f.process_uid FROM events f WHERE f.id = e.first_id) FROM events "
                    "e WHERE e.image = ?1 AND e.{} AND e.time_ns = {} ORDER BY e.id LIMIT 1",
                    kExecuted, seen.first_ns),
        [&](sqlite3_stmt* s) {
          first_id = sqlite3_column_int64(s, 0);
          seen.process_uid = optional_text(s, 1).value_or("");
        },
        &seen.image);
    if (!r) return r.error();
    r = reader.each(
        fmt::format("SELECT {0} FROM events WHERE image = ?1 AND event IN ('exec', 'create', 'hash') AND "
                    "id >= {1} AND {2} AND {0} IS NOT NULL ORDER BY id LIMIT 1",
                    kHash, first_id, window),
        [&](sqlite3_stmt* s) { seen.sha256 = optional_text(s, 0).value_or(""); }, &seen.image);
    if (!r) return r.error();
  }
  return report;
}

}  // namespace procsentry
