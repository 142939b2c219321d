// The echo scenario: every connection keeps P messages in flight; each echo
// is checked against what was sent (opcode, size, timestamp, sequence,
// filler), its round trip recorded, and answered with the next message.
//
// Threading: see ThreadDriver.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/payload.h"
#include "bench/thread_driver.h"

namespace switchboard::bench {

struct EchoSettings {
  Opcode opcode = Opcode::kText;
  std::uint32_t payload_size = 32;
  std::uint32_t inflight = 1;
};

class EchoDriver final : public ThreadDriver {
 public:
  EchoDriver(const ThreadPlan& plan, const EchoSettings& settings);

  void start_measuring() override;

  void on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) override;

 private:
  // Per connection: the prebuilt frame and the timestamps in flight, in
  // send order (a ring of `inflight` entries, allocated once).
  struct Slot {
    MessageFrame frame;
    std::unique_ptr<std::uint64_t[]> sent;
    std::uint32_t head = 0;
    std::uint32_t count = 0;
    std::uint64_t next_sequence = 0;
    std::uint64_t expected_sequence = 0;
  };

  void scenario_open(LoadConnection& connection) override;
  void send_next(LoadConnection& connection, Slot& slot);
  bool matches(const Slot& slot, Opcode opcode, std::string_view payload, std::uint64_t* timestamp) const;

  EchoSettings settings_;
  std::string reference_;  // an unstamped payload: the filler echoes must carry
  std::vector<Slot> slots_;
};

}  // namespace switchboard::bench
