// UTF-8 validation: every class of invalid sequence, whole and fed in pieces,
// and a differential test of the validators against a simple reference.
#include "codec/utf8.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace switchboard::codec {
namespace {

// A direct transcription of RFC 3629 §4 (the UTF8-octets ABNF).
bool reference_valid(std::string_view s) {
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  while (i < s.size()) {
    const unsigned b = byte(i);
    if (b <= 0x7F) {
      i += 1;
    } else if (b >= 0xC2 && b <= 0xDF && in(i + 1, 0x80, 0xBF)) {
      i += 2;
    } else if (b == 0xE0 && in(i + 1, 0xA0, 0xBF) && in(i + 2, 0x80, 0xBF)) {
      i += 3;
    } else if (((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) && in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF)) {
      i += 3;
    } else if (b == 0xED && in(i + 1, 0x80, 0x9F) && in(i + 2, 0x80, 0xBF)) {
      i += 3;
    } else if (b == 0xF0 && in(i + 1, 0x90, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)) {
      i += 4;
    } else if (b >= 0xF1 && b <= 0xF3 && in(i + 1, 0x80, 0xBF) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)) {
      i += 4;
    } else if (b == 0xF4 && in(i + 1, 0x80, 0x8F) && in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

bool incremental_valid(std::string_view s, const std::vector<std::size_t>& cuts) {
  Utf8Validator validator;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    if (!validator.feed(s.substr(at, cut - at))) return false;
    at = cut;
  }
  return validator.feed(s.substr(at)) && validator.complete();
}

struct Sample {
  const char* name;
  std::string bytes;
};

const std::vector<Sample> kInvalid = {
    {"Overlong2ByteC0", "\xC0\x80"},
    {"Overlong2ByteC1", "\xC1\xBF"},
    {"Overlong3Byte", "\xE0\x80\x80"},
    {"Overlong3ByteMax", "\xE0\x9F\xBF"},
    {"Overlong4Byte", "\xF0\x80\x80\x80"},
    {"Overlong4ByteMax", "\xF0\x8F\xBF\xBF"},
    {"SurrogateLow", "\xED\xA0\x80"},
    {"SurrogateHigh", "\xED\xBF\xBF"},
    {"SurrogatePair", "\xED\xA0\xBD\xED\xB2\xA9"},
    {"AboveMax", "\xF4\x90\x80\x80"},
    {"F5", "\xF5\x80\x80\x80"},
    {"F8", "\xF8\x88\x80\x80\x80"},
    {"FE", "\xFE"},
    {"FF", "\xFF"},
    {"LoneContinuation", "\x80"},
    {"ContinuationAfterAscii", "a\xBF"},
    {"TooManyContinuations", "\xC3\xA9\xA9"},
    {"Truncated2", "\xC3"},
    {"Truncated3", "\xE2\x82"},
    {"Truncated4", "\xF0\x9F\x98"},
    {"LeadThenAscii",
     "\xE2"
     "a\x82"},
};

const std::vector<Sample> kValid = {
    {"Empty", ""},
    {"Ascii", "hello, world"},
    {"TwoByte", "\xC2\x80\xDF\xBF"},
    {"ThreeByte", "\xE0\xA0\x80\xEF\xBF\xBF\xED\x9F\xBF\xEE\x80\x80"},
    {"FourByte", "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\xF3\xBF\xBF\xBF"},
    {"Nul", std::string("a\0b", 3)},
    {"Mixed",
     "Gr\xC3\xBC\xC3\x9F"
     "e \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87"},
};

TEST(Utf8, InvalidClassesRejectedEverywhere) {
  for (const Sample& sample : kInvalid) {
    SCOPED_TRACE(sample.name);
    EXPECT_FALSE(reference_valid(sample.bytes));
    // Alone, after ASCII, and padded past the SIMD threshold on both sides.
    for (const std::string& text :
         {sample.bytes, "abc" + sample.bytes, std::string(100, 'a') + sample.bytes + std::string(100, 'z')}) {
      EXPECT_FALSE(is_valid_utf8(text));
      Utf8Validator whole;
      EXPECT_FALSE(whole.feed(text) && whole.complete());
      for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        EXPECT_FALSE(incremental_valid(text, {cut})) << "cut " << cut;
      }
    }
  }
}

TEST(Utf8, ValidSamplesAcceptedAtEverySplit) {
  for (const Sample& sample : kValid) {
    SCOPED_TRACE(sample.name);
    for (const std::string& text : {sample.bytes, std::string(100, 'a') + sample.bytes + std::string(70, 'z')}) {
      EXPECT_TRUE(reference_valid(text));
      EXPECT_TRUE(is_valid_utf8(text));
      for (std::size_t a = 0; a <= text.size(); ++a) {
        EXPECT_TRUE(incremental_valid(text, {a})) << "cut " << a;
        for (std::size_t b = a; b <= text.size() && b < a + 5; ++b) EXPECT_TRUE(incremental_valid(text, {a, b}));
      }
    }
  }
}

TEST(Utf8, FailsAsSoonAsImpossible) {
  // An impossible byte fails feed() at once, before the message ends.
  for (const std::string& prefix :
       {std::string("ok\xFF"), std::string("\xC0"), std::string("\xED\xA0"), std::string("\xF4\x90"),
        std::string("\xE0\x9F"), std::string("\xF0\x8F"), std::string(200, 'a') + "\xF5" + std::string(10, 'b')}) {
    Utf8Validator validator;
    EXPECT_FALSE(validator.feed(prefix)) << prefix.size();
    EXPECT_FALSE(validator.feed("a"));  // sticky
    EXPECT_FALSE(validator.complete());
  }
  // A truncated but possible prefix is not a failure, only incomplete.
  for (const std::string& prefix :
       {std::string("\xF0\x9F\x98"), std::string(100, 'a') + "\xE2\x82", std::string(100, 'a') + "\xF4\x8F\xBF"}) {
    Utf8Validator validator;
    EXPECT_TRUE(validator.feed(prefix));
    EXPECT_FALSE(validator.complete());
  }
}

TEST(Utf8, TruncatedAtFragmentEndThenCompleted) {
  const std::string emoji = "\xF0\x9F\x98\x80";
  for (std::size_t cut = 1; cut < 4; ++cut) {
    for (std::size_t pad : {0, 1, 63, 64, 100}) {
      Utf8Validator validator;
      EXPECT_TRUE(validator.feed(std::string(pad, 'a') + emoji.substr(0, cut)));
      EXPECT_FALSE(validator.complete());
      EXPECT_TRUE(validator.feed(emoji.substr(cut) + std::string(pad, 'b')));
      EXPECT_TRUE(validator.complete());
      // Completed invalidly instead: a continuation that does not continue.
      Utf8Validator bad;
      EXPECT_TRUE(bad.feed(std::string(pad, 'a') + emoji.substr(0, cut)));
      EXPECT_FALSE(bad.feed("a" + std::string(pad, 'b')));
    }
  }
}

TEST(Utf8, ResetStartsOver) {
  Utf8Validator validator;
  EXPECT_FALSE(validator.feed("\xFF"));
  validator.reset();
  EXPECT_TRUE(validator.complete());
  EXPECT_TRUE(validator.feed("ok"));
  EXPECT_TRUE(validator.complete());
}

// Random strings biased towards the interesting bytes, checked by all three
// validators, whole and split into random chunks.
// Short inputs take a word-at-a-time ASCII check before simdjson: one
// non-ASCII byte or pair must be seen at every position, the overlapping
// last word and the sub-word tail included.
TEST(Utf8, OneNonAsciiByteAtEveryPositionOfShortInput) {
  for (std::size_t length = 1; length <= 80; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      std::string invalid(length, 'a');
      invalid[at] = '\x80';  // a stray continuation byte
      EXPECT_FALSE(is_valid_utf8(invalid)) << length << " " << at;
      Utf8Validator stray;
      EXPECT_FALSE(stray.feed(invalid)) << length << " " << at;
      if (at + 1 < length) {
        std::string valid(length, 'a');
        valid[at] = '\xC3';  // U+00E9
        valid[at + 1] = '\xA9';
        EXPECT_TRUE(is_valid_utf8(valid)) << length << " " << at;
        Utf8Validator pair;
        EXPECT_TRUE(pair.feed(valid) && pair.complete()) << length << " " << at;
      }
    }
  }
}

