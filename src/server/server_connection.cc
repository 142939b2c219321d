#include "server/server_connection.h"

#include <sys/epoll.h>

#include <algorithm>
#include <utility>

#include "base/log.h"
#include "codec/frame_writer.h"
#include "http/response.h"
#include "server/handshake.h"
#include "server/responder.h"
#include "server/worker.h"

namespace switchboard::server {
namespace {

// How long we wait for the peer's FIN after sending ours, reading and
// discarding, before closing anyway. Closing at once with unread input
// would make the kernel send RST, which can destroy our close frame in
// flight (RFC 6455 §7.1.1 wants the server to close TCP first, cleanly).
constexpr std::uint64_t kLingerMs = 2'000;

// Reassembly capacity a connection keeps between messages; above it the
// buffer is freed once the message is delivered. Messages that arrive whole
// in one read never use it (they are parsed in the loop's receive buffer).
constexpr std::size_t kKeptReassemblyBytes = 64 * 1024;

// A code the peer would refuse (1005, 1006 and 1015 are for reporting
// only, others are unassigned) is sent as 1000: the codec's rule for what
// may appear in a close frame, the same one our parser applies.
std::uint16_t sendable(CloseCode code) {
  const auto value = static_cast<std::uint16_t>(code);
  return codec::is_valid_close_code_on_wire(value) ? value : 1000;
}

}  // namespace

// An idle connection costs this object plus its kernel socket: no receive
// buffer (the loop's is shared), no write queue until a write is short, no
// handshake state once open. Keep it within 256 bytes (`switchboard bench
// connect --server-pid` measures RSS per idle connection against a 300-byte
// target, docs/BENCHMARKS.md).
static_assert(sizeof(ServerConnection) <= 256, "ServerConnection grew past 256 bytes");

ServerConnection::ServerConnection(Worker& worker, int fd, std::string peer, std::uint64_t id)
    : worker_(worker),
      parser_(codec::Role::kServer, codec::ParserLimits{worker.config().max_message_size}),
      timer_(&ServerConnection::on_timer, this),
      handshake_(std::make_unique<Handshake>(std::move(peer), worker.config())),
      id_(id) {
  socket_.open(worker.loop(), fd, *this);
  arm_timer(worker.config().handshake_timeout_ms);
}

ServerConnection::~ServerConnection() = default;

void ServerConnection::on_io(std::uint32_t events) {
  if (state_ == State::kClosed) return;  // closed earlier in this iteration
  if (events & EPOLLOUT) on_writable();
  if (state_ == State::kClosed) return;
  // TLS: a handshake finished on EPOLLOUT may have left input in OpenSSL.
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) || socket_.has_buffered_input()) on_readable();
}

void ServerConnection::on_readable() {
  // Plain TCP reads once; TLS again while OpenSSL holds decrypted input
  // that the receive buffer had no room for (the socket will not wake us).
  while (read_once() && socket_.has_buffered_input()) {
  }
}

void ServerConnection::connection_lost() {
  if (state_ == State::kHandshake && socket_.is_tls() && !socket_.tls_handshake_done()) {
    const loop::TlsFailure failure = socket_.tls_failure();
    worker_.count_tls_failure(failure);
    if (failure == loop::TlsFailure::kPlainHttp) {
      // Cheap and safe: the peer showed it speaks plain HTTP, and OpenSSL
      // sent it nothing; the answer says what to use instead.
      base::log(base::LogLevel::kDebug, "%s: plain HTTP on the TLS port, answered 400", handshake_->peer.c_str());
      socket_.drop_tls();
      reply_http_and_linger(answer_plain_http_on_tls_port());
      return;
    }
    base::log(base::LogLevel::kDebug, "%s: TLS handshake failed (%s)", handshake_->peer.c_str(),
              failure == loop::TlsFailure::kPeerClosed ? "closed by the peer" : "protocol error");
  }
  notify_closed(CloseCode::kAbnormal, "connection lost");
  close_now();
}

