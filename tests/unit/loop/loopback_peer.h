// The far end of an OutboundStream in a test: a listener on a loopback
// address, driven by the test's own loop (no threads). It accepts one
// connection, collects what arrives, and once `expect` bytes are in
// answers `reply` (then closes, if told to). run_until (run_until.h) drives it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <string>

#include "base/clock.h"
#include "loop/event_loop.h"
#include "loop/timer_wheel.h"
#include "run_until.h"

namespace switchboard::loop::testing {

class LoopbackPeer {
 public:
  // family: AF_INET (127.0.0.1) or AF_INET6 (::1). ok() is false when the
  // address cannot be listened on (no IPv6 on this host).
  explicit LoopbackPeer(EventLoop& loop, int family = AF_INET) : loop_(loop) {
    listen_fd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (family == AF_INET6) {
      auto& address = reinterpret_cast<sockaddr_in6&>(address_);
      address.sin6_family = AF_INET6;
      address.sin6_addr = in6addr_loopback;
      size_ = sizeof address;
    } else {
      auto& address = reinterpret_cast<sockaddr_in&>(address_);
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      size_ = sizeof address;
    }
    if (listen_fd_ < 0 || ::bind(listen_fd_, address(), size_) != 0 || ::listen(listen_fd_, 8) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address_), &size_) != 0) {
      return;
    }
    ok_ = true;
    loop_.add(listen_fd_, listening_, Interest::kRead);
  }
  ~LoopbackPeer() {
    close_connection();
    if (ok_) loop_.remove(listen_fd_);
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  LoopbackPeer(const LoopbackPeer&) = delete;
  LoopbackPeer& operator=(const LoopbackPeer&) = delete;

  bool ok() const { return ok_; }
  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t address_size() const { return size_; }

  // Answer once `expect` bytes are in.
  void reply_after(std::size_t expect, std::string reply, bool then_close = false) {
    expect_ = expect;
    reply_ = std::move(reply);
    close_after_reply_ = then_close;
  }
  // Reading stops until resume_reading() (the kernel's buffers fill up).
  void pause_reading() { reading_ = false; }
  void resume_reading() {
    reading_ = true;
    if (fd_ >= 0) loop_.modify(fd_, connection_, Interest::kRead);
  }

  bool accepted() const { return fd_ >= 0 || saw_eof_; }
  const std::string& received() const { return received_; }
  bool saw_eof() const { return saw_eof_; }

 private:
  struct Listening final : IoHandler {
    LoopbackPeer* peer;
    explicit Listening(LoopbackPeer* p) : peer(p) {}
    void on_io(std::uint32_t) override { peer->accept_one(); }
  };
  struct Connection final : IoHandler {
    LoopbackPeer* peer;
    explicit Connection(LoopbackPeer* p) : peer(p) {}
    void on_io(std::uint32_t) override { peer->read_some(); }
  };

  void accept_one() {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (fd_ >= 0) {
      ::close(fd);  // one connection per peer
      return;
    }
    fd_ = fd;
    loop_.add(fd_, connection_, reading_ ? Interest::kRead : Interest::kNone);
  }

  void read_some() {
    if (!reading_) {
      loop_.modify(fd_, connection_, Interest::kNone);
      return;
    }
    char buffer[64 * 1024];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0) {
      saw_eof_ = true;
      close_connection();
      return;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) close_connection();
      return;
    }
    received_.append(buffer, static_cast<std::size_t>(n));
    if (!replied_ && expect_ > 0 && received_.size() >= expect_) {
      replied_ = true;
      if (!reply_.empty()) (void)!::send(fd_, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      if (close_after_reply_) close_connection();
    }
  }

  void close_connection() {
    if (fd_ < 0) return;
    loop_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
  }

  EventLoop& loop_;
  Listening listening_{this};
  Connection connection_{this};
  sockaddr_storage address_{};
  socklen_t size_ = 0;
  int listen_fd_ = -1;
  int fd_ = -1;
  bool ok_ = false;
  bool reading_ = true;
  bool saw_eof_ = false;
  bool replied_ = false;
  bool close_after_reply_ = false;
  std::size_t expect_ = 0;
  std::string reply_;
  std::string received_;
};

}  // namespace switchboard::loop::testing
