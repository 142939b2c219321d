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
// A publish the server refuses (an error reply: 121 over a rate limit, say)
// was never published: the publisher counts refusals per channel, reuses
// the refused slot of its window after kRefusedRetryMs, and the report
// shows them apart from deliveries.
//
// Missing deliveries: each subscriber counts what it received per channel;
// the runner sets that against what was published to each channel and not
// refused. A subscriber that sees a gap in its channel's sequence does not
// count it itself (a refused publish leaves one too); a message older than
// the last one seen (out of order, duplicated) is an error.
//
// Threading: see ThreadDriver.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/thread_driver.h"
#include "loop/timer_wheel.h"

namespace switchboard::bench {

inline constexpr std::size_t kPubsubPayloadMin = 32;
// How long a refused slot of the publisher's window waits: retrying at once
// would only collect refusals (and, past limits.violations_*, a close 1008).
inline constexpr std::uint64_t kRefusedRetryMs = 20;

struct PubsubSettings {
  std::uint32_t payload_size = 32;
  std::uint32_t inflight = 1;  // the publisher's window
  std::uint32_t channels = 1;
};

// How many of the first `published` messages went to channel k of n.
std::uint64_t published_to_channel(std::uint64_t published, std::uint32_t k, std::uint32_t n);

// Deliveries due and not received, summed over channels: every subscriber
// of channel k is owed each publish sent to k (published_to_channel) that
// was not refused. A channel with more than its due does not offset another.
std::uint64_t missing_deliveries(const std::vector<std::uint64_t>& channel_subscribers,
                                 const std::vector<std::uint64_t>& channel_received,
                                 const std::vector<std::uint64_t>& channel_refused, std::uint64_t published_total);

// Reads the id and code of an error reply ({"type":"error","id":N,"code":C,
// ...}); false if the text is not one with a numeric id.
bool parse_refusal(std::string_view text, std::uint64_t* id, std::uint32_t* code);

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
  void on_refused(std::uint64_t id, std::string_view text);
  static void retry_refused(void* self);
  void on_subscriber_frame(LoadConnection& connection, std::string_view text);

  PubsubSettings settings_;
  Publisher publisher_;
  std::vector<Subscriber> subscribers_;
  std::string json_;   // the publisher's command, reused
  std::string frame_;  // its masked frame, reused
  std::uint64_t next_sequence_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint32_t refused_slots_ = 0;  // slots of the window waiting for retry_timer_
  loop::Timer retry_timer_{&PubsubDriver::retry_refused, this};
  bool publishing_ = false;
};

}  // namespace switchboard::bench
