// Test helpers: a real redis-server on a free loopback port, started and
// killed by the test, and a bounded way to run an EventLoop on the test
// thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

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

  // Starts redis-server on port() and waits (up to 5 s) until it accepts.
  bool start() {
    std::vector<std::string> args = {kRedisServer, "--port",    std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save",     "",          "--appendonly",        "no",     "--daemonize",
                                     "no",         "--logfile", "/dev/null",           "--dir",  "/tmp"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a killed test
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(kRedisServer, argv.data());
      ::_exit(127);
    }
    if (pid_ < 0) return false;
    auto deadline = base::monotonic_ms() + 5000;
    while (base::monotonic_ms() < deadline) {
      if (accepts_connections(port_)) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
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
  std::uint16_t port_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

// Runs loop on this thread until done() holds (checked every timer tick,
// 25 ms) or timeout_ms passed; returns done(). Bounds every test.
inline bool run_until(loop::EventLoop& loop, const std::function<bool()>& done, std::uint64_t timeout_ms = 5000) {
  struct Poll {
    loop::EventLoop* loop;
    const std::function<bool()>* done;
    std::uint64_t deadline;
    loop::Timer timer{&Poll::fire, this};
    static void fire(void* self) {
      auto& poll = *static_cast<Poll*>(self);
      if ((*poll.done)() || base::monotonic_ms() >= poll.deadline) {
        poll.loop->quit();
        return;
      }
      poll.loop->arm(poll.timer, 1);
    }
  };
  if (done()) return true;
  Poll poll{&loop, &done, base::monotonic_ms() + timeout_ms};
  loop.arm(poll.timer, 1);
  loop.run();
  return done();
}

// Runs loop for about duration_ms.
inline void run_for(loop::EventLoop& loop, std::uint64_t duration_ms) {
  run_until(
      loop, [] { return false; }, duration_ms);
}

}  // namespace switchboard::redis::testing
