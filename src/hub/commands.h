// Protocol v1's commands as a session's worker runs them: one handler per
// command (docs/PROTOCOL.md "Commands"), chosen by the command's type.
// Each handler runs on the session's worker after the command was parsed,
// counted and let through the auth gate (LocalRole::handle); it answers the
// command itself, or hands it to the owner of its channel or user, which
// answers it later.
#pragma once

#include "hub/local_role.h"
#include "hub/session.h"
#include "protocol/command.h"

namespace switchboard::hub {

// command is the parser's: its views are valid until the next parse, and
// its data may be moved from.
using CommandHandler = void (*)(LocalRole& local, Session& session, protocol::Command& command);

void run_connect(LocalRole& local, Session& session, protocol::Command& command);      // command_connect.cc
void run_refresh(LocalRole& local, Session& session, protocol::Command& command);      // command_connect.cc
void run_subscribe(LocalRole& local, Session& session, protocol::Command& command);    // command_subscribe.cc
void run_unsubscribe(LocalRole& local, Session& session, protocol::Command& command);  // command_subscribe.cc
void run_publish(LocalRole& local, Session& session, protocol::Command& command);      // command_publish.cc
void run_presence(LocalRole& local, Session& session, protocol::Command& command);     // command_publish.cc
void run_send(LocalRole& local, Session& session, protocol::Command& command);         // command_send.cc
void run_history(LocalRole& local, Session& session, protocol::Command& command);      // command_history.cc
void run_rpc(LocalRole& local, Session& session, protocol::Command& command);          // command_rpc.cc
void run_ping(LocalRole& local, Session& session, protocol::Command& command);         // command_dispatch.cc

}  // namespace switchboard::hub
