// apply_mask against a byte-wise reference for every size, key offset and
// alignment the vector loop can meet.
#include "codec/mask.h"

#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::codec {
namespace {

std::size_t reference_mask(char* data, std::size_t size, MaskKey key, std::size_t key_offset) {
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(data[i] ^ key[(key_offset + i) % 4]);
  return (key_offset + size) % 4;
}

TEST(ApplyMask, MatchesReferenceForAllSizesOffsetsAndAlignments) {
  const MaskKey key = {0x12, 0xA5, 0xFF, 0x01};
  for (std::size_t size = 0; size <= 100; ++size) {
    for (std::size_t key_offset = 0; key_offset < 4; ++key_offset) {
      for (std::size_t alignment = 0; alignment < 16; ++alignment) {
        // Guard bytes on both sides catch any write outside [data, data+size).
        std::vector<char> buffer(size + alignment + 32);
        for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<char>(i * 7 + size);
        std::vector<char> expected = buffer;
        const std::size_t got = apply_mask(buffer.data() + alignment, size, key, key_offset);
        const std::size_t want = reference_mask(expected.data() + alignment, size, key, key_offset);
        ASSERT_EQ(got, want) << size << " " << key_offset << " " << alignment;
        ASSERT_EQ(buffer, expected) << size << " " << key_offset << " " << alignment;
      }
    }
  }
}

TEST(ApplyMask, PiecewiseEqualsWhole) {
  const MaskKey key = {1, 2, 3, 4};
  std::string whole(1000, 'q');
  std::string pieces = whole;
  apply_mask(whole.data(), whole.size(), key);
  std::size_t offset = 0;
  for (std::size_t at = 0, step = 1; at < pieces.size(); at += step, step = step * 3 % 97 + 1) {
    const std::size_t n = std::min(step, pieces.size() - at);
    offset = apply_mask(pieces.data() + at, n, key, offset);
  }
  EXPECT_EQ(pieces, whole);
}

TEST(ApplyMask, TwiceIsIdentity) {
  const MaskKey key = {0xDE, 0xAD, 0xBE, 0xEF};
  std::string data = "The quick brown fox jumps over the lazy dog, twice over, and then some.";
  const std::string original = data;
  apply_mask(data.data(), data.size(), key, 2);
  EXPECT_NE(data, original);
  apply_mask(data.data(), data.size(), key, 2);
  EXPECT_EQ(data, original);
}

}  // namespace
}  // namespace switchboard::codec
