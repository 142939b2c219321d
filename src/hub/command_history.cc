// `history`: the checks on the session's worker (the namespace keeps
// history; the session may subscribe to the channel, and for a private
// channel is subscribed to it), then the channel's owner reads a page of
// its stream and answers (OwnerRole::history).
#include <limits>
#include <string>

#include "hub/commands.h"
#include "hub/node.h"
#include "protocol/names.h"

namespace switchboard::hub {

using protocol::ErrorCode;

void run_history(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (!local.options_for(command.channel).keeps_history()) {
    local.fail(session, id, ErrorCode::kHistoryDisabled, protocol::default_message(ErrorCode::kHistoryDisabled));
    return;
  }
  if (const std::optional<std::string_view> why = local.may(session, command.channel, Access::kSubscribe)) {
    local.fail(session, id, ErrorCode::kPermissionDenied, *why);
    return;
  }
  // A private channel's grant is the subscription token the subscription
  // was made with: its past is for those subscribed now.
  if (protocol::is_private_channel(command.channel) && session.find_subscription(command.channel) == nullptr) {
    local.fail(session, id, ErrorCode::kPermissionDenied, "the history of a private channel is for its subscribers");
    return;
  }
  broker::StreamQuery query;
  query.limit = command.has_limit ? static_cast<std::size_t>(command.limit) : std::numeric_limits<std::size_t>::max();
  query.reverse = command.reverse;
  if (command.has_since) {
    query.has_since = true;
    query.since = {command.since_offset, std::string(command.since_epoch)};
  }
  Node& node = local.node();
  node.post<&OwnerRole::history>(node.owner_of(command.channel), std::string(command.channel), std::move(query),
                                 ReplyTo{local.worker(), session.client, id, {}});
}

}  // namespace switchboard::hub