TEST(Utf8, DifferentialAgainstReference) {
  static const unsigned char kBytes[] = {'a',  0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                         0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  const std::string valid_pieces[] = {
      "a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"};
  std::mt19937 rng(12345);
  int valid_count = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string text;
    const std::size_t length = rng() % (iteration % 10 == 0 ? 300 : 12);
    const bool mostly_valid = rng() % 2 == 0;
    while (text.size() < length) {
      if (mostly_valid && rng() % 50 != 0) {
        text += valid_pieces[rng() % std::size(valid_pieces)];
      } else {
        text.push_back(static_cast<char>(kBytes[rng() % sizeof(kBytes)]));
      }
    }
    const bool expected = reference_valid(text);
    valid_count += expected;
    ASSERT_EQ(is_valid_utf8(text), expected) << iteration;
    Utf8Validator whole;
    ASSERT_EQ(whole.feed(text) && whole.complete(), expected) << iteration;
    std::vector<std::size_t> cuts;
    for (std::size_t at = rng() % 90; at < text.size(); at += 1 + rng() % 90) cuts.push_back(at);
    ASSERT_EQ(incremental_valid(text, cuts), expected) << iteration;
  }
  EXPECT_GT(valid_count, 2000);  // both outcomes are well exercised
  EXPECT_LT(valid_count, 18000);
}

}  // namespace
}  // namespace switchboard::codec
