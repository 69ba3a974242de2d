#include "app/report_command.h"

#include <unistd.h>

#include "app/exit_status.h"
#include "core/clock.h"
#include "sinks/fd_output/fd_output.h"
#include "store/event_query.h"
#include "store/event_report.h"
#include "store/event_store.h"
#include "store/report_format.h"

namespace procsentry {

int run_report_command(const AppOptions& options) {
  ReportOptions r;
  r.top = options.report_top;
  const std::int64_t now = ClockMapping::now_epoch_ns();
  for (auto [text, target] : {std::pair{&options.since, &r.since_ns}, std::pair{&options.until, &r.until_ns}}) {
    if (text->empty()) continue;
    auto t = parse_time(*text, now);
    if (!t) return report_error(t.error());
    *target = *t;
  }
  auto report = build_report(options.db.empty() ? default_database_path() : options.db, r);
  if (!report) return report_error(report.error(), kExitRuntimeError);
  FdOutput output(STDOUT_FILENO);
  if (options.json) {
    append_report_json(output.buffer(), *report);
  } else {
    append_report_table(output.buffer(), *report);
  }
  output.flush();
  return output.failed() ? kExitRuntimeError : 0;
}

}  // namespace procsentry
