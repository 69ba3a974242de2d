// `procsentry report` on schema 2 and later: every list counted in one pass over the window's
// rows (the SQL of schema 1 reads them once per list: six passes, 24 s cold for 10 M events).
// Groups are keyed by string ids, so memory grows with the distinct images, users and pairs,
// never with the events; the texts are read for the rows shown only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/event_report.h"

struct sqlite3;

namespace procsentry {

// A first-seen image as the tally finds it: the caller reads who ran it and its hash.
struct FirstSeenKey {
  std::int64_t image_id = 0;
};

// Fills `report`'s counts and lists (texts looked up in `strings`) for the rows of event_rows
// where `window` holds; first-seen images are those with no exec before `since_ns` (when
// set); `image_rows` finds an image's rows p through its index, the image ?1: "event_rows p WHERE
// p.image_id = ?1", with the chunks on schema 3 and the marked rows on schema 5 (event_report.cpp).
// Ties as the SQL's: the group recorded first, first; failures by errno.
Result<std::vector<FirstSeenKey>> tally_report(sqlite3* db, const std::string& window,
                                               const std::optional<std::int64_t>& since_ns,
                                               const std::string& image_rows, std::size_t top, Report& report);

}  // namespace procsentry
