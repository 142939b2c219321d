// One client connection of the load generator, from connect(2) to the end
// of the close handshake:
//
//   kIdle --start()--> kConnecting --writable--> kHandshake --101 checked--> kOpen
//                          |                         |                        |
//                          | refused / timeout       | bad answer / timeout   | close() / server close
//                          v                         v                        v
//                        kDone <---------------------+--------------------- kClosing
//                          ^                                                  |
//                          +---- server's close frame and EOF, or 2 s --------+
//
// Frames from the server go through codec::FrameParser in the client role
// (zero-copy views of the loop's receive buffer); pings are answered with
// pongs; the socket is a loop::OutboundStream, and the frames sent in
// answer to one read (or in one batch) gather in its write buffer and
// leave in one send(2).
//
// Threading: owned by one ThreadDriver; everything runs on its loop thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/address.h"
#include "bench/errors.h"
#include "client/handshake.h"
#include "client/url.h"
#include "codec/frame_parser.h"
#include "codec/mask.h"
#include "loop/event_loop.h"
#include "loop/io_status.h"
#include "loop/outbound_stream.h"
#include "loop/timer_wheel.h"

namespace switchboard::bench {

class LoadConnection;

// Per-run settings, shared read-only by every connection on every thread.
struct ConnectionSettings {
  client::Endpoint target;
  client::WsUrl url;
  std::vector<std::string> headers;
  std::string subprotocol;
  std::uint64_t handshake_timeout_ms = 10'000;
  std::uint64_t close_timeout_ms = 2'000;
  std::uint64_t max_message_size = 1u << 20;
  std::shared_ptr<const loop::TlsContext> tls;  // wss://
};

// The scenario's side of a connection. Callbacks run on the loop thread;
// a callback may send on the connection, or close it.
class ConnectionObserver {
 public:
  // The 101 was validated; the connection may send.
  virtual void on_open(LoadConnection& connection) = 0;
  // A text or binary message, while open; payload is valid until return.
  virtual void on_message(LoadConnection& connection, Opcode opcode, std::string_view payload) = 0;
  // Something went wrong; on_done follows when the connection is finished.
  virtual void on_error(LoadConnection& connection, ErrorKind kind) = 0;
  // The socket is closed: once per started connection, last callback.
  virtual void on_done(LoadConnection& connection) = 0;

 protected:
  ~ConnectionObserver() = default;
};

// What a connection needs from its thread: one per ThreadDriver.
struct ConnectionContext {
  loop::EventLoop* loop = nullptr;
  const ConnectionSettings* settings = nullptr;
  ConnectionObserver* observer = nullptr;
};

class LoadConnection final : public loop::StreamOwner {
 public:
  enum class State : std::uint8_t { kIdle, kConnecting, kHandshake, kOpen, kClosing, kDone };

  // mask_key: this connection's RFC 6455 §5.3 masking key (random per
  // connection); handshake_key: 16 random bytes for Sec-WebSocket-Key.
  LoadConnection(const ConnectionContext& context, std::uint32_t index, codec::MaskKey mask_key,
                 const std::array<std::uint8_t, 16>& handshake_key);
  ~LoadConnection();
  LoadConnection(const LoadConnection&) = delete;
  LoadConnection& operator=(const LoadConnection&) = delete;

  // Connects, from `source` when not null (bound with
  // IP_BIND_ADDRESS_NO_PORT so the kernel picks the port per destination).
  // Failures are reported through the observer, possibly before this returns.
  void start(const sockaddr_in* source);

  // Writes a whole prebuilt frame while open. kFailed has already been
  // reported (on_error + on_done).
  loop::WriteStatus send(std::string_view frame);
  // Frames payload as one masked text frame in scratch (reused between
  // calls, so that a driver allocates once) and sends it.
  loop::WriteStatus send_text(std::string_view payload, std::string& scratch);
  // Gathers the sends until end_batch() into one send(2).
  void begin_batch();
  void end_batch();

  // The close handshake: close 1000, then wait up to close_timeout_ms for
  // the server's close frame and EOF. A connection still connecting is
  // dropped (on_done, no error); one never started just becomes kDone,
  // without callbacks.
  void close();

  State state() const { return state_; }
  bool is_open() const { return state_ == State::kOpen; }
  std::uint32_t index() const { return index_; }
  codec::MaskKey mask_key() const { return mask_key_; }
  // connect(2) to the validated 101, once open.
  std::uint64_t handshake_ns() const { return handshake_ns_; }
  // errno of the last failed system call, for the report's first error.
  int system_error() const { return system_error_; }
  // Why the server's answer failed the handshake, and its HTTP status (0:
  // none parsed), for the report's first error.
  client::HandshakeError handshake_error() const { return handshake_error_; }
  int http_status() const { return http_status_; }
  // The parser's verdict after ErrorKind::kProtocol.
  codec::Violation violation() const { return parser_.violation(); }
  // The code of the server's close frame (0: none received).
  std::uint16_t close_code() const { return close_code_; }

  // The stream's owner (loop/outbound_stream.h).
  void on_stream_open() override;
  void on_stream_data(char* data, std::size_t size) override;
  void on_stream_failed(const loop::StreamError& error) override;

  // Frame parser sink (codec/frame_parser.h).
  codec::Flow on_message(Opcode opcode, std::string_view payload);
  codec::Flow on_ping(std::string_view payload);
  codec::Flow on_pong(std::string_view payload);
  codec::Flow on_close(CloseCode code, std::string_view reason);

 private:
  enum class Batch : std::uint8_t { kNone, kOpen };

  static void on_timer(void* self);
  void on_handshake_bytes(const char* data, std::size_t size);
  void on_frames(char* data, std::size_t size);
  void on_eof();
  void send_control(Opcode opcode, std::string_view payload);
  // Gathers frame in the batch, or writes it now; a failure is reported.
  loop::WriteStatus write_frame(std::string_view frame);
  // Sends the frames gathered since begin_batch (or the read began).
  void flush_batch();
  void fail(ErrorKind kind);
  void finish();

  ConnectionContext context_;
  loop::OutboundStream stream_;
  codec::FrameParser parser_;
  loop::Timer timer_;
  std::string response_;  // the response head as it arrives; freed once open
  std::uint64_t start_ns_ = 0;
  std::uint64_t handshake_ns_ = 0;
  int system_error_ = 0;
  std::uint16_t http_status_ = 0;
  std::uint16_t close_code_ = 0;
  client::HandshakeError handshake_error_ = client::HandshakeError::kNone;
  std::uint32_t index_;
  codec::MaskKey mask_key_;
  std::array<std::uint8_t, 16> handshake_key_;  // Sec-WebSocket-Key before base64
  State state_ = State::kIdle;
  Batch batch_ = Batch::kNone;  // kOpen: sends gather in the stream's buffer
  bool close_received_ = false;
};

}  // namespace switchboard::bench
