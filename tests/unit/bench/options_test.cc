// validate_options: runnable combinations pass, bad ones are refused with
// a message that names the flag.
#include "bench/options.h"

#include <gtest/gtest.h>

namespace switchboard::bench {
namespace {

BenchOptions echo() {
  BenchOptions options;
  options.scenario = Scenario::kEcho;
  options.url = "ws://127.0.0.1:9000/";
  return options;
}

// validate_options' reason, or "" when it accepts (so that a failing check
// prints the reason).
std::string refusal(const BenchOptions& options) {
  const base::Result<void> valid = validate_options(options);
  return valid ? std::string() : valid.error();
}

void expect_refused(const BenchOptions& options, std::string_view mention) {
  const base::Result<void> valid = validate_options(options);
  ASSERT_FALSE(valid.ok()) << "expected a refusal mentioning " << mention;
  EXPECT_NE(valid.error().find(mention), std::string::npos)
      << "error: \"" << valid.error() << "\", expected to mention " << mention;
}

TEST(ValidateOptions, DefaultsAreRunnable) {
  EXPECT_EQ(refusal(echo()), "");
  BenchOptions broadcast = echo();
  broadcast.scenario = Scenario::kBroadcast;
  EXPECT_EQ(refusal(broadcast), "");
  BenchOptions connect = echo();
  connect.scenario = Scenario::kConnect;
  connect.server_pid = 1234;
  connect.hold_s = 0;
  EXPECT_EQ(refusal(connect), "");
}

TEST(ValidateOptions, PayloadMustHoldTheTimestamp) {
  BenchOptions options = echo();
  options.payload_size = 7;
  expect_refused(options, "--size");
  options.payload_size = 8;
  EXPECT_EQ(refusal(options), "");
  options.scenario = Scenario::kBroadcast;
  expect_refused(options, "16");  // and the sequence number
  options.payload_size = 16;
  EXPECT_EQ(refusal(options), "");
  options.payload_size = kMaxPayloadSize + 1;
  expect_refused(options, "--size");
}

TEST(ValidateOptions, PayloadSizeDoesNotMatterForConnect) {
  BenchOptions options = echo();
  options.scenario = Scenario::kConnect;
  options.payload_size = 0;
  EXPECT_EQ(refusal(options), "");
}

TEST(ValidateOptions, Pubsub) {
  BenchOptions options = echo();
  options.scenario = Scenario::kPubsub;
  EXPECT_EQ(refusal(options), "");  // 32 bytes of data, one channel
  options.payload_size = 31;
  expect_refused(options, "--size");
  options.payload_size = 64;
  options.channels = 0;
  expect_refused(options, "--channels");
  options.channels = options.connections + 1;
  expect_refused(options, "--channels");
}

TEST(ValidateOptions, PublishUrlForPubsubOnly) {
  BenchOptions options = echo();
  options.scenario = Scenario::kPubsub;
  options.publish_url = "ws://127.0.0.1:9001/";
  EXPECT_EQ(refusal(options), "");
  options.publish_url = "http://127.0.0.1:9001/";
  expect_refused(options, "--publish-url");
  options.publish_url = "ws://127.0.0.1:9001/";
  options.scenario = Scenario::kBroadcast;  // its publisher must see its own copy: one server
  expect_refused(options, "--publish-url");
}

TEST(ValidateOptions, CountsAndDurations) {
  BenchOptions options = echo();
  options.connections = 0;
  expect_refused(options, "--connections");
  options = echo();
  options.threads = 0;
  expect_refused(options, "--threads");
  options = echo();
  options.connections = 2;
  options.threads = 3;
  expect_refused(options, "--threads");
  options = echo();
  options.inflight = 0;
  expect_refused(options, "--inflight");
  options.inflight = kMaxInflight + 1;
  expect_refused(options, "--inflight");
  options = echo();
  options.duration_s = 0;
  expect_refused(options, "--duration");
  options.duration_s = -1;
  expect_refused(options, "--duration");
  options = echo();
  options.concurrency = 0;
  expect_refused(options, "--concurrency");
  options = echo();
  options.scenario = Scenario::kConnect;
  options.hold_s = -1;
  expect_refused(options, "--hold");
}

TEST(ValidateOptions, ServerPidInEveryScenario) {
  BenchOptions options = echo();
  options.server_pid = 42;
  EXPECT_EQ(refusal(options), "");
  options.scenario = Scenario::kBroadcast;
  EXPECT_EQ(refusal(options), "");
  options.server_pid = -1;
  expect_refused(options, "--server-pid");
}

TEST(ValidateOptions, UrlMustBeWsOrWss) {
  BenchOptions options = echo();
  options.url = "";
  expect_refused(options, "--url");
  options.url = "http://127.0.0.1/";
  expect_refused(options, "--url");
  options.url = "wss://127.0.0.1/";
  EXPECT_EQ(refusal(options), "");
}

TEST(ValidateOptions, SourceAddressesNeedIpv4) {
  BenchOptions options = echo();
  options.source_addresses = 2;
  EXPECT_EQ(refusal(options), "");
  options.url = "ws://[::1]:9000/";
  expect_refused(options, "--source-addresses");
  options.url = "ws://127.0.0.1:9000/";
  options.source_addresses = kMaxSourceAddresses + 1;
  expect_refused(options, "--source-addresses");
}

TEST(ValidateOptions, HeadersAndSubprotocol) {
  BenchOptions options = echo();
  options.headers = {"Authorization: Bearer abc", "X-Empty:"};
  EXPECT_EQ(refusal(options), "");
  options.headers = {"no colon"};
  expect_refused(options, "--header");
  options.headers = {"Bad Name: x"};
  expect_refused(options, "--header");
  options.headers = {"X-Inject: a\r\nHost: evil"};
  expect_refused(options, "--header");
  options.headers = {};
  options.subprotocol = "v1.switchboard";
  EXPECT_EQ(refusal(options), "");
  options.subprotocol = "two words";
  expect_refused(options, "--subprotocol");
}

TEST(ValidateOptions, Recover) {
  BenchOptions recover = echo();
  recover.scenario = Scenario::kRecover;
  recover.connections = 1000;
  recover.recover = 10'000;
  recover.inflight = 64;
  EXPECT_EQ(refusal(recover), "");
  BenchOptions bad = recover;
  bad.channel = "bad name";
  expect_refused(bad, "--channel");
  bad = recover;
  bad.recover = 0;
  expect_refused(bad, "--recover");
  bad.recover = kMaxRecover + 1;
  expect_refused(bad, "--recover");
  bad = recover;
  bad.storms = 0;
  expect_refused(bad, "--storms");
  bad = recover;
  bad.payload_size = 15;  // no room for the sequence number
  expect_refused(bad, "--size");
  bad = recover;
  bad.inflight = 0;
  expect_refused(bad, "--inflight");
  bad = recover;
  bad.publish_url = "ws://127.0.0.1:9001/";
  expect_refused(bad, "--publish-url");
}

}  // namespace
}  // namespace switchboard::bench
