// TcpSocket's TLS half: the server side of a session on an accepted
// socket, driven by the same calls as plain TCP (read, the writes, flush,
// shutdown_write). The write queue holds plaintext that SSL_write has not
// taken yet; OpenSSL holds at most one encrypted record that the socket did
// not take, and a retry hands it the same bytes from the front of the
// queue (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; the queue only grows at the
// back, so a retry is never shorter).
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "loop/tcp_socket.h"
#include "loop/tls.h"

namespace switchboard::loop {
namespace {

bool is_transient(int error) { return error == EAGAIN || error == EWOULDBLOCK || error == EINTR; }

// Where small frames are gathered into one record: per thread (one loop
// per thread), not per socket, so idle connections hold none of it.
thread_local char record_scratch[TcpSocket::kMaxTlsRecord];

}  // namespace

bool TcpSocket::start_tls(ssl_ctx_st* context) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) {
    ERR_clear_error();
    return false;
  }
  BIO* bio = new_socket_bio(fd_);
  if (bio == nullptr) {
    SSL_free(ssl);
    ERR_clear_error();
    return false;
  }
  SSL_set_bio(ssl, bio, bio);  // the SSL owns it; it does not own the fd
  SSL_set_accept_state(ssl);
  ssl_ = ssl;
  return true;
}

bool TcpSocket::tls_handshake_done() const { return ssl_ != nullptr && SSL_is_init_finished(ssl_) == 1; }

std::string TcpSocket::tls_peer_subject() const {
  if (ssl_ == nullptr || SSL_get_verify_result(ssl_) != X509_V_OK) return {};
  X509* certificate = SSL_get0_peer_certificate(ssl_);
  if (certificate == nullptr) return {};
  BIO* out = BIO_new(BIO_s_mem());
  if (out == nullptr) return {};
  std::string subject;
  if (X509_NAME_print_ex(out, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(out, &data);
    if (size > 0) subject.assign(data, static_cast<std::size_t>(size));
  }
  BIO_free(out);
  return subject;
}

void TcpSocket::drop_tls() {
  SSL_free(ssl_);
  ssl_ = nullptr;
  input_buffered_ = false;
}

void TcpSocket::note_tls_failure(int ssl_error) {
  const unsigned long code = ERR_peek_last_error();
  const int reason = ERR_GET_REASON(code);
  if (ERR_GET_LIB(code) == ERR_LIB_SSL && (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST)) {
    tls_failure_ = TlsFailure::kPlainHttp;
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN || (ssl_error == SSL_ERROR_SYSCALL && code == 0)) {
    tls_failure_ = TlsFailure::kPeerClosed;
  } else {
    tls_failure_ = TlsFailure::kProtocol;
  }
  ERR_clear_error();
}

TcpSocket::HandshakeStep TcpSocket::continue_tls_handshake() {
  ERR_clear_error();
  errno = 0;
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    // A client's first request may have come with its Finished.
    input_buffered_ = SSL_has_pending(ssl_) == 1;
    // Anything written meanwhile (nothing, usually) goes out now.
    if (queue_.empty()) {
      unwatch_writable();
    } else {
      watch_writable();
    }
    return HandshakeStep::kDone;
  }
  const int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && is_transient(errno))) {
    unwatch_writable();
    return HandshakeStep::kBlocked;
  }
  if (error == SSL_ERROR_WANT_WRITE) {
    watch_writable();
    return HandshakeStep::kBlocked;
  }
  note_tls_failure(error);
  return HandshakeStep::kFailed;
}

