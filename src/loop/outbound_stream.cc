#include "loop/outbound_stream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "loop/socket_calls.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24  // Linux 4.2, <linux/in.h>
#endif

namespace switchboard::loop {
namespace {

bool is_transient(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

}  // namespace

// error_code's message rather than strerror: every worker's loop may run
// a stream, and strerror is not required to be thread-safe.
std::string StreamError::message() const {
  if (system_error != 0) return std::error_code(system_error, std::generic_category()).message();
  return tls_error;
}

OutboundStream::~OutboundStream() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  close();
}

bool OutboundStream::connect(const StreamTarget& target) {
  close();
  error_ = {};
  const SocketCalls& calls = *socket_calls;
  const int fd = calls.socket(target.address->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_ = {StreamFailure::kSocket, errno, {}};
    return false;
  }
  fd_ = fd;
  // Latency, not throughput: what one event produces leaves at once (the
  // owners gather their writes themselves).
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (target.source != nullptr) {
    // Without this the kernel reserves a port at bind() for any
    // destination, and a source address runs out after ~28k connections.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (calls.bind(fd, reinterpret_cast<const sockaddr*>(target.source), sizeof *target.source) != 0) {
      fail_quietly({StreamFailure::kSocket, errno, {}});
      return false;
    }
  }
  // EINTR: the connection is still being made, asynchronously (POSIX).
  if (calls.connect(fd, target.address, target.address_size) != 0 && errno != EINPROGRESS && errno != EINTR) {
    fail_quietly({StreamFailure::kConnect, errno, {}});
    return false;
  }
  // The session only takes note of the fd and the name here; its
  // handshake starts once TCP is up.
  if (target.tls != nullptr) tls_ = std::make_unique<TlsSession>(*target.tls, fd, std::string(target.tls_host));
  // Writable once connect(2) has finished, either way (SO_ERROR says how);
  // a connect that finished at once is reported the same way.
  state_ = StreamState::kConnecting;
  interest_ = Interest::kWrite;
  loop_.add(fd, *this, interest_);
  return true;
}

