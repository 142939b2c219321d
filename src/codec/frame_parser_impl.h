// The per-frame hot path of FrameParser: consume() and the header decoding
// it runs for every frame, in a header so that it inlines with the caller's
// Sink (a separate call per small frame costs about half the throughput).
// Included by frame_parser.h; include that instead.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "codec/frame_parser.h"
#include "codec/frame_writer.h"

namespace switchboard::codec {

namespace detail {

constexpr bool is_control(Opcode opcode) { return (static_cast<std::uint8_t>(opcode) & 0x08) != 0; }

inline std::uint64_t read_be(const unsigned char* p, std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i) value = (value << 8) | p[i];
  return value;
}

}  // namespace detail

inline void FrameParser::unmask(char* data, std::size_t size) {
  // Only a server sees masked frames: decode_header() rejects the other cases.
  if (role_ == Role::kServer) key_offset_ = static_cast<std::uint8_t>(apply_mask(data, size, mask_, key_offset_));
}

inline std::size_t FrameParser::read_header(const char* p, std::size_t size) {
  std::size_t header_size = 0;
  if (header_size_ == 0) {
    // Common case: decode straight from the input.
    const auto status = decode_header(reinterpret_cast<const unsigned char*>(p), size, &header_size);
    if (status == HeaderStatus::kDone) return header_size;
    if (status == HeaderStatus::kFailed) return 0;
    // A header is at most 14 bytes, so an incomplete one fits in header_.
    std::memcpy(header_.data(), p, size);
    header_size_ = static_cast<std::uint8_t>(size);
    return size;
  }
  const std::size_t copied = std::min(size, header_.size() - header_size_);
  std::memcpy(header_.data() + header_size_, p, copied);
  const auto status = decode_header(header_.data(), header_size_ + copied, &header_size);
  if (status == HeaderStatus::kFailed) return 0;
  if (status == HeaderStatus::kNeedMore) {
    header_size_ = static_cast<std::uint8_t>(header_size_ + copied);
    return copied;
  }
  const std::size_t consumed = header_size - header_size_;
  header_size_ = 0;
  return consumed;
}

//  RFC 6455 §5.2 base framing protocol:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-------+-+-------------+-------------------------------+
//  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//  | |1|2|3|       |K|             |                               |
//  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//  |     Extended payload length continued, if payload len == 127  |
//  + - - - - - - - - - - - - - - - +-------------------------------+
//  |                               |Masking-key, if MASK set to 1  |
//  +-------------------------------+-------------------------------+
//  | Masking-key (continued)       |          Payload Data         |
//  +-------------------------------- - - - - - - - - - - - - - - - +
//  :                     Payload Data continued ...                :
//  + - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - +
//  |                     Payload Data continued ...                |
//  +---------------------------------------------------------------+
//
// Each rule is checked as soon as the byte it depends on has arrived, so a
// bad frame fails on its first bytes and the verdict does not depend on how
// the input was split.
inline FrameParser::HeaderStatus FrameParser::decode_header(const unsigned char* h, std::size_t available,
                                                            std::size_t* size) {
  if (available < 1) return HeaderStatus::kNeedMore;
  // §5.2: RSV1-3 MUST be 0 unless an extension defines them (none is
  // negotiated here).
  if ((h[0] & 0x70) != 0) return reject(Violation::kReservedBitsSet);
  const auto opcode = static_cast<Opcode>(h[0] & 0x0F);
  switch (opcode) {
    case Opcode::kContinuation:
    case Opcode::kText:
    case Opcode::kBinary:
    case Opcode::kClose:
    case Opcode::kPing:
    case Opcode::kPong:
      break;
    default:  // §5.2: 0x3-0x7 and 0xB-0xF are reserved
      return reject(Violation::kReservedOpcode);
  }
  const Fin fin = (h[0] & 0x80) != 0 ? Fin::kYes : Fin::kNo;
  const bool message_open = message_opcode_ != Opcode::kContinuation;
  if (detail::is_control(opcode)) {
    // §5.5: control frames MUST NOT be fragmented.
    if (fin == Fin::kNo) return reject(Violation::kFragmentedControlFrame);
  } else if (opcode == Opcode::kContinuation) {
    // §5.4: a continuation continues something.
    if (!message_open) return reject(Violation::kContinuationWithoutStart);
  } else if (message_open) {
    // §5.4: fragments of one message are not interleaved with another's.
    return reject(Violation::kExpectedContinuation);
  }
  if (available < 2) return HeaderStatus::kNeedMore;

  // §5.1: clients mask every frame, servers none.
  const bool masked = (h[1] & 0x80) != 0;
  if (role_ == Role::kServer && !masked) return reject(Violation::kUnmaskedFrame);
  if (role_ == Role::kClient && masked) return reject(Violation::kMaskedFrame);
  const unsigned length7 = h[1] & 0x7F;
  // §5.5: control payloads are 125 bytes at most (126/127 announce more).
  if (detail::is_control(opcode) && length7 > kMaxControlPayload) {
    return reject(Violation::kControlFrameTooLong);
  }
  const std::size_t length_size = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  const std::size_t total = 2 + length_size + (masked ? 4 : 0);
  if (available < 2 + length_size) return HeaderStatus::kNeedMore;
  const std::uint64_t length = length_size == 0 ? length7 : detail::read_be(h + 2, length_size);
  // §5.2: in the 64-bit form the most significant bit MUST be 0.
  if (length >> 63 != 0) return reject(Violation::kLengthMsbSet);
  // §10.4: refuse an oversized message on its header, before buffering it.
  if (!detail::is_control(opcode)) {
    const std::uint64_t so_far = opcode == Opcode::kContinuation ? message_.size() : 0;
    if (length > max_message_size_ - so_far) return reject(Violation::kMessageTooBig);
  }
  if (available < total) return HeaderStatus::kNeedMore;

  if (masked) std::memcpy(mask_.data(), h + 2 + length_size, 4);
  frame_opcode_ = opcode;
  frame_fin_ = fin;
  remaining_ = length;
  *size = total;
  return HeaderStatus::kDone;
}

