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

struct ReadResult {
  ReadStatus status;
  std::size_t size;  // bytes read, with kData
};

}  // namespace switchboard::loop
