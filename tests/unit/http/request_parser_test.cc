#include "http/request_parser.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::http {
namespace {

// What a request parsed to, copied out of the buffer so results of
// different feeding patterns can be compared after their buffers are gone.
struct Parsed {
  ParseStatus status = ParseStatus::kIncomplete;
  ParseError error = ParseError::kNone;
  std::size_t head_size = 0;
  std::string method;
  std::string target;
  int minor_version = 0;
  std::vector<std::pair<std::string, std::string>> headers;

  bool operator==(const Parsed&) const = default;
};

Parsed snapshot(ParseStatus status, const RequestParser& parser, const Request& request) {
  Parsed parsed;
  parsed.status = status;
  parsed.error = parser.error();
  if (status != ParseStatus::kComplete) return parsed;
  parsed.head_size = parser.head_size();
  parsed.method = std::string(request.method);
  parsed.target = std::string(request.target);
  parsed.minor_version = request.minor_version;
  for (const Header& h : request.headers) parsed.headers.emplace_back(h.name, h.value);
  return parsed;
}

Parsed parse_whole(std::string_view input, Limits limits = {}) {
  RequestParser parser(limits);
  Request request;
  const std::string buffer(input);
  return snapshot(parser.parse(buffer, request), parser, request);
}

// Feeds the growing prefix in the given chunk sizes (the last chunk takes
// the rest) into a buffer that reallocates as it grows, as a socket would.
Parsed parse_chunks(std::string_view input, const std::vector<std::size_t>& chunks, Limits limits = {}) {
  RequestParser parser(limits);
  Request request;
  std::string buffer;
  std::size_t offset = 0;
  ParseStatus status = ParseStatus::kIncomplete;
  for (std::size_t i = 0; offset < input.size() || i == 0; ++i) {
    const std::size_t size = i < chunks.size() ? chunks[i] : input.size() - offset;
    buffer.append(input.substr(offset, size));
    offset += std::min(size, input.size() - offset);
    status = parser.parse(buffer, request);
    if (status != ParseStatus::kIncomplete) break;
    buffer.shrink_to_fit();  // force the next append to move the bytes
  }
  return snapshot(status, parser, request);
}

Parsed parse_bytewise(std::string_view input, Limits limits = {}) {
  return parse_chunks(input, std::vector<std::size_t>(input.size(), 1), limits);
}

struct GoodCase {
  const char* name;
  std::string input;
  std::string method;
  std::string target;
  int minor_version;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::vector<GoodCase> good_cases() {
  return {
      {"Upgrade",
       "GET /chat?token=abc HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
       "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "GET",
       "/chat?token=abc",
       1,
       {{"Host", "server.example.com"},
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"Sec-WebSocket-Version", "13"}}},
      {"NoHeaders", "GET / HTTP/1.1\r\n\r\n", "GET", "/", 1, {}},
      {"Http10", "GET /x HTTP/1.0\r\nHost: a\r\n\r\n", "GET", "/x", 0, {{"Host", "a"}}},
      {"Http19", "GET /x HTTP/1.9\r\n\r\n", "GET", "/x", 9, {}},
      {"OwsTrimmed",
       "POST /api/publish HTTP/1.1\r\nA:v\r\nB: \t v w \t \r\nC:\r\nD:   \r\n\r\n",
       "POST",
       "/api/publish",
       1,
       {{"A", "v"}, {"B", "v w"}, {"C", ""}, {"D", ""}}},
      {"TokenChars",
       "M-1!#$%&'*+.^_`|~ * HTTP/1.1\r\nX-!#$%&'*+.^_`|~: 1\r\n\r\n",
       "M-1!#$%&'*+.^_`|~",
       "*",
       1,
       {{"X-!#$%&'*+.^_`|~", "1"}}},
      {"AbsoluteForm", "GET http://a.example:80/p?q=1#f HTTP/1.1\r\n\r\n", "GET", "http://a.example:80/p?q=1#f", 1, {}},
      {"ObsTextInValue", "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", "GET", "/", 1, {{"X", "caf\xc3\xa9"}}},
      {"ColonInValue",
       "GET / HTTP/1.1\r\nHost: a:8080\r\nX: a: b\r\n\r\n",
       "GET",
       "/",
       1,
       {{"Host", "a:8080"}, {"X", "a: b"}}},
      {"TabInsideValue", "GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", "GET", "/", 1, {{"X", "a\tb"}}},
      {"RepeatedFields",
       "GET / HTTP/1.1\r\nConnection: keep-alive\r\nconnection: Upgrade\r\n\r\n",
       "GET",
       "/",
       1,
       {{"Connection", "keep-alive"}, {"connection", "Upgrade"}}},
  };
}

Parsed expected_for(const GoodCase& c) {
  Parsed parsed;
  parsed.status = ParseStatus::kComplete;
  parsed.head_size = c.input.size();
  parsed.method = c.method;
  parsed.target = c.target;
  parsed.minor_version = c.minor_version;
  parsed.headers = c.headers;
  return parsed;
}

TEST(RequestParserTest, GoodRequestsParseWhole) {
  for (const GoodCase& c : good_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parse_whole(c.input), expected_for(c));
  }
}