inline bool FrameParser::starts_in_place(std::size_t available) {
  key_offset_ = 0;
  const bool whole = remaining_ <= available;
  if (detail::is_control(frame_opcode_)) {
    if (whole) return true;
    control_size_ = static_cast<std::uint8_t>(remaining_);
    state_ = State::kControlPayload;
    return false;
  }
  // decode_header() guarantees no message is open for a kText/kBinary frame.
  if (whole && frame_fin_ == Fin::kYes && frame_opcode_ != Opcode::kContinuation) return true;
  if (frame_opcode_ != Opcode::kContinuation) {
    message_opcode_ = frame_opcode_;
    utf8_.reset();
  }
  state_ = State::kDataPayload;
  return false;
}

template <class Sink>
ParseStatus FrameParser::consume(std::span<char> bytes, Sink& sink) {
  if (state_ == State::kFailed) return ParseStatus::kFailed;
  if (state_ == State::kClosed) return ParseStatus::kStopped;
  char* p = bytes.data();
  char* const end = p + bytes.size();
  // Frames are handled strictly in order (RFC 6455 §5.4: fragments and the
  // control frames between them are processed as they arrive), so a message
  // that completes before a bad frame reaches the sink before kFailed.
  for (;;) {
    if (state_ == State::kHeader) {
      if (p == end) return ParseStatus::kNeedMore;
      p += read_header(p, static_cast<std::size_t>(end - p));
      if (state_ == State::kFailed) return ParseStatus::kFailed;
      if (header_size_ != 0) return ParseStatus::kNeedMore;
      if (starts_in_place(static_cast<std::size_t>(end - p))) {
        // Fast path: the whole frame is in the span; unmask it where it is
        // and hand out a view (no copy).
        const auto size = static_cast<std::size_t>(remaining_);
        unmask(p, size);
        const std::string_view payload(p, size);
        p += size;
        remaining_ = 0;
        if (frame_opcode_ == Opcode::kPing || frame_opcode_ == Opcode::kPong || frame_opcode_ == Opcode::kClose) {
          const ParseStatus status = deliver_control(payload, sink);
          if (status != ParseStatus::kNeedMore) return status;
          continue;
        }
        // RFC 6455 §8.1: a text message must be valid UTF-8.
        if (frame_opcode_ == Opcode::kText && !is_valid_utf8(payload)) return fail(Violation::kInvalidUtf8);
        if (sink.on_message(frame_opcode_, payload) == Flow::kStop) return ParseStatus::kStopped;
        continue;
      }
      // starts_in_place() moved state_ to a payload state; fall through.
      // Off the fast path: the sink may time a message that comes in pieces.
      if constexpr (requires { sink.on_fragmented_message(); }) {
        if (frame_fin_ == Fin::kNo && frame_opcode_ != Opcode::kContinuation) sink.on_fragmented_message();
      }
    }

    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, end - p));
    unmask(p, take);
    if (state_ == State::kDataPayload) {
      // RFC 6455 §8.1 + §5.6: fail text as soon as it cannot be UTF-8, even
      // in the middle of a fragment.
      if (message_opcode_ == Opcode::kText && !utf8_.feed(std::string_view(p, take))) {
        return fail(Violation::kInvalidUtf8);
      }
      message_.append(p, take);
      p += take;
      remaining_ -= take;
      if (remaining_ != 0) return ParseStatus::kNeedMore;
      state_ = State::kHeader;
      if (frame_fin_ == Fin::kNo) continue;
      if (message_opcode_ == Opcode::kText && !utf8_.complete()) return fail(Violation::kInvalidUtf8);
      const Opcode opcode = message_opcode_;
      message_opcode_ = Opcode::kContinuation;
      const Flow flow = sink.on_message(opcode, std::string_view(message_));
      message_.clear();
      if (flow == Flow::kStop) return ParseStatus::kStopped;
    } else {
      // A control frame split across reads: its bytes follow the open
      // message's bytes in message_ until it is complete.
      message_.append(p, take);
      p += take;
      remaining_ -= take;
      if (remaining_ != 0) return ParseStatus::kNeedMore;
      state_ = State::kHeader;
      const std::size_t data_size = message_.size() - control_size_;
      const ParseStatus status = deliver_control(std::string_view(message_).substr(data_size), sink);
      message_.resize(data_size);
      if (status != ParseStatus::kNeedMore) return status;
    }
  }
}

// Returns kNeedMore to go on parsing, else what consume() must return.
template <class Sink>
ParseStatus FrameParser::deliver_control(std::string_view payload, Sink& sink) {
  Flow flow = Flow::kContinue;
  switch (frame_opcode_) {
    case Opcode::kPing:
      flow = sink.on_ping(payload);
      break;
    case Opcode::kPong:
      flow = sink.on_pong(payload);
      break;
    default: {
      CloseCode code = CloseCode::kNoStatus;
      std::string_view reason;
      const Violation violation = check_close(payload, &code, &reason);
      if (violation != Violation::kNone) return fail(violation);
      // RFC 6455 §5.5.1: after a close frame no more data frames may follow;
      // the stream ends here whatever the sink says.
      state_ = State::kClosed;
      sink.on_close(code, reason);
      return ParseStatus::kStopped;
    }
  }
  return flow == Flow::kStop ? ParseStatus::kStopped : ParseStatus::kNeedMore;
}

}  // namespace switchboard::codec
