// What a non-blocking socket operation did: shared by TcpSocket (accepted
// connections) and OutboundStream (connections we open).
#pragma once

#include <cstddef>
#include <cstdint>

namespace switchboard::loop {

enum class WriteStatus : std::uint8_t {
  kSent,      // all bytes handed to the kernel (or to the cork buffer)
  kBuffered,  // some bytes wait in the write queue for EPOLLOUT
  kFailed,    // the peer is gone (EPIPE, ECONNRESET): close the socket
};

enum class FlushStatus : std::uint8_t { kDrained, kPending, kFailed };

enum class ReadStatus : std::uint8_t { kData, kWouldBlock, kEof, kFailed };

// Why a TLS session on an accepted socket failed (TcpSocket::tls_failure).
enum class TlsFailure : std::uint8_t {
  kNone,
  kPlainHttp,   // the first bytes were a plain HTTP request (no alert was sent)
  kPeerClosed,  // EOF or a reset before the handshake finished
  kProtocol,    // anything else: bad records, no shared version or cipher, an alert
  kTimeout,     // not the socket's: its owner's handshake timeout passed first
};
inline constexpr std::size_t kTlsFailureKinds = 5;

struct ReadResult {
  ReadStatus status;
  std::size_t size;  // bytes read, with kData
};

}  // namespace switchboard::loop
