// Resolving a WebSocket URL's host: IP literals as they are.
#include "client/endpoint.h"

#include <gtest/gtest.h>

namespace switchboard::client {
namespace {

Endpoint endpoint_of(const char* url_text) {
  const base::Result<WsUrl> url = parse_ws_url(url_text);
  EXPECT_TRUE(url.ok()) << url.error();
  const base::Result<Endpoint> endpoint = resolve(url.value_or(WsUrl{}));
  EXPECT_TRUE(endpoint.ok()) << endpoint.error();
  return endpoint.value_or(Endpoint{});
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
  const base::Result<WsUrl> url = parse_ws_url("ws://[nonsense]/");
  ASSERT_TRUE(url.ok()) << url.error();
  const base::Result<Endpoint> endpoint = resolve(*url);
  ASSERT_FALSE(endpoint.ok());
  EXPECT_NE(endpoint.error(), "");
}

TEST(Resolve, WssUsesItsPort) { EXPECT_EQ(endpoint_of("wss://127.0.0.1/").to_string(), "127.0.0.1:443"); }

}  // namespace
}  // namespace switchboard::client