bool ServerConnection::read_once() {
  char* buffer = worker_.loop().receive_buffer();
  loop::ReadResult result = socket_.read(buffer, loop::EventLoop::kReceiveBufferSize);
  switch (result.status) {
    case loop::ReadStatus::kWouldBlock:
      return false;
    case loop::ReadStatus::kEof:
    case loop::ReadStatus::kFailed:
      connection_lost();
      return false;
    case loop::ReadStatus::kData:
      break;
  }
  switch (state_) {
    case State::kHandshake:
      handle_handshake_bytes(result.size);
      break;
    case State::kOpen:
    case State::kClosing:
      handle_frames(buffer, result.size);
      break;
    case State::kLingering:  // discard until the peer's FIN
    case State::kClosed:
      break;
  }
  return state_ != State::kClosed;
}

void ServerConnection::on_writable() {
  switch (socket_.flush()) {
    case loop::FlushStatus::kPending:
      return;
    case loop::FlushStatus::kFailed:
      connection_lost();
      return;
    case loop::FlushStatus::kDrained:
      break;
  }
  if (reading_paused_) {
    reading_paused_ = false;
    socket_.resume_reading();
  }
  if (drain_owed_ && state_ == State::kOpen) {
    drain_owed_ = false;
    worker_.handler().on_drain(*this);
  }
}

void ServerConnection::handle_handshake_bytes(std::size_t size) {
  Handshake& handshake = *handshake_;
  const char* data = worker_.loop().receive_buffer();
  switch (handshake.phase) {
    case Handshake::Phase::kHead:
      // All of it: after an upgrade head come the client's first frames.
      handshake.bytes.append(data, size);
      switch (handshake.parser.parse(handshake.bytes, handshake.request)) {
        case http::ParseStatus::kIncomplete:
          return;
        case http::ParseStatus::kFailed:
          reply_http_and_linger(answer_parse_error(handshake.parser.error()));
          return;
        case http::ParseStatus::kComplete:
          break;
      }
      if (socket_.is_tls()) handshake.tls_client_subject = socket_.tls_peer_subject();
      worker_.admit_request(*this, handshake);
      act_on(decide(handshake, worker_.config(), worker_.handler(), worker_.router()));
      return;
    case Handshake::Phase::kBody:
      // Only the body: bytes after it would be a pipelined request, which
      // the answer's `Connection: close` declines.
      handshake.bytes.append(data, std::min(size, handshake.body_bytes_missing()));
      act_on(decide_after_body(handshake));
      return;
    case Handshake::Phase::kAwaitingAnswer:
      // Reading is paused; EOF and errors still wake us and close above.
      // Anything else is past the request: dropped.
      return;
  }
}

void ServerConnection::act_on(HandshakeOutcome outcome) {
  switch (outcome.kind) {
    case HandshakeOutcome::Kind::kRespond:
      reply_http_and_linger(std::move(outcome.response));
      return;
    case HandshakeOutcome::Kind::kReadBody:
      // A failed write shows up on the read side.
      if (!outcome.response.empty()) socket_.write({outcome.response});
      return;
    case HandshakeOutcome::Kind::kCallAsync:
      call_async_route();
      return;
    case HandshakeOutcome::Kind::kUpgrade:
      break;
  }
  socket_.cork(worker_.cork());
  socket_.write({outcome.response});
  open_websocket();
  if (state_ != State::kClosed && socket_.uncork() == loop::WriteStatus::kFailed) {
    notify_closed(CloseCode::kAbnormal, "connection lost");
    close_now();
  }
}

void ServerConnection::call_async_route() {
  Handshake& handshake = *handshake_;
  handshake.phase = Handshake::Phase::kAwaitingAnswer;
  handshake.responder = std::make_shared<ResponderState>(worker_.post_gate(), worker_, *this);
  // Not read while it waits (the next bytes could only be a pipelined
  // request); the handshake timeout gives way to the route's own.
  socket_.pause_reading();
  arm_timer(worker_.config().route_timeout_ms);
  // respond() only posts, even from inside the handler: nothing here can
  // run before the handler returns.
  handshake.route->async_handler(view_of(handshake), HttpResponder(handshake.responder));
}

bool ServerConnection::awaiting_answer() const {
  return state_ == State::kHandshake && handshake_ && handshake_->phase == Handshake::Phase::kAwaitingAnswer;
}