TEST(RequestParserTest, GoodRequestsParseAtEverySplit) {
  for (const GoodCase& c : good_cases()) {
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      SCOPED_TRACE(std::string(c.name) + " split at " + std::to_string(split));
      EXPECT_EQ(parse_chunks(c.input, {split}), expected_for(c));
    }
  }
}

TEST(RequestParserTest, GoodRequestsParseByteByByte) {
  for (const GoodCase& c : good_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parse_bytewise(c.input), expected_for(c));
  }
}

TEST(RequestParserTest, IncompleteUntilTheEmptyLine) {
  const std::string input = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (std::size_t size = 0; size < input.size(); ++size) {
    RequestParser parser;
    Request request;
    EXPECT_EQ(parser.parse(std::string_view(input).substr(0, size), request), ParseStatus::kIncomplete) << size;
    EXPECT_EQ(parser.error(), ParseError::kNone);
  }
}

struct BadCase {
  const char* name;
  std::string input;
  ParseError error;
  int status;
};

std::vector<BadCase> bad_cases() {
  const std::string host = "Host: a\r\n";
  return {
      {"LeadingEmptyLine", "\r\nGET / HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"LeadingBareLf", "\nGET / HTTP/1.1\r\n\r\n", ParseError::kBareLineFeed, 400},
      {"LeadingSpace", " GET / HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"NoSpaces", "GET\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"NoVersion", "GET /\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"DoubleSpaceAfterMethod", "GET  / HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"DoubleSpaceAfterTarget", "GET /  HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"TrailingSpace", "GET / HTTP/1.1 \r\n\r\n", ParseError::kBadRequestLine, 400},
      {"TabSeparator", "GET\t/ HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"MethodNotToken", "GE(T / HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"TargetControlChar", "GET /a\x01 HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"TargetDel", "GET /a\x7f HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"TargetNonAscii", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"TargetCr", "GET /a\rb HTTP/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"TargetNul", std::string("GET /a\0b HTTP/1.1\r\n\r\n", 22), ParseError::kBadRequestLine, 400},
      {"LowercaseVersion", "GET / http/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"VersionNoMinor", "GET / HTTP/1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"VersionTwoDigitMinor", "GET / HTTP/1.10\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"VersionGarbage", "GET / HTTQ/1.1\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"Http2", "GET / HTTP/2.0\r\n\r\n", ParseError::kUnsupportedVersion, 505},
      {"Http09", "GET / HTTP/0.9\r\n\r\n", ParseError::kUnsupportedVersion, 505},
      {"Http30", "GET / HTTP/3.0\r\n" + host + "\r\n", ParseError::kUnsupportedVersion, 505},
      {"BareLfRequestLine", "GET / HTTP/1.1\n\n", ParseError::kBareLineFeed, 400},
      {"BareLfHeader", "GET / HTTP/1.1\r\nHost: a\n\r\n", ParseError::kBareLineFeed, 400},
      {"BareLfEndOfHead", "GET / HTTP/1.1\r\nHost: a\r\n\n", ParseError::kBareLineFeed, 400},
      {"CrCrLf", "GET / HTTP/1.1\r\r\n\r\n", ParseError::kBadRequestLine, 400},
      {"BareCrInValue", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", ParseError::kBadHeader, 400},
      {"ObsFoldSpace", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", ParseError::kBadHeader, 400},
      {"ObsFoldTab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", ParseError::kBadHeader, 400},
      {"SpaceBeforeFirstHeader", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", ParseError::kBadHeader, 400},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ParseError::kBadHeader, 400},
      {"NegativeContentLength", "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", ParseError::kBadContentLength, 400},
      {"HugeContentLength", "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       ParseError::kBadContentLength, 400},
      {"ListContentLength", "GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", ParseError::kBadContentLength, 400},
      {"EmptyContentLength", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", ParseError::kBadContentLength, 400},
      {"SignedContentLength", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", ParseError::kBadContentLength, 400},
      {"HexContentLength", "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", ParseError::kBadContentLength, 400},
      {"SpaceInContentLength", "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", ParseError::kBadContentLength, 400},
      {"ConflictingContentLength", "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n",
       ParseError::kConflictingContentLength, 400},
      {"ConflictingAfterAgreeing",
       "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n",
       ParseError::kConflictingContentLength, 400},
      {"BadSecondContentLength", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: five\r\n\r\n",
       ParseError::kBadContentLength, 400},
      {"TabBeforeColon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", ParseError::kBadHeader, 400},
      {"NoColon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", ParseError::kBadHeader, 400},
      {"EmptyName", "GET / HTTP/1.1\r\n: a\r\n\r\n", ParseError::kBadHeader, 400},
      {"NameNotToken", "GET / HTTP/1.1\r\nX(y): a\r\n\r\n", ParseError::kBadHeader, 400},
      {"NameNonAscii", "GET / HTTP/1.1\r\nX\xc3\xa9: a\r\n\r\n", ParseError::kBadHeader, 400},
      {"ValueControlChar", "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", ParseError::kBadHeader, 400},
      {"ValueNul", std::string("GET / HTTP/1.1\r\nX: a\0\r\n\r\n", 25), ParseError::kBadHeader, 400},
      {"ValueDel", "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", ParseError::kBadHeader, 400},
      {"ValueEscape", "GET / HTTP/1.1\r\nX: \x1b[31m\r\n\r\n", ParseError::kBadHeader, 400},
      {"DuplicateHost", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", ParseError::kBadHeader, 400},
  };
}

TEST(RequestParserTest, BadRequestsFailWhole) {
  for (const BadCase& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    const Parsed parsed = parse_whole(c.input);
    EXPECT_EQ(parsed.status, ParseStatus::kFailed);
    EXPECT_EQ(parsed.error, c.error);
    EXPECT_EQ(status_for(parsed.error), c.status);
  }
}

TEST(RequestParserTest, BadRequestsFailTheSameAtEverySplitAndByteByByte) {
  for (const BadCase& c : bad_cases()) {
    const Parsed whole = parse_whole(c.input);
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      SCOPED_TRACE(std::string(c.name) + " split at " + std::to_string(split));
      EXPECT_EQ(parse_chunks(c.input, {split}), whole);
    }
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parse_bytewise(c.input), whole);
  }
}

TEST(RequestParserTest, BadRequestLineFailsBeforeTheHeadEnds) {
  RequestParser parser;
  Request request;
  EXPECT_EQ(parser.parse("GET  / HTTP/1.1\r\nHost", request), ParseStatus::kFailed);
  EXPECT_EQ(parser.error(), ParseError::kBadRequestLine);
}

// A head of exactly `size` bytes: the padding goes into one header value.
std::string head_of_size(std::size_t size) {
  const std::string prefix = "GET / HTTP/1.1\r\nX: ";
  const std::string suffix = "\r\n\r\n";
  return prefix + std::string(size - prefix.size() - suffix.size(), 'a') + suffix;
}

TEST(RequestParserTest, HeadExactlyAtTheLimitPasses) {
  const std::string input = head_of_size(8 * 1024);
  const Parsed parsed = parse_whole(input);
  EXPECT_EQ(parsed.status, ParseStatus::kComplete);
  EXPECT_EQ(parsed.head_size, 8u * 1024);
  EXPECT_EQ(parse_bytewise(input), parsed);
}

TEST(RequestParserTest, HeadOneByteOverTheLimitFails) {
  const std::string input = head_of_size(8 * 1024 + 1);
  const Parsed parsed = parse_whole(input);
  EXPECT_EQ(parsed.status, ParseStatus::kFailed);
  EXPECT_EQ(parsed.error, ParseError::kHeadTooLarge);
  EXPECT_EQ(status_for(parsed.error), 431);
  EXPECT_EQ(parse_bytewise(input), parsed);
}

TEST(RequestParserTest, HeadLimitTriggersAsSoonAsTheBufferExceedsIt) {
  // No line feed at all: the parser must not wait for the end of the head.
  std::string input = "GET /" + std::string(8 * 1024, 'a');
  RequestParser parser;
  Request request;
  EXPECT_EQ(parser.parse(std::string_view(input).substr(0, 8 * 1024), request), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.parse(std::string_view(input).substr(0, 8 * 1024 + 1), request), ParseStatus::kFailed);
  EXPECT_EQ(parser.error(), ParseError::kHeadTooLarge);
}

TEST(RequestParserTest, HeadLimitIgnoresBytesAfterACompleteHead) {
  // A head within the limit followed by frame bytes that push the buffer
  // past it is still a complete head.
  const std::string head = head_of_size(8 * 1024);
  const std::string input = head + "\x81\x80\x00\x00\x00\x00";
  const Parsed parsed = parse_whole(input);
  EXPECT_EQ(parsed.status, ParseStatus::kComplete);
  EXPECT_EQ(parsed.head_size, head.size());
}

TEST(RequestParserTest, CustomHeadLimit) {
  const std::string input = "GET / HTTP/1.1\r\n\r\n";  // 18 bytes
  EXPECT_EQ(parse_whole(input, Limits{18, 100}).status, ParseStatus::kComplete);
  const Parsed over = parse_whole(input, Limits{17, 100});
  EXPECT_EQ(over.status, ParseStatus::kFailed);
  EXPECT_EQ(over.error, ParseError::kHeadTooLarge);
}

std::string request_with_headers(std::size_t count) {
  std::string input = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < count; ++i) input += "X-" + std::to_string(i) + ": v\r\n";
  return input + "\r\n";
}

TEST(RequestParserTest, HundredHeadersPass) {
  const std::string input = request_with_headers(100);
  const Parsed parsed = parse_whole(input);
  ASSERT_EQ(parsed.status, ParseStatus::kComplete);
  EXPECT_EQ(parsed.headers.size(), 100u);
  EXPECT_EQ(parsed.headers.back(), std::make_pair(std::string("X-99"), std::string("v")));
  EXPECT_EQ(parse_bytewise(input), parsed);
}

TEST(RequestParserTest, HundredAndOneHeadersFail) {
  const std::string input = request_with_headers(101);
  const Parsed parsed = parse_whole(input);
  EXPECT_EQ(parsed.status, ParseStatus::kFailed);
  EXPECT_EQ(parsed.error, ParseError::kTooManyHeaders);
  EXPECT_EQ(status_for(parsed.error), 431);
  EXPECT_EQ(parse_bytewise(input), parsed);
}

TEST(RequestParserTest, TooManyHeadersFailsBeforeTheHeadEnds) {
  RequestParser parser(Limits{8 * 1024, 2});
  Request request;
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n", request), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n", request), ParseStatus::kFailed);
  EXPECT_EQ(parser.error(), ParseError::kTooManyHeaders);
}

TEST(RequestParserTest, BytesAfterTheHeadAreLeftUnconsumed) {
  const std::string head = "GET /ws HTTP/1.1\r\nHost: a\r\n\r\n";
  // A masked text frame "Hi" sent right behind the upgrade request, and a
  // second request head (which must not be parsed as part of this one).
  const std::string frame = std::string("\x81\x82\x01\x02\x03\x04", 6) + "Ij";
  const std::string input = head + frame + "GET / HTTP/1.1\r\n\r\n";
  for (std::size_t split = 0; split <= input.size(); ++split) {
    SCOPED_TRACE(split);
    const Parsed parsed = parse_chunks(input, {split});
    ASSERT_EQ(parsed.status, ParseStatus::kComplete);
    EXPECT_EQ(parsed.head_size, head.size());
    EXPECT_EQ(parsed.target, "/ws");
    EXPECT_EQ(parsed.headers.size(), 1u);
  }
}

TEST(RequestParserTest, ResultIsStickyUntilReset) {
  RequestParser parser;
  Request request;
  const std::string first = "GET /a HTTP/1.1\r\n\r\nrest";
  ASSERT_EQ(parser.parse(first, request), ParseStatus::kComplete);
  Request again;
  EXPECT_EQ(parser.parse(first, again), ParseStatus::kComplete);
  EXPECT_EQ(again.target, "/a");
  EXPECT_EQ(parser.head_size(), 19u);

  parser.reset();
  EXPECT_EQ(parser.head_size(), 0u);
  EXPECT_EQ(parser.parse("GET  /", request), ParseStatus::kIncomplete);
  EXPECT_EQ(parser.parse("GET  / HTTP/1.1\r\n", request), ParseStatus::kFailed);
  EXPECT_EQ(parser.parse("GET  / HTTP/1.1\r\n\r\n", request), ParseStatus::kFailed);
  EXPECT_EQ(parser.error(), ParseError::kBadRequestLine);

  parser.reset();
  EXPECT_EQ(parser.error(), ParseError::kNone);
  ASSERT_EQ(parser.parse("POST /b HTTP/1.1\r\nHost: h\r\n\r\n", request), ParseStatus::kComplete);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/b");
  ASSERT_EQ(request.headers.size(), 1u);
}

TEST(RequestParserTest, OutIsUntouchedUntilComplete) {
  RequestParser parser;
  Request request;
  request.method = "SENTINEL";
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n", request), ParseStatus::kIncomplete);
  EXPECT_EQ(request.method, "SENTINEL");
}

TEST(RequestTest, HeaderLookupIsCaseInsensitive) {
  RequestParser parser;
  Request request;
  const std::string input = "GET /ws?token=abc&x=1 HTTP/1.1\r\nHost: a\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\n";
  ASSERT_EQ(parser.parse(input, request), ParseStatus::kComplete);
  EXPECT_EQ(request.header("host"), "a");
  EXPECT_EQ(request.header("HOST"), "a");
  EXPECT_EQ(request.header("X-TWICE"), "1");
  EXPECT_EQ(request.header("Missing"), "");
  EXPECT_TRUE(request.has_header("x-twice"));
  EXPECT_FALSE(request.has_header("Hos"));
  EXPECT_EQ(request.path(), "/ws");
}

TEST(RequestTest, PathWithoutQuery) {
  Request request;
  request.target = "/plain";
  EXPECT_EQ(request.path(), "/plain");
  request.target = "/?";
  EXPECT_EQ(request.path(), "/");
  request.target = "*";
  EXPECT_EQ(request.path(), "*");
}

TEST(RequestParserTest, StatusAndDescriptionForEveryError) {
  const std::vector<std::pair<ParseError, int>> expected = {
      {ParseError::kNone, 200},
      {ParseError::kHeadTooLarge, 431},
      {ParseError::kTooManyHeaders, 431},
      {ParseError::kBadRequestLine, 400},
      {ParseError::kBadHeader, 400},
      {ParseError::kUnsupportedVersion, 505},
      {ParseError::kBareLineFeed, 400},
      {ParseError::kBadContentLength, 400},
      {ParseError::kConflictingContentLength, 400},
      {ParseError::kBodyTooLarge, 413},
      {ParseError::kTransferEncodingUnsupported, 501},
  };
  for (const auto& [error, status] : expected) {
    EXPECT_EQ(status_for(error), status);
    EXPECT_STRNE(describe(error), "");
    EXPECT_STRNE(describe(error), "unknown error");
  }
}

// The body phase: parse() until the head is complete, then parse_body() on
// the same growing buffer, as the server does. Copied out like Parsed.
struct ParsedMessage {
  ParseStatus head_status = ParseStatus::kIncomplete;
  ParseStatus body_status = ParseStatus::kIncomplete;
  ParseError error = ParseError::kNone;
  std::uint64_t content_length = 0;
  std::size_t message_size = 0;
  std::string target;
  std::string body;
  std::string last_header_value;  // checks the head's views were refilled too

  bool operator==(const ParsedMessage&) const = default;
};

ParsedMessage snapshot_message(ParseStatus head, ParseStatus body, const RequestParser& parser,
                               const Request& request) {
  ParsedMessage parsed;
  parsed.head_status = head;
  parsed.body_status = body;
  parsed.error = parser.error();
  if (head != ParseStatus::kComplete) return parsed;
  parsed.content_length = request.content_length;
  parsed.message_size = parser.message_size();
  if (body != ParseStatus::kComplete) return parsed;
  parsed.target = std::string(request.target);
  parsed.body = std::string(request.body);
  if (!request.headers.empty()) parsed.last_header_value = std::string(request.headers.back().value);
  return parsed;
}

// Feeds input in the given chunk sizes (the last takes the rest) into a
// buffer that moves as it grows.
ParsedMessage parse_message_chunks(std::string_view input, const std::vector<std::size_t>& chunks, Limits limits = {}) {
  RequestParser parser(limits);
  Request request;
  std::string buffer;
  std::size_t offset = 0;
  ParseStatus head = ParseStatus::kIncomplete;
  ParseStatus body = ParseStatus::kIncomplete;
  for (std::size_t i = 0; offset < input.size() || i == 0; ++i) {
    const std::size_t size = i < chunks.size() ? chunks[i] : input.size() - offset;
    buffer.append(input.substr(offset, size));
    offset += std::min(size, input.size() - offset);
    if (head != ParseStatus::kComplete) head = parser.parse(buffer, request);
    if (head == ParseStatus::kFailed) break;
    if (head == ParseStatus::kComplete) body = parser.parse_body(buffer, request);
    if (body != ParseStatus::kIncomplete) break;
    buffer.shrink_to_fit();  // force the next append to move the bytes
  }
  return snapshot_message(head, body, parser, request);
}

ParsedMessage parse_message_whole(std::string_view input, Limits limits = {}) {
  return parse_message_chunks(input, {input.size()}, limits);
}

struct BodyCase {
  const char* name;
  std::string input;
  std::string body;
  std::uint64_t content_length;
};

std::vector<BodyCase> body_cases() {
  return {
      {"NoContentLength", "POST /a HTTP/1.1\r\nHost: h\r\n\r\n", "", 0},
      {"ZeroLength", "POST /a HTTP/1.1\r\nContent-Length: 0\r\nHost: h\r\n\r\n", "", 0},
      {"Json", "POST /a HTTP/1.1\r\nContent-Length: 13\r\nHost: h\r\n\r\n{\"x\":[1,2,3]}", "{\"x\":[1,2,3]}", 13},
      {"LeadingZeros", "POST /a HTTP/1.1\r\nContent-Length: 0004\r\nHost: h\r\n\r\nabcd", "abcd", 4},
      {"RepeatedAgreeing", "POST /a HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 003\r\nHost: h\r\n\r\nxyz", "xyz",
       3},
      {"BodyOfCrLfs", "POST /a HTTP/1.1\r\nContent-Length: 4\r\nHost: h\r\n\r\n\r\n\r\n", "\r\n\r\n", 4},
      {"BytesAfterTheBody", "POST /a HTTP/1.1\r\nContent-Length: 2\r\nHost: h\r\n\r\nokGET / HTTP/1.1\r\n\r\n", "ok",
       2},
      {"GetWithABody", "GET /a HTTP/1.1\r\nContent-Length: 1\r\nHost: h\r\n\r\n!", "!", 1},
  };
}

ParsedMessage expected_message(const BodyCase& c) {
  ParsedMessage parsed;
  parsed.head_status = ParseStatus::kComplete;
  parsed.body_status = ParseStatus::kComplete;
  parsed.content_length = c.content_length;
  parsed.message_size = c.input.find("\r\n\r\n") + 4 + c.body.size();
  parsed.target = "/a";
  parsed.body = c.body;
  parsed.last_header_value = "h";
  return parsed;
}

TEST(RequestParserBodyTest, BodiesParseWhole) {
  for (const BodyCase& c : body_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parse_message_whole(c.input), expected_message(c));
  }
}

TEST(RequestParserBodyTest, BodiesParseAtEverySplit) {
  for (const BodyCase& c : body_cases()) {
    for (std::size_t split = 0; split <= c.input.size(); ++split) {
      SCOPED_TRACE(std::string(c.name) + " split at " + std::to_string(split));
      EXPECT_EQ(parse_message_chunks(c.input, {split}), expected_message(c));
    }
  }
}

TEST(RequestParserBodyTest, BodiesParseAtEveryPairOfSplits) {
  const BodyCase c = body_cases()[2];  // Json
  for (std::size_t first = 0; first <= c.input.size(); ++first) {
    for (std::size_t second = 0; first + second <= c.input.size(); ++second) {
      SCOPED_TRACE(std::to_string(first) + " then " + std::to_string(second));
      EXPECT_EQ(parse_message_chunks(c.input, {first, second}), expected_message(c));
    }
  }
}

TEST(RequestParserBodyTest, BodiesParseByteByByte) {
  for (const BodyCase& c : body_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(parse_message_chunks(c.input, std::vector<std::size_t>(c.input.size(), 1)), expected_message(c));
  }
}

TEST(RequestParserBodyTest, IncompleteUntilTheLastBodyByte) {
  const std::string input = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  const std::size_t head = input.size() - 5;
  RequestParser parser;
  Request request;
  ASSERT_EQ(parser.parse(std::string_view(input).substr(0, head), request), ParseStatus::kComplete);
  for (std::size_t size = head; size < input.size(); ++size) {
    EXPECT_EQ(parser.parse_body(std::string_view(input).substr(0, size), request), ParseStatus::kIncomplete) << size;
    EXPECT_EQ(request.body, "");
    EXPECT_EQ(parser.message_size(), 0u);
  }
  EXPECT_EQ(parser.parse_body(input, request), ParseStatus::kComplete);
  EXPECT_EQ(request.body, "hello");
  EXPECT_EQ(parser.message_size(), input.size());
  // Sticky, and the views follow the buffer it is given.
  const std::string moved = input;
  EXPECT_EQ(parser.parse_body(moved, request), ParseStatus::kComplete);
  EXPECT_EQ(request.body.data(), moved.data() + head);
  EXPECT_EQ(request.method.data(), moved.data());
}

struct BodyRefusal {
  const char* name;
  std::string head;
  ParseError error;
  int status;
};

std::vector<BodyRefusal> body_refusals() {
  return {
      {"Chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", ParseError::kTransferEncodingUnsupported,
       501},
      {"AnyCoding", "POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
       ParseError::kTransferEncodingUnsupported, 501},
      {"EmptyCoding", "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", ParseError::kTransferEncodingUnsupported, 501},
      // RFC 9112 §6.3 item 3: both is a smuggling attempt; never read by length.
      {"ChunkedAndLength", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       ParseError::kTransferEncodingUnsupported, 501},
      {"OneOverTheLimit", "POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", ParseError::kBodyTooLarge, 413},
      {"Huge", "POST / HTTP/1.1\r\nContent-Length: 999999999999999999\r\n\r\n", ParseError::kBodyTooLarge, 413},
  };
}

TEST(RequestParserBodyTest, RefusedFromTheHeadAloneAtEverySplit) {
  for (const BodyRefusal& c : body_refusals()) {
    // Body bytes after the head change nothing: the answer does not wait.
    const std::string input = c.head + "abc";
    for (std::size_t split = 0; split <= input.size(); ++split) {
      SCOPED_TRACE(std::string(c.name) + " split at " + std::to_string(split));
      const ParsedMessage parsed = parse_message_chunks(input, {split});
      EXPECT_EQ(parsed.head_status, ParseStatus::kComplete);
      EXPECT_EQ(parsed.body_status, ParseStatus::kFailed);
      EXPECT_EQ(parsed.error, c.error);
      EXPECT_EQ(status_for(parsed.error), c.status);
    }
    RequestParser parser;
    Request request;
    ASSERT_EQ(parser.parse(c.head, request), ParseStatus::kComplete);
    EXPECT_EQ(parser.parse_body(c.head, request), ParseStatus::kFailed);  // no body byte needed
    EXPECT_EQ(parser.parse_body(input, request), ParseStatus::kFailed);   // sticky
    EXPECT_EQ(parser.error(), c.error);
  }
}

TEST(RequestParserBodyTest, BodyLimitIsInclusive) {
  Limits limits;
  limits.max_body_size = 4;
  const ParsedMessage at = parse_message_whole("POST /a HTTP/1.1\r\nContent-Length: 4\r\nHost: h\r\n\r\nabcd", limits);
  EXPECT_EQ(at.body_status, ParseStatus::kComplete);
  EXPECT_EQ(at.body, "abcd");
  const ParsedMessage over = parse_message_whole("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\n", limits);
  EXPECT_EQ(over.body_status, ParseStatus::kFailed);
  EXPECT_EQ(over.error, ParseError::kBodyTooLarge);
  limits.max_body_size = 0;
  EXPECT_EQ(parse_message_whole("POST /a HTTP/1.1\r\n\r\n", limits).body_status, ParseStatus::kComplete);
}

TEST(RequestParserBodyTest, ContentLengthIsReportedWithTheHead) {
  RequestParser parser;
  Request request;
  ASSERT_EQ(parser.parse("POST / HTTP/1.1\r\nContent-Length: 123456789012345678\r\n\r\n", request),
            ParseStatus::kComplete);
  EXPECT_EQ(request.content_length, 123456789012345678u);
  EXPECT_EQ(request.body, "");
}

TEST(RequestParserBodyTest, ResetForgetsTheBody) {
  RequestParser parser;
  Request request;
  const std::string first = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n";
  ASSERT_EQ(parser.parse(first, request), ParseStatus::kComplete);
  ASSERT_EQ(parser.parse_body(first, request), ParseStatus::kFailed);
  parser.reset();
  EXPECT_EQ(parser.error(), ParseError::kNone);
  const std::string second = "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok";
  ASSERT_EQ(parser.parse(second, request), ParseStatus::kComplete);
  ASSERT_EQ(parser.parse_body(second, request), ParseStatus::kComplete);
  EXPECT_EQ(request.body, "ok");
  parser.reset();
  const std::string third = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(parser.parse(third, request), ParseStatus::kComplete);
  EXPECT_EQ(request.content_length, 0u);
  EXPECT_EQ(parser.parse_body(third, request), ParseStatus::kComplete);
  EXPECT_EQ(request.body, "");
}

TEST(RequestParserTest, TokenAndCaseHelpers) {
  EXPECT_TRUE(iequals("Sec-WebSocket-Key", "sec-websocket-key"));
  EXPECT_FALSE(iequals("Host", "Hos"));
  EXPECT_FALSE(iequals("a@", "a`"));  // 0x40 and 0x60 differ only in the case bit but are not letters
  EXPECT_TRUE(is_tchar('~'));
  EXPECT_FALSE(is_tchar(' '));
  EXPECT_FALSE(is_tchar(':'));
  EXPECT_FALSE(is_tchar('\x80'));
}

}  // namespace
}  // namespace switchboard::http
