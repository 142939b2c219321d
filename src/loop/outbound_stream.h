// One connection we open, plain TCP or TLS, on one loop: the socket under
// the C++ client's transport, the Redis link and the load generator.
//
//   connect() --> kConnecting --connected--> kTlsHandshake (TLS) --> kOpen
//                     |                            |                   |
//                     +----------------------------+-------------------+--> kClosed
//                  refused, TLS failure, EOF, reset, failed write, close()
//
// connect(2) is non-blocking, to a resolved IPv4/IPv6 address (optionally
// from a bound source address); with a TlsContext, the client handshake
// follows (SNI and certificate checks as loop/tls.h says). Once open:
// writes go to the kernel first and only what it does not take waits in
// one buffer, EPOLLOUT is watched only while bytes wait (or TLS needs the
// socket writable to go on), and input goes to the owner as views of the
// loop's receive buffer. What the bytes mean (WebSocket, RESP) and every
// deadline are the owner's: each one's handshake timer spans more than
// the socket's part.
//
// Errors: a failure inside a call of the owner's (connect, write, flush)
// is returned (kFailed, with error()) and reported no other way; one the
// loop finds (refused, TLS, EOF, reset, EPOLLOUT flush) goes to
// on_stream_failed. Either way the socket is already closed, and the
// stream can connect() again.
//
// Threading: everything runs on the loop's thread.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "loop/event_loop.h"
#include "loop/io_status.h"
#include "loop/tls.h"

struct sockaddr_in;

namespace switchboard::loop {

enum class StreamState : std::uint8_t { kClosed, kConnecting, kTlsHandshake, kOpen };

enum class StreamFailure : std::uint8_t {
  kSocket,        // socket(2) or bind(2) failed (system_error)
  kConnect,       // connect(2) failed: refused, unreachable (system_error)
  kTlsHandshake,  // tls_error says why (certificate, protocol, peer gone)
  kPeerClosed,    // EOF, or the TLS session closed (tls_error may say more)
  kRead,          // recv(2) (system_error) or a TLS read (tls_error) failed
  kWrite,         // send(2) (system_error) or a TLS write (tls_error) failed
};

struct StreamError {
  StreamFailure failure = StreamFailure::kPeerClosed;
  int system_error = 0;   // errno of the failed call; 0 for TLS and EOF
  std::string tls_error;  // OpenSSL's reason, one line; may be empty

  // system_error as text ("Connection refused"), else tls_error.
  std::string message() const;
};

// Where the stream connects to.
struct StreamTarget {
  const sockaddr* address = nullptr;
  socklen_t address_size = 0;
  // Bound before connect(2) when set, with IP_BIND_ADDRESS_NO_PORT so the
  // kernel picks the port per destination (the load generator's sources).
  const sockaddr_in* source = nullptr;
  // TLS when set; tls_host is what the server's certificate must name,
  // and the SNI.
  const TlsContext* tls = nullptr;
  std::string_view tls_host;
};

class StreamOwner {
 public:
  // TCP (and TLS) is up: the stream may write.
  virtual void on_stream_open() = 0;
  // Bytes arrived: a view of the loop's receive buffer, valid until return.
  virtual void on_stream_data(char* data, std::size_t size) = 0;
  // The loop found the connection failed; the socket is closed. The last
  // call for this connection.
  virtual void on_stream_failed(const StreamError& error) = 0;

 protected:
  ~StreamOwner() = default;
};

class OutboundStream final : public IoHandler {
 public:
  // Bytes sent from the front of the write buffer before it is compacted.
  static constexpr std::size_t kCompactAfter = 1 << 20;

  // Each owner callback may close the stream or destroy it (and the owner):
  // the stream touches nothing of itself after a callback that did.
  OutboundStream(EventLoop& loop, StreamOwner& owner) : loop_(loop), owner_(owner) {}
  // Closes the socket; no callback.
  ~OutboundStream();
  OutboundStream(const OutboundStream&) = delete;
  OutboundStream& operator=(const OutboundStream&) = delete;

  // Closes any previous connection and starts connecting; callbacks follow
  // from the loop. false (error() says why) when socket, bind or connect
  // failed at once.
  bool connect(const StreamTarget& target);

  StreamState state() const { return state_; }
  bool is_open() const { return state_ == StreamState::kOpen; }

  // While open: sends bytes if nothing waits, buffering what the kernel
  // does not take; else appends them behind what waits. kFailed when not
  // open or the socket failed.
  WriteStatus write(std::string_view bytes);
  // Where the owner encodes bytes in place (a frame masked there, RESP
  // commands): append only, the bytes already there may be partly sent.
  // They leave with the next flush() (or EPOLLOUT, when one is pending).
  std::string& write_buffer() { return out_; }
  // Sends what the buffer holds: kSent when all went out, kBuffered when
  // the rest waits for EPOLLOUT, kFailed when not open or the socket failed.
  WriteStatus flush();
  std::size_t buffered_bytes() const { return out_.size() - out_offset_; }

  // Sends FIN once the buffer is empty (SHUT_WR); reads still work.
  void shutdown_write();
  // Closes the socket and drops what the buffer holds; no callback.
  void close();

  // Why the last connect, write or flush failed (or the last failure reported).
  const StreamError& error() const { return error_; }

  void on_io(std::uint32_t events) override;

 private:
  // What a callback of the owner's did to the stream.
  enum class After : std::uint8_t { kGoOn, kStop };

  void on_connect_result(std::uint32_t events);
  void continue_tls();
  void become_open();
  // Reads once (plain) or until OpenSSL holds no more (TLS), handing each
  // read to the owner; kStop when a callback closed or destroyed the stream.
  After read_available(const bool& destroyed);
  // Sends from data until done or blocked; *sent: how many bytes went.
  // false when the socket failed (closed, error_ set).
  bool send_some(const char* data, std::size_t size, std::size_t* sent);
  void consume(std::size_t sent);
  void update_interest();
  // Records error and closes the socket (no callback).
  void fail_quietly(StreamError error);
  // fail_quietly, then tells the owner (last: it may destroy this).
  void report(StreamError error);

  EventLoop& loop_;
  StreamOwner& owner_;
  std::unique_ptr<TlsSession> tls_;  // wss://, rediss://: from connect() to close()
  std::string out_;                  // bytes for the socket; [out_offset_, size) unsent
  std::size_t out_offset_ = 0;
  StreamError error_;
  // Set by on_io while it runs: the destructor marks it, so on_io knows
  // that an owner callback destroyed the stream.
  bool* destroyed_ = nullptr;
  // Bumped when the socket closes: on_io notices a callback that closed
  // (or reconnected) the stream under it.
  std::uint32_t generation_ = 0;
  int fd_ = -1;
  Interest interest_ = Interest::kNone;
  StreamState state_ = StreamState::kClosed;
  bool tls_read_wants_write_ = false;  // SSL_read needs the socket writable
  bool tls_write_wants_read_ = false;  // SSL_write needs the socket readable
  bool shutdown_pending_ = false;      // SHUT_WR once the buffer drains
};

}  // namespace switchboard::loop
