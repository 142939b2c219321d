// Frame serialisation for both roles: a server writes unmasked frames, a
// client masked ones (RFC 6455 §5.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/mask.h"
#include "switchboard/frame.h"

namespace switchboard::codec {

inline constexpr std::size_t kMaxFrameHeaderSize = 14;
inline constexpr std::size_t kMaxControlPayload = 125;

// Writes the header of one frame into out (room for kMaxFrameHeaderSize
// bytes) with the minimal length encoding; mask is null for server frames.
// Returns the header's length.
std::size_t write_frame_header(char* out, Opcode opcode, Fin fin, std::uint64_t payload_size, const MaskKey* mask);

// A whole unmasked (server-role) frame.
std::string make_frame(Opcode opcode, std::string_view payload, Fin fin = Fin::kYes);
// A whole masked (client-role) frame: the payload is copied, then masked.
std::string make_masked_frame(Opcode opcode, std::string_view payload, MaskKey key, Fin fin = Fin::kYes);

// The payload of a close frame: code in network order, then the reason cut
// to fit 125 bytes in all, at a UTF-8 code point boundary.
std::string make_close_payload(std::uint16_t code, std::string_view reason);

// RFC 6455 §7.4 and the IANA "WebSocket Close Code Number Registry": may
// this code appear in a close frame? 1000-1003, 1007-1014, 3000-4999
// (1004-1006, 1015 and the rest: no). The one rule for both directions: the
// parser refuses a received close with any other code (1002), and the
// server never sends one.
bool is_valid_close_code_on_wire(std::uint16_t code);

}  // namespace switchboard::codec
