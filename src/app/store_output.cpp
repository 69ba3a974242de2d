#include "app/store_output.h"

#include "core/quantities.h"
#include "store/store_row.h"
#include "store/store_writer.h"

namespace procsentry {
namespace {

Result<RetentionOptions> retention_of(const AppOptions& options) {
  RetentionOptions retention;
  if (!options.keep.empty()) {
    auto keep = parse_duration(options.keep);
    if (!keep) return Error{"--keep: " + keep.error().message};
    retention.keep_ns = *keep;
  }
  if (!options.max_size.empty()) {
    auto size = parse_size(options.max_size);
    if (!size) return Error{"--max-size: " + size.error().message};
    retention.max_bytes = *size;
  }
  return retention;
}

}  // namespace

Result<bool> add_store(const AppOptions& options, OutputList& list, std::FILE* diagnostics) {
  if (options.command != Command::record) return false;
  auto retention = retention_of(options);
  if (!retention) return retention.error();
  auto store = EventStore::open(options.db.empty() ? default_database_path() : options.db);
  if (!store) return store.error();
  list.add(std::make_shared<StoreRowFormatter>(),
           std::make_unique<StoreWriter>(std::move(*store), *retention, diagnostics));
  return true;
}

}  // namespace procsentry
