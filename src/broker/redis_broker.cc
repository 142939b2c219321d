#include "broker/redis_broker.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <map>
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

// Presence (see redis_broker.h). now: Redis's clock, so nodes' clocks
// need not agree. KEYS[1]: the members hash, KEYS[2]: the nodes' expiries.
constexpr std::string_view kNowLua =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

// ARGV: node, field, value, ttl ms.
constexpr std::string_view kJoinScript =
    "redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])\n"
    "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
    "return 1\n";

// ARGV: node, ttl ms, the channel's Redis channel. Sweeps the nodes whose
// expiry passed: deletes their entries and publishes their leave events.
constexpr std::string_view kRefreshScript =
    "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[2])\n"
    "local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now))\n"
    "if #dead == 0 then return 0 end\n"
    "local gone = {}\n"
    "for _, node in ipairs(dead) do gone[node] = true; redis.call('ZREM', KEYS[2], node) end\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local swept = 0\n"
    "for i = 1, #all, 2 do\n"
    "  local node = string.match(all[i], '^([^/]*)/')\n"
    "  if node and gone[node] then\n"
    "    redis.call('HDEL', KEYS[1], all[i])\n"
    "    local newline = string.find(all[i + 1], '\\n', 1, true)\n"
    "    if newline then redis.call('PUBLISH', ARGV[3], 'e -\\n' .. string.sub(all[i + 1], newline + 1)) end\n"
    "    swept = swept + 1\n"
    "  end\n"
    "end\n"
    "return swept\n";

// ARGV: node. The member JSON of every entry of the other live nodes.
constexpr std::string_view kListScript =
    "local live = {}\n"
    "for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], string.format('(%d', now), '+inf')) do\n"
    "  live[node] = true\n"
    "end\n"
    "live[ARGV[1]] = nil\n"
    "local all = redis.call('HGETALL', KEYS[1])\n"
    "local out = {}\n"
    "for i = 1, #all, 2 do\n"
    "  local node = string.match(all[i], '^([^/]*)/')\n"
    "  if node and live[node] then\n"
    "    local newline = string.find(all[i + 1], '\\n', 1, true)\n"
    "    out[#out + 1] = newline and string.sub(all[i + 1], 1, newline - 1) or all[i + 1]\n"
    "  end\n"
    "end\n"
    "return out\n";

std::string with_now(std::string_view script) { return std::string(kNowLua) + std::string(script); }

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
  RedisBroker* broker = nullptr;
  unsigned worker = 0;
  std::unique_ptr<redis::Connection> commands;
  std::unique_ptr<redis::Subscriber> subscriber;
  bool commands_up = false;
  bool subscriber_up = false;
  // Subscribed channels whose SUBSCRIBE Redis has not confirmed yet.
  std::unordered_map<std::string, std::vector<std::function<void()>>, base::StringHash, std::equal_to<>> awaiting;
  // This node's presence entries of the channels this worker owns: channel
  // -> client -> "<member json>\n<leave frame>", to refresh, and to write
  // again after a Redis restart.
  std::unordered_map<std::string, std::map<std::string, std::string, std::less<>>, base::StringHash, std::equal_to<>>
      presence;
  loop::Timer refresh_timer{&RedisBroker::on_refresh_timer, this};
};

// A question this node asked, waiting for the answers.
struct RedisBroker::Question {
  RedisBroker* broker = nullptr;
  std::uint64_t id = 0;
  std::optional<std::uint64_t> expected;  // nodes that got it, once PUBLISH answered
  std::vector<std::string> answers;
  AskDone done;
  loop::Timer timer{&RedisBroker::on_question_timeout, this};
};

RedisBroker::RedisBroker(std::vector<loop::EventLoop*> loops, RedisBrokerOptions options)
    : loops_(std::move(loops)), options_(std::move(options)), node_id_(random_node_id()) {
  for (unsigned worker = 0; worker < loops_.size(); ++worker) {
    workers_.push_back(std::make_unique<WorkerLinks>());
    workers_.back()->broker = this;
    workers_.back()->worker = worker;
    loops_[worker]->post([this, alive = alive_, worker] {
      if (*alive) open(worker);
    });
  }
}

RedisBroker::~RedisBroker() {
  *alive_ = false;
  // A clean stop: this node's presence entries that are left (connections
  // the drain did not close) go at once, with their leave events. The
  // workers' loops have stopped; the connections' destructors send what
  // is queued.
  for (auto& links : workers_) {
    links->refresh_timer.cancel();
    if (!links->commands) continue;
    for (const auto& [channel, members] : links->presence) {
      std::vector<std::string> command{"HDEL", key("pm", channel)};
      for (const auto& [client, value] : members) command.push_back(node_id_ + "/" + client);
      const std::vector<std::string_view> argv(command.begin(), command.end());
      links->commands->command(argv, {});
      links->commands->command({"ZREM", key("pn", channel), node_id_}, {});
      for (const auto& [client, value] : members) {
        const std::size_t newline = value.find('\n');
        links->commands->command({"PUBLISH", channel_key(channel), "e -\n" + value.substr(newline + 1)}, {});
      }
    }
  }
}

