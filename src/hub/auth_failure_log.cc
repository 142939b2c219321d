#include "hub/auth_failure_log.h"

#include <string>

#include "base/clock.h"
#include "base/json_string.h"
#include "base/log.h"
#include "protocol/encode.h"

namespace switchboard::hub {

void AuthFailureLog::record(std::string_view peer, std::string_view where, std::string_view reason) {
  if (base::log_level() > base::LogLevel::kWarn) return;
  const std::uint64_t now = base::monotonic_ms();
  write_summary(now);
  if (!throttle_.admit(now)) return;
  // Quoted as a JSON string, like every free text in a key=value line.
  std::string quoted;
  base::append_json_string(quoted, reason);
  base::log(base::LogLevel::kWarn, "event=auth_failure peer=%.*s where=%.*s reason=%s", static_cast<int>(peer.size()),
            peer.data(), static_cast<int>(where.size()), where.data(), quoted.c_str());
}

void AuthFailureLog::flush() { write_summary(base::monotonic_ms()); }

void AuthFailureLog::write_summary(std::uint64_t now_ms) {
  const std::uint64_t suppressed = throttle_.take_suppressed(now_ms);
  if (suppressed == 0) return;
  base::log(base::LogLevel::kWarn, "event=auth_failures_suppressed count=%llu window_ms=%llu",
            static_cast<unsigned long long>(suppressed), static_cast<unsigned long long>(throttle_.window_ms()));
}

}  // namespace switchboard::hub
