// The broadcast scenario: one publisher connection (thread 0, connection 0)
// keeps W messages in flight, a message counting as done when the publisher
// gets its own copy back (the server sends each message to everyone,
// sender included); every other connection is a subscriber that records
// the delivery latency of each message and checks the sequence numbers for
// gaps.
//
// Missing deliveries: a subscriber should get every message published, as
// publishing starts only once every connection is open. Per subscriber,
// the gaps seen plus the messages after the last one it got; the runner
// adds them up as gaps + subscribers * published - sum(expected next).
//
// Threading: see ThreadDriver.
#pragma once

#include <cstdint>
#include <vector>

#include "bench/payload.h"
#include "bench/thread_driver.h"

namespace switchboard::bench {

struct BroadcastSettings {
  Opcode opcode = Opcode::kText;
  std::uint32_t payload_size = 32;
  std::uint32_t inflight = 1;  // the publisher's window
};

class BroadcastDriver final : public ThreadDriver {
 public:
  // has_publisher: this thread's connection 0 is the publisher.
  enum class Publisher : std::uint8_t { kHere, kElsewhere };

  BroadcastDriver(const ThreadPlan& plan, const BroadcastSettings& settings, Publisher publisher);

  void start_measuring() override;
  void stop_measuring() override;

  void on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) override;

 private:
  struct Subscriber {
    std::uint64_t expected = 0;  // the next sequence number due
  };

  void scenario_open(LoadConnection& connection) override;
  void scenario_done(LoadConnection& connection) override;
  bool is_publisher(const LoadConnection& connection) const;
  void publish(LoadConnection& connection);
  void on_own_copy(LoadConnection& connection, std::string_view payload);
  void on_delivery(LoadConnection& connection, std::string_view payload);

  BroadcastSettings settings_;
  Publisher publisher_;
  MessageFrame frame_;               // the publisher's
  std::uint64_t next_sequence_ = 0;  // the publisher's next message
  std::uint64_t acked_ = 0;          // own copies received (in order)
  bool publishing_ = false;
  std::vector<Subscriber> subscribers_;
};

}  // namespace switchboard::bench
