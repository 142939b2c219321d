// `publish` and `presence`: the checks on the session's worker, then the
// channel's owner runs it and answers (OwnerRole::publish, presence).
#include <string>
#include <utility>

#include "hub/commands.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {

using protocol::ErrorCode;

void run_publish(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (const std::optional<std::string_view> why = local.may(session, command.channel, Access::kPublish)) {
    local.fail(session, id, ErrorCode::kPermissionDenied, *why);
    return;
  }
  if (!local.admit_publish(session, command.channel, id)) return;
  Node& node = local.node();
  // Posted even when this worker owns the channel (owner_role.h says why).
  node.post<&OwnerRole::publish>(node.owner_of(command.channel), std::string(command.channel), std::move(command.data),
                                 command.exclude_self ? session.client : 0,
                                 ReplyTo{local.worker(), session.client, id, {}});
}

void run_presence(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  if (!local.options_for(command.channel).presence) {
    local.fail(session, id, ErrorCode::kPresenceDisabled, protocol::default_message(ErrorCode::kPresenceDisabled));
    return;
  }
  if (const std::optional<std::string_view> why = local.may(session, command.channel, Access::kPresence)) {
    local.fail(session, id, ErrorCode::kPermissionDenied, *why);
    return;
  }
  Node& node = local.node();
  node.post<&OwnerRole::presence>(node.owner_of(command.channel), std::string(command.channel),
                                  ReplyTo{local.worker(), session.client, id, {}});
}

}  // namespace switchboard::hub
