#include "bench/pubsub_scenario.h"

#include <charconv>
#include <cstring>


namespace switchboard::bench {
namespace {

constexpr std::string_view kMessagePrefix = R"({"type":"message",)";
constexpr std::string_view kReplyPrefix = R"({"type":"reply",)";
constexpr std::string_view kErrorPrefix = R"({"type":"error",)";
constexpr std::size_t kRefusalTextMax = 200;
constexpr std::string_view kDataField = R"("data":")";
constexpr std::size_t kHexDigits = 16;

void append_hex(std::string& out, std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(kDigits[(value >> shift) & 0xF]);
}

bool read_hex(std::string_view text, std::uint64_t* value) {
  if (text.size() < kHexDigits) return false;
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < kHexDigits; ++i) {
    const char c = text[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
    if (digit < 0) return false;
    result = (result << 4) | static_cast<std::uint64_t>(digit);
  }
  *value = result;
  return true;
}

std::string channel_name(std::uint32_t channel) { return "bench." + std::to_string(channel); }

// The unsigned integer right after `"field":` in text.
template <typename Integer>
bool read_field(std::string_view text, std::string_view field, Integer* value) {
  const std::size_t at = text.find(field);
  if (at == std::string_view::npos) return false;
  const char* begin = text.data() + at + field.size();
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(begin, end, *value);
  return result.ec == std::errc() && result.ptr != begin;
}

}  // namespace

std::uint64_t published_to_channel(std::uint64_t published, std::uint32_t k, std::uint32_t n) {
  return published / n + (k < published % n ? 1 : 0);
}

std::uint64_t missing_deliveries(const std::vector<std::uint64_t>& channel_subscribers,
                                 const std::vector<std::uint64_t>& channel_received,
                                 const std::vector<std::uint64_t>& channel_refused, std::uint64_t published_total) {
  const auto channels = static_cast<std::uint32_t>(channel_subscribers.size());
  std::uint64_t missing = 0;
  for (std::uint32_t k = 0; k < channels; ++k) {
    const std::uint64_t sent = published_to_channel(published_total, k, channels);
    const std::uint64_t refused = k < channel_refused.size() ? channel_refused[k] : 0;
    const std::uint64_t due = channel_subscribers[k] * (sent > refused ? sent - refused : 0);
    const std::uint64_t received = k < channel_received.size() ? channel_received[k] : 0;
    if (due > received) missing += due - received;
  }
  return missing;
}

bool parse_refusal(std::string_view text, std::uint64_t* id, std::uint32_t* code) {
  if (!text.starts_with(kErrorPrefix)) return false;
  return read_field(text, R"("id":)", id) && read_field(text, R"("code":)", code);
}

bool parse_delivery(std::string_view text, std::uint64_t* timestamp, std::uint64_t* sequence) {
  if (!text.starts_with(kMessagePrefix)) return false;
  const std::size_t data = text.find(kDataField);
  if (data == std::string_view::npos) return false;
  const std::string_view digits = text.substr(data + kDataField.size());
  return read_hex(digits, timestamp) && read_hex(digits.substr(kHexDigits), sequence);
}

void write_publish(std::string& out, std::uint64_t id, std::uint32_t channel, std::uint64_t timestamp,
                   std::uint64_t sequence, std::uint32_t payload_size) {
  out.clear();
  out += R"({"id":)";
  out += std::to_string(id);
  out += R"(,"type":"publish","channel":"bench.)";
  out += std::to_string(channel);
  out += R"(","data":")";
  append_hex(out, timestamp);
  append_hex(out, sequence);
  out.append(payload_size - 2 * kHexDigits, 'x');
  out += "\"}";
}

PubsubDriver::PubsubDriver(const ThreadPlan& plan, const PubsubSettings& settings, Publisher publisher)
    : ThreadDriver(plan), settings_(settings), publisher_(publisher) {
  subscribers_.resize(connections_.size());
  result_.channel_subscribers.assign(settings_.channels, 0);
  result_.channel_received.assign(settings_.channels, 0);
  result_.channel_refused.assign(settings_.channels, 0);
}

bool PubsubDriver::is_publisher(const LoadConnection& connection) const {
  return publisher_ == Publisher::kHere && connection.index() == 0;
}

