#include "server/responder.h"

#include "server/server_connection.h"
#include "server/worker.h"

namespace switchboard {
namespace server {

bool PostGate::post(Worker& worker, std::function<void()> task) {
  // Posting under the lock is what makes close() final: ~Server frees the
  // workers only after close() returned, so no post can be in flight then.
  // post() runs nothing: it queues the task and may write an eventfd.
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  worker.loop().post(std::move(task));
  return true;
}

void PostGate::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

bool PostGate::is_closed() {
  std::lock_guard lock(mutex_);
  return closed_;
}

}  // namespace server

void HttpResponder::respond(HttpResponse response) const {
  if (!state_ || state_->responded.exchange(true)) return;
  state_->gate->post(state_->worker, [state = state_, answer = std::move(response)]() mutable {
    if (state->connection != nullptr) state->connection->answer_async_route(std::move(answer));
  });
}

}  // namespace switchboard