void ServerConnection::answer_async_route(HttpResponse response) {
  if (!awaiting_answer()) return;  // the handshake unlinks the responder first; belt and braces
  reply_http_and_linger(answer_route(view_of(*handshake_), response));
}

void ServerConnection::open_websocket() {
  state_ = State::kOpen;
  std::uint64_t ping_interval = worker_.config().ping_interval_ms;
  if (ping_interval > 0) {
    arm_timer(ping_interval);
  } else {
    timer_.cancel();
  }
  // The handshake is freed once on_open returns; keep it alive until the
  // bytes that came after the head (a client may pipeline its first
  // frames) have been parsed.
  std::unique_ptr<Handshake> handshake = std::move(handshake_);
  open_notified_ = true;
  HttpRequest request = view_of(*handshake);
  request.upgrade_state = &handshake->upgrade_state;
  worker_.handler().on_open(*this, request);
  std::size_t head_size = handshake->parser.head_size();
  if (state_ == State::kOpen && handshake->bytes.size() > head_size) {
    handle_frames(handshake->bytes.data() + head_size, handshake->bytes.size() - head_size);
  }
}

void ServerConnection::handle_frames(char* data, std::size_t size) {
  bool corked_here = false;
  if (worker_.cork().owner == nullptr) {
    socket_.cork(worker_.cork());
    corked_here = true;
  }
  handling_input_ = true;
  codec::ParseStatus status = parser_.consume({data, size}, *this);
  handling_input_ = false;
  if (status == codec::ParseStatus::kFailed && state_ != State::kClosed) fail_websocket(parser_.violation());
  // A message reassembled across reads leaves its buffer behind (up to
  // max_message_size): a connection that sent one large message must not
  // hold that much for the rest of its life. Between messages only.
  if (parser_.buffer_capacity() > kKeptReassemblyBytes && !parser_.mid_message()) parser_.shrink();
  if (corked_here && state_ != State::kClosed && socket_.uncork() == loop::WriteStatus::kFailed) {
    notify_closed(CloseCode::kAbnormal, "connection lost");
    close_now();
    return;
  }
  maybe_pause_reading();
}

codec::Flow ServerConnection::on_message(Opcode opcode, std::string_view payload) {
  if (state_ != State::kOpen) return codec::Flow::kContinue;  // closing: the peer has not seen our close yet
  worker_.handler().on_message(*this, payload, opcode);
  return state_ == State::kOpen || state_ == State::kClosing ? codec::Flow::kContinue : codec::Flow::kStop;
}

codec::Flow ServerConnection::on_ping(std::string_view payload) {
  if (state_ != State::kOpen) return codec::Flow::kContinue;
  // RFC 6455 §5.5.2: answer with a pong carrying the same application data,
  // unless the handler's rate limit refuses the ping (it may close us too).
  if (worker_.handler().on_ping(*this, payload) == PingReply::kPong && state_ == State::kOpen) {
    write_frame(Opcode::kPong, payload);
  }
  return state_ == State::kOpen || state_ == State::kClosing ? codec::Flow::kContinue : codec::Flow::kStop;
}

codec::Flow ServerConnection::on_pong(std::string_view) {
  // RFC 6455 §5.5.3: an unsolicited pong is allowed and needs no answer;
  // any pong shows the peer is alive.
  missed_pongs_ = 0;
  return codec::Flow::kContinue;
}

void ServerConnection::on_fragmented_message() {
  // RFC 6455 §5.4 lets a message come in any number of fragments with pongs
  // between them, so the heartbeat never ends one that is held open: this
  // deadline does. The timer moves to each new fragmented message and is
  // not cancelled when one ends (that would cost every message a check):
  // when it fires, an open fragmented message is the one it was armed for.
  const std::uint64_t timeout = worker_.config().fragment_timeout_ms;
  if (timeout == 0 || state_ != State::kOpen) return;
  open_timer_ = OpenTimer::kFragmentDeadline;
  arm_timer(timeout);
}

codec::Flow ServerConnection::on_close(CloseCode code, std::string_view reason) {
  if (state_ == State::kOpen) {
    // RFC 6455 §5.5.1: answer with a close frame echoing the status code.
    if (code == CloseCode::kNoStatus) {
      write_close_frame(0, {});
    } else {
      write_close_frame(static_cast<std::uint16_t>(code), {});
    }
  }
  notify_closed(code, reason);
  linger();
  return codec::Flow::kStop;
}

