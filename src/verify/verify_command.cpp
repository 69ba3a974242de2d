#include "verify/verify_command.h"

#include <fmt/core.h>
#include <sqlite3.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "store/read_only_store.h"
#include "verify/seq_check.h"

namespace procsentry {
namespace {

constexpr int kComplete = 0, kIncomplete = 1, kBadInput = 2;

constexpr std::string_view kUsage =
    "usage: procsentry verify FILE | - | --db PATH\n"
    "Checks a capture of procsentry's JSON Lines (a file, or standard input with -) or its event store\n"
    "for completeness: per boot, the first and last seq, each missing range (\"boot B: seq N..M missing\"),\n"
    "the kernel's lost records and late heartbeats. Exit status 0 complete, 1 something missing, 2 bad input.\n";

Result<Ok> read_lines(std::istream& in, const std::string& name, SeqCheck& check) {
  std::string line;
  for (std::uint64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    if (auto added = check.add(line, fmt::format("{} line {}", name, number)); !added) return added.error();
  }
  if (in.bad()) return Error{fmt::format("{}: read error", name)};
  return Ok{};
}

Result<Ok> read_store(const std::string& path, SeqCheck& check) {
  auto db = open_store_read_only(path);
  if (!db) return db.error();
  sqlite3* raw = db->get();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(raw, "SELECT id, json FROM events ORDER BY id", -1, &stmt, nullptr) != SQLITE_OK) {
    return Error{fmt::format("{} is not a procsentry event store: {}", path, sqlite3_errmsg(raw))};
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(stmt, sqlite3_finalize);
  int step = SQLITE_ROW;
  while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    const std::string_view json(text != nullptr ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1)));
    if (auto added = check.add(json, fmt::format("{} event id {}", path, sqlite3_column_int64(stmt, 0))); !added) {
      return added.error();
    }
  }
  if (step != SQLITE_DONE) return Error{fmt::format("{}: {}", path, sqlite3_errmsg(raw))};
  return Ok{};
}

}  // namespace

int run_verify(std::span<const std::string> args, std::FILE* out, std::FILE* err) {
  auto bad = [err](const std::string& message) {
    fmt::print(err, "procsentry: verify: {}\n", message);
    return kBadInput;
  };
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    fmt::print(out, "{}", kUsage);
    return kComplete;
  }
  const bool db = args.size() == 2 && args[0] == "--db";
  if (!db && (args.size() != 1 || (args[0].starts_with("-") && args[0] != "-"))) {
    return bad("give one capture: FILE, - (standard input) or --db PATH (see procsentry verify --help)");
  }
  SeqCheck check;
  Result<Ok> read = Ok{};
  if (db) {
    read = read_store(args[1], check);
  } else if (args[0] == "-") {
    read = read_lines(std::cin, "standard input", check);
  } else {
    std::ifstream file(args[0]);
    if (!file) return bad(fmt::format("cannot read {}", args[0]));
    read = read_lines(file, args[0], check);
  }
  if (!read) return bad(read.error().message);
  const auto runs = check.finish();
  if (runs.empty()) return bad("no events to verify");
  bool complete = true;
  for (const RunReport& r : runs) complete = complete && r.complete();
  fmt::print(out, "{}{}\n", describe(runs), complete ? "complete" : "incomplete");
  return complete ? kComplete : kIncomplete;
}

}  // namespace procsentry
