// The local role's deadlines (docs/PROTOCOL.md "Authentication"): a token
// must come by connect_timeout_ms, an expired token gets a `refresh` and
// refresh_grace_ms to be replaced. One pending deadline per session, run
// by each worker's tick.
#include <utility>

#include "base/clock.h"
#include "hub/node.h"
#include "protocol/encode.h"
#include "protocol/error_code.h"

namespace switchboard::hub {
namespace {

// How often each worker looks at its deadlines; a deadline fires up to this
// late, which is nothing next to timeouts of seconds.
constexpr std::uint64_t kDeadlineTickMs = 250;

CloseCode close_code(protocol::ServerCloseCode code) { return static_cast<CloseCode>(code); }

// Monotonic ms at which a token's exp (wall-clock seconds) passes.
std::uint64_t monotonic_deadline(std::int64_t expires_at) {
  const std::int64_t left_s = expires_at - base::wall_clock_s();
  return base::monotonic_ms() + (left_s > 0 ? static_cast<std::uint64_t>(left_s) * 1000 : 0);
}

}  // namespace

void LocalRole::grant(Session& session, GrantedToken granted) {
  session.authenticated = true;
  session.awaiting_connect = false;
  session.channel_patterns = std::move(granted.channels);
  session.token_expires_at = granted.expires_at;
  session.send_to = std::move(granted.send_to);
  if (session.token_expires_at != 0) {
    set_deadline(session, monotonic_deadline(session.token_expires_at), DeadlineKind::kTokenExpiry);
  } else {
    clear_deadline(session);
  }
}

void LocalRole::set_deadline(Session& session, std::uint64_t at_ms, DeadlineKind kind) {
  clear_deadline(session);
  session.deadline = deadlines_.emplace(at_ms, Deadline{session.client, kind});
}

void LocalRole::clear_deadline(Session& session) {
  if (!session.deadline) return;
  deadlines_.erase(*session.deadline);
  session.deadline.reset();
}

void LocalRole::schedule_deadline_tick() {
  node_.post_after<&LocalRole::run_deadlines_and_reschedule>(worker_, kDeadlineTickMs);
}

void LocalRole::run_deadlines_and_reschedule() {
  run_deadlines();
  schedule_deadline_tick();
}

void LocalRole::run_deadlines() {
  const std::uint64_t now = base::monotonic_ms();
  const AuthConfig& auth = node_.config().auth;
  // One worker's tick is enough to write what the failure log left out.
  if (worker_ == 0) node_.auth_failures.flush();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const Deadline deadline = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    Session* session = find_session(deadline.client);
    if (session == nullptr) continue;
    session->deadline.reset();
    switch (deadline.kind) {
      case DeadlineKind::kConnect:
        session->connection->close(close_code(protocol::ServerCloseCode::kAuthTimeout), "authentication timeout");
        break;
      case DeadlineKind::kTokenExpiry:
        session->connection->send_answer(protocol::encode_refresh(auth.refresh_grace_ms), Opcode::kText);
        set_deadline(*session, now + auth.refresh_grace_ms, DeadlineKind::kRefresh);
        break;
      case DeadlineKind::kRefresh:
        session->connection->close(close_code(protocol::ServerCloseCode::kTokenExpired), "token expired");
        break;
      case DeadlineKind::kGoingAway:
        close_going_away(session->client);
        break;
    }
  }
}

}  // namespace switchboard::hub
