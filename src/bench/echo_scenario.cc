#include "bench/echo_scenario.h"

#include <cstring>

namespace switchboard::bench {

EchoDriver::EchoDriver(const ThreadPlan& plan, const EchoSettings& settings)
    : ThreadDriver(plan), settings_(settings), reference_(make_payload(settings.payload_size, 0, 0)) {
  slots_.resize(connections_.size());
}

void EchoDriver::scenario_open(LoadConnection& connection) {
  Slot& slot = slots_[connection.index()];
  slot.frame = MessageFrame(settings_.opcode, settings_.payload_size, connection.mask_key());
  slot.sent.reset(new std::uint64_t[settings_.inflight]);
}

void EchoDriver::start_measuring() {
  ThreadDriver::start_measuring();
  for (auto& connection : connections_) {
    if (!connection->is_open()) continue;
    Slot& slot = slots_[connection->index()];
    connection->begin_batch();
    for (std::uint32_t i = 0; i < settings_.inflight && connection->is_open(); ++i) send_next(*connection, slot);
    connection->end_batch();
  }
}

void EchoDriver::send_next(LoadConnection& connection, Slot& slot) {
  const std::uint64_t timestamp = now();
  slot.frame.stamp(timestamp, slot.next_sequence++);
  slot.sent[(slot.head + slot.count) % settings_.inflight] = timestamp;
  ++slot.count;
  connection.send(slot.frame.bytes());
}

bool EchoDriver::matches(const Slot& slot, Opcode opcode, std::string_view payload, std::uint64_t* timestamp) const {
  if (opcode != settings_.opcode || payload.size() != settings_.payload_size || slot.count == 0) return false;
  // TCP keeps order, so an echo answers the oldest message in flight.
  if (!decode_field(payload.data(), timestamp) || *timestamp != slot.sent[slot.head]) return false;
  if (has_sequence(payload.size())) {
    std::uint64_t sequence = 0;
    if (!decode_field(payload.data() + kTimestampSize, &sequence) || sequence != slot.expected_sequence) return false;
  }
  const std::size_t offset = filler_offset(payload.size());
  return std::memcmp(payload.data() + offset, reference_.data() + offset, payload.size() - offset) == 0;
}

void EchoDriver::on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) {
  if (!measuring_) return;
  Slot& slot = slots_[connection.index()];
  std::uint64_t timestamp = 0;
  if (!matches(slot, opcode, payload, &timestamp)) {
    // Out of step with what we sent: nothing later on it can be trusted.
    count_error(ErrorKind::kMismatch);
    connection.close();
    return;
  }
  result_.latency.record(now() - timestamp);
  bump(live().messages);
  slot.head = (slot.head + 1) % settings_.inflight;
  --slot.count;
  ++slot.expected_sequence;
  send_next(connection, slot);
}

}  // namespace switchboard::bench
