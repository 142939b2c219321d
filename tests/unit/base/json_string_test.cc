// The one JSON string escaper: the exact bytes protocol v1 and the log
// lines get, and valid JSON whatever the input.
#include "base/json_string.h"

#include <simdjson.h>

#include <string>

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

std::string as_json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

std::string as_lossy_json_string(std::string_view bytes) {
  std::string out;
  append_json_string_lossy(out, bytes);
  return out;
}

TEST(JsonString, Escapes) {
  EXPECT_EQ(as_json_string("plain"), "\"plain\"");
  EXPECT_EQ(as_json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(as_json_string("\n\r\t"), "\"\\n\\r\\t\"");
  EXPECT_EQ(as_json_string(std::string("\x01\x1f\x00", 3)), "\"\\u0001\\u001f\\u0000\"");
  EXPECT_EQ(as_json_string("caf\xC3\xA9 \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");  // UTF-8 as is
  EXPECT_EQ(as_json_string(""), "\"\"");
  // JSON does not need DEL escaped: protocol v1 sends it as it is.
  EXPECT_EQ(as_json_string("a\x7f"), "\"a\x7f\"");
}

TEST(JsonString, EveryControlCharacterRoundTrips) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  for (const std::string& json : {as_json_string(all), as_lossy_json_string(all)}) {
    simdjson::dom::parser parser;
    std::string_view back;
    ASSERT_EQ(parser.parse(json).get_string().get(back), simdjson::SUCCESS) << json;
    EXPECT_EQ(back, all);
  }
}

TEST(JsonStringLossy, EscapesDelAndKeepsValidUtf8) {
  EXPECT_EQ(as_lossy_json_string(std::string_view("\x01\x7f\0z\"", 5)), R"("\u0001\u007f\u0000z\"")");
  EXPECT_EQ(as_lossy_json_string("caf\xC3\xA9 \xF0\x9F\x98\x80"), "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
}

TEST(JsonStringLossy, ReplacesEachInvalidByteWithU_FFFD) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(as_lossy_json_string("a\xFF"
                                 "b"),
            "\"a" + replacement + "b\"");
  EXPECT_EQ(as_lossy_json_string("\xC3"), "\"" + replacement + "\"");                                      // cut short
  EXPECT_EQ(as_lossy_json_string("\xC0\xAF"), "\"" + replacement + replacement + "\"");                    // overlong
  EXPECT_EQ(as_lossy_json_string("\xED\xA0\x80"), "\"" + replacement + replacement + replacement + "\"");  // surrogate
}

}  // namespace
}  // namespace switchboard::base
