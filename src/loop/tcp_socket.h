// A non-blocking TCP socket registered with one loop: write first, queue
// only what the kernel did not take, watch EPOLLOUT only while bytes are
// pending (Redis's handleClientsWithPendingWrites), and coalesce the small
// writes made while handling one read into a single send (corking).
//
// Threading: used only on its loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "loop/event_loop.h"
#include "loop/io_status.h"
#include "loop/shared_buffer.h"
#include "loop/write_queue.h"

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

  ReadResult read(char* buffer, std::size_t capacity);

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
  void watch_writable();
  void unwatch_writable();
  void update_interest();

  EventLoop* loop_ = nullptr;
  IoHandler* handler_ = nullptr;
  CorkBuffer* cork_ = nullptr;
  WriteQueue queue_;
  int fd_ = -1;
  bool watching_writable_ = false;
  bool reading_ = true;
  bool shutdown_pending_ = false;  // SHUT_WR once the queue drains
};

}  // namespace switchboard::loop
