// The SQL functions of the event store. Every procsentry connection to a store registers them
// right after opening it: the `events` view decompresses bodies with procsentry_json.
//   procsentry_json(dict_id, body)  the event's JSON Lines object, byte for byte as recorded
//   procsentry_json(dict_id, body, id, 'body_blocks')  the same, or when body is empty, event
//                                       id's in its block in body_blocks (schema 6, body_block.h)
//   procsentry_hash(text)           strings.hash of a text
//   procsentry_plain(text)          strings.plain of a text (1: indexed in strings_fts)
//   procsentry_compress(text)       a body without dictionary (the migration from schema 1)
//   procsentry_kind(name)           event_kinds.kind of an event name (the migration)
#pragma once

#include <cstdint>
#include <string_view>

struct sqlite3;

namespace procsentry {

void register_store_functions(sqlite3* db);

// A 64-bit hash of `text` (XXH3: stable across builds and machines, it is stored).
std::int64_t store_string_hash(std::string_view text);
// Valid UTF-8 without NUL bytes: what the trigram index can take as it is.
bool store_string_plain(std::string_view text);

}  // namespace procsentry
