#include "redis/link.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "base/backoff.h"
#include "redis/resolve.h"

namespace switchboard::redis {
namespace {

bool is_transient(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

// error_code's message rather than strerror: each worker's loop may run a
// Link, and strerror is not required to be thread-safe.
std::string errno_text(const char* what, int error) {
  return std::string(what) + ": " + std::error_code(error, std::generic_category()).message();
}

// Compact the write buffer once this much of it has been sent.
constexpr std::size_t kCompactAfter = 1 << 20;

}  // namespace

Link::Link(loop::EventLoop& loop, Endpoint endpoint, Options options, LinkOwner& owner)
    : loop_(loop), endpoint_(std::move(endpoint)), options_(options), owner_(owner), random_(std::random_device{}()) {
  options_.backoff_min_ms = std::max<std::uint64_t>(options_.backoff_min_ms, 1);
  options_.backoff_max_ms = std::max(options_.backoff_max_ms, options_.backoff_min_ms);
  loop_.post([this, alive = alive_] {
    if (*alive) connect();
  });
}

Link::~Link() {
  *alive_ = false;
  // Commands issued last (a node's presence removals as it shuts down)
  // still leave: one non-blocking attempt, no callbacks. What the kernel
  // takes is sent after close() too.
  while (state_ == LinkState::kReady && fd_ >= 0 && out_offset_ < out_.size()) {
    if (tls_) {
      std::size_t moved = 0;
      if (tls_->write(out_.data() + out_offset_, out_.size() - out_offset_, &moved) != loop::TlsStatus::kDone) break;
      out_offset_ += moved;
      continue;
    }
    const ssize_t n = ::send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out_offset_ += static_cast<std::size_t>(n);
  }
  close_socket();
}

void Link::send(std::span<const std::string_view> argv) {
  switch (state_) {
    case LinkState::kReady:
      encode_command(argv, out_);
      schedule_flush();
      break;
    case LinkState::kConnecting:
      encode_command(argv, held_);
      break;
    case LinkState::kDown:
      break;
  }
}

void Link::watch_health() {
  if (state_ != LinkState::kReady || health_timer_.armed()) return;
  auto oldest = owner_.oldest_outstanding_ms();
  if (!oldest) return;
  std::uint64_t due = *oldest + options_.command_timeout_ms;
  loop_.arm(health_timer_, due > loop_.now_ms() ? due - loop_.now_ms() : 0);
}

void Link::on_health(void* self) {
  auto& link = *static_cast<Link*>(self);
  auto oldest = link.owner_.oldest_outstanding_ms();
  if (!oldest || link.state_ != LinkState::kReady) return;
  std::uint64_t now = link.loop_.now_ms();
  if (now - std::min(now, *oldest) >= link.options_.command_timeout_ms) {
    link.fail("no reply within " + std::to_string(link.options_.command_timeout_ms) + " ms");
    return;
  }
  link.watch_health();
}

void Link::connect() {
  state_ = LinkState::kConnecting;
  ++attempts_;
  auto address = numeric_address(endpoint_.host, endpoint_.port);
  if (!address) {
    fail("host '" + endpoint_.host + "' is not a numeric address: resolve() it before the loop starts");
    return;
  }
  int fd = ::socket(address->storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    fail(errno_text("socket", errno));
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
  loop_.arm(connect_timer_, options_.connect_timeout_ms);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->size) == 0) {
    loop_.add(fd_, *this, loop::Interest::kRead);
    on_connected();
    return;
  }
  if (errno != EINPROGRESS) {
    fail(errno_text("connect", errno));
    return;
  }
  // Writable (or an error) once the connect completes.
  loop_.add(fd_, *this, loop::Interest::kWrite);
  watching_write_ = true;
}

void Link::on_connected() {
  tcp_connected_ = true;
  if (endpoint_.tls) {
    if (!options_.tls) {
      fail("rediss:// needs a TLS context (Options::tls)");
      return;
    }
    tls_ = std::make_unique<loop::TlsSession>(*options_.tls, fd_, endpoint_.tls_name());
    tls_handshaking_ = true;
    continue_tls_handshake();
    return;
  }
  start_session();
}

void Link::continue_tls_handshake() {
  switch (tls_->handshake()) {
    case loop::TlsStatus::kDone:
      tls_handshaking_ = false;
      set_watch_write(false);
      start_session();
      return;
    case loop::TlsStatus::kWantRead:
      set_watch_write(false);
      return;
    case loop::TlsStatus::kWantWrite:
      set_watch_write(true);
      return;
    case loop::TlsStatus::kClosed:
    case loop::TlsStatus::kFailed:
      fail("TLS handshake: " + (tls_->error().empty() ? std::string("connection closed") : tls_->error()));
      return;
  }
}

void Link::start_session() {
  std::string db = std::to_string(endpoint_.db);
  if (!endpoint_.password.empty()) {
    if (endpoint_.username.empty()) {
      std::string_view argv[] = {"AUTH", endpoint_.password};
      encode_command(argv, out_);
    } else {
      std::string_view argv[] = {"AUTH", endpoint_.username, endpoint_.password};
      encode_command(argv, out_);
    }
    handshake_steps_.push_back("AUTH");
  }
  if (endpoint_.db != 0) {
    std::string_view argv[] = {"SELECT", db};
    encode_command(argv, out_);
    handshake_steps_.push_back("SELECT");
  }
  if (handshake_steps_.empty()) {
    set_watch_write(false);
    become_ready();
    return;
  }
  flush();  // write first; EPOLLOUT is watched only if bytes are left
}

void Link::become_ready() {
  state_ = LinkState::kReady;
  connect_timer_.cancel();
  failures_ = 0;
  if (!held_.empty()) {
    out_.append(held_);
    held_.clear();
    held_.shrink_to_fit();
    schedule_flush();
  }
  watch_health();
  owner_.on_link_ready();  // may destroy this: nothing after it
}

void Link::on_io(std::uint32_t events) {
  if (fd_ < 0) return;
  if (!tcp_connected_) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0) error = ECONNREFUSED;
    if (error != 0) {
      fail(errno_text("connect", error));
      return;
    }
    on_connected();
    return;
  }
  if (tls_handshaking_) {
    continue_tls_handshake();
    return;
  }
  std::uint64_t generation = generation_;
  auto alive = alive_;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) read();
  if (!*alive || generation != generation_) return;
  // Under TLS a write may have waited for a read (see flush).
  if ((events & EPOLLOUT) != 0 || (tls_ && out_offset_ < out_.size())) flush();
}

