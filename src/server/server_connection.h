// One accepted TCP connection, from the HTTP request to the TCP close:
//
//   kHandshake --101--> kOpen --our close frame--> kClosing
//        |                |                           |
//        | plain HTTP     | peer close / violation    | peer's close / timeout
//        | answer         |                           |
//        v                v                           v
//   kLingering <----------+---------------------------+   (FIN sent after
//        |                                                  the queued bytes;
//        v  EOF from the peer, or linger timeout            input discarded)
//   kClosed  (fd closed; deleted at the end of the loop iteration)
//
// kHandshake reads the head and, for a plain request, its body (Handshake's
// phases); an async route's request then waits there, unread, for its
// answer (or 504 after route_timeout_ms).
//
// The message path: on_io(EPOLLIN) -> read into the loop's receive buffer ->
// FrameParser::consume -> on_message (the handler) -> send() -> the cork
// buffer -> one send(2) when the read is handled (TcpSocket::uncork).
// On a TLS listener the socket decrypts in read() and encrypts in its
// writes (one SSL_write per 16 KiB record); everything above it is the
// same. The TLS handshake runs in kHandshake, before the HTTP request,
// under the same handshake timeout.
//
// Threading: owned by one Worker; every member runs on its loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "codec/frame_parser.h"
#include "loop/event_loop.h"
#include "loop/tcp_socket.h"
#include "loop/timer_wheel.h"
#include "switchboard/connection.h"
#include "switchboard/server.h"

namespace switchboard::server {

class Worker;
struct Handshake;
struct HandshakeOutcome;

class ServerConnection final : public Connection, public loop::IoHandler {
 public:
  enum class State : std::uint8_t { kHandshake, kOpen, kClosing, kLingering, kClosed };

  ServerConnection(Worker& worker, int fd, std::string peer, std::uint64_t id);
  ~ServerConnection();

  void on_io(std::uint32_t events) override;

  // Connection's API (see include/switchboard/connection.h).
  SendStatus send_message(std::string_view payload, Opcode opcode);
  SendStatus send_shared(const SharedMessage& message);
  // An answer to this connection's input made later (Connection::send_answer).
  SendStatus send_late_answer(std::string_view payload, Opcode opcode);
  void start_close(CloseCode code, std::string_view reason);
  void abort();
  // Serves TLS with context from the first byte on; false when OpenSSL
  // could not make the session (then abort()).
  bool start_tls(ssl_ctx_st* context) { return socket_.start_tls(context); }
  // Admission control said no: the request gets this status (429 or 503)
  // as soon as its head is read.
  void refuse(int status);
  // The socket is from a trusted proxy (ServerConfig::trusted_proxies).
  void trust_forwarded_for();

  // An async route's answer, posted here by HttpResponder::respond. Only
  // while the request waits for it (the handshake unlinks the responder
  // when freed).
  void answer_async_route(HttpResponse response);

  State state() const { return state_; }
  // The drain has called on_going_away for it; a handler that closes it
  // itself leaves it open meanwhile, and the drain must not come back.
  bool going_away() const { return going_away_; }
  void set_going_away() { going_away_ = true; }
  std::uint64_t id() const { return id_; }
  Worker& worker() const { return worker_; }
  std::size_t buffered_amount() const { return socket_.buffered_bytes(); }

  // Frame parser sink (codec/frame_parser.h).
  codec::Flow on_message(Opcode opcode, std::string_view payload);
  codec::Flow on_ping(std::string_view payload);
  codec::Flow on_pong(std::string_view payload);
  codec::Flow on_close(CloseCode code, std::string_view reason);
  // Starts the fragmented message's deadline (ServerConfig::fragment_timeout_ms).
  void on_fragmented_message();

  // Writes this connection's share of the worker's fan-out batch (frames
  // in the order they were sent) and, when lingering, the FIN after them.
  // Never calls the handler: a failed write is found by the read side.
  void write_batch(loop::SharedBuffer* const* frames, std::size_t count);

  // The worker's intrusive list of live connections.
  ServerConnection* prev = nullptr;
  ServerConnection* next = nullptr;
  // Fan-out batch bookkeeping, owned by Worker::flush_batch: frames queued
  // for this connection in this loop iteration, and its place in the flush.
  std::uint32_t batched = 0;
  std::uint32_t batch_cursor = kNoBatchCursor;
  static constexpr std::uint32_t kNoBatchCursor = ~std::uint32_t{0};

 private:
  void on_readable();
  // One read and what follows from it; false once the connection closed.
  bool read_once();
  void on_writable();
  // The socket failed or the peer left: a TLS handshake that failed is
  // counted (a plain HTTP request on the TLS port answered 400), an open
  // connection is told 1006, then the fd is closed.
  void connection_lost();
  void handle_handshake_bytes(std::size_t size);
  void act_on(HandshakeOutcome outcome);
  // Hands the request to its async route; stops reading until the answer.
  void call_async_route();
  bool awaiting_answer() const;
  void handle_frames(char* data, std::size_t size);
  // Accepts the upgrade (101), then feeds the bytes that followed the head.
  void open_websocket();
  void reply_http_and_linger(std::string response);
  void fail_websocket(codec::Violation violation);
  // Close frame with code and reason, then linger: no close handshake.
  void fail_websocket(CloseCode code, const char* reason);
  void write_close_frame(std::uint16_t code, std::string_view reason);
  // Every frame we send goes through here, so none can overtake the frames
  // already batched for this connection in this iteration.
  loop::WriteStatus write_frame(Opcode opcode, std::string_view payload);
  // Sends FIN once the queue drains and waits for the peer's EOF.
  void linger();
  // Delivers on_close once, for a connection that had opened.
  void notify_closed(CloseCode code, std::string_view reason);
  void close_now();
  void arm_timer(std::uint64_t delay_ms);
  void maybe_pause_reading();
  static void on_timer(void* self);
  // kOpen's timer: the heartbeat, or a fragmented message's deadline.
  void on_open_timer();

  Worker& worker_;
  loop::TcpSocket socket_;
  codec::FrameParser parser_;
  loop::Timer timer_;
  std::unique_ptr<Handshake> handshake_;  // only until the upgrade completes
  std::uint64_t id_;
  State state_ = State::kHandshake;
  std::uint8_t missed_pongs_ = 0;
  // The code of the close frame we started the closing handshake with: what
  // the handler is told when the peer never answers it.
  std::uint16_t close_code_sent_ = 0;
  // What timer_ waits for in kOpen. A fragmented message's deadline holds
  // the heartbeat back (one timer, and no room in 256 bytes for a second
  // due time); the heartbeat ticks when it passes.
  enum class OpenTimer : std::uint8_t { kHeartbeat, kFragmentDeadline };
  OpenTimer open_timer_ = OpenTimer::kHeartbeat;
  bool reading_paused_ = false;
  bool handling_input_ = false;  // inside parser_.consume: sends answer this peer's input
  // One byte for the flags off the per-frame path, so that the object stays
  // within its 256 bytes.
  bool open_notified_ : 1 = false;  // on_open ran, so on_close is owed
  bool close_notified_ : 1 = false;
  bool drain_owed_ : 1 = false;  // a send returned kBuffered
  bool going_away_ : 1 = false;  // the server's drain has come to it (on_going_away)
};

}  // namespace switchboard::server
