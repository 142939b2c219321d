// Authentication failures in the log, for an operator to see an attack or a
// misconfigured client: one warn line per failure with the client's address
// and the reason, never the token or the key, and rate-limited (a burst per
// window, then one line with how many were left out), because a client can
// fail as often as it likes. docs/OPERATIONS.md "Logs" shows the lines.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/log_throttle.h"

namespace switchboard::hub {

class AuthFailureLog {
 public:
  static constexpr std::uint32_t kBurst = 20;
  static constexpr std::uint64_t kWindowMs = 10'000;

  // Any thread. peer: HttpRequest::peer_address (the client behind a
  // trusted proxy); where: upgrade, connect, refresh, subscribe or api;
  // reason: a fixed phrase (auth::describe), never anything the client sent.
  void record(std::string_view peer, std::string_view where, std::string_view reason);

  // Writes the summary of a window that has ended, if failures were left
  // out; called on a timer so that it comes even after the flood stops.
  void flush();

 private:
  void write_summary(std::uint64_t now_ms);

  base::LogThrottle throttle_{kBurst, kWindowMs};
};

}  // namespace switchboard::hub
