// `rpc`, on the session's worker: the pending caps (per connection and per
// node), the handler call, and its answer (or timeout) going back to the
// client within max_rpc_answer_size.
#include <memory>
#include <string>
#include <utility>

#include "base/log.h"
#include "hub/commands.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard::hub {

using protocol::ErrorCode;

void run_rpc(LocalRole& local, Session& session, protocol::Command& command) {
  const std::uint64_t id = command.id;
  Node& node = local.node();
  const HubConfig& config = node.config();
  auto found = node.rpc_handlers.find(std::string(command.method));
  const RpcHandler* handler = found != node.rpc_handlers.end() ? &found->second
                              : node.any_rpc_handler           ? &node.any_rpc_handler
                                                               : nullptr;
  if (handler == nullptr) {
    local.fail(session, id, ErrorCode::kUnknownMethod, "unknown rpc method");
    return;
  }
  // Refused at once, before the handler holds anything: the caps bound
  // what calls nobody answers can keep alive until their timeout.
  if (session.pending_rpcs >= config.max_pending_rpcs_per_connection) {
    node.metrics.rpcs_refused_per_connection.add();
    local.fail(session, id, ErrorCode::kTooManyRpcs,
               "at most " + std::to_string(config.max_pending_rpcs_per_connection) +
                   " pending rpcs per connection: wait for an answer");
    return;
  }
  const std::uint64_t bytes = command.data.size() + command.method.size();
  switch (node.rpc_budget.try_take(bytes)) {
    case RpcBudget::Verdict::kTaken:
      break;
    case RpcBudget::Verdict::kTooManyRpcs:
      node.metrics.rpcs_refused_per_node.add();
      local.fail(
          session, id, ErrorCode::kTooManyRpcs,
          "at most " + std::to_string(node.rpc_budget.max_rpcs()) + " pending rpcs on this server: try again later");
      return;
    case RpcBudget::Verdict::kTooManyBytes:
      node.metrics.rpcs_refused_per_node.add();
      local.fail(session, id, ErrorCode::kTooManyRpcs,
                 "at most " + std::to_string(node.rpc_budget.max_bytes()) +
                     " bytes of pending rpcs on this server: try again later");
      return;
  }
  const std::uint64_t rpc = local.track_rpc(session, id, bytes);
  const RpcCall call{session.user, session.client_text, command.method, command.data};
  try {
    (*handler)(call, node.rpc_reply(local.worker(), rpc));
  } catch (const std::exception& exception) {
    // Answered now; a reply the handler still makes later is dropped.
    base::log(base::LogLevel::kError, "rpc handler for %.*s threw: %s", static_cast<int>(command.method.size()),
              command.method.data(), exception.what());
    local.forget_rpc(session, rpc, bytes);
    local.fail(session, id, ErrorCode::kInternal, "the rpc handler failed");
  }
}

std::uint64_t LocalRole::track_rpc(Session& session, std::uint64_t id, std::uint64_t bytes) {
  const std::uint64_t rpc = ++next_rpc_;
  rpcs_.emplace(rpc, PendingRpc{session.client, id, bytes});
  ++session.pending_rpcs;
  node_.post_after<&LocalRole::finish_rpc>(worker_, node_.config().rpc_timeout_ms, rpc, RpcOutcome::kTimedOut,
                                           std::string());
  return rpc;
}

void LocalRole::forget_rpc(Session& session, std::uint64_t rpc, std::uint64_t bytes) {
  rpcs_.erase(rpc);
  node_.rpc_budget.give_back(bytes);
  --session.pending_rpcs;
}

void LocalRole::finish_rpc(std::uint64_t rpc, RpcOutcome outcome, const std::string& result) {
  auto pending = rpcs_.find(rpc);
  if (pending == rpcs_.end()) return;  // answered already, or timed out
  const PendingRpc call = pending->second;
  rpcs_.erase(pending);
  node_.rpc_budget.give_back(call.bytes);
  Session* session = find_session(call.client);
  if (session == nullptr) return;  // the client left
  --session->pending_rpcs;
  const HubConfig& config = node_.config();
  if (outcome == RpcOutcome::kAnswered && result.size() > config.max_rpc_answer_size) {
    outcome = RpcOutcome::kTooLarge;
  }
  switch (outcome) {
    case RpcOutcome::kAnswered:
      // The handler's JSON goes to the client as it is, so it must be JSON.
      if (!protocol::is_json(result)) {
        fail(*session, call.id, ErrorCode::kInternal, "the rpc handler answered with invalid JSON");
        return;
      }
      reply(*session, call.id, result);
      return;
    case RpcOutcome::kFailed:
      fail(*session, call.id, ErrorCode::kRpcFailed, result);
      return;
    case RpcOutcome::kTimedOut:
      fail(*session, call.id, ErrorCode::kRpcTimeout,
           "no answer within " + std::to_string(config.rpc_timeout_ms) + " ms");
      return;
    case RpcOutcome::kTooLarge:
      node_.metrics.rpc_answers_too_large.add();
      fail(*session, call.id, ErrorCode::kRpcFailed,
           "the rpc answer is larger than " + std::to_string(config.max_rpc_answer_size) + " bytes");
      return;
  }
}

}  // namespace switchboard::hub
