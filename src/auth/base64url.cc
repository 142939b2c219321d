#include "auth/base64url.h"

#include <array>
#include <cstdint>

namespace switchboard::auth {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_values() {
  std::array<std::uint8_t, 256> values{};
  for (std::uint8_t& value : values) value = kInvalid;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  return values;
}

constexpr std::array<std::uint8_t, 256> kValues = make_values();

std::uint8_t value_of(char c) { return kValues[static_cast<unsigned char>(c)]; }

// A trailing group of 2 characters carries 8 bits (4 spare), one of 3
// carries 16 (2 spare); 1 character cannot end a valid encoding.
bool valid_shape(std::string_view text) {
  const std::size_t tail = text.size() % 4;
  if (tail == 1) return false;
  for (char c : text) {
    if (value_of(c) == kInvalid) return false;
  }
  if (tail == 2) return (value_of(text.back()) & 0x0f) == 0;
  if (tail == 3) return (value_of(text.back()) & 0x03) == 0;
  return true;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                                static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                                static_cast<unsigned char>(bytes[i + 2]);
    text += kAlphabet[group >> 18 & 0x3f];
    text += kAlphabet[group >> 12 & 0x3f];
    text += kAlphabet[group >> 6 & 0x3f];
    text += kAlphabet[group & 0x3f];
  }
  const std::size_t left = bytes.size() - i;
  if (left == 0) return text;
  std::uint32_t group = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
  if (left == 2) group |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
  text += kAlphabet[group >> 18 & 0x3f];
  text += kAlphabet[group >> 12 & 0x3f];
  if (left == 2) text += kAlphabet[group >> 6 & 0x3f];
  return text;
}

bool is_base64url(std::string_view text) { return valid_shape(text); }

bool base64url_decode(std::string_view text, std::string* bytes) {
  if (!valid_shape(text)) return false;
  bytes->clear();
  bytes->reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (char c : text) {
    bits = (bits << 6 | value_of(c)) & 0xffffff;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      bytes->push_back(static_cast<char>(bits >> bit_count & 0xff));
    }
  }
  return true;
}

}  // namespace switchboard::auth
