#include "loop/tcp_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace switchboard::loop {
namespace {

constexpr int kMaxIov = 64;

bool is_transient(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

// sendmsg rather than writev: MSG_NOSIGNAL turns a write to a closed peer
// into EPIPE instead of a process-killing SIGPIPE. One buffer (the common
// case: a corked batch of replies) goes through send(), which spares the
// kernel copying in a msghdr and an iovec array.
ssize_t send_iov(int fd, const iovec* iov, int count) {
  if (count == 1) return ::send(fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = static_cast<std::size_t>(count);
  return ::sendmsg(fd, &message, MSG_NOSIGNAL);
}

}  // namespace

void TcpSocket::open(EventLoop& loop, int fd, IoHandler& handler) {
  loop_ = &loop;
  handler_ = &handler;
  fd_ = fd;
  loop.add(fd, handler, Interest::kRead);
}

ReadResult TcpSocket::read(char* buffer, std::size_t capacity) {
  if (ssl_ != nullptr) return tls_read(buffer, capacity);
  ssize_t n = ::recv(fd_, buffer, capacity, 0);
  if (n > 0) return {ReadStatus::kData, static_cast<std::size_t>(n)};
  if (n == 0) return {ReadStatus::kEof, 0};
  if (is_transient(errno)) return {ReadStatus::kWouldBlock, 0};
  return {ReadStatus::kFailed, 0};
}

WriteStatus TcpSocket::write(std::initializer_list<std::string_view> pieces) {
  // Callers pass a frame header and a payload or two: far below kMaxIov.
  assert(pieces.size() < kMaxIov);
  if (fd_ < 0) return WriteStatus::kFailed;
  std::size_t total = 0;
  for (auto piece : pieces) total += piece.size();
  if (!queue_.empty()) {
    // Order: nothing may overtake bytes already waiting.
    for (auto piece : pieces) queue_.append(piece);
    return WriteStatus::kBuffered;
  }
  if (cork_ != nullptr) {
    if (cork_->used + total <= CorkBuffer::kCapacity) {
      for (auto piece : pieces) {
        std::memcpy(cork_->data() + cork_->used, piece.data(), piece.size());
        cork_->used += piece.size();
      }
      return WriteStatus::kSent;
    }
    // Too big for the cork: send what it holds first, then these bytes.
    iovec iov[kMaxIov];
    int count = 0;
    iov[count++] = {cork_->data(), cork_->used};
    for (auto piece : pieces) {
      if (count == kMaxIov) break;
      iov[count++] = {const_cast<char*>(piece.data()), piece.size()};
    }
    std::size_t corked = cork_->used;
    cork_->used = 0;
    return send_or_queue(iov, count, corked + total);
  }
  iovec iov[kMaxIov];
  int count = 0;
  for (auto piece : pieces) {
    if (count == kMaxIov) break;
    iov[count++] = {const_cast<char*>(piece.data()), piece.size()};
  }
  return send_or_queue(iov, count, total);
}

WriteStatus TcpSocket::send_or_queue(const iovec* iov, int count, std::size_t total) {
  std::size_t sent = 0;
  if (total > 0) {
    ssize_t n = ssl_ != nullptr ? tls_send(iov, count) : send_iov(fd_, iov, count);
    if (n < 0) {
      if (!is_transient(errno)) return WriteStatus::kFailed;
      n = 0;
    }
    sent = static_cast<std::size_t>(n);
  }
  if (sent == total) return WriteStatus::kSent;
  // Queue what the kernel did not take, piece by piece.
  std::size_t skip = sent;
  for (int i = 0; i < count; ++i) {
    std::size_t length = iov[i].iov_len;
    if (skip >= length) {
      skip -= length;
      continue;
    }
    queue_.append({static_cast<const char*>(iov[i].iov_base) + skip, length - skip});
    skip = 0;
  }
  watch_writable();
  return WriteStatus::kBuffered;
}

WriteStatus TcpSocket::write_shared(SharedBuffer* const* buffers, std::size_t count) {
  if (fd_ < 0) return WriteStatus::kFailed;
  if (cork_ != nullptr && uncork() == WriteStatus::kFailed) return WriteStatus::kFailed;
  std::size_t next = 0;
  while (queue_.empty() && next < count) {
    iovec iov[kMaxIov];
    int n = 0;
    std::size_t total = 0;
    for (std::size_t i = next; i < count && n < kMaxIov; ++i, ++n) {
      iov[n] = {const_cast<char*>(buffers[i]->data()), buffers[i]->size()};
      total += buffers[i]->size();
    }
    ssize_t sent = ssl_ != nullptr ? tls_send(iov, n) : send_iov(fd_, iov, n);
    if (sent < 0) {
      if (!is_transient(errno)) return WriteStatus::kFailed;
      sent = 0;
    }
    // Skip what went out whole; queue the rest of a partly sent buffer.
    auto left = static_cast<std::size_t>(sent);
    while (left > 0 && left >= buffers[next]->size()) left -= buffers[next++]->size();
    if (left > 0) queue_.append_shared(*buffers[next++], left);
    if (static_cast<std::size_t>(sent) < total) break;
  }
  if (next == count && queue_.empty()) return WriteStatus::kSent;
  for (; next < count; ++next) queue_.append_shared(*buffers[next], 0);
  watch_writable();
  return WriteStatus::kBuffered;
}

FlushStatus TcpSocket::flush() {
  if (fd_ < 0) return FlushStatus::kFailed;
  if (ssl_ != nullptr && !tls_handshake_done()) {
    switch (continue_tls_handshake()) {
      case HandshakeStep::kDone:
        break;
      case HandshakeStep::kBlocked:
        return FlushStatus::kPending;
      case HandshakeStep::kFailed:
        return FlushStatus::kFailed;
    }
  }
  while (!queue_.empty()) {
    iovec iov[kMaxIov];
    int count = queue_.gather(iov, kMaxIov);
    ssize_t n = ssl_ != nullptr ? tls_send(iov, count) : send_iov(fd_, iov, count);
    if (n < 0) {
      if (is_transient(errno)) return FlushStatus::kPending;
      return FlushStatus::kFailed;
    }
    queue_.consume(static_cast<std::size_t>(n));
  }
  unwatch_writable();
  if (shutdown_pending_) {
    shutdown_pending_ = false;
    if (!send_fin()) return FlushStatus::kPending;
  }
  return FlushStatus::kDrained;
}

void TcpSocket::cork(CorkBuffer& cork) {
  cork.owner = this;
  cork.used = 0;
  cork_ = &cork;
}

WriteStatus TcpSocket::uncork() {
  CorkBuffer* cork = cork_;
  if (cork == nullptr) return WriteStatus::kSent;
  cork_ = nullptr;
  cork->owner = nullptr;
  std::size_t used = cork->used;
  cork->used = 0;
  if (used == 0 || fd_ < 0) return fd_ < 0 ? WriteStatus::kFailed : WriteStatus::kSent;
  return write({std::string_view(cork->data(), used)});
}

void TcpSocket::shutdown_write() {
  if (fd_ < 0) return;
  if (cork_ != nullptr) uncork();
  if (queue_.empty()) {
    send_fin();
  } else {
    shutdown_pending_ = true;
  }
}

bool TcpSocket::send_fin() {
  if (ssl_ != nullptr && !send_close_notify()) return false;
  ::shutdown(fd_, SHUT_WR);
  return true;
}

void TcpSocket::close() {
  if (fd_ < 0) return;
  if (cork_ != nullptr) {
    cork_->owner = nullptr;
    cork_->used = 0;
    cork_ = nullptr;
  }
  if (ssl_ != nullptr) drop_tls();
  loop_->remove(fd_);
  ::close(fd_);
  fd_ = -1;
  queue_.clear();
  watching_writable_ = false;
  reading_ = true;
  input_buffered_ = false;
}

void TcpSocket::watch_writable() {
  if (watching_writable_) return;
  watching_writable_ = true;
  update_interest();
}

void TcpSocket::unwatch_writable() {
  if (!watching_writable_) return;
  watching_writable_ = false;
  update_interest();
}

void TcpSocket::pause_reading() {
  if (!reading_) return;
  reading_ = false;
  update_interest();
}

void TcpSocket::resume_reading() {
  if (reading_) return;
  reading_ = true;
  update_interest();
}

void TcpSocket::update_interest() {
  if (fd_ < 0) return;
  Interest interest = reading_ ? (watching_writable_ ? Interest::kReadWrite : Interest::kRead)
                               : (watching_writable_ ? Interest::kWrite : Interest::kNone);
  loop_->modify(fd_, *handler_, interest);
}

}  // namespace switchboard::loop
