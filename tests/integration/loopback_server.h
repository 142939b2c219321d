// A blocking TCP server on 127.0.0.1 for tests that play a peer by hand
// (an rpc backend, a misbehaving WebSocket server): a thread accepts, each
// connection is served on a thread of its own by `serve`, and the
// destructor stops accepting, waits for every thread, and closes.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace switchboard::testing {

class LoopbackServer {
 public:
  // serve(fd, stopping) reads and answers until it is done or stopping
  // turns true (use a receive timeout to notice); the fd is closed after.
  using Serve = std::function<void(int fd, const std::atomic<bool>& stopping)>;

  explicit LoopbackServer(Serve serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size);
    ::listen(fd_, 128);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~LoopbackServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(fd_);
    for (std::thread& worker : workers_) worker.join();
  }

  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::uint16_t port() const { return port_; }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int connection = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) return;
      ++connections_;
      workers_.emplace_back([this, connection] {
        serve_(connection, stopping_);
        ::close(connection);
      });
    }
  }

  Serve serve_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // the acceptor's only, joined after it
};

}  // namespace switchboard::testing
