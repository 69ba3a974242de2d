// A store query's JSON Lines, one string per event (a failed query is a test failure).
#pragma once

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "store/event_query.h"

namespace procsentry {

inline std::vector<std::string> query_json_lines(const std::string& db, QueryOptions q) {
  q.json = true;
  std::string out;
  auto rows = run_query(db, q, out);
  EXPECT_TRUE(rows.has_value()) << (rows ? "" : rows.error().message);
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The query's lines are `expected` (a full scan's, in time order), and so are its --reverse's
// (backwards) and its --count.
inline void expect_query_as_scanned(const std::string& db, QueryOptions q, std::vector<std::string> expected,
                                    const std::string& what) {
  EXPECT_EQ(query_json_lines(db, q), expected) << what;
  q.reverse = true;
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(query_json_lines(db, q), expected) << what << " --reverse";
  q.reverse = false;
  q.count = true;
  std::string out;
  ASSERT_TRUE(run_query(db, q, out).has_value());
  EXPECT_EQ(out, fmt::format("{}\n", expected.size())) << what << " --count";
}

}  // namespace procsentry
