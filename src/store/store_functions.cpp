#include "store/store_functions.h"

#include <fmt/format.h>
#include <sqlite3.h>

#define XXH_INLINE_ALL  // header only: no library to link
#include <xxhash.h>

#include <memory>
#include <string>

#include "core/event.h"
#include "core/text_escape.h"
#include "store/body_codec.h"

namespace procsentry {
namespace {

std::string_view bytes_of(sqlite3_value* value) {
  const void* data = sqlite3_value_blob(value);  // TEXT too, as stored: no conversion
  return data == nullptr
             ? std::string_view()
             : std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(sqlite3_value_bytes(value)));
}

// procsentry_json's state, one per connection: dictionaries are read from the connection's
// own store the first time a body names them.
struct JsonState {
  BodyDecoder decoder;
  std::string out;
};

void json_function(sqlite3_context* context, int, sqlite3_value** args) {
  if (sqlite3_value_type(args[1]) == SQLITE_NULL) return sqlite3_result_null(context);
  auto& state = *static_cast<JsonState*>(sqlite3_user_data(context));
  const std::int64_t dictionary = sqlite3_value_int64(args[0]);
  if (!state.decoder.has_dictionary(dictionary)) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(sqlite3_context_db_handle(context), "SELECT bytes FROM dictionaries WHERE id = ?", -1,
                                &stmt, nullptr);
    if (rc == SQLITE_OK) {
      sqlite3_bind_int64(stmt, 1, dictionary);
      rc = sqlite3_step(stmt);
    }
    Result<bool> added = Error{fmt::format("no zstd dictionary {} in the store", dictionary)};
    if (rc == SQLITE_ROW) added = state.decoder.add_dictionary(dictionary, bytes_of(sqlite3_column_value(stmt, 0)));
    sqlite3_finalize(stmt);
    if (!added) return sqlite3_result_error(context, ("procsentry_json: " + added.error().message).c_str(), -1);
  }
  if (auto r = state.decoder.decode(dictionary, bytes_of(args[1]), state.out); !r) {
    return sqlite3_result_error(context, ("procsentry_json: " + r.error().message).c_str(), -1);
  }
  sqlite3_result_text64(context, state.out.data(), state.out.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void hash_function(sqlite3_context* context, int, sqlite3_value** args) {
  if (sqlite3_value_type(args[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  sqlite3_result_int64(context, store_string_hash(bytes_of(args[0])));
}

void plain_function(sqlite3_context* context, int, sqlite3_value** args) {
  if (sqlite3_value_type(args[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  sqlite3_result_int(context, store_string_plain(bytes_of(args[0])) ? 1 : 0);
}

void compress_function(sqlite3_context* context, int, sqlite3_value** args) {
  if (sqlite3_value_type(args[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  auto& encoder = *static_cast<BodyEncoder*>(sqlite3_user_data(context));
  auto body = encoder.encode(bytes_of(args[0]));
  if (!body) return sqlite3_result_error(context, body.error().message.c_str(), -1);
  sqlite3_result_blob64(context, body->data(), body->size(), SQLITE_TRANSIENT);
}

void kind_function(sqlite3_context* context, int, sqlite3_value** args) {
  const std::string_view name = bytes_of(args[0]);
  for (auto kind = static_cast<int>(EventKind::exec); kind <= static_cast<int>(kLastEventKind); ++kind) {
    if (to_string(static_cast<EventKind>(kind)) == name) return sqlite3_result_int(context, kind);
  }
  sqlite3_result_null(context);
}

}  // namespace

std::int64_t store_string_hash(std::string_view text) {
  return static_cast<std::int64_t>(XXH3_64bits(text.data(), text.size()));
}

bool store_string_plain(std::string_view text) {
  return text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

void register_store_functions(sqlite3* db) {
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  sqlite3_create_function_v2(db, "procsentry_json", 2, kFlags, new JsonState, json_function, nullptr, nullptr,
                             [](void* state) { delete static_cast<JsonState*>(state); });
  sqlite3_create_function_v2(db, "procsentry_hash", 1, kFlags | SQLITE_INNOCUOUS, nullptr, hash_function, nullptr,
                             nullptr, nullptr);
  sqlite3_create_function_v2(db, "procsentry_plain", 1, kFlags | SQLITE_INNOCUOUS, nullptr, plain_function, nullptr,
                             nullptr, nullptr);
  sqlite3_create_function_v2(db, "procsentry_compress", 1, kFlags | SQLITE_INNOCUOUS, new BodyEncoder,
                             compress_function, nullptr, nullptr,
                             [](void* encoder) { delete static_cast<BodyEncoder*>(encoder); });
  sqlite3_create_function_v2(db, "procsentry_kind", 1, kFlags | SQLITE_INNOCUOUS, nullptr, kind_function, nullptr,
                             nullptr, nullptr);
}

}  // namespace procsentry
