#include "loop/tls_server_context.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace switchboard::loop {
namespace {

// OpenSSL's reason for the last failure ("no such file", "key values
// mismatch"), and its error queue emptied.
std::string openssl_reason() {
  std::string reason;
  if (unsigned long code = ERR_peek_last_error(); code != 0) {
    const char* text = ERR_reason_error_string(code);
    reason = text != nullptr ? text : "error " + std::to_string(ERR_GET_REASON(code));
  }
  ERR_clear_error();
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

// Before OpenSSL sees the file: "cannot read" with the system's reason is
// clearer than a PEM library error for a missing file.
base::Result<void> check_readable(const std::string& path, const char* what) {
  if (path.empty()) return base::Error(std::string(what) + ": no file given");
  std::ifstream file(path);
  if (!file) return base::Error(std::string(what) + " '" + path + "': cannot read: " + std::strerror(errno));
  return {};
}

// ALPN: http/1.1 when offered; otherwise no ALPN (not a failed handshake:
// a client that offers only h2 may still fall back to HTTP/1.1).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                unsigned int offered_length, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof kHttp11, offered, offered_length) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

base::Result<std::shared_ptr<const TlsServerContext>> TlsServerContext::create(const TlsServerConfig& config) {
  if (auto readable = check_readable(config.cert_file, "TLS certificate"); !readable)
    return base::Error(readable.error());
  if (auto readable = check_readable(config.key_file, "TLS key"); !readable) return base::Error(readable.error());
  ERR_clear_error();
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) return base::Error("TLS: SSL_CTX_new: " + openssl_reason());
  std::shared_ptr<const TlsServerContext> owner(new TlsServerContext(context));
  SSL_CTX_set_min_proto_version(context, config.min_version == TlsMinVersion::k1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                                   SSL_OP_IGNORE_UNEXPECTED_EOF);
  // RELEASE_BUFFERS: an idle connection holds no record buffers (about
  // 34 KiB each otherwise). PARTIAL_WRITE and MOVING_WRITE_BUFFER: the
  // socket retries a blocked record from its write queue, which may have
  // grown and moved since (TcpSocket's TLS writes).
  SSL_CTX_set_mode(context,
                   SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // No server-side session cache: resumption goes by tickets (stateless,
  // TLS 1.2 and 1.3), so no SSL_SESSION stays in memory per client and no
  // lock on the cache is shared by the workers' handshakes.
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  // Read whole socket buffers, not one record header then its body: one
  // recv per event for small messages, as on the plain path.
  SSL_CTX_set_read_ahead(context, 1);
  const std::string ciphers = config.ciphers.empty() ? kDefaultTls12Ciphers : config.ciphers;
  if (SSL_CTX_set_cipher_list(context, ciphers.c_str()) != 1) {
    return base::Error("TLS ciphers '" + ciphers + "': " + openssl_reason());
  }
  const std::string suites = config.ciphersuites.empty() ? kDefaultTls13Ciphersuites : config.ciphersuites;
  if (SSL_CTX_set_ciphersuites(context, suites.c_str()) != 1) {
    return base::Error("TLS ciphersuites '" + suites + "': " + openssl_reason());
  }
  if (SSL_CTX_use_certificate_chain_file(context, config.cert_file.c_str()) != 1) {
    return base::Error("TLS certificate '" + config.cert_file + "': " + openssl_reason());
  }
  const auto mismatch = [&config](const std::string& reason) {
    return base::Error("TLS key '" + config.key_file + "' does not match the certificate '" + config.cert_file + "' (" +
                       reason + ")");
  };
  if (SSL_CTX_use_PrivateKey_file(context, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    // OpenSSL compares the key with the certificate as it loads it.
    const bool mismatched = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    const std::string reason = openssl_reason();
    if (mismatched) return mismatch(reason);
    return base::Error("TLS key '" + config.key_file + "': " + reason);
  }
  if (SSL_CTX_check_private_key(context) != 1) return mismatch(openssl_reason());
  SSL_CTX_set_alpn_select_cb(context, select_alpn, nullptr);
  if (config.client_certificate != TlsClientCertificate::kNotAsked) {
    if (auto readable = check_readable(config.ca_file, "TLS client CA file"); !readable) {
      return base::Error(readable.error());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.ca_file.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(context, config.ca_file.c_str(), nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return base::Error("TLS client CA file '" + config.ca_file + "': " + openssl_reason());
    }
    SSL_CTX_set_client_CA_list(context, names);  // the CAs the server names in its request
    const int mode = config.client_certificate == TlsClientCertificate::kRequired
                         ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                         : SSL_VERIFY_PEER;
    SSL_CTX_set_verify(context, mode, nullptr);
    // Sessions resumed from another context (before a reload) would skip it.
    static const unsigned char kSessionContext[] = "switchboard-mtls";
    SSL_CTX_set_session_id_context(context, kSessionContext, sizeof kSessionContext - 1);
  }
  return owner;
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(context_); }

}  // namespace switchboard::loop
