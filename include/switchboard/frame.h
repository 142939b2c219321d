// Wire-level WebSocket types shared by the codec, the server and embedders.
#pragma once

#include <cstdint>

namespace switchboard {

// RFC 6455 §5.2 opcodes. Values 0x3-0x7 and 0xB-0xF are reserved and never
// appear in a parsed frame: the parser fails the connection with 1002 first.
enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// RFC 6455 §7.4.1 status codes. The ones marked "never on the wire" are
// reported locally (on_close) but must never be sent in a close frame.
enum class CloseCode : std::uint16_t {
  kNormal = 1000,
  kGoingAway = 1001,
  kProtocolError = 1002,
  kUnsupportedData = 1003,
  kNoStatus = 1005,        // never on the wire: close frame had no code
  kAbnormal = 1006,        // never on the wire: TCP closed without a close frame
  kInvalidPayload = 1007,  // e.g. text that is not UTF-8
  kPolicyViolation = 1008,
  kMessageTooBig = 1009,
  kMandatoryExtension = 1010,
  kInternalError = 1011,
  kTryAgainLater = 1013,
};

// Whether a frame ends its message (RFC 6455 §5.2 FIN bit).
enum class Fin : std::uint8_t { kNo, kYes };

}  // namespace switchboard
