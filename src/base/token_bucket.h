// A token bucket for per-connection rate limits: `rate` tokens a second flow
// in, at most `burst` are kept. A message takes its cost (1 per message, or
// its size in bytes) or is refused. Lazy refill from the caller's clock, so
// a bucket is 16 bytes and needs no timer.
#pragma once

#include <algorithm>
#include <cstdint>

namespace switchboard::base {

struct RateLimit {
  double per_second = 0;  // 0: unlimited
  double burst = 0;       // bucket size; also what a new bucket starts with
  bool enabled() const { return per_second > 0; }
};

class TokenBucket {
 public:
  // Refills for the time since the last call, then takes cost if that many
  // tokens are there. A cost above the burst can never pass, so callers cap
  // it (the byte limit's burst is at least the largest message).
  bool try_take(const RateLimit& limit, std::uint64_t now_ms, double cost) {
    if (!limit.enabled()) return true;
    if (!started_) {
      started_ = true;
      tokens_ = limit.burst;
    } else if (now_ms > last_ms_) {
      tokens_ = std::min(limit.burst, tokens_ + static_cast<double>(now_ms - last_ms_) * limit.per_second / 1000.0);
    }
    last_ms_ = std::max(last_ms_, now_ms);
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }

 private:
  double tokens_ = 0;
  std::uint64_t last_ms_ = 0;
  bool started_ = false;
};

}  // namespace switchboard::base
