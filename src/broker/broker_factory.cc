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
  std::string error;
  std::optional<redis::Endpoint> endpoint = redis::parse_redis_url(settings.url, &error);
  if (endpoint) endpoint = redis::resolve(*endpoint, &error);
  if (!endpoint) throw std::invalid_argument("broker.url: " + error);
  RedisBrokerOptions options;
  options.endpoint = std::move(*endpoint);
  options.presence_ttl_ms = settings.presence_ttl_ms;
  if (options.endpoint.tls) {
    options.connection.tls =
        loop::TlsContext::create({settings.tls_ca_file, settings.tls_cert_file, settings.tls_key_file}, &error);
    if (!options.connection.tls) throw std::invalid_argument("broker.tls: " + error);
  }
  if (settings.cluster) {
    // Blocking, like the name lookup above: the workers do not run yet.
    options.cluster =
        redis::fetch_cluster_map(options.endpoint, kClusterMapTimeoutMs, &error, options.connection.tls.get());
    if (!options.cluster) throw std::invalid_argument("broker.cluster: " + error);
  }
  return std::make_unique<RedisBroker>(std::move(loops), std::move(options));
}

}  // namespace

std::optional<BrokerScheme> broker_scheme(std::string_view url) {
  if (url == "memory://" || url == "memory") return BrokerScheme::kMemory;
  if (url.starts_with("redis")) return BrokerScheme::kRedis;
  return std::nullopt;
}

std::string check_broker_settings(const BrokerSettings& settings) {
  const std::optional<BrokerScheme> scheme = broker_scheme(settings.url);
  if (!scheme) {
    return "broker.url: '" + settings.url + "' is not a broker URL (memory://, redis://host:port/db or rediss://...)";
  }
  if (*scheme == BrokerScheme::kMemory) {
    if (settings.cluster) return "broker.cluster: needs broker.url = redis://host:port of a cluster node";
    return "";
  }
  std::string error;
  const std::optional<redis::Endpoint> endpoint = redis::parse_redis_url(settings.url, &error);
  if (!endpoint) return "broker.url: " + error;
  if (settings.cluster && endpoint->db != 0) return "broker.url: a Redis Cluster has database 0 only";
  return "";
}

std::unique_ptr<Broker> make_broker(const BrokerSettings& settings, std::vector<loop::EventLoop*> loops) {
  // Anything not memory goes to the Redis URL parser, whose error names
  // what is wrong with it.
  if (settings.url.empty() || broker_scheme(settings.url) == BrokerScheme::kMemory) {
    return std::make_unique<MemoryBroker>(static_cast<unsigned>(loops.size()));
  }
  return make_redis_broker(settings, std::move(loops));
}

}  // namespace switchboard::broker
