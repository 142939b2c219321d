#include "bench/broadcast_scenario.h"

namespace switchboard::bench {

BroadcastDriver::BroadcastDriver(const ThreadPlan& plan, const BroadcastSettings& settings, Publisher publisher)
    : ThreadDriver(plan), settings_(settings), publisher_(publisher) {
  subscribers_.resize(connections_.size());
}

bool BroadcastDriver::is_publisher(const LoadConnection& connection) const {
  return publisher_ == Publisher::kHere && connection.index() == 0;
}

void BroadcastDriver::scenario_open(LoadConnection& connection) {
  if (is_publisher(connection)) {
    frame_ = MessageFrame(settings_.opcode, settings_.payload_size, connection.mask_key());
  } else {
    ++result_.subscribers;
  }
}

void BroadcastDriver::start_measuring() {
  ThreadDriver::start_measuring();
  if (publisher_ != Publisher::kHere || !connections_[0]->is_open()) return;
  publishing_ = true;
  LoadConnection& publisher = *connections_[0];
  publisher.begin_batch();
  for (std::uint32_t i = 0; i < settings_.inflight && publisher.is_open(); ++i) publish(publisher);
  publisher.end_batch();
}

void BroadcastDriver::stop_measuring() {
  // Stop publishing; deliveries still in flight are received (and counted)
  // until the runner closes the connections.
  ThreadDriver::stop_measuring();
  publishing_ = false;
}

void BroadcastDriver::publish(LoadConnection& connection) {
  frame_.stamp(now(), next_sequence_++);
  result_.published_total = next_sequence_;
  bump(live().outstanding);
  connection.send(frame_.bytes());
}

void BroadcastDriver::on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) {
  if (opcode != settings_.opcode || payload.size() != settings_.payload_size) {
    count_error(ErrorKind::kMismatch);
    return;
  }
  if (is_publisher(connection)) {
    on_own_copy(connection, payload);
  } else {
    on_delivery(connection, payload);
  }
}

void BroadcastDriver::on_own_copy(LoadConnection& connection, std::string_view payload) {
  std::uint64_t sequence = 0;
  if (!decode_field(payload.data() + kTimestampSize, &sequence) || sequence != acked_ || acked_ == next_sequence_) {
    count_error(ErrorKind::kMismatch);
    return;
  }
  ++acked_;
  live().outstanding.store(next_sequence_ - acked_, std::memory_order_relaxed);
  if (measuring_) bump(live().published);
  if (publishing_) publish(connection);
}

void BroadcastDriver::on_delivery(LoadConnection& connection, std::string_view payload) {
  std::uint64_t timestamp = 0;
  std::uint64_t sequence = 0;
  if (!decode_field(payload.data(), &timestamp) || !decode_field(payload.data() + kTimestampSize, &sequence)) {
    count_error(ErrorKind::kMismatch);
    return;
  }
  Subscriber& subscriber = subscribers_[connection.index()];
  if (sequence < subscriber.expected) {
    count_error(ErrorKind::kMismatch);  // a duplicate, or out of order
    return;
  }
  result_.gaps += sequence - subscriber.expected;
  subscriber.expected = sequence + 1;
  result_.latency.record(now() - timestamp);
  bump(live().messages);
}

void BroadcastDriver::scenario_done(LoadConnection& connection) {
  if (connection.handshake_ns() != 0 && !is_publisher(connection)) {
    result_.expected_sum += subscribers_[connection.index()].expected;
  }
}

}  // namespace switchboard::bench
