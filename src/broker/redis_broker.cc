#include "broker/redis_broker.h"

#include <charconv>
#include <random>
#include <unordered_map>

#include "base/string_hash.h"
#include "loop/event_loop.h"
#include "redis/connection.h"
#include "redis/subscriber.h"

namespace switchboard::broker {
namespace {

// KEYS[1]: the channel's offset counter; ARGV[1]: its Redis channel;
// ARGV[2]: "<node> <exclude>\n<data>"; ARGV[3]: the counter's TTL in ms.
constexpr std::string_view kPublishScript =
    "local offset = redis.call('INCR', KEYS[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('PUBLISH', ARGV[1], offset .. ' ' .. ARGV[2])\n"
    "return offset\n";

std::string random_node_id() {
  std::random_device device;
  const std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

bool parse_number(std::string_view text, std::uint64_t* value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

// One worker's connections and what it waits for; touched only on that worker.
struct RedisBroker::WorkerLinks {
  std::unique_ptr<redis::Connection> commands;
  std::unique_ptr<redis::Subscriber> subscriber;
  bool commands_up = false;
  bool subscriber_up = false;
  // Subscribed channels whose SUBSCRIBE Redis has not confirmed yet.
  std::unordered_map<std::string, std::vector<std::function<void()>>, base::StringHash, std::equal_to<>> awaiting;
};

RedisBroker::RedisBroker(std::vector<loop::EventLoop*> loops, RedisBrokerOptions options)
    : loops_(std::move(loops)), options_(std::move(options)), node_id_(random_node_id()) {
  for (unsigned worker = 0; worker < loops_.size(); ++worker) {
    workers_.push_back(std::make_unique<WorkerLinks>());
    loops_[worker]->post([this, alive = alive_, worker] {
      if (*alive) open(worker);
    });
  }
}

RedisBroker::~RedisBroker() { *alive_ = false; }

void RedisBroker::open(unsigned worker) {
  WorkerLinks& links = *workers_[worker];
  loop::EventLoop& loop = *loops_[worker];
  links.commands = std::make_unique<redis::Connection>(loop, options_.endpoint, options_.connection);
  links.commands->on_state([this, &links](bool up) { set_link_up(links.commands_up, up); });
  links.subscriber = std::make_unique<redis::Subscriber>(loop, options_.endpoint, options_.connection);
  links.subscriber->on_state([this, &links](bool up) {
    set_link_up(links.subscriber_up, up);
    if (up) return;
    // Down: nothing can be missed from a Redis we cannot reach, and the
    // channels are resubscribed on reconnect. Waiters go on now.
    auto awaiting = std::move(links.awaiting);
    links.awaiting.clear();
    for (auto& [channel, callbacks] : awaiting) {
      for (auto& callback : callbacks) callback();
    }
  });
  links.subscriber->on_subscribed([&links](std::string_view redis_channel) {
    auto it = links.awaiting.find(redis_channel);
    if (it == links.awaiting.end()) return;
    auto callbacks = std::move(it->second);
    links.awaiting.erase(it);
    for (auto& callback : callbacks) callback();
  });
  links.subscriber->on_message([this, worker](std::string_view redis_channel, std::string_view payload) {
    on_message(worker, redis_channel, payload);
  });
}

void RedisBroker::set_link_up(bool& flag, bool up) {
  if (flag == up) return;
  flag = up;
  if (up) {
    links_up_.fetch_add(1, std::memory_order_relaxed);
  } else {
    links_up_.fetch_sub(1, std::memory_order_relaxed);
  }
}

bool RedisBroker::healthy() const { return links_up_.load(std::memory_order_relaxed) == 2 * loops_.size(); }

std::string RedisBroker::channel_key(std::string_view channel) const {
  std::string key = options_.key_prefix;
  key += "ch:{";
  key += channel;
  key += '}';
  return key;
}

std::string RedisBroker::user_key(std::string_view user) const {
  std::string key = options_.key_prefix;
  key += "user:{";
  key += user;
  key += '}';
  return key;
}

void RedisBroker::subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) {
  WorkerLinks& links = *workers_[owner_worker];
  std::string redis_channel = channel_key(channel);
  if (!links.subscriber || !links.subscriber->is_up()) {
    if (links.subscriber) links.subscriber->subscribe(redis_channel);
    in_place();
    return;
  }
  links.subscriber->subscribe(redis_channel);
  links.awaiting[redis_channel].push_back(std::move(in_place));
}

void RedisBroker::unsubscribe(unsigned owner_worker, std::string_view channel) {
  WorkerLinks& links = *workers_[owner_worker];
  const std::string redis_channel = channel_key(channel);
  if (links.subscriber) links.subscriber->unsubscribe(redis_channel);
  // Whoever still waits for the SUBSCRIBE is told now: it is moot.
  if (auto it = links.awaiting.find(redis_channel); it != links.awaiting.end()) {
    auto callbacks = std::move(it->second);
    links.awaiting.erase(it);
    for (auto& callback : callbacks) callback();
  }
}

void RedisBroker::publish(unsigned owner_worker, const Publication& publication, PublishDone done) {
  WorkerLinks& links = *workers_[owner_worker];
  if (!links.commands) {
    done({PublishStatus::kUnavailable, 0});
    return;
  }
  const std::string channel(publication.channel);
  const std::string key = options_.key_prefix + "off:{" + channel + "}";
  const std::string redis_channel = channel_key(channel);
  std::string envelope = node_id_ + ' ' + std::to_string(publication.exclude_client) + '\n';
  envelope += publication.data_json;
  const std::string ttl = std::to_string(options_.offset_ttl_ms);
  links.commands->command({"EVAL", kPublishScript, "1", key, redis_channel, envelope, ttl},
                          [done = std::move(done)](const redis::Reply& reply) {
                            if (reply.type != redis::ReplyType::kInteger || reply.integer <= 0) {
                              done({PublishStatus::kUnavailable, 0});
                              return;
                            }
                            done({PublishStatus::kAccepted, static_cast<std::uint64_t>(reply.integer)});
                          });
}

void RedisBroker::watch_user(unsigned owner_worker, std::string_view user) {
  WorkerLinks& links = *workers_[owner_worker];
  if (links.subscriber) links.subscriber->subscribe(user_key(user));
}

void RedisBroker::unwatch_user(unsigned owner_worker, std::string_view user) {
  WorkerLinks& links = *workers_[owner_worker];
  if (links.subscriber) links.subscriber->unsubscribe(user_key(user));
}

void RedisBroker::send_to_user(unsigned owner_worker, const UserMessage& message, UserSendDone done) {
  WorkerLinks& links = *workers_[owner_worker];
  if (!links.commands) {
    done({PublishStatus::kUnavailable, 0});
    return;
  }
  std::string envelope = node_id_;
  envelope += message.kind == UserMessageKind::kDirect ? " m " : " d ";
  envelope += message.elsewhere_only ? "1\n" : "0\n";
  envelope += message.text;
  // PUBLISH answers how many subscribers got it: one per watching node,
  // this one included when it watches the user.
  const std::string key = user_key(message.user);
  const bool counts_self = message.elsewhere_only && links.subscriber && links.subscriber->wants(key);
  links.commands->command({"PUBLISH", key, envelope}, [done = std::move(done), counts_self](const redis::Reply& reply) {
    if (reply.type != redis::ReplyType::kInteger || reply.integer < 0) {
      done({PublishStatus::kUnavailable, 0});
      return;
    }
    std::uint64_t nodes = static_cast<std::uint64_t>(reply.integer);
    if (counts_self && nodes > 0) --nodes;
    done({PublishStatus::kAccepted, nodes});
  });
}

void RedisBroker::on_message(unsigned worker, std::string_view redis_channel, std::string_view payload) {
  // "sb:ch:{channel}" or "sb:user:{user}"
  const std::string_view prefix = options_.key_prefix;
  if (!redis_channel.starts_with(prefix) || !redis_channel.ends_with('}')) return;
  std::string_view name = redis_channel.substr(prefix.size());
  name.remove_suffix(1);
  if (name.starts_with("ch:{")) {
    on_channel_message(worker, name.substr(4), payload);
  } else if (name.starts_with("user:{")) {
    on_user_message(worker, name.substr(6), payload);
  }
}

void RedisBroker::on_channel_message(unsigned worker, std::string_view channel, std::string_view payload) {
  // "<offset> <node> <exclude>\n<data>"
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos) return;
  const std::string_view head = payload.substr(0, newline);
  const std::size_t first = head.find(' ');
  const std::size_t second = head.find(' ', first == std::string_view::npos ? head.size() : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return;
  std::uint64_t offset = 0;
  std::uint64_t exclude = 0;
  if (!parse_number(head.substr(0, first), &offset) || !parse_number(head.substr(second + 1), &exclude)) return;
  const std::string_view node = head.substr(first + 1, second - first - 1);
  if (node != node_id_) exclude = 0;  // that client id belongs to another process
  sink_->on_publication(worker, Publication{channel, offset, payload.substr(newline + 1), exclude});
}

void RedisBroker::on_user_message(unsigned worker, std::string_view user, std::string_view payload) {
  // "<node> <m|d> <0|1 elsewhere>\n<text>"
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos || newline < 5) return;
  const std::string_view head = payload.substr(0, newline);
  const std::string_view node = head.substr(0, newline - 4);
  const char kind = head[newline - 3];
  const char elsewhere = head[newline - 1];
  if (head[newline - 4] != ' ' || head[newline - 2] != ' ' || (kind != 'm' && kind != 'd')) return;
  if (elsewhere == '1' && node == node_id_) return;  // acted on where it was sent
  const UserMessage message{user, kind == 'm' ? UserMessageKind::kDirect : UserMessageKind::kDisconnect,
                            payload.substr(newline + 1), elsewhere == '1'};
  sink_->on_user_message(worker, message);
}

}  // namespace switchboard::broker
