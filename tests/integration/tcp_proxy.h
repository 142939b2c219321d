// A TCP relay on 127.0.0.1 in front of a server, for tests that cut a
// client off without touching the server: every accepted connection is
// relayed to the upstream port byte for byte on a thread of its own, until
// either side closes or the test calls cut(). While held (hold(true)), new
// connections are closed as soon as they are accepted, so a reconnecting
// client stays off until hold(false).
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "integration/loopback_server.h"

namespace switchboard::testing {

class TcpProxy {
 public:
  explicit TcpProxy(std::uint16_t upstream_port)
      : upstream_port_(upstream_port),
        server_([this](int fd, const std::atomic<bool>& stopping) { relay(fd, stopping); }) {}

  std::uint16_t port() const { return server_.port(); }
  std::string url(const std::string& query = "") const {
    return "ws://127.0.0.1:" + std::to_string(port()) + "/" + query;
  }
  // Closes every connection relayed now (both sides see the close).
  void cut() { ++generation_; }
  // true: connections accepted from now on are closed at once.
  void hold(bool held) { held_ = held; }
  // Connections accepted so far (held ones too).
  int connections() const { return server_.connections(); }

 private:
  void relay(int client, const std::atomic<bool>& stopping) {
    const int generation = generation_.load();
    if (held_) return;
    const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(upstream_port_);
    if (::connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(upstream);
      return;
    }
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    char chunk[16384];
    // A 20 ms poll: how soon a cut() or the end of the test is noticed.
    while (!stopping && generation_.load() == generation) {
      if (::poll(fds, 2, 20) < 0) break;
      bool done = false;
      for (int side = 0; side < 2 && !done; ++side) {
        if (fds[side].revents == 0) continue;
        const ssize_t size = ::recv(fds[side].fd, chunk, sizeof chunk, 0);
        if (size <= 0 || !send_all(fds[1 - side].fd, chunk, static_cast<std::size_t>(size))) done = true;
      }
      if (done) break;
    }
    ::close(upstream);  // the client's socket is closed by the LoopbackServer
  }

  static bool send_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
      if (sent <= 0) return false;
      data += sent;
      size -= static_cast<std::size_t>(sent);
    }
    return true;
  }

  const std::uint16_t upstream_port_;
  std::atomic<int> generation_{0};
  std::atomic<bool> held_{false};
  LoopbackServer server_;  // last: its threads use the members above
};

}  // namespace switchboard::testing
