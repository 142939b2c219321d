// The pubsub scenario: protocol v1 (docs/PROTOCOL.md) against a Switchboard
// hub. Every subscriber subscribes to one of N channels ("bench.<k>",
// round-robin by connection); one publisher (thread 0, connection 0) keeps W
// publishes in flight, a publish counting as done when its reply comes,
// and sends message s to channel s % N. Subscribers record delivery latency
// from the timestamp in the data and check that their channel's messages
// come in order, once each.
//
// The data of every message is a JSON string of fixed layout:
//   16 hex digits  send timestamp (ns since the run's epoch)
//   16 hex digits  sequence number
//   'x' filler up to the payload size
//
// Missing deliveries: each subscriber counts what it received per channel;
// the runner sets that against what was published to each channel.
//
// Threading: see ThreadDriver.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/thread_driver.h"

namespace switchboard::bench {

inline constexpr std::size_t kPubsubPayloadMin = 32;

struct PubsubSettings {
  std::uint32_t payload_size = 32;
  std::uint32_t inflight = 1;  // the publisher's window
  std::uint32_t channels = 1;
};

// How many of the first `published` messages went to channel k of n.
std::uint64_t published_to_channel(std::uint64_t published, std::uint32_t k, std::uint32_t n);

// Reads the timestamp and sequence from a delivered message frame's text
// ({"type":"message",...,"data":"<hex><hex>xxx"}); false if it is not one.
bool parse_delivery(std::string_view text, std::uint64_t* timestamp, std::uint64_t* sequence);

// The publish command for message `sequence`, without allocating once
// `out` has grown to size.
void write_publish(std::string& out, std::uint64_t id, std::uint32_t channel, std::uint64_t timestamp,
                   std::uint64_t sequence, std::uint32_t payload_size);

class PubsubDriver final : public ThreadDriver {
 public:
  enum class Publisher : std::uint8_t { kHere, kElsewhere };

  PubsubDriver(const ThreadPlan& plan, const PubsubSettings& settings, Publisher publisher);

  void start_measuring() override;
  void stop_measuring() override;
  void on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) override;

 private:
  struct Subscriber {
    std::uint32_t channel = 0;
    std::uint64_t next_sequence = 0;  // the next one due on its channel
  };

  void scenario_open(LoadConnection& connection) override;
  void scenario_done(LoadConnection& connection) override;
  bool is_publisher(const LoadConnection& connection) const;
  void publish(LoadConnection& connection);
  void on_publisher_frame(LoadConnection& connection, std::string_view text);
  void on_subscriber_frame(LoadConnection& connection, std::string_view text);
  void send_masked(LoadConnection& connection, std::string_view payload);

  PubsubSettings settings_;
  Publisher publisher_;
  std::vector<Subscriber> subscribers_;
  std::string json_;   // the publisher's command, reused
  std::string frame_;  // its masked frame, reused
  std::uint64_t next_sequence_ = 0;
  std::uint64_t in_flight_ = 0;
  bool publishing_ = false;
};

}  // namespace switchboard::bench
