// RedisBroker: a Redis Cluster's slot map while the node runs. Worker 0
// re-reads it (CLUSTER SLOTS) every cluster_refresh_ms, and at once after a
// publish was answered MOVED; a map that changed goes to every worker, which
// applies it to its own connections (see redis_broker.h).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "broker/redis_broker.h"
#include "broker/redis_broker_links.h"
#include "loop/event_loop.h"

namespace switchboard::broker {
namespace {

bool same_master(const redis::Endpoint& a, const redis::Endpoint& b) { return a.host == b.host && a.port == b.port; }

// Whether every slot has the same master in both maps.
bool same_slots(const redis::ClusterMap& a, const redis::ClusterMap& b) {
  for (std::size_t slot = 0; slot < redis::kClusterSlots; ++slot) {
    if (!same_master(a.masters[*a.slot_master[slot]], b.masters[*b.slot_master[slot]])) return false;
  }
  return true;
}

}  // namespace

void RedisBroker::on_cluster_timer(void* context) {
  auto& links = *static_cast<WorkerLinks*>(context);
  RedisBroker& broker = *links.broker;
  broker.refresh_cluster_map();
  broker.loops_[0]->arm(links.cluster_timer, broker.options_.cluster_refresh_ms);
}

void RedisBroker::note_moved(const redis::Reply& reply) {
  if (!options_.cluster || !reply.is_error() || !reply.str.starts_with("MOVED ")) return;
  // Any worker's thread: the map is re-read on worker 0.
  loops_[0]->post([this, alive = alive_] {
    if (*alive) refresh_cluster_map();
  });
}

void RedisBroker::refresh_cluster_map() {
  WorkerLinks& links = *workers_[0];
  if (links.cluster_refresh_running) return;
  redis::Connection* asked = nullptr;
  for (const auto& shard : links.shards) {
    if (!shard->retired && shard->commands_up) {
      asked = shard->commands.get();
      break;
    }
  }
  if (asked == nullptr) return;  // every master down: the next tick tries again
  links.cluster_refresh_running = true;
  asked->command({"CLUSTER", "SLOTS"}, [this](const redis::Reply& reply) {
    WorkerLinks& links = *workers_[0];
    links.cluster_refresh_running = false;
    base::Result<redis::ClusterMap> map = redis::parse_cluster_slots(reply, options_.endpoint);
    if (!map) {
      base::log(base::LogLevel::kWarn, "broker: cannot read the cluster's slots: %s", map.error().c_str());
      return;
    }
    if (same_slots(*map, *links.map)) return;
    base::log(base::LogLevel::kInfo, "broker: the cluster's slots moved: %zu masters now", map->masters.size());
    auto shared = std::make_shared<const redis::ClusterMap>(std::move(*map));
    for (unsigned worker = 1; worker < loops_.size(); ++worker) {
      loops_[worker]->post([this, alive = alive_, worker, shared] {
        if (*alive) apply_cluster_map(worker, shared);
      });
    }
    apply_cluster_map(0, shared);
  });
}

void RedisBroker::apply_cluster_map(unsigned worker, std::shared_ptr<const redis::ClusterMap> map) {
  WorkerLinks& links = *workers_[worker];
  // Every master of the new map gets a shard: the one it had, or a new one.
  std::vector<unsigned> map_shard(map->masters.size());
  for (std::size_t index = 0; index < map->masters.size(); ++index) {
    unsigned shard = 0;
    while (shard < links.shards.size() &&
           (links.shards[shard]->retired || !same_master(links.masters[shard], map->masters[index]))) {
      ++shard;
    }
    map_shard[index] = shard < links.shards.size() ? shard : open_shard(links, map->masters[index]);
  }
  links.map = std::move(map);
  links.map_shard = std::move(map_shard);

  // Subscriptions go to the master that serves their slot now (Redis has
  // dropped them on the old one with the slot); so do their waiters.
  std::vector<std::pair<ShardLinks*, std::string>> confirming;
  for (unsigned shard = 0; shard < links.shards.size(); ++shard) {
    ShardLinks& from = *links.shards[shard];
    if (from.retired) continue;
    std::vector<std::string> moving;
    for (const std::string& channel : from.subscriber->wanted()) {
      if (shard_of(worker, channel) != shard) moving.push_back(channel);
    }
    for (const std::string& channel : moving) {
      ShardLinks& to = links_for(worker, channel);
      from.subscriber->unsubscribe(channel);
      to.subscriber->subscribe(channel);
      if (to.subscriber->is_up()) confirming.emplace_back(&to, channel);
      auto waiting = from.awaiting.find(channel);
      if (waiting == from.awaiting.end()) continue;
      auto callbacks = std::move(waiting->second);
      from.awaiting.erase(waiting);
      if (to.subscriber->is_up()) {
        for (auto& callback : callbacks) to.awaiting[channel].push_back(std::move(callback));
      } else {
        for (auto& callback : callbacks) callback();
      }
    }
  }
  // What a moved channel's old master dropped, and what its new one
  // published before the subscription took effect there, is only in the
  // channel's stream; no later publication may come to show the gap. Once
  // every moved channel is confirmed, the owners read their streams as
  // after a reconnect (a new master not up yet does so when it settles).
  if (!confirming.empty()) {
    auto left = std::make_shared<std::size_t>(confirming.size());
    for (auto& [to, channel] : confirming) {
      to->awaiting[channel].push_back([this, worker, left] {
        if (--*left == 0) sink_->on_link_restored(worker);
      });
    }
  }
  // Presence entries are written again where they live now (idempotent).
  for (const auto& [channel, members] : links.presence) {
    for (const auto& [client, value] : members) write_member(worker, channel, client, value);
  }
  // Masters that serve no slot any more.
  for (unsigned shard = 0; shard < links.shards.size(); ++shard) {
    if (links.shards[shard]->retired) continue;
    if (std::find(links.map_shard.begin(), links.map_shard.end(), shard) == links.map_shard.end()) {
      retire_shard(links, shard);
    }
  }
}

void RedisBroker::retire_shard(WorkerLinks& worker_links, unsigned shard) {
  ShardLinks& links = *worker_links.shards[shard];
  if (links.commands_up) links_up_.fetch_sub(1, std::memory_order_relaxed);
  if (links.subscriber_up) links_up_.fetch_sub(1, std::memory_order_relaxed);
  links_expected_.fetch_sub(2, std::memory_order_relaxed);
  links.retired = true;
  auto awaiting = std::move(links.awaiting);
  links.awaiting.clear();
  for (auto& [channel, callbacks] : awaiting) {
    for (auto& callback : callbacks) callback();
  }
}

}  // namespace switchboard::broker
