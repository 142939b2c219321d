// Who may connect, decided once per accepted socket before any byte is
// read: a cap on the live connections from one client address, and a
// node-wide cap on new connections per second (a reconnect storm after a
// deploy must not take the node down). Refused sockets still get an HTTP
// answer (429 or 503 with a jittered Retry-After), from the handshake,
// once their head is read: a load balancer's health check is answered
// instead, whatever the caps say (Worker::admit_request).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/string_hash.h"
#include "base/token_bucket.h"
#include "server/forwarded.h"
#include "switchboard/server.h"

namespace switchboard::server {

class Admission {
 public:
  // Throws std::invalid_argument for a trusted_proxies entry that is not
  // an address or a range.
  Admission(const ServerConfig& config, unsigned workers);

  enum class Verdict : std::uint8_t { kAdmit, kTooManyFromAddress, kTooManyNew };

  // On worker's thread. kAdmit with *counted true means release() is owed
  // when the connection ends. A socket from a trusted proxy is not counted
  // here: its client is known only from the request head (admit_address).
  // A refusal is final only once the head shows what was asked (a health
  // check is answered all the same): count_refusal() then.
  Verdict admit(unsigned worker, std::string_view address, std::uint64_t now_ms, bool* counted);
  // The per-address cap alone, for a client named by a trusted proxy.
  Verdict admit_address(std::string_view address, bool* counted);

  const AddressSet& trusted_proxies() const { return trusted_proxies_; }
  // Any thread.
  void release(std::string_view address);

  bool counts_addresses() const { return per_address_cap_ != 0; }

  // A request answered 429 (kTooManyFromAddress) or 503 (kTooManyNew).
  void count_refusal(Verdict verdict);
  // Refusals so far (any thread).
  std::uint64_t refused_from_address() const { return refused_from_address_.load(std::memory_order_relaxed); }
  std::uint64_t refused_new() const { return refused_new_.load(std::memory_order_relaxed); }

 private:
  const std::uint64_t per_address_cap_;
  AddressSet trusted_proxies_;
  // The node-wide rate, split evenly: one bucket per worker, so no lock.
  // The kernel spreads new connections over the workers' listeners.
  base::RateLimit per_worker_rate_;
  std::vector<base::TokenBucket> buckets_;  // one per worker, touched only by it
  std::mutex mutex_;
  std::unordered_map<std::string, std::uint32_t, base::StringHash, std::equal_to<>> live_by_address_;
  std::atomic<std::uint64_t> refused_from_address_{0};
  std::atomic<std::uint64_t> refused_new_{0};
};

// The Retry-After a refused client gets: 1 to 5 s, at random, so that the
// clients refused together do not come back together.
int jittered_retry_after_s();

}  // namespace switchboard::server
