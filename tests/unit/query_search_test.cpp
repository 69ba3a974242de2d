// --argv, --argv-regex and --image through the trigram index give exactly the rows a scan of
// every event gives (instr, GLOB and RE2 over the `events` view), on random queries: quotes, %, _,
// glob and regex characters, other scripts, case, bytes that are not UTF-8, a 40 KiB argument.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <re2/re2.h>
#include <sqlite3.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <random>
#include <sstream>

#include "query_lines.h"
#include "store/event_query.h"
#include "store/event_store.h"
#include "store/store_functions.h"
#include "store/store_row.h"
#include "store/store_writer.h"
#include "store/text_search.h"

namespace procsentry {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kBoot = 1'795'521'841'000'000'000;

// Pieces of command lines and images: what the queries are cut from.
const std::vector<std::string> kWords = {"ls",
                                         "-l",
                                         "LS",
                                         "--color=auto",
                                         "\"quoted\"",
                                         "it's",
                                         "100%",
                                         "a_b",
                                         "a%b",
                                         "*",
                                         "?",
                                         "[ab]",
                                         "x]y",
                                         "^",
                                         "caf\xc3\xa9",
                                         "CAF\xc3\x89",
                                         "\xe2\x84\xaa"
                                         "elvin",
                                         "kelvin",
                                         "\xc5\xbfs",
                                         "\xc4\xb0stanbul",
                                         "istanbul",
                                         "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97",
                                         "\xff\xfe",
                                         "bad\xc3",
                                         "\xc3(",
                                         "tab\there",
                                         "new\nline",
                                         "a.b",
                                         "(x)",
                                         "a|b",
                                         "back\\slash",
                                         "SELECT",
                                         "\"\"",
                                         "--",
                                         "OR",
                                         "AND",
                                         "NEAR",
                                         "/tmp/x y"};

class QuerySearchTest : public ::testing::Test {
 protected:
  QuerySearchTest() : dir_(fs::temp_directory_path() / ("query-search." + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "events.db").string();
  }
  ~QuerySearchTest() override { fs::remove_all(dir_); }

  // `count` events, with argvs and images from a few hundred distinct texts (stored once each).
  void record(int count) {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    StoreWriter sink(**store, {}, stderr);
    std::vector<std::string> argvs, images;
    for (int i = 0; i < 300; ++i) {
      std::string argv;
      const int words = 1 + static_cast<int>(rng_() % 5);
      for (int w = 0; w < words; ++w) argv += (w ? " " : "") + kWords[rng_() % kWords.size()];
      argvs.push_back(argv);
      images.push_back("/usr/bin/" + kWords[rng_() % kWords.size()] + (i % 3 == 0 ? "" : kWords[rng_() % 7]));
    }
    argvs.push_back(long_argument_);
    std::deque<std::string> texts;
    for (int i = 0; i < count; ++i) {
      StoreRow row;
      row.time_ns = kBoot + static_cast<std::int64_t>(rng_() % 1000) * 1'000'000;  // ties too
      row.pid = static_cast<std::uint32_t>(1000 + i);
      row.process_uid = texts.emplace_back("ab-" + std::to_string(i));
      row.image = texts.emplace_back(images[rng_() % images.size()]);
      row.argv = texts.emplace_back(i % 97 == 0 ? long_argument_ : argvs[rng_() % argvs.size()]);
      row.json = texts.emplace_back(fmt::format(R"({{"event":"exec","pid":{}}})", 1000 + i));
      sink.write(row);
    }
    sink.finish();
  }

  // What a scan of every event gives: each event's JSON, in time order, where `condition` (SQL on
  // the `events` view, ?1 bound to `value`) holds and `keep` says.
  std::vector<std::string> scan(const std::string& condition, const std::string& value,
                                const std::function<bool(std::string_view argv)>& keep = {}) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    register_store_functions(db);
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = "SELECT argv, json FROM events WHERE " + condition + " ORDER BY time_ns, id";
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_bind_text(stmt, 1, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
    std::vector<std::string> kept;
    auto text = [&](int i) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return std::string_view(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
    };
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      if (!keep || keep(text(0))) kept.emplace_back(text(1));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return kept;
  }

  std::vector<std::string> query(QueryOptions q) { return query_json_lines(path_, std::move(q)); }

  // A piece of a stored text: any bytes (it may cut a character in two), or a word.
  std::string needle() {
    if (rng_() % 4 == 0) return kWords[rng_() % kWords.size()];
    const std::string& from =
        rng_() % 50 == 0 ? long_argument_ : kWords[rng_() % kWords.size()] + " " + kWords[rng_() % kWords.size()];
    const std::size_t start = rng_() % from.size();
    return from.substr(start, 1 + rng_() % std::min<std::size_t>(12, from.size() - start));
  }

