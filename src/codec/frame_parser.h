// The RFC 6455 frame parser: an incremental state machine, pure (no I/O),
// that accepts its input split at any byte. consume() unmasks payload bytes in
// place in the caller's buffer and reports events to a Sink, strictly in the
// order the frames arrived.
//
// Sink contract (a class with these members; called synchronously):
//   Flow on_message(Opcode opcode, std::string_view payload);  // kText/kBinary, whole message;
//                                                               // text already UTF-8 validated
//   Flow on_ping(std::string_view payload);
//   Flow on_pong(std::string_view payload);
//   Flow on_close(CloseCode code, std::string_view reason);    // validated; kNoStatus when empty
// and, optionally:
//   void on_fragmented_message();  // a fragmented message begins (its first frame's header,
//                                  // FIN clear, was read): its end is the on_message to come
// Views are valid only until the callback returns. Returning Flow::kStop
// makes consume() return ParseStatus::kStopped at once (the caller closed the
// connection); after on_close the parser is finished and consume() returns
// kStopped for any further input.
//
// Zero copy: a whole unfragmented frame (or control frame) inside the span is
// unmasked in place and delivered as a view into the span. Only fragmented
// messages and frames split across consume() calls are copied, into the
// parser's reassembly buffer; control frames interleaved in a fragmented
// message borrow the tail of that buffer when they are split too.
//
// Threading: a FrameParser belongs to one connection and one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "codec/mask.h"
#include "codec/utf8.h"
#include "switchboard/frame.h"

namespace switchboard::codec {

// Which side of the connection this parser sits on. A server parses client
// frames, which RFC 6455 §5.1 requires to be masked; a client parses server
// frames, which must not be.
enum class Role : std::uint8_t { kServer, kClient };

enum class Flow : std::uint8_t { kContinue, kStop };

enum class ParseStatus : std::uint8_t {
  kNeedMore,  // every byte was consumed; feed more when it arrives
  kStopped,   // a sink returned kStop, or a close frame ended the stream
  kFailed,    // a protocol violation: see violation(); the parser is dead
};

// One enumerator per rule a peer can break; close_code_for() maps each to the
// close code RFC 6455 asks for, describe() to the close reason we send.
enum class Violation : std::uint8_t {
  kNone,
  kReservedBitsSet,           // RSV1-3 without a negotiated extension (1002)
  kReservedOpcode,            // 0x3-0x7, 0xB-0xF (1002)
  kUnmaskedFrame,             // server role, client frame without mask (1002)
  kMaskedFrame,               // client role, server frame with mask (1002)
  kLengthMsbSet,              // 64-bit length with the top bit set (1002)
  kControlFrameTooLong,       // control payload > 125 bytes (1002)
  kFragmentedControlFrame,    // control frame with FIN clear (1002)
  kContinuationWithoutStart,  // continuation frame with no message open (1002)
  kExpectedContinuation,      // new text/binary frame while a message is open (1002)
  kInvalidUtf8,               // text message not UTF-8 (1007)
  kMessageTooBig,             // message larger than limits.max_message_size (1009)
  kClosePayloadTooShort,      // close payload of exactly 1 byte (1002)
  kInvalidCloseCode,          // code not allowed on the wire (1002)
  kInvalidCloseReason,        // close reason not UTF-8 (1002)
};

CloseCode close_code_for(Violation violation);
const char* describe(Violation violation);  // short, ASCII, fits a close reason

struct ParserLimits {
  std::uint64_t max_message_size = 1u << 20;  // bytes, after reassembly
};

class FrameParser {
 public:
  FrameParser(Role role, ParserLimits limits);

  template <class Sink>
  ParseStatus consume(std::span<char> bytes, Sink& sink);

  Violation violation() const;
  // True while a fragmented or partially received message is buffered.
  bool mid_message() const;
  // True from the first frame of a fragmented message (FIN clear) until its
  // last byte, control frames between its fragments included; false for a
  // single frame that is merely split across reads.
  bool fragmented_message_open() const;
  // Drops the reassembly buffer's capacity (e.g. when a connection goes idle).
  void shrink();
  // Bytes the reassembly buffer has allocated: what a message split across
  // reads left behind, kept for the next one until shrink().
  std::size_t buffer_capacity() const { return message_.capacity(); }

 private:
  enum class State : std::uint8_t {
    kHeader,          // between frames, or inside a header (header_size_ > 0)
    kDataPayload,     // inside a text/binary/continuation payload, copied to message_
    kControlPayload,  // inside a control payload split across calls, copied to message_'s tail
    kClosed,          // a valid close frame was delivered
    kFailed,          // violation_ says why
  };
  enum class HeaderStatus : std::uint8_t { kNeedMore, kDone, kFailed };

  // Reads (part of) a frame header from p. Returns the bytes it consumed;
  // afterwards state_ is kFailed, or header_size_ > 0 (incomplete, every byte
  // consumed), or the header is complete and frame_* / remaining_ describe it.
  std::size_t read_header(const char* p, std::size_t size);
  // Validates the header bytes available so far, in wire order, and fills the
  // frame fields once the whole header is there; *size gets its length.
  HeaderStatus decode_header(const unsigned char* h, std::size_t available, std::size_t* size);
  // Chooses the payload path for the frame whose header was just read: true
  // when the frame is wholly in the remaining `available` bytes and needs no
  // copy (a control frame, or an unfragmented data frame).
  bool starts_in_place(std::size_t available);
  // Validates a close payload (RFC 6455 §5.5.1, §7.4); on success fills code
  // and reason.
  Violation check_close(std::string_view payload, CloseCode* code, std::string_view* reason) const;
  void unmask(char* data, std::size_t size);
  ParseStatus fail(Violation violation);
  HeaderStatus reject(Violation violation);  // fail() from decode_header()

  template <class Sink>
  ParseStatus deliver_control(std::string_view payload, Sink& sink);

  std::string message_;                     // reassembly buffer (+ the tail of a split control frame)
  std::uint64_t max_message_size_;          // ParserLimits::max_message_size
  std::uint64_t remaining_ = 0;             // payload bytes of the current frame not yet seen
  MaskKey mask_{};                          // the current frame's masking key
  std::array<unsigned char, 14> header_{};  // a header split across consume() calls
  std::uint8_t header_size_ = 0;            // bytes in header_
  std::uint8_t key_offset_ = 0;             // position in mask_ of the next payload byte
  std::uint8_t control_size_ = 0;           // payload length of a split control frame
  Role role_;
  State state_ = State::kHeader;
  Violation violation_ = Violation::kNone;
  Opcode frame_opcode_ = Opcode::kContinuation;    // the current frame's opcode
  Opcode message_opcode_ = Opcode::kContinuation;  // kText/kBinary while a message is open
  Fin frame_fin_ = Fin::kYes;
  Utf8Validator utf8_;  // over the open text message, across fragments and reads
};

// Every connection holds one: keep the idle state small (RFC-bound fields and
// a few bytes of flags besides the reassembly buffer).
static_assert(sizeof(FrameParser) <= sizeof(std::string) + 48, "FrameParser grew: it lives in every connection");

}  // namespace switchboard::codec

#include "codec/frame_parser_impl.h"  // IWYU pragma: export
