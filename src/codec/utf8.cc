#include "codec/utf8.h"

#include <simdjson.h>

#include <cstddef>
#include <cstring>

namespace switchboard::codec {
namespace {

// DFA states. Besides kAccept and kReject, each state says how many
// continuation bytes are still due and, for the first of them, which range is
// allowed (RFC 3629 §4: the narrowed second-byte ranges after E0, ED, F0, F4
// rule out overlongs, surrogates and code points above U+10FFFF).
enum Utf8State : std::uint8_t {
  kAccept = 0,
  kReject,
  kNeed1,  // 80-BF, then done
  kNeed2,  // 80-BF, then kNeed1
  kNeed3,  // 80-BF, then kNeed2
  kE0,     // A0-BF, then kNeed1 (no 3-byte overlongs)
  kED,     // 80-9F, then kNeed1 (no surrogates U+D800-DFFF)
  kF0,     // 90-BF, then kNeed2 (no 4-byte overlongs)
  kF4,     // 80-8F, then kNeed2 (nothing above U+10FFFF)
};

constexpr std::uint8_t lead_state(std::uint8_t byte) {
  if (byte < 0x80) return kAccept;
  if (byte < 0xC2) return kReject;  // stray continuation, or C0/C1 (2-byte overlongs)
  if (byte < 0xE0) return kNeed1;
  if (byte == 0xE0) return kE0;
  if (byte == 0xED) return kED;
  if (byte < 0xF0) return kNeed2;
  if (byte == 0xF0) return kF0;
  if (byte < 0xF4) return kNeed3;
  if (byte == 0xF4) return kF4;
  return kReject;  // F5-FF never appear in UTF-8
}

constexpr std::uint8_t step(std::uint8_t state, std::uint8_t byte) {
  switch (state) {
    case kAccept:
      return lead_state(byte);
    case kNeed1:
      return (byte & 0xC0) == 0x80 ? kAccept : kReject;
    case kNeed2:
      return (byte & 0xC0) == 0x80 ? kNeed1 : kReject;
    case kNeed3:
      return (byte & 0xC0) == 0x80 ? kNeed2 : kReject;
    case kE0:
      return byte >= 0xA0 && byte <= 0xBF ? kNeed1 : kReject;
    case kED:
      return byte >= 0x80 && byte <= 0x9F ? kNeed1 : kReject;
    case kF0:
      return byte >= 0x90 && byte <= 0xBF ? kNeed2 : kReject;
    case kF4:
      return byte >= 0x80 && byte <= 0x8F ? kNeed2 : kReject;
    default:
      return kReject;
  }
}

constexpr std::size_t kStates = kF4 + 1;

// step() as a table (9 x 256 bytes), so the DFA does one load per byte.
struct Transitions {
  std::uint8_t next[kStates][256];
};
constexpr Transitions make_transitions() {
  Transitions table{};
  for (std::size_t state = 0; state < kStates; ++state) {
    for (std::size_t byte = 0; byte < 256; ++byte) {
      table.next[state][byte] = step(static_cast<std::uint8_t>(state), static_cast<std::uint8_t>(byte));
    }
  }
  return table;
}
constexpr Transitions kTransitions = make_transitions();

// Below this many bytes the DFA is cheaper than simdjson's dispatch.
constexpr std::size_t kSimdThreshold = 32;

std::uint8_t run_dfa(std::uint8_t state, const unsigned char* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    if (state == kAccept) {
      // Skip ASCII a word at a time: the common case for text protocols.
      while (i + 8 <= n) {
        std::uint64_t word;
        std::memcpy(&word, p + i, 8);
        if (word & 0x8080808080808080ull) break;
        i += 8;
      }
      if (i == n) break;
    }
    state = kTransitions.next[state][p[i++]];
    if (state == kReject) break;
  }
  return state;
}

// Below this many bytes, checking for pure ASCII a word at a time first is
// cheaper than simdjson's dispatch and padded copy of a short input (about
// 25 ns whatever the content; bench/codec_bench.cc, BM_IsValidUtf8*).
constexpr std::size_t kAsciiFirstBelow = 64;

// True if none of the n bytes has its top bit set. For n >= 8 the last word
// is loaded overlapping the previous one rather than looping over the tail.
bool is_ascii(const unsigned char* p, std::size_t n) {
  constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
  if (n < 8) {
    unsigned bits = 0;
    for (std::size_t i = 0; i < n; ++i) bits |= p[i];
    return (bits & 0x80) == 0;
  }
  std::uint64_t bits = 0;
  std::uint64_t word;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&word, p + i, 8);
    bits |= word;
  }
  std::memcpy(&word, p + n - 8, 8);
  return ((bits | word) & kHighBits) == 0;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  if (bytes.size() < kAsciiFirstBelow && is_ascii(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size())) {
    return true;
  }
  return simdjson::validate_utf8(bytes.data(), bytes.size());
}

bool Utf8Validator::feed(std::string_view chunk) {
  if (state_ == kReject) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  std::size_t n = chunk.size();
  // Finish the code point carried over from the previous chunk.
  std::size_t i = 0;
  while (state_ != kAccept && i < n) {
    state_ = step(state_, p[i++]);
    if (state_ == kReject) return false;
  }
  if (n - i < kAsciiFirstBelow && is_ascii(p + i, n - i)) return true;  // (state_ may still await a carry)
  if (n - i >= kSimdThreshold) {
    // Validate up to the start of the last code point at SIMD speed; the DFA
    // takes that last (maybe incomplete) code point, so a chunk that ends mid
    // character is judged on the bytes it has. A lead byte is at most 3 bytes
    // from the end; if the last 4 are all continuation bytes the input is
    // invalid and simdjson or the DFA will say so.
    std::size_t split = n;
    std::size_t lowest = n - 4;
    while (split > lowest && (p[split - 1] & 0xC0) == 0x80) --split;
    if (split > lowest) --split;  // include the lead byte in the tail
    if (!simdjson::validate_utf8(chunk.data() + i, split - i)) {
      state_ = kReject;
      return false;
    }
    i = split;
  }
  state_ = run_dfa(state_, p + i, n - i);
  return state_ != kReject;
}

bool Utf8Validator::complete() const { return state_ == kAccept; }

void Utf8Validator::reset() { state_ = kAccept; }

}  // namespace switchboard::codec
