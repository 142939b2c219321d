// RedisBroker: connections, channels and users. Presence is in
// redis_broker_presence.cc, questions between nodes in
// redis_broker_questions.cc.
#include "broker/redis_broker.h"

#include <random>

#include "base/log.h"
#include "broker/envelope.h"
#include "broker/redis_broker_links.h"
#include "loop/event_loop.h"

namespace switchboard::broker {
namespace {

// KEYS[1]: the channel's offset counter; ARGV[1]: its Redis channel;
// ARGV[2]: "<node> <exclude>\n<data>"; ARGV[3]: the counter's TTL in ms.
std::string make_publish_script(std::string_view publish_verb) {
  return "local offset = redis.call('INCR', KEYS[1])\n"
         "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
         "redis.call('" +
         std::string(publish_verb) +
         "', ARGV[1], offset .. ' ' .. ARGV[2])\n"
         "return offset\n";
}

std::string random_node_id() {
  std::random_device device;
  const std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace

RedisBroker::RedisBroker(std::vector<loop::EventLoop*> loops, RedisBrokerOptions options)
    : loops_(std::move(loops)),
      options_(std::move(options)),
      publish_verb_(options_.cluster ? "SPUBLISH" : "PUBLISH"),
      scripts_{make_lua_script(make_publish_script(publish_verb_)), stream_publish_script(publish_verb_),
               stream_read_script()},
      refresh_script_(make_refresh_script(publish_verb_)),
      offset_ttl_text_(std::to_string(options_.offset_ttl_ms)),
      node_id_(random_node_id()) {
  // The loops are not running yet: the connections can be made here, and
  // they start connecting from tasks they post to their loop.
  for (unsigned worker = 0; worker < loops_.size(); ++worker) {
    workers_.push_back(std::make_unique<WorkerLinks>());
    workers_.back()->broker = this;
    workers_.back()->worker = worker;
    open(worker);
  }
}

RedisBroker::~RedisBroker() {
  *alive_ = false;
  withdraw_presence();
}

void RedisBroker::open(unsigned worker) {
  WorkerLinks& links = *workers_[worker];
  if (options_.cluster) {
    links.map = std::make_shared<const redis::ClusterMap>(*options_.cluster);
    for (const redis::Endpoint& master : links.map->masters) links.map_shard.push_back(open_shard(links, master));
  } else {
    open_shard(links, options_.endpoint);
  }
  if (worker == 0) {
    links_for(0, key("nodes", "all")).subscriber->subscribe(key("nodes", "all"));
    links_for(0, key("node", node_id_)).subscriber->subscribe(key("node", node_id_));
    links_for(0, key("all", "all")).subscriber->subscribe(key("all", "all"));
    if (options_.cluster && options_.cluster_refresh_ms > 0)
      loops_[0]->arm(links.cluster_timer, options_.cluster_refresh_ms);
  }
}

unsigned RedisBroker::open_shard(WorkerLinks& worker_links, const redis::Endpoint& master) {
  loop::EventLoop& loop = *loops_[worker_links.worker];
  const unsigned worker = worker_links.worker;
  const unsigned shard = static_cast<unsigned>(worker_links.shards.size());
  worker_links.shards.push_back(std::make_unique<ShardLinks>());
  worker_links.masters.push_back(master);
  links_expected_.fetch_add(2, std::memory_order_relaxed);
  ShardLinks& links = *worker_links.shards.back();
  links.commands = std::make_unique<redis::Connection>(loop, master, options_.connection);
  links.commands->on_state([this, &links, &worker_links, shard](redis::Availability availability) {
    set_link_up(links, links.commands_up, availability);
    const bool up = availability == redis::Availability::kUp;
    if (!up) links.scripts_loaded = {};
    if (worker_links.worker == 0) {
      // Once per change of state and master (not per worker, not per retry).
      const redis::Endpoint& master = worker_links.masters[shard];
      if (up) {
        base::log(base::LogLevel::kInfo, "broker: redis %s:%u connected", master.host.c_str(), master.port);
      } else {
        base::log(base::LogLevel::kWarn, "broker: redis %s:%u unreachable: %s (retrying with backoff)",
                  master.host.c_str(), master.port, links.commands->last_error().c_str());
      }
    }
    if (up) restore_presence(worker_links, shard);  // Redis may have restarted empty
    // The master is back: the pub/sub connection need not wait out its
    // own backoff (and miss more meanwhile).
    if (up && links.subscriber) links.subscriber->retry_now();
  });
  links.subscriber = std::make_unique<redis::Subscriber>(
      loop, master, options_.connection, options_.cluster ? redis::Sharding::kYes : redis::Sharding::kNo);
  // Up for readiness once every wanted channel is confirmed again after a
  // reconnect (on_settled), not when the TCP connection is: until then a
  // publish from another node would miss this node's subscribers.
  links.subscriber->on_settled([this, &links, worker] {
    set_link_up(links, links.subscriber_up, redis::Availability::kUp);
    // Resubscribed after an outage: what was published meanwhile is in the
    // channels' streams, not on pub/sub.
    sink_->on_link_restored(worker);
  });
  links.subscriber->on_state([this, &links](redis::Availability availability) {
    if (availability == redis::Availability::kUp) {
      // The master is back: the command connection need not wait out its
      // own backoff. The streams' catch-up reads after on_settled go on
      // it, and with it still down they would go unanswered: the
      // subscribers would get `reset` instead of what they missed.
      links.commands->retry_now();
      return;  // on_settled says when the pub/sub link is up
    }
    set_link_up(links, links.subscriber_up, redis::Availability::kDown);
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
  return shard;
}

void RedisBroker::set_link_up(ShardLinks& links, bool& flag, redis::Availability availability) {
  const bool up = availability == redis::Availability::kUp;
  if (flag == up) return;
  flag = up;
  if (links.retired) return;  // no longer counted
  if (up) {
    links_up_.fetch_add(1, std::memory_order_relaxed);
  } else {
    links_up_.fetch_sub(1, std::memory_order_relaxed);
  }
}

bool RedisBroker::healthy() const {
  return links_up_.load(std::memory_order_relaxed) == links_expected_.load(std::memory_order_relaxed);
}

unsigned RedisBroker::shard_of(unsigned worker, std::string_view redis_key) const {
  const WorkerLinks& links = *workers_[worker];
  return links.map ? links.map_shard[*links.map->master_of(redis_key)] : 0;
}

RedisBroker::ShardLinks& RedisBroker::links_for(unsigned worker, std::string_view redis_key) {
  return *workers_[worker]->shards[shard_of(worker, redis_key)];
}

std::string RedisBroker::key(std::string_view kind, std::string_view name) const {
  std::string key = options_.key_prefix;
  key += kind;
  key += ":{";
  key += name;
  key += '}';
  return key;
}

void RedisBroker::subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) {
  std::string redis_channel = channel_key(channel);
  ShardLinks& links = links_for(owner_worker, redis_channel);
  links.subscriber->subscribe(redis_channel);
  if (!links.subscriber->is_up()) {
    in_place();  // subscribed once it is back; nothing to miss meanwhile
    return;
  }
  links.awaiting[redis_channel].push_back(std::move(in_place));
}

void RedisBroker::unsubscribe(unsigned owner_worker, std::string_view channel) {
  const std::string redis_channel = channel_key(channel);
  ShardLinks& links = links_for(owner_worker, redis_channel);
  links.subscriber->unsubscribe(redis_channel);
  // Whoever still waits for the SUBSCRIBE is told now: it is moot.
  if (auto it = links.awaiting.find(redis_channel); it != links.awaiting.end()) {
    auto callbacks = std::move(it->second);
    links.awaiting.erase(it);
    for (auto& callback : callbacks) callback();
  }
}

void RedisBroker::publish(unsigned owner_worker, const Publication& publication, PublishDone done) {
  if (publication.history.enabled()) {
    publish_to_stream(owner_worker, publication, std::move(done));
    return;
  }
  const std::string redis_channel = channel_key(publication.channel);
  std::vector<std::string> arguments = {
      key("off", publication.channel), redis_channel,
      format_publication(node_id_, publication.exclude_client, publication.data_json), offset_ttl_text_};
  run_script(links_for(owner_worker, redis_channel), Script::kPublish, std::move(arguments), 1,
             // Channel and data kept for the fallback: if Redis cannot take
             // it, this node's subscribers still get it, unnumbered.
             [this, owner_worker, channel = std::string(publication.channel), data = std::string(publication.data_json),
              exclude = publication.exclude_client, done = std::move(done)](const redis::Reply& reply) {
               if (reply.type == redis::ReplyType::kInteger && reply.integer > 0) {
                 done({PublishStatus::kAccepted, static_cast<std::uint64_t>(reply.integer)});
                 return;
               }
               note_moved(reply);
               sink_->on_publication(owner_worker, Publication{channel, 0, data, exclude});
               done({PublishStatus::kLocalOnly, 0});
             });
}

void RedisBroker::publish_event(unsigned owner_worker, std::string_view channel, std::string_view frame) {
  const std::string redis_channel = channel_key(channel);
  links_for(owner_worker, redis_channel)
      .commands->command({publish_verb_, redis_channel, format_event(node_id_, frame)}, {});
}

void RedisBroker::broadcast(std::string_view frame) {
  const std::string redis_channel = key("all", "all");
  links_for(0, redis_channel).commands->command({publish_verb_, redis_channel, format_event(node_id_, frame)}, {});
}

void RedisBroker::watch_user(unsigned owner_worker, std::string_view user) {
  const std::string redis_channel = user_key(user);
  links_for(owner_worker, redis_channel).subscriber->subscribe(redis_channel);
}

void RedisBroker::unwatch_user(unsigned owner_worker, std::string_view user) {
  const std::string redis_channel = user_key(user);
  links_for(owner_worker, redis_channel).subscriber->unsubscribe(redis_channel);
}

void RedisBroker::send_to_user(unsigned owner_worker, const UserMessage& message, UserSendDone done) {
  const std::string envelope = format_user_envelope(node_id_, message);
  // PUBLISH answers how many subscribers got it: one per watching node,
  // this one included when it watches the user.
  const std::string redis_channel = user_key(message.user);
  ShardLinks& links = links_for(owner_worker, redis_channel);
  const bool counts_self = message.elsewhere_only && links.subscriber->wants(redis_channel);
  links.commands->command({publish_verb_, redis_channel, envelope},
                          [done = std::move(done), counts_self](const redis::Reply& reply) {
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
  // "sb:ch:{channel}", "sb:user:{user}", "sb:all:{all}", "sb:nodes:{all}"
  // or "sb:node:{id}"
  const std::string_view prefix = options_.key_prefix;
  if (!redis_channel.starts_with(prefix) || !redis_channel.ends_with('}')) return;
  std::string_view name = redis_channel.substr(prefix.size());
  name.remove_suffix(1);
  if (name.starts_with("ch:{")) {
    on_channel_message(worker, name.substr(4), payload);
  } else if (name.starts_with("user:{")) {
    on_user_message(worker, name.substr(6), payload);
  } else if (worker == 0 && name == "all:{all") {
    ChannelEnvelope envelope;
    if (parse_channel_envelope(payload, &envelope) && envelope.is_event) sink_->on_broadcast(envelope.body);
  } else if (worker == 0 && name == "nodes:{all") {
    on_question(payload);
  } else if (worker == 0 && name.starts_with("node:{")) {
    on_answer(payload);
  }
}

void RedisBroker::on_channel_message(unsigned worker, std::string_view channel, std::string_view payload) {
  ChannelEnvelope envelope;
  if (!parse_channel_envelope(payload, &envelope)) return;  // not ours: dropped
  if (envelope.is_event) {
    // This node's own events were delivered here when they happened.
    if (envelope.node != node_id_) sink_->on_channel_event(worker, channel, envelope.body);
    return;
  }
  // A client id is only unique in its process: exclude on its node only.
  const std::uint64_t exclude = envelope.node == node_id_ ? envelope.exclude : 0;
  Publication publication{channel, envelope.offset, envelope.body, exclude};
  publication.epoch = envelope.epoch;
  sink_->on_publication(worker, publication);
}

void RedisBroker::on_user_message(unsigned worker, std::string_view user, std::string_view payload) {
  UserEnvelope envelope;
  if (!parse_user_envelope(payload, &envelope)) return;
  if (envelope.elsewhere_only && envelope.node == node_id_) return;  // acted on where it was sent
  sink_->on_user_message(worker, UserMessage{user, envelope.kind, envelope.text, envelope.elsewhere_only});
}

}  // namespace switchboard::broker
