// The broker of a node among several: channel publishes go through Redis,
// so every node subscribed to a channel gets them, numbered once for the
// whole cluster (docs/SCALING.md).
//
// Per worker and per Redis master (one for a standalone Redis, one per
// master of a Redis Cluster), on that worker's loop: one command connection
// and one subscriber connection. A channel's owner worker subscribes it, so
// a node subscribes each channel once however many local subscribers it
// has, and unsubscribes when the last one leaves. Everything about one
// channel (its keys, its Redis channel) carries the channel's name as hash
// tag, so it lives on one master: in a cluster the node talks to that
// master only, with sharded pub/sub (SSUBSCRIBE/SPUBLISH), and no master
// sends a node traffic for channels the node does not serve.
//
// A publish is one script: INCR the channel's offset key, PUBLISH the
// envelope "<offset> <node> <exclude>\n<data>" — atomic, so offsets follow
// the order Redis received the publishes, the order every node delivers
// them in. The node id keeps exclude_self to the node where the publisher
// is (client ids are only unique per process).
//
// A user's messages go to "sb:user:{user}", which every node with a
// connection of that user subscribes to (watch_user): PUBLISH answers how
// many nodes got it, so a send knows whether the user is online anywhere
// without a lookup table that could go stale. Envelope: "<node> <kind>
// <elsewhere>\n<text>", kind m (direct) or d (disconnect).
//
// Presence: per channel a hash "sb:pm:{channel}" of "<node>/<client>" ->
// "<member json>\n<leave frame>", and a sorted set "sb:pn:{channel}" of
// node -> expiry (Redis time, ms). Each node refreshes its expiry on the
// channels it has members in; a node that misses its expiry is dead: the
// next refresh by another node deletes its entries and publishes their
// leave events. Listing ignores entries of nodes not alive. Join and leave
// events of live members travel on the channel as "e <node>\n<frame>".
//
// A channel whose namespace keeps history has a stream in Redis (a meta
// hash and a Redis Stream, redis_stream_scripts.h): its publishes are one
// script that numbers, stores and publishes; read_stream is one script
// that reads the position and what the query asks, atomically. Every
// script goes by EVALSHA once the connection has run it (run_script).
//
// Redis down: publishes fail (the hub answers error 117 and counts them),
// healthy() is false (readiness 503), and the connections come back by
// themselves with backoff and jitter, resubscribing every wanted channel.
//
// Threading: constructed and destroyed while the workers' loops are not
// running (Hub::on_start / on_stop); every other call on the channel's
// owner worker; healthy() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "broker/redis_stream_scripts.h"
#include "redis/availability.h"
#include "redis/cluster.h"
#include "redis/endpoint.h"
#include "redis/link.h"

namespace switchboard::loop {
class EventLoop;
}

namespace switchboard::broker {

struct RedisBrokerOptions {
  redis::Endpoint endpoint;  // host already resolved (redis::resolve)
  // A Redis Cluster's masters and slots (redis::fetch_cluster_map); empty:
  // endpoint is a standalone Redis.
  std::optional<redis::ClusterMap> cluster;
  redis::Options connection;
  std::string key_prefix = "sb:";
  // How long a channel's offset counter lives after its last publish.
  std::uint64_t offset_ttl_ms = 24ull * 3600 * 1000;
  // A node's presence entries vanish this long after its last refresh
  // (refreshed every third of it).
  std::uint64_t presence_ttl_ms = 30'000;
  // ask_nodes: how long to wait for every node's answer.
  std::uint64_t ask_timeout_ms = 2'000;
  // A cluster: how often to re-read the slot map (a resharding or a
  // failover moves slots); a MOVED answer re-reads it at once. 0: never.
  std::uint64_t cluster_refresh_ms = 5'000;
};

class RedisBroker final : public Broker {
 public:
  // One loop per worker, not running yet; the connections start connecting
  // once they run.
  RedisBroker(std::vector<loop::EventLoop*> loops, RedisBrokerOptions options);
  ~RedisBroker() override;

  void set_sink(BrokerSink& sink) override { sink_ = &sink; }
  void subscribe(unsigned owner_worker, std::string_view channel, std::function<void()> in_place) override;
  void unsubscribe(unsigned owner_worker, std::string_view channel) override;
  void publish(unsigned owner_worker, const Publication& publication, PublishDone done) override;
  // Answers later than the call (a Redis round trip): kUnavailable when
  // Redis cannot be reached or answers anything but the script's answer.
  void read_stream(unsigned owner_worker, std::string_view channel, const StreamQuery& query, StreamDone done) override;
  bool keeps_streams() const override { return true; }
  void watch_user(unsigned owner_worker, std::string_view user) override;
  void unwatch_user(unsigned owner_worker, std::string_view user) override;
  void send_to_user(unsigned owner_worker, const UserMessage& message, UserSendDone done) override;
  void presence_join(unsigned owner_worker, std::string_view channel, const PresenceEntry& entry) override;
  void presence_leave(unsigned owner_worker, std::string_view channel, std::string_view client) override;
  void presence_elsewhere(unsigned owner_worker, std::string_view channel, PresenceDone done) override;
  void publish_event(unsigned owner_worker, std::string_view channel, std::string_view frame) override;
  // On "sb:all:{all}", which worker 0 of every node subscribes to.
  void broadcast(std::string_view frame) override;
  void ask_nodes(std::string_view question, AskDone done) override;
  // The users and channels some node subscribes to (PUBSUB CHANNELS, or
  // SHARDCHANNELS on every master of a cluster).
  void count_distinct(CountsDone done) override;
  std::string client_prefix() const override { return node_id_.substr(0, 8) + "-"; }
  bool healthy() const override;

