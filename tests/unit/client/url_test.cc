// parse_ws_url: the ws:// and wss:// forms we accept and the ones we refuse.
#include "client/url.h"

#include <gtest/gtest.h>

namespace switchboard::client {
namespace {

WsUrl parse_ok(std::string_view text) {
  const base::Result<WsUrl> url = parse_ws_url(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.error();
  return url.value_or(WsUrl{});
}

TEST(ParseWsUrl, HostPortAndPath) {
  WsUrl url = parse_ok("ws://127.0.0.1:8080/chat?room=1");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.target, "/chat?room=1");
  EXPECT_FALSE(url.ipv6_literal);
  EXPECT_EQ(url.host_header(), "127.0.0.1:8080");
}

TEST(ParseWsUrl, Defaults) {
  WsUrl url = parse_ok("ws://example.test");
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.target, "/");
  EXPECT_EQ(url.host_header(), "example.test");
  EXPECT_EQ(parse_ok("WS://h:1/").port, 1);
  EXPECT_EQ(parse_ok("ws://h?x=1").target, "/?x=1");
}

TEST(ParseWsUrl, Ipv6LiteralInBrackets) {
  WsUrl url = parse_ok("ws://[::1]:9001/ws");
  EXPECT_EQ(url.host, "::1");
  EXPECT_TRUE(url.ipv6_literal);
  EXPECT_EQ(url.port, 9001);
  EXPECT_EQ(url.host_header(), "[::1]:9001");
  EXPECT_EQ(parse_ok("ws://[fe80::1]").host_header(), "[fe80::1]");
}

TEST(ParseWsUrl, WssDefaultsTo443) {
  WsUrl url = parse_ok("wss://example.com/ws");
  EXPECT_TRUE(url.secure());
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.host_header(), "example.com");
  url = parse_ok("WSS://example.com:8443");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.host_header(), "example.com:8443");
  EXPECT_EQ(url.target, "/");
  EXPECT_FALSE(parse_ok("ws://example.com:443/").secure());
  EXPECT_EQ(parse_ok("ws://example.com:443/").host_header(), "example.com:443");
}

TEST(ParseWsUrl, Refusals) {
  for (std::string_view bad :
       {"", "ws:/x", "http://h/", "wss:/h", "ws://", "ws://:80/", "ws://h:/", "ws://h:0/", "ws://h:65536/",
        "ws://h:8x/", "ws://[::1/", "ws://[::1]x/", "ws://user@h/", "ws://h/a b", "ws://h/#frag"}) {
    const base::Result<WsUrl> url = parse_ws_url(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_NE(url.error(), "") << bad;
  }
}

}  // namespace
}  // namespace switchboard::client
