#include "auth/base64url.h"

#include <string>

#include <gtest/gtest.h>

namespace switchboard::auth {
namespace {

std::string decode(std::string_view text) {
  std::string bytes;
  EXPECT_TRUE(base64url_decode(text, &bytes)) << text;
  return bytes;
}

bool decodes(std::string_view text) {
  std::string bytes;
  return base64url_decode(text, &bytes);
}

// RFC 4648 §10 vectors, without the padding.
TEST(Base64Url, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Url, DecodesRfc4648Vectors) {
  EXPECT_EQ(decode(""), "");
  EXPECT_EQ(decode("Zg"), "f");
  EXPECT_EQ(decode("Zm8"), "fo");
  EXPECT_EQ(decode("Zm9v"), "foo");
  EXPECT_EQ(decode("Zm9vYg"), "foob");
  EXPECT_EQ(decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(decode("Zm9vYmFy"), "foobar");
}

TEST(Base64Url, UsesTheUrlSafeAlphabet) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(decode("-_8"), "\xfb\xff");
}

TEST(Base64Url, RoundTripsEveryByteAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
    const std::string text = base64url_encode(bytes);
    EXPECT_TRUE(is_base64url(text));
    EXPECT_EQ(decode(text), bytes);
  }
}

TEST(Base64Url, RefusesPadding) {
  EXPECT_FALSE(decodes("Zg=="));
  EXPECT_FALSE(decodes("Zm8="));
  EXPECT_FALSE(decodes("="));
}

TEST(Base64Url, RefusesTheStandardAlphabetsExtraCharacters) {
  EXPECT_FALSE(decodes("+_8"));
  EXPECT_FALSE(decodes("-/8"));
}

TEST(Base64Url, RefusesWhitespaceAndOtherBytes) {
  EXPECT_FALSE(decodes("Zm9v "));
  EXPECT_FALSE(decodes(" Zm9v"));
  EXPECT_FALSE(decodes("Zm\n9v"));
  EXPECT_FALSE(decodes("Zm9v\t"));
  EXPECT_FALSE(decodes("Zm9v."));
  EXPECT_FALSE(decodes(std::string_view("Zm\0v", 4)));
  EXPECT_FALSE(decodes("Zm9\xc3\xa9"));
}

// One character carries only 6 bits: no byte can end there.
TEST(Base64Url, RefusesALengthOfOneModFour) {
  EXPECT_FALSE(decodes("Z"));
  EXPECT_FALSE(decodes("Zm9vY"));
}

// "Zg" is the only spelling of "f"; "Zh" .. "Zv" carry non-zero spare bits.
TEST(Base64Url, RefusesNonCanonicalTrailingBits) {
  EXPECT_TRUE(decodes("Zg"));
  EXPECT_FALSE(decodes("Zh"));
  EXPECT_FALSE(decodes("Zv"));
  EXPECT_TRUE(decodes("Zm8"));
  EXPECT_FALSE(decodes("Zm9"));
  EXPECT_FALSE(decodes("Zm-"));
  EXPECT_FALSE(is_base64url("Zh"));
}

}  // namespace
}  // namespace switchboard::auth
