#include "bench/load_connection.h"

#include <cstring>

#include "base/clock.h"
#include "codec/frame_writer.h"

namespace switchboard::bench {

LoadConnection::LoadConnection(const ConnectionContext& context, std::uint32_t index, codec::MaskKey mask_key,
                               const std::array<std::uint8_t, 16>& handshake_key)
    : context_(context),
      stream_(*context.loop, *this),
      parser_(codec::Role::kClient, {context.settings->max_message_size}),
      timer_(&LoadConnection::on_timer, this),
      index_(index),
      mask_key_(mask_key),
      handshake_key_(handshake_key) {}

LoadConnection::~LoadConnection() = default;

void LoadConnection::start(const sockaddr_in* source) {
  if (state_ != State::kIdle) return;
  const ConnectionSettings& settings = *context_.settings;
  start_ns_ = base::monotonic_ns();
  state_ = State::kConnecting;
  context_.loop->arm(timer_, settings.handshake_timeout_ms);
  loop::StreamTarget target;
  target.address = reinterpret_cast<const sockaddr*>(&settings.target.address);
  target.address_size = settings.target.size;
  target.source = source;
  target.tls = settings.tls.get();
  target.tls_host = settings.url.host;
  if (!stream_.connect(target)) {
    system_error_ = stream_.error().system_error;
    fail(ErrorKind::kConnect);
  }
}

void LoadConnection::on_stream_open() {
  state_ = State::kHandshake;
  const ConnectionSettings& settings = *context_.settings;
  const std::string request = client::make_upgrade_request(settings.url, client::make_client_key(handshake_key_),
                                                           settings.headers, settings.subprotocol);
  if (stream_.write(request) == loop::WriteStatus::kFailed) {
    system_error_ = stream_.error().system_error;
    fail(ErrorKind::kConnect);
  }
}

void LoadConnection::on_stream_data(char* data, std::size_t size) {
  if (state_ == State::kHandshake) {
    on_handshake_bytes(data, size);
  } else {
    on_frames(data, size);
  }
}

void LoadConnection::on_stream_failed(const loop::StreamError& error) {
  switch (error.failure) {
    case loop::StreamFailure::kSocket:
    case loop::StreamFailure::kConnect:
    case loop::StreamFailure::kTlsHandshake:
      system_error_ = error.system_error;
      fail(ErrorKind::kConnect);
      return;
    case loop::StreamFailure::kPeerClosed:
    case loop::StreamFailure::kRead:
      on_eof();
      return;
    case loop::StreamFailure::kWrite:
      system_error_ = error.system_error;
      fail(ErrorKind::kWriteFailed);
      return;
  }
}

void LoadConnection::on_handshake_bytes(const char* data, std::size_t size) {
  response_.append(data, size);
  const std::size_t head_size = client::response_head_size(response_);
  if (head_size == 0) {
    if (response_.size() > client::kMaxResponseHead) {
      handshake_error_ = client::HandshakeError::kHeadTooLarge;
      fail(ErrorKind::kHandshakeRejected);
    }
    return;
  }
  int status = 0;
  const client::HandshakeError error =
      client::check_upgrade_response(std::string_view(response_).substr(0, head_size),
                                     client::make_client_key(handshake_key_), context_.settings->subprotocol, &status);
  http_status_ = static_cast<std::uint16_t>(status);
  if (error != client::HandshakeError::kNone) {
    handshake_error_ = error;
    fail(ErrorKind::kHandshakeRejected);
    return;
  }
  handshake_ns_ = base::monotonic_ns() - start_ns_;
  timer_.cancel();
  state_ = State::kOpen;
  // Frames may follow the head in the same read (a server ping, say).
  std::string rest = response_.substr(head_size);
  std::string().swap(response_);
  context_.observer->on_open(*this);
  if (!rest.empty() && state_ == State::kOpen) on_frames(rest.data(), rest.size());
}

void LoadConnection::on_frames(char* data, std::size_t size) {
  batch_ = Batch::kOpen;
  const codec::ParseStatus status = parser_.consume(std::span<char>(data, size), *this);
  if (state_ == State::kDone) return;  // finished inside a callback; the socket is closed
  flush_batch();
  if (state_ == State::kDone) return;
  if (status == codec::ParseStatus::kFailed) fail(ErrorKind::kProtocol);
}

codec::Flow LoadConnection::on_message(Opcode opcode, std::string_view payload) {
  // After our close the server may still echo what was in flight: ignored.
  if (state_ == State::kOpen) context_.observer->on_message(*this, opcode, payload);
  return state_ == State::kDone ? codec::Flow::kStop : codec::Flow::kContinue;
}

codec::Flow LoadConnection::on_ping(std::string_view payload) {
  // RFC 6455 §5.5.2/§5.5.3: answer with the same payload; nothing after our close.
  if (state_ == State::kOpen) send_control(Opcode::kPong, payload);
  return state_ == State::kDone ? codec::Flow::kStop : codec::Flow::kContinue;
}

codec::Flow LoadConnection::on_pong(std::string_view) { return codec::Flow::kContinue; }

codec::Flow LoadConnection::on_close(CloseCode code, std::string_view) {
  close_received_ = true;
  close_code_ = static_cast<std::uint16_t>(code);
  if (state_ == State::kOpen) {
    // RFC 6455 §5.5.1: echo the code, then wait for the server to close TCP.
    context_.observer->on_error(*this, ErrorKind::kUnexpectedClose);
    if (code == CloseCode::kNoStatus) {
      send_control(Opcode::kClose, {});
    } else {
      const std::string payload = codec::make_close_payload(static_cast<std::uint16_t>(code), "");
      send_control(Opcode::kClose, payload);
    }
    if (state_ == State::kDone) return codec::Flow::kStop;
    state_ = State::kClosing;
    context_.loop->arm(timer_, context_.settings->close_timeout_ms);
  }
  // The close exchange is complete: our FIN tells a peer that waits for it
  // (sent after what is still buffered).
  stream_.shutdown_write();
  return codec::Flow::kStop;
}

void LoadConnection::send_control(Opcode opcode, std::string_view payload) {
  char frame[codec::kMaxFrameHeaderSize + codec::kMaxControlPayload];
  const std::size_t header = codec::write_frame_header(frame, opcode, Fin::kYes, payload.size(), &mask_key_);
  std::memcpy(frame + header, payload.data(), payload.size());
  codec::apply_mask(frame + header, payload.size(), mask_key_);
  write_frame(std::string_view(frame, header + payload.size()));
}

loop::WriteStatus LoadConnection::send_text(std::string_view payload, std::string& scratch) {
  char header[codec::kMaxFrameHeaderSize];
  const std::size_t header_size =
      codec::write_frame_header(header, Opcode::kText, Fin::kYes, payload.size(), &mask_key_);
  scratch.assign(header, header_size);
  scratch.append(payload);
  codec::apply_mask(scratch.data() + header_size, payload.size(), mask_key_);
  return send(scratch);
}

loop::WriteStatus LoadConnection::send(std::string_view frame) {
  if (state_ != State::kOpen) return loop::WriteStatus::kFailed;
  return write_frame(frame);
}

loop::WriteStatus LoadConnection::write_frame(std::string_view frame) {
  if (batch_ == Batch::kOpen) {
    stream_.write_buffer().append(frame);
    return loop::WriteStatus::kSent;
  }
  const loop::WriteStatus status = stream_.write(frame);
  if (status == loop::WriteStatus::kFailed) {
    system_error_ = stream_.error().system_error;
    fail(ErrorKind::kWriteFailed);
  }
  return status;
}

void LoadConnection::begin_batch() {
  if (state_ == State::kOpen) batch_ = Batch::kOpen;
}

void LoadConnection::end_batch() {
  if (state_ == State::kDone) return;
  flush_batch();
}

void LoadConnection::flush_batch() {
  batch_ = Batch::kNone;
  if (!stream_.is_open() || stream_.flush() != loop::WriteStatus::kFailed) return;
  system_error_ = stream_.error().system_error;
  fail(ErrorKind::kWriteFailed);
}

void LoadConnection::close() {
  switch (state_) {
    case State::kOpen: {
      const std::string payload = codec::make_close_payload(static_cast<std::uint16_t>(CloseCode::kNormal), "");
      send_control(Opcode::kClose, payload);
      if (state_ == State::kDone) return;
      state_ = State::kClosing;
      context_.loop->arm(timer_, context_.settings->close_timeout_ms);
      return;
    }
    case State::kIdle:
      state_ = State::kDone;  // never started: no callbacks
      return;
    case State::kConnecting:
    case State::kHandshake:
      finish();  // the run is over: not an error
      return;
    case State::kClosing:
    case State::kDone:
      return;
  }
}

void LoadConnection::on_eof() {
  switch (state_) {
    case State::kHandshake:
      fail(ErrorKind::kHandshakeRejected);
      return;
    case State::kOpen:
      fail(ErrorKind::kUnexpectedClose);
      return;
    case State::kClosing:
      // The close handshake is complete only with the server's close frame.
      if (close_received_) {
        finish();
      } else {
        fail(ErrorKind::kUnexpectedClose);
      }
      return;
    default:
      return;
  }
}

void LoadConnection::on_timer(void* self) {
  auto* connection = static_cast<LoadConnection*>(self);
  switch (connection->state_) {
    case State::kConnecting:
    case State::kHandshake:
      connection->fail(ErrorKind::kHandshakeTimeout);
      return;
    case State::kClosing:
      connection->fail(ErrorKind::kCloseTimeout);
      return;
    default:
      return;
  }
}

void LoadConnection::fail(ErrorKind kind) {
  if (state_ == State::kDone) return;
  context_.observer->on_error(*this, kind);
  finish();
}

void LoadConnection::finish() {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  batch_ = Batch::kNone;
  timer_.cancel();
  stream_.close();
  std::string().swap(response_);
  parser_.shrink();
  context_.observer->on_done(*this);
}

}  // namespace switchboard::bench
