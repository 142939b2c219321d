// How an HttpResponder reaches its connection from any thread: a post to the
// connection's worker through a gate that the Server closes for good when
// it is being destroyed (the workers, and their task queues, are freed
// after), the way the Hub guards its rpc answers.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "switchboard/server.h"

namespace switchboard::server {

class ServerConnection;
class Worker;

// One per Server, shared with every responder so it outlives the Server.
class PostGate {
 public:
  // Any thread: posts task to worker's loop; false (task dropped) once closed.
  bool post(Worker& worker, std::function<void()> task);
  // Once, first thing in ~Server: no post gets through afterwards.
  void close();
  bool is_closed();

 private:
  std::mutex mutex_;
  bool closed_ = false;  // guarded by mutex_
};

}  // namespace switchboard::server

namespace switchboard::server {

// Shared by the copies of one HttpResponder and the connection's handshake.
struct ResponderState {
  ResponderState(std::shared_ptr<PostGate> post_gate, Worker& owner, ServerConnection& waiting)
      : gate(std::move(post_gate)), worker(owner), connection(&waiting) {}

  std::shared_ptr<PostGate> gate;
  Worker& worker;  // dereferenced only through the open gate
  // Worker thread only: the connection waiting for this answer; null once it
  // no longer waits (answered, timed out with 504, or closed). Cleared when
  // the connection's handshake is freed.
  ServerConnection* connection;
  std::atomic<bool> responded{false};  // respond() posts once
};

}  // namespace switchboard::server