void PubsubDriver::scenario_open(LoadConnection& connection) {
  if (is_publisher(connection)) return;
  // Connection i of thread t is connection i * threads + t of the run.
  const std::uint64_t global = std::uint64_t{connection.index()} * plan_.thread_count + plan_.thread_index;
  Subscriber& subscriber = subscribers_[connection.index()];
  subscriber.channel = static_cast<std::uint32_t>(global % settings_.channels);
  subscriber.next_sequence = subscriber.channel;
  ++result_.subscribers;
  ++result_.channel_subscribers[subscriber.channel];
  const std::string command = R"({"id":1,"type":"subscribe","channel":")" + channel_name(subscriber.channel) + "\"}";
  connection.send_text(command, frame_);
}

void PubsubDriver::start_measuring() {
  ThreadDriver::start_measuring();
  if (publisher_ != Publisher::kHere || !connections_[0]->is_open()) return;
  publishing_ = true;
  LoadConnection& publisher = *connections_[0];
  publisher.begin_batch();
  for (std::uint32_t i = 0; i < settings_.inflight && publisher.is_open(); ++i) publish(publisher);
  publisher.end_batch();
}

void PubsubDriver::stop_measuring() {
  ThreadDriver::stop_measuring();
  publishing_ = false;
  retry_timer_.cancel();
  refused_slots_ = 0;
}

void PubsubDriver::publish(LoadConnection& connection) {
  const std::uint64_t sequence = next_sequence_++;
  write_publish(json_, sequence + 1, static_cast<std::uint32_t>(sequence % settings_.channels), now(), sequence,
                settings_.payload_size);
  result_.published_total = next_sequence_;
  ++in_flight_;
  live().outstanding.store(in_flight_, std::memory_order_relaxed);
  connection.send_text(json_, frame_);
}

void PubsubDriver::on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) {
  if (opcode != Opcode::kText) {
    count_error(ErrorKind::kMismatch, "a binary frame");
    return;
  }
  if (is_publisher(connection)) {
    on_publisher_frame(connection, payload);
  } else {
    on_subscriber_frame(connection, payload);
  }
}

void PubsubDriver::on_publisher_frame(LoadConnection& connection, std::string_view text) {
  std::uint64_t id = 0;
  std::uint32_t code = 0;
  if (in_flight_ > 0 && parse_refusal(text, &id, &code) && id >= 1 && id <= next_sequence_) {
    on_refused(id, text);
    return;
  }
  if (!text.starts_with(kReplyPrefix) || in_flight_ == 0) {
    count_error(ErrorKind::kMismatch, text.substr(0, 120));
    return;
  }
  --in_flight_;
  live().outstanding.store(in_flight_, std::memory_order_relaxed);
  if (measuring_) bump(live().published);
  if (publishing_) publish(connection);
}

// Publish `id` (sequence id - 1) was not run: it is owed to no one.
void PubsubDriver::on_refused(std::uint64_t id, std::string_view text) {
  ++result_.channel_refused[(id - 1) % settings_.channels];
  if (result_.first_refusal.empty()) result_.first_refusal = std::string(text.substr(0, kRefusalTextMax));
  --in_flight_;
  live().outstanding.store(in_flight_, std::memory_order_relaxed);
  if (!publishing_) return;
  ++refused_slots_;
  if (!retry_timer_.armed()) loop_.arm(retry_timer_, kRefusedRetryMs);
}

void PubsubDriver::retry_refused(void* self) {
  auto* driver = static_cast<PubsubDriver*>(self);
  LoadConnection& publisher = *driver->connections_[0];
  const std::uint32_t slots = driver->refused_slots_;
  driver->refused_slots_ = 0;
  if (!driver->publishing_ || !publisher.is_open()) return;
  publisher.begin_batch();
  for (std::uint32_t i = 0; i < slots && publisher.is_open(); ++i) driver->publish(publisher);
  publisher.end_batch();
}

void PubsubDriver::on_subscriber_frame(LoadConnection& connection, std::string_view text) {
  Subscriber& subscriber = subscribers_[connection.index()];
  std::uint64_t timestamp = 0;
  std::uint64_t sequence = 0;
  if (!parse_delivery(text, &timestamp, &sequence)) {
    if (text.starts_with(kReplyPrefix)) {
      bump(live().ready);  // the subscribe reply
    } else {
      count_error(ErrorKind::kMismatch, text.substr(0, 120));
    }
    return;
  }
  // A gap (sequence > next) is a refused publish or a lost delivery: the
  // runner tells them apart per channel.
  if (sequence < subscriber.next_sequence) {
    count_error(ErrorKind::kMismatch, "a message out of order or duplicated");
    return;
  }
  subscriber.next_sequence = sequence + settings_.channels;
  ++result_.channel_received[subscriber.channel];
  result_.latency.record(now() - timestamp);
  bump(live().messages);
}

void PubsubDriver::scenario_done(LoadConnection&) {}

}  // namespace switchboard::bench