void RedisBroker::open(unsigned worker) {
  WorkerLinks& links = *workers_[worker];
  loop::EventLoop& loop = *loops_[worker];
  links.commands = std::make_unique<redis::Connection>(loop, options_.endpoint, options_.connection);
  links.commands->on_state([this, &links](bool up) {
    set_link_up(links.commands_up, up);
    if (up) restore_presence(links);  // Redis may have restarted empty
  });
  links.subscriber = std::make_unique<redis::Subscriber>(loop, options_.endpoint, options_.connection);
  // Up for readiness once every wanted channel is confirmed again after a
  // reconnect (on_settled), not when the TCP connection is: until then a
  // publish from another node would miss this node's subscribers.
  links.subscriber->on_settled([this, &links] { set_link_up(links.subscriber_up, true); });
  links.subscriber->on_state([this, &links](bool up) {
    if (up) return;  // on_settled says when
    set_link_up(links.subscriber_up, false);
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
  if (worker == 0) {
    links.subscriber->subscribe(key("nodes", "all"));
    links.subscriber->subscribe(key("node", node_id_));
  }
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

std::string RedisBroker::key(std::string_view kind, std::string_view channel) const {
  std::string key = options_.key_prefix;
  key += kind;
  key += ":{";
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

void RedisBroker::write_member(WorkerLinks& links, std::string_view channel, std::string_view client,
                               std::string_view value) {
  static const std::string script = with_now(kJoinScript);
  const std::string field = node_id_ + "/" + std::string(client);
  const std::string ttl = std::to_string(options_.presence_ttl_ms);
  links.commands->command({"EVAL", script, "2", key("pm", channel), key("pn", channel), node_id_, field, value, ttl},
                          {});
}

void RedisBroker::presence_join(unsigned owner_worker, std::string_view channel, const PresenceEntry& entry) {
  WorkerLinks& links = *workers_[owner_worker];
  std::string value(entry.member_json);
  value += '\n';
  value += entry.leave_frame;
  if (links.commands) write_member(links, channel, entry.client, value);
  links.presence[std::string(channel)].insert_or_assign(std::string(entry.client), std::move(value));
  if (!links.refresh_timer.armed()) loops_[owner_worker]->arm(links.refresh_timer, options_.presence_ttl_ms / 3);
}

void RedisBroker::presence_leave(unsigned owner_worker, std::string_view channel, std::string_view client) {
  WorkerLinks& links = *workers_[owner_worker];
  auto it = links.presence.find(channel);
  if (it == links.presence.end()) return;
  if (auto member = it->second.find(client); member != it->second.end()) it->second.erase(member);
  if (links.commands) links.commands->command({"HDEL", key("pm", channel), node_id_ + "/" + std::string(client)}, {});
  if (it->second.empty()) {
    links.presence.erase(it);
    // This node has no member here now: others need not wait for its expiry.
    if (links.commands) links.commands->command({"ZREM", key("pn", channel), node_id_}, {});
  }
}

void RedisBroker::presence_elsewhere(unsigned owner_worker, std::string_view channel, PresenceDone done) {
  WorkerLinks& links = *workers_[owner_worker];
  if (!links.commands) {
    done(PublishStatus::kUnavailable, {});
    return;
  }
  static const std::string script = with_now(kListScript);
  links.commands->command({"EVAL", script, "2", key("pm", channel), key("pn", channel), node_id_},
                          [done = std::move(done)](const redis::Reply& reply) {
                            if (reply.type != redis::ReplyType::kArray) {
                              done(PublishStatus::kUnavailable, {});
                              return;
                            }
                            std::vector<std::string> members;
                            for (const redis::Reply& element : reply.elements) members.push_back(element.str);
                            done(PublishStatus::kAccepted, std::move(members));
                          });
}

void RedisBroker::publish_event(unsigned owner_worker, std::string_view channel, std::string_view frame) {
  WorkerLinks& links = *workers_[owner_worker];
  if (!links.commands) return;
  std::string envelope = "e " + node_id_ + "\n";
  envelope += frame;
  links.commands->command({"PUBLISH", channel_key(channel), envelope}, {});
}

void RedisBroker::ask_nodes(std::string_view question, AskDone done) {
  WorkerLinks& links = *workers_[0];
  if (!links.commands || !links.commands_up) {
    done({}, false);
    return;
  }
  const std::uint64_t id = ++next_question_;
  auto waiting = std::make_unique<Question>();
  waiting->broker = this;
  waiting->id = id;
  waiting->done = std::move(done);
  loops_[0]->arm(waiting->timer, options_.ask_timeout_ms);
  questions_.emplace(id, std::move(waiting));
  std::string envelope = std::to_string(id) + " " + node_id_ + "\n";
  envelope += question;
  // PUBLISH answers how many nodes got the question: the answers to expect.
  links.commands->command({"PUBLISH", key("nodes", "all"), envelope}, [this, id](const redis::Reply& reply) {
    auto it = questions_.find(id);
    if (it == questions_.end()) return;
    if (reply.type != redis::ReplyType::kInteger) {
      finish_question(id, false);
      return;
    }
    it->second->expected = static_cast<std::uint64_t>(std::max(0LL, reply.integer));
    if (it->second->answers.size() >= *it->second->expected) finish_question(id, true);
  });
}

void RedisBroker::count_distinct(CountsDone done) {
  WorkerLinks& links = *workers_[0];
  if (!links.commands || !links.commands_up) {
    done(false, 0, 0);
    return;
  }
  // Pipelined: the second reply comes after the first.
  auto users = std::make_shared<std::optional<std::uint64_t>>();
  links.commands->command({"PUBSUB", "CHANNELS", options_.key_prefix + "user:{*"}, [users](const redis::Reply& reply) {
    if (reply.type == redis::ReplyType::kArray) *users = reply.elements.size();
  });
  links.commands->command({"PUBSUB", "CHANNELS", options_.key_prefix + "ch:{*"},
                          [users, done = std::move(done)](const redis::Reply& reply) {
                            if (!*users || reply.type != redis::ReplyType::kArray) {
                              done(false, 0, 0);
                              return;
                            }
                            done(true, **users, reply.elements.size());
                          });
}

void RedisBroker::on_question(std::string_view payload) {
  const std::size_t newline = payload.find('\n');
  const std::size_t space = payload.find(' ');
  if (newline == std::string_view::npos || space == std::string_view::npos || space > newline) return;
  std::uint64_t id = 0;
  if (!parse_number(payload.substr(0, space), &id)) return;
  const std::string asker(payload.substr(space + 1, newline - space - 1));
  sink_->on_question(payload.substr(newline + 1), [this, alive = alive_, asker, id](std::string answer) {
    loops_[0]->post([this, alive, asker, id, answer = std::move(answer)] {
      if (!*alive || !workers_[0]->commands) return;
      std::string envelope = std::to_string(id) + "\n";
      envelope += answer;
      workers_[0]->commands->command({"PUBLISH", key("node", asker), envelope}, {});
    });
  });
}

void RedisBroker::on_answer(std::string_view payload) {
  const std::size_t newline = payload.find('\n');
  std::uint64_t id = 0;
  if (newline == std::string_view::npos || !parse_number(payload.substr(0, newline), &id)) return;
  auto it = questions_.find(id);
  if (it == questions_.end()) return;  // too late
  Question& question = *it->second;
  question.answers.emplace_back(payload.substr(newline + 1));
  if (question.expected && question.answers.size() >= *question.expected) finish_question(id, true);
}

void RedisBroker::finish_question(std::uint64_t id, bool complete) {
  auto it = questions_.find(id);
  if (it == questions_.end()) return;
  std::unique_ptr<Question> question = std::move(it->second);
  questions_.erase(it);
  question->done(std::move(question->answers), complete);
}

void RedisBroker::on_question_timeout(void* context) {
  auto& question = *static_cast<Question*>(context);
  question.broker->finish_question(question.id, false);
}

void RedisBroker::on_refresh_timer(void* context) {
  auto& links = *static_cast<WorkerLinks*>(context);
  links.broker->refresh_presence(links);
}

void RedisBroker::refresh_presence(WorkerLinks& links) {
  if (links.presence.empty()) return;  // armed again by the next join
  static const std::string script = with_now(kRefreshScript);
  const std::string ttl = std::to_string(options_.presence_ttl_ms);
  for (const auto& [channel, members] : links.presence) {
    links.commands->command(
        {"EVAL", script, "2", key("pm", channel), key("pn", channel), node_id_, ttl, channel_key(channel)}, {});
  }
  loops_[links.worker]->arm(links.refresh_timer, options_.presence_ttl_ms / 3);
}

void RedisBroker::restore_presence(WorkerLinks& links) {
  for (const auto& [channel, members] : links.presence) {
    for (const auto& [client, value] : members) write_member(links, channel, client, value);
  }
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
  } else if (worker == 0 && name == "nodes:{all") {
    on_question(payload);
  } else if (worker == 0 && name.starts_with("node:{")) {
    on_answer(payload);
  }
}

void RedisBroker::on_channel_message(unsigned worker, std::string_view channel, std::string_view payload) {
  // "<offset> <node> <exclude>\n<data>" or "e <node>\n<frame>"
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos) return;
  if (payload.starts_with("e ")) {
    // An event: this node's own were delivered here when they happened.
    if (payload.substr(2, newline - 2) == node_id_) return;
    sink_->on_channel_event(worker, channel, payload.substr(newline + 1));
    return;
  }
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
