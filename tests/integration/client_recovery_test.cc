// The C++ client on channels with a stream (a namespace with history_size
// and history_ttl) against a real `switchboard serve`: a subscriber cut off
// by a TCP proxy while publishing goes on gets every offset once and in
// order after it reconnects; a server restart makes the recovery fail with
// a new epoch, and missing more than the stream keeps makes it fail under
// the same one; history(), `latest`, and a recovery from a position the
// application kept; and a publish with the broker (Redis) down is reported
// as local only.
#include <netinet/in.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "integration/server_process.h"
#include "integration/tcp_proxy.h"
#include "switchboard/client.h"

namespace switchboard {
namespace {

using namespace std::chrono_literals;
using testing::kWaitMs;
using testing::ServerProcess;
using testing::Signal;
using testing::TcpProxy;

// Every channel of feed:* keeps a stream; other channels keep none.
const std::vector<std::string> kStreamFlags = {"--namespace", "feed:*=history_size:1000,history_ttl:300"};

// What a subscription's handlers saw, in order.
struct SubscriptionLog {
  Signal signal;
  std::vector<std::uint64_t> offsets;
  std::vector<std::string> data;
  std::vector<SubscribedInfo> subscribed;
  std::vector<SubscribedInfo> recovery_failed;

  SubscriptionHandlers handlers() {
    return {.on_message =
                [this](std::string_view json, std::uint64_t offset) {
                  signal.notify([&] {
                    offsets.push_back(offset);
                    data.emplace_back(json);
                  });
                },
            .on_subscribed = [this](const SubscribedInfo& info) { signal.notify([&] { subscribed.push_back(info); }); },
            .on_recovery_failed =
                [this](const SubscribedInfo& info) { signal.notify([&] { recovery_failed.push_back(info); }); }};
  }
  bool wait_subscribed(std::size_t count) {
    return signal.wait([&] { return subscribed.size() >= count; });
  }
  bool wait_messages(std::size_t count) {
    return signal.wait([&] { return offsets.size() >= count; });
  }
};

std::vector<std::uint64_t> one_to(std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t offset = 1; offset <= last; ++offset) out.push_back(offset);
  return out;
}

// The offsets of a history reply's publications, and its epoch.
struct HistoryPage {
  std::string epoch;
  std::uint64_t top = 0;
  std::vector<std::uint64_t> offsets;
};

HistoryPage page_of(const Result& result) {
  HistoryPage page;
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (!result.ok()) return page;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  EXPECT_EQ(parser.parse(result.data()).get(root), simdjson::SUCCESS) << result.data();
  std::string_view epoch;
  EXPECT_EQ(root["epoch"].get_string().get(epoch), simdjson::SUCCESS) << result.data();
  page.epoch = std::string(epoch);
  EXPECT_EQ(root["offset"].get_uint64().get(page.top), simdjson::SUCCESS) << result.data();
  simdjson::dom::array publications;
  EXPECT_EQ(root["publications"].get_array().get(publications), simdjson::SUCCESS) << result.data();
  for (simdjson::dom::element publication : publications) {
    std::uint64_t offset = 0;
    EXPECT_EQ(publication["offset"].get_uint64().get(offset), simdjson::SUCCESS) << result.data();
    page.offsets.push_back(offset);
  }
  return page;
}

TEST(ClientRecovery, ACutOffSubscriberGetsEveryOffsetOnceAndInOrder) {
  ServerProcess server(kStreamFlags, {});
  TcpProxy proxy(server.port());
  ClientOptions options;
  options.min_delay_ms = 50;  // quick attempts: the test waits for the held ones to end
  options.max_delay_ms = 200;
  Client reader(options);
  Client writer;
  ASSERT_EQ(reader.connect(proxy.url()), "");
  ASSERT_EQ(writer.connect(server.url()), "");
  SubscriptionLog log;
  reader.subscribe("feed:a", log.handlers());
  ASSERT_TRUE(log.wait_subscribed(1));
  {
    std::lock_guard lock(log.signal.mutex());
    EXPECT_TRUE(log.subscribed[0].recoverable);
    EXPECT_FALSE(log.subscribed[0].was_recovering);
    EXPECT_FALSE(log.subscribed[0].epoch.empty());
    EXPECT_EQ(log.subscribed[0].offset, 0u);
  }

  // Publishing goes on, one after another, from before the cut to after
  // the reconnect: the data is the publish's number, which is its offset.
  constexpr std::uint64_t kTotal = 400;
  std::atomic<std::uint64_t> published{0};
  std::thread publisher([&] {
    for (std::uint64_t i = 1; i <= kTotal; ++i) {
      const Result result = writer.publish("feed:a", std::to_string(i)).get();
      ASSERT_TRUE(result.ok()) << result.error().message;
      EXPECT_NE(result.data().find("\"offset\":" + std::to_string(i)), std::string::npos) << result.data();
      published = i;
    }
  });
  ASSERT_TRUE(testing::eventually([&] { return published >= 50; }));
  proxy.hold(true);
  proxy.cut();
  ASSERT_TRUE(testing::eventually([&] { return reader.state() != ClientState::kConnected; }));
  // Missed while off: these come back by the recovery.
  const std::uint64_t at_cut = published;
  ASSERT_TRUE(testing::eventually([&] { return published >= at_cut + 50 || published == kTotal; }));
  proxy.hold(false);
  publisher.join();

  ASSERT_TRUE(log.wait_subscribed(2));
  ASSERT_TRUE(log.wait_messages(kTotal)) << log.offsets.size();
  std::lock_guard lock(log.signal.mutex());
  EXPECT_EQ(log.offsets, one_to(kTotal));  // every offset once, in order
  for (std::size_t i = 0; i < log.data.size(); ++i) EXPECT_EQ(log.data[i], std::to_string(log.offsets[i]));
  EXPECT_TRUE(log.recovery_failed.empty());
  for (std::size_t i = 1; i < log.subscribed.size(); ++i) {
    const SubscribedInfo& again = log.subscribed[i];
    EXPECT_TRUE(again.was_recovering);
    EXPECT_TRUE(again.recovered);
    EXPECT_EQ(again.epoch, log.subscribed[0].epoch);
  }
  std::size_t recovered = 0;
  for (const SubscribedInfo& info : log.subscribed) recovered += info.recovered_count;
  EXPECT_GE(recovered, 50u);  // at least what was published while held off
}

TEST(ClientRecovery, AServerRestartFailsTheRecoveryWithANewEpoch) {
  ServerProcess server(kStreamFlags, {});
  const std::uint16_t port = server.port();
  ClientOptions options;
  options.min_delay_ms = 50;
  Client client(options);
  ASSERT_EQ(client.connect(server.url()), "");
  SubscriptionLog log;
  client.subscribe("feed:r", log.handlers());
  ASSERT_TRUE(log.wait_subscribed(1));
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(client.publish("feed:r", std::to_string(i)).get().ok());
  ASSERT_TRUE(log.wait_messages(3));

  // The memory broker's streams die with the process: a new epoch.
  server.stop(SIGKILL);
  server.start(port);
  ASSERT_EQ(server.port(), port);
  ASSERT_TRUE(log.wait_subscribed(2));
  {
    std::lock_guard lock(log.signal.mutex());
    ASSERT_EQ(log.recovery_failed.size(), 1u);
    const SubscribedInfo& failed = log.recovery_failed[0];
    EXPECT_TRUE(failed.recoverable);
    EXPECT_TRUE(failed.was_recovering);
    EXPECT_FALSE(failed.recovered);
    EXPECT_NE(failed.epoch, log.subscribed[0].epoch);
    EXPECT_EQ(failed.offset, 0u);
    EXPECT_EQ(log.subscribed[1].epoch, failed.epoch);
    EXPECT_FALSE(log.subscribed[1].recovered);
  }
  // The position is the new epoch's: its offsets 1 and 2 are new, not
  // duplicates of the old epoch's.
  for (int i = 4; i <= 5; ++i) ASSERT_TRUE(client.publish("feed:r", std::to_string(i)).get().ok());
  ASSERT_TRUE(log.wait_messages(5));
  std::lock_guard lock(log.signal.mutex());
  EXPECT_EQ(log.offsets, (std::vector<std::uint64_t>{1, 2, 3, 1, 2}));
  EXPECT_EQ(log.data, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
}

// More missed than the stream keeps: the recovery fails under the same
// epoch, and the subscription goes on from the reply's position.
TEST(ClientRecovery, MissingMoreThanTheStreamKeepsFailsTheRecovery) {
  ServerProcess server({"--namespace", "small:*=history_size:5,history_ttl:300"}, {});
  TcpProxy proxy(server.port());
  ClientOptions options;
  options.min_delay_ms = 50;
  options.max_delay_ms = 200;
  Client reader(options);
  Client writer;
  ASSERT_EQ(reader.connect(proxy.url()), "");
  ASSERT_EQ(writer.connect(server.url()), "");
  SubscriptionLog log;
  reader.subscribe("small:a", log.handlers());
  ASSERT_TRUE(log.wait_subscribed(1));
  ASSERT_TRUE(writer.publish("small:a", "1").get().ok());
  ASSERT_TRUE(log.wait_messages(1));

  proxy.hold(true);
  proxy.cut();
  ASSERT_TRUE(testing::eventually([&] { return reader.state() != ClientState::kConnected; }));
  for (int i = 2; i <= 20; ++i) ASSERT_TRUE(writer.publish("small:a", std::to_string(i)).get().ok());
  proxy.hold(false);
  ASSERT_TRUE(log.wait_subscribed(2));
  ASSERT_TRUE(writer.publish("small:a", "21").get().ok());
  ASSERT_TRUE(log.wait_messages(2));
  std::lock_guard lock(log.signal.mutex());
  ASSERT_EQ(log.recovery_failed.size(), 1u);
  const SubscribedInfo& failed = log.recovery_failed[0];
  EXPECT_TRUE(failed.was_recovering);
  EXPECT_FALSE(failed.recovered);
  EXPECT_EQ(failed.epoch, log.subscribed[0].epoch);  // trimmed, not lost with the node
  EXPECT_EQ(failed.offset, 20u);
  EXPECT_EQ(log.offsets, (std::vector<std::uint64_t>{1, 21}));  // 2..20 missed: the application was told
}

TEST(ClientRecovery, HistoryLatestAndARecoveryFromAKeptPosition) {
  ServerProcess server(kStreamFlags, {});
  Client client;
  ASSERT_EQ(client.connect(server.url()), "");
  std::string epoch;
  for (int i = 1; i <= 5; ++i) {
    const Result result = client.publish("feed:h", std::to_string(i)).get();
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result.reach(), Reach::kEverywhere);
  }

  const HistoryPage all = page_of(client.history("feed:h").get());
  EXPECT_EQ(all.offsets, one_to(5));
  EXPECT_EQ(all.top, 5u);
  epoch = all.epoch;
  ASSERT_FALSE(epoch.empty());
  EXPECT_EQ(page_of(client.history("feed:h", {.limit = 2, .order = HistoryOrder::kNewestFirst}).get()).offsets,
            (std::vector<std::uint64_t>{5, 4}));
  EXPECT_EQ(page_of(client.history("feed:h", {.since = StreamPosition{epoch, 3}}).get()).offsets,
            (std::vector<std::uint64_t>{4, 5}));
  const Result other_epoch = client.history("feed:h", {.since = StreamPosition{epoch + "x", 3}}).get();
  ASSERT_FALSE(other_epoch.ok());
  EXPECT_EQ(other_epoch.error().code, 124);
  const Result no_history = client.history("plain").get();
  ASSERT_FALSE(no_history.ok());
  EXPECT_EQ(no_history.error().code, 123);

  // The newest kept publication in the subscribe reply, not as a message.
  SubscriptionLog latest;
  client.subscribe("feed:h", latest.handlers(), SubscribeOptions{.latest = Latest::kYes});
  ASSERT_TRUE(latest.wait_subscribed(1));
  {
    std::lock_guard lock(latest.signal.mutex());
    ASSERT_TRUE(latest.subscribed[0].latest.has_value());
    EXPECT_EQ(latest.subscribed[0].latest->offset, 5u);
    EXPECT_EQ(latest.subscribed[0].latest->data_json, "5");
    EXPECT_EQ(latest.subscribed[0].offset, 5u);
    EXPECT_TRUE(latest.offsets.empty());
  }

  // Another client starts from a position it kept: it gets 4 and 5 first.
  Client resuming;
  ASSERT_EQ(resuming.connect(server.url()), "");
  SubscriptionLog resumed;
  resuming.subscribe("feed:h", resumed.handlers(), SubscribeOptions{.since = StreamPosition{epoch, 3}});
  ASSERT_TRUE(resumed.wait_subscribed(1));
  ASSERT_TRUE(resumed.wait_messages(2));
  std::lock_guard lock(resumed.signal.mutex());
  EXPECT_TRUE(resumed.subscribed[0].was_recovering);
  EXPECT_TRUE(resumed.subscribed[0].recovered);
  EXPECT_EQ(resumed.subscribed[0].recovered_count, 2u);
  EXPECT_EQ(resumed.offsets, (std::vector<std::uint64_t>{4, 5}));
}

TEST(ClientRecovery, AChannelWithoutAStreamSaysSo) {
  ServerProcess server(kStreamFlags, {});
  Client client;
  ASSERT_EQ(client.connect(server.url()), "");
  SubscriptionLog log;
  client.subscribe("plain", log.handlers(), SubscribeOptions{.latest = Latest::kYes});
  ASSERT_TRUE(log.wait_subscribed(1));
  std::lock_guard lock(log.signal.mutex());
  EXPECT_FALSE(log.subscribed[0].recoverable);
  EXPECT_FALSE(log.subscribed[0].latest.has_value());
}

// A loopback port nobody listens on: bound, then closed.
std::uint16_t closed_port() {
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  ::bind(probe, reinterpret_cast<sockaddr*>(&address), size);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(probe);
  return ntohs(address.sin_port);
}

// Redis unreachable: the node delivers to its own subscribers only, and
// the client says so instead of a plain success.
TEST(ClientReach, APublishWithTheBrokerDownIsLocalOnly) {
  ServerProcess server({"--broker", "redis://127.0.0.1:" + std::to_string(closed_port())}, {});
  Client client;
  ASSERT_EQ(client.connect(server.url()), "");
  SubscriptionLog log;
  client.subscribe("room", log.handlers());
  ASSERT_TRUE(log.wait_subscribed(1));
  const Result result = client.publish("room", "1").get();
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result.reach(), Reach::kLocalOnly) << result.data();
  EXPECT_EQ(result.data(), R"({"offset":0,"local_only":true})");
  ASSERT_TRUE(log.wait_messages(1));  // this node's subscriber got it
  EXPECT_EQ(client.ping().get().reach(), Reach::kEverywhere);
}

}  // namespace
}  // namespace switchboard
