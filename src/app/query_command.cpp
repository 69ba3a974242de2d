#include "app/query_command.h"

#include <unistd.h>

#include "app/exit_status.h"
#include "core/clock.h"
#include "store/event_query.h"
#include "store/event_store.h"
#include "store/query_output.h"

namespace procsentry {

int run_query_command(const AppOptions& options) {
  QueryOptions q;
  const std::int64_t now = ClockMapping::now_epoch_ns();
  for (auto [text, target] : {std::pair{&options.since, &q.since_ns}, std::pair{&options.until, &q.until_ns}}) {
    if (text->empty()) continue;
    auto t = parse_time(*text, now);
    if (!t) {
      return report_error(t.error());
    }
    *target = *t;
  }
  q.pids = options.query_pids;
  q.uids = options.query_uids;
  q.users = options.query_users;
  q.rules = options.query_rules;
  q.image_glob = options.image_glob;
  q.argv_substring = options.argv_substring;
  q.argv_regex = options.argv_regex;
  q.process_uid = options.process_uid;
  q.tree = options.query_tree;
  q.json = options.json;
  q.sql = options.sql;
  q.limit = options.query_limit;
  q.reverse = options.query_reverse;
  q.count = options.query_count;
  if (auto bad = check_query(q)) return report_error(*bad);
  QueryOutput out(STDOUT_FILENO);
  auto rows = run_query(options.db.empty() ? default_database_path() : options.db, q, out);
  if (!rows) {
    return report_error(rows.error(), kExitRuntimeError);
  }
  return 0;
}

}  // namespace procsentry