void Link::read() {
  char* buffer = loop_.receive_buffer();
  if (tls_) {
    // Drain: bytes OpenSSL has decrypted no longer make the socket readable.
    std::uint64_t generation = generation_;
    auto alive = alive_;
    for (;;) {
      std::size_t moved = 0;
      switch (tls_->read(buffer, loop::EventLoop::kReceiveBufferSize, &moved)) {
        case loop::TlsStatus::kDone:
          break;
        case loop::TlsStatus::kWantRead:
          return;
        case loop::TlsStatus::kWantWrite:
          set_watch_write(true);
          return;
        case loop::TlsStatus::kClosed:
          fail("connection closed by the server");
          return;
        case loop::TlsStatus::kFailed:
          fail("TLS read: " + tls_->error());
          return;
      }
      if (!reader_.feed(buffer, moved)) {
        fail("protocol error: " + reader_.error());
        return;
      }
      handle_replies();
      if (!*alive || generation != generation_) return;
    }
  }
  ssize_t n = ::recv(fd_, buffer, loop::EventLoop::kReceiveBufferSize, 0);
  if (n == 0) {
    fail("connection closed by the server");
    return;
  }
  if (n < 0) {
    if (!is_transient(errno)) fail(errno_text("read", errno));
    return;
  }
  if (!reader_.feed(buffer, static_cast<std::size_t>(n))) {
    fail("protocol error: " + reader_.error());
    return;
  }
  handle_replies();
}

