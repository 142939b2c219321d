// RedisBroker's per-worker state, shared by its three source files
// (redis_broker.cc, redis_broker_presence.cc, redis_broker_questions.cc).
// Private to src/broker.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "broker/redis_broker.h"
#include "loop/timer_wheel.h"
#include "redis/connection.h"
#include "redis/subscriber.h"

namespace switchboard::broker {

template <typename T>
using RedisStringMap = std::unordered_map<std::string, T, base::StringHash, std::equal_to<>>;

// One worker's connections to one Redis master; touched only on that worker.
struct RedisBroker::ShardLinks {
  std::unique_ptr<redis::Connection> commands;
  std::unique_ptr<redis::Subscriber> subscriber;
  bool commands_up = false;
  bool subscriber_up = false;
  // A cluster master that serves no slot any more: nothing is routed here,
  // and it no longer counts for readiness (its connections stay, so what
  // was in flight is still answered or failed).
  bool retired = false;
  // The scripts (by Script) this connection has run, so that
  // Redis has them cached: EVALSHA from then on. Reset when it goes down
  // (the Redis it comes back to may have restarted empty).
  std::array<bool, kScriptCount> scripts_loaded = {};
  // Subscribed channels whose SUBSCRIBE Redis has not confirmed yet.
  RedisStringMap<std::vector<std::function<void()>>> awaiting;
};

struct RedisBroker::WorkerLinks {
  RedisBroker* broker = nullptr;
  unsigned worker = 0;
  // One per master this worker has talked to, in the order first seen;
  // never erased (callbacks hold indexes), only retired.
  std::vector<std::unique_ptr<ShardLinks>> shards;
  std::vector<redis::Endpoint> masters;  // by shard
  // A cluster's slots as this worker routes them (each worker gets its
  // own copy of a new map, in a task posted to it): the map's master
  // index -> shard. Null for a standalone Redis (always shard 0).
  std::shared_ptr<const redis::ClusterMap> map;
  std::vector<unsigned> map_shard;
  // This node's presence entries of the channels this worker owns: channel
  // -> client -> "<member json>\n<leave frame>", to refresh, and to write
  // again after a Redis restart.
  RedisStringMap<std::map<std::string, std::string, std::less<>>> presence;
  loop::Timer refresh_timer{&RedisBroker::on_refresh_timer, this};
  // Worker 0 of a cluster: re-reads the slot map every cluster_refresh_ms.
  loop::Timer cluster_timer{&RedisBroker::on_cluster_timer, this};
  bool cluster_refresh_running = false;
  // Epochs for streams a script may have to make (most are not used):
  // seeded once, so that a publish costs no random_device.
  std::mt19937_64 epochs{random_seed()};

  static std::uint64_t random_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) | device();
  }
};

// The presence refresh script, publishing leave events with verb (PUBLISH
// or SPUBLISH); redis_broker_presence.cc.
std::string make_refresh_script(std::string_view publish_verb);

// A question this node asked, waiting for the answers.
struct RedisBroker::Question {
  RedisBroker* broker = nullptr;
  std::uint64_t id = 0;
  std::optional<std::uint64_t> expected;  // nodes that got it, once PUBLISH answered
  std::vector<std::string> answers;
  AskDone done;
  loop::Timer timer{&RedisBroker::on_question_timeout, this};
};

}  // namespace switchboard::broker
