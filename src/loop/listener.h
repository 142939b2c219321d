// A listening TCP socket with SO_REUSEPORT: every worker binds its own on
// the same port and the kernel spreads new connections across them, so no
// accept lock and no hand-off between threads.
//
// SO_REUSEPORT lets any socket of the same user join the port, another
// server process included, and the kernel would then split new connections
// between the two. So the first listener of a server claims the port: it
// refuses one that another socket already listens on.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "loop/event_loop.h"

namespace switchboard::loop {

struct ListenAddress {
  std::string host = "0.0.0.0";  // an IPv4 or IPv6 literal ("::" listens on both)
  std::uint16_t port = 0;        // 0: the kernel picks; see Listener::port()
};

// What the constructor throws when the address cannot be listened on: not an
// IP address, in use, not local, not permitted. A settings problem, which
// `switchboard serve` reports with exit status 2.
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a listener takes its port.
enum class PortClaim : std::uint8_t {
  kFirst,  // the server's first listener: refuse a port another socket listens on
  kJoin,   // a later one: share the first one's port (SO_REUSEPORT)
};

class Listener final : public IoHandler {
 public:
  // Called on the loop thread with each accepted non-blocking, close-on-exec
  // socket (TCP_NODELAY set) and its peer's address as text.
  using AcceptCallback = std::function<void(int fd, const std::string& peer)>;

  // Binds and listens; throws ListenError naming the address on failure, and with kFirst when another socket listens on
  // the port
  // ("... is already in use"). Port 0 (the kernel picks a free port) needs
  // no check.
  Listener(EventLoop& loop, const ListenAddress& address, AcceptCallback on_accept,
           PortClaim claim = PortClaim::kFirst);
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
