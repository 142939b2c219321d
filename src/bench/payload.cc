#include "bench/payload.h"

#include <cstring>

#include "codec/frame_writer.h"

namespace switchboard::bench {

void encode_field(char* out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(value & 0x7F);
    value >>= 7;
  }
}

bool decode_field(const char* in, std::uint64_t* value) {
  std::uint64_t result = 0;
  for (int i = 7; i >= 0; --i) {
    const auto byte = static_cast<unsigned char>(in[i]);
    if (byte >= 0x80) return false;
    result = (result << 7) | byte;
  }
  *value = result;
  return true;
}

std::string make_payload(std::size_t size, std::uint64_t timestamp, std::uint64_t sequence) {
  std::string payload(size, '\0');
  for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  if (size >= kTimestampSize) encode_field(payload.data(), timestamp);
  if (has_sequence(size)) encode_field(payload.data() + kTimestampSize, sequence);
  return payload;
}

MessageFrame::MessageFrame(Opcode opcode, std::size_t payload_size, codec::MaskKey key)
    : payload_size_(payload_size), key_(key) {
  char header[codec::kMaxFrameHeaderSize];
  header_size_ = static_cast<std::uint8_t>(codec::write_frame_header(header, opcode, Fin::kYes, payload_size, &key));
  size_ = header_size_ + payload_size;
  data_.reset(new char[size_]);
  std::memcpy(data_.get(), header, header_size_);
  const std::string payload = make_payload(payload_size, 0, 0);
  std::memcpy(data_.get() + header_size_, payload.data(), payload_size);
  codec::apply_mask(data_.get() + header_size_, payload_size, key);
}

void MessageFrame::stamp(std::uint64_t timestamp, std::uint64_t sequence) {
  // RFC 6455 §5.3: payload byte i is XORed with key[i % 4]; both fields
  // start at a multiple of 4, so field byte j takes key[j % 4].
  char field[kSequencedPayloadMin];
  encode_field(field, timestamp);
  std::size_t size = kTimestampSize;
  if (has_sequence(payload_size_)) {
    encode_field(field + kTimestampSize, sequence);
    size = kSequencedPayloadMin;
  }
  char* out = data_.get() + header_size_;
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>(field[i] ^ key_[i & 3]);
}

}  // namespace switchboard::bench
