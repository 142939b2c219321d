#include "base/log_format.h"

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace switchboard::base {
namespace {

// 2026-11-29T03:40:18.123456789Z
constexpr timespec kTime{1795923618, 123456789};
constexpr std::string_view kJsonHead = R"({"time":"2026-11-29T03:40:18.123Z","level":"info")";

std::string json(std::string_view message) {
  return format_log_line(LogFormat::kJson, LogLevel::kInfo, kTime, message);
}

// What a JSON line holds after kJsonHead, without the closing "}\n".
std::string json_body(std::string_view message) {
  const std::string line = json(message);
  EXPECT_EQ(line.substr(0, kJsonHead.size()), kJsonHead) << line;
  EXPECT_EQ(line.substr(line.size() - 2), "}\n") << line;
  return line.substr(kJsonHead.size(), line.size() - kJsonHead.size() - 2);
}

// The line parses as one JSON object, and is one line.
void expect_valid_json_line(const std::string& line) {
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  EXPECT_EQ(parser.parse(simdjson::padded_string(line)).get(object), simdjson::SUCCESS) << line;
}

TEST(LogFormat, TextIsTimeLevelAndMessage) {
  EXPECT_EQ(format_log_line(LogFormat::kText, LogLevel::kInfo, kTime, "message"),
            "2026-11-29T03:40:18.123Z info message\n");
  EXPECT_EQ(format_log_line(LogFormat::kText, LogLevel::kWarn, {0, 999'999'999}, "a \"b\" c=d"),
            "1970-01-01T00:00:00.999Z warn a \"b\" c=d\n");
  EXPECT_EQ(format_log_line(LogFormat::kText, LogLevel::kError, kTime, ""), "2026-11-29T03:40:18.123Z error \n");
  EXPECT_EQ(format_log_line(LogFormat::kText, LogLevel::kDebug, kTime, "x"), "2026-11-29T03:40:18.123Z debug x\n");
}

TEST(LogFormat, TextLinesAreCutAt1024BytesWithTheirNewline) {
  const std::string line = format_log_line(LogFormat::kText, LogLevel::kInfo, kTime, std::string(5000, 'z'));
  EXPECT_EQ(line.size(), kMaxTextLineBytes);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogFormat, JsonMessageThatIsNotKeyValue) {
  EXPECT_EQ(json("signal 15: reloading"),
            R"({"time":"2026-11-29T03:40:18.123Z","level":"info","message":"signal 15: reloading"})"
            "\n");
  EXPECT_EQ(format_log_line(LogFormat::kJson, LogLevel::kWarn, kTime, "x"),
            R"({"time":"2026-11-29T03:40:18.123Z","level":"warn","message":"x"})"
            "\n");
  EXPECT_EQ(json_body(""), R"(,"message":"")");
}

TEST(LogFormat, JsonEscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_body("say \"hi\" \\ now"), R"(,"message":"say \"hi\" \\ now")");
  EXPECT_EQ(json_body("a\nb\rc\td"), R"(,"message":"a\nb\rc\td")");
  EXPECT_EQ(json_body(std::string_view("\x01\x1f\x7f\0z", 5)), R"(,"message":"\u0001\u001f\u007f\u0000z")");
  expect_valid_json_line(json("forged\n{\"level\":\"error\"}"));
}

TEST(LogFormat, JsonKeyValueMessagesBecomeFields) {
  EXPECT_EQ(json("event=open client=12 user=ann peer=127.0.0.1:5555"),
            R"({"time":"2026-11-29T03:40:18.123Z","level":"info","event":"open","client":"12","user":"ann",)"
            R"("peer":"127.0.0.1:5555"})"
            "\n");
  EXPECT_EQ(json_body("event=close client=12 user=ann code=1000 reason=\"bye\""),
            R"(,"event":"close","client":"12","user":"ann","code":"1000","reason":"bye")");
  EXPECT_EQ(json_body("k=v"), R"(,"k":"v")");
  EXPECT_EQ(json_body("user=a=b peer=[::1]:80"), R"(,"user":"a=b","peer":"[::1]:80")");
  EXPECT_EQ(json_body("user= code=1"), R"(,"user":"","code":"1")");
  EXPECT_EQ(json_body("Key_1.x-y=z _k=1"), R"(,"Key_1.x-y":"z","_k":"1")");
}

TEST(LogFormat, JsonQuotedValuesAreDecodedAndEncodedAgain) {
  EXPECT_EQ(json_body("event=close reason=\"going away now\" code=1001"),
            R"(,"event":"close","reason":"going away now","code":"1001")");
  EXPECT_EQ(json_body(R"(reason="a \"q\" \\ \/ \n\t\b\f \u0001 \u00e9 \ud83d\ude00")"),
            ","
            R"("reason":"a \"q\" \\ / \n\t\u0008\u000c \u0001 )"
            "\xC3\xA9 \xF0\x9F\x98\x80\"");
  EXPECT_EQ(json_body(R"(reason="")"), R"(,"reason":"")");
  EXPECT_EQ(json_body(R"(reason="x=y z=w")"), R"(,"reason":"x=y z=w")");
  // Lone surrogates cannot be UTF-8.
  EXPECT_EQ(json_body(R"(a="\ud800" b="\udc00x" c="\ud800\u0041")"),
            ",\"a\":\"\xEF\xBF\xBD\",\"b\":\"\xEF\xBF\xBDx\",\"c\":\"\xEF\xBF\xBD"
            "A\"");
  // The hub's close line: its reason written by hub::append_json_string.
  EXPECT_EQ(json_body(R"(event=close client=3 user=- code=4100 reason="line\nbreak \"quoted\"")"),
            R"(,"event":"close","client":"3","user":"-","code":"4100","reason":"line\nbreak \"quoted\"")");
}

TEST(LogFormat, JsonMessagesThatAreNotQuiteKeyValueStayMessages) {
  const std::string_view cases[] = {
      "worker 3 stopped: x=y",
      "x=y worker stopped",
      "event=open  client=1",  // two spaces
      "event=open ",           // trailing space
      " event=open",
      "=x",
      "1a=x",
      "k\"=x",
      "reason=\"unterminated",
      "reason=\"x\"y",
      "reason=\"bad escape \\q\"",
      "reason=\"bad \\u12\"",
      "reason=\"raw\ttab\"",
      "level=warn",  // would repeat a field of its own
      "a=1 time=2",
      "message=hi",
      "a=1 a=2",
  };
  for (std::string_view message : cases) {
    const std::string line = json(message);
    EXPECT_NE(line.find(R"(,"message":")"), std::string::npos) << message << " -> " << line;
    expect_valid_json_line(line);
  }
  EXPECT_EQ(json_body("a=1 a=2"), R"(,"message":"a=1 a=2")");
}

TEST(LogFormat, JsonReplacesInvalidUtf8) {
  // Valid UTF-8 stays as it is.
  EXPECT_EQ(json_body("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"), ",\"message\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  // Every byte that is not part of a valid sequence is U+FFFD.
  EXPECT_EQ(json_body("a\xFF\xFE"
                      "b"),
            ",\"message\":\"a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b\"");
  EXPECT_EQ(json_body("\xC0\xAF"), ",\"message\":\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong '/'
  EXPECT_EQ(json_body("\xED\xA0\x80"), ",\"message\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(json_body("\xF4\x90\x80\x80"),                                                        // above U+10FFFF
            ",\"message\":\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(json_body("end \xE2\x82"), ",\"message\":\"end \xEF\xBF\xBD\xEF\xBF\xBD\"");  // cut short
  // In a value, bare or quoted.
  EXPECT_EQ(json_body("user=\xFF reason=\"\xC3\""), ",\"user\":\"\xEF\xBF\xBD\",\"reason\":\"\xEF\xBF\xBD\"");
}

TEST(LogFormat, JsonUsesTheFirst1023BytesAndStaysBounded) {
  const std::string line = json(std::string(5000, '\x01'));
  expect_valid_json_line(line);
  EXPECT_LE(line.size(), kMaxJsonLineBytes);
  EXPECT_EQ(json_body(std::string(2000, 'a')), R"(,"message":")" + std::string(kMaxMessageBytes, 'a') + "\"");
}

// Many messages made of the bytes that matter to the parser and the
// escaper, in every order: each line is one valid JSON object, and a message
// that is valid UTF-8 and not key=value comes back unchanged.
TEST(LogFormat, JsonLinesAlwaysParse) {
  static constexpr std::string_view kAlphabet[] = {
      "a",    "k",    "=",    " ",    "\"",      "\\",      "u",    "d",
      "8",    "0",    "n",    "\x01", "\x7F",    "\xC3",    "\xA9", "\xED",
      "\xF0", "\x9F", "\xFF", "\\u",  "\\ud83d", "\\ude00", "\\\"", std::string_view("\0", 1),
      "\n",
  };
  std::uint64_t state = 0x9E3779B97F4A7C15u;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  simdjson::dom::parser parser;
  for (int round = 0; round < 20000; ++round) {
    std::string message;
    const std::size_t pieces = next() % 12;
    for (std::size_t i = 0; i < pieces; ++i) message += kAlphabet[next() % std::size(kAlphabet)];
    const std::string line = json(message);
    ASSERT_EQ(line.find('\n'), line.size() - 1) << message;
    simdjson::dom::object object;
    ASSERT_EQ(parser.parse(simdjson::padded_string(line)).get(object), simdjson::SUCCESS) << message;
    std::string_view logged;
    if (object["message"].get(logged) == simdjson::SUCCESS && simdjson::validate_utf8(message)) {
      EXPECT_EQ(logged, message);
    }
  }
}

}  // namespace
}  // namespace switchboard::base
