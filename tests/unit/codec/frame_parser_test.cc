// FrameParser: every RFC 6455 rule as a table row (input, expected events,
// status, violation), each row fed whole, split in two at every byte offset,
// and in random chunks: the events must not depend on how the input arrived.
#include "codec/frame_parser.h"

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "codec/frame_writer.h"

namespace switchboard::codec {
namespace {

constexpr MaskKey kKey = {0x37, 0xFA, 0x21, 0x3D};

struct Event {
  std::string kind;  // "message", "ping", "pong", "close"
  int value = 0;     // opcode for messages, close code for close
  std::string payload;
  bool operator==(const Event&) const = default;
};

void PrintTo(const Event& event, std::ostream* os) {
  *os << event.kind << "(" << event.value << ", " << event.payload.size() << " bytes: \"" << event.payload.substr(0, 40)
      << "\")";
}

Event message(Opcode opcode, std::string payload) { return {"message", static_cast<int>(opcode), std::move(payload)}; }
Event ping(std::string payload) { return {"ping", 0, std::move(payload)}; }
Event pong(std::string payload) { return {"pong", 0, std::move(payload)}; }
Event close_event(CloseCode code, std::string reason) { return {"close", static_cast<int>(code), std::move(reason)}; }

struct RecordingSink {
  std::vector<Event> events;
  std::size_t stop_after = SIZE_MAX;  // return kStop from the n-th event on

