// One worker: a thread with its own event loop, SO_REUSEPORT listener and
// the connections it accepted. Nothing here is shared with other workers;
// other threads reach a worker only through loop().post().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "loop/event_loop.h"
#include "loop/listener.h"
#include "loop/tcp_socket.h"
#include "server/admission.h"
#include "server/router.h"
#include "switchboard/server.h"
#include "switchboard/shared_message.h"

namespace switchboard::server {

class ServerConnection;
class PostGate;
struct Handshake;
struct TlsState;

class Worker {
 public:
  // Binds the listeners on the calling thread so a bind error reaches
  // start(). Without tls, one plain listener on port. With it, port serves
  // TLS, unless config.tls_port is set: then port stays plain and tls_port
  // serves TLS (one node, both schemes).
  Worker(unsigned index, const ServerConfig& config, WebSocketHandler& handler, const Router& router,
         std::shared_ptr<PostGate> post_gate, Admission& admission, std::uint16_t port, TlsState* tls = nullptr,
         std::uint16_t tls_port = 0);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs the loop on the calling thread until drained.
  void run();
  // Any thread.
  void start_drain();
  void begin_drain();  // on the loop, after config().drain_notice_ms

  std::uint16_t port() const { return listener_->port(); }
  // The TLS listener's port (port() when that one serves TLS); 0 without TLS.
  std::uint16_t tls_port() const;
  // A TLS handshake that failed, for /metrics.
  void count_tls_failure(loop::TlsFailure failure);
  unsigned index() const { return index_; }
  loop::EventLoop& loop() { return loop_; }
  const ServerConfig& config() const { return config_; }
  WebSocketHandler& handler() { return handler_; }
  const Router& router() const { return router_; }
  // The Server's gate for posts from outside (HttpResponder::respond).
  const std::shared_ptr<PostGate>& post_gate() const { return post_gate_; }
  // Once connection's head is complete: admission's verdict on the request.
  // Via a trusted proxy, handshake.peer becomes the client X-Forwarded-For
  // names, held to the per-address cap. A health check (is_health_check) is
  // answered whatever the caps said at accept, and gives back the slot it
  // took there; anything else refused gets its 429 or 503, counted now.
  void admit_request(ServerConnection& connection, Handshake& handshake);
  loop::CorkBuffer& cork() { return cork_; }
  // Approximate from other threads (relaxed read of a counter).
  std::size_t connection_count() const { return live_count_; }

  // Queues frame for connection; written at the end of this loop iteration
  // together with everything else batched for it (one write per
  // connection per iteration, however many frames).
  void batch(ServerConnection& connection, const SharedMessage& frame);

  // Called by a connection once its fd is closed: it is unlinked now and
  // deleted at the end of this loop iteration (events for it may still be
  // pending in this iteration's batch).
  void retire(ServerConnection& connection);

  // On this worker's thread: takes a connected non-blocking socket, as the
  // listener does with each one it accepts (the unit tests hand it one end
  // of a socketpair).
  // With tls_context, the connection speaks TLS.
  void accept(int fd, const std::string& peer, ssl_ctx_st* tls_context = nullptr);

  // On this worker's thread: runs task once, delay_ms from now (within one
  // 25 ms timer tick). Tasks still waiting when the worker ends are dropped.
  void run_after(std::uint64_t delay_ms, std::function<void()> task);

 private:
  struct DelayedTask;
  static void on_delayed_task(void* task);
  // Gives back the per-address slot connection holds, if any.
  void release_slot(const ServerConnection& connection);
  void delete_retired();
  void flush_batch();
  void finish_drain_if_done();
  static void on_drain_deadline(void* self);
  // The drain closes open connections a batch at a time, every
  // kDrainTickMs, so that they do not all reconnect in the same second.
  static void on_drain_tick(void* self);
  void close_drain_batch();
  // How long a handler may still answer a connection the drain comes to
  // now: ServerConfig::drain_answer_ms, within half of what is left of
  // the drain timeout (the other half is for the closing handshakes).
  std::uint64_t answer_bound() const;

  unsigned index_;
  const ServerConfig& config_;
  WebSocketHandler& handler_;
  const Router& router_;
  std::shared_ptr<PostGate> post_gate_;
  Admission& admission_;
  // Connections admission counted by address (only with a per-address
  // cap), and that address, for the release when they end.
  std::unordered_map<const ServerConnection*, std::string> counted_;
  loop::EventLoop loop_;
  loop::CorkBuffer cork_;
  std::unique_ptr<loop::Listener> listener_;
  std::unique_ptr<loop::Listener> tls_listener_;  // only next to a plain one (ServerConfig::tls_port)
  TlsState* tls_ = nullptr;
  ServerConnection* live_ = nullptr;        // intrusive list of open and opening connections
  std::atomic<std::size_t> live_count_{0};  // read by other threads for stats
  std::vector<ServerConnection*> retired_;
  // The fan-out batch of this iteration: (connection, frame) in send order;
  // each distinct frame is retained once in pinned_ until the flush.
  struct BatchEntry {
    ServerConnection* connection;
    loop::SharedBuffer* frame;
  };
  std::vector<BatchEntry> batch_;
  std::vector<BatchEntry> flushing_;
  std::vector<loop::SharedBuffer*> batch_frames_;  // grouped per connection
  std::vector<loop::SharedBuffer*> pinned_;
  std::vector<loop::SharedBuffer*> unpinning_;
  std::uint64_t next_id_ = 0;
  DelayedTask* delayed_ = nullptr;  // intrusive list of armed run_after tasks
  loop::Timer drain_deadline_;
  loop::Timer drain_tick_;
  std::size_t drain_per_tick_ = 0;
  std::uint64_t drain_began_ms_ = 0;
  bool draining_ = false;
};

}  // namespace switchboard::server
