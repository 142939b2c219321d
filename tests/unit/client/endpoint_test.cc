// Resolving a WebSocket URL's host: IP literals as they are.
#include "client/endpoint.h"

#include <gtest/gtest.h>

namespace switchboard::client {
namespace {

Endpoint endpoint_of(const char* url_text) {
  WsUrl url;
  EXPECT_EQ(parse_ws_url(url_text, &url), "");
  Endpoint endpoint;
  EXPECT_EQ(resolve(url, &endpoint), "");
  return endpoint;
}

TEST(Resolve, IpLiterals) {
  Endpoint v4 = endpoint_of("ws://127.0.0.1:8080/");
  EXPECT_EQ(v4.family, AF_INET);
  EXPECT_TRUE(v4.is_ipv4_loopback());
  EXPECT_EQ(v4.to_string(), "127.0.0.1:8080");
  Endpoint v6 = endpoint_of("ws://[::1]:9/");
  EXPECT_EQ(v6.family, AF_INET6);
  EXPECT_FALSE(v6.is_ipv4_loopback());
  EXPECT_EQ(v6.to_string(), "[::1]:9");
  EXPECT_FALSE(endpoint_of("ws://10.0.0.1/").is_ipv4_loopback());
}

TEST(Resolve, BadIpv6Literal) {
  WsUrl url;
  ASSERT_EQ(parse_ws_url("ws://[nonsense]/", &url), "");
  Endpoint endpoint;
  EXPECT_NE(resolve(url, &endpoint), "");
}

TEST(Resolve, WssUsesItsPort) { EXPECT_EQ(endpoint_of("wss://127.0.0.1/").to_string(), "127.0.0.1:443"); }

}  // namespace
}  // namespace switchboard::client
