// Server-side TLS: one SSL_CTX made at start from the certificate and key
// files, shared by every worker (OpenSSL's SSL_CTX is safe to share once
// configured), and handed to TcpSocket::start_tls for each accepted socket
// on a TLS listener.
//
// Defaults are Mozilla's "intermediate" profile: TLS 1.2 and 1.3, ECDHE
// with AES-GCM or ChaCha20-Poly1305, AES-128 first (the cheapest on
// hardware with AES instructions), no renegotiation, no compression. ALPN
// accepts http/1.1 (the only protocol the server speaks) and goes on
// without ALPN when the client offers something else.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "base/result.h"

struct ssl_ctx_st;

namespace switchboard::loop {

enum class TlsMinVersion : std::uint8_t { k1_2, k1_3 };
enum class TlsClientCertificate : std::uint8_t { kNotAsked, kOptional, kRequired };

struct TlsServerConfig {
  std::string cert_file;  // PEM: the certificate, then its chain
  std::string key_file;   // PEM private key
  TlsMinVersion min_version = TlsMinVersion::k1_2;
  std::string ciphers;       // TLS 1.2 cipher list, OpenSSL syntax; empty: the default
  std::string ciphersuites;  // TLS 1.3 suites; empty: the default
  std::string ca_file;       // PEM CAs for client certificates (needed unless kNotAsked)
  TlsClientCertificate client_certificate = TlsClientCertificate::kNotAsked;
};

inline constexpr const char* kDefaultTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* kDefaultTls13Ciphersuites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

// What Server::start throws when the TLS settings cannot be used: a file
// missing or unreadable, a key that does not match its certificate, a
// cipher list OpenSSL does not know. A settings problem, which `switchboard
// serve` reports with exit status 2.
class TlsSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TlsServerContext {
 public:
  // The error names the file (or setting) and OpenSSL's reason.
  static base::Result<std::shared_ptr<const TlsServerContext>> create(const TlsServerConfig& config);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  ssl_ctx_st* get() const { return context_; }

 private:
  explicit TlsServerContext(ssl_ctx_st* context) : context_(context) {}
  ssl_ctx_st* context_;
};

}  // namespace switchboard::loop
