// A store query's JSON Lines, one string per event (a failed query is a test failure).
#pragma once

#include <gtest/gtest.h>

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

}  // namespace procsentry
