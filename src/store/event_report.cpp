#include "store/event_report.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "core/event.h"
#include "store/read_only_store.h"
#include "store/repeat_marks.h"
#include "store/report_tally.h"
#include "store/store_chunks.h"

namespace procsentry {
namespace {

using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;
using Value = std::unique_ptr<sqlite3_value, decltype(&sqlite3_value_free)>;

// The names the report reads, per schema. Schema 1 (a store recorded by an older procsentry
// and not migrated yet: report opens it read-only) keeps texts in the rows and the parent
// image, errno and hash only in the JSON; schema 2 names rows of `strings` and keeps them in
// columns: grouping by ids, then reading the texts of the rows shown, is what makes it fast.
struct Schema {
  std::string table, executed, failed, hashed;  // the table, and the kinds of the three
  std::string image, user, parent_image, error, hash;
  bool ids = false;  // image, user, parent_image and hash name rows of `strings`
};

std::string kinds(std::initializer_list<EventKind> list) {
  std::string sql = "kind IN (";
  for (EventKind k : list) sql += fmt::format("{}{}", sql.back() == '(' ? "" : ", ", static_cast<int>(k));
  return sql + ")";
}

// What counts as executing an image: Linux's exec, Windows' create.
Schema schema_of(int version) {
  if (version < 2) {
    return {"events",
            "event IN ('exec', 'create')",
            "event = 'exec_failed'",
            "event IN ('exec', 'create', 'hash')",
            "image",
            "user",
            "json_extract(json, '$.parent_image')",
            "json_extract(json, '$.errno')",
            "json_extract(json, '$.sha256')",
            false};
  }
  return {"event_rows",
          kinds({EventKind::exec, EventKind::create}),
          kinds({EventKind::exec_failed}),
          kinds({EventKind::exec, EventKind::create, EventKind::hash}),
          "image_id",
          "user_id",
          "parent_image_id",
          "error",
          "hash_id",
          true};
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

  // Steps `sql` (with `key` bound to ?1 when given), calling `row` for each row.
  template <typename OnRow>
  Result<Ok> each(const std::string& sql, OnRow&& row, const std::function<void(sqlite3_stmt*)>& key = {}) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) return failed();
    Statement stmt(raw, sqlite3_finalize);
    if (key) key(raw);
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) row(raw);
    if (rc != SQLITE_DONE) return failed();
    return Ok{};
  }

 private:
  Error failed() const { return Error{fmt::format("report failed: {}", sqlite3_errmsg(db_))}; }
  sqlite3* db_;
};

