#include "http/response.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "http/upgrade.h"

namespace switchboard::http {
namespace {

TEST(ResponseTest, SwitchingProtocols) {
  EXPECT_EQ(switching_protocols(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), ""),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
}

TEST(ResponseTest, SwitchingProtocolsWithSubprotocol) {
  EXPECT_EQ(switching_protocols("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "switchboard.v1.json"),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: switchboard.v1.json\r\n"
            "\r\n");
}

TEST(ResponseTest, PlainResponse) {
  EXPECT_EQ(make_response(200, "text/plain; charset=utf-8", "ok\n"),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "Connection: close\r\n"
            "\r\n"
            "ok\n");
}

TEST(ResponseTest, ExtraHeadersInOrder) {
  EXPECT_EQ(make_response(426, "text/plain", "upgrade", {{"Sec-WebSocket-Version", "13"}, {"X-A", "b"}}),
            "HTTP/1.1 426 Upgrade Required\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 7\r\n"
            "Connection: close\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "X-A: b\r\n"
            "\r\n"
            "upgrade");
  EXPECT_EQ(make_response(405, "", "", {{"Allow", "GET"}}),
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Content-Length: 0\r\n"
            "Connection: close\r\n"
            "Allow: GET\r\n"
            "\r\n");
}

TEST(ResponseTest, NoContentHasNeitherLengthNorBody) {
  EXPECT_EQ(make_response(204, "", "ignored"),
            "HTTP/1.1 204 No Content\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(ResponseTest, LargeBodyLength) {
  const std::string body(123456, 'x');
  const std::string response = make_response(503, "text/plain", body);
  EXPECT_EQ(response.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
  EXPECT_NE(response.find("\r\nContent-Length: 123456\r\n"), std::string::npos);
  EXPECT_EQ(response.size() - response.find("\r\n\r\n") - 4, body.size());
}

TEST(ResponseTest, UnknownStatusHasEmptyReason) {
  EXPECT_EQ(make_response(299, "", ""), "HTTP/1.1 299 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(ResponseTest, ReasonPhrases) {
  const std::vector<std::pair<int, std::string>> expected = {
      {101, "Switching Protocols"},
      {200, "OK"},
      {204, "No Content"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {413, "Content Too Large"},
      {426, "Upgrade Required"},
      {429, "Too Many Requests"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {503, "Service Unavailable"},
      {505, "HTTP Version Not Supported"},
  };
  for (const auto& [status, phrase] : expected) EXPECT_EQ(reason_phrase(status), phrase) << status;
  EXPECT_STREQ(reason_phrase(0), "");
  EXPECT_STREQ(reason_phrase(999), "");
}

TEST(ResponseTest, ExtraHeadersFromASpan) {
  const std::vector<Header> headers = {{"Retry-After", "5"}, {"Cache-Control", "no-store"}};
  EXPECT_EQ(make_response(503, "", "", headers),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Length: 0\r\n"
            "Connection: close\r\n"
            "Retry-After: 5\r\n"
            "Cache-Control: no-store\r\n"
            "\r\n");
}

TEST(ResponseTest, Continue) { EXPECT_EQ(continue_response(), "HTTP/1.1 100 Continue\r\n\r\n"); }

TEST(ResponseTest, SafeFields) {
  EXPECT_TRUE(is_safe_field("Retry-After", "120"));
  EXPECT_TRUE(is_safe_field("WWW-Authenticate", "Bearer realm=\"api\", error=\"invalid_token\""));
  EXPECT_TRUE(is_safe_field("X-Empty", ""));
  EXPECT_TRUE(is_safe_field("X-Tab", "a\tb"));
  EXPECT_TRUE(is_safe_field("X-Utf8", "caf\xc3\xa9"));  // obs-text: opaque bytes, harmless
  EXPECT_FALSE(is_safe_field("X", "a\r\nSet-Cookie: a=b"));
  EXPECT_FALSE(is_safe_field("X", "a\rb"));
  EXPECT_FALSE(is_safe_field("X", "a\nb"));
  EXPECT_FALSE(is_safe_field("X", std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_safe_field("X", "a\x7f"));
  EXPECT_FALSE(is_safe_field("", "v"));
  EXPECT_FALSE(is_safe_field("X Y", "v"));
  EXPECT_FALSE(is_safe_field("X:", "v"));
  EXPECT_FALSE(is_safe_field("X\r\n", "v"));
}

}  // namespace
}  // namespace switchboard::http
