#include "http/upgrade.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::http {
namespace {

constexpr const char* kValidHead =
    "GET /chat HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// Parses a head (which must be well-formed) and keeps the buffer alive.
struct Parsed {
  explicit Parsed(std::string head) : buffer(std::move(head)) {
    RequestParser parser;
    status = parser.parse(buffer, request);
  }
  std::string buffer;
  Request request;
  ParseStatus status;
};

// The valid head with one field line replaced (or removed when `line` is
// empty); `name` is matched at the start of a line.
std::string with_line(std::string_view name, std::string_view line) {
  std::string head = kValidHead;
  const std::size_t begin = head.find("\r\n" + std::string(name) + ":") + 2;
  const std::size_t end = head.find("\r\n", begin) + 2;
  head.replace(begin, end - begin, line.empty() ? std::string() : std::string(line) + "\r\n");
  return head;
}

// Copies the key out: the view points into the parsed buffer, gone on return.
UpgradeError validate(const std::string& head, std::string* key = nullptr) {
  Parsed parsed(head);
  EXPECT_EQ(parsed.status, ParseStatus::kComplete) << head;
  std::string_view view;
  const UpgradeError error = validate_upgrade(parsed.request, &view);
  if (key != nullptr && error == UpgradeError::kNone) *key = std::string(view);
  return error;
}

TEST(UpgradeTest, ValidRequestPassesAndYieldsTheKey) {
  Parsed parsed(kValidHead);
  ASSERT_EQ(parsed.status, ParseStatus::kComplete);
  EXPECT_TRUE(wants_websocket(parsed.request));
  std::string_view key;
  EXPECT_EQ(validate_upgrade(parsed.request, &key), UpgradeError::kNone);
  EXPECT_EQ(key, "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(validate_upgrade(parsed.request, nullptr), UpgradeError::kNone);
}

TEST(UpgradeTest, BrowserStyleRequestPasses) {
  std::string head =
      "GET /ws?token=abc HTTP/1.1\r\n"
      "Host: localhost:8080\r\n"
      "Connection: keep-alive, Upgrade\r\n"
      "Upgrade: WebSocket\r\n"
      "Origin: http://localhost:8080\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
      "Sec-WebSocket-Protocol: switchboard.v1.json\r\n"
      "\r\n";
  std::string key;
  EXPECT_EQ(validate(head, &key), UpgradeError::kNone);
  EXPECT_EQ(key, "x3JJHMbDL1EzLkh9GBhXDw==");
}

struct ErrorCase {
  const char* name;
  std::string head;
  UpgradeError error;
  int status;
};

std::vector<ErrorCase> error_cases() {
  std::string post = kValidHead;
  post.replace(0, 3, "POST");
  std::string lower_get = kValidHead;
  lower_get.replace(0, 3, "get");
  std::string http10 = kValidHead;
  http10.replace(http10.find("HTTP/1.1"), 8, "HTTP/1.0");
  return {
      {"Post", post, UpgradeError::kMethodNotGet, 405},
      {"LowercaseGet", lower_get, UpgradeError::kMethodNotGet, 405},
      {"Http10", http10, UpgradeError::kVersionNotHttp11, 400},
      {"NoHost", with_line("Host", ""), UpgradeError::kMissingHost, 400},
      {"EmptyHost", with_line("Host", "Host:"), UpgradeError::kMissingHost, 400},
      {"NoUpgrade", with_line("Upgrade", ""), UpgradeError::kMissingUpgrade, 400},
      {"UpgradeOtherProtocol", with_line("Upgrade", "Upgrade: h2c"), UpgradeError::kMissingUpgrade, 400},
      {"UpgradeVersionedToken", with_line("Upgrade", "Upgrade: websocket/13"), UpgradeError::kMissingUpgrade, 400},
      {"NoConnection", with_line("Connection", ""), UpgradeError::kMissingConnection, 400},
      {"ConnectionKeepAlive", with_line("Connection", "Connection: keep-alive"), UpgradeError::kMissingConnection, 400},
      {"ConnectionSubstring", with_line("Connection", "Connection: Upgraded"), UpgradeError::kMissingConnection, 400},
      {"NoVersion", with_line("Sec-WebSocket-Version", ""), UpgradeError::kUnsupportedVersion, 426},
      {"Version8", with_line("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), UpgradeError::kUnsupportedVersion,
       426},
      {"VersionList", with_line("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13, 8"),
       UpgradeError::kUnsupportedVersion, 426},
      {"VersionTwice", with_line("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Version: 13"),
       UpgradeError::kUnsupportedVersion, 426},
      {"NoKey", with_line("Sec-WebSocket-Key", ""), UpgradeError::kBadKey, 400},
      {"EmptyKey", with_line("Sec-WebSocket-Key", "Sec-WebSocket-Key:"), UpgradeError::kBadKey, 400},
      {"ShortKey", with_line("Sec-WebSocket-Key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ="), UpgradeError::kBadKey,
       400},
      {"KeyOf15Bytes", with_line("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"), UpgradeError::kBadKey,
       400},
      {"KeyOf17Bytes", with_line("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="),
       UpgradeError::kBadKey, 400},
      {"KeyTwice",
       with_line("Sec-WebSocket-Key",
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="),
       UpgradeError::kBadKey, 400},
      {"BodyByLength", with_line("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\nContent-Length: 5"),
       UpgradeError::kUnexpectedBody, 400},
      {"BodyByTransferEncoding",
       with_line("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\nTransfer-Encoding: chunked"),
       UpgradeError::kUnexpectedBody, 400},
  };
}

TEST(UpgradeTest, ZeroContentLengthIsNoBody) {
  EXPECT_EQ(validate(with_line("Sec-WebSocket-Version", "Sec-WebSocket-Version: 13\r\nContent-Length: 0")),
            UpgradeError::kNone);
}

TEST(UpgradeTest, EveryErrorWithItsStatus) {
  for (const ErrorCase& c : error_cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(validate(c.head), c.error);
    EXPECT_EQ(status_for(c.error), c.status);
  }
}

TEST(UpgradeTest, KeyIsNotWrittenOnFailure) {
  Parsed parsed(with_line("Sec-WebSocket-Key", ""));
  std::string_view key = "untouched";
  EXPECT_EQ(validate_upgrade(parsed.request, &key), UpgradeError::kBadKey);
  EXPECT_EQ(key, "untouched");
}

TEST(UpgradeTest, ChecksRunInRfcOrder) {
  // A POST with nothing else right still reports the method first.
  EXPECT_EQ(validate("POST / HTTP/1.0\r\n\r\n"), UpgradeError::kMethodNotGet);
  EXPECT_EQ(validate("GET / HTTP/1.0\r\n\r\n"), UpgradeError::kVersionNotHttp11);
  EXPECT_EQ(validate("GET / HTTP/1.1\r\n\r\n"), UpgradeError::kMissingHost);
  EXPECT_EQ(validate("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), UpgradeError::kMissingUpgrade);
  EXPECT_EQ(validate("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"), UpgradeError::kMissingConnection);
  EXPECT_EQ(validate("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"),
            UpgradeError::kUnsupportedVersion);
  EXPECT_EQ(validate("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n"),
            UpgradeError::kBadKey);
}

TEST(UpgradeTest, TokensMaySpreadOverSeveralFieldLines) {
  EXPECT_EQ(validate(with_line("Connection", "Connection: keep-alive\r\nConnection: Upgrade")), UpgradeError::kNone);
  EXPECT_EQ(validate(with_line("Upgrade", "Upgrade: h2c\r\nupgrade: WEBSOCKET")), UpgradeError::kNone);
  EXPECT_EQ(validate(with_line("Upgrade", "Upgrade: h2c, websocket")), UpgradeError::kNone);
}

TEST(UpgradeTest, WantsWebsocket) {
  EXPECT_TRUE(wants_websocket(Parsed("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").request));
  EXPECT_TRUE(wants_websocket(Parsed("POST / HTTP/1.0\r\nupgrade: foo, WebSocket\r\n\r\n").request));
  EXPECT_FALSE(wants_websocket(Parsed("GET / HTTP/1.1\r\nHost: a\r\n\r\n").request));
  EXPECT_FALSE(wants_websocket(Parsed("GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n").request));
  EXPECT_FALSE(wants_websocket(Parsed("GET / HTTP/1.1\r\nX-Upgrade: websocket\r\n\r\n").request));
}

TEST(UpgradeTest, HeaderHasTokenEdgeCases) {
  EXPECT_TRUE(header_has_token("Upgrade", "upgrade"));
  EXPECT_TRUE(header_has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(header_has_token("keep-alive,Upgrade", "upgrade"));
  EXPECT_TRUE(header_has_token("UPGRADE , keep-alive", "upgrade"));
  EXPECT_TRUE(header_has_token(" \tupgrade\t ", "upgrade"));
  EXPECT_TRUE(header_has_token(",,upgrade,,", "upgrade"));
  EXPECT_TRUE(header_has_token("a, b, c", "c"));
  EXPECT_FALSE(header_has_token("", "upgrade"));
  EXPECT_FALSE(header_has_token(",", "upgrade"));
  EXPECT_FALSE(header_has_token("upgraded", "upgrade"));
  EXPECT_FALSE(header_has_token("upgrad", "upgrade"));
  EXPECT_FALSE(header_has_token("keep-alive upgrade", "upgrade"));
  EXPECT_FALSE(header_has_token("\"upgrade\"", "upgrade"));
  EXPECT_FALSE(header_has_token("upgrade;q=1", "upgrade"));
  EXPECT_FALSE(header_has_token("keep-alive", "upgrade"));
}

TEST(UpgradeTest, KeyValidation) {
  EXPECT_TRUE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(is_valid_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_TRUE(is_valid_key("/////////////////////w=="));
  EXPECT_TRUE(is_valid_key("+++++++++++++++++++++g=="));
  EXPECT_FALSE(is_valid_key(""));
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ="));    // 23 characters
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ==="));  // 25 characters
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZQAA"));   // no padding
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZR=="));   // non-zero unused bits
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25j=Q=="));   // padding inside
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZ-=="));   // URL-safe alphabet
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25jZ_=="));
  EXPECT_FALSE(is_valid_key("dGhlIHNhbXBsZSBub25 jZQ="));  // space
  EXPECT_FALSE(is_valid_key("AAAAAAAAAAAAAAAAAAAAAAA="));  // 17 bytes
  EXPECT_FALSE(is_valid_key(std::string_view("dGhlIHNhbXBsZSBub25jZQ=\0", 24)));
}

TEST(UpgradeTest, AcceptKeyMatchesRfc6455Example) {
  // RFC 6455 §1.3.
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // RFC 6455 §1.2 (the example handshake's key).
  EXPECT_EQ(accept_key("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST(UpgradeTest, StatusAndDescriptionForEveryError) {
  const std::vector<std::pair<UpgradeError, int>> expected = {
      {UpgradeError::kNone, 101},
      {UpgradeError::kMethodNotGet, 405},
      {UpgradeError::kVersionNotHttp11, 400},
      {UpgradeError::kMissingHost, 400},
      {UpgradeError::kMissingUpgrade, 400},
      {UpgradeError::kMissingConnection, 400},
      {UpgradeError::kUnsupportedVersion, 426},
      {UpgradeError::kBadKey, 400},
      {UpgradeError::kUnexpectedBody, 400},
  };
  for (const auto& [error, status] : expected) {
    EXPECT_EQ(status_for(error), status);
    EXPECT_STRNE(describe(error), "");
    EXPECT_STRNE(describe(error), "unknown error");
  }
}

}  // namespace
}  // namespace switchboard::http
