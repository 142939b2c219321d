// Who may `send` to a user, and how often, decided on the sender's worker
// before the message leaves it (docs/PROTOCOL.md "Direct messages").
#include <algorithm>
#include <string>

#include "base/clock.h"
#include "hub/node.h"

namespace switchboard {

using hub::Session;
using protocol::ErrorCode;

bool Hub::Impl::admit_send(Session& session, std::string_view user, std::uint64_t id) {
  // Each refusal depends on the sender alone, never on whether `user`
  // exists or is connected: it tells nothing about other users.
  const char* why = nullptr;
  switch (config.send_permission) {
    case SendPermission::kAnyone:
      break;
    case SendPermission::kAuthenticated:
      if (!session.authenticated || session.user.empty()) {
        why = "sending to a user needs an authenticated connection (a token with a user)";
      }
      break;
    case SendPermission::kListedUsers:
      if (!session.send_to)
        why = "this server lets a connection send only to the users its token's send_to claim names";
      break;
  }
  if (why == nullptr && session.send_to &&
      std::find(session.send_to->begin(), session.send_to->end(), user) == session.send_to->end()) {
    why = "the token's send_to claim does not name this user";
  }
  if (why != nullptr) {
    metrics.permission_denied.add();
    fail(session, id, ErrorCode::kPermissionDenied, why);
    return false;
  }
  if (!session.send_bucket.try_take(send_limit, base::monotonic_ms(), 1)) {
    refuse_over_limit(session, id,
                      "rate limit exceeded: at most " + std::to_string(config.limits.sends_per_s) + " sends a second");
    return false;
  }
  return true;
}

}  // namespace switchboard
