#include "codec/frame_parser.h"

#include <string>

#include "codec/frame_writer.h"

// The cold parts of FrameParser (construction, failure, close payloads) and
// the Violation tables; the per-frame path is in frame_parser_impl.h.
namespace switchboard::codec {

CloseCode close_code_for(Violation violation) {
  switch (violation) {
    case Violation::kNone:
      return CloseCode::kNormal;
    case Violation::kInvalidUtf8:
      return CloseCode::kInvalidPayload;  // RFC 6455 §8.1
    case Violation::kMessageTooBig:
      return CloseCode::kMessageTooBig;  // RFC 6455 §7.4.1
    case Violation::kReservedBitsSet:
    case Violation::kReservedOpcode:
    case Violation::kUnmaskedFrame:
    case Violation::kMaskedFrame:
    case Violation::kLengthMsbSet:
    case Violation::kControlFrameTooLong:
    case Violation::kFragmentedControlFrame:
    case Violation::kContinuationWithoutStart:
    case Violation::kExpectedContinuation:
    case Violation::kClosePayloadTooShort:
    case Violation::kInvalidCloseCode:
    case Violation::kInvalidCloseReason:
      break;
  }
  return CloseCode::kProtocolError;
}

const char* describe(Violation violation) {
  switch (violation) {
    case Violation::kNone:
      return "";
    case Violation::kReservedBitsSet:
      return "reserved bits set";
    case Violation::kReservedOpcode:
      return "reserved opcode";
    case Violation::kUnmaskedFrame:
      return "client frame not masked";
    case Violation::kMaskedFrame:
      return "server frame masked";
    case Violation::kLengthMsbSet:
      return "payload length too large";
    case Violation::kControlFrameTooLong:
      return "control frame too long";
    case Violation::kFragmentedControlFrame:
      return "fragmented control frame";
    case Violation::kContinuationWithoutStart:
      return "continuation without a message";
    case Violation::kExpectedContinuation:
      return "expected a continuation frame";
    case Violation::kInvalidUtf8:
      return "invalid UTF-8 in text message";
    case Violation::kMessageTooBig:
      return "message too big";
    case Violation::kClosePayloadTooShort:
      return "close payload of 1 byte";
    case Violation::kInvalidCloseCode:
      return "invalid close code";
    case Violation::kInvalidCloseReason:
      return "close reason not UTF-8";
  }
  return "protocol error";
}

FrameParser::FrameParser(Role role, ParserLimits limits) : max_message_size_(limits.max_message_size), role_(role) {}

Violation FrameParser::violation() const { return violation_; }

bool FrameParser::mid_message() const {
  return state_ == State::kDataPayload || state_ == State::kControlPayload || header_size_ != 0 ||
         (state_ == State::kHeader && message_opcode_ != Opcode::kContinuation);
}

bool FrameParser::fragmented_message_open() const {
  // message_opcode_ is set while any data message is buffered; the one that
  // is not fragmented is a single frame (FIN set, not a continuation) whose
  // payload is still arriving. Between fragments, and in a control frame
  // between them, frame_* describe the last frame: FIN clear or a control.
  if (message_opcode_ == Opcode::kContinuation) return false;
  const bool single_frame =
      state_ == State::kDataPayload && frame_fin_ == Fin::kYes && frame_opcode_ != Opcode::kContinuation;
  return !single_frame;
}

void FrameParser::shrink() {
  if (message_.empty()) {
    std::string().swap(message_);
  } else {
    message_.shrink_to_fit();
  }
}

ParseStatus FrameParser::fail(Violation violation) {
  state_ = State::kFailed;
  violation_ = violation;
  return ParseStatus::kFailed;
}

FrameParser::HeaderStatus FrameParser::reject(Violation violation) {
  fail(violation);
  return HeaderStatus::kFailed;
}

Violation FrameParser::check_close(std::string_view payload, CloseCode* code, std::string_view* reason) const {
  // §5.5.1: the body is empty, or a 2-byte code then a UTF-8 reason.
  if (payload.empty()) {
    *code = CloseCode::kNoStatus;
    *reason = {};
    return Violation::kNone;
  }
  if (payload.size() == 1) return Violation::kClosePayloadTooShort;
  const auto* bytes = reinterpret_cast<const unsigned char*>(payload.data());
  const auto value = static_cast<std::uint16_t>(detail::read_be(bytes, 2));
  // §7.4: only some codes may appear on the wire.
  if (!is_valid_close_code_on_wire(value)) return Violation::kInvalidCloseCode;
  payload.remove_prefix(2);
  if (!is_valid_utf8(payload)) return Violation::kInvalidCloseReason;
  *code = static_cast<CloseCode>(value);
  *reason = payload;
  return Violation::kNone;
}

}  // namespace switchboard::codec
