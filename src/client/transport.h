// One WebSocket connection of the client, from connect(2) to its end:
//
//   start() --> kConnecting --TCP (and TLS, wss) up--> kUpgrading --101 checked--> kOpen
//                   |                                      |                        |
//                   +--------------------------------------+------------------------+--> kDone
//                 refused, TLS or upgrade failure, EOF, reset, close frame, protocol error
//
// The socket, plain or TLS, is a loop::OutboundStream: bytes out go
// through its write buffer (frames are masked in place there, with a
// fresh random key each, RFC 6455 §5.3), bytes in come as views of the
// loop's receive buffer and go through codec::FrameParser in the client
// role. Pings are answered with pongs; a close frame is echoed and ends
// the connection.
//
// Threading: everything runs on the loop's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/endpoint.h"
#include "client/url.h"
#include "codec/frame_parser.h"
#include "loop/event_loop.h"
#include "loop/outbound_stream.h"
#include "loop/tls.h"

namespace switchboard::client {

enum class EndKind : std::uint8_t {
  kConnectFailed,   // connect(2) failed (refused, unreachable)
  kTlsFailed,       // the TLS handshake failed (certificate, protocol)
  kUpgradeRefused,  // the server's answer failed the RFC 6455 §4.1 checks (http_status if it had one)
  kClosedByServer,  // a close frame (close_code, reason)
  kLost,            // EOF or a reset without a close frame (1006)
  kProtocolError,   // the server broke RFC 6455 (we closed with the parser's code)
};

struct TransportEnd {
  EndKind kind = EndKind::kLost;
  std::string reason;  // one line
  std::uint16_t close_code = 0;
  int http_status = 0;
  std::optional<std::uint64_t> retry_after_s;  // a 429/503 with Retry-After
  int system_error = 0;                        // kConnectFailed: connect(2)'s errno (ECONNREFUSED, ...)
};

class TransportOwner {
 public:
  // The 101 was validated: the connection may send.
  virtual void on_transport_open() = 0;
  // Bytes arrived (any: data, control frames); before the frames they hold.
  virtual void on_transport_activity() = 0;
  // A text message; the view is valid until return.
  virtual void on_transport_text(std::string_view text) = 0;
  // The connection is over (once per started transport; the last call). The
  // owner must not destroy the transport inside this call.
  virtual void on_transport_end(const TransportEnd& end) = 0;

 protected:
  ~TransportOwner() = default;
};

struct TransportSettings {
  WsUrl url;
  Endpoint endpoint;
  std::vector<std::string> headers;  // extra "Name: value" lines for the upgrade
  std::string subprotocol;
  std::shared_ptr<const loop::TlsContext> tls;  // set for wss://
  std::uint64_t max_message_size = 64u << 20;
};

class Transport final : public loop::StreamOwner {
 public:
  enum class State : std::uint8_t { kIdle, kConnecting, kUpgrading, kOpen, kDone };

  // settings must outlive the transport.
  Transport(loop::EventLoop& loop, TransportOwner& owner, const TransportSettings& settings);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Connects; a failure may be reported (on_transport_end) before this returns.
  void start();
  // A text message, while open (ignored otherwise). A failed write ends the
  // transport (reported from a posted task, never inside this call).
  void send_text(std::string_view text);
  // Sends a close frame with code (while open), then closes the socket. No
  // owner callback follows.
  void close(std::uint16_t code);

  State state() const { return state_; }

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
  void send_upgrade();
  void on_upgrade_bytes(const char* data, std::size_t size);
  void on_frames(char* data, std::size_t size);
  // Appends a masked frame to the stream's write buffer.
  void queue_frame(Opcode opcode, std::string_view payload);
  // Sends what the buffer holds; false (the end posted) when the socket failed.
  bool flush();
  // Closes the socket and tells the owner (last: nothing of this is used after).
  void end(TransportEnd end);
  void end_later(TransportEnd end);

  loop::EventLoop& loop_;
  TransportOwner& owner_;
  const TransportSettings& settings_;
  loop::OutboundStream stream_;
  codec::FrameParser parser_;
  std::string key_;       // Sec-WebSocket-Key
  std::string response_;  // the upgrade answer's head as it arrives
  State state_ = State::kIdle;
  bool end_posted_ = false;
  // Cleared by the destructor; a posted end_later checks it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace switchboard::client
