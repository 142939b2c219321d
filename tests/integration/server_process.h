// What the C++ client's integration tests share: `switchboard serve` as a
// child process (SWITCHBOARD_BIN) on a loopback port, and waiting for
// conditions made true on the client's loop thread, with a generous
// deadline (polling, never a sleep-then-assert).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::testing {

constexpr std::uint64_t kWaitMs = 10'000;

// `switchboard serve` as a child process.
class ServerProcess {
 public:
  // port 0: a free one; env: extra NAME=value entries.
  ServerProcess(std::vector<std::string> flags, std::vector<std::string> env, std::uint16_t port = 0)
      : flags_(std::move(flags)), env_(std::move(env)) {
    start(port);
  }
  ~ServerProcess() { stop(SIGTERM); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& query = "") const {
    return "ws://127.0.0.1:" + std::to_string(port_) + "/" + query;
  }

  void start(std::uint16_t port) {
    const char* binary = std::getenv("SWITCHBOARD_BIN");
    ASSERT_NE(binary, nullptr) << "SWITCHBOARD_BIN is not set";
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      if (std::freopen("/dev/null", "w", stderr) == nullptr) _exit(126);
      for (const std::string& entry : env_) ::putenv(const_cast<char*>(entry.c_str()));
      std::vector<std::string> arguments = {binary,      "serve", "--host", "127.0.0.1", "--port", std::to_string(port),
                                            "--workers", "2"};
      arguments.insert(arguments.end(), flags_.begin(), flags_.end());
      std::vector<char*> argv;
      for (std::string& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(binary, argv.data());
      _exit(127);
    }
    ::close(out[1]);
    // "listening on 127.0.0.1:PORT"
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    const std::size_t colon = line.rfind(':');
    ASSERT_NE(colon, std::string::npos) << "server did not start: " << line;
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
  }

  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::vector<std::string> flags_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// Polls a condition another thread makes true, up to kWaitMs.
inline bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pacing the poll
  }
  return true;
}

// Waits for a condition made true on the client's loop thread.
class Signal {
 public:
  void notify(std::function<void()> change) {
    {
      std::lock_guard lock(mutex_);
      change();
    }
    changed_.notify_all();
  }
  bool wait(std::function<bool()> ready, std::chrono::milliseconds timeout = std::chrono::milliseconds(kWaitMs)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, ready);
  }
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
};

}  // namespace switchboard::testing
