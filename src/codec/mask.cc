#include "codec/mask.h"

#include <cstring>

namespace switchboard::codec {
namespace {

// A 16-byte vector in GCC/Clang's portable vector extension: SSE2 on x86-64,
// NEON on arm64, plain words elsewhere. Loads and stores go through memcpy, so
// any alignment of the payload is fine (and compiles to unaligned moves).
using Block = std::uint8_t __attribute__((vector_size(16)));

}  // namespace

// Aligned to a cache line: its loop runs for every frame, and where the
// linker happens to place it moved BM_ParseMaskedBinary/128 by 4% when an
// unrelated function was added before it in the codec library.
__attribute__((aligned(64))) std::size_t apply_mask(char* data, std::size_t size, MaskKey key, std::size_t key_offset) {
  // Rotate the key so that pattern byte i masks data byte i (RFC 6455 §5.3:
  // octet i is XORed with key octet (i + offset) mod 4), then repeat it.
  const std::uint8_t rotated[4] = {key[key_offset & 3], key[(key_offset + 1) & 3], key[(key_offset + 2) & 3],
                                   key[(key_offset + 3) & 3]};
  std::uint32_t word32;
  std::memcpy(&word32, rotated, 4);
  const std::uint64_t pattern_word = word32 * 0x0000000100000001ull;
  const std::uint64_t pattern_words[2] = {pattern_word, pattern_word};
  Block pattern;
  std::memcpy(&pattern, pattern_words, sizeof(pattern));

  std::size_t i = 0;
  // Four blocks per iteration keeps the loads and stores in flight; every
  // block length is a multiple of 4, so the pattern stays in phase.
  for (; i + 4 * sizeof(Block) <= size; i += 4 * sizeof(Block)) {
    Block b[4];
    std::memcpy(b, data + i, sizeof(b));
    b[0] ^= pattern;
    b[1] ^= pattern;
    b[2] ^= pattern;
    b[3] ^= pattern;
    std::memcpy(data + i, b, sizeof(b));
  }
  for (; i + sizeof(Block) <= size; i += sizeof(Block)) {
    Block b;
    std::memcpy(&b, data + i, sizeof(b));
    b ^= pattern;
    std::memcpy(data + i, &b, sizeof(b));
  }
  if (i + 8 <= size) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    word ^= pattern_word;
    std::memcpy(data + i, &word, 8);
    i += 8;
  }
  if (i + 4 <= size) {
    std::uint32_t word;
    std::memcpy(&word, data + i, 4);
    word ^= word32;
    std::memcpy(data + i, &word, 4);
    i += 4;
  }
  for (; i < size; ++i) data[i] = static_cast<char>(data[i] ^ rotated[i & 3]);
  return (key_offset + size) & 3;
}

}  // namespace switchboard::codec
