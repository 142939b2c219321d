// The payload layout every benchmark message uses, and the per-connection
// prebuilt masked frame that carries it.
//
//   bytes 0..7   send timestamp: CLOCK_MONOTONIC ns since the run started
//   bytes 8..15  sequence number (when the payload has 16 bytes or more)
//   the rest     filler: 'a'..'z' repeating, checked on echo
//
// Both numbers are written as 8 little-endian groups of 7 bits, every byte
// below 0x80, so the same bytes are valid UTF-8 and text frames pass the
// server's UTF-8 check (56 bits: 2.2 years of nanoseconds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "codec/mask.h"
#include "switchboard/frame.h"

namespace switchboard::bench {

inline constexpr std::size_t kTimestampSize = 8;
inline constexpr std::size_t kSequencedPayloadMin = 16;
inline constexpr std::uint64_t kMaxFieldValue = (std::uint64_t{1} << 56) - 1;

// Writes value (at most kMaxFieldValue) into out[0..8).
void encode_field(char* out, std::uint64_t value);
// Reads a field; false when a byte has its top bit set (not ours).
bool decode_field(const char* in, std::uint64_t* value);

// Where the filler starts in a payload of `size` bytes.
constexpr std::size_t filler_offset(std::size_t size) {
  return size >= kSequencedPayloadMin ? kSequencedPayloadMin : kTimestampSize;
}
constexpr bool has_sequence(std::size_t size) { return size >= kSequencedPayloadMin; }

// A whole unmasked payload (filler included), e.g. as the reference to
// compare echoes against; the sequence is left out when size < 16.
std::string make_payload(std::size_t size, std::uint64_t timestamp, std::uint64_t sequence);

// One client frame built once per connection: header, masking key and the
// masked payload. stamp() rewrites only the timestamp and sequence bytes
// (XORed with the key), so a send costs 16 byte stores, not a frame build.
class MessageFrame {
 public:
  MessageFrame() = default;
  MessageFrame(Opcode opcode, std::size_t payload_size, codec::MaskKey key);

  void stamp(std::uint64_t timestamp, std::uint64_t sequence);
  std::string_view bytes() const { return {data_.get(), size_}; }
  bool empty() const { return size_ == 0; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t payload_size_ = 0;
  std::uint8_t header_size_ = 0;
  codec::MaskKey key_{};
};

}  // namespace switchboard::bench