// Schema 1's lists, each computed by SQLite (one pass over the window per list).
template <typename TextOf>
Result<Ok> sql_lists(Reader& reader, const Schema& q, const std::string& window,
                     const std::optional<std::int64_t>& since_ns, std::size_t top, TextOf& text_of, Report& report,
                     std::vector<std::function<void(sqlite3_stmt*)>>& keys) {
  auto count_of = [](sqlite3_stmt* s, int i) { return static_cast<std::uint64_t>(sqlite3_column_int64(s, i)); };
  auto r = reader.each(
      fmt::format("SELECT count(*), total({}), total({}) FROM {} WHERE {}", q.executed, q.failed, q.table, window),
      [&](sqlite3_stmt* s) {
        report.events = count_of(s, 0);
        report.execs = count_of(s, 1);
        report.failed_execs = count_of(s, 2);
      });
  if (!r) return r;

  r = reader.each(fmt::format("SELECT {0}, count(*) AS n FROM {1} WHERE {2} AND {3} AND +{0} IS NOT NULL GROUP BY +{0} "
                              "ORDER BY n DESC, min(id)",
                              q.image, q.table, q.executed, window),
                  [&](sqlite3_stmt* s) {
                    if (report.images_total++ < top)
                      report.images.push_back({text_of(s, 0).value_or(""), count_of(s, 1)});
                  });
  if (!r) return r;

  r = reader.each(fmt::format("SELECT {0}, uid, count(*) AS n FROM {1} WHERE {2} AND {3} GROUP BY +{0}, uid "
                              "ORDER BY n DESC, min(id)",
                              q.user, q.table, q.executed, window),
                  [&](sqlite3_stmt* s) {
                    if (report.users_total++ < top) {
                      report.users.push_back({text_of(s, 0), optional_int(s, 1), count_of(s, 2)});
                    }
                  });
  if (!r) return r;

  r = reader.each(
      fmt::format("SELECT {0} AS parent, {1}, count(*) AS n FROM {2} WHERE {3} AND {4} AND +{1} IS NOT NULL "
                  "GROUP BY +{0}, +{1} ORDER BY n DESC, min(id)",
                  q.parent_image, q.image, q.table, q.executed, window),
      [&](sqlite3_stmt* s) {
        if (report.pairs_total++ < top) {
          report.pairs.push_back({text_of(s, 0), text_of(s, 1).value_or(""), count_of(s, 2)});
        }
      });
  if (!r) return r;

  r = reader.each(fmt::format("SELECT {} AS error, count(*) AS n FROM {} WHERE {} AND {} GROUP BY error "
                              "ORDER BY n DESC, error",
                              q.error, q.table, q.failed, window),
                  [&](sqlite3_stmt* s) {
                    report.failures.push_back({optional_int(s, 0), count_of(s, 1)});
                  });
  if (!r) return r;

  // First seen: no exec of the image before the window (+time_ns: the image's index finds
  // its rows, not the time index all rows before the window). Without --since the window
  // starts with the store, so every image executed in it is first seen.
  // Schema 3's image index leads with the chunk (store_chunks.h): the lookup names them all.
  std::string never_before;
  if (since_ns) {
    never_before = fmt::format(
        " HAVING NOT EXISTS (SELECT 1 FROM {0} p WHERE p.{1} = w.{1} AND p.{2} AND "
        "+p.time_ns < {3})",
        q.table, q.image, q.executed, *since_ns);
  }
  r = reader.each(fmt::format("SELECT w.{0}, min(w.time_ns) AS first_ns, count(*) FROM {1} w WHERE w.{2} AND "
                              "+w.{0} IS NOT NULL AND {3} GROUP BY +w.{0}{4} ORDER BY first_ns, min(w.id)",
                              q.image, q.table, q.executed, window, never_before),
                  [&](sqlite3_stmt* s) {
                    if (report.first_seen_total++ < top) {
                      Report::FirstSeen seen;
                      seen.image = text_of(s, 0).value_or("");
                      seen.first_ns = sqlite3_column_int64(s, 1);
                      seen.execs = count_of(s, 2);
                      report.first_seen.push_back(std::move(seen));
                      std::shared_ptr<sqlite3_value> key(sqlite3_value_dup(sqlite3_column_value(s, 0)),
                                                         sqlite3_value_free);
                      keys.emplace_back([key](sqlite3_stmt* k) { sqlite3_bind_value(k, 1, key.get()); });
                    }
                  });
  if (!r) return r;
  return Ok{};
}

}  // namespace

