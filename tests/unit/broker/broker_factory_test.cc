// The one place that reads broker.url: the scheme, the settings check of
// `serve`, and the broker it builds.
#include "broker/broker_factory.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::broker {
namespace {

BrokerSettings with_url(std::string url, bool cluster = false) {
  BrokerSettings settings;
  settings.url = std::move(url);
  settings.cluster = cluster;
  return settings;
}

TEST(BrokerFactory, SchemeNamesTheBroker) {
  EXPECT_EQ(broker_scheme("memory://"), BrokerScheme::kMemory);
  EXPECT_EQ(broker_scheme("memory"), BrokerScheme::kMemory);
  EXPECT_EQ(broker_scheme("redis://127.0.0.1:6379/2"), BrokerScheme::kRedis);
  EXPECT_EQ(broker_scheme("rediss://db:6380"), BrokerScheme::kRedis);
  EXPECT_EQ(broker_scheme("kafka://x"), std::nullopt);
  EXPECT_EQ(broker_scheme(""), std::nullopt);
}

TEST(BrokerFactory, CheckSaysWhichKeyIsWrong) {
  EXPECT_TRUE(check_broker_settings(with_url("memory://")).ok());
  EXPECT_TRUE(check_broker_settings(with_url("redis://127.0.0.1:6379/2")).ok());
  EXPECT_TRUE(check_broker_settings(with_url("redis://127.0.0.1:6379", true)).ok());
  EXPECT_NE(check_broker_settings(with_url("kafka://x")).error().find("is not a broker URL"), std::string::npos);
  EXPECT_TRUE(check_broker_settings(with_url("redis://127.0.0.1:99999")).error().starts_with("broker.url: "));
  EXPECT_EQ(check_broker_settings(with_url("redis://127.0.0.1:6379/2", true)).error(),
            "broker.url: a Redis Cluster has database 0 only");
  EXPECT_TRUE(check_broker_settings(with_url("memory://", true)).error().starts_with("broker.cluster: "));
}

TEST(BrokerFactory, MemoryNeedsNoLoop) {
  // MemoryBroker delivers on the caller's thread: the loops are only counted.
  const std::vector<loop::EventLoop*> loops(2, nullptr);
  EXPECT_NE(make_broker(with_url("memory://"), loops), nullptr);
  EXPECT_NE(make_broker(with_url(""), loops), nullptr);  // HubConfig's "" is the default
  EXPECT_EQ(make_broker(with_url("memory://"), loops)->client_prefix(), "");
}

TEST(BrokerFactory, BadRedisUrlThrowsBeforeAnyConnection) {
  const std::vector<loop::EventLoop*> loops(1, nullptr);
  EXPECT_THROW(make_broker(with_url("kafka://x"), loops), std::invalid_argument);
  EXPECT_THROW(make_broker(with_url("redis://127.0.0.1:99999"), loops), std::invalid_argument);
}

}  // namespace
}  // namespace switchboard::broker
