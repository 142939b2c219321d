#include "redis/endpoint.h"

#include <gtest/gtest.h>

namespace switchboard::redis {
namespace {

Endpoint parse_ok(std::string_view url) {
  auto endpoint = parse_redis_url(url);
  EXPECT_TRUE(endpoint.has_value()) << url << ": " << endpoint.error();
  return endpoint.value_or(Endpoint{});
}

TEST(RedisUrl, HostOnlyTakesTheDefaults) {
  Endpoint endpoint = parse_ok("redis://localhost");
  EXPECT_EQ(endpoint.host, "localhost");
  EXPECT_EQ(endpoint.port, 6379);
  EXPECT_EQ(endpoint.db, 0);
  EXPECT_EQ(endpoint.username, "");
  EXPECT_EQ(endpoint.password, "");
}

TEST(RedisUrl, PortAndDatabase) {
  Endpoint endpoint = parse_ok("redis://10.0.0.7:6380/2");
  EXPECT_EQ(endpoint.host, "10.0.0.7");
  EXPECT_EQ(endpoint.port, 6380);
  EXPECT_EQ(endpoint.db, 2);
  EXPECT_EQ(parse_ok("redis://h/").db, 0);
}

TEST(RedisUrl, PasswordOnlyAndUserWithPassword) {
  Endpoint password_only = parse_ok("redis://:s3cret@redis.internal:7000");
  EXPECT_EQ(password_only.username, "");
  EXPECT_EQ(password_only.password, "s3cret");
  EXPECT_EQ(password_only.host, "redis.internal");
  EXPECT_EQ(password_only.port, 7000);

  Endpoint with_user = parse_ok("redis://alice:p@ss:word@host/5");
  EXPECT_EQ(with_user.username, "alice");
  EXPECT_EQ(with_user.password, "p@ss:word");  // the last '@' ends the credentials
  EXPECT_EQ(with_user.host, "host");
  EXPECT_EQ(with_user.db, 5);
}

TEST(RedisUrl, Ipv6InBrackets) {
  Endpoint endpoint = parse_ok("redis://[::1]:6390/1");
  EXPECT_EQ(endpoint.host, "::1");
  EXPECT_EQ(endpoint.port, 6390);
  EXPECT_EQ(endpoint.db, 1);
  EXPECT_EQ(parse_ok("redis://[fe80::1%25eth0]").host, "fe80::1%25eth0");
  EXPECT_EQ(parse_ok("redis://[2001:db8::2]").port, 6379);
}

TEST(RedisUrl, RedissMeansTls) {
  const Endpoint secure = parse_ok("rediss://:pw@db.example:6380/2");
  EXPECT_TRUE(secure.tls);
  EXPECT_EQ(secure.host, "db.example");
  EXPECT_EQ(secure.port, 6380);
  EXPECT_EQ(secure.password, "pw");
  EXPECT_EQ(secure.db, 2);
  EXPECT_EQ(secure.tls_name(), "db.example");
  EXPECT_FALSE(parse_ok("redis://db.example").tls);
  EXPECT_EQ(redact_redis_url("rediss://:pw@db:6380"), "rediss://:***@db:6380");
}

TEST(RedisUrl, BadUrlsSayWhy) {
  struct Case {
    const char* url;
    const char* reason_part;
  };
  const Case cases[] = {
      {"http://host", "redis://"},           {"ftp://host", "rediss://"},
      {"rediss://", "missing host"},         {"redis://", "missing host"},
      {"redis://:6379", "missing host"},     {"redis://host:", "empty port"},
      {"redis://host:0", "bad port"},        {"redis://host:65536", "bad port"},
      {"redis://host:12ab", "bad port"},     {"redis://host/abc", "bad database"},
      {"redis://host/-1", "bad database"},   {"redis://::1", "brackets"},
      {"redis://[::1", "missing ']'"},       {"redis://[::1]x", "after ']'"},
      {"redis://[::1]:", "empty port"},      {"redis://[localhost]", "IPv6"},
      {"redis://alice@host", "credentials"}, {"redis://alice:@host", "empty password"},
  };
  for (const auto& c : cases) {
    const auto endpoint = parse_redis_url(c.url);
    ASSERT_FALSE(endpoint.has_value()) << c.url;
    EXPECT_NE(endpoint.error().find(c.reason_part), std::string::npos) << c.url << " gave: " << endpoint.error();
  }
}

TEST(RedactRedisUrl, HidesThePasswordOnly) {
  EXPECT_EQ(redact_redis_url("redis://:s3cret@db:6379/2"), "redis://:***@db:6379/2");
  EXPECT_EQ(redact_redis_url("redis://app:p@ss:w@rd@[::1]:6380"), "redis://app:***@[::1]:6380");
  EXPECT_EQ(redact_redis_url("redis://db:6379/0"), "redis://db:6379/0");
  EXPECT_EQ(redact_redis_url("memory://"), "memory://");
}

}  // namespace
}  // namespace switchboard::redis
