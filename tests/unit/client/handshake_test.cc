// The client handshake: the request we send passes the server's own
// checks, and every RFC 6455 §4.1 failure of a response is caught.
#include "client/handshake.h"

#include <string>

#include <gtest/gtest.h>

#include "http/request_parser.h"
#include "http/response.h"
#include "http/upgrade.h"

namespace switchboard::client {
namespace {

constexpr std::array<std::uint8_t, 16> kRandom = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                                  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

TEST(ClientKey, IsBase64OfSixteenBytes) {
  // base64 of 01 02 ... 10.
  EXPECT_EQ(make_client_key(kRandom), "AQIDBAUGBwgJCgsMDQ4PEA==");
  std::array<std::uint8_t, 16> ones;
  ones.fill(0xFF);
  EXPECT_TRUE(http::is_valid_key(make_client_key(ones)));
}

TEST(UpgradeRequest, PassesTheServersValidation) {
  const base::Result<WsUrl> parsed_url = parse_ws_url("ws://[::1]:9000/ws?x=1");
  ASSERT_TRUE(parsed_url.ok()) << parsed_url.error();
  const WsUrl& url = *parsed_url;
  const std::string key = make_client_key(kRandom);
  const std::string request = make_upgrade_request(url, key, {"Authorization: Bearer t"}, "v1");
  http::RequestParser parser;
  http::Request parsed;
  ASSERT_EQ(parser.parse(request, parsed), http::ParseStatus::kComplete);
  EXPECT_EQ(parser.head_size(), request.size());
  std::string_view parsed_key;
  EXPECT_EQ(http::validate_upgrade(parsed, &parsed_key), http::UpgradeError::kNone);
  EXPECT_EQ(parsed_key, key);
  EXPECT_EQ(parsed.target, "/ws?x=1");
  EXPECT_EQ(parsed.header("Host"), "[::1]:9000");
  EXPECT_EQ(parsed.header("Authorization"), "Bearer t");
  EXPECT_EQ(parsed.header("Sec-WebSocket-Protocol"), "v1");
}

TEST(UpgradeResponse, AcceptsTheServersAnswer) {
  const std::string key = make_client_key(kRandom);
  const std::string response = http::switching_protocols(http::accept_key(key), "");
  ASSERT_EQ(response_head_size(response), response.size());
  int status = 0;
  EXPECT_EQ(check_upgrade_response(response, key, "", &status), HandshakeError::kNone);
  EXPECT_EQ(status, 101);
  const std::string with_protocol = http::switching_protocols(http::accept_key(key), "v1");
  EXPECT_EQ(check_upgrade_response(with_protocol, key, "v1", &status), HandshakeError::kNone);
}

TEST(UpgradeResponse, HeadSizeWaitsForTheBlankLine) {
  EXPECT_EQ(response_head_size("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"), 0u);
  EXPECT_EQ(response_head_size("HTTP/1.1 101 OK\r\n\r\n\x81\x00"), 19u);
}

TEST(UpgradeResponse, EachFailureHasItsError) {
  const std::string key = make_client_key(kRandom);
  const std::string accept = "Sec-WebSocket-Accept: " + http::accept_key(key) + "\r\n";
  const std::string good_headers = "Upgrade: websocket\r\nConnection: Upgrade\r\n" + accept;
  struct Case {
    std::string head;
    std::string subprotocol;
    HandshakeError expected;
  };
  const Case cases[] = {
      {"HTTP/1.1 101 Switching Protocols\r\n" + good_headers + "\r\n", "", HandshakeError::kNone},
      {"HTTP/1.1 101\r\n" + good_headers + "\r\n", "", HandshakeError::kNone},
      {"HTTP/1.1 101 x\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n" + accept + "\r\n", "",
       HandshakeError::kNone},
      {"HTTP/1.1 200 OK\r\n" + good_headers + "\r\n", "", HandshakeError::kNotSwitching},
      {"HTTP/1.1 400 Bad Request\r\n\r\n", "", HandshakeError::kNotSwitching},
      {"HTTX/1.1 101 Switching\r\n" + good_headers + "\r\n", "", HandshakeError::kMalformedResponse},
      {"HTTP/1.1 1O1 Switching\r\n" + good_headers + "\r\n", "", HandshakeError::kMalformedResponse},
      {"HTTP/1.1 101 Switching\r\nno colon here\r\n\r\n", "", HandshakeError::kMalformedResponse},
      {"HTTP/1.1 101 Switching\r\nConnection: Upgrade\r\n" + accept + "\r\n", "", HandshakeError::kMissingUpgrade},
      {"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n" + accept + "\r\n", "", HandshakeError::kMissingConnection},
      {"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", "", HandshakeError::kBadAccept},
      {"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
       "", HandshakeError::kBadAccept},
      {"HTTP/1.1 101 Switching\r\n" + good_headers + accept + "\r\n", "", HandshakeError::kBadAccept},
      {"HTTP/1.1 101 Switching\r\n" + good_headers + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", "",
       HandshakeError::kUnexpectedExtension},
      {"HTTP/1.1 101 Switching\r\n" + good_headers + "Sec-WebSocket-Protocol: v2\r\n\r\n", "v1",
       HandshakeError::kUnexpectedProtocol},
      {"HTTP/1.1 101 Switching\r\n" + good_headers + "Sec-WebSocket-Protocol: v2\r\n\r\n", "",
       HandshakeError::kUnexpectedProtocol},
  };
  for (const Case& c : cases) {
    int status = 0;
    EXPECT_EQ(check_upgrade_response(c.head, key, c.subprotocol, &status), c.expected) << c.head;
    EXPECT_STRNE(describe(c.expected), "?");
  }
}

TEST(UpgradeResponse, FindsHeadersCaseInsensitively) {
  const std::string head = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nretry-after:  3 \r\n\r\n";
  EXPECT_EQ(find_header(head, "Retry-After"), std::optional<std::string_view>("3"));
  EXPECT_EQ(find_header(head, "content-length"), std::optional<std::string_view>("0"));
  EXPECT_EQ(find_header(head, "Upgrade"), std::nullopt);
  EXPECT_EQ(find_header("HTTP/1.1 200 OK\r\n\r\n", "Upgrade"), std::nullopt);
}

TEST(UpgradeResponse, RetryAfterIsDeltaSeconds) {
  EXPECT_EQ(parse_retry_after_s("0"), 0u);
  EXPECT_EQ(parse_retry_after_s("5"), 5u);
  EXPECT_EQ(parse_retry_after_s("999999999"), 24u * 3600);
  EXPECT_EQ(parse_retry_after_s(""), std::nullopt);
  EXPECT_EQ(parse_retry_after_s("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after_s("1.5"), std::nullopt);
  EXPECT_EQ(parse_retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
}

}  // namespace
}  // namespace switchboard::client
