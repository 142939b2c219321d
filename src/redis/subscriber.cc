#include "redis/subscriber.h"

#include <vector>

namespace switchboard::redis {
namespace {

// Channels per SUBSCRIBE sent after a reconnect. SSUBSCRIBE takes one at a
// time: on a cluster, the channels of one SSUBSCRIBE must share a slot.
constexpr std::size_t kChannelsPerCommand = 256;

}  // namespace

Subscriber::Subscriber(loop::EventLoop& loop, Endpoint endpoint, Options options, Sharding sharding)
    : sharding_(sharding), link_(loop, std::move(endpoint), options, *this) {}

Subscriber::~Subscriber() { *alive_ = false; }

void Subscriber::subscribe(std::string_view channel) {
  if (!wanted_.emplace(channel).second) return;
  if (!is_up()) return;
  std::string_view channels[] = {channel};
  send(sharding_ == Sharding::kYes ? "SSUBSCRIBE" : "SUBSCRIBE", channels);
}

void Subscriber::unsubscribe(std::string_view channel) {
  auto it = wanted_.find(channel);
  if (it == wanted_.end()) return;
  wanted_.erase(it);
  if (!is_up()) return;
  std::string_view channels[] = {channel};
  send(sharding_ == Sharding::kYes ? "SUNSUBSCRIBE" : "UNSUBSCRIBE", channels);
}

void Subscriber::send(std::string_view verb, std::span<const std::string_view> channels) {
  std::vector<std::string_view> argv;
  argv.reserve(channels.size() + 1);
  argv.push_back(verb);
  argv.insert(argv.end(), channels.begin(), channels.end());
  link_.send(argv);
  awaiting_.insert(awaiting_.end(), channels.size(), link_.loop().now_ms());
  link_.watch_health();
}

void Subscriber::on_link_ready() {
  confirmed_count_ = 0;
  settling_ = true;
  std::string_view verb = sharding_ == Sharding::kYes ? "SSUBSCRIBE" : "SUBSCRIBE";
  std::size_t per_command = sharding_ == Sharding::kYes ? 1 : kChannelsPerCommand;
  std::vector<std::string_view> batch;
  for (const auto& channel : wanted_) {
    batch.push_back(channel);
    if (batch.size() == per_command) {
      send(verb, batch);
      batch.clear();
    }
  }
  if (!batch.empty()) send(verb, batch);
  auto alive = alive_;
  report(Availability::kUp);
  if (*alive) settle_if_confirmed();
}

void Subscriber::settle_if_confirmed() {
  if (!settling_ || !awaiting_.empty()) return;
  settling_ = false;
  if (on_settled_) on_settled_();
}

void Subscriber::on_link_reply(Reply&& reply) {
  // Pushes and confirmations are arrays: [kind, channel, payload-or-count].
  if (reply.is_error()) {
    // A refused (S)SUBSCRIBE (e.g. SSUBSCRIBE before Redis 7) answers with
    // one error instead of a confirmation per channel; count it as one.
    if (!awaiting_.empty()) awaiting_.pop_front();
    settle_if_confirmed();
    return;
  }
  if (reply.type != ReplyType::kArray || reply.elements.size() != 3) return;
  const std::string& kind = reply.elements[0].str;
  const Reply& channel = reply.elements[1];
  const Reply& third = reply.elements[2];
  if (kind == "message" || kind == "smessage") {
    if (on_message_ && wants(channel.str)) on_message_(channel.str, third.str);
    return;
  }
  if (kind == "subscribe" || kind == "unsubscribe" || kind == "ssubscribe" || kind == "sunsubscribe") {
    if (!awaiting_.empty()) awaiting_.pop_front();
    confirmed_count_ = third.integer;
    auto alive = alive_;
    if ((kind == "subscribe" || kind == "ssubscribe") && on_subscribed_ && wants(channel.str)) {
      on_subscribed_(channel.str);
    }
    if (*alive) settle_if_confirmed();
  }
}

void Subscriber::on_link_down(const std::string&) {
  settling_ = false;
  awaiting_.clear();
  confirmed_count_ = 0;
  report(Availability::kDown);
}

std::optional<std::uint64_t> Subscriber::oldest_outstanding_ms() const {
  if (awaiting_.empty()) return std::nullopt;
  return awaiting_.front();
}

void Subscriber::report(Availability availability) {
  if (reported_ == availability) return;
  reported_ = availability;
  if (on_state_) on_state_(availability);
}

}  // namespace switchboard::redis