void Link::handle_replies() {
  std::uint64_t generation = generation_;
  auto alive = alive_;
  Reply reply;
  for (;;) {
    ReadOutcome outcome = reader_.next(reply);
    if (outcome == ReadOutcome::kNeedMore) return;
    if (outcome == ReadOutcome::kProtocolError) {
      fail("protocol error: " + reader_.error());
      return;
    }
    if (!handshake_steps_.empty()) {
      const char* step = handshake_steps_.front();
      handshake_steps_.erase(handshake_steps_.begin());
      if (reply.is_error()) {
        fail(std::string(step) + " failed: " + reply.str);
        return;
      }
      if (handshake_steps_.empty()) become_ready();
    } else {
      owner_.on_link_reply(std::move(reply));
    }
    // A callback may have destroyed this Link or dropped the connection.
    if (!*alive || generation != generation_) return;
  }
}

void Link::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  // Runs after this iteration's I/O handlers: every command issued while
  // handling one batch of events leaves in one send.
  loop_.post([this, alive = alive_] {
    if (!*alive) return;
    flush_posted_ = false;
    flush();
  });
}

void Link::flush() {
  if (fd_ < 0 || !tcp_connected_ || tls_handshaking_) return;
  while (out_offset_ < out_.size()) {
    if (tls_) {
      std::size_t moved = 0;
      const loop::TlsStatus status = tls_->write(out_.data() + out_offset_, out_.size() - out_offset_, &moved);
      if (status == loop::TlsStatus::kDone) {
        out_offset_ += moved;
        continue;
      }
      if (status == loop::TlsStatus::kWantWrite) break;
      if (status == loop::TlsStatus::kWantRead) {
        // TLS must read before it writes again: on_io retries once readable.
        set_watch_write(false);
        return;
      }
      fail("TLS write: " + (tls_->error().empty() ? std::string("connection closed") : tls_->error()));
      return;
    }
    ssize_t n = ::send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (is_transient(errno)) break;
      fail(errno_text("write", errno));
      return;
    }
    out_offset_ += static_cast<std::size_t>(n);
  }
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
    set_watch_write(false);
    return;
  }
  if (out_offset_ >= kCompactAfter) {
    out_.erase(0, out_offset_);
    out_offset_ = 0;
  }
  set_watch_write(true);
}

void Link::set_watch_write(bool watch) {
  if (fd_ < 0 || watching_write_ == watch) return;
  watching_write_ = watch;
  loop_.modify(fd_, *this, watch ? loop::Interest::kReadWrite : loop::Interest::kRead);
}

void Link::close_socket() {
  tls_.reset();  // before the socket it writes to closes
  tls_handshaking_ = false;
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  ++generation_;
  tcp_connected_ = false;
  watching_write_ = false;
  out_.clear();
  out_offset_ = 0;
  held_.clear();
  handshake_steps_.clear();
  reader_.reset();
  connect_timer_.cancel();
  health_timer_.cancel();
}

void Link::fail(std::string reason) {
  close_socket();
  state_ = LinkState::kDown;
  last_error_ = std::move(reason);
  ++failures_;
  loop_.arm(retry_timer_, next_backoff_ms());
  std::string copy = last_error_;  // the owner may destroy this Link
  owner_.on_link_down(copy);       // so nothing after it
}

std::uint64_t Link::next_backoff_ms() {
  const base::BackoffPolicy policy{options_.backoff_min_ms, options_.backoff_max_ms, 2.0, 1.0,
                                   base::JitterFloor::kMinDelay};
  const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  return base::backoff_delay_ms(policy, failures_ - 1, draw);
}

void Link::on_connect_timeout(void* self) {
  auto& link = *static_cast<Link*>(self);
  link.fail("connect timed out after " + std::to_string(link.options_.connect_timeout_ms) + " ms");
}

void Link::on_retry(void* self) { static_cast<Link*>(self)->connect(); }

}  // namespace switchboard::redis