SendStatus ServerConnection::send_message(std::string_view payload, Opcode opcode) {
  if (state_ != State::kOpen) return SendStatus::kDropped;
  // Answers to this connection's own input are bounded by pausing its
  // reads (maybe_pause_reading), so they are never dropped; pushed sends
  // (from other connections, timers, tasks) are refused past the cap.
  if (!handling_input_ && socket_.buffered_bytes() >= worker_.config().max_buffered_bytes) {
    return SendStatus::kDropped;
  }
  switch (write_frame(opcode, payload)) {
    case loop::WriteStatus::kSent:
      return SendStatus::kSent;
    case loop::WriteStatus::kBuffered:
      drain_owed_ = true;
      return SendStatus::kBuffered;
    case loop::WriteStatus::kFailed:
      break;
  }
  // The peer is gone; the read side sees the error on the next event and
  // closes the connection outside the handler's callback.
  return SendStatus::kDropped;
}

SendStatus ServerConnection::send_late_answer(std::string_view payload, Opcode opcode) {
  // The same rule as for answers made inside on_message: not dropped for
  // the cap; the cap pauses this connection's reads instead, which bounds
  // how many more answers it can be owed.
  const bool handling = handling_input_;
  handling_input_ = true;
  const SendStatus status = send_message(payload, opcode);
  handling_input_ = handling;
  if (!handling) maybe_pause_reading();
  return status;
}

void ServerConnection::start_close(CloseCode code, std::string_view reason) {
  switch (state_) {
    case State::kOpen:
      // After everything already queued (a frame is never cut), and the
      // last frame: from kClosing on, every send is refused.
      close_code_sent_ = sendable(code);
      write_close_frame(close_code_sent_, reason);
      state_ = State::kClosing;
      arm_timer(worker_.config().close_timeout_ms);
      return;
    case State::kHandshake:
      if (!awaiting_answer()) {
        close_now();
      } else if (worker_.post_gate()->is_closed()) {
        // ~Server: the answer can no longer arrive.
        reply_http_and_linger(answer_shutting_down());
      }
      // Otherwise the drain lets the request wait for its answer (the
      // drain deadline cuts it).
      return;
    case State::kClosing:
    case State::kLingering:
    case State::kClosed:
      return;
  }
}

void ServerConnection::refuse(int status) { handshake_->refuse_status = status; }

void ServerConnection::trust_forwarded_for() { handshake_->via_trusted_proxy = true; }

void ServerConnection::abort() {
  if (state_ == State::kClosed) return;
  notify_closed(CloseCode::kAbnormal, "terminated");
  close_now();
}

void ServerConnection::fail_websocket(codec::Violation violation) {
  fail_websocket(codec::close_code_for(violation), codec::describe(violation));
}

void ServerConnection::fail_websocket(CloseCode code, const char* reason) {
  // RFC 6455 §7.1.7: send a close frame (unless ours already went out),
  // then close the connection without waiting for the peer's.
  if (state_ == State::kOpen) write_close_frame(static_cast<std::uint16_t>(code), reason);
  notify_closed(code, reason);
  linger();
}

void ServerConnection::write_close_frame(std::uint16_t code, std::string_view reason) {
  std::string payload = code == 0 ? std::string() : codec::make_close_payload(code, reason);
  write_frame(Opcode::kClose, payload);
}

loop::WriteStatus ServerConnection::write_frame(Opcode opcode, std::string_view payload) {
  if (batched > 0) {
    worker_.batch(*this, SharedMessage::make(payload, opcode));
    return loop::WriteStatus::kSent;
  }
  char header[codec::kMaxFrameHeaderSize];
  std::size_t length = codec::write_frame_header(header, opcode, Fin::kYes, payload.size(), nullptr);
  return socket_.write({{header, length}, payload});
}

