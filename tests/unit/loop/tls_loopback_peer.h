// A TLS server for one OutboundStream test exchange: a thread of its own
// with blocking OpenSSL calls (the stream under test is the non-blocking
// side). It accepts one connection on 127.0.0.1, completes the handshake
// with the test certificate (tests/data/tls: 127.0.0.1, ::1, localhost),
// reads until `expect` bytes are in, answers `reply`, then waits for the
// client to close. Every wait is bounded, so a client that gives up early
// never leaves the thread hanging.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include <openssl/ssl.h>

namespace switchboard::loop::testing {

class TlsLoopbackPeer {
 public:
  TlsLoopbackPeer(const std::string& certificate, const std::string& key, std::size_t expect, std::string reply)
      : expect_(expect), reply_(std::move(reply)) {
    context_ = SSL_CTX_new(TLS_server_method());
    if (context_ == nullptr || SSL_CTX_use_certificate_chain_file(context_, certificate.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(context_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return;
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    address_.sin_family = AF_INET;
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address_;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address_), size) != 0 ||
        ::listen(listen_fd_, 8) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address_), &size) != 0) {
      return;
    }
    ok_ = true;
    thread_ = std::thread([this] { serve(); });
  }
  ~TlsLoopbackPeer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    SSL_CTX_free(context_);
  }
  TlsLoopbackPeer(const TlsLoopbackPeer&) = delete;
  TlsLoopbackPeer& operator=(const TlsLoopbackPeer&) = delete;

  bool ok() const { return ok_; }
  const sockaddr* address() const { return reinterpret_cast<const sockaddr*>(&address_); }
  socklen_t address_size() const { return sizeof address_; }
  // What arrived, once the thread is done (after the destructor's join:
  // read it through received_after_stop()).
  std::string received_after_stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return received_;
  }

 private:
  // Waits (10 ms at a time) for fd to be ready, until stop_.
  bool wait(int fd, short events) {
    while (!stop_) {
      pollfd watch{fd, events, 0};
      if (::poll(&watch, 1, 10) > 0) return true;
    }
    return false;
  }

  void serve() {
    if (!wait(listen_fd_, POLLIN)) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    SSL* ssl = SSL_new(context_);
    SSL_set_fd(ssl, fd);
    // Non-blocking under the hood, so every wait goes through wait().
    const auto drive = [&](auto&& call) {
      for (;;) {
        const int result = call();
        if (result > 0) return true;
        const int error = SSL_get_error(ssl, result);
        if (error == SSL_ERROR_WANT_READ && wait(fd, POLLIN)) continue;
        if (error == SSL_ERROR_WANT_WRITE && wait(fd, POLLOUT)) continue;
        return false;
      }
    };
    if (drive([&] { return SSL_accept(ssl); })) {
      char buffer[64 * 1024];
      while (received_.size() < expect_) {
        int n = 0;
        if (!drive([&] { return n = SSL_read(ssl, buffer, sizeof buffer); })) break;
        received_.append(buffer, static_cast<std::size_t>(n));
      }
      if (received_.size() >= expect_ &&
          drive([&] { return SSL_write(ssl, reply_.data(), static_cast<int>(reply_.size())); })) {
        // Until the client closes (or the test stops).
        drive([&] { return SSL_read(ssl, buffer, sizeof buffer); });
      }
    }
    SSL_free(ssl);
    ::close(fd);
  }

  SSL_CTX* context_ = nullptr;
  sockaddr_in address_{};
  int listen_fd_ = -1;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::size_t expect_;
  std::string reply_;
  std::string received_;  // written by the thread only
  std::thread thread_;
};

}  // namespace switchboard::loop::testing
