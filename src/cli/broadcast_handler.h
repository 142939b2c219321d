// `switchboard serve --broadcast`: every message received is sent to every
// open connection on every worker (the sender included), through the
// serialise-once fan-out path: one SharedMessage per message, a reference
// queued on each recipient, one write per recipient per loop iteration.
// The benchmark suite's broadcast scenario drives this.
#pragma once

#include <cstdint>
#include <vector>

#include "switchboard/server.h"
#include "switchboard/shared_message.h"

namespace switchboard::cli {

class BroadcastHandler final : public WebSocketHandler {
 public:
  // In Server::start(), before any worker accepts: one registry per worker.
  void on_start(Server& server) override {
    server_ = &server;
    local_.assign(server.worker_count(), {});
  }

  void on_open(Connection& connection, const HttpRequest&) override {
    std::vector<Connection*>& local = local_[connection.worker()];
    connection.set_user_data(reinterpret_cast<void*>(static_cast<std::uintptr_t>(local.size())));
    local.push_back(&connection);
  }

  void on_close(Connection& connection, CloseCode, std::string_view) override {
    // Swap-remove: the index lives in the connection's user data.
    std::vector<Connection*>& local = local_[connection.worker()];
    auto index = reinterpret_cast<std::uintptr_t>(connection.user_data());
    local[index] = local.back();
    local[index]->set_user_data(reinterpret_cast<void*>(index));
    local.pop_back();
  }

  void on_message(Connection& connection, std::string_view payload, Opcode opcode) override {
    SharedMessage message = SharedMessage::make(payload, opcode);
    unsigned here = connection.worker();
    for (unsigned worker = 0; worker < local_.size(); ++worker) {
      if (worker == here) continue;
      server_->post(worker, [this, worker, message] { fan_out(worker, message); });
    }
    fan_out(here, message);
  }

 private:
  // On worker's thread. A recipient whose buffer is full misses the message
  // (kDropped): the benchmark counts such gaps.
  void fan_out(unsigned worker, const SharedMessage& message) {
    for (Connection* recipient : local_[worker]) recipient->send(message);
  }

  Server* server_ = nullptr;
  std::vector<std::vector<Connection*>> local_;  // per worker, touched only on that worker
};

}  // namespace switchboard::cli
