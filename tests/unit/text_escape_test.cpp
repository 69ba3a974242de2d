// Terminal escaping, shell quoting, JSON strings and base64 against hostile bytes.
#include "core/text_escape.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace procsentry {
namespace {

std::string terminal(std::string_view in) {
  std::string out;
  append_terminal_escaped(out, in);
  return out;
}
std::string quoted(std::string_view in) {
  std::string out;
  append_shell_quoted(out, in);
  return out;
}
std::string json(std::string_view in) {
  std::string out;
  append_json_string(out, in);
  return out;
}

bool has_raw_control(std::string_view s) {
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) return true;
  }
  return false;
}

TEST(TerminalEscape, EveryByteAloneIsSafe) {
  for (int b = 0; b < 256; ++b) {
    std::string in(1, static_cast<char>(b));
    std::string out = terminal(in);
    EXPECT_FALSE(has_raw_control(out)) << b;
    if (b >= 0x80) {
      EXPECT_EQ(out.size(), 4u) << "a lone high byte is invalid UTF-8: " << b;
    }
  }
}

TEST(TerminalEscape, EscapeSequencesAndNewlinesBecomeVisible) {
  EXPECT_EQ(terminal("\x1b[31mred\x1b[0m"), "\\e[31mred\\e[0m");
  EXPECT_EQ(terminal("\x1b]0;title\x07"), "\\e]0;title\\x07");
  EXPECT_EQ(terminal("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(terminal("back\\slash"), "back\\\\slash");
  EXPECT_EQ(terminal(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(terminal("\x7f"), "\\x7f");
}

TEST(TerminalEscape, InvalidUtf8BytesAreHexEscaped) {
  EXPECT_EQ(terminal("\x80"), "\\x80");                             // lone continuation
  EXPECT_EQ(terminal("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // UTF-8-encoded surrogate
  EXPECT_EQ(terminal("\xe2\x82"), "\\xe2\\x82");                    // truncated sequence
  EXPECT_EQ(terminal("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
}

TEST(TerminalEscape, C1AndBidiControlsAreEscapedPrintableUnicodeIsKept) {
  EXPECT_EQ(terminal("\xc2\x9b"
                     "31m"),
            "\\u{009b}31m");  // C1 CSI
  EXPECT_EQ(terminal("abc\xe2\x80\xae"
                     "fdp.exe"),
            "abc\\u{202e}fdp.exe");  // right-to-left override
  EXPECT_EQ(terminal("zero\xe2\x80\x8bwidth"), "zero\\u{200b}width");
  EXPECT_EQ(terminal("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
}

TEST(ShellQuote, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(quoted("plain-arg_1.txt"), "plain-arg_1.txt");
  EXPECT_EQ(quoted(""), "''");
  EXPECT_EQ(quoted("/tmp/a b"), "'/tmp/a b'");
  EXPECT_EQ(quoted("it's"), "'it'\\''s'");
  EXPECT_EQ(quoted("$(rm -rf /)"), "'$(rm -rf /)'");
  EXPECT_EQ(quoted("a\nb"), "a\\nb");
  EXPECT_EQ(quoted("x \x1b[2J"), "'x \\e[2J'");
}

TEST(JsonString, ParsesBackToTheSameTextWhenValid) {
  const std::string samples[] = {"plain",
                                 "quote\" back\\slash",
                                 "ctl\x01\x1f\x7f",
                                 "nl\nrt\r\ttab",
                                 "caf\xc3\xa9 \xf0\x9f\x98\x80",
                                 "sep\xe2\x80\xa8para\xe2\x80\xa9",
                                 std::string("nul\0x", 5)};
  for (const auto& s : samples) {
    auto parsed = nlohmann::json::parse(json(s));
    EXPECT_EQ(parsed.get<std::string>(), s);
    EXPECT_FALSE(has_raw_control(json(s)));
  }
}

TEST(JsonString, InvalidUtf8BecomesReplacementCharacters) {
  std::string out = json(
      "a\xff\xfe"
      "b\xc3");
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(),
            "a\xef\xbf\xbd\xef\xbf\xbd"
            "b\xef\xbf\xbd");
}

TEST(JsonString, EveryByteAloneGivesValidJson) {
  for (int b = 0; b < 256; ++b) {
    std::string out = json(std::string(1, static_cast<char>(b)));
    EXPECT_TRUE(nlohmann::json::accept(out)) << b;
    EXPECT_TRUE(is_valid_utf8(out)) << b;
  }
}

TEST(Utf8, Validity) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("ascii \xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9f\x98"));
}

// The scans look at eight bytes at a time: every byte that matters, at every offset of a
// longer string, is treated as it is alone (where no eight-byte step applies).
TEST(JsonString, EveryByteAtEveryOffsetOfALongStringAsAlone) {
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    const std::string alone = json(one);
    for (std::size_t at = 0; at < 24; ++at) {
      std::string in(24, 'a');
      in[at] = static_cast<char>(b);
      const std::string expected =
          "\"" + std::string(at, 'a') + alone.substr(1, alone.size() - 2) + std::string(23 - at, 'a') + "\"";
      ASSERT_EQ(json(in), expected) << "byte " << b << " at " << at;
      ASSERT_EQ(is_valid_utf8(in), is_valid_utf8(one)) << "byte " << b << " at " << at;
    }
  }
  const std::string e_acute = "\xc3\xa9";
  for (std::size_t at = 0; at < 24; ++at) {
    std::string in(24, 'a');
    in.insert(at, e_acute);
    EXPECT_TRUE(is_valid_utf8(in));
    EXPECT_EQ(json(in), "\"" + in + "\"");
    in.erase(at + 1, 1);  // a lead byte without its continuation
    EXPECT_FALSE(is_valid_utf8(in));
  }
}

TEST(Base64, KnownVectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},        {"f", "Zg=="},        {"fo", "Zm8="},
      {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {std::string("\0\xff", 2), "AP8="}};
  for (const auto& [in, expected] : vectors) {
    std::string out;
    append_base64(out, in);
    EXPECT_EQ(out, expected);
  }
}

}  // namespace
}  // namespace procsentry
