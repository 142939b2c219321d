// Client-side TLS on OpenSSL for a non-blocking socket the event loop
// drives (the Redis client's rediss://, the C++ client's wss://): every
// call returns at once and says what it waits for (readable or writable)
// when it cannot go on.
//
// The server is verified against the CA file given (or the system's CAs)
// and must present a certificate for the host the client connects to (a
// DNS name or an IP address SAN); TLS 1.2 at least.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"

struct bio_st;
struct ssl_ctx_st;
struct ssl_st;

namespace switchboard::loop {

struct TlsConfig {
  std::string ca_file;    // PEM CAs to trust; empty: the system's
  std::string cert_file;  // PEM client certificate (tls-auth-clients); empty: none
  std::string key_file;   // its private key
};

// An SSL_CTX: made once at startup, shared by every connection.
class TlsContext {
 public:
  // An error when a file cannot be read or does not fit.
  static base::Result<std::shared_ptr<const TlsContext>> create(const TlsConfig& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* get() const { return context_; }

 private:
  explicit TlsContext(ssl_ctx_st* context) : context_(context) {}
  ssl_ctx_st* context_;
};

// A BIO over a connected socket (not owned) that sends with MSG_NOSIGNAL
// and goes through loop::socket_calls; the client and server sides share it.
bio_st* new_socket_bio(int fd);

enum class TlsStatus : std::uint8_t {
  kDone,       // handshake finished / bytes moved
  kWantRead,   // call again when the socket is readable
  kWantWrite,  // call again when the socket is writable
  kClosed,     // the peer closed the connection
  kFailed,     // error() says why; the connection is unusable
};

// One TLS connection over a connected socket (not owned).
class TlsSession {
 public:
  // host: what the certificate must name (a DNS name or an IP address).
  TlsSession(const TlsContext& context, int fd, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsStatus handshake();
  // Moves up to size bytes; *moved is how many (0 unless kDone).
  TlsStatus read(char* data, std::size_t size, std::size_t* moved);
  TlsStatus write(const char* data, std::size_t size, std::size_t* moved);
  // Bytes OpenSSL has decrypted and holds: read them before waiting for
  // the socket again (they make it readable no more).
  bool has_pending() const;
  const std::string& error() const { return error_; }

 private:
  TlsStatus status_of(int result);
  ssl_st* ssl_ = nullptr;
  std::string error_;
};

}  // namespace switchboard::loop