// destroyed_ points at on_io's local while it runs; GCC sees it kept past
// the return on the path where a callback destroyed the stream (and with it
// destroyed_), and warns.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
void OutboundStream::on_io(std::uint32_t events) {
  bool destroyed = false;
  destroyed_ = &destroyed;
  switch (state_) {
    case StreamState::kClosed:
      break;  // a stale event from the same epoll batch
    case StreamState::kConnecting:
      on_connect_result(events);
      break;
    case StreamState::kTlsHandshake:
      continue_tls();
      break;
    case StreamState::kOpen: {
      // TLS: a write may wait for a read and the reverse, so any event
      // tries both (a read with nothing there just says kWantRead).
      if (buffered_bytes() > 0 && (tls_ != nullptr || (events & EPOLLOUT) != 0) && flush() == WriteStatus::kFailed) {
        const StreamError error = error_;
        owner_.on_stream_failed(error);
        break;
      }
      if (tls_ != nullptr || (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) {
        if (read_available(destroyed) == After::kStop) break;
      }
      // A TLS read may now wait for writability; plain, every write and
      // flush has already set the interest.
      if (tls_ != nullptr) update_interest();
      break;
    }
  }
  if (!destroyed) destroyed_ = nullptr;
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

void OutboundStream::on_connect_result(std::uint32_t events) {
  int error = 0;
  socklen_t size = sizeof error;
  if (socket_calls->getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
  if (error == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0) error = ECONNREFUSED;
  if (error != 0) {
    report({StreamFailure::kConnect, error, {}});
    return;
  }
  if (tls_ == nullptr) {
    become_open();
    return;
  }
  state_ = StreamState::kTlsHandshake;
  continue_tls();
}

void OutboundStream::continue_tls() {
  switch (tls_->handshake()) {
    case TlsStatus::kDone:
      become_open();
      return;
    case TlsStatus::kWantRead:
      tls_read_wants_write_ = false;
      update_interest();
      return;
    case TlsStatus::kWantWrite:
      tls_read_wants_write_ = true;
      update_interest();
      return;
    case TlsStatus::kClosed:
    case TlsStatus::kFailed:
      report({StreamFailure::kTlsHandshake, 0, tls_->error()});
      return;
  }
}

void OutboundStream::become_open() {
  state_ = StreamState::kOpen;
  tls_read_wants_write_ = false;
  update_interest();
  owner_.on_stream_open();  // may destroy this: nothing after it
}

OutboundStream::After OutboundStream::read_available(const bool& destroyed) {
  char* buffer = loop_.receive_buffer();
  const std::uint32_t generation = generation_;
  // One read per readiness event for plain TCP (level-triggered epoll
  // comes back); with TLS, also what OpenSSL already decrypted and holds.
  do {
    std::size_t size = 0;
    if (tls_ != nullptr) {
      tls_read_wants_write_ = false;
      switch (tls_->read(buffer, EventLoop::kReceiveBufferSize, &size)) {
        case TlsStatus::kDone:
          break;
        case TlsStatus::kWantRead:
          return After::kGoOn;
        case TlsStatus::kWantWrite:
          tls_read_wants_write_ = true;
          return After::kGoOn;
        case TlsStatus::kClosed:
          report({StreamFailure::kPeerClosed, 0, tls_->error()});
          return After::kStop;
        case TlsStatus::kFailed:
          report({StreamFailure::kRead, 0, tls_->error()});
          return After::kStop;
      }
    } else {
      const ssize_t n = socket_calls->recv(fd_, buffer, EventLoop::kReceiveBufferSize, 0);
      if (n == 0) {
        report({StreamFailure::kPeerClosed, 0, {}});
        return After::kStop;
      }
      if (n < 0) {
        if (is_transient(errno)) return After::kGoOn;
        report({StreamFailure::kRead, errno, {}});
        return After::kStop;
      }
      size = static_cast<std::size_t>(n);
    }
    owner_.on_stream_data(buffer, size);
    if (destroyed || generation != generation_) return After::kStop;
  } while (tls_ != nullptr && tls_->has_pending());
  return After::kGoOn;
}

WriteStatus OutboundStream::write(std::string_view bytes) {
  if (state_ != StreamState::kOpen) return WriteStatus::kFailed;
  if (buffered_bytes() > 0) {
    // Order: nothing may overtake bytes already waiting.
    out_.append(bytes);
    update_interest();
    return WriteStatus::kBuffered;
  }
  std::size_t sent = 0;
  if (!send_some(bytes.data(), bytes.size(), &sent)) return WriteStatus::kFailed;
  if (sent == bytes.size()) return WriteStatus::kSent;
  out_.append(bytes.substr(sent));
  update_interest();
  return WriteStatus::kBuffered;
}

WriteStatus OutboundStream::flush() {
  if (state_ != StreamState::kOpen) return WriteStatus::kFailed;
  if (buffered_bytes() > 0) {
    std::size_t sent = 0;
    if (!send_some(out_.data() + out_offset_, buffered_bytes(), &sent)) return WriteStatus::kFailed;
    consume(sent);
  }
  if (buffered_bytes() > 0) {
    update_interest();
    return WriteStatus::kBuffered;
  }
  if (shutdown_pending_) {
    shutdown_pending_ = false;
    ::shutdown(fd_, SHUT_WR);
  }
  update_interest();
  return WriteStatus::kSent;
}

bool OutboundStream::send_some(const char* data, std::size_t size, std::size_t* sent) {
  *sent = 0;
  tls_write_wants_read_ = false;
  while (*sent < size) {
    if (tls_ != nullptr) {
      std::size_t moved = 0;
      const TlsStatus status = tls_->write(data + *sent, size - *sent, &moved);
      if (status == TlsStatus::kDone) {
        *sent += moved;
        continue;
      }
      if (status == TlsStatus::kWantWrite) return true;
      if (status == TlsStatus::kWantRead) {
        // TLS must read before it writes again: on_io retries once readable.
        tls_write_wants_read_ = true;
        return true;
      }
      fail_quietly({StreamFailure::kWrite, 0, tls_->error()});
      return false;
    }
    // MSG_NOSIGNAL: a closed peer is EPIPE, not a process-killing SIGPIPE.
    const ssize_t n = socket_calls->send(fd_, data + *sent, size - *sent, MSG_NOSIGNAL);
    if (n > 0) {
      *sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno == EINTR) continue;
    fail_quietly({StreamFailure::kWrite, errno, {}});
    return false;
  }
  return true;
}

void OutboundStream::consume(std::size_t sent) {
  out_offset_ += sent;
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  } else if (out_offset_ >= kCompactAfter) {
    out_.erase(0, out_offset_);
    out_offset_ = 0;
  }
}

void OutboundStream::shutdown_write() {
  if (state_ != StreamState::kOpen) return;
  if (buffered_bytes() == 0) {
    ::shutdown(fd_, SHUT_WR);
  } else {
    shutdown_pending_ = true;
  }
}

void OutboundStream::update_interest() {
  if (state_ == StreamState::kClosed) return;  // not registered
  Interest wanted = Interest::kWrite;
  if (state_ != StreamState::kConnecting) {
    const bool want_write = tls_read_wants_write_ || (buffered_bytes() > 0 && !tls_write_wants_read_);
    wanted = want_write ? Interest::kReadWrite : Interest::kRead;
  }
  if (wanted == interest_) return;
  interest_ = wanted;
  loop_.modify(fd_, *this, wanted);
}

void OutboundStream::close() {
  if (fd_ >= 0) {
    tls_.reset();  // before the socket it writes to closes
    if (state_ != StreamState::kClosed) loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
    ++generation_;
  }
  state_ = StreamState::kClosed;
  interest_ = Interest::kNone;
  std::string().swap(out_);
  out_offset_ = 0;
  tls_read_wants_write_ = false;
  tls_write_wants_read_ = false;
  shutdown_pending_ = false;
}

void OutboundStream::fail_quietly(StreamError error) {
  close();
  error_ = std::move(error);
}

void OutboundStream::report(StreamError error) {
  fail_quietly(error);
  owner_.on_stream_failed(error);  // may destroy this: nothing after it
}

}  // namespace switchboard::loop
