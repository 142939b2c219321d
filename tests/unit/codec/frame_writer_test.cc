// Frame writer: minimal length encodings, and frames that the parser reads
// back in both roles.
#include "codec/frame_writer.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/frame_parser.h"
#include "codec/utf8.h"

namespace switchboard::codec {
namespace {

std::string header(Opcode opcode, Fin fin, std::uint64_t size, const MaskKey* mask) {
  char out[kMaxFrameHeaderSize];
  return std::string(out, write_frame_header(out, opcode, fin, size, mask));
}

TEST(WriteFrameHeader, MinimalLengthEncoding) {
  using std::string_literals::operator""s;
  EXPECT_EQ(header(Opcode::kText, Fin::kYes, 0, nullptr), "\x81\x00"s);
  EXPECT_EQ(header(Opcode::kBinary, Fin::kYes, 125, nullptr), "\x82\x7D"s);
  EXPECT_EQ(header(Opcode::kBinary, Fin::kYes, 126, nullptr), "\x82\x7E\x00\x7E"s);
  EXPECT_EQ(header(Opcode::kBinary, Fin::kYes, 65535, nullptr), "\x82\x7E\xFF\xFF"s);
  EXPECT_EQ(header(Opcode::kBinary, Fin::kYes, 65536, nullptr), "\x82\x7F\x00\x00\x00\x00\x00\x01\x00\x00"s);
  EXPECT_EQ(header(Opcode::kBinary, Fin::kYes, 1ull << 32, nullptr), "\x82\x7F\x00\x00\x00\x01\x00\x00\x00\x00"s);
  EXPECT_EQ(header(Opcode::kContinuation, Fin::kNo, 1, nullptr), "\x00\x01"s);
  EXPECT_EQ(header(Opcode::kPing, Fin::kYes, 3, nullptr), "\x89\x03"s);
}

TEST(WriteFrameHeader, MaskedAddsBitAndKey) {
  using std::string_literals::operator""s;
  const MaskKey key = {0xA, 0xB, 0xC, 0xD};
  EXPECT_EQ(header(Opcode::kText, Fin::kYes, 0, &key), "\x81\x80\x0A\x0B\x0C\x0D"s);
  EXPECT_EQ(header(Opcode::kText, Fin::kNo, 125, &key), "\x01\xFD\x0A\x0B\x0C\x0D"s);
  EXPECT_EQ(header(Opcode::kBinary, Fin::kYes, 126, &key), "\x82\xFE\x00\x7E\x0A\x0B\x0C\x0D"s);
  EXPECT_EQ(header(Opcode::kBinary, Fin::kYes, 65536, &key).size(), kMaxFrameHeaderSize);
}

struct Collect {
  std::vector<std::pair<Opcode, std::string>> messages;
  Flow on_message(Opcode opcode, std::string_view payload) {
    messages.emplace_back(opcode, std::string(payload));
    return Flow::kContinue;
  }
  Flow on_ping(std::string_view payload) {
    messages.emplace_back(Opcode::kPing, std::string(payload));
    return Flow::kContinue;
  }
  Flow on_pong(std::string_view payload) {
    messages.emplace_back(Opcode::kPong, std::string(payload));
    return Flow::kContinue;
  }
  Flow on_close(CloseCode, std::string_view reason) {
    messages.emplace_back(Opcode::kClose, std::string(reason));
    return Flow::kContinue;
  }
};

TEST(MakeFrame, MaskedFramesRoundTripThroughServerParser) {
  for (std::size_t size : {0, 1, 125, 126, 1000, 65535, 65536, 100000}) {
    std::string payload(size, '\0');
    for (std::size_t i = 0; i < size; ++i) payload[i] = static_cast<char>(i * 31 + 7);
    std::string wire = make_masked_frame(Opcode::kBinary, payload, {9, 8, 7, 6}) +
                       make_masked_frame(Opcode::kPing, payload.substr(0, 125), {1, 2, 3, 4});
    FrameParser parser(Role::kServer, {});
    Collect sink;
    ASSERT_EQ(parser.consume(std::span<char>(wire.data(), wire.size()), sink), ParseStatus::kNeedMore) << size;
    ASSERT_EQ(sink.messages.size(), 2u);
    EXPECT_EQ(sink.messages[0].first, Opcode::kBinary);
    EXPECT_EQ(sink.messages[0].second, payload);
    EXPECT_EQ(sink.messages[1].second, payload.substr(0, 125));
  }
}

TEST(MakeFrame, ClientParserReadsServerFrames) {
  std::string wire = make_frame(Opcode::kText, "hel", Fin::kNo) + make_frame(Opcode::kPong, "p") +
                     make_frame(Opcode::kContinuation, "lo") + make_frame(Opcode::kBinary, std::string(70000, 'z')) +
                     make_frame(Opcode::kClose, make_close_payload(1001, "going"));
  FrameParser parser(Role::kClient, {});
  Collect sink;
  EXPECT_EQ(parser.consume(std::span<char>(wire.data(), wire.size()), sink), ParseStatus::kStopped);
  ASSERT_EQ(sink.messages.size(), 4u);
  EXPECT_EQ(sink.messages[0], std::make_pair(Opcode::kPong, std::string("p")));
  EXPECT_EQ(sink.messages[1], std::make_pair(Opcode::kText, std::string("hello")));
  EXPECT_EQ(sink.messages[2], std::make_pair(Opcode::kBinary, std::string(70000, 'z')));
  EXPECT_EQ(sink.messages[3], std::make_pair(Opcode::kClose, std::string("going")));
}

TEST(MakeClosePayload, CodeInNetworkOrderThenReason) {
  EXPECT_EQ(make_close_payload(1000, "bye"), std::string("\x03\xE8"
                                                         "bye"));
  EXPECT_EQ(make_close_payload(4999, ""), std::string("\x13\x87"));
}

TEST(MakeClosePayload, TruncatesAtCodePointBoundary) {
  const std::string ascii(200, 'a');
  EXPECT_EQ(make_close_payload(1000, ascii).size(), kMaxControlPayload);
  // 3-byte characters: 123 bytes would cut the 41st character in its middle.
  std::string euros;
  for (int i = 0; i < 60; ++i) euros += "\xE2\x82\xAC";
  for (std::size_t prefix = 0; prefix < 4; ++prefix) {
    const std::string reason = std::string(prefix, 'x') + euros;
    const std::string payload = make_close_payload(1000, reason);
    EXPECT_LE(payload.size(), kMaxControlPayload);
    EXPECT_GE(payload.size(), kMaxControlPayload - 3);
    EXPECT_TRUE(is_valid_utf8(payload.substr(2))) << prefix;
    EXPECT_EQ(reason.compare(0, payload.size() - 2, payload.substr(2)), 0);
  }
  const std::string fits(123, 'f');
  EXPECT_EQ(make_close_payload(1000, fits).substr(2), fits);
}

// RFC 6455 §7.4 and the IANA registry: 1012 service restart, 1013 try again
// later (a slow consumer's close), 1014 bad gateway are valid on the wire.
TEST(IsValidCloseCodeOnWire, Ranges) {
  for (int code = 0; code < 70000; ++code) {
    const bool expected =
        (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    if (code > 65535) break;
    EXPECT_EQ(is_valid_close_code_on_wire(static_cast<std::uint16_t>(code)), expected) << code;
  }
}

}  // namespace
}  // namespace switchboard::codec
