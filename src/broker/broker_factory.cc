#include "broker/broker_factory.h"

#include <stdexcept>
#include <utility>

#include "broker/memory_broker.h"
#include "broker/redis_broker.h"
#include "loop/tls.h"
#include "redis/cluster.h"
#include "redis/endpoint.h"
#include "redis/resolve.h"

namespace switchboard::broker {
namespace {

// How long a node waits at start for a cluster node to list its masters.
constexpr int kClusterMapTimeoutMs = 5000;

std::unique_ptr<Broker> make_redis_broker(const BrokerSettings& settings, std::vector<loop::EventLoop*> loops) {
  const base::Result<redis::Endpoint> parsed = redis::parse_redis_url(settings.url);
  if (!parsed) throw std::invalid_argument("broker.url: " + parsed.error());
  base::Result<redis::Endpoint> endpoint = redis::resolve(*parsed);
  if (!endpoint) throw std::invalid_argument("broker.url: " + endpoint.error());
  RedisBrokerOptions options;
  options.endpoint = *std::move(endpoint);
  options.presence_ttl_ms = settings.presence_ttl_ms;
  if (options.endpoint.tls) {
    auto tls = loop::TlsContext::create({settings.tls_ca_file, settings.tls_cert_file, settings.tls_key_file});
    if (!tls) throw std::invalid_argument("broker.tls: " + tls.error());
    options.connection.tls = *std::move(tls);
  }
  if (settings.cluster) {
    // Blocking, like the name lookup above: the workers do not run yet.
    base::Result<redis::ClusterMap> map =
        redis::fetch_cluster_map(options.endpoint, kClusterMapTimeoutMs, options.connection.tls.get());
    if (!map) throw std::invalid_argument("broker.cluster: " + map.error());
    options.cluster = *std::move(map);
  }
  return std::make_unique<RedisBroker>(std::move(loops), std::move(options));
}

}  // namespace

std::optional<BrokerScheme> broker_scheme(std::string_view url) {
  if (url == "memory://" || url == "memory") return BrokerScheme::kMemory;
  if (url.starts_with("redis")) return BrokerScheme::kRedis;
  return std::nullopt;
}

base::Result<void> check_broker_settings(const BrokerSettings& settings) {
  const std::optional<BrokerScheme> scheme = broker_scheme(settings.url);
  if (!scheme) {
    return base::Error("broker.url: '" + settings.url +
                       "' is not a broker URL (memory://, redis://host:port/db or rediss://...)");
  }
  if (*scheme == BrokerScheme::kMemory) {
    if (settings.cluster) return base::Error("broker.cluster: needs broker.url = redis://host:port of a cluster node");
    return {};
  }
  const base::Result<redis::Endpoint> endpoint = redis::parse_redis_url(settings.url);
  if (!endpoint) return base::Error("broker.url: " + endpoint.error());
  if (settings.cluster && endpoint->db != 0) return base::Error("broker.url: a Redis Cluster has database 0 only");
  return {};
}

std::unique_ptr<Broker> make_broker(const BrokerSettings& settings, std::vector<loop::EventLoop*> loops) {
  // Anything not memory goes to the Redis URL parser, whose error names
  // what is wrong with it.
  if (settings.url.empty() || broker_scheme(settings.url) == BrokerScheme::kMemory) {
    return std::make_unique<MemoryBroker>(static_cast<unsigned>(loops.size()), settings.max_stream_bytes);
  }
  return make_redis_broker(settings, std::move(loops));
}

}  // namespace switchboard::broker