  // Random, per process: tells this node's publications from the others'.
  const std::string& node_id() const { return node_id_; }

 private:
  struct ShardLinks;
  struct WorkerLinks;
  struct Question;
  // The scripts a publish or a stream read runs, by index into scripts_
  // and ShardLinks::scripts_loaded.
  enum class Script : std::uint8_t { kPublish = 0, kStreamPublish = 1, kStreamRead = 2 };
  static constexpr std::size_t kScriptCount = 3;
  void open(unsigned worker);
  // Connections of worker_links to master, as a new shard; its index.
  unsigned open_shard(WorkerLinks& worker_links, const redis::Endpoint& master);
  // Counts a link toward readiness (healthy()) while it is up.
  void set_link_up(ShardLinks& links, bool& flag, redis::Availability availability);
  // The connections of worker to the master that serves redis_key.
  ShardLinks& links_for(unsigned worker, std::string_view redis_key);
  unsigned shard_of(unsigned worker, std::string_view redis_key) const;

  // A cluster's slot map while running (redis_broker_cluster.cc): worker 0
  // re-reads it on a timer or after a MOVED, and every worker applies a
  // changed one: connections to new masters, subscriptions and presence
  // moved to the masters that serve them now, departed masters retired.
  static void on_cluster_timer(void* links);
  void refresh_cluster_map();
  void note_moved(const redis::Reply& reply);
  void apply_cluster_map(unsigned worker, std::shared_ptr<const redis::ClusterMap> map);
  void retire_shard(WorkerLinks& worker_links, unsigned shard);
  std::string key(std::string_view kind, std::string_view name) const;  // "sb:<kind>:{name}"
  std::string channel_key(std::string_view channel) const { return key("ch", channel); }
  std::string user_key(std::string_view user) const { return key("user", user); }

  // A script run by EVALSHA, or EVAL until this connection has run it and
  // again on NOSCRIPT (redis_broker_streams.cc). arguments: the keys, then ARGV.
  void run_script(ShardLinks& links, Script script, std::vector<std::string> arguments, std::size_t keys,
                  std::function<void(const redis::Reply&)> done);
  // Streams (redis_broker_streams.cc): a publish on a channel with a stream.
  void publish_to_stream(unsigned owner_worker, const Publication& publication, PublishDone done);
  std::string stream_meta_key(std::string_view channel) const { return key("meta", channel); }
  std::string stream_key(std::string_view channel) const { return key("stream", channel); }

  // Incoming pub/sub messages, by Redis channel.
  void on_message(unsigned worker, std::string_view redis_channel, std::string_view payload);
  void on_channel_message(unsigned worker, std::string_view channel, std::string_view payload);
  void on_user_message(unsigned worker, std::string_view user, std::string_view payload);

  // Presence (redis_broker_presence.cc): write one entry; refresh this
  // node's entries (every third of the TTL); write a master's entries
  // again after it comes back (it may have restarted empty); remove them
  // all on a clean stop.
  void write_member(unsigned worker, std::string_view channel, std::string_view client, std::string_view value);
  static void on_refresh_timer(void* links);
  void refresh_presence(WorkerLinks& links);
  void restore_presence(WorkerLinks& links, unsigned shard);
  void withdraw_presence();

  // Questions between nodes (redis_broker_questions.cc), on worker 0:
  // asked on "sb:nodes:{all}" as "<id> <asking node>\n<question>",
  // answered on "sb:node:{<asking node>}" as "<id>\n<answer>".
  void on_question(std::string_view payload);
  void on_answer(std::string_view payload);
  // How a question ended: every node answered, or the count or the time ran out.
  enum class QuestionEnd : std::uint8_t { kAllAnswered, kCutShort };
  void finish_question(std::uint64_t id, QuestionEnd end);
  static void on_question_timeout(void* question);

  std::vector<loop::EventLoop*> loops_;
  RedisBrokerOptions options_;
  std::string publish_verb_;  // PUBLISH, or SPUBLISH in a cluster
  std::array<LuaScript, kScriptCount> scripts_;  // by Script
  std::string refresh_script_;
  std::string offset_ttl_text_;  // options_.offset_ttl_ms, as the publish script's argument
  std::string node_id_;
  BrokerSink* sink_ = nullptr;
  std::vector<std::unique_ptr<WorkerLinks>> workers_;
  // Readiness: connections up, out of connections there should be (two per
  // worker and master).
  std::atomic<std::size_t> links_up_{0};
  std::atomic<std::size_t> links_expected_{0};
  std::map<std::uint64_t, std::unique_ptr<Question>> questions_;  // worker 0 only
  std::uint64_t next_question_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace switchboard::broker