ReadResult TcpSocket::tls_read(char* buffer, std::size_t capacity) {
  assert(capacity >= kMaxTlsRecord);
  input_buffered_ = false;
  if (SSL_is_init_finished(ssl_) != 1) {
    switch (continue_tls_handshake()) {
      case HandshakeStep::kDone:
        break;
      case HandshakeStep::kBlocked:
        return {ReadStatus::kWouldBlock, 0};
      case HandshakeStep::kFailed:
        return {ReadStatus::kFailed, 0};
    }
  }
  // Records until OpenSSL holds no more input (read-ahead pulls in what
  // the socket has; the socket says readable for whatever is left in the
  // kernel), each into room for a whole record so none is split.
  std::size_t total = 0;
  for (;;) {
    std::size_t moved = 0;
    ERR_clear_error();
    errno = 0;
    if (SSL_read_ex(ssl_, buffer + total, capacity - total, &moved) == 1) {
      total += moved;
      if (SSL_has_pending(ssl_) != 1) break;
      if (capacity - total < kMaxTlsRecord) {
        input_buffered_ = true;
        break;
      }
      continue;
    }
    const int error = SSL_get_error(ssl_, 0);
    if (error == SSL_ERROR_WANT_READ) break;
    if (error == SSL_ERROR_WANT_WRITE) {  // a reply to a key update waits for the socket
      watch_writable();
      break;
    }
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && is_transient(errno)) break;
    if (total > 0) {
      // The data first; the next call meets the error again (OpenSSL keeps
      // it) and reports it.
      ERR_clear_error();
      input_buffered_ = true;
      break;
    }
    if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)) {
      ERR_clear_error();
      return {ReadStatus::kEof, 0};
    }
    note_tls_failure(error);
    return {ReadStatus::kFailed, 0};
  }
  return total > 0 ? ReadResult{ReadStatus::kData, total} : ReadResult{ReadStatus::kWouldBlock, 0};
}

ssize_t TcpSocket::tls_send(const iovec* iov, int count) {
  if (SSL_is_init_finished(ssl_) != 1) {
    errno = EAGAIN;  // queued until the handshake finishes
    return -1;
  }
  std::size_t taken = 0;
  int index = 0;
  std::size_t offset = 0;  // into iov[index]
  while (index < count) {
    const std::size_t here = iov[index].iov_len - offset;
    if (here == 0) {
      ++index;
      offset = 0;
      continue;
    }
    // A piece of a record's size or more, or the last piece, is encrypted
    // where it lies; smaller pieces are gathered into one record.
    const char* data = static_cast<const char*>(iov[index].iov_base) + offset;
    std::size_t length = std::min(here, kMaxTlsRecord);
    if (here < kMaxTlsRecord && index + 1 < count) {
      length = 0;
      for (int i = index; i < count && length < kMaxTlsRecord; ++i) {
        const std::size_t start = i == index ? offset : 0;
        const std::size_t take = std::min(iov[i].iov_len - start, kMaxTlsRecord - length);
        // An empty piece (a ping's payload) may have no address: no memcpy.
        if (take > 0) std::memcpy(record_scratch + length, static_cast<const char*>(iov[i].iov_base) + start, take);
        length += take;
      }
      data = record_scratch;
    }
    std::size_t written = 0;
    ERR_clear_error();
    errno = 0;
    if (SSL_write_ex(ssl_, data, length, &written) != 1) {
      const int error = SSL_get_error(ssl_, 0);
      if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ ||
          (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && is_transient(errno))) {
        ERR_clear_error();
        if (taken > 0) return static_cast<ssize_t>(taken);
        errno = EAGAIN;
        return -1;
      }
      note_tls_failure(error);
      errno = EPIPE;
      return -1;
    }
    taken += written;
    // Step over what went (written <= length, so within the pieces gathered).
    for (std::size_t left = written; left > 0;) {
      const std::size_t step = std::min(left, iov[index].iov_len - offset);
      left -= step;
      offset += step;
      if (offset == iov[index].iov_len) {
        ++index;
        offset = 0;
      }
    }
  }
  return static_cast<ssize_t>(taken);
}

bool TcpSocket::send_close_notify() {
  if (SSL_is_init_finished(ssl_) != 1) return true;  // nothing to close: just FIN
  ERR_clear_error();
  const int result = SSL_shutdown(ssl_);
  if (result < 0 && SSL_get_error(ssl_, result) == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    shutdown_pending_ = true;
    watch_writable();
    return false;
  }
  ERR_clear_error();
  return true;
}

}  // namespace switchboard::loop
