#include "base/log_throttle.h"

namespace switchboard::base {

bool LogThrottle::admit(std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (!window_open_ || now_ms - window_start_ms_ >= window_ms_) {
    window_open_ = true;
    window_start_ms_ = now_ms;
    logged_ = 0;
  }
  if (logged_ < burst_) {
    ++logged_;
    return true;
  }
  ++suppressed_;
  return false;
}

std::uint64_t LogThrottle::take_suppressed(std::uint64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (suppressed_ == 0 || (window_open_ && now_ms - window_start_ms_ < window_ms_)) return 0;
  const std::uint64_t suppressed = suppressed_;
  suppressed_ = 0;
  return suppressed;
}

}  // namespace switchboard::base
