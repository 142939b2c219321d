#include "loop/tls.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "loop/socket_calls.h"

namespace switchboard::loop {
namespace {

// The oldest queued OpenSSL error as text (and the queue emptied: errors
// left behind would be blamed on the next unrelated call).
std::string openssl_error(const char* what) {
  std::string text = what;
  if (unsigned long code = ERR_get_error(); code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += ": ";
    text += buffer;
  }
  ERR_clear_error();
  return text;
}

// OpenSSL's socket BIO, with two differences: it writes with send(2) and
// MSG_NOSIGNAL (write(2) to a peer that reset the connection raises
// SIGPIPE, which kills a process that embeds the client and does not ignore
// it), and its reads and writes go through loop::socket_calls, so the fail
// loop reaches the system calls under TLS too. EOF is flagged as the
// socket BIO flags it: OpenSSL tells an EOF without close_notify apart.
int fd_of(BIO* bio) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio))); }

bool should_retry(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

int bio_write(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = socket_calls->send(fd_of(bio), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n <= 0 && should_retry(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int bio_read(BIO* bio, char* data, int size) {
  BIO_clear_retry_flags(bio);
  const ssize_t n = socket_calls->recv(fd_of(bio), data, static_cast<std::size_t>(size), 0);
  if (n < 0 && should_retry(errno)) {
    BIO_set_retry_read(bio);
  } else if (n == 0) {
    BIO_set_flags(bio, BIO_FLAGS_IN_EOF);
  }
  return static_cast<int>(n);
}

int bio_puts(BIO* bio, const char* text) { return bio_write(bio, text, static_cast<int>(std::strlen(text))); }

long bio_ctrl(BIO* bio, int command, long, void* pointer) {
  switch (command) {
    case BIO_C_GET_FD:  // SSL_get_fd
      if (pointer != nullptr) *static_cast<int*>(pointer) = fd_of(bio);
      return fd_of(bio);
    case BIO_CTRL_EOF:
      return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
      return 1;
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// Made once (C++ statics are initialised thread-safely), never freed.
BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* made =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "switchboard socket");
    BIO_meth_set_write(made, bio_write);
    BIO_meth_set_read(made, bio_read);
    BIO_meth_set_puts(made, bio_puts);
    BIO_meth_set_ctrl(made, bio_ctrl);
    BIO_meth_set_create(made, bio_create);
    return made;
  }();
  return method;
}

bool is_ip_address(const std::string& host) {
  unsigned char bytes[16];
  return ::inet_pton(AF_INET, host.c_str(), bytes) == 1 || ::inet_pton(AF_INET6, host.c_str(), bytes) == 1;
}

}  // namespace

BIO* new_socket_bio(int fd) {
  BIO* bio = BIO_new(socket_bio_method());
  if (bio != nullptr) BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)));
  return bio;
}

base::Result<std::shared_ptr<const TlsContext>> TlsContext::create(const TlsConfig& config) {
  ERR_clear_error();
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  if (context == nullptr) {
    return base::Error(openssl_error("SSL_CTX_new"));
  }
  std::shared_ptr<const TlsContext> owner(new TlsContext(context));
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  // Partial writes from a buffer that may move between retries (the write
  // buffer compacts); a retry carries the same bytes, possibly more.
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const bool loaded = config.ca_file.empty()
                          ? SSL_CTX_set_default_verify_paths(context) == 1
                          : SSL_CTX_load_verify_locations(context, config.ca_file.c_str(), nullptr) == 1;
  if (!loaded) {
    return base::Error(openssl_error(("cannot load the CA file '" + config.ca_file + "'").c_str()));
  }
  if (config.cert_file.empty() != config.key_file.empty()) {
    return base::Error("a client certificate needs both its certificate and key files");
  }
  if (!config.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(context, config.cert_file.c_str()) != 1) {
      return base::Error(openssl_error(("cannot load the certificate '" + config.cert_file + "'").c_str()));
    }
    if (SSL_CTX_use_PrivateKey_file(context, config.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(context) != 1) {
      return base::Error(openssl_error(("cannot use the key '" + config.key_file + "'").c_str()));
    }
  }
  return owner;
}

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

TlsSession::TlsSession(const TlsContext& context, int fd, const std::string& host) {
  ERR_clear_error();
  ssl_ = SSL_new(context.get());
  if (ssl_ == nullptr) {
    error_ = openssl_error("SSL_new");
    return;
  }
  BIO* bio = new_socket_bio(fd);
  if (bio == nullptr) {
    error_ = openssl_error("BIO_new");
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  SSL_set_bio(ssl_, bio, bio);  // the SSL owns it now
  if (is_ip_address(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl_, host.c_str());  // SNI
    SSL_set1_host(ssl_, host.c_str());
  }
  SSL_set_connect_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsStatus TlsSession::status_of(int result) {
  const int code = SSL_get_error(ssl_, result);
  switch (code) {
    case SSL_ERROR_WANT_READ:
      return TlsStatus::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return TlsStatus::kClosed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return TlsStatus::kWantRead;
        error_ = errno == 0 ? "connection closed by the server" : std::string(std::strerror(errno));
        ERR_clear_error();
        return errno == 0 ? TlsStatus::kClosed : TlsStatus::kFailed;
      }
      [[fallthrough]];
    default: {
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        error_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
        ERR_clear_error();
      } else {
        error_ = openssl_error("TLS");
      }
      return TlsStatus::kFailed;
    }
  }
}

TlsStatus TlsSession::handshake() {
  if (ssl_ == nullptr) return TlsStatus::kFailed;
  ERR_clear_error();
  const int result = SSL_do_handshake(ssl_);
  return result == 1 ? TlsStatus::kDone : status_of(result);
}

TlsStatus TlsSession::read(char* data, std::size_t size, std::size_t* moved) {
  *moved = 0;
  ERR_clear_error();
  errno = 0;
  const int result = SSL_read_ex(ssl_, data, size, moved) == 1 ? 1 : 0;
  return result == 1 ? TlsStatus::kDone : status_of(result);
}

TlsStatus TlsSession::write(const char* data, std::size_t size, std::size_t* moved) {
  *moved = 0;
  ERR_clear_error();
  errno = 0;
  const int result = SSL_write_ex(ssl_, data, size, moved) == 1 ? 1 : 0;
  return result == 1 ? TlsStatus::kDone : status_of(result);
}

bool TlsSession::has_pending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

}  // namespace switchboard::loop