  fs::path dir_;
  std::string path_;
  std::mt19937_64 rng_{20261126};
  std::string long_argument_ = [] {
    std::string a = "--payload=";
    for (int i = 0; a.size() < 40 * 1024; ++i) a += kWords[static_cast<std::size_t>(i * 7) % kWords.size()];
    return a;
  }();
};

TEST(TextSearch, FtsQueries) {
  EXPECT_EQ(substring_fts_query("ab"), std::nullopt);  // fewer than 3 characters
  EXPECT_EQ(substring_fts_query("caf\xc3\xa9"), R"("caf" AND "af)"
                                                "\xc3\xa9\"");               // characters, not bytes
  EXPECT_EQ(substring_fts_query("\xe4\xb8\xad\xe6\x96\x87"), std::nullopt);  // 2 characters
  EXPECT_EQ(substring_fts_query("bad\xc3"), std::nullopt);                   // not UTF-8: scanned
  EXPECT_EQ(substring_fts_query("a\"bcd"), R"("a""b" AND """bc" AND "bcd")");
  EXPECT_EQ(substring_fts_query("aaaa"), R"("aaa")");
  std::string long_query = *substring_fts_query(std::string(1000, 'x') + "abcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(std::count(long_query.begin(), long_query.end(), '"'), 2 * static_cast<long>(kMaxTrigrams));
  EXPECT_EQ(glob_fts_query("/usr/*/l?s"), R"("/us" AND "usr" AND "sr/")");
  EXPECT_EQ(glob_fts_query("*[abc]def[^]x]ghij"), R"("def" AND "ghi" AND "hij")");
  EXPECT_EQ(glob_fts_query("*ab*"), std::nullopt);
  auto search = RegexSearch::compile("foo.*bar");
  ASSERT_TRUE(search.has_value());
  EXPECT_EQ((*search)->fts_query(), std::optional<std::string>(R"(("bar") OR ("foo"))"));
  search = RegexSearch::compile("a.c|x");  // a text with no atom may match
  ASSERT_TRUE(search.has_value());
  EXPECT_EQ((*search)->fts_query(), std::nullopt);
  EXPECT_FALSE(RegexSearch::compile("a(b").has_value());
}

TEST_F(QuerySearchTest, RandomQueriesGiveTheRowsOfAFullScan) {
  record(3000);
  int nonempty = 0;
  for (int round = 0; round < 150; ++round) {
    const std::string text = needle();
    // A filter keeping 1 in 8,192 to 1 in 32 events prints its first rows walking the time
    // index, then the rest after them: stopped after 1-3 rows here, or when done.
    const std::uint64_t head = round % 4 == 0 ? UINT64_MAX : static_cast<std::uint64_t>(round % 4);
    QueryOptions q;
    q.argv_substring = text;
    q.first_rows_max = head;
    auto expected = scan("instr(argv, ?1) > 0", text);
    EXPECT_EQ(query(q), expected) << "--argv '" << text << "'";
    q.reverse = true;  // the same rows newest first, whichever plan the filter takes
    std::reverse(expected.begin(), expected.end());
    EXPECT_EQ(query(q), expected) << "--argv '" << text << "' --reverse";
    nonempty += expected.empty() ? 0 : 1;

    // A regex: pieces of stored text (quoted), case-insensitive or not, alternatives, wildcards.
    std::string pattern = RE2::QuoteMeta(needle());
    if (rng_() % 3 == 0) pattern += (rng_() % 2 ? ".*" : ".") + RE2::QuoteMeta(needle());
    if (rng_() % 4 == 0) pattern += "|" + RE2::QuoteMeta(needle());
    if (rng_() % 4 == 0) pattern = "(?i)" + pattern;
    if (rng_() % 8 == 0) pattern = "[a-z]{3}" + pattern;
    RE2 re(pattern, RE2::Quiet);
    if (!re.ok()) continue;  // a quoted piece of bytes RE2 refuses (not UTF-8)
    q = {};
    q.argv_regex = pattern;
    q.first_rows_max = head;
    EXPECT_EQ(query(q), scan("?1 = ?1", "",
                             [&](std::string_view argv) {
                               return RE2::PartialMatch(re2::StringPiece(argv.data(), argv.size()), re);
                             }))
        << "--argv-regex '" << pattern << "'";

    // A glob: a piece of an image with wildcards around or in it.
    std::string glob = needle();
    if (rng_() % 2) glob = "*" + glob;
    if (rng_() % 2) glob += "*";
    if (rng_() % 5 == 0) glob = "/usr/bin/" + glob;
    if (rng_() % 5 == 0 && glob.size() > 2) glob[glob.size() / 2] = "?[*"[rng_() % 3];
    q = {};
    q.image_glob = glob;
    q.first_rows_max = head;
    auto expected_glob = scan("image GLOB ?1", glob);
    EXPECT_EQ(query(q), expected_glob) << "--image '" << glob << "'";
  }
  EXPECT_GT(nonempty, 75);  // the queries find something
  // The 40 KiB argument, whole and cut, and with filters combined.
  QueryOptions q;
  q.argv_substring = long_argument_.substr(1, long_argument_.size() - 2);
  auto expected = scan("instr(argv, ?1) > 0", q.argv_substring);
  EXPECT_GT(expected.size(), 10u);
  EXPECT_EQ(query(q), expected);
  q.argv_regex = "^--payload";
  q.image_glob = "/usr/bin/*";
  EXPECT_EQ(query(q), expected);
  q.reverse = true;
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(query(q), expected);
}

}  // namespace
}  // namespace procsentry