Result<Report> build_report(const std::string& db_path, const ReportOptions& o) {
  auto db = open_store_read_only(db_path);
  if (!db) return db.error();
  sqlite3_stmt* version_stmt = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(db->get(), "PRAGMA user_version", -1, &version_stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(version_stmt) == SQLITE_ROW) {
    version = sqlite3_column_int(version_stmt, 0);
  }
  sqlite3_finalize(version_stmt);
  if (version == 0) {
    return Error{
        fmt::format("{} is not a procsentry event store (record first: procsentry record --db {})", db_path, db_path)};
  }
  const Schema q = schema_of(version);
  Reader reader(db->get());
  Report report;
  report.since_ns = o.since_ns;
  report.until_ns = o.until_ns;
  std::string window = "1";
  if (o.since_ns) window += fmt::format(" AND time_ns >= {}", *o.since_ns);
  if (o.until_ns) window += fmt::format(" AND time_ns < {}", *o.until_ns);
  // Each list comes sorted from SQLite: the first `top` rows are kept, the others only counted.
  // Ties: the one recorded first first (the same order whatever the schema).
  // Unary + keeps SQLite off the image and user indexes for grouping: one pass over the
  // window's rows and a sort beats a lookup of every row in index order (random reads).
  const std::size_t top = o.top;
  // The text of a key column: itself, or (schema 2) the row of `strings` it names.
  sqlite3_stmt* text_raw = nullptr;
  if (q.ids &&
      sqlite3_prepare_v2(db->get(), "SELECT text FROM strings WHERE id = ?1", -1, &text_raw, nullptr) != SQLITE_OK) {
    return Error{fmt::format("report failed: {}", sqlite3_errmsg(db->get()))};
  }
  Statement text_stmt(text_raw, sqlite3_finalize);
  auto text_of = [&](sqlite3_stmt* s, int i) -> std::optional<std::string> {
    if (!q.ids || sqlite3_column_type(s, i) == SQLITE_NULL) return optional_text(s, i);
    sqlite3_bind_int64(text_raw, 1, sqlite3_column_int64(s, i));
    std::optional<std::string> text;
    if (sqlite3_step(text_raw) == SQLITE_ROW) text = optional_text(text_raw, 0);
    sqlite3_reset(text_raw);
    return text;
  };
  // An image's rows p, through its index: schema 3's leads with the chunk (store_chunks.h), schema
  // 5's holds a block's first row with it (repeat_marks.h).
  std::string image_rows = "event_rows p WHERE p.image_id = ?1";
  if (version >= 5) {
    const MarkedRowsSql marked =
        marked_rows_sql("image", "= ?1", store_chunks(store_id_range(db->get()), version), "p");
    image_rows = fmt::format("{} WHERE {}", marked.from, marked.where);
  } else if (version >= 3) {
    image_rows = fmt::format("event_rows p WHERE {} AND p.image_id = ?1",
                             in_chunks(store_chunks(store_id_range(db->get()), version), "p"));
  }
  // The shown first-seen images' keys (text or id), for the lookups below.
  std::vector<std::function<void(sqlite3_stmt*)>> keys;
  if (q.ids && !o.sql_lists) {
    auto tallied = tally_report(db->get(), window, o.since_ns, image_rows, top, report);
    if (!tallied) return tallied.error();
    for (const FirstSeenKey& key : *tallied) {
      keys.emplace_back([id = key.image_id](sqlite3_stmt* s) { sqlite3_bind_int64(s, 1, id); });
    }
  } else if (auto r = sql_lists(reader, q, window, o.since_ns, top, text_of, report, keys); !r) {
    return r.error();
  }
  // Who ran it first, and its hash (on the exec, or in the hash event that followed it). Both
  // walk the image's rows in id (= recording) order and stop at the first match: a first-seen
  // image has no exec before the window.
  for (std::size_t i = 0; i < report.first_seen.size(); ++i) {
    Report::FirstSeen& seen = report.first_seen[i];
    std::int64_t first_id = 0;
    auto r = reader.each(
        fmt::format("SELECT e.id, (SELECT f.process_uid FROM {0} f WHERE f.id = e.first_id) FROM {0} e "
                    "WHERE e.{1} = ?1 AND e.{2} AND e.time_ns = {3} ORDER BY e.id LIMIT 1",
                    q.table, q.image, q.executed, seen.first_ns),
        [&](sqlite3_stmt* s) {
          first_id = sqlite3_column_int64(s, 0);
          seen.process_uid = optional_text(s, 1).value_or("");
        },
        keys[i]);
    if (!r) return r.error();
    r = reader.each(
        fmt::format("SELECT {0} FROM {1} WHERE {2} = ?1 AND {3} AND id >= {4} AND {5} AND {0} IS NOT NULL "
                    "ORDER BY id LIMIT 1",
                    q.hash, q.table, q.image, q.hashed, first_id, window),
        [&](sqlite3_stmt* s) { seen.sha256 = text_of(s, 0).value_or(""); }, keys[i]);
    if (!r) return r.error();
  }
  return report;
}

}  // namespace procsentry
