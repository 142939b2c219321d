// The local role's side of the server's drain (docs/PROTOCOL.md
// "disconnect"): a connection the drain comes to runs no more commands,
// gets the answers to those it had sent, and only then `disconnect`
// (answered: true) and close 1001, so that a client knows that whatever it
// sent and got no answer to was not run. Bounded: past the drain's answer
// bound it is closed anyway, with answered: false.
#include "base/clock.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {
namespace {

constexpr std::string_view kReason = "server shutting down";

std::string going_away_notice(const Session& session) {
  return protocol::encode_disconnect(static_cast<std::uint16_t>(CloseCode::kGoingAway), kReason,
                                     protocol::Reconnect::kYes,
                                     session.unanswered == 0 ? protocol::Answered::kYes : protocol::Answered::kNo);
}

}  // namespace

void LocalRole::receive(Session& session, std::string_view payload, Opcode opcode) {
  // The connection is closing: the client sends this again after it
  // reconnects, since the `disconnect` will say every earlier command was answered.
  if (session.going_away) return;
  ++session.unanswered;
  if (!admit(session, payload)) return;
  if (opcode != Opcode::kText) {
    fail(session, 0, protocol::ErrorCode::kMalformed, "protocol v1 commands are JSON text frames, not binary");
    return;
  }
  handle(session, payload);
}

GoingAway LocalRole::go_away(Session& session, std::uint64_t answer_within_ms) {
  session.going_away = true;
  if (session.unanswered == 0 || answer_within_ms == 0) {
    // The drain closes it right after this, as it always did.
    session.connection->send_answer(going_away_notice(session), Opcode::kText);
    return GoingAway::kCloseNow;
  }
  set_deadline(session, base::monotonic_ms() + answer_within_ms, DeadlineKind::kGoingAway);
  return GoingAway::kHandlerCloses;
}

void LocalRole::close_going_away(std::uint64_t client) {
  Session* session = find_session(client);
  // Closed already: by the last answer's task or the deadline, whichever
  // came first, or by the client.
  if (session == nullptr || !session->going_away || !session->connection->is_open()) return;
  clear_deadline(*session);
  session->connection->send_answer(going_away_notice(*session), Opcode::kText);
  session->connection->close(CloseCode::kGoingAway, kReason);
}

std::uint32_t LocalRole::unanswered(std::uint64_t client) {
  Session* session = find_session(client);
  return session != nullptr ? session->unanswered : 0;
}

}  // namespace switchboard::hub
