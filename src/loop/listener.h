// A listening TCP socket with SO_REUSEPORT: every worker binds its own on
// the same port and the kernel spreads new connections across them, so no
// accept lock and no hand-off between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "loop/event_loop.h"

namespace switchboard::loop {

struct ListenAddress {
  std::string host = "0.0.0.0";  // an IPv4 or IPv6 literal ("::" listens on both)
  std::uint16_t port = 0;        // 0: the kernel picks; see Listener::port()
};

class Listener final : public IoHandler {
 public:
  // Called on the loop thread with each accepted non-blocking, close-on-exec
  // socket (TCP_NODELAY set) and its peer's address as text.
  using AcceptCallback = std::function<void(int fd, const std::string& peer)>;

  // Binds and listens; throws std::runtime_error naming the address on failure.
  Listener(EventLoop& loop, const ListenAddress& address, AcceptCallback on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  std::uint16_t port() const { return port_; }
  // Stops accepting and closes the listening socket (drain starts here).
  void close();

  void on_io(std::uint32_t events) override;

 private:
  static void resume_accepting(void* self);

  EventLoop& loop_;
  AcceptCallback on_accept_;
  Timer resume_timer_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  bool paused_ = false;
};

}  // namespace switchboard::loop