SendStatus ServerConnection::send_shared(const SharedMessage& message) {
  if (state_ != State::kOpen || !message) return SendStatus::kDropped;
  if (!handling_input_ && socket_.buffered_bytes() >= worker_.config().max_buffered_bytes) {
    return SendStatus::kDropped;
  }
  worker_.batch(*this, message);
  if (socket_.buffered_bytes() == 0) return SendStatus::kSent;
  drain_owed_ = true;
  return SendStatus::kBuffered;
}

void ServerConnection::write_batch(loop::SharedBuffer* const* frames, std::size_t count) {
  if (state_ == State::kClosed) return;
  if (socket_.write_shared(frames, count) == loop::WriteStatus::kBuffered) drain_owed_ = true;
  // linger() left the FIN to us: it must follow the batched frames.
  if (state_ == State::kLingering) socket_.shutdown_write();
}

void ServerConnection::reply_http_and_linger(std::string response) {
  socket_.write({response});
  handshake_.reset();
  linger();
}

void ServerConnection::linger() {
  state_ = State::kLingering;
  // Paused by backpressure, or while an async route answered: read (and
  // discard) until the peer's EOF now.
  reading_paused_ = false;
  socket_.resume_reading();
  if (batched == 0) socket_.shutdown_write();  // else write_batch sends the FIN
  arm_timer(kLingerMs);
}

void ServerConnection::notify_closed(CloseCode code, std::string_view reason) {
  if (!open_notified_ || close_notified_) return;
  close_notified_ = true;
  worker_.handler().on_close(*this, code, reason);
}

void ServerConnection::close_now() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  timer_.cancel();
  socket_.close();
  handshake_.reset();
  worker_.retire(*this);
}

void ServerConnection::arm_timer(std::uint64_t delay_ms) { worker_.loop().arm(timer_, delay_ms); }

void ServerConnection::maybe_pause_reading() {
  if (state_ == State::kOpen && !reading_paused_ && socket_.buffered_bytes() > worker_.config().max_buffered_bytes) {
    reading_paused_ = true;
    socket_.pause_reading();
  }
}

void ServerConnection::on_open_timer() {
  if (open_timer_ == OpenTimer::kFragmentDeadline) {
    open_timer_ = OpenTimer::kHeartbeat;
    // Not a protocol error (1002): the frames are fine, our patience is not.
    if (parser_.fragmented_message_open()) {
      fail_websocket(CloseCode::kPolicyViolation, "message not finished in time");
      return;
    }
    // Finished in time; the heartbeat it held back ticks now.
  }
  const ServerConfig& config = worker_.config();
  if (config.ping_interval_ms == 0) return;
  // Heartbeat: RFC 6455 §5.5.2 ping; a peer that left `missed_pongs_allowed`
  // pings unanswered is gone (half-open TCP) and is dropped. The count is
  // one byte: a larger allowance counts as 255, so it never wraps to 0.
  if (missed_pongs_ >= std::min(config.missed_pongs_allowed, 255u)) {
    notify_closed(CloseCode::kAbnormal, "ping timeout");
    close_now();
    return;
  }
  ++missed_pongs_;
  write_frame(Opcode::kPing, {});
  arm_timer(config.ping_interval_ms);
}

void ServerConnection::on_timer(void* self) {
  auto& connection = *static_cast<ServerConnection*>(self);
  switch (connection.state_) {
    case State::kHandshake:
      if (connection.socket_.is_tls() && !connection.socket_.tls_handshake_done()) {
        // No channel to answer on yet: a stalled TLS handshake is cut.
        connection.worker_.count_tls_failure(loop::TlsFailure::kTimeout);
        connection.close_now();
        return;
      }
      connection.reply_http_and_linger(connection.awaiting_answer() ? answer_route_timeout() : answer_timeout());
      return;
    case State::kOpen:
      connection.on_open_timer();
      return;
    case State::kClosing:
      // We ended it, for the reason our close frame gave: report that code
      // (a slow consumer's 1013, a policy 1008) rather than 1006, which
      // would blame the network. What is still queued is dropped with TCP.
      connection.notify_closed(static_cast<CloseCode>(connection.close_code_sent_), "close handshake timed out");
      connection.close_now();
      return;
    case State::kLingering:
      connection.close_now();
      return;
    case State::kClosed:
      return;
  }
}

}  // namespace switchboard::server
