// RFC 6455 §5.3 payload masking: the XOR with a 4-byte key that client frames
// carry. The same operation masks and unmasks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace switchboard::codec {

using MaskKey = std::array<std::uint8_t, 4>;

// XORs data with the RFC 6455 §5.3 masking key in place, starting at byte
// `key_offset` (0-3) of the key, so a payload can be unmasked in pieces.
// Returns the key offset for the byte after data. Runs at memory speed
// (word-wide or SIMD), whatever the alignment of data.
std::size_t apply_mask(char* data, std::size_t size, MaskKey key, std::size_t key_offset = 0);

}  // namespace switchboard::codec
