// The reconnect delay: exponential backoff with jitter, pure (the random
// draw is the caller's, so tests need no sleeps and no seeds). One policy
// for every reconnecting client: the C++ client and the Redis link.
//
//   cap   = min(max_delay_ms, min_delay_ms * factor^attempt)
//   delay = cap - jitter * random * (cap - floor),  random in [0, 1)
//
// floor is 0 (JitterFloor::kZero) or min_delay_ms (kMinDelay). jitter 1
// with floor 0 is "full jitter" (uniform in (0, cap]): clients that lost
// the same server at the same moment do not come back in lockstep. With
// the floor at the minimum (uniform in [min, cap]) a dead server is never
// retried at once.
//
// A connect refused (ECONNREFUSED: nothing listens, typically a node that
// is restarting) is the one failure that says the server will be back in
// moments: its cap is held at refused_max_delay_ms (still jittered, so the
// clients of a restarted node do not all come back in the same
// millisecond), so a client is back within about that long of the server.
// Every other failure keeps the exponential cap.
#pragma once

#include <cstdint>
#include <optional>

namespace switchboard::base {

// How far down the jitter may take the delay.
enum class JitterFloor : std::uint8_t {
  kZero,      // down to 0 ms (the C++ client)
  kMinDelay,  // down to min_delay_ms (the Redis link)
};

// What the last attempt ran into.
enum class FailureKind : std::uint8_t {
  kOther,    // anything: a timeout, a lost connection, an upgrade refused, DNS
  kRefused,  // connect(2) got ECONNREFUSED: the host is up, nothing listens yet
};

struct BackoffPolicy {
  std::uint64_t min_delay_ms = 500;
  std::uint64_t max_delay_ms = 20'000;
  double factor = 2.0;  // below 1 is taken as 1
  double jitter = 1.0;  // clamped to [0, 1]
  JitterFloor floor = JitterFloor::kZero;
  // The cap after a refused connect (FailureKind::kRefused); 0: no such cap.
  std::uint64_t refused_max_delay_ms = 0;
};

// attempt: failed attempts since the last stable connection (0 first).
// random: in [0, 1) (clamped). failure: what the last attempt ran into.
std::uint64_t backoff_delay_ms(const BackoffPolicy& policy, std::uint32_t attempt, double random,
                               FailureKind failure = FailureKind::kOther);

// A server that answered 429/503 with Retry-After: wait at least that.
std::uint64_t honour_retry_after(std::uint64_t delay_ms, std::optional<std::uint64_t> retry_after_s);

}  // namespace switchboard::base
