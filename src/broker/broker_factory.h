// Which broker a node runs, chosen by broker.url in this one place:
// memory:// (one node, MemoryBroker) or redis[s]://... (RedisBroker, over a
// standalone Redis, or over every master of a Redis Cluster when cluster is
// set). The settings check of `serve` and the hub, which builds the broker
// when its server starts, both ask here, so the scheme is read once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "broker/broker.h"

namespace switchboard::loop {
class EventLoop;
}

namespace switchboard::broker {

// The broker part of a node's configuration (HubConfig's broker_* keys).
struct BrokerSettings {
  // memory:// (one node) or redis[s]://[[user]:password@]host[:port][/db].
  std::string url = "memory://";
  // url is one node of a Redis Cluster: find its masters at start
  // (CLUSTER SLOTS) and use sharded pub/sub.
  bool cluster = false;
  // rediss://: the CAs to verify Redis with (PEM; empty: the system's), and
  // a client certificate and key if Redis asks for one.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Redis: how long a node's presence entries outlive its last refresh.
  std::uint64_t presence_ttl_ms = 30'000;
  // Memory: bytes all channels' streams may hold together (HubConfig::max_history_bytes).
  std::uint64_t max_stream_bytes = 256u << 20;
};

// What a broker URL's scheme names.
enum class BrokerScheme {
  kMemory,  // memory:// or memory
  kRedis,   // redis://... or rediss://... (the rest is checked by redis::parse_redis_url)
};

// The scheme of url; nullopt when it is not a broker URL.
std::optional<BrokerScheme> broker_scheme(std::string_view url);

// What can be said of the settings without the network: success when they
// name a broker, else the reason, starting with the key at fault
// ("broker.url: ...").
base::Result<void> check_broker_settings(const BrokerSettings& settings);

// The broker for a node with one event loop per worker (loops[i] is worker
// i's). An empty url is the default, memory://. Throws
// std::invalid_argument for a bad URL, a host that does not resolve, TLS
// files that do not load or a cluster that does not answer. Blocking (name
// lookup, CLUSTER SLOTS): call it before the loops run.
std::unique_ptr<Broker> make_broker(const BrokerSettings& settings, std::vector<loop::EventLoop*> loops);

}  // namespace switchboard::broker
