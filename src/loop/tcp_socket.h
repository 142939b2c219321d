// A non-blocking TCP socket registered with one loop: write first, queue
// only what the kernel did not take, watch EPOLLOUT only while bytes are
// pending (Redis's handleClientsWithPendingWrites), and coalesce the small
// writes made while handling one read into a single send (corking).
//
// With start_tls the same calls speak TLS (server side): read() decrypts
// into the caller's buffer, and the bytes a plain socket would hand to one
// sendmsg go to SSL_write gathered into records of up to 16 KiB
// (tcp_socket_tls.cc). Plain sockets pay one pointer test per call.
//
// Threading: used only on its loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "loop/event_loop.h"
#include "loop/io_status.h"
#include "loop/shared_buffer.h"
#include "loop/write_queue.h"

struct ssl_ctx_st;
struct ssl_st;

namespace switchboard::loop {

// A per-loop buffer that collects the writes of the one socket being
// handled, sent with one syscall when the handler returns (uWS's cork).
class CorkBuffer {
 public:
  static constexpr std::size_t kCapacity = 16 * 1024;
  char* data() { return data_; }
  std::size_t used = 0;
  const void* owner = nullptr;  // the corked socket, if any

 private:
  char data_[kCapacity];
};

class TcpSocket {
 public:
  TcpSocket() = default;
  ~TcpSocket() { close(); }
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Takes ownership of a connected non-blocking fd and registers handler
  // for its events on loop.
  void open(EventLoop& loop, int fd, IoHandler& handler);
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // With TLS, capacity must be at least kMaxTlsRecord: whole records are
  // decrypted into buffer, never split across calls.
  ReadResult read(char* buffer, std::size_t capacity);
  // TLS only: read() stopped with decrypted input still inside OpenSSL
  // (buffer full, or an error to report after the data): call it again
  // without waiting for the socket, which will not say readable for it.
  // Never while reading is paused.
  bool has_buffered_input() const { return input_buffered_ && reading_; }

  // From now on the socket speaks TLS as a server: the peer's ClientHello
  // starts the handshake, which read() and flush() drive; bytes written
  // before it finishes wait in the queue. False when OpenSSL could not
  // make the session (out of memory).
  bool start_tls(ssl_ctx_st* context);
  bool is_tls() const { return ssl_ != nullptr; }
  bool tls_handshake_done() const;
  // The verified client certificate's subject (RFC 2253), "" without one.
  std::string tls_peer_subject() const;
  // Why read() or flush() returned kFailed during a TLS session.
  TlsFailure tls_failure() const { return tls_failure_; }
  // After TlsFailure::kPlainHttp: the socket speaks plain TCP again, so a
  // plain answer can follow (OpenSSL sent nothing on it).
  void drop_tls();
  static constexpr std::size_t kMaxTlsRecord = 16 * 1024;  // plaintext bytes, RFC 8446 §5.1

  // Writes the pieces in order, as one stream of bytes.
  WriteStatus write(std::initializer_list<std::string_view> pieces);

  // Writes whole shared buffers in order, by reference: what the kernel
  // does not take is queued as references, never copied.
  WriteStatus write_shared(SharedBuffer* const* buffers, std::size_t count);

  // On EPOLLOUT: sends queued bytes; stops watching EPOLLOUT when drained.
  FlushStatus flush();

  // Corks this socket on cork until uncork(): writes that fit are gathered
  // in cork and sent together. Only one socket per loop is corked at a time.
  void cork(CorkBuffer& cork);
  WriteStatus uncork();

  std::size_t buffered_bytes() const { return queue_.size(); }

  // Stops (and restarts) watching for input: backpressure on a peer that
  // sends faster than it reads what we send back. EOF and errors still wake.
  void pause_reading();
  void resume_reading();

  // Sends FIN after the queued bytes (SHUT_WR); reads still work.
  void shutdown_write();
  // Unregisters and closes the fd, dropping anything still queued.
  void close();

 private:
  WriteStatus send_or_queue(const iovec* iov, int count, std::size_t total);
  // sendmsg's contract over TLS (tcp_socket_tls.cc): the bytes taken, or
  // -1 with errno EAGAIN (nothing taken) or EPIPE (the session failed).
  ssize_t tls_send(const iovec* iov, int count);
  ReadResult tls_read(char* buffer, std::size_t capacity);
  // Finished, waiting for the socket (interest set), or failed (tls_failure_ set).
  enum class HandshakeStep : std::uint8_t { kDone, kBlocked, kFailed };
  HandshakeStep continue_tls_handshake();
  void note_tls_failure(int ssl_error);
  // FIN, after our close_notify on a TLS session; false while the alert
  // waits for the socket (flush() sends both later).
  bool send_fin();
  bool send_close_notify();
  void watch_writable();
  void unwatch_writable();
  void update_interest();

  EventLoop* loop_ = nullptr;
  IoHandler* handler_ = nullptr;
  CorkBuffer* cork_ = nullptr;
  WriteQueue queue_;
  ssl_st* ssl_ = nullptr;  // a TLS session, or null for plain TCP
  int fd_ = -1;
  // One byte of flags: every connection carries this object.
  bool watching_writable_ : 1 = false;
  bool reading_ : 1 = true;
  bool shutdown_pending_ : 1 = false;  // SHUT_WR once the queue drains
  bool input_buffered_ : 1 = false;
  TlsFailure tls_failure_ : 3 = TlsFailure::kNone;
};

}  // namespace switchboard::loop
