#include "store/store_functions.h"

#include <fmt/format.h>
#include <sqlite3.h>

#define XXH_INLINE_ALL  // header only: no library to link
#include <xxhash.h>

#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/text_escape.h"
#include "store/body_block.h"
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

Result<bool> load_dictionary(sqlite3* db, JsonState& state, std::int64_t dictionary) {
  if (state.decoder.has_dictionary(dictionary)) return true;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT bytes FROM dictionaries WHERE id = ?", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_int64(stmt, 1, dictionary);
    rc = sqlite3_step(stmt);
  }
  Result<bool> added = Error{fmt::format("no zstd dictionary {} in the store", dictionary)};
  if (rc == SQLITE_ROW) added = state.decoder.add_dictionary(dictionary, bytes_of(sqlite3_column_value(stmt, 0)));
  sqlite3_finalize(stmt);
  return added;
}

// Schema 6's bodies for one statement of the view (auxiliary data of procsentry_json's constant
// last argument: SQLite keeps it from row to row and destroys it with the statement, which
// finalizes the lookup). It keeps the block read last: a scan decompresses each block once.
class BlockReader {
 public:
  explicit BlockReader(sqlite3* db) : db_(db) {}
  ~BlockReader() { sqlite3_finalize(lookup_); }
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;

  // Event `id`'s body, from the block holding it.
  Result<std::string_view> body(JsonState& state, std::int64_t id) {
    // The block read stays valid while the store's data version stands (ids start over in
    // an emptied store, and a statement may be stepped again after a commit).
    unsigned version = 0;
    sqlite3_file_control(db_, "main", SQLITE_FCNTL_DATA_VERSION, &version);
    if (version != data_version_ || id < first_id_ || id >= first_id_ + count_) {
      count_ = 0;
      if (auto r = read(state, id); !r) return r.error();
      data_version_ = version;
    }
    return bodies_[static_cast<std::size_t>(id - first_id_)];
  }

 private:
  Result<bool> read(JsonState& state, std::int64_t id) {
    // The block's parts in key order (body_block.h): the last key below id + 1's first part's
    // is of the block holding id, if any does.
    if (lookup_ == nullptr &&
        sqlite3_prepare_v3(db_,
                           "WITH b(first) AS (SELECT max(key) >> ?2 FROM body_blocks WHERE key < (?1 + 1) << ?2) "
                           "SELECT b.first, count, dict_id, bytes FROM body_blocks, b WHERE key >= b.first << ?2 "
                           "AND key < (b.first + 1) << ?2 ORDER BY key",
                           -1, SQLITE_PREPARE_PERSISTENT, &lookup_, nullptr) != SQLITE_OK) {
      return Error{sqlite3_errmsg(db_)};
    }
    sqlite3_bind_int64(lookup_, 1, id);
    sqlite3_bind_int(lookup_, 2, kBodyPartBits);
    std::int64_t first_id = 0, count = 0, dictionary = 0;
    frame_.clear();
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(lookup_)) == SQLITE_ROW) {
      first_id = sqlite3_column_int64(lookup_, 0);
      count = sqlite3_column_int64(lookup_, 1);
      dictionary = sqlite3_column_int64(lookup_, 2);
      frame_ += bytes_of(sqlite3_column_value(lookup_, 3));
    }
    Error error{rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_)};
    sqlite3_reset(lookup_);
    if (rc != SQLITE_DONE) return error;
    if (frame_.empty() || id - first_id >= count) return Error{fmt::format("no body block holds event {}", id)};
    if (auto r = load_dictionary(db_, state, dictionary); !r) return r.error();
    if (auto r = state.decoder.decode(dictionary, frame_, bytes_); !r) {
      return Error{fmt::format("body block {}: {}", first_id, r.error().message)};
    }
    auto bodies = split_body_block(bytes_, count);
    if (!bodies) return Error{fmt::format("body block {}: {}", first_id, bodies.error().message)};
    bodies_ = std::move(*bodies);
    first_id_ = first_id;
    count_ = count;
    return true;
  }

  sqlite3* db_;
  sqlite3_stmt* lookup_ = nullptr;
  std::int64_t first_id_ = 0, count_ = 0;
  unsigned data_version_ = 0;
  std::string frame_;                     // the block's parts, end to end
  std::string bytes_;                     // decompressed
  std::vector<std::string_view> bodies_;  // into bytes_
};

// procsentry_json(dict_id, body[, id, 'body_blocks']): an empty body (schema 6) is in the block
// holding id.
void json_function(sqlite3_context* context, int argc, sqlite3_value** args) {
  if (sqlite3_value_type(args[1]) == SQLITE_NULL) return sqlite3_result_null(context);
  auto& state = *static_cast<JsonState*>(sqlite3_user_data(context));
  sqlite3* db = sqlite3_context_db_handle(context);
  auto fail = [&](const std::string& why) { sqlite3_result_error(context, ("procsentry_json: " + why).c_str(), -1); };
  if (argc == 4 && sqlite3_value_bytes(args[1]) == 0) {
    if (bytes_of(args[3]) != "body_blocks") return fail("blocks are read from body_blocks only");
    auto* reader = static_cast<BlockReader*>(sqlite3_get_auxdata(context, 3));
    std::unique_ptr<BlockReader> made;
    if (reader == nullptr) reader = (made = std::make_unique<BlockReader>(db)).get();
    auto body = reader->body(state, sqlite3_value_int64(args[2]));
    if (!body) return fail(body.error().message);
    sqlite3_result_text64(context, body->data(), body->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    // Last: SQLite may destroy it at once (when the argument is not a constant).
    if (made) sqlite3_set_auxdata(context, 3, made.release(), [](void* r) { delete static_cast<BlockReader*>(r); });
    return;
  }
  const std::int64_t dictionary = sqlite3_value_int64(args[0]);
  if (auto r = load_dictionary(db, state, dictionary); !r) return fail(r.error().message);
  if (auto r = state.decoder.decode(dictionary, bytes_of(args[1]), state.out); !r) return fail(r.error().message);
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
  // One state for both forms (schemas 2-5's view calls the first).
  auto* json_state = new JsonState;
  sqlite3_create_function_v2(db, "procsentry_json", 2, kFlags, json_state, json_function, nullptr, nullptr, nullptr);
  sqlite3_create_function_v2(db, "procsentry_json", 4, kFlags, json_state, json_function, nullptr, nullptr,
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
