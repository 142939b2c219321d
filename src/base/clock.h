// Monotonic time for timeouts and latency: never the wall clock, which jumps.
// And the wall clock in seconds, for what other machines date (token
// expiry, issue and not-before times).
#pragma once

#include <cstdint>

namespace switchboard::base {

// Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC).
std::uint64_t monotonic_ms();

// Nanoseconds since the same kind of fixed point, for latency measurements.
std::uint64_t monotonic_ns();

// Seconds since the Unix epoch (CLOCK_REALTIME), exact to the second. Not
// time(2): on Linux its vDSO answer is the second of the last timer tick,
// up to a tick (4 ms) behind, so a token issued "now" by a process that
// reads the exact clock, and checked within those milliseconds after a
// second began, would look issued in the future.
std::int64_t wall_clock_s();

}  // namespace switchboard::base
