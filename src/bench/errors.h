// What can go wrong in a benchmark run, one enumerator per kind, counted
// per thread and reported by name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace switchboard::bench {

enum class ErrorKind : std::uint8_t {
  kConnect,            // socket/bind/connect failed (refused, no ports, no descriptors)
  kHandshakeTimeout,   // no validated 101 within --handshake-timeout
  kHandshakeRejected,  // the server's answer failed the RFC 6455 §4.1 checks, or it closed
  kProtocol,           // the frame parser found a violation in the server's frames
  kMismatch,           // an echo or delivery that is not what we sent (opcode, size, bytes, order)
  kUnexpectedClose,    // the server closed (close frame or EOF) before we did
  kWriteFailed,        // a send failed (reset by the peer)
  kCloseTimeout,       // no close frame and EOF within 2 s of our close
  kCount,
};

inline constexpr std::size_t kErrorKinds = static_cast<std::size_t>(ErrorKind::kCount);

// Stable snake_case names: the JSON keys.
const char* error_name(ErrorKind kind);

struct ErrorCounts {
  std::array<std::uint64_t, kErrorKinds> counts{};

  void add(ErrorKind kind) { ++counts[static_cast<std::size_t>(kind)]; }
  std::uint64_t operator[](ErrorKind kind) const { return counts[static_cast<std::size_t>(kind)]; }
  std::uint64_t total() const {
    std::uint64_t sum = 0;
    for (std::uint64_t count : counts) sum += count;
    return sum;
  }
  void merge(const ErrorCounts& other) {
    for (std::size_t i = 0; i < kErrorKinds; ++i) counts[i] += other.counts[i];
  }
};

}  // namespace switchboard::bench
