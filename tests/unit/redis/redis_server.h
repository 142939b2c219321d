// Test helpers: a real redis-server on a free loopback port, started and
// killed by the test, and a bounded way to run an EventLoop on the test
// thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../loop/run_until.h"
#include "base/clock.h"
#include "loop/event_loop.h"
#include "loop/timer_wheel.h"
#include "redis/endpoint.h"

namespace switchboard::redis::testing {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";

inline bool redis_server_available() { return ::access(kRedisServer, X_OK) == 0; }

// A loopback port nobody listens on right now.
inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline bool accepts_connections(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

class RedisServer {
 public:
  explicit RedisServer(std::vector<std::string> extra_args = {})
      : port_(free_port()), extra_args_(std::move(extra_args)) {}
  ~RedisServer() { stop(SIGKILL); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server on port() and waits (up to 10 s, a loaded machine
  // starts it slowly) until it says it accepts connections. The server logs
  // to a pipe and the wait is poll() on it: no sleeping, no connect probes.
  bool start() {
    std::vector<std::string> args = {
        kRedisServer,  "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--daemonize", "no",     "--logfile",           "",       "--dir",     "/tmp"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    int log[2];
    if (::pipe2(log, O_CLOEXEC) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a killed test
      ::dup2(log[1], STDOUT_FILENO);       // "--logfile ''" logs to stdout
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(kRedisServer, argv.data());
      ::_exit(127);
    }
    ::close(log[1]);
    if (pid_ < 0) {
      ::close(log[0]);
      return false;
    }
    bool ready = wait_for_ready_line(log[0], base::monotonic_ms() + 10'000);
    // Closing the read end is safe: redis-server ignores SIGPIPE, and its
    // later log lines (shutdown, cluster state) then go nowhere.
    ::close(log[0]);
    if (!ready) stop(SIGKILL);
    return ready;
  }

  void stop(int signal = SIGKILL) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Serves TLS only, on port(), with dir's server.pem/server.key
  // (tests/data/tls); clients need a certificate from dir's CA only with
  // client_certificates. Call before start().
  void use_tls(const std::string& dir, bool client_certificates = false) {
    extra_args_.insert(extra_args_.end(),
                       {"--port", "0", "--tls-port", std::to_string(port_), "--tls-cert-file", dir + "/server.pem",
                        "--tls-key-file", dir + "/server.key", "--tls-ca-cert-file", dir + "/ca.pem",
                        "--tls-auth-clients", client_certificates ? "yes" : "no"});
  }

  std::uint16_t port() const { return port_; }
  Endpoint endpoint() const {
    Endpoint endpoint;
    endpoint.host = "127.0.0.1";
    endpoint.port = port_;
    return endpoint;
  }

 private:
  // Reads the server's log until its "Ready to accept connections" line,
  // end of file (it exited: bad arguments, port taken) or the deadline.
  static bool wait_for_ready_line(int fd, std::uint64_t deadline_ms) {
    std::string text;
    char chunk[4096];
    while (text.find("Ready to accept connections") == std::string::npos) {
      std::uint64_t now = base::monotonic_ms();
      if (now >= deadline_ms) return false;
      pollfd readable{fd, POLLIN, 0};
      int polled = ::poll(&readable, 1, static_cast<int>(deadline_ms - now));
      if (polled < 0 && errno == EINTR) continue;
      if (polled <= 0) return false;
      ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      text.append(chunk, static_cast<std::size_t>(got));
    }
    return true;
  }

  std::uint16_t port_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

using loop::testing::run_until;  // ../loop/run_until.h

// Runs loop for about duration_ms.
inline void run_for(loop::EventLoop& loop, std::uint64_t duration_ms) {
  run_until(
      loop, [] { return false; }, duration_ms);
}

}  // namespace switchboard::redis::testing
