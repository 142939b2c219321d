#include "base/backoff.h"

#include <algorithm>

namespace switchboard::base {
namespace {

// The minimum, or the cap when the maximum is below the minimum.
double cap_floor(const BackoffPolicy& policy, double cap) {
  return std::min(static_cast<double>(policy.min_delay_ms), cap);
}

}  // namespace

std::uint64_t backoff_delay_ms(const BackoffPolicy& policy, std::uint32_t attempt, double random, FailureKind failure) {
  std::uint64_t max_delay_ms = policy.max_delay_ms;
  if (failure == FailureKind::kRefused && policy.refused_max_delay_ms > 0) {
    max_delay_ms = std::min(max_delay_ms, policy.refused_max_delay_ms);
  }
  const double max_delay = static_cast<double>(max_delay_ms);
  const double factor = std::max(policy.factor, 1.0);
  // Multiply step by step and stop at the maximum: factor^attempt alone
  // overflows to infinity for large attempts.
  double cap = std::min(static_cast<double>(policy.min_delay_ms), max_delay);
  for (std::uint32_t i = 0; i < attempt && cap < max_delay; ++i) cap = std::min(cap * factor, max_delay);
  const double floor = policy.floor == JitterFloor::kMinDelay ? cap_floor(policy, cap) : 0.0;
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double draw = std::clamp(random, 0.0, 1.0);
  return static_cast<std::uint64_t>(floor + (cap - floor) * (1.0 - jitter * draw));
}

std::uint64_t honour_retry_after(std::uint64_t delay_ms, std::optional<std::uint64_t> retry_after_s) {
  if (!retry_after_s) return delay_ms;
  return std::max(delay_ms, *retry_after_s * 1000);
}

}  // namespace switchboard::base
