// The rpc path, on the session's worker: the pending caps (per connection
// and per node), the handler call, and its answer (or timeout) going back
// to the client within max_rpc_answer_size.
#include <string>
#include <utility>

#include "base/log.h"
#include "hub/node.h"
#include "protocol/encode.h"

namespace switchboard {

using hub::Session;
using protocol::ErrorCode;

void Hub::Impl::handle_rpc(Session& session, const protocol::Command& command) {
  const std::uint64_t id = command.id;
  auto found = rpc_handlers.find(std::string(command.method));
  const RpcHandler* handler = found != rpc_handlers.end() ? &found->second
                              : any_rpc_handler           ? &any_rpc_handler
                                                          : nullptr;
  if (handler == nullptr) {
    fail(session, id, ErrorCode::kUnknownMethod, "unknown rpc method");
    return;
  }
  // Refused at once, before the handler holds anything: the caps bound
  // what calls nobody answers can keep alive until their timeout.
  if (session.pending_rpcs >= config.max_pending_rpcs_per_connection) {
    metrics.rpcs_refused_per_connection.add();
    fail(session, id, ErrorCode::kTooManyRpcs,
         "at most " + std::to_string(config.max_pending_rpcs_per_connection) +
             " pending rpcs per connection: wait for an answer");
    return;
  }
  const std::uint64_t bytes = command.data.size() + command.method.size();
  switch (rpc_budget.try_take(bytes)) {
    case hub::RpcBudget::Verdict::kTaken:
      break;
    case hub::RpcBudget::Verdict::kTooManyRpcs:
      metrics.rpcs_refused_per_node.add();
      fail(session, id, ErrorCode::kTooManyRpcs,
           "at most " + std::to_string(rpc_budget.max_rpcs()) + " pending rpcs on this server: try again later");
      return;
    case hub::RpcBudget::Verdict::kTooManyBytes:
      metrics.rpcs_refused_per_node.add();
      fail(session, id, ErrorCode::kTooManyRpcs,
           "at most " + std::to_string(rpc_budget.max_bytes()) +
               " bytes of pending rpcs on this server: try again later");
      return;
  }
  const unsigned worker = session.connection->worker();
  hub::WorkerState& state = *workers[worker];
  const std::uint64_t rpc = ++state.next_rpc;
  state.rpcs.emplace(rpc, hub::WorkerState::PendingRpc{session.client, id, bytes});
  ++session.pending_rpcs;
  server->post_after(worker, config.rpc_timeout_ms, [hub = shared_from_this(), worker, rpc] {
    hub->finish_rpc(worker, rpc, RpcOutcome::kTimedOut, "");
  });
  auto target = std::make_shared<RpcReply::Target>();
  target->hub = weak_from_this();
  target->worker = worker;
  target->rpc = rpc;
  const RpcCall call{session.user, session.client_text, command.method, command.data};
  try {
    (*handler)(call, RpcReply(std::move(target)));
  } catch (const std::exception& exception) {
    // Answered now; a reply the handler still makes later is dropped.
    base::log(base::LogLevel::kError, "rpc handler for %.*s threw: %s", static_cast<int>(command.method.size()),
              command.method.data(), exception.what());
    state.rpcs.erase(rpc);
    rpc_budget.give_back(bytes);
    --session.pending_rpcs;
    fail(session, id, ErrorCode::kInternal, "the rpc handler failed");
  }
}

void Hub::Impl::finish_rpc(unsigned worker, std::uint64_t rpc, RpcOutcome outcome, const std::string& result) {
  hub::WorkerState& state = *workers[worker];
  auto pending = state.rpcs.find(rpc);
  if (pending == state.rpcs.end()) return;  // answered already, or timed out
  const hub::WorkerState::PendingRpc call = pending->second;
  state.rpcs.erase(pending);
  rpc_budget.give_back(call.bytes);
  auto found = state.sessions.find(call.client);
  if (found == state.sessions.end()) return;  // the client left
  Session& session = *found->second;
  --session.pending_rpcs;
  if (outcome == RpcOutcome::kAnswered && result.size() > config.max_rpc_answer_size) {
    outcome = RpcOutcome::kTooLarge;
  }
  switch (outcome) {
    case RpcOutcome::kAnswered:
      // The handler's JSON goes to the client as it is, so it must be JSON.
      if (!protocol::is_json(result)) {
        fail(session, call.id, ErrorCode::kInternal, "the rpc handler answered with invalid JSON");
        return;
      }
      reply(session, call.id, result);
      return;
    case RpcOutcome::kFailed:
      fail(session, call.id, ErrorCode::kRpcFailed, result);
      return;
    case RpcOutcome::kTimedOut:
      fail(session, call.id, ErrorCode::kRpcTimeout,
           "no answer within " + std::to_string(config.rpc_timeout_ms) + " ms");
      return;
    case RpcOutcome::kTooLarge:
      metrics.rpc_answers_too_large.add();
      fail(session, call.id, ErrorCode::kRpcFailed,
           "the rpc answer is larger than " + std::to_string(config.max_rpc_answer_size) + " bytes");
      return;
  }
}

}  // namespace switchboard
