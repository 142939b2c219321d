// A session's text frame to its command's handler: parse, count, the auth
// gate (a connection awaiting `connect` may only connect and ping), then
// the handler by command type.
#include <array>

#include "hub/commands.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {
namespace {

// By protocol::CommandType, in its order.
constexpr std::array<CommandHandler, kCommandTypeCount> kHandlers = {
    run_connect,      // kConnect
    run_refresh,      // kRefresh
    run_subscribe,    // kSubscribe
    run_unsubscribe,  // kUnsubscribe
    run_publish,      // kPublish
    run_rpc,          // kRpc
    run_send,         // kSend
    run_presence,     // kPresence
    run_history,      // kHistory
    run_ping,         // kPing
};
static_assert(static_cast<std::size_t>(protocol::CommandType::kPing) + 1 == kHandlers.size());

}  // namespace

void run_ping(LocalRole& local, Session& session, protocol::Command& command) { local.pong(session, command.id); }

void LocalRole::handle(Session& session, std::string_view text) {
  protocol::Command command;
  protocol::CommandError error;
  if (!parser_.parse(text, &command, &error)) {
    node_.metrics.invalid_commands.add();
    fail(session, error.id, error.code, error.message);
    return;
  }
  const auto type = static_cast<std::size_t>(command.type);
  node_.metrics.commands[type]->add();
  if (session.awaiting_connect && command.type != protocol::CommandType::kConnect &&
      command.type != protocol::CommandType::kPing) {
    fail(session, command.id, protocol::ErrorCode::kUnauthenticated,
         protocol::default_message(protocol::ErrorCode::kUnauthenticated));
    return;
  }
  kHandlers[type](*this, session, command);
}

}  // namespace switchboard::hub