  Flow record(Event event) {
    events.push_back(std::move(event));
    return events.size() >= stop_after ? Flow::kStop : Flow::kContinue;
  }
  Flow on_message(Opcode opcode, std::string_view payload) { return record(message(opcode, std::string(payload))); }
  Flow on_ping(std::string_view payload) { return record(ping(std::string(payload))); }
  Flow on_pong(std::string_view payload) { return record(pong(std::string(payload))); }
  Flow on_close(CloseCode code, std::string_view reason) { return record(close_event(code, std::string(reason))); }
};

// Client frames (masked) and server frames (unmasked).
std::string masked(Opcode opcode, std::string_view payload, Fin fin = Fin::kYes) {
  return make_masked_frame(opcode, payload, kKey, fin);
}
std::string with_first_byte(std::string frame, unsigned char byte0) {
  frame[0] = static_cast<char>(byte0);
  return frame;
}
std::string close_payload(std::uint16_t code, std::string_view reason = "") { return make_close_payload(code, reason); }

struct Case {
  std::string name;
  std::string input;
  std::vector<Event> events;
  ParseStatus status = ParseStatus::kNeedMore;
  Violation violation = Violation::kNone;
  Role role = Role::kServer;
  std::uint64_t max_message_size = 1u << 20;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

struct Outcome {
  std::vector<Event> events;
  ParseStatus status;
  Violation violation;
};

// Feeds the chunks [cuts[i], cuts[i+1]) each from its own heap copy, so
// ASan sees any read past a chunk, and stops at the first non-kNeedMore.
Outcome run(const Case& c, const std::vector<std::size_t>& cuts) {
  FrameParser parser(c.role, ParserLimits{c.max_message_size});
  RecordingSink sink;
  ParseStatus status = ParseStatus::kNeedMore;
  for (std::size_t i = 0; i + 1 < cuts.size() && status == ParseStatus::kNeedMore; ++i) {
    std::vector<char> chunk(c.input.begin() + static_cast<std::ptrdiff_t>(cuts[i]),
                            c.input.begin() + static_cast<std::ptrdiff_t>(cuts[i + 1]));
    status = parser.consume(chunk, sink);
  }
  return {sink.events, status, parser.violation()};
}

void expect_outcome(const Case& c, const Outcome& outcome) {
  EXPECT_EQ(outcome.events, c.events);
  EXPECT_EQ(outcome.status, c.status);
  EXPECT_EQ(outcome.violation, c.violation);
}

std::vector<Case> cases() {
  const std::string big_126(126, 'b');
  const std::string big_64k(65536, 'x');
  const std::string text_125(125, 't');
  const std::string hello = masked(Opcode::kText, "Hello");
  // U+1F600 (4 bytes), U+20AC (3 bytes), U+00E9 (2 bytes).
  const std::string emoji = "\xF0\x9F\x98\x80";
  std::string length_msb = {'\x82', '\xFF', '\x80', 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
  std::string length_huge = {'\x82', '\xFF', 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4};  // 2^32

  std::vector<Case> c = {
      // Valid traffic.
      {"Text", hello, {message(Opcode::kText, "Hello")}},
      {"Binary",
       masked(Opcode::kBinary, std::string("\0\1\2\xFF", 4)),
       {message(Opcode::kBinary, std::string("\0\1\2\xFF", 4))}},
      {"EmptyText", masked(Opcode::kText, ""), {message(Opcode::kText, "")}},
      {"EmptyBinary", masked(Opcode::kBinary, ""), {message(Opcode::kBinary, "")}},
      {"Length16", masked(Opcode::kBinary, big_126), {message(Opcode::kBinary, big_126)}},
      {"Length64", masked(Opcode::kBinary, big_64k), {message(Opcode::kBinary, big_64k)}},
      {"MultiByteText",
       masked(Opcode::kText, "caf\xC3\xA9 \xE2\x82\xAC " + emoji),
       {message(Opcode::kText, "caf\xC3\xA9 \xE2\x82\xAC " + emoji)}},
      {"TwoMessages",
       hello + masked(Opcode::kBinary, "ab"),
       {message(Opcode::kText, "Hello"), message(Opcode::kBinary, "ab")}},
      {"Fragmented",
       masked(Opcode::kText, "Hel", Fin::kNo) + masked(Opcode::kContinuation, "l", Fin::kNo) +
           masked(Opcode::kContinuation, "o"),
       {message(Opcode::kText, "Hello")}},
      {"FragmentedWithPingBetween",
       masked(Opcode::kBinary, "ab", Fin::kNo) + masked(Opcode::kPing, "p1") +
           masked(Opcode::kContinuation, "cd", Fin::kNo) + masked(Opcode::kPong, "") +
           masked(Opcode::kContinuation, "ef"),
       {ping("p1"), pong(""), message(Opcode::kBinary, "abcdef")}},
      {"ZeroLengthFragments",
       masked(Opcode::kText, "", Fin::kNo) + masked(Opcode::kContinuation, "", Fin::kNo) +
           masked(Opcode::kContinuation, "x", Fin::kNo) + masked(Opcode::kContinuation, ""),
       {message(Opcode::kText, "x")}},
      {"EmptyFragmentedMessage",
       masked(Opcode::kText, "", Fin::kNo) + masked(Opcode::kContinuation, ""),
       {message(Opcode::kText, "")}},
      {"CodePointSplitAcrossFragments",
       masked(Opcode::kText, "a\xF0\x9F", Fin::kNo) + masked(Opcode::kContinuation, "\x98", Fin::kNo) +
           masked(Opcode::kContinuation, "\x80z"),
       {message(Opcode::kText, "a" + emoji + "z")}},
      {"PingPong", masked(Opcode::kPing, "") + masked(Opcode::kPong, text_125), {ping(""), pong(text_125)}},
      {"CloseEmpty",
       masked(Opcode::kClose, "") + hello,
       {close_event(CloseCode::kNoStatus, "")},
       ParseStatus::kStopped},
      {"CloseNormal",
       masked(Opcode::kClose, close_payload(1000, "bye")),
       {close_event(CloseCode::kNormal, "bye")},
       ParseStatus::kStopped},
      {"CloseAppCodes",
       masked(Opcode::kClose, close_payload(4999, "\xC3\xA9")),
       {close_event(static_cast<CloseCode>(4999), "\xC3\xA9")},
       ParseStatus::kStopped},
      {"Close3000",
       masked(Opcode::kClose, close_payload(3000)),
       {close_event(static_cast<CloseCode>(3000), "")},
       ParseStatus::kStopped},
      {"Close1011",
       masked(Opcode::kClose, close_payload(1011)),
       {close_event(CloseCode::kInternalError, "")},
       ParseStatus::kStopped},
      {"Close1013",  // try again later: registered with IANA after RFC 6455
       masked(Opcode::kClose, close_payload(1013, "slow consumer")),
       {close_event(static_cast<CloseCode>(1013), "slow consumer")},
       ParseStatus::kStopped},
      {"ClientRoleUnmasked",
       make_frame(Opcode::kText, "hi") + make_frame(Opcode::kPing, "p"),
       {message(Opcode::kText, "hi"), ping("p")},
       ParseStatus::kNeedMore,
       Violation::kNone,
       Role::kClient},
      {"ExactlyMaxSize",
       masked(Opcode::kBinary, std::string(16, 'm')),
       {message(Opcode::kBinary, std::string(16, 'm'))},
       ParseStatus::kNeedMore,
       Violation::kNone,
       Role::kServer,
       16},
      {"FragmentsExactlyMaxSize",
       masked(Opcode::kBinary, std::string(8, 'm'), Fin::kNo) + masked(Opcode::kContinuation, std::string(8, 'n')),
       {message(Opcode::kBinary, std::string(8, 'm') + std::string(8, 'n'))},
       ParseStatus::kNeedMore,
       Violation::kNone,
       Role::kServer,
       16},
      {"PartialFrameAtEnd", hello + masked(Opcode::kText, "World").substr(0, 9), {message(Opcode::kText, "Hello")}},

      // Violations: each after a valid message, which must be delivered first.
      {"Rsv1",
       hello + with_first_byte(masked(Opcode::kText, "x"), 0xC1),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kReservedBitsSet},
      {"Rsv2",
       hello + with_first_byte(masked(Opcode::kText, "x"), 0xA1),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kReservedBitsSet},
      {"Rsv3",
       with_first_byte(masked(Opcode::kPing, "x"), 0x99),
       {},
       ParseStatus::kFailed,
       Violation::kReservedBitsSet},
      {"ReservedOpcode3",
       hello + with_first_byte(masked(Opcode::kText, "x"), 0x83),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kReservedOpcode},
      {"ReservedOpcode7",
       with_first_byte(masked(Opcode::kText, ""), 0x87),
       {},
       ParseStatus::kFailed,
       Violation::kReservedOpcode},
      {"ReservedOpcodeB",
       with_first_byte(masked(Opcode::kText, "x"), 0x8B),
       {},
       ParseStatus::kFailed,
       Violation::kReservedOpcode},
      {"ReservedOpcodeF",
       with_first_byte(masked(Opcode::kText, "x"), 0x8F),
       {},
       ParseStatus::kFailed,
       Violation::kReservedOpcode},
      {"UnmaskedClientFrame",
       hello + make_frame(Opcode::kText, "x"),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kUnmaskedFrame},
      {"MaskedServerFrame",
       make_frame(Opcode::kText, "ok") + masked(Opcode::kText, "x"),
       {message(Opcode::kText, "ok")},
       ParseStatus::kFailed,
       Violation::kMaskedFrame,
       Role::kClient},
      {"LengthMsbSet",
       hello + length_msb,
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kLengthMsbSet},
      {"ControlTooLong",
       masked(Opcode::kPing, std::string(126, 'p')),
       {},
       ParseStatus::kFailed,
       Violation::kControlFrameTooLong},
      {"CloseTooLong",
       masked(Opcode::kClose, close_payload(1000) + std::string(124, 'r')),
       {},
       ParseStatus::kFailed,
       Violation::kControlFrameTooLong},
      {"FragmentedPing",
       hello + masked(Opcode::kPing, "p", Fin::kNo),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kFragmentedControlFrame},
      {"FragmentedClose",
       masked(Opcode::kClose, "", Fin::kNo),
       {},
       ParseStatus::kFailed,
       Violation::kFragmentedControlFrame},
      {"ContinuationWithoutStart",
       hello + masked(Opcode::kContinuation, "x"),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kContinuationWithoutStart},
      {"ContinuationAfterFinishedMessage",
       masked(Opcode::kText, "a", Fin::kNo) + masked(Opcode::kContinuation, "b") + masked(Opcode::kContinuation, "c"),
       {message(Opcode::kText, "ab")},
       ParseStatus::kFailed,
       Violation::kContinuationWithoutStart},
      {"NewMessageMidMessage",
       masked(Opcode::kText, "a", Fin::kNo) + masked(Opcode::kPing, "") + masked(Opcode::kBinary, "b"),
       {ping("")},
       ParseStatus::kFailed,
       Violation::kExpectedContinuation},
      {"InvalidUtf8",
       hello + masked(Opcode::kText, "ab\xFF"),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kInvalidUtf8},
      {"InvalidUtf8InFirstFragment",
       masked(Opcode::kText, "ok\xFF", Fin::kNo),
       {},
       ParseStatus::kFailed,
       Violation::kInvalidUtf8},
      {"InvalidUtf8BeforeFrameEnds",
       masked(Opcode::kText, "ok\xC0\x80 and much more text").substr(0, 9),
       {},
       ParseStatus::kFailed,
       Violation::kInvalidUtf8},
      {"SurrogateAcrossFragments",
       masked(Opcode::kText, "a\xED", Fin::kNo) + masked(Opcode::kContinuation, "\xA0\x80"),
       {},
       ParseStatus::kFailed,
       Violation::kInvalidUtf8},
      {"TruncatedUtf8AtMessageEnd",
       masked(Opcode::kText, "a\xE2\x82"),
       {},
       ParseStatus::kFailed,
       Violation::kInvalidUtf8},
      {"TruncatedUtf8AtFragmentedMessageEnd",
       masked(Opcode::kText, "a\xE2", Fin::kNo) + masked(Opcode::kContinuation, "\x82"),
       {},
       ParseStatus::kFailed,
       Violation::kInvalidUtf8},
      {"BadUtf8AfterPingInFragments",
       masked(Opcode::kText, "a", Fin::kNo) + masked(Opcode::kPing, "p") + masked(Opcode::kContinuation, "\xF5"),
       {ping("p")},
       ParseStatus::kFailed,
       Violation::kInvalidUtf8},
      {"TooBigOnHeader",
       masked(Opcode::kBinary, std::string(17, 'm')).substr(0, 6),
       {},
       ParseStatus::kFailed,
       Violation::kMessageTooBig,
       Role::kServer,
       16},
      {"TooBigAcrossFragments",
       masked(Opcode::kBinary, std::string(10, 'm'), Fin::kNo) + masked(Opcode::kContinuation, std::string(7, 'n')),
       {},
       ParseStatus::kFailed,
       Violation::kMessageTooBig,
       Role::kServer,
       16},
      {"TooBig64BitLength",
       hello + length_huge,
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kMessageTooBig},
      {"ClosePayloadOneByte",
       hello + masked(Opcode::kClose, "\x03"),
       {message(Opcode::kText, "Hello")},
       ParseStatus::kFailed,
       Violation::kClosePayloadTooShort},
      {"CloseInvalidUtf8Reason",
       masked(Opcode::kClose, close_payload(1000) + "\xCE\xBA\xE1\xBD"),
       {},
       ParseStatus::kFailed,
       Violation::kInvalidCloseReason},
  };
  for (std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    c.push_back({"CloseCode" + std::to_string(code),
                 hello + masked(Opcode::kClose, close_payload(code)),
                 {message(Opcode::kText, "Hello")},
                 ParseStatus::kFailed,
                 Violation::kInvalidCloseCode});
  }
  return c;
}

class FrameParserCase : public ::testing::TestWithParam<Case> {};

TEST_P(FrameParserCase, Whole) {
  const Case& c = GetParam();
  expect_outcome(c, run(c, {0, c.input.size()}));
}

TEST_P(FrameParserCase, SplitInTwoAtEveryOffset) {
  const Case& c = GetParam();
  // Every offset for normal inputs; for the 64 KiB frame every offset in its
  // header and payload edges and a stride through the middle (quadratic cost).
  const std::size_t size = c.input.size();
  for (std::size_t cut = 0; cut <= size; ++cut) {
    if (size > 4096 && cut > 64 && cut + 64 < size && cut % 61 != 0) continue;
    SCOPED_TRACE("cut at " + std::to_string(cut));
    expect_outcome(c, run(c, {0, cut, size}));
    if (HasFailure()) return;
  }
}

TEST_P(FrameParserCase, RandomChunks) {
  const Case& c = GetParam();
  for (unsigned seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    std::vector<std::size_t> cuts = {0};
    while (cuts.back() < c.input.size()) {
      const std::size_t max_chunk = (rng() % 2 != 0) ? 7 : 300;
      const std::size_t chunk = rng() % (max_chunk + 1);  // empty chunks too
      cuts.push_back(std::min(c.input.size(), cuts.back() + chunk));
    }
    SCOPED_TRACE("seed " + std::to_string(seed));
    expect_outcome(c, run(c, cuts));
  }
}

TEST_P(FrameParserCase, ByteByByte) {
  const Case& c = GetParam();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i <= c.input.size(); ++i) cuts.push_back(i);
  expect_outcome(c, run(c, cuts));
}

INSTANTIATE_TEST_SUITE_P(Rfc6455, FrameParserCase, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(FrameParser, ViolationCloseCodes) {
  EXPECT_EQ(close_code_for(Violation::kInvalidUtf8), CloseCode::kInvalidPayload);
  EXPECT_EQ(close_code_for(Violation::kMessageTooBig), CloseCode::kMessageTooBig);
  for (auto v :
       {Violation::kReservedBitsSet, Violation::kReservedOpcode, Violation::kUnmaskedFrame, Violation::kMaskedFrame,
        Violation::kLengthMsbSet, Violation::kControlFrameTooLong, Violation::kFragmentedControlFrame,
        Violation::kContinuationWithoutStart, Violation::kExpectedContinuation, Violation::kClosePayloadTooShort,
        Violation::kInvalidCloseCode, Violation::kInvalidCloseReason}) {
    EXPECT_EQ(close_code_for(v), CloseCode::kProtocolError) << describe(v);
  }
  for (int v = 1; v <= static_cast<int>(Violation::kInvalidCloseReason); ++v) {
    const std::string reason = describe(static_cast<Violation>(v));
    EXPECT_FALSE(reason.empty());
    EXPECT_LE(reason.size(), kMaxControlPayload - 2);
    EXPECT_TRUE(std::all_of(reason.begin(), reason.end(), [](char ch) { return ch >= 0x20 && ch < 0x7F; }));
  }
}

TEST(FrameParser, WholeFrameIsAViewIntoTheInput) {
  std::string input = masked(Opcode::kBinary, "zero-copy") + masked(Opcode::kPing, "p");
  FrameParser parser(Role::kServer, {});
  struct ViewSink {
    std::vector<const char*> data;
    Flow on_message(Opcode, std::string_view payload) { return data.push_back(payload.data()), Flow::kContinue; }
    Flow on_ping(std::string_view payload) { return data.push_back(payload.data()), Flow::kContinue; }
    Flow on_pong(std::string_view) { return Flow::kContinue; }
    Flow on_close(CloseCode, std::string_view) { return Flow::kContinue; }
  } sink;
  ASSERT_EQ(parser.consume(std::span<char>(input.data(), input.size()), sink), ParseStatus::kNeedMore);
  ASSERT_EQ(sink.data.size(), 2u);
  EXPECT_EQ(sink.data[0], input.data() + 6);
  EXPECT_EQ(sink.data[1], input.data() + 6 + 9 + 6);
  EXPECT_EQ(std::string_view(input.data() + 6, 9), "zero-copy");  // unmasked in place
}

TEST(FrameParser, SinkStopEndsConsumeAtOnce) {
  std::string input = masked(Opcode::kText, "a") + masked(Opcode::kText, "b");
  FrameParser parser(Role::kServer, {});
  RecordingSink sink;
  sink.stop_after = 1;
  EXPECT_EQ(parser.consume(std::span<char>(input.data(), input.size()), sink), ParseStatus::kStopped);
  EXPECT_EQ(sink.events, std::vector<Event>{message(Opcode::kText, "a")});
}

TEST(FrameParser, StaysDeadAfterFailureAndClose) {
  std::string bad = make_frame(Opcode::kText, "x");
  std::string good = masked(Opcode::kText, "y");
  RecordingSink sink;
  FrameParser failed(Role::kServer, {});
  EXPECT_EQ(failed.consume(std::span<char>(bad.data(), bad.size()), sink), ParseStatus::kFailed);
  EXPECT_EQ(failed.consume(std::span<char>(good.data(), good.size()), sink), ParseStatus::kFailed);
  EXPECT_EQ(failed.violation(), Violation::kUnmaskedFrame);

  std::string close = masked(Opcode::kClose, "");
  FrameParser closed(Role::kServer, {});
  EXPECT_EQ(closed.consume(std::span<char>(close.data(), close.size()), sink), ParseStatus::kStopped);
  good = masked(Opcode::kText, "y");
  EXPECT_EQ(closed.consume(std::span<char>(good.data(), good.size()), sink), ParseStatus::kStopped);
  EXPECT_EQ(sink.events, std::vector<Event>{close_event(CloseCode::kNoStatus, "")});
}

TEST(FrameParser, MidMessageAndShrink) {
  FrameParser parser(Role::kServer, {});
  RecordingSink sink;
  EXPECT_FALSE(parser.mid_message());
  std::string frame = masked(Opcode::kText, std::string(1000, 'a'), Fin::kNo);
  std::string header = frame.substr(0, 3);
  EXPECT_EQ(parser.consume(std::span<char>(header.data(), header.size()), sink), ParseStatus::kNeedMore);
  EXPECT_TRUE(parser.mid_message());  // inside a header
  std::string rest = frame.substr(3);
  EXPECT_EQ(parser.consume(std::span<char>(rest.data(), rest.size()), sink), ParseStatus::kNeedMore);
  EXPECT_TRUE(parser.mid_message());  // fragmented message open
  parser.shrink();                    // keeps the buffered fragment
  std::string last = masked(Opcode::kContinuation, "b");
  EXPECT_EQ(parser.consume(std::span<char>(last.data(), last.size()), sink), ParseStatus::kNeedMore);
  EXPECT_FALSE(parser.mid_message());
  parser.shrink();
  EXPECT_EQ(sink.events, std::vector<Event>{message(Opcode::kText, std::string(1000, 'a') + "b")});
}

TEST(FrameParser, AMessageSplitAcrossReadsLeavesCapacityThatShrinkFrees) {
  FrameParser parser(Role::kServer, {});
  RecordingSink sink;
  std::string frame = masked(Opcode::kBinary, std::string(100'000, 'a'));
  const std::size_t half = frame.size() / 2;
  EXPECT_EQ(parser.consume(std::span<char>(frame.data(), half), sink), ParseStatus::kNeedMore);
  EXPECT_EQ(parser.consume(std::span<char>(frame.data() + half, frame.size() - half), sink), ParseStatus::kNeedMore);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_FALSE(parser.mid_message());
  EXPECT_GE(parser.buffer_capacity(), 100'000u);  // kept for the next message
  parser.shrink();
  EXPECT_LT(parser.buffer_capacity(), 100u);
}

// The optional Sink hook: on_fragmented_message() once per fragmented
// message, when its first frame's header is read.
struct FragmentSink : RecordingSink {
  int fragmented = 0;
  void on_fragmented_message() { ++fragmented; }
};

TEST(FrameParser, ReportsEachFragmentedMessageOnceAndWhileItIsOpen) {
  // A fragmented message with a ping between its fragments, a whole frame,
  // then a second fragmented message.
  const std::vector<std::string> frames = {masked(Opcode::kText, "ab", Fin::kNo),
                                           masked(Opcode::kPing, "p"),
                                           masked(Opcode::kContinuation, "cd", Fin::kNo),
                                           masked(Opcode::kContinuation, "e"),
                                           masked(Opcode::kBinary, "whole"),
                                           masked(Opcode::kText, "f", Fin::kNo),
                                           masked(Opcode::kContinuation, "g")};
  std::string input;
  for (const std::string& frame : frames) input += frame;
  const std::vector<Event> expected = {ping("p"), message(Opcode::kText, "abcde"), message(Opcode::kBinary, "whole"),
                                       message(Opcode::kText, "fg")};
  // A message is open from its first frame's header (6 bytes here) to its
  // last byte; the whole binary frame, even fed byte by byte, is not fragmented.
  const std::size_t first_end = frames[0].size() + frames[1].size() + frames[2].size() + frames[3].size();
  const std::size_t second_start = first_end + frames[4].size();
  auto open_after = [&](std::size_t fed) {
    return (fed >= 6 && fed < first_end) || (fed >= second_start + 6 && fed < input.size());
  };
  {
    FrameParser parser(Role::kServer, {});
    FragmentSink sink;
    std::string bytes = input;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      ASSERT_EQ(parser.consume(std::span<char>(bytes.data() + i, 1), sink), ParseStatus::kNeedMore);
      EXPECT_EQ(parser.fragmented_message_open(), open_after(i + 1)) << "after byte " << i + 1;
      EXPECT_EQ(sink.fragmented, i + 1 < 6 ? 0 : i + 1 < second_start + 6 ? 1 : 2) << "after byte " << i + 1;
    }
    EXPECT_EQ(sink.events, expected);
  }
  for (std::size_t split = 0; split <= input.size(); ++split) {
    FrameParser parser(Role::kServer, {});
    FragmentSink sink;
    std::string bytes = input;
    ASSERT_EQ(parser.consume(std::span<char>(bytes.data(), split), sink), ParseStatus::kNeedMore);
    EXPECT_EQ(parser.fragmented_message_open(), open_after(split)) << "split at " << split;
    ASSERT_EQ(parser.consume(std::span<char>(bytes.data() + split, bytes.size() - split), sink),
              ParseStatus::kNeedMore);
    EXPECT_FALSE(parser.fragmented_message_open());
    EXPECT_EQ(sink.fragmented, 2) << "split at " << split;
    EXPECT_EQ(sink.events, expected) << "split at " << split;
  }
}

TEST(FrameParser, IdleStateIsSmall) { EXPECT_LE(sizeof(FrameParser) - sizeof(std::string), 80u); }

}  // namespace
}  // namespace switchboard::codec
