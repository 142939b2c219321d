#include "loop/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "base/log.h"

namespace switchboard::loop {
namespace {

// When the process runs out of file descriptors, stop accepting for a
// moment rather than spinning on a listener that is always readable.
constexpr std::uint64_t kAcceptPauseMs = 100;
// Accepts per readiness event: bounded so one busy listener cannot starve
// the connections already on this loop.
constexpr int kMaxAcceptsPerEvent = 64;

std::string describe_peer(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  }
  return text;
}

[[noreturn]] void fail(const ListenAddress& address, const char* what) {
  throw ListenError(std::string(what) + " " + address.host + ":" + std::to_string(address.port) + ": " +
                    std::strerror(errno));
}

// Binds a throwaway socket to the address without SO_REUSEPORT. That fails
// with EADDRINUSE exactly when another socket listens on the port (or on a
// wildcard address covering it), whatever options it has. SO_REUSEADDR
// keeps connections of an earlier run in TIME_WAIT from counting. Between
// this check and the real bind another process could still take the port:
// a window of microseconds, not the minutes of a second `serve` started by
// mistake.
void check_port_is_free(const ListenAddress& address, const sockaddr_storage& storage, socklen_t length) {
  const int probe = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) fail(address, "socket");
  int one = 1;
  setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool in_use = ::bind(probe, reinterpret_cast<const sockaddr*>(&storage), length) != 0 && errno == EADDRINUSE;
  ::close(probe);
  if (in_use) {
    throw ListenError(address.host + ":" + std::to_string(address.port) +
                      " is already in use: another process (another server?) listens on port " +
                      std::to_string(address.port));
  }
}

}  // namespace

Listener::Listener(EventLoop& loop, const ListenAddress& address, AcceptCallback on_accept, PortClaim claim)
    : loop_(loop), on_accept_(std::move(on_accept)), resume_timer_(&Listener::resume_accepting, this) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    length = sizeof *v6;
  } else {
    errno = EINVAL;
    fail(address, "not an IP address:");
  }
  if (claim == PortClaim::kFirst && address.port != 0) check_port_is_free(address, storage, length);
  fd_ = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail(address, "socket");
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    int saved = errno;
    ::close(fd_);
    errno = saved;
    fail(address, "bind");
  }
  if (::listen(fd_, SOMAXCONN) != 0) {
    int saved = errno;
    ::close(fd_);
    errno = saved;
    fail(address, "listen");
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(bound).sin_port
                                           : reinterpret_cast<sockaddr_in6&>(bound).sin6_port);
  loop_.add(fd_, *this, Interest::kRead);
}

Listener::~Listener() { close(); }

void Listener::close() {
  resume_timer_.cancel();
  if (fd_ < 0) return;
  if (!paused_) loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
}

void Listener::on_io(std::uint32_t) {
  for (int i = 0; i < kMaxAcceptsPerEvent && fd_ >= 0; ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        base::log(base::LogLevel::kWarn, "accept: %s; pausing accepts for %llu ms", std::strerror(errno),
                  static_cast<unsigned long long>(kAcceptPauseMs));
        loop_.remove(fd_);
        paused_ = true;
        loop_.arm(resume_timer_, kAcceptPauseMs);
      }
      return;  // EAGAIN, or a connection reset before we took it
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    on_accept_(fd, describe_peer(peer));
  }
}

void Listener::resume_accepting(void* self) {
  auto* listener = static_cast<Listener*>(self);
  if (listener->fd_ < 0 || !listener->paused_) return;
  listener->paused_ = false;
  listener->loop_.add(listener->fd_, *listener, Interest::kRead);
}

}  // namespace switchboard::loop
