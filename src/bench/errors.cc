#include "bench/errors.h"

namespace switchboard::bench {

const char* error_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kHandshakeTimeout:
      return "handshake_timeout";
    case ErrorKind::kHandshakeRejected:
      return "handshake_rejected";
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kMismatch:
      return "mismatch";
    case ErrorKind::kUnexpectedClose:
      return "unexpected_close";
    case ErrorKind::kWriteFailed:
      return "write_failed";
    case ErrorKind::kCloseTimeout:
      return "close_timeout";
    case ErrorKind::kCount:
      break;
  }
  return "?";
}

}  // namespace switchboard::bench
