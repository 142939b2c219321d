#include "redis/resolve.h"

#include <netinet/in.h>

#include <gtest/gtest.h>

namespace switchboard::redis {
namespace {

TEST(NumericAddress, Ipv4Ipv6AndLocalhostOnly) {
  auto v4 = numeric_address("127.0.0.1", 6379);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->storage.ss_family, AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&v4->storage)->sin_port), 6379);
  auto v6 = numeric_address("::1", 7000);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->storage.ss_family, AF_INET6);
  EXPECT_EQ(v6->size, sizeof(sockaddr_in6));
  EXPECT_TRUE(numeric_address("localhost", 1).has_value());
  EXPECT_FALSE(numeric_address("redis.internal", 6379).has_value());
}

TEST(Resolve, NumericHostsAreKeptWithoutDns) {
  Endpoint endpoint;
  endpoint.host = "localhost";
  endpoint.db = 4;
  auto resolved = resolve(endpoint);
  ASSERT_TRUE(resolved.has_value());
  EXPECT_EQ(resolved->host, "localhost");
  EXPECT_EQ(resolved->db, 4);
}

TEST(Resolve, UnknownNameSaysSo) {
  Endpoint endpoint;
  endpoint.host = "no-such-host.invalid";  // RFC 2606: never resolves
  const auto resolved = resolve(endpoint);
  ASSERT_FALSE(resolved.has_value());
  EXPECT_NE(resolved.error().find("no-such-host.invalid"), std::string::npos);
}

}  // namespace
}  // namespace switchboard::redis
