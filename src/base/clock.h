// Monotonic time for timeouts and latency: never the wall clock, which jumps.
#pragma once

#include <cstdint>

namespace switchboard::base {

// Milliseconds since an arbitrary fixed point (CLOCK_MONOTONIC).
std::uint64_t monotonic_ms();

// Nanoseconds since the same kind of fixed point, for latency measurements.
std::uint64_t monotonic_ns();

}  // namespace switchboard::base
