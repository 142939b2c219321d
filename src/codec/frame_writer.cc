#include "codec/frame_writer.h"

#include <cstring>

namespace switchboard::codec {

std::size_t write_frame_header(char* out, Opcode opcode, Fin fin, std::uint64_t payload_size, const MaskKey* mask) {
  // RFC 6455 §5.2: FIN, RSV1-3 (zero: no extension), opcode; then MASK and the
  // payload length in its minimal encoding (7 bits, or 126 + 16 bits, or 127 +
  // 64 bits), then the masking key when there is one.
  auto* header = reinterpret_cast<unsigned char*>(out);
  header[0] = static_cast<unsigned char>((fin == Fin::kYes ? 0x80 : 0x00) | static_cast<unsigned>(opcode));
  const unsigned char mask_bit = mask != nullptr ? 0x80 : 0x00;
  std::size_t size = 2;
  if (payload_size < 126) {
    header[1] = static_cast<unsigned char>(mask_bit | payload_size);
  } else if (payload_size <= 0xFFFF) {
    header[1] = mask_bit | 126;
    header[2] = static_cast<unsigned char>(payload_size >> 8);
    header[3] = static_cast<unsigned char>(payload_size);
    size = 4;
  } else {
    header[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) header[2 + i] = static_cast<unsigned char>(payload_size >> (56 - 8 * i));
    size = 10;
  }
  if (mask != nullptr) {
    std::memcpy(header + size, mask->data(), 4);
    size += 4;
  }
  return size;
}

std::string make_frame(Opcode opcode, std::string_view payload, Fin fin) {
  char header[kMaxFrameHeaderSize];
  const std::size_t header_size = write_frame_header(header, opcode, fin, payload.size(), nullptr);
  std::string frame;
  frame.reserve(header_size + payload.size());
  frame.append(header, header_size);
  frame.append(payload);
  return frame;
}

std::string make_masked_frame(Opcode opcode, std::string_view payload, MaskKey key, Fin fin) {
  char header[kMaxFrameHeaderSize];
  const std::size_t header_size = write_frame_header(header, opcode, fin, payload.size(), &key);
  std::string frame;
  frame.reserve(header_size + payload.size());
  frame.append(header, header_size);
  frame.append(payload);
  apply_mask(frame.data() + header_size, payload.size(), key);
  return frame;
}

std::string make_close_payload(std::uint16_t code, std::string_view reason) {
  // RFC 6455 §5.5: control payloads are at most 125 bytes; §5.5.1: the reason
  // is UTF-8, so cut it before a lead byte, never inside a code point.
  constexpr std::size_t kMaxReason = kMaxControlPayload - 2;
  if (reason.size() > kMaxReason) {
    std::size_t cut = kMaxReason;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.reserve(2 + reason.size());
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

bool is_valid_close_code_on_wire(std::uint16_t code) {
  // RFC 6455 §7.4.1/§7.4.2 and the IANA registry: 1004 is reserved, 1005,
  // 1006 and 1015 are for reporting only; 1012-1014 (service restart, try
  // again later, bad gateway) were registered after the RFC; 3000-4999 are
  // for libraries and applications; everything else is unassigned.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

}  // namespace switchboard::codec
