// The prebuilt masked frame: it parses (server role, as the server under
// test sees it) to the payload we meant, and stamp() changes only the
// timestamp and sequence.
#include "bench/payload.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/frame_parser.h"
#include "codec/utf8.h"

namespace switchboard::bench {
namespace {

struct Collect {
  std::vector<std::pair<Opcode, std::string>> messages;
  codec::Flow on_message(Opcode opcode, std::string_view payload) {
    messages.emplace_back(opcode, std::string(payload));
    return codec::Flow::kContinue;
  }
  codec::Flow on_ping(std::string_view) { return codec::Flow::kContinue; }
  codec::Flow on_pong(std::string_view) { return codec::Flow::kContinue; }
  codec::Flow on_close(CloseCode, std::string_view) { return codec::Flow::kContinue; }
};

// What the server under test reads from the frame.
std::pair<Opcode, std::string> parse(std::string_view frame) {
  std::string wire(frame);
  codec::FrameParser parser(codec::Role::kServer, {1u << 24});
  Collect sink;
  EXPECT_EQ(parser.consume(std::span<char>(wire.data(), wire.size()), sink), codec::ParseStatus::kNeedMore);
  EXPECT_EQ(sink.messages.size(), 1u);
  return sink.messages.empty() ? std::pair<Opcode, std::string>{} : sink.messages[0];
}

TEST(Field, RoundTripsAndStaysSevenBit) {
  for (std::uint64_t value : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127}, std::uint64_t{128},
                              std::uint64_t{1'234'567'890'123}, kMaxFieldValue}) {
    char field[8];
    encode_field(field, value);
    for (char c : field) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
    std::uint64_t decoded = 0;
    ASSERT_TRUE(decode_field(field, &decoded));
    EXPECT_EQ(decoded, value);
  }
  const char bad[8] = {1, 2, 3, static_cast<char>(0x80), 0, 0, 0, 0};
  std::uint64_t ignored = 0;
  EXPECT_FALSE(decode_field(bad, &ignored));
}

TEST(MessageFrame, ParsesToThePayloadWithTheStamp) {
  const codec::MaskKey key = {0x12, 0x9A, 0xFF, 0x01};
  for (std::size_t size : {8u, 9u, 15u, 16u, 17u, 32u, 125u, 126u, 1000u, 65535u, 65536u, 70000u}) {
    SCOPED_TRACE(size);
    MessageFrame frame(Opcode::kBinary, size, key);
    frame.stamp(987'654'321'000, 42);
    const auto [opcode, payload] = parse(frame.bytes());
    EXPECT_EQ(opcode, Opcode::kBinary);
    EXPECT_EQ(payload, make_payload(size, 987'654'321'000, 42));
    std::uint64_t timestamp = 0;
    ASSERT_TRUE(decode_field(payload.data(), &timestamp));
    EXPECT_EQ(timestamp, 987'654'321'000u);
    if (has_sequence(size)) {
      std::uint64_t sequence = 0;
      ASSERT_TRUE(decode_field(payload.data() + kTimestampSize, &sequence));
      EXPECT_EQ(sequence, 42u);
    }
  }
}

TEST(MessageFrame, RestampingChangesOnlyTheFields) {
  MessageFrame frame(Opcode::kText, 64, {1, 2, 3, 4});
  frame.stamp(1, 1);
  const std::string first(frame.bytes());
  frame.stamp(kMaxFieldValue, 7'000'000);
  const std::string second(frame.bytes());
  ASSERT_EQ(first.size(), second.size());
  const std::size_t header = 2 + 4;
  EXPECT_EQ(first.substr(0, header), second.substr(0, header));
  EXPECT_EQ(first.substr(header + kSequencedPayloadMin), second.substr(header + kSequencedPayloadMin));
  EXPECT_EQ(parse(second).second, make_payload(64, kMaxFieldValue, 7'000'000));
}

TEST(MessageFrame, TextPayloadIsValidUtf8WhateverTheStamp) {
  MessageFrame frame(Opcode::kText, 40, {0xFF, 0xFE, 0xFD, 0xFC});
  for (std::uint64_t value : {std::uint64_t{0}, std::uint64_t{0x7F7F7F7F}, kMaxFieldValue}) {
    frame.stamp(value, value);
    const auto [opcode, payload] = parse(frame.bytes());
    EXPECT_EQ(opcode, Opcode::kText);
    EXPECT_TRUE(codec::is_valid_utf8(payload));
  }
}

TEST(MessageFrame, IsMaskedWithTheConnectionsKey) {
  MessageFrame frame(Opcode::kBinary, 8, {9, 8, 7, 6});
  const std::string_view bytes = frame.bytes();
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x82);  // FIN + binary
  EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x80 | 8);
  EXPECT_EQ(bytes.substr(2, 4), std::string_view("\x09\x08\x07\x06", 4));
}

}  // namespace
}  // namespace switchboard::bench
